//! The training evaluator: builds the trial's network (NB201 cell, chain CNN or MLP,
//! whichever space the experiment searches), trains it on real data for the trial's
//! fidelity, and reports validation accuracy each epoch (so a pruner can stop it),
//! then validation and test accuracy, loss, parameters, FLOPs, inference latency and wall
//! time. A run whose loss diverges is a failed trial; the search goes on.
//!
//! Reproducible: weights and data order come from our own generator seeded with the trial
//! seed, never from burn's process-wide one. Same seed, same CPU backend: the same numbers.

mod fit;

pub use fit::{FitOutcome, batch, cosine, fit};

use crate::data::{DataConfig, Splits};
use crate::limits::{NB201_LARGEST_CELL, check_input, check_memory, memory_limit, training_memory};
use nas_core::evaluator::SIMULATED_SECONDS;
use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::{
    EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Reporter, SearchSpace, Trial,
};
use nas_space::{Architecture, Nb201NetConfig};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which optimizer trains the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// SGD with momentum (Nesterov off), the NB201 recipe.
    Sgd,
    Adam,
}

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
    /// Channels of the first stage (`C`) of NB201 networks; a trial's `width` fidelity
    /// overrides it. Chain CNNs and MLPs take their widths from the genotype.
    pub channels: usize,
    /// Cells per stage (`N`) of NB201 networks.
    pub cells_per_stage: usize,
    /// Share of the training split used when the trial's fidelity does not set it.
    pub data_fraction: f64,
    pub data: DataConfig,
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
        }
    }
}

impl TrainConfig {
    /// # Errors
    /// The first field out of range.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.check_as("train")
    }

    /// [`check`](Self::check) for a plugin that trains with these fields under its own
    /// name (ENAS's shared weights): errors name `plugin`.
    ///
    /// # Errors
    /// The first field out of range.
    pub fn check_as(&self, plugin: &str) -> Result<(), ConfigError> {
        let field = |f: &str, why: &str| Err(ConfigError::field(plugin, f, why));
        if self.epochs == 0 {
            return field("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return field("batch_size", "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return field("learning_rate", "must be a positive number");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return field("momentum", "must be in [0, 1)");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return field("weight_decay", "must be zero or positive");
        }
        if self.channels == 0 || self.cells_per_stage == 0 {
            return field(
                "channels",
                "channels and cells_per_stage must be at least 1",
            );
        }
        if !(self.data_fraction > 0.0 && self.data_fraction <= 1.0) {
            return field("data_fraction", "must be in (0, 1]");
        }
        Ok(())
    }
}

impl TrainConfig {
    /// Refuses data the space's network cannot take, and (for NB201, whose size the config
    /// sets) a network too large for this machine's memory: checked before the search
    /// starts, rather than as a panic inside burn in every trial or an aborted allocation.
    /// Chain CNNs and MLPs take their widths from the genotype: each trial is checked
    /// before its network is built.
    ///
    /// # Errors
    /// The data's shape (naming the data set and the smallest input) or the memory
    /// estimate (naming the fields to lower).
    pub fn check_fits(&self, space: &str, splits: &Splits) -> Result<(), ConfigError> {
        let t = &splits.train;
        let input = [t.channels, t.height, t.width];
        check_input(space, input).map_err(|why| {
            ConfigError(format!(
                "train: data `{}` ({}x{} images, {} channel(s)): {why}",
                self.data.source(),
                t.height,
                t.width,
                t.channels
            ))
        })?;
        if space == "nb201" {
            let net = Nb201NetConfig {
                channels: self.channels,
                cells_per_stage: self.cells_per_stage,
                input,
                classes: t.classes,
            };
            let arch = Architecture::Nb201(NB201_LARGEST_CELL);
            let batch = self.batch_size.min(t.len());
            check_memory(
                &format!(
                    "train: a training step of the largest nb201 network (channels {}, cells_per_stage {}, batch {batch} of {}x{}x{} images)",
                    self.channels, self.cells_per_stage, input[0], input[1], input[2]
                ),
                training_memory(&arch, &net, batch),
                &memory_limit(),
                "the fields `channels`, `cells_per_stage` or `batch_size`",
            )
            .map_err(ConfigError)?;
        }
        Ok(())
    }
}

impl EvaluatorConfig for TrainConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &crate::data::TRAINING_KNOBS
    }

    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        self.check()?;
        if !Architecture::supports(space.name()) {
            return Err(ConfigError(format!(
                "trains networks of the spaces {}, not `{}`",
                nas_space::arch::SPACES.join(", "),
                space.name()
            )));
        }
        // Fail now, not in every trial, when the backend or the data is missing.
        nas_space::nn::device(&self.backend).map_err(|e| ConfigError(e.to_string()))?;
        let splits = self.data.load().map_err(|e| ConfigError(e.to_string()))?;
        self.check_fits(space.name(), &splits)?;
        Ok(Arc::new(TrainEvaluator {
            space: Arc::clone(space),
            config: self.clone(),
            splits: Arc::new(splits),
        }))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    TrainConfig,
    "train",
    "Trains the trial's network (nb201, chain-cnn, mlp) on real data (digits, MNIST, Fashion-MNIST, CSV) on a burn backend."
);

/// Trains trials' networks.
#[derive(Debug)]
pub struct TrainEvaluator {
    /// The space whose genotypes the trials carry: it decodes them into architectures.
    pub space: Arc<dyn SearchSpace>,
    pub config: TrainConfig,
    pub splits: Arc<Splits>,
}

impl TrainEvaluator {
    /// The network shape for a trial (its width fidelity, the data's shape); the channels
    /// and cells per stage concern NB201 networks only.
    pub fn net_config(&self, trial: &Trial) -> Nb201NetConfig {
        let t = &self.splits.train;
        Nb201NetConfig {
            channels: trial
                .fidelity
                .width
                .map_or(self.config.channels, |w| w as usize),
            cells_per_stage: self.config.cells_per_stage,
            input: [t.channels, t.height, t.width],
            classes: t.classes,
        }
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
        ]
    }

    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let arch = Architecture::decode(self.space.as_ref(), &trial.genotype)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        let device = nas_space::nn::device(&self.config.backend)
            .map_err(|e| EvalError::Fatal(e.to_string()))?;
        let epochs = trial.fidelity.epochs.unwrap_or(self.config.epochs);
        let net = self.net_config(trial);
        // The trial's width (NB201) or its genotype (chain CNN, MLP) sets the size.
        let batch = self.config.batch_size.min(self.splits.train.len());
        check_memory(
            &format!(
                "a training step of {} (batch {batch})",
                self.space.render(&trial.genotype)
            ),
            training_memory(&arch, &net, batch),
            &memory_limit(),
            "the trial's width or the space's widths, or `batch_size`",
        )
        .map_err(EvalError::Failed)?;
        let fraction = trial
            .fidelity
            .data_fraction
            .unwrap_or(self.config.data_fraction);
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(EvalError::Failed(format!(
                "data fraction {fraction} is not in (0, 1]"
            )));
        }
        let out = fit(
            &arch,
            &net,
            &self.config,
            &self.splits,
            epochs,
            fraction,
            trial.seed,
            &device,
            reporter,
        )?;
        let cost = arch.cost(&net);
        let mut m = Metrics::with_capacity(9);
        m.set("valid_acc", out.valid_acc);
        m.set("valid_loss", out.valid_loss);
        m.set("test_acc", out.test_acc);
        m.set("train_loss", out.train_loss);
        m.set("params_m", out.params as f64 / 1e6);
        m.set("flops_m", cost.flops_m());
        m.set("latency_ms", out.latency_ms);
        m.set(SIMULATED_SECONDS, out.train_seconds);
        m.set("epochs", epochs as f64);
        Ok(m)
    }
}
