//! Median stopping (Golovin et al. 2017, Google Vizier): a trial stops at a step where
//! its score is below the median of the other trials' scores at that step.

use nas_core::pruner::{Pruner, PrunerConfig, Reports};
use nas_core::registry::ConfigError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Config of the `median` pruner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MedianConfig {
    /// Other trials that must have reported at a step before it prunes there.
    pub startup_trials: usize,
    /// Steps up to this one never prune (training is noisy at first).
    pub warmup_steps: u32,
}

impl Default for MedianConfig {
    fn default() -> Self {
        MedianConfig {
            startup_trials: 5,
            warmup_steps: 0,
        }
    }
}

impl PrunerConfig for MedianConfig {
    fn build(&self) -> Result<Arc<dyn Pruner>, ConfigError> {
        if self.startup_trials == 0 {
            return Err(ConfigError::field(
                "median",
                "startup_trials",
                "must be at least 1: the median of no trials",
            ));
        }
        Ok(Arc::new(self.clone()))
    }
}

nas_core::register!(
    dyn PrunerConfig,
    MedianConfig,
    "median",
    "Median stopping: a trial stops where it scores below the median of the others at the same step."
);

impl Pruner for MedianConfig {
    fn prune(&self, trial: u64, step: u32, reports: &Reports) -> bool {
        if step <= self.warmup_steps {
            return false;
        }
        let Some(score) = reports.score(trial, step) else {
            return false;
        };
        let mut others: Vec<f64> = reports
            .at(step)
            .filter(|(t, _)| *t != trial)
            .map(|(_, s)| s)
            .collect();
        if others.len() < self.startup_trials {
            return false;
        }
        others.sort_by(f64::total_cmp);
        let n = others.len();
        let median = if n % 2 == 1 {
            others[n / 2]
        } else {
            (others[n / 2 - 1] + others[n / 2]) / 2.0
        };
        score < median
    }
}
