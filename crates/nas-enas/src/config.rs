//! The `enas` config: the supernet's shape and training, the controller, the derivation.

use nas_core::registry::ConfigError;
use nas_data::DataConfig;
use nas_nn::{OptimizerKind, Recipe};
use nas_rl::ReinforceConfig;
use serde::{Deserialize, Serialize};

pub(crate) const NAME: &str = "enas";

/// Config of the `enas` one-shot search.
///
/// The defaults train the supernet in about the time the default black-box search trains
/// three cells (digits, C = 8, N = 1): enough for the tests and the README's run, not for
/// a result. A real search raises `epochs` and picks a data set (see the crate docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnasConfig {
    /// A registered backend (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// The data the shared weights train on (train split) and the controller is rewarded
    /// on (validation split). The final evaluator reads its own.
    pub data: DataConfig,
    /// Channels of the first stage (`C`) of the supernet.
    pub channels: usize,
    /// Cell positions per stage (`N`).
    pub cells_per_stage: usize,
    /// Epochs of shared-weight training; each is followed by `controller_steps` updates.
    pub epochs: u32,
    pub batch_size: usize,
    /// Share of the training split the shared weights see.
    pub data_fraction: f64,
    /// Peak SGD learning rate of the shared weights (cosine schedule to zero).
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Controller samples per epoch, each rewarded with its validation accuracy (%) under
    /// the shared weights on `reward_images` images drawn at random.
    pub controller_steps: usize,
    pub reward_images: usize,
    /// Cells sampled from the trained controller and scored under the shared weights on
    /// the first `derive_images` validation images; distinct ones go to the final
    /// evaluator best first (as many as the budget's trials).
    pub derive_samples: usize,
    pub derive_images: usize,
    /// The REINFORCE controller. ENAS samples with repetition: `unique` must be false.
    pub controller: ReinforceConfig,
}

impl Default for EnasConfig {
    fn default() -> Self {
        EnasConfig {
            backend: "flex".into(),
            data: DataConfig::default(),
            channels: 8,
            cells_per_stage: 1,
            epochs: 10,
            batch_size: 64,
            data_fraction: 1.0,
            learning_rate: 0.05,
            momentum: 0.9,
            weight_decay: 5e-4,
            controller_steps: 50,
            reward_images: 64,
            derive_samples: 100,
            derive_images: 256,
            controller: ReinforceConfig {
                unique: false,
                ..ReinforceConfig::default()
            },
        }
    }
}

impl EnasConfig {
    /// The shared weights' training recipe (SGD), to check it and to retrain a derived
    /// cell the same way.
    pub fn shared_weights(&self) -> Recipe {
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
            &self.shared_weights(),
            [self.channels, self.cells_per_stage],
            self.data_fraction,
        )?;
        let field = |f: &str, why: &str| Err(ConfigError::field(NAME, f, why));
        if self.reward_images == 0 {
            return field("reward_images", "must be at least 1");
        }
        if self.derive_samples == 0 {
            return field("derive_samples", "must be at least 1");
        }
        if self.derive_images == 0 {
            return field("derive_images", "must be at least 1");
        }
        if self.controller.unique {
            return field(
                "controller.unique",
                "must be false: ENAS samples cells with repetition",
            );
        }
        self.controller.check()
    }
}
