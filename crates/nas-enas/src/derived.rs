//! The final phase as a black-box strategy: it proposes the derived cells, best first, so
//! the runner hands them to the final evaluator and journals them like any trial.

use super::phase::PhaseOutcome;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{Checkpoint, Proposal, Strategy, StrategyError, TrialResult};
use serde::{Deserialize, Serialize};

/// Proposes the search phase's candidates in order, then nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Derived {
    /// The whole search phase outcome: the checkpoint keeps it, so a resumed search
    /// evaluates the remaining candidates without training the supernet again.
    pub phase: PhaseOutcome,
    /// Candidates proposed so far.
    pub next: usize,
}

impl Strategy for Derived {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let end = (self.next + n).min(self.phase.candidates.len());
        let out = self.phase.candidates[self.next..end]
            .iter()
            .map(|c| c.genotype.clone().into())
            .collect();
        self.next = end;
        out
    }

    fn tell(&mut self, _result: &TrialResult) {}

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(self)
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        *self = from_checkpoint(state)?;
        Ok(())
    }
}
