//! The `darts` config: the supernet's shape and training, the architecture weights' Adam.

use nas_core::registry::ConfigError;
use nas_data::DataConfig;
use nas_nn::{OptimizerKind, Recipe};
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "darts";

/// Config of the `darts` one-shot search (first order: the architecture gradient is taken
/// at the current weights, without the unrolled step of second-order DARTS).
///
/// The defaults train the supernet on the embedded digits at C = 8, one cell a stage: a
/// test-sized search, not a result. A real search raises `epochs` and picks a data set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DartsConfig {
    /// A registered backend (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// The weights train on the training split, the architecture weights on the
    /// validation split. The final evaluator reads its own data.
    pub data: DataConfig,
    /// Width (`C`) and depth (cells per stage, `N`) of the supernet.
    pub channels: usize,
    pub cells_per_stage: usize,
    /// Epochs over the training split; each step takes one training and one validation
    /// batch.
    pub epochs: u32,
    pub batch_size: usize,
    /// Share of the training split the weights see.
    pub data_fraction: f64,
    /// Peak SGD learning rate of the weights (cosine schedule to zero), momentum, decay.
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Adam on the architecture weights (betas 0.5 and 0.999, as the paper's).
    pub arch_learning_rate: f64,
    pub arch_weight_decay: f64,
}

impl Default for DartsConfig {
    fn default() -> Self {
        DartsConfig {
            backend: "flex".into(),
            data: DataConfig::default(),
            channels: 8,
            cells_per_stage: 1,
            epochs: 10,
            batch_size: 64,
            data_fraction: 1.0,
            learning_rate: 0.025,
            momentum: 0.9,
            weight_decay: 3e-4,
            arch_learning_rate: 3e-4,
            arch_weight_decay: 1e-3,
        }
    }
}

impl DartsConfig {
    /// The weights' training recipe (SGD).
    pub fn weights_recipe(&self) -> Recipe {
        Recipe {
            batch_size: self.batch_size,
            optimizer: OptimizerKind::Sgd,
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
        }
    }

    /// # Errors
    /// The first field out of its range, named.
    pub fn check(&self) -> Result<(), ConfigError> {
        nas_nn::check_training(
            NAME,
            self.epochs,
            &self.weights_recipe(),
            [self.channels, self.cells_per_stage],
            self.data_fraction,
        )?;
        let field = |f: &str, why: &str| Err(ConfigError::field(NAME, f, why));
        if !(self.arch_learning_rate.is_finite() && self.arch_learning_rate > 0.0) {
            return field("arch_learning_rate", "must be a positive number");
        }
        if !(self.arch_weight_decay.is_finite() && self.arch_weight_decay >= 0.0) {
            return field("arch_weight_decay", "must be zero or positive");
        }
        Ok(())
    }
}
