//! DARTS's search phase: the supernet's weights and the architecture weights trained in
//! turn, one step each per minibatch (first order), then the derived architecture.

use super::adam::Adam;
use super::config::{DartsConfig, NAME};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
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
        let started = Instant::now();
        let c = &self.config;
        let device = self.data.device.clone().autodiff();
        let shape = self.relaxed.alpha_shape(self.space.as_ref());
        let mut weights: Box<dyn RelaxedWeights> = self.relaxed.relaxed_weights(
            &self.data.spec,
            &device,
            derive_seed(seed, INIT_SEED),
            c.momentum,
            c.weight_decay,
        );
        // DARTS starts alpha at 1e-3 times standard normal draws: near-uniform mixing.
        let mut alpha_rng = Rng::new(derive_seed(seed, ALPHA_SEED));
        let mut alpha: Vec<f32> = (0..shape[0] * shape[1])
            .map(|_| (1e-3 * alpha_rng.normal()) as f32)
            .collect();
        let mut adam = Adam::new(alpha.len(), c.arch_learning_rate, c.arch_weight_decay);
        let mut rng = Rng::new(derive_seed(seed, DATA_SEED));
        let (train, valid) = (&self.data.splits.train, &self.data.splits.valid);
        let mut subset: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut subset);
        subset.truncate(((train.len() as f64 * c.data_fraction).round() as usize).max(1));
        let mut valid_order: Vec<usize> = (0..valid.len()).collect();
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let total_steps = subset.len().div_ceil(c.batch_size) * c.epochs as usize;
        let mut cost = DartsCost::default();
        let mut trajectory = Vec::with_capacity(c.epochs as usize);
        let diverged = |what: &str, value: f32, epoch: u32| {
            SearchError::Fatal(format!(
                "{NAME}: the {what} loss diverged ({value}) at epoch {epoch}"
            ))
        };
        for epoch in 1..=c.epochs {
            rng.shuffle(&mut subset);
            rng.shuffle(&mut valid_order);
            let mut valid_batches = valid_order.chunks(c.batch_size).cycle();
            let (mut train_loss, mut correct, mut seen) = (0f64, 0i64, 0usize);
            for chunk in subset.chunks(c.batch_size) {
                // (a) The architecture weights, on a validation batch (first order).
                let valid_chunk = valid_batches.next().unwrap_or(&[]);
                let a = alpha_tensor(&alpha, shape, &device).require_grad();
                let (x, y) = batch(valid, valid_chunk, &device);
                let logits = weights.forward(x, &softmax(a.clone(), 1));
                let predicted = logits.clone().argmax(1).reshape([valid_chunk.len()]);
                correct += predicted.equal(y.clone()).int().sum().into_scalar::<i64>();
                seen += valid_chunk.len();
                let loss = loss_fn.forward(logits, y);
                let value: f32 = loss.clone().into_scalar();
                if !value.is_finite() {
                    return Err(diverged("validation", value, epoch));
                }
                let grads = loss.backward();
                let grad = a
                    .grad(&grads)
                    .and_then(|g| g.into_data().try_to_vec::<f32>().ok())
                    .ok_or_else(|| {
                        SearchError::Fatal(format!(
                            "{NAME}: the architecture weights got no gradient"
                        ))
                    })?;
                adam.step(&mut alpha, &grad);
                cost.arch_steps += 1;
                // (b) The supernet's weights, on a training batch, alpha held fixed.
                let mix = softmax(alpha_tensor(&alpha, shape, &device), 1);
                let (x, y) = batch(train, chunk, &device);
                let loss = loss_fn.forward(weights.forward(x, &mix), y);
                let value: f32 = loss.clone().into_scalar();
                if !value.is_finite() {
                    return Err(diverged("training", value, epoch));
                }
                train_loss += value as f64 * chunk.len() as f64;
                let lr = cosine(c.learning_rate, cost.weight_steps as usize, total_steps);
                weights.step(loss, lr);
                cost.weight_steps += 1;
            }
            let derived = self.derive(&alpha)?;
            let record = EpochRecord {
                epoch,
                probabilities: row_softmax(&alpha, shape[1]),
                train_loss: train_loss / subset.len() as f64,
                valid_acc: 100.0 * correct as f64 / seen.max(1) as f64,
                derived,
            };
            log(&format!(
                "{NAME}: epoch {epoch}/{}: training loss {:.3}, supernet validation accuracy \
                 {:.1}%, derived {}",
                c.epochs,
                record.train_loss,
                record.valid_acc,
                self.space.render(&record.derived)
            ));
            trajectory.push(record);
        }
        cost.wall_seconds = started.elapsed().as_secs_f64();
        Ok(DartsOutcome {
            genotype: self.derive(&alpha)?,
            shape,
            candidates: self.relaxed.candidate_names(self.space.as_ref()),
            alpha,
            trajectory,
            cost,
        })
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
