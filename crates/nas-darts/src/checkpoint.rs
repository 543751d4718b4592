//! The search phase's state at an epoch boundary as bytes, for the journal's blob
//! [`PHASE_KEY`]: a kill during the phase then costs at most the epoch in progress.
//!
//! Layout ([`nas_nn::blob`]: magic, version, checksum): three sections, the header (JSON:
//! config, seed, epochs done, alpha and its Adam state, the data generator and order, the
//! trajectory so far, the cost), the supernet's weights (burn's record, batch-norm running
//! statistics included) and their SGD velocities. JSON holds the `f32` and `f64` numbers
//! exactly (shortest round-trip form); every loss in it was checked finite.

use super::adam::Adam;
use super::phase::{DartsCost, EpochRecord, PhaseState, RelaxedSearch};
use nas_core::search::SearchError;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{Checkpoint, Rng};
use serde::{Deserialize, Serialize};

/// The journal blob that holds the search phase's last epoch boundary.
pub const PHASE_KEY: &str = "darts/search-phase";

/// Identifies the format; the last byte is its version.
const MAGIC: &[u8; 16] = b"nas-darts-phas/1";

/// Everything but the tensors.
#[derive(Serialize, Deserialize)]
struct Header {
    /// The `darts` config that wrote it: a state is only continued by the same search.
    config: Checkpoint,
    seed: u64,
    /// Epochs done.
    epoch: u32,
    alpha: Vec<f32>,
    adam: Adam,
    rng: Rng,
    noise: Rng,
    subset: Vec<usize>,
    trajectory: Vec<EpochRecord>,
    cost: DartsCost,
}

impl RelaxedSearch {
    fn corrupt(&self, why: impl std::fmt::Display) -> SearchError {
        SearchError::Resume(format!(
            "{}: the search-phase state in the journal (blob `{PHASE_KEY}`) {why}",
            self.name
        ))
    }

    /// `state` as the bytes [`decode`](Self::decode) reads back.
    pub(crate) fn encode(&self, seed: u64, state: &PhaseState) -> Result<Vec<u8>, SearchError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            SearchError::Fatal(format!(
                "{}: cannot save the search phase after epoch {}: {what}: {e}",
                self.name, state.epoch
            ))
        };
        let header = Header {
            config: to_checkpoint(&self.config).map_err(|e| fail("the config", &e))?,
            seed,
            epoch: state.epoch,
            alpha: state.alpha.clone(),
            adam: state.adam.clone(),
            rng: state.rng.clone(),
            noise: state.noise.clone(),
            subset: state.subset.clone(),
            trajectory: state.trajectory.clone(),
            cost: state.cost.clone(),
        };
        let header = to_checkpoint(&header)
            .map_err(|e| fail("the header", &e))?
            .to_string();
        let weights = state
            .weights
            .save_weights()
            .map_err(|e| fail("the weights", &e))?;
        let velocity = state
            .weights
            .save_optimizer()
            .map_err(|e| fail("the optimizer", &e))?;
        Ok(nas_nn::blob::seal(
            MAGIC,
            &[header.as_bytes(), &weights, &velocity],
        ))
    }

    /// The state [`encode`](Self::encode) wrote, checked to belong to this search.
    ///
    /// # Errors
    /// [`SearchError::Resume`]: a blob that is not this format, damaged (checksum), written
    /// by another config or seed, or whose parts do not fit this search (named).
    pub(crate) fn decode(&self, seed: u64, bytes: &[u8]) -> Result<PhaseState, SearchError> {
        let [header, weights, velocity] =
            nas_nn::blob::open::<3>(MAGIC, "a DARTS search-phase state", bytes)
                .map_err(|e| self.corrupt(e))?;
        let header = self.header(seed, header)?;
        let mut state_weights = self.fresh_weights(seed);
        state_weights
            .load(weights, velocity)
            .map_err(|e| self.corrupt(format!("holds {e}")))?;
        Ok(PhaseState {
            epoch: header.epoch,
            weights: state_weights,
            alpha: header.alpha,
            adam: header.adam,
            rng: header.rng,
            noise: header.noise,
            subset: header.subset,
            trajectory: header.trajectory,
            cost: header.cost,
        })
    }

    /// The header, checked against this search: config, seed, epochs, shapes, data order.
    fn header(&self, seed: u64, bytes: &[u8]) -> Result<Header, SearchError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.corrupt("has a header that is not UTF-8"))?;
        let value: Checkpoint = text
            .parse()
            .map_err(|e| self.corrupt(format!("has a header that is not JSON: {e}")))?;
        let header: Header = from_checkpoint(value)
            .map_err(|e| self.corrupt(format!("has a header of another shape: {e}")))?;
        let config = to_checkpoint(&self.config).map_err(|e| self.corrupt(e.to_string()))?;
        if header.config != config || header.seed != seed {
            return Err(self.corrupt(
                "was written by another search (its config or seed differs); delete the \
                 journal to start over",
            ));
        }
        if header.epoch == 0
            || header.epoch > self.config.epochs
            || header.trajectory.len() != header.epoch as usize
        {
            return Err(self.corrupt(format!(
                "is at epoch {} (with {} epoch records) of a search of {} epochs",
                header.epoch,
                header.trajectory.len(),
                self.config.epochs
            )));
        }
        let [rows, cols] = self.shape();
        let n = rows * cols;
        if header.alpha.len() != n || header.adam.m.len() != n || header.adam.v.len() != n {
            return Err(self.corrupt(format!(
                "holds {} architecture weights, this space has {n} ({rows} x {cols})",
                header.alpha.len()
            )));
        }
        let train = self.data.splits.train.len();
        if header.subset.len() != self.subset_len() || header.subset.iter().any(|&i| i >= train) {
            return Err(self.corrupt(
                "holds a data order that does not fit the training split (another data set?)",
            ));
        }
        Ok(header)
    }
}
