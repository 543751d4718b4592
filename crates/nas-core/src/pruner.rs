//! Pruners: a plugin kind that stops trials early from their intermediate reports
//! (multi-fidelity search). Any evaluator that reports as it goes (the training
//! evaluator each epoch, the tabular one at 12 epochs before 200) and any strategy work
//! with any pruner: the runner hands the reports to the pruner, and a trial it stops
//! ends as [`Outcome::Pruned`](crate::trial::Outcome::Pruned) with the step (rung) it
//! reached, journaled and told to the strategy like any result.
//!
//! The pruner watches the experiment's first objective. Its decisions depend on the
//! order reports arrive in: with one worker a search is as reproducible as without a
//! pruner; with several, which trials are stopped depends on timing.

use crate::registry::ConfigError;
use crate::trial::{Goal, Metrics, Objective, TrialResult};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Every trial's intermediate scores, by step. Scores are larger-is-better: a minimized
/// metric is negated, so pruners need not know the goal.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    by_step: BTreeMap<u32, BTreeMap<u64, f64>>,
}

impl Reports {
    /// Records `trial`'s score at `step` (a second report at the same step replaces it).
    pub fn record(&mut self, trial: u64, step: u32, score: f64) {
        self.by_step.entry(step).or_default().insert(trial, score);
    }

    /// The scores recorded at `step`, by trial.
    pub fn at(&self, step: u32) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.by_step
            .get(&step)
            .into_iter()
            .flat_map(|m| m.iter().map(|(t, s)| (*t, *s)))
    }

    /// The last step before `step` at which `trial` reported.
    pub fn previous_step(&self, trial: u64, step: u32) -> Option<u32> {
        self.by_step
            .range(..step)
            .rev()
            .find(|(_, m)| m.contains_key(&trial))
            .map(|(s, _)| *s)
    }

    /// `trial`'s score at `step`, if it reported one.
    pub fn score(&self, trial: u64, step: u32) -> Option<f64> {
        self.by_step.get(&step)?.get(&trial).copied()
    }
}

/// Decides whether a trial stops after a report.
pub trait Pruner: Send + Sync + fmt::Debug {
    /// Whether `trial`, whose score at `step` is already in `reports` with every other
    /// report so far, stops now.
    fn prune(&self, trial: u64, step: u32, reports: &Reports) -> bool;
}

/// Config of a pruner plugin.
pub trait PrunerConfig: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// # Errors
    /// A field out of range.
    fn build(&self) -> Result<Arc<dyn Pruner>, ConfigError>;
}

/// A pruner at work in one search: the metric it watches and the reports so far, shared
/// by the threads that evaluate trials.
#[derive(Debug)]
pub struct Pruning {
    pruner: Arc<dyn Pruner>,
    objective: Objective,
    reports: Mutex<Reports>,
}

impl Pruning {
    pub fn new(pruner: Arc<dyn Pruner>, objective: Objective) -> Self {
        Pruning {
            pruner,
            objective,
            reports: Mutex::new(Reports::default()),
        }
    }

    fn score(&self, metrics: &Metrics) -> Option<f64> {
        let v = metrics
            .get(&self.objective.metric)
            .filter(|v| v.is_finite())?;
        Some(match self.objective.goal {
            Goal::Maximize => v,
            Goal::Minimize => -v,
        })
    }

    /// Records a report of `trial` and says whether it stops. A report without the
    /// watched metric is recorded nowhere and never stops the trial.
    pub fn report(&self, trial: u64, step: u32, metrics: &Metrics) -> bool {
        let Some(score) = self.score(metrics) else {
            return false;
        };
        let Ok(mut reports) = self.reports.lock() else {
            return false;
        };
        reports.record(trial, step, score);
        self.pruner.prune(trial, step, &reports)
    }

    /// Records the reports of trials finished before a resume, without deciding
    /// anything: the pruner then sees what it saw before the interruption.
    pub fn replay(&self, finished: &[TrialResult]) {
        let Ok(mut reports) = self.reports.lock() else {
            return;
        };
        for r in finished {
            for (i, m) in r.intermediate.iter().enumerate() {
                if let Some(score) = self.score(m) {
                    let step = m.get("step").map_or(i as u32 + 1, |s| s as u32);
                    reports.record(r.trial.id, step, score);
                }
            }
        }
    }
}
