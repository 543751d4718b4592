//! The search phase's state at an epoch boundary as bytes, for the journal's blob
//! [`PHASE_KEY`]: a kill during the phase then costs at most the epoch in progress.
//!
//! Layout ([`nas_nn::blob`]: magic, version, checksum): three sections, the header (JSON:
//! config, seed, epochs done, search cost, data order, the data generator, the
//! controller's checkpoint and its distributions by epoch), the shared weights (burn's burnpack record, batch-norm
//! running statistics included) and the SGD velocities
//! ([`nas_nn::sgd::SharedSgd::write`]).

use super::config::NAME;
use super::phase::{ControllerEpoch, PhaseState, SearchCost, SupernetSearch};
use nas_core::search::SearchError;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{Checkpoint, Rng, Strategy};
use serde::{Deserialize, Serialize};

/// The journal blob that holds the search phase's last epoch boundary.
pub const PHASE_KEY: &str = "enas/search-phase";

/// Identifies the format; the last byte is its version.
const MAGIC: &[u8; 16] = b"nas-enas-phase/1";

/// Everything but the tensors.
#[derive(Serialize, Deserialize)]
struct Header {
    /// The `enas` config that wrote it: a state is only continued by the same search.
    config: Checkpoint,
    seed: u64,
    /// Epochs done.
    epoch: u32,
    cost: SearchCost,
    /// The bits of the last epoch's mean loss (`f64`), exact and `NaN`-safe.
    last_shared_loss: u64,
    subset: Vec<usize>,
    rng: Rng,
    controller: Checkpoint,
    /// The controller's distributions after each epoch so far (absent in states written
    /// before they were kept: the trajectory then starts at the resumed epoch).
    #[serde(default)]
    trajectory: Vec<ControllerEpoch>,
}

fn corrupt(why: impl std::fmt::Display) -> SearchError {
    SearchError::Resume(format!(
        "{NAME}: the search-phase state in the journal (blob `{PHASE_KEY}`) {why}"
    ))
}

impl SupernetSearch {
    /// `state` as the bytes [`decode`](Self::decode) reads back.
    pub(crate) fn encode(&self, seed: u64, state: &PhaseState) -> Result<Vec<u8>, SearchError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            SearchError::Fatal(format!(
                "{NAME}: cannot save the search phase after epoch {}: {what}: {e}",
                state.epoch
            ))
        };
        let header = Header {
            config: to_checkpoint(&self.config).map_err(|e| fail("the config", &e))?,
            seed,
            epoch: state.epoch,
            cost: state.cost.clone(),
            last_shared_loss: state.last_shared_loss.to_bits(),
            subset: state.subset.clone(),
            rng: state.rng.clone(),
            controller: state
                .controller
                .checkpoint()
                .map_err(|e| fail("the controller", &e))?,
            trajectory: state.trajectory.clone(),
        };
        let header = to_checkpoint(&header)
            .map_err(|e| fail("the header", &e))?
            .to_string();
        let weights = state
            .shared
            .save_weights()
            .map_err(|e| fail("the shared weights", &e))?;
        let velocity = state
            .shared
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
            nas_nn::blob::open::<3>(MAGIC, "an ENAS search-phase state", bytes).map_err(corrupt)?;
        let header = self.header(seed, header)?;
        let mut controller = self.controller(seed)?;
        controller
            .restore(header.controller)
            .map_err(|e| corrupt(format!("holds a controller that does not fit: {e}")))?;
        let mut shared = self.fresh_weights(seed);
        shared
            .load(weights, velocity)
            .map_err(|e| corrupt(format!("holds {e}")))?;
        Ok(PhaseState {
            epoch: header.epoch,
            controller,
            shared,
            rng: header.rng,
            subset: header.subset,
            cost: header.cost,
            last_shared_loss: f64::from_bits(header.last_shared_loss),
            trajectory: header.trajectory,
        })
    }

    /// The header, checked against this search: config, seed, epochs, data order.
    fn header(&self, seed: u64, bytes: &[u8]) -> Result<Header, SearchError> {
        let text =
            std::str::from_utf8(bytes).map_err(|_| corrupt("has a header that is not UTF-8"))?;
        let value: Checkpoint = text
            .parse()
            .map_err(|e| corrupt(format!("has a header that is not JSON: {e}")))?;
        let header: Header = from_checkpoint(value)
            .map_err(|e| corrupt(format!("has a header of another shape: {e}")))?;
        let config = to_checkpoint(&self.config).map_err(|e| corrupt(e.to_string()))?;
        if header.config != config || header.seed != seed {
            return Err(corrupt(
                "was written by another search (its config or seed differs); delete the \
                 journal to start over",
            ));
        }
        if header.epoch == 0 || header.epoch > self.config.epochs {
            return Err(corrupt(format!(
                "is at epoch {} of a search of {} epochs",
                header.epoch, self.config.epochs
            )));
        }
        let train = self.data.splits.train.len();
        if header.subset.len() != self.subset_len() || header.subset.iter().any(|&i| i >= train) {
            return Err(corrupt(
                "holds a data order that does not fit the training split (another data set?)",
            ));
        }
        Ok(header)
    }
}
