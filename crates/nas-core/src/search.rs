//! Searches: what the CLI runs. A black-box search is a space, a strategy and an evaluator
//! driven by the [runner](crate::runner); one-shot methods (DARTS, ENAS) implement
//! [`Search`] directly and hand their derived genotype to the same evaluator, so both kinds
//! share journals and reports.

use crate::config::Budget;
use crate::journal::{Journal, JournalError, JournalState};
use crate::registry::ConfigError;
use crate::space::SearchSpace;
use crate::trial::{Objective, TrialResult};
use serde::Serialize;
use std::sync::Arc;

/// Why a search stopped before its budget, or could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("strategy proposed a genotype outside the space: {0}")]
    InvalidProposal(String),
    #[error("evaluation cannot go on: {0}")]
    Fatal(String),
    #[error("cannot resume: {0}")]
    Resume(String),
}

/// Why a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The budget is spent.
    Budget,
    /// The strategy had nothing more to propose (it covered the space, say).
    Exhausted,
}

/// Running totals of a search, shown while it runs and kept in the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub finished: u64,
    pub completed: u64,
    pub failed: u64,
    pub pruned: u64,
    pub simulated_seconds: f64,
    /// The best completed trial by the primary objective (first found wins ties).
    pub best: Option<TrialResult>,
}

impl Progress {
    /// Adds one finished trial.
    pub fn record(&mut self, result: &TrialResult, objectives: &[Objective]) {
        use crate::trial::Outcome;
        self.finished += 1;
        match &result.outcome {
            Outcome::Completed { .. } => self.completed += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Pruned { .. } => self.pruned += 1,
        }
        if let Some(s) = result
            .outcome
            .metrics()
            .and_then(|m| m.get(crate::evaluator::SIMULATED_SECONDS))
        {
            self.simulated_seconds += s;
        }
        let Some(objective) = objectives.first() else {
            return;
        };
        if let Some(score) = objective.score(&result.outcome) {
            let better = match &self.best {
                None => true,
                Some(best) => objective.score(&best.outcome).is_none_or(|b| score > b),
            };
            if better {
                self.best = Some(result.clone());
            }
        }
    }
}

/// What a finished search reports.
#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub progress: Progress,
    pub stop: StopReason,
    pub objectives: Vec<Objective>,
    /// Trials resumed from the journal rather than run by this process.
    pub resumed: u64,
    pub wall_seconds: f64,
    /// For several objectives, the non-dominated completed trials; empty otherwise.
    pub pareto_front: Vec<TrialResult>,
}

/// Watches a search run (progress bars, logs).
pub trait Observer {
    fn on_start(&mut self, _budget: &Budget, _progress: &Progress) {}
    fn on_result(&mut self, _result: &TrialResult, _progress: &Progress) {}
    /// A line about work that is not a trial: a one-shot method's supernet training, say.
    fn on_message(&mut self, _message: &str) {}
}

/// An observer that does nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Observer for Quiet {}

/// A search method as the CLI runs it.
pub trait Search: std::fmt::Debug {
    /// The space whose genotypes the search returns.
    fn space(&self) -> &Arc<dyn SearchSpace>;

    /// Runs until the budget is spent, continuing from `resume` when given.
    ///
    /// # Errors
    /// A journal that cannot be written, a strategy that proposes invalid genotypes, an
    /// evaluator that reports it cannot go on. Everything flushed before the error stays
    /// in the journal, so the search can be resumed.
    fn run(
        &mut self,
        budget: &Budget,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
    ) -> Result<SearchReport, SearchError>;

    /// The black-box search inside, for workers that share one experiment
    /// ([`crate::worker`]); `None` for a one-shot method, which trains one supernet in
    /// one process.
    fn as_black_box(&mut self) -> Option<&mut crate::runner::BlackBoxSearch> {
        None
    }
}
