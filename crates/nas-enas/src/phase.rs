//! ENAS's search phase: the shared weights and the controller trained in turn, then the
//! derivation of candidate cells.

use super::checkpoint::PHASE_KEY;
use super::config::EnasConfig;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Device;
use nas_core::journal::{Journal, NullJournal};
use nas_core::registry::ConfigError;
use nas_core::rng::derive_seed;
use nas_core::search::SearchError;
use nas_core::{
    DecisionKind, Genotype, Goal, Metrics, Objective, Outcome, Rng, SearchSpace, SpaceError,
    Strategy, StrategyContext, Trial, TrialResult,
};
use nas_data::Images;
use nas_nn::{OneShotData, SharedWeights, SpaceSupernet, batch, cosine};
use nas_rl::Reinforce;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Seed labels: the supernet's initial weights and the data order.
const INIT_SEED: u64 = 1;
const DATA_SEED: u64 = 2;

/// One derived cell and its accuracy under the shared weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub genotype: Genotype,
    /// Accuracy (%) on the first `derive_images` validation images, shared weights.
    pub supernet_acc: f64,
}

/// What the search phase cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchCost {
    pub wall_seconds: f64,
    /// SGD steps on the shared weights (one sampled cell each).
    pub shared_steps: u64,
    /// Controller samples rewarded (one Adam step each with the default batch of 1).
    pub controller_steps: u64,
    /// Forward passes of derived samples over the derivation images.
    pub derive_samples: u64,
}

/// The controller's distributions after one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerEpoch {
    pub epoch: u32,
    /// Each decision's probabilities along the greedy cell, `[decisions, choices]`
    /// row-major.
    pub probabilities: Vec<f32>,
}

/// How the controller's distributions moved over the search phase, for a space whose
/// decisions all choose among the same candidates (NB201's edges): the report plots it
/// (the `phase.controller` convention of `nas-report`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerTrajectory {
    /// `[decisions, candidates]`.
    pub shape: [usize; 2],
    pub candidates: Vec<String>,
    pub trajectory: Vec<ControllerEpoch>,
}

/// The outcome of the search phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseOutcome {
    /// Distinct cells (by fingerprint) from the trained controller, best supernet
    /// accuracy first.
    pub candidates: Vec<Candidate>,
    /// The controller's most likely cell at the end.
    pub greedy: Genotype,
    pub cost: SearchCost,
    /// Mean training loss of the shared weights in the last epoch.
    pub last_shared_loss: f64,
    /// The controller's distributions by epoch, where the space's decisions share their
    /// candidates; absent in journals written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<ControllerTrajectory>,
}

/// The search phase at an epoch boundary: everything the next epoch reads, and what the
/// journal's blob [`PHASE_KEY`] holds.
#[derive(Debug)]
pub(crate) struct PhaseState {
    /// Epochs done.
    pub(crate) epoch: u32,
    pub(crate) controller: Reinforce,
    /// The shared weights on the autodiff device, and their SGD state.
    pub(crate) shared: Box<dyn SharedWeights>,
    /// The data order and the reward images.
    pub(crate) rng: Rng,
    /// The training images the shared weights see, in the order of the last epoch (each
    /// epoch shuffles this order further).
    pub(crate) subset: Vec<usize>,
    pub(crate) cost: SearchCost,
    pub(crate) last_shared_loss: f64,
    /// The controller's distributions after each epoch so far.
    pub(crate) trajectory: Vec<ControllerEpoch>,
}

/// The search phase, built and checked: the data loaded, the backend found.
#[derive(Debug)]
pub struct SupernetSearch {
    pub config: EnasConfig,
    pub space: Arc<dyn SearchSpace>,
    /// The supernet the space registers.
    pub supernet: &'static dyn SpaceSupernet,
    /// The device, the data, the supernet's shape.
    pub data: OneShotData,
}

/// The shared weights after the search phase, to score any cell with.
#[derive(Debug)]
pub struct TrainedSupernet {
    /// A scoring copy ([`SharedWeights::scoring`]).
    pub supernet: Box<dyn SharedWeights>,
    pub space: Arc<dyn SearchSpace>,
    /// The autodiff device the supernet lives on: scoring runs batch norm on batch
    /// statistics (as NB201's ENAS does), which burn does on an autodiff device.
    pub device: Device,
}

impl TrainedSupernet {
    /// Scoring copies of `shared`'s weights: gradient tracking off, batch norm still on
    /// batch statistics (as NB201's ENAS does), which burn does on an autodiff device.
    pub fn new(shared: &dyn SharedWeights, space: Arc<dyn SearchSpace>, device: Device) -> Self {
        TrainedSupernet {
            supernet: shared.scoring(),
            space,
            device,
        }
    }

    /// Accuracy (%) of the child `g` on images `indices` of `set` under the shared weights.
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    pub fn accuracy(
        &self,
        g: &Genotype,
        set: &Images,
        indices: &[usize],
    ) -> Result<f64, SpaceError> {
        let mut correct = 0i64;
        for chunk in indices.chunks(256) {
            let (x, y) = batch(set, chunk, &self.device);
            let predicted = self
                .supernet
                .forward(self.space.as_ref(), g, x)?
                .argmax(1)
                .reshape([chunk.len()]);
            correct += predicted.equal(y).int().sum().into_scalar::<i64>();
        }
        Ok(100.0 * correct as f64 / indices.len().max(1) as f64)
    }
}

impl SupernetSearch {
    /// # Errors
    /// A config out of range, a space without a registered supernet, a missing backend or
    /// data set, data the supernet cannot take.
    pub fn new(config: &EnasConfig, space: Arc<dyn SearchSpace>) -> Result<Self, ConfigError> {
        config.check()?;
        let name = super::config::NAME;
        let supernet =
            nas_nn::supernet_of(space.name()).map_err(|e| ConfigError(format!("{name}: {e}")))?;
        let data = OneShotData::load(
            name,
            &config.backend,
            &config.data,
            [config.channels, config.cells_per_stage],
            &|task| supernet.check_task(task),
        )?;
        Ok(SupernetSearch {
            config: config.clone(),
            space,
            supernet,
            data,
        })
    }

    /// Runs the search phase from `seed`; `log` gets one line per epoch.
    ///
    /// # Errors
    /// [`SearchError::Fatal`] when the shared weights' loss stops being finite.
    pub fn run(
        &self,
        seed: u64,
        log: &mut dyn FnMut(&str),
    ) -> Result<(PhaseOutcome, TrainedSupernet), SearchError> {
        self.run_journaled(seed, &mut NullJournal, log)
    }

    /// Runs the search phase from `seed`, saving its whole state in `journal` (the blob
    /// [`PHASE_KEY`]) after each epoch and, when the journal already holds one, continuing
    /// from it: the outcome equals an uninterrupted run's to the bit, except the wall time.
    ///
    /// # Errors
    /// [`SearchError::Fatal`] when the shared weights' loss stops being finite;
    /// [`SearchError::Resume`] for a saved state that is corrupt or was written by another
    /// config or seed; the journal's own errors.
    pub fn run_journaled(
        &self,
        seed: u64,
        journal: &mut dyn Journal,
        log: &mut dyn FnMut(&str),
    ) -> Result<(PhaseOutcome, TrainedSupernet), SearchError> {
        let started = Instant::now();
        let mut state = match journal.load_blob(PHASE_KEY)? {
            Some(bytes) => {
                let state = self.decode(seed, &bytes)?;
                log(&format!(
                    "enas: resumed the search phase at epoch {} of {} (its state after that \
                     epoch, from the journal)",
                    state.epoch, self.config.epochs
                ));
                state
            }
            None => self.start(seed)?,
        };
        let wall_before = state.cost.wall_seconds;
        while state.epoch < self.config.epochs {
            state = self.epoch(state, log)?;
            state.cost.wall_seconds = wall_before + started.elapsed().as_secs_f64();
            journal.save_blob(PHASE_KEY, &self.encode(seed, &state)?)?;
        }
        let PhaseState {
            mut controller,
            shared,
            mut cost,
            last_shared_loss,
            trajectory,
            ..
        } = state;
        let trained = TrainedSupernet::new(
            shared.as_ref(),
            Arc::clone(&self.space),
            self.data.device.clone().autodiff(),
        );
        let candidates = self.derive(&mut controller, &trained, &mut cost)?;
        cost.wall_seconds = wall_before + started.elapsed().as_secs_f64();
        let outcome = PhaseOutcome {
            candidates,
            greedy: controller.greedy(),
            cost,
            last_shared_loss,
            controller: self
                .shared_candidates()
                .map(|candidates| ControllerTrajectory {
                    shape: [self.space.decisions().len(), candidates.len()],
                    candidates,
                    trajectory,
                }),
        };
        Ok((outcome, trained))
    }

    /// The controller as `seed` starts it.
    pub(crate) fn controller(&self, seed: u64) -> Result<Reinforce, SearchError> {
        Reinforce::new(
            self.config.controller.clone(),
            StrategyContext {
                space: Arc::clone(&self.space),
                objectives: vec![Objective {
                    metric: "valid_acc".into(),
                    goal: Goal::Maximize,
                }],
                seed,
            },
        )
        .map_err(SearchError::Config)
    }

    /// The shared weights as `seed` initializes them, on the autodiff device, with an SGD
    /// that has no velocity yet.
    pub(crate) fn fresh_weights(&self, seed: u64) -> Box<dyn SharedWeights> {
        self.supernet.shared_weights(
            self.space.as_ref(),
            &self.data.spec,
            &self.data.device.clone().autodiff(),
            derive_seed(seed, INIT_SEED),
            self.config.momentum,
            self.config.weight_decay,
        )
    }

    /// The training images the shared weights see: how many of them.
    pub(crate) fn subset_len(&self) -> usize {
        let n = self.data.splits.train.len();
        ((n as f64 * self.config.data_fraction).round() as usize).max(1)
    }

    /// The state before the first epoch.
    fn start(&self, seed: u64) -> Result<PhaseState, SearchError> {
        let mut rng = Rng::new(derive_seed(seed, DATA_SEED));
        let mut subset: Vec<usize> = (0..self.data.splits.train.len()).collect();
        rng.shuffle(&mut subset);
        subset.truncate(self.subset_len());
        Ok(PhaseState {
            epoch: 0,
            controller: self.controller(seed)?,
            shared: self.fresh_weights(seed),
            rng,
            subset,
            cost: SearchCost::default(),
            last_shared_loss: f64::NAN,
            trajectory: Vec::new(),
        })
    }

    /// The candidates every decision of the space chooses among, when they all share
    /// them (NB201's five operations): then the controller's distributions form a
    /// `[decisions, candidates]` table.
    pub(crate) fn shared_candidates(&self) -> Option<Vec<String>> {
        let mut shared: Option<&Vec<String>> = None;
        for d in self.space.decisions() {
            let DecisionKind::Categorical { choices } = &d.kind else {
                return None;
            };
            match shared {
                Some(s) if s != choices => return None,
                _ => shared = Some(choices),
            }
        }
        shared.cloned()
    }

    /// The controller's distributions along its greedy cell after `epoch`, for a space
    /// whose decisions share their candidates.
    fn controller_epoch(&self, epoch: u32, controller: &Reinforce) -> Option<ControllerEpoch> {
        let width = self.shared_candidates()?.len();
        let rows = controller.greedy_distributions();
        if rows.iter().any(|r| r.len() != width) {
            return None;
        }
        Some(ControllerEpoch {
            epoch,
            probabilities: rows.iter().flatten().map(|&p| p as f32).collect(),
        })
    }

    /// Epoch `state.epoch + 1`: (a) SGD on the shared weights, one cell sampled from the
    /// controller per minibatch, then (b) the controller's steps, rewarded with validation
    /// accuracy under those weights. `log` gets one line.
    fn epoch(
        &self,
        state: PhaseState,
        log: &mut dyn FnMut(&str),
    ) -> Result<PhaseState, SearchError> {
        let c = &self.config;
        let device = self.data.device.clone().autodiff();
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let total_steps = state.subset.len().div_ceil(c.batch_size) * c.epochs as usize;
        let train = &self.data.splits.train;
        let valid = &self.data.splits.valid;
        let PhaseState {
            epoch,
            mut controller,
            mut shared,
            mut rng,
            mut subset,
            mut cost,
            mut trajectory,
            ..
        } = state;
        let epoch = epoch + 1;
        // (a) The shared weights, one sampled cell per minibatch.
        rng.shuffle(&mut subset);
        let mut loss_sum = 0f64;
        for chunk in subset.chunks(c.batch_size) {
            let cell = controller.sample();
            let (x, y) = batch(train, chunk, &device);
            let logits = shared
                .forward(self.space.as_ref(), &cell, x)
                .map_err(invalid)?;
            let loss = loss_fn.forward(logits, y);
            let value: f32 = loss.clone().into_scalar();
            if !value.is_finite() {
                return Err(SearchError::Fatal(format!(
                    "{}: the shared weights' loss diverged ({value}) at epoch {epoch}",
                    super::config::NAME
                )));
            }
            loss_sum += value as f64 * chunk.len() as f64;
            let lr = cosine(c.learning_rate, cost.shared_steps as usize, total_steps);
            shared.step(loss, lr);
            cost.shared_steps += 1;
        }
        let last_shared_loss = loss_sum / subset.len() as f64;
        // (b) The controller, rewarded with validation accuracy under those weights.
        let trained = TrainedSupernet::new(shared.as_ref(), Arc::clone(&self.space), device);
        let mut reward_sum = 0f64;
        for _ in 0..c.controller_steps {
            let Some(proposal) = controller.ask(1).pop() else {
                break;
            };
            let images = rng.sample_indices(valid.len(), c.reward_images.min(valid.len()));
            let reward = trained
                .accuracy(&proposal.genotype, valid, &images)
                .map_err(invalid)?;
            reward_sum += reward;
            controller.tell(&reward_result(
                cost.controller_steps,
                proposal.genotype,
                reward,
            ));
            cost.controller_steps += 1;
        }
        log(&format!(
            "enas: epoch {epoch}/{}: shared-weight loss {last_shared_loss:.3}, mean \
             controller reward {:.1}%, greedy cell {}",
            c.epochs,
            reward_sum / c.controller_steps.max(1) as f64,
            self.space.render(&controller.greedy()),
        ));
        trajectory.extend(self.controller_epoch(epoch, &controller));
        Ok(PhaseState {
            epoch,
            controller,
            shared,
            rng,
            subset,
            cost,
            last_shared_loss,
            trajectory,
        })
    }

    /// Samples `derive_samples` cells from the controller (its greedy cell first), scores
    /// the distinct ones on the derivation images, best first (ties: first sampled).
    fn derive(
        &self,
        controller: &mut Reinforce,
        trained: &TrainedSupernet,
        cost: &mut SearchCost,
    ) -> Result<Vec<Candidate>, SearchError> {
        let valid = &self.data.splits.valid;
        let images: Vec<usize> = (0..self.config.derive_images.min(valid.len())).collect();
        let mut seen = std::collections::HashSet::new();
        let mut candidates = Vec::new();
        let mut samples = vec![controller.greedy()];
        samples.extend((1..self.config.derive_samples).map(|_| controller.sample()));
        for genotype in samples {
            if !seen.insert(self.space.fingerprint(&genotype).0) {
                continue;
            }
            let supernet_acc = trained
                .accuracy(&genotype, valid, &images)
                .map_err(invalid)?;
            cost.derive_samples += 1;
            candidates.push(Candidate {
                genotype,
                supernet_acc,
            });
        }
        candidates.sort_by(|a, b| b.supernet_acc.total_cmp(&a.supernet_acc));
        Ok(candidates)
    }
}

/// A controller sample the space cannot decode.
fn invalid(e: SpaceError) -> SearchError {
    SearchError::InvalidProposal(e.to_string())
}

/// A controller sample's reward as the trial result REINFORCE learns from.
fn reward_result(id: u64, genotype: Genotype, reward: f64) -> TrialResult {
    let mut metrics = Metrics::with_capacity(1);
    metrics.set("valid_acc", reward);
    TrialResult {
        trial: Trial {
            id,
            genotype,
            fidelity: Default::default(),
            seed: 0,
        },
        outcome: Outcome::Completed { metrics },
        intermediate: Vec::new(),
    }
}
