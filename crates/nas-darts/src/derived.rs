//! The final phase as a black-box strategy: it proposes the derived architecture, so the
//! runner hands it to the final evaluator and journals it like any trial.

use super::phase::DartsOutcome;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{Checkpoint, Proposal, Strategy, StrategyError, TrialResult};
use serde::{Deserialize, Serialize};

/// Proposes the search phase's derived architecture once, then nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Derived {
    /// The whole search phase outcome (alpha and its trajectory included): the checkpoint
    /// keeps it, so a resumed search does not train the supernet again, and the journal
    /// holds what the trade-off report plots.
    pub phase: DartsOutcome,
    pub proposed: bool,
}

impl Strategy for Derived {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        if n == 0 || self.proposed {
            return Vec::new();
        }
        self.proposed = true;
        vec![self.phase.genotype.clone().into()]
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
