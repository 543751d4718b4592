//! Hyperband (Li et al. 2018), as Optuna runs it: several successive-halving brackets,
//! bracket `b` starting its rungs at `min_step * eta^b`, so some trials are pruned early
//! and others get the whole budget before any comparison; a trial's bracket is its id
//! modulo the number of brackets, and it competes only within its bracket.

use crate::halving::{check, halve};
use nas_core::pruner::{Pruner, PrunerConfig, Reports};
use nas_core::registry::ConfigError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Config of the `hyperband` pruner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HyperbandConfig {
    pub min_step: u32,
    /// The last step a trial reports (epochs of training; 200 on the tabular ladder).
    pub max_step: u32,
    pub reduction_factor: u32,
}

impl Default for HyperbandConfig {
    fn default() -> Self {
        HyperbandConfig {
            min_step: 1,
            max_step: 200,
            reduction_factor: 3,
        }
    }
}

impl HyperbandConfig {
    /// `floor(log_eta(max / min)) + 1` brackets.
    pub fn brackets(&self) -> u32 {
        let mut n = 1;
        let mut at = self.min_step as u64 * self.reduction_factor as u64;
        while at <= self.max_step as u64 {
            n += 1;
            at *= self.reduction_factor as u64;
        }
        n
    }
}

impl PrunerConfig for HyperbandConfig {
    fn build(&self) -> Result<Arc<dyn Pruner>, ConfigError> {
        check("hyperband", self.min_step, self.reduction_factor)?;
        if self.max_step < self.min_step {
            return Err(ConfigError::field(
                "hyperband",
                "max_step",
                format!("must be at least min_step ({})", self.min_step),
            ));
        }
        Ok(Arc::new(self.clone()))
    }
}

nas_core::register!(
    dyn PrunerConfig,
    HyperbandConfig,
    "hyperband",
    "Hyperband: successive-halving brackets from min_step * eta^b; a trial competes within its bracket."
);

impl Pruner for HyperbandConfig {
    fn prune(&self, trial: u64, step: u32, reports: &Reports) -> bool {
        let n = self.brackets() as u64;
        let bracket = trial % n;
        let first = (self.min_step as u64)
            .saturating_mul((self.reduction_factor as u64).saturating_pow(bracket as u32))
            .min(u32::MAX as u64) as u32;
        halve(trial, step, reports, first, self.reduction_factor, &|t| {
            t % n == bracket
        })
    }
}
