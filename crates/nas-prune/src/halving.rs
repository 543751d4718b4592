//! Successive halving, asynchronous (Li et al. 2020, ASHA): rungs at steps `min_step *
//! eta^k`. When a trial reaches a rung (its first report at or past the rung's step), it
//! goes on only if its score there is in the top `1/eta` of the scores every trial had
//! on reaching that rung at the same step (at least the best one goes on); otherwise it
//! stops. Trials are never held back waiting for others, so workers never idle.

use nas_core::pruner::{Pruner, PrunerConfig, Reports};
use nas_core::registry::ConfigError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Config of the `successive-halving` pruner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SuccessiveHalvingConfig {
    /// The first rung's step.
    pub min_step: u32,
    /// `eta`: each rung keeps one trial in this many.
    pub reduction_factor: u32,
}

impl Default for SuccessiveHalvingConfig {
    fn default() -> Self {
        SuccessiveHalvingConfig {
            min_step: 1,
            reduction_factor: 3,
        }
    }
}

/// Checks the two fields under `plugin`'s name.
pub(crate) fn check(plugin: &str, min_step: u32, eta: u32) -> Result<(), ConfigError> {
    if min_step == 0 {
        return Err(ConfigError::field(plugin, "min_step", "must be at least 1"));
    }
    if eta < 2 {
        return Err(ConfigError::field(
            plugin,
            "reduction_factor",
            "must be at least 2",
        ));
    }
    Ok(())
}

impl PrunerConfig for SuccessiveHalvingConfig {
    fn build(&self) -> Result<Arc<dyn Pruner>, ConfigError> {
        check("successive-halving", self.min_step, self.reduction_factor)?;
        Ok(Arc::new(self.clone()))
    }
}

nas_core::register!(
    dyn PrunerConfig,
    SuccessiveHalvingConfig,
    "successive-halving",
    "Successive halving (asynchronous, ASHA): at rungs min_step * eta^k only the top 1/eta go on."
);

/// The rung of `step`: the largest `k` with `min_step * eta^k <= step`, if any.
pub(crate) fn rung(step: u32, min_step: u32, eta: u32) -> Option<u32> {
    let (mut k, mut at) = (None, min_step as u64);
    let mut i = 0;
    while at <= step as u64 {
        k = Some(i);
        at *= eta as u64;
        i += 1;
    }
    k
}

/// ASHA's decision for `trial` at `step` among the trials `competes` admits.
pub(crate) fn halve(
    trial: u64,
    step: u32,
    reports: &Reports,
    min_step: u32,
    eta: u32,
    competes: &dyn Fn(u64) -> bool,
) -> bool {
    let Some(k) = rung(step, min_step, eta) else {
        return false;
    };
    // Only the first report in a rung decides; the others run on to the next rung.
    if let Some(previous) = reports.previous_step(trial, step)
        && rung(previous, min_step, eta) == Some(k)
    {
        return false;
    }
    let Some(score) = reports.score(trial, step) else {
        return false;
    };
    let mut competing: Vec<f64> = reports
        .at(step)
        .filter(|(t, _)| competes(*t))
        .map(|(_, s)| s)
        .collect();
    competing.sort_by(|a, b| b.total_cmp(a));
    let keep = (competing.len() / eta as usize).max(1);
    score < competing[keep - 1]
}

impl Pruner for SuccessiveHalvingConfig {
    fn prune(&self, trial: u64, step: u32, reports: &Reports) -> bool {
        halve(
            trial,
            step,
            reports,
            self.min_step,
            self.reduction_factor,
            &|_| true,
        )
    }
}
