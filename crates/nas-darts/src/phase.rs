//! DARTS's search phase: the supernet's weights and the architecture weights trained in
//! turn, one step each per minibatch (first or second order), then the derived
//! architecture.

use super::adam::Adam;
use super::checkpoint::PHASE_KEY;
use super::config::{DartsConfig, Relaxation};
use super::hessian::hessian_vector_product;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Gradients, Int, Tensor, TensorData};
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
const NOISE_SEED: u64 = 4;

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
    /// GDAS's Gumbel-softmax temperature in the epoch; `None` for softmax mixing.
    pub temperature: Option<f64>,
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
    /// GDAS's Gumbel noise (its own stream, so the data order is the same for every
    /// relaxation).
    pub(crate) noise: Rng,
    /// The training images the weights see, in the order of the last epoch.
    pub(crate) subset: Vec<usize>,
    pub(crate) trajectory: Vec<EpochRecord>,
    pub(crate) cost: DartsCost,
}

/// The search phase, built and checked: the data loaded, the backend found.
#[derive(Debug)]
pub struct RelaxedSearch {
    /// The registered name of the method (`darts`, `beta-darts`, `gdas`).
    pub name: &'static str,
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
    pub fn new(
        name: &'static str,
        config: &DartsConfig,
        space: Arc<dyn SearchSpace>,
    ) -> Result<Self, ConfigError> {
        config.check(name)?;
        let relaxed =
            nas_nn::relaxed_of(space.name()).map_err(|e| ConfigError(format!("{name}: {e}")))?;
        let data = OneShotData::load(
            name,
            &config.backend,
            &config.data,
            [config.channels, config.cells_per_stage],
            &|task| relaxed.check_task(task),
        )?;
        Ok(RelaxedSearch {
            name,
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
                    "{}: resumed the search phase at epoch {} of {} (its state after that \
                     epoch, from the journal)",
                    self.name, state.epoch, self.config.epochs
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
            self.space.as_ref(),
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
            noise: Rng::new(derive_seed(seed, NOISE_SEED)),
            subset,
            trajectory: Vec::with_capacity(c.epochs as usize),
            cost: DartsCost::default(),
        }
    }

    /// Epoch `state.epoch + 1`: per training minibatch, an Adam step on alpha from a
    /// validation batch and an SGD step on the weights from the training batch with alpha
    /// fixed (DARTS takes alpha's first, GDAS the weights'). `log` gets one line.
    fn epoch(&self, state: &mut PhaseState, log: &mut dyn FnMut(&str)) -> Result<(), SearchError> {
        let c = &self.config;
        let epoch = state.epoch + 1;
        let valid = &self.data.splits.valid;
        let progress = if c.epochs > 1 {
            (epoch - 1) as f64 / (c.epochs - 1) as f64
        } else {
            0.0
        };
        let step = Step {
            epoch,
            temperature: match c.relaxation {
                Relaxation::Softmax => None,
                Relaxation::Gumbel { tau_max, tau_min } => {
                    Some(tau_max * (1.0 - progress) + tau_min * progress)
                }
            },
            beta: c.beta_decay * epoch as f64 / c.epochs as f64,
            total_steps: state.subset.len().div_ceil(c.batch_size) * c.epochs as usize,
        };
        state.rng.shuffle(&mut state.subset);
        let mut valid_order: Vec<usize> = (0..valid.len()).collect();
        state.rng.shuffle(&mut valid_order);
        let mut valid_batches = valid_order.chunks(c.batch_size).cycle();
        let subset = std::mem::take(&mut state.subset);
        let (mut train_loss, mut correct, mut seen) = (0f64, 0usize, 0usize);
        for chunk in subset.chunks(c.batch_size) {
            let valid_chunk = valid_batches.next().unwrap_or(&[]);
            let weights_first = step.temperature.is_some();
            if weights_first {
                train_loss += self.weight_step(state, chunk, &step)?;
            }
            correct += self.arch_step(state, chunk, valid_chunk, &step)?;
            seen += valid_chunk.len();
            if !weights_first {
                train_loss += self.weight_step(state, chunk, &step)?;
            }
        }
        state.subset = subset;
        let record = EpochRecord {
            epoch,
            probabilities: row_softmax(&state.alpha, self.shape()[1]),
            train_loss: train_loss / state.subset.len() as f64,
            valid_acc: 100.0 * correct as f64 / seen.max(1) as f64,
            temperature: step.temperature,
            derived: self.derive(&state.alpha)?,
        };
        log(&format!(
            "{}: epoch {epoch}/{}: training loss {:.3}, supernet validation accuracy \
             {:.1}%, derived {}",
            self.name,
            c.epochs,
            record.train_loss,
            record.valid_acc,
            self.space.render(&record.derived)
        ));
        state.trajectory.push(record);
        state.epoch = epoch;
        Ok(())
    }

    /// An Adam step on alpha from the validation images `valid_indices` (plus the
    /// Beta-Decay term's gradient); the number of them the supernet classified right
    /// before it. Second order, the gradient is taken at the weights unrolled one step on
    /// the training images `train_indices`, less the finite-difference Hessian term.
    fn arch_step(
        &self,
        state: &mut PhaseState,
        train_indices: &[usize],
        valid_indices: &[usize],
        step: &Step,
    ) -> Result<usize, SearchError> {
        let device = self.data.device.clone().autodiff();
        let a = alpha_tensor(&state.alpha, self.shape(), &device).require_grad();
        let mix = self.mix(a.clone(), &state.alpha, step, &mut state.noise);
        let (x, y) = batch(&self.data.splits.valid, valid_indices, &device);
        let second_order = self.config.order == 2;
        // Second order: xi, the unrolled step's learning rate, is the weights' current one.
        let xi = cosine(
            self.config.learning_rate,
            state.cost.weight_steps as usize,
            step.total_steps,
        );
        let unrolled = if second_order {
            let fixed = softmax(alpha_tensor(&state.alpha, self.shape(), &device), 1);
            let (xt, yt) = batch(&self.data.splits.train, train_indices, &device);
            let loss = self.loss(state.weights.forward(xt, &fixed), yt, "training", step)?;
            Some(state.weights.unrolled(loss, xi))
        } else {
            None
        };
        let at = unrolled.as_deref().unwrap_or(state.weights.as_ref());
        let logits = mix.forward(at, x);
        let predicted = logits.clone().argmax(1).reshape([valid_indices.len()]);
        let correct = predicted.equal(y.clone()).int().sum().into_scalar::<i64>();
        let grads = self.loss(logits, y, "validation", step)?.backward();
        let mut grad = self.alpha_grad(&a, &grads)?;
        if let Some(unrolled) = &unrolled {
            let direction = unrolled.weight_grads(&grads);
            let hessian = self.hessian_term(state, &direction, train_indices, step)?;
            for (g, h) in grad.iter_mut().zip(hessian) {
                *g -= (xi * h) as f32;
            }
        }
        if step.beta > 0.0 {
            // d/d(alpha) of beta * mean over rows of logsumexp(row) = beta * softmax / rows.
            let [rows, cols] = self.shape();
            let scale = (step.beta / rows as f64) as f32;
            for (g, p) in grad.iter_mut().zip(row_softmax(&state.alpha, cols)) {
                *g += scale * p;
            }
        }
        state.adam.step(&mut state.alpha, &grad);
        state.cost.arch_steps += 1;
        Ok(correct.max(0) as usize)
    }

    /// Second-order DARTS's Hessian term ([`hessian_vector_product`]): along `direction`,
    /// the unrolled weights' validation gradient, with the alpha gradient of the training
    /// loss on `train_indices`, and the paper's `radius = 0.01`.
    fn hessian_term(
        &self,
        state: &PhaseState,
        direction: &nas_nn::WeightGrads,
        train_indices: &[usize],
        step: &Step,
    ) -> Result<Vec<f64>, SearchError> {
        let device = self.data.device.clone().autodiff();
        let (x, y) = batch(&self.data.splits.train, train_indices, &device);
        let alpha_grad = |moved: &dyn RelaxedWeights| -> Result<Vec<f32>, SearchError> {
            let a = alpha_tensor(&state.alpha, self.shape(), &device).require_grad();
            let logits = moved.forward(x.clone(), &softmax(a.clone(), 1));
            let grads = self.loss(logits, y.clone(), "training", step)?.backward();
            self.alpha_grad(&a, &grads)
        };
        hessian_vector_product(
            state.weights.as_ref(),
            direction,
            0.01,
            state.alpha.len(),
            &alpha_grad,
        )
    }

    /// Cross-entropy of `logits` against `labels`, refused when not finite.
    fn loss(
        &self,
        logits: Tensor<2>,
        labels: Tensor<1, Int>,
        what: &str,
        step: &Step,
    ) -> Result<Tensor<1>, SearchError> {
        let device = logits.device();
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(logits, labels);
        let value: f32 = loss.clone().into_scalar();
        if !value.is_finite() {
            return Err(self.diverged(what, value, step.epoch));
        }
        Ok(loss)
    }

    /// The gradient of alpha `a` in `grads`.
    fn alpha_grad(&self, a: &Tensor<2>, grads: &Gradients) -> Result<Vec<f32>, SearchError> {
        a.grad(grads)
            .and_then(|g| g.into_data().try_to_vec::<f32>().ok())
            .ok_or_else(|| {
                SearchError::Fatal(format!(
                    "{}: the architecture weights got no gradient",
                    self.name
                ))
            })
    }

    /// An SGD step on the supernet's weights from the training images `indices`, alpha
    /// fixed; the batch's summed loss.
    fn weight_step(
        &self,
        state: &mut PhaseState,
        indices: &[usize],
        step: &Step,
    ) -> Result<f64, SearchError> {
        let device = self.data.device.clone().autodiff();
        let a = alpha_tensor(&state.alpha, self.shape(), &device);
        let mix = self.mix(a, &state.alpha, step, &mut state.noise);
        let (x, y) = batch(&self.data.splits.train, indices, &device);
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(mix.forward(state.weights.as_ref(), x), y);
        let value: f32 = loss.clone().into_scalar();
        if !value.is_finite() {
            return Err(self.diverged("training", value, step.epoch));
        }
        let lr = cosine(
            self.config.learning_rate,
            state.cost.weight_steps as usize,
            step.total_steps,
        );
        state.weights.step(loss, lr);
        state.cost.weight_steps += 1;
        Ok(value as f64 * indices.len() as f64)
    }

    /// The mixing weights of one forward pass from alpha `a` (whose values are `alpha`):
    /// its rows' softmax (DARTS), or a Gumbel-softmax draw from `noise`, one-hot in value
    /// with the soft draw's gradient (GDAS).
    fn mix(&self, a: Tensor<2>, alpha: &[f32], step: &Step, noise: &mut Rng) -> Mix {
        let Some(tau) = step.temperature else {
            return Mix {
                weights: softmax(a, 1),
                sampled: None,
            };
        };
        let [rows, cols] = self.shape();
        let device = a.device();
        let gumbel: Vec<f32> = (0..rows * cols)
            .map(|_| -(-(noise.uniform().max(1e-300)).ln()).ln() as f32)
            .collect();
        // The argmax of log-softmax plus noise is that of alpha plus noise: the row's
        // normalization is a constant.
        let choices: Vec<usize> = (0..rows)
            .map(|r| {
                let score = |k: usize| alpha[r * cols + k] + gumbel[r * cols + k];
                (0..cols).fold(0, |best, k| if score(k) > score(best) { k } else { best })
            })
            .collect();
        let noise_tensor = Tensor::<2>::from_data(TensorData::new(gumbel, [rows, cols]), &device);
        let probs = softmax((log_softmax(a, 1) + noise_tensor) / tau, 1);
        let mut one_hot = vec![0f32; rows * cols];
        for (r, &k) in choices.iter().enumerate() {
            one_hot[r * cols + k] = 1.0;
        }
        let one_hot = Tensor::<2>::from_data(TensorData::new(one_hot, [rows, cols]), &device);
        Mix {
            weights: one_hot - probs.clone().detach() + probs,
            sampled: Some(choices),
        }
    }

    fn diverged(&self, what: &str, value: f32, epoch: u32) -> SearchError {
        SearchError::Fatal(format!(
            "{}: the {what} loss diverged ({value}) at epoch {epoch}",
            self.name
        ))
    }

    fn derive(&self, alpha: &[f32]) -> Result<Genotype, SearchError> {
        self.relaxed
            .derive(self.space.as_ref(), alpha)
            .map_err(|e| SearchError::Fatal(format!("{}: derivation: {e}", self.name)))
    }
}

/// What one epoch's steps share.
pub(crate) struct Step {
    epoch: u32,
    /// GDAS's Gumbel-softmax temperature; `None` for softmax mixing.
    temperature: Option<f64>,
    /// The Beta-Decay weight this epoch.
    beta: f64,
    /// Weight steps in the whole phase, for the cosine schedule.
    total_steps: usize,
}

/// One forward pass's mixing weights, and the sampled candidates where only those run.
struct Mix {
    weights: Tensor<2>,
    sampled: Option<Vec<usize>>,
}

impl Mix {
    fn forward(&self, weights: &dyn RelaxedWeights, x: Tensor<4>) -> Tensor<2> {
        match &self.sampled {
            None => weights.forward(x, &self.weights),
            Some(choices) => weights.forward_sampled(x, &self.weights, choices),
        }
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
