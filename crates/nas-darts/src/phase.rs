//! DARTS's search phase: the supernet's weights and the architecture weights trained in
//! turn, one step each per minibatch (first order), then the derived architecture.

use super::adam::Adam;
use super::checkpoint::PHASE_KEY;
use super::config::{DartsConfig, NAME};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use nas_core::journal::{Journal, NullJournal};
use nas_core::registry::ConfigError;
use nas_core::rng::derive_seed;
use nas_core::search::SearchError;
use nas_core::{Genotype, Rng, SearchSpace};
use nas_nn::{OneShotData, RelaxedWeights, SpaceRelaxed, batch, cosine};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Seed labels: the supernet's initial weights, the data order, the architecture weights.
const INIT_SEED: u64 = 1;
const DATA_SEED: u64 = 2;
const ALPHA_SEED: u64 = 3;

/// One epoch of the search phase, as the trade-off report plots it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: u32,
    /// The architecture weights after the epoch as probabilities: the softmax of each
    /// row (choice) of alpha, row-major.
    pub probabilities: Vec<f32>,
    /// Mean cross-entropy of the weights' steps (training split).
    pub train_loss: f64,
    /// Accuracy (%) of the mixed supernet on the validation batches of the epoch's
    /// architecture steps, each taken before its step.
    pub valid_acc: f64,
    /// The architecture the weights chose at the end of the epoch.
    pub derived: Genotype,
}

/// What the search phase cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DartsCost {
    pub wall_seconds: f64,
    /// SGD steps on the supernet's weights.
    pub weight_steps: u64,
    /// Adam steps on the architecture weights.
    pub arch_steps: u64,
}

/// The outcome of the search phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DartsOutcome {
    /// The derived architecture: what the final evaluator trains.
    pub genotype: Genotype,
    /// `[choices, candidates]` of the architecture weights.
    pub shape: [usize; 2],
    /// The candidates' names (columns), e.g. NB201's ops.
    pub candidates: Vec<String>,
    /// The final architecture weights (alpha), row-major.
    pub alpha: Vec<f32>,
    /// Per epoch: probabilities, losses, the derived architecture.
    pub trajectory: Vec<EpochRecord>,
    pub cost: DartsCost,
}

/// The search phase at an epoch boundary: everything the next epoch reads, and what the
/// journal's blob [`PHASE_KEY`] holds.
#[derive(Debug)]
pub(crate) struct PhaseState {
    /// Epochs done.
    pub(crate) epoch: u32,
    /// The supernet's weights on the autodiff device, and their SGD state.
    pub(crate) weights: Box<dyn RelaxedWeights>,
    pub(crate) alpha: Vec<f32>,
    pub(crate) adam: Adam,
    /// The data order (training batches and each epoch's validation order).
    pub(crate) rng: Rng,
    /// The training images the weights see, in the order of the last epoch.
    pub(crate) subset: Vec<usize>,
    pub(crate) trajectory: Vec<EpochRecord>,
    pub(crate) cost: DartsCost,
}

/// The search phase, built and checked: the data loaded, the backend found.
#[derive(Debug)]
pub struct RelaxedSearch {
    pub config: DartsConfig,
    pub space: Arc<dyn SearchSpace>,
    /// The relaxed supernet the space registers.
    pub relaxed: &'static dyn SpaceRelaxed,
    /// The device, the data, the supernet's shape.
    pub data: OneShotData,
}

impl RelaxedSearch {
    /// # Errors
    /// A config out of range, a space without a relaxed supernet, a missing backend or
    /// data set, data the supernet cannot take.
    pub fn new(config: &DartsConfig, space: Arc<dyn SearchSpace>) -> Result<Self, ConfigError> {
        config.check()?;
        let relaxed =
            nas_nn::relaxed_of(space.name()).map_err(|e| ConfigError(format!("{NAME}: {e}")))?;
        let data = OneShotData::load(
            NAME,
            &config.backend,
            &config.data,
            [config.channels, config.cells_per_stage],
            &|task| relaxed.check_task(task),
        )?;
        Ok(RelaxedSearch {
            config: config.clone(),
            space,
            relaxed,
            data,
        })
    }

    /// Runs the search phase from `seed`; `log` gets one line per epoch.
    ///
    /// # Errors
    /// [`SearchError::Fatal`] when a loss stops being finite or the architecture weights
    /// derive no architecture of the space.
    pub fn run(&self, seed: u64, log: &mut dyn FnMut(&str)) -> Result<DartsOutcome, SearchError> {
        self.run_journaled(seed, &mut NullJournal, log)
    }

    /// Runs the search phase from `seed`, saving its whole state in `journal` (the blob
    /// [`PHASE_KEY`]) after each epoch and, when the journal already holds one, continuing
    /// from it: the outcome equals an uninterrupted run's to the bit, except the wall time.
    ///
    /// # Errors
    /// As [`run`](Self::run); [`SearchError::Resume`] for a saved state that is damaged or
    /// was written by another config or seed; the journal's own errors.
    pub fn run_journaled(
        &self,
        seed: u64,
        journal: &mut dyn Journal,
        log: &mut dyn FnMut(&str),
    ) -> Result<DartsOutcome, SearchError> {
        let started = Instant::now();
        let mut state = match journal.load_blob(PHASE_KEY)? {
            Some(bytes) => {
                let state = self.decode(seed, &bytes)?;
                log(&format!(
                    "{NAME}: resumed the search phase at epoch {} of {} (its state after that \
                     epoch, from the journal)",
                    state.epoch, self.config.epochs
                ));
                state
            }
            None => self.start(seed),
        };
        let wall_before = state.cost.wall_seconds;
        while state.epoch < self.config.epochs {
            self.epoch(&mut state, log)?;
            state.cost.wall_seconds = wall_before + started.elapsed().as_secs_f64();
            journal.save_blob(PHASE_KEY, &self.encode(seed, &state)?)?;
        }
        Ok(DartsOutcome {
            genotype: self.derive(&state.alpha)?,
            shape: self.shape(),
            candidates: self.relaxed.candidate_names(self.space.as_ref()),
            alpha: state.alpha,
            trajectory: state.trajectory,
            cost: state.cost,
        })
    }

    /// `[choices, candidates]` of the architecture weights.
    pub(crate) fn shape(&self) -> [usize; 2] {
        self.relaxed.alpha_shape(self.space.as_ref())
    }

    /// The supernet's weights as `seed` initializes them, on the autodiff device, with an
    /// SGD that has no velocity yet.
    pub(crate) fn fresh_weights(&self, seed: u64) -> Box<dyn RelaxedWeights> {
        self.relaxed.relaxed_weights(
            &self.data.spec,
            &self.data.device.clone().autodiff(),
            derive_seed(seed, INIT_SEED),
            self.config.momentum,
            self.config.weight_decay,
        )
    }

    /// The training images the weights see: how many of them.
    pub(crate) fn subset_len(&self) -> usize {
        let n = self.data.splits.train.len();
        ((n as f64 * self.config.data_fraction).round() as usize).max(1)
    }

    /// The state before the first epoch.
    fn start(&self, seed: u64) -> PhaseState {
        let c = &self.config;
        let [rows, cols] = self.shape();
        // DARTS starts alpha at 1e-3 times standard normal draws: near-uniform mixing.
        let mut alpha_rng = Rng::new(derive_seed(seed, ALPHA_SEED));
        let alpha: Vec<f32> = (0..rows * cols)
            .map(|_| (1e-3 * alpha_rng.normal()) as f32)
            .collect();
        let mut rng = Rng::new(derive_seed(seed, DATA_SEED));
        let mut subset: Vec<usize> = (0..self.data.splits.train.len()).collect();
        rng.shuffle(&mut subset);
        subset.truncate(self.subset_len());
        PhaseState {
            epoch: 0,
            weights: self.fresh_weights(seed),
            adam: Adam::new(alpha.len(), c.arch_learning_rate, c.arch_weight_decay),
            alpha,
            rng,
            subset,
            trajectory: Vec::with_capacity(c.epochs as usize),
            cost: DartsCost::default(),
        }
    }

    /// Epoch `state.epoch + 1`: per training minibatch, (a) an Adam step on alpha from a
    /// validation batch, then (b) an SGD step on the weights with alpha fixed. `log` gets
    /// one line.
    fn epoch(&self, state: &mut PhaseState, log: &mut dyn FnMut(&str)) -> Result<(), SearchError> {
        let c = &self.config;
        let device = self.data.device.clone().autodiff();
        let shape = self.shape();
        let (train, valid) = (&self.data.splits.train, &self.data.splits.valid);
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let total_steps = state.subset.len().div_ceil(c.batch_size) * c.epochs as usize;
        let epoch = state.epoch + 1;
        let diverged = |what: &str, value: f32| {
            SearchError::Fatal(format!(
                "{NAME}: the {what} loss diverged ({value}) at epoch {epoch}"
            ))
        };
        state.rng.shuffle(&mut state.subset);
        let mut valid_order: Vec<usize> = (0..valid.len()).collect();
        state.rng.shuffle(&mut valid_order);
        let mut valid_batches = valid_order.chunks(c.batch_size).cycle();
        let (mut train_loss, mut correct, mut seen) = (0f64, 0i64, 0usize);
        for chunk in state.subset.chunks(c.batch_size) {
            // (a) The architecture weights, on a validation batch (first order).
            let valid_chunk = valid_batches.next().unwrap_or(&[]);
            let a = alpha_tensor(&state.alpha, shape, &device).require_grad();
            let (x, y) = batch(valid, valid_chunk, &device);
            let logits = state.weights.forward(x, &softmax(a.clone(), 1));
            let predicted = logits.clone().argmax(1).reshape([valid_chunk.len()]);
            correct += predicted.equal(y.clone()).int().sum().into_scalar::<i64>();
            seen += valid_chunk.len();
            let loss = loss_fn.forward(logits, y);
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(diverged("validation", value));
            }
            let grads = loss.backward();
            let grad = a
                .grad(&grads)
                .and_then(|g| g.into_data().try_to_vec::<f32>().ok())
                .ok_or_else(|| {
                    SearchError::Fatal(format!("{NAME}: the architecture weights got no gradient"))
                })?;
            state.adam.step(&mut state.alpha, &grad);
            state.cost.arch_steps += 1;
            // (b) The supernet's weights, on a training batch, alpha held fixed.
            let mix = softmax(alpha_tensor(&state.alpha, shape, &device), 1);
            let (x, y) = batch(train, chunk, &device);
            let loss = loss_fn.forward(state.weights.forward(x, &mix), y);
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(diverged("training", value));
            }
            train_loss += value as f64 * chunk.len() as f64;
            let lr = cosine(
                c.learning_rate,
                state.cost.weight_steps as usize,
                total_steps,
            );
            state.weights.step(loss, lr);
            state.cost.weight_steps += 1;
        }
        let record = EpochRecord {
            epoch,
            probabilities: row_softmax(&state.alpha, shape[1]),
            train_loss: train_loss / state.subset.len() as f64,
            valid_acc: 100.0 * correct as f64 / seen.max(1) as f64,
            derived: self.derive(&state.alpha)?,
        };
        log(&format!(
            "{NAME}: epoch {epoch}/{}: training loss {:.3}, supernet validation accuracy \
             {:.1}%, derived {}",
            c.epochs,
            record.train_loss,
            record.valid_acc,
            self.space.render(&record.derived)
        ));
        state.trajectory.push(record);
        state.epoch = epoch;
        Ok(())
    }

    fn derive(&self, alpha: &[f32]) -> Result<Genotype, SearchError> {
        self.relaxed
            .derive(self.space.as_ref(), alpha)
            .map_err(|e| SearchError::Fatal(format!("{NAME}: derivation: {e}")))
    }
}

/// Alpha as a `[rows, cols]` tensor on `device`.
fn alpha_tensor(alpha: &[f32], [rows, cols]: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(alpha.to_vec(), [rows, cols]), device)
}

/// The softmax of each row of `values` (`cols` wide), in `f64` then stored as `f32`.
pub fn row_softmax(values: &[f32], cols: usize) -> Vec<f32> {
    values
        .chunks(cols.max(1))
        .flat_map(|row| {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
            let exp: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            exp.into_iter().map(move |e| (e / sum) as f32)
        })
        .collect()
}
