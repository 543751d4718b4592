//! The `darts` config: the supernet's shape and training, the architecture weights' Adam.

use nas_core::registry::ConfigError;
use nas_data::DataConfig;
use nas_nn::{OptimizerKind, Recipe};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

pub(crate) const NAME: &str = "darts";
pub(crate) const BETA_NAME: &str = "beta-darts";
pub(crate) const GDAS_NAME: &str = "gdas";

/// How the architecture weights choose among the candidates in a forward pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type", deny_unknown_fields)]
pub enum Relaxation {
    /// DARTS: every candidate runs, weighted by the softmax of its row of alpha.
    Softmax,
    /// GDAS (Dong & Yang 2019): one candidate per choice runs, drawn by Gumbel-softmax at
    /// temperature tau (from `tau_max` at the first epoch to `tau_min` at the last,
    /// linearly), with straight-through weights; a new draw for every forward pass.
    Gumbel { tau_max: f64, tau_min: f64 },
}

/// Config of the gradient-based one-shot searches `darts`, `beta-darts` and `gdas` (first
/// order by default; see `order`). The three names differ in their defaults and in what
/// they accept: `darts` mixes by softmax without regularization, `beta-darts`
/// adds the Beta-Decay regularization, `gdas` samples by Gumbel-softmax.
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
    pub relaxation: Relaxation,
    /// 1: alpha's gradient at the current weights (first-order DARTS). 2: at the weights
    /// unrolled one SGD step on the training batch, less the finite-difference Hessian
    /// term (second-order DARTS; three more forward and backward passes per step).
    /// Softmax relaxations only.
    pub order: u8,
    /// Beta-Decay regularization (Ye et al. 2022, beta-DARTS): its weight on the mean over
    /// choices of `logsumexp` of alpha's row, added to the validation loss, grows linearly
    /// over the epochs to this value (reached at the last epoch). It keeps alpha's rows
    /// from peaking early, which is how DARTS collapses onto parameter-free ops. 0: off.
    pub beta_decay: f64,
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
            relaxation: Relaxation::Softmax,
            order: 1,
            beta_decay: 0.0,
        }
    }
}

/// Reads a config given as a table over `defaults`: the table's fields replace the
/// defaults', the others keep them. (`#[serde(default)]` would fill them from
/// [`DartsConfig`]'s defaults, which are DARTS's, not GDAS's or beta-DARTS's.)
fn over_defaults<'de, D: Deserializer<'de>>(
    deserializer: D,
    defaults: DartsConfig,
) -> Result<DartsConfig, D::Error> {
    let given = serde_json::Value::deserialize(deserializer)?;
    let serde_json::Value::Object(given) = given else {
        return Err(D::Error::custom("expected a table of fields"));
    };
    let mut value = serde_json::to_value(defaults).map_err(D::Error::custom)?;
    if let serde_json::Value::Object(fields) = &mut value {
        fields.extend(given);
    }
    DartsConfig::deserialize(value).map_err(D::Error::custom)
}

/// The `beta-darts` config: a [`DartsConfig`] whose Beta-Decay weight is on.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct BetaDartsConfig(pub DartsConfig);

impl<'de> Deserialize<'de> for BetaDartsConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        over_defaults(d, BetaDartsConfig::default().0).map(BetaDartsConfig)
    }
}

impl Default for BetaDartsConfig {
    /// Our choice of the final weight (1, reached at the last epoch): on NB201's
    /// cross-entropy it is of the order of the loss's own alpha gradient without
    /// swamping it.
    fn default() -> Self {
        BetaDartsConfig(DartsConfig {
            beta_decay: 1.0,
            ..DartsConfig::default()
        })
    }
}

/// The `gdas` config: a [`DartsConfig`] that samples by Gumbel-softmax.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct GdasConfig(pub DartsConfig);

impl<'de> Deserialize<'de> for GdasConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        over_defaults(d, GdasConfig::default().0).map(GdasConfig)
    }
}

impl Default for GdasConfig {
    /// GDAS's temperatures on NAS-Bench-201: 10 down to 0.1.
    fn default() -> Self {
        GdasConfig(DartsConfig {
            relaxation: Relaxation::Gumbel {
                tau_max: 10.0,
                tau_min: 0.1,
            },
            ..DartsConfig::default()
        })
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

    /// Checks the config as the method `name` (`darts`, `beta-darts` or `gdas`) takes it.
    ///
    /// # Errors
    /// The first field out of its range, named, or a relaxation or regularization that
    /// belongs to another of the three names (which one it is said).
    pub fn check(&self, name: &str) -> Result<(), ConfigError> {
        nas_nn::check_training(
            name,
            self.epochs,
            &self.weights_recipe(),
            [self.channels, self.cells_per_stage],
            self.data_fraction,
        )?;
        let field = |f: &str, why: &str| Err(ConfigError::field(name, f, why));
        if !(self.beta_decay.is_finite() && self.beta_decay >= 0.0) {
            return field("beta_decay", "must be zero or positive");
        }
        let gumbel = match self.relaxation {
            Relaxation::Softmax => false,
            Relaxation::Gumbel { tau_max, tau_min } => {
                if !(tau_min.is_finite()
                    && tau_min > 0.0
                    && tau_max.is_finite()
                    && tau_max >= tau_min)
                {
                    return field("relaxation", "needs 0 < tau_min <= tau_max, both finite");
                }
                true
            }
        };
        if !(self.order == 1 || self.order == 2) {
            return field("order", "must be 1 or 2");
        }
        if gumbel && self.order == 2 {
            return field(
                "order",
                "GDAS is first order: its sampled weights have no unrolled step",
            );
        }
        match (name, gumbel, self.beta_decay > 0.0) {
            (NAME, false, false) | (BETA_NAME, false, true) | (GDAS_NAME, true, false) => {}
            (_, true, _) if name != GDAS_NAME => {
                return field("relaxation", "Gumbel sampling is the method `gdas`");
            }
            (_, _, true) if name != BETA_NAME => {
                return field(
                    "beta_decay",
                    "Beta-Decay regularization is the method `beta-darts`",
                );
            }
            (BETA_NAME, _, false) => {
                return field("beta_decay", "must be positive for `beta-darts`");
            }
            _ => {
                return field(
                    "relaxation",
                    "`gdas` samples by Gumbel-softmax: `{ type = \"gumbel\", ... }`",
                );
            }
        }
        if !(self.arch_learning_rate.is_finite() && self.arch_learning_rate > 0.0) {
            return field("arch_learning_rate", "must be a positive number");
        }
        if !(self.arch_weight_decay.is_finite() && self.arch_weight_decay >= 0.0) {
            return field("arch_weight_decay", "must be zero or positive");
        }
        Ok(())
    }
}
