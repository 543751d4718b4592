//! The training evaluator: builds the trial's network (whatever space the experiment
//! searches, through the network that space registers with nas-nn), trains it on real
//! data for the trial's fidelity with the training loop of [`nas_nn::fit`], and reports
//! validation accuracy each epoch (so a pruner can stop it), then validation and test
//! accuracy, loss, parameters, FLOPs, inference latency and wall time. A run whose loss
//! diverges is a failed trial; the search goes on.

use nas_core::evaluator::{
    SIMULATED_SECONDS, TRAIN_TFLOPS, TRAIN_TFLOPS_MEANS, training_tflops, weights_file,
};
use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::{
    EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Reporter, SearchSpace, Trial,
};
use nas_data::{DataConfig, Splits};
use nas_nn::memory::{check_memory, memory_limit, training_memory};
use nas_nn::{FitJob, NetSpec, OptimizerKind, Recipe, SpaceNetwork, Task};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;

/// Config of the `train` evaluator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// A registered backend (`ndarray`, `flex`, `wgpu`...).
    pub backend: String,
    /// Epochs when the trial's fidelity does not set them.
    pub epochs: u32,
    pub batch_size: usize,
    pub optimizer: OptimizerKind,
    /// Peak learning rate, annealed to zero on a cosine schedule.
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// The network's width as its space reads it (NB201: channels of the first stage,
    /// `C`); a trial's `width` fidelity overrides it. Spaces whose genotype sets every
    /// width (chain CNNs, MLPs) ignore it.
    pub channels: usize,
    /// The network's depth as its space reads it (NB201: cells per stage, `N`).
    pub cells_per_stage: usize,
    /// Share of the training split used when the trial's fidelity does not set it.
    pub data_fraction: f64,
    pub data: DataConfig,
    /// A folder to keep each trial's trained weights in, as burn's record bytes
    /// (`trial-<id>.record`), for `nas export`; none by default, and then not written, so
    /// configs from before it read the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_dir: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            // Measured 19x faster than ndarray on this network (one epoch of the default
            // search: 1.1 s against 21 s, dev profile), whose pooling and convolution
            // gradients index elementwise.
            backend: "flex".into(),
            epochs: 4,
            batch_size: 64,
            optimizer: OptimizerKind::Sgd,
            learning_rate: 0.05,
            momentum: 0.9,
            weight_decay: 5e-4,
            channels: 8,
            cells_per_stage: 1,
            data_fraction: 1.0,
            data: DataConfig::default(),
            weights_dir: None,
        }
    }
}

impl TrainConfig {
    /// # Errors
    /// The first field out of range.
    pub fn check(&self) -> Result<(), ConfigError> {
        nas_nn::check_training(
            "train",
            self.epochs,
            &self.recipe(),
            [self.channels, self.cells_per_stage],
            self.data_fraction,
        )
    }

    /// The training fields, as the training loop takes them.
    pub fn recipe(&self) -> Recipe {
        Recipe {
            batch_size: self.batch_size,
            optimizer: self.optimizer,
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
        }
    }

    /// Refuses data the space's network cannot take, and (for a space with a largest
    /// network, as NB201, whose size the config sets) a network too large for this
    /// machine's memory: checked before the search starts, rather than as a panic inside
    /// burn in every trial or an aborted allocation. Spaces whose genotype sets the size
    /// are checked per trial, before each network is built.
    ///
    /// # Errors
    /// The data's shape (naming the data set and the smallest input) or the memory
    /// estimate (naming the fields to lower).
    pub fn check_fits(
        &self,
        space: &dyn SearchSpace,
        network: &dyn SpaceNetwork,
        splits: &Splits,
    ) -> Result<(), ConfigError> {
        let t = &splits.train;
        let spec = self.spec(splits, None);
        network.check_task(&spec.task).map_err(|why| {
            let shape = if spec.task.is_text() {
                format!("sentences of up to {} words", t.width)
            } else {
                format!("{}x{} images, {} channel(s)", t.height, t.width, t.channels)
            };
            ConfigError(format!(
                "train: data `{}` ({shape}): {why}",
                self.data.source()
            ))
        })?;
        if let Some(largest) = network.largest(space) {
            let counts = network
                .counts(space, &largest, &spec)
                .map_err(|e| ConfigError(e.to_string()))?;
            let batch = self.batch_size.min(t.len());
            let input = spec.task.input;
            check_memory(
                &format!(
                    "train: a training step of the largest {} network (channels {}, cells_per_stage {}, batch {batch} of {}x{}x{} images)",
                    space.name(),
                    self.channels,
                    self.cells_per_stage,
                    input[0],
                    input[1],
                    input[2]
                ),
                training_memory(counts, batch),
                &memory_limit(),
                "the fields `channels`, `cells_per_stage` or `batch_size`",
            )
            .map_err(ConfigError)?;
        }
        Ok(())
    }

    /// The network's shape for this data at the trial's `width` fidelity (else the
    /// config's `channels`).
    pub fn spec(&self, splits: &Splits, width: Option<u32>) -> NetSpec {
        NetSpec {
            task: Task::of(splits),
            width: width.map_or(self.channels, |w| w as usize),
            depth: self.cells_per_stage,
        }
    }
}

impl EvaluatorConfig for TrainConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        self.check()?;
        let network = nas_space_network(space.as_ref())?;
        // Fail now, not in every trial, when the backend or the data is missing.
        nas_nn::device(&self.backend).map_err(|e| ConfigError(e.to_string()))?;
        let splits = self.data.load().map_err(|e| ConfigError(e.to_string()))?;
        self.check_fits(space.as_ref(), network, &splits)?;
        if let Some(dir) = &self.weights_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                ConfigError::field("train", "weights_dir", format!("{}: {e}", dir.display()))
            })?;
        }
        Ok(Arc::new(TrainEvaluator {
            space: Arc::clone(space),
            network,
            config: self.clone(),
            splits: Arc::new(splits),
        }))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    TrainConfig,
    "train",
    "Trains the trial's network (of any space that registers one) on real data (digits, MNIST, Fashion-MNIST, CSV images; sentiment sentences, CSV text) on a burn backend."
);

/// The network `space` registers, or a config error naming the spaces that have one.
pub(crate) fn nas_space_network(
    space: &dyn SearchSpace,
) -> Result<&'static dyn SpaceNetwork, ConfigError> {
    nas_nn::network_of(space.name()).map_err(ConfigError)
}

/// Trains trials' networks.
pub struct TrainEvaluator {
    /// The space whose genotypes the trials carry.
    pub space: Arc<dyn SearchSpace>,
    /// The network the space registers.
    pub network: &'static dyn SpaceNetwork,
    pub config: TrainConfig,
    pub splits: Arc<Splits>,
}

impl std::fmt::Debug for TrainEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainEvaluator")
            .field("space", &self.space.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Evaluator for TrainEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        let spec = MetricSpec::new;
        use Goal::*;
        use MetricRole::*;
        vec![
            spec(
                "valid_acc",
                Maximize,
                Objective,
                "validation accuracy (%) after training",
            ),
            spec(
                "valid_loss",
                Minimize,
                Objective,
                "validation cross-entropy after training",
            ),
            spec(
                "test_acc",
                Maximize,
                Report,
                "test accuracy (%): reported, never searched on",
            ),
            spec(
                "train_loss",
                Minimize,
                Report,
                "training cross-entropy of the last epoch",
            ),
            spec("params_m", Minimize, Cost, "trainable parameters, millions"),
            spec(
                "flops_m",
                Minimize,
                Cost,
                "FLOPs of one forward pass, millions (conv + linear)",
            ),
            spec(
                "latency_ms",
                Minimize,
                Cost,
                "inference time of one image, milliseconds (median)",
            ),
            spec(
                SIMULATED_SECONDS,
                Minimize,
                Cost,
                "wall-clock seconds of training (real, not modelled)",
            ),
            spec("epochs", Minimize, Cost, "epochs trained"),
            spec(TRAIN_TFLOPS, Minimize, Cost, TRAIN_TFLOPS_MEANS),
        ]
    }

    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let space = self.space.as_ref();
        let g = &trial.genotype;
        let failed = |e: nas_core::SpaceError| EvalError::Failed(e.to_string());
        let device =
            nas_nn::device(&self.config.backend).map_err(|e| EvalError::Fatal(e.to_string()))?;
        let epochs = trial.fidelity.epochs.unwrap_or(self.config.epochs);
        let spec = self.config.spec(&self.splits, trial.fidelity.width);
        // The trial's width (NB201) or its genotype (chain CNN, MLP) sets the size.
        let batch = self.config.batch_size.min(self.splits.train.len());
        check_memory(
            &format!("a training step of {} (batch {batch})", space.render(g)),
            training_memory(self.network.counts(space, g, &spec).map_err(failed)?, batch),
            &memory_limit(),
            "the trial's width or the space's widths, or `batch_size`",
        )
        .map_err(EvalError::Failed)?;
        let data_fraction = trial
            .fidelity
            .data_fraction
            .unwrap_or(self.config.data_fraction);
        let job = FitJob {
            recipe: &self.config.recipe(),
            splits: &self.splits,
            epochs,
            data_fraction,
            seed: trial.seed,
            device: &device,
            keep_weights: self.config.weights_dir.is_some(),
        };
        let out = self.network.fit(space, g, &spec, &job, reporter)?;
        if let (Some(dir), Some(weights)) = (&self.config.weights_dir, &out.weights) {
            let path = dir.join(weights_file(trial.id));
            // The search cannot keep what it promised: stop it (it resumes) rather than
            // go on without the weights.
            std::fs::write(&path, weights)
                .map_err(|e| EvalError::Fatal(format!("cannot write {}: {e}", path.display())))?;
        }
        let cost = self.network.cost(space, g, &spec).map_err(failed)?;
        let mut m = Metrics::with_capacity(10);
        m.set("valid_acc", out.valid_acc);
        m.set("valid_loss", out.valid_loss);
        m.set("test_acc", out.test_acc);
        m.set("train_loss", out.train_loss);
        m.set("params_m", out.params as f64 / 1e6);
        m.set("flops_m", cost.flops_m());
        m.set("latency_ms", out.latency_ms);
        m.set(SIMULATED_SECONDS, out.train_seconds);
        m.set("epochs", epochs as f64);
        // The images an epoch sees, as the training loop takes its subset.
        let images = ((self.splits.train.len() as f64 * data_fraction).round()).max(1.0);
        m.set(
            TRAIN_TFLOPS,
            training_tflops(cost.flops_m(), images, epochs),
        );
        Ok(m)
    }
}
