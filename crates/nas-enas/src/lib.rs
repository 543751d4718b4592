//! ENAS (Pham et al. 2018), a one-shot search on any space that registers a
//! weight-sharing supernet ([`nas_nn::supernet`]; NB201's is `nas_space::nn::Nb201Supernet`).
//!
//! One supernet holds every candidate op of every choice with shared weights. Each epoch (a) trains the shared weights with SGD, one cell
//! sampled from the controller per minibatch, then (b) trains the controller (the
//! [`Reinforce`](nas_rl::Reinforce) LSTM) with REINFORCE on the validation accuracy of
//! sampled cells under those weights. At the end the controller's greedy cell and
//! `derive_samples - 1` samples are scored under the shared weights, and the distinct
//! ones go to the experiment's evaluator best first, as many as the budget's trials: the
//! final evaluation is an ordinary black-box run of a [`Derived`] strategy, so it is
//! journaled, resumable and reported like any search.
//!
//! Resuming: after each epoch the search phase saves its whole state (shared weights,
//! SGD velocities, controller, generators, counters) in the journal's blob [`PHASE_KEY`],
//! and a search interrupted during the phase continues after the last saved epoch, to the
//! same result as an uninterrupted run (only the wall time differs). Once the first final
//! trial is journaled, the phase's outcome is part of the journal's checkpoint and the
//! phase is not run again at all.

mod checkpoint;
mod config;
mod derived;
mod phase;

pub use checkpoint::PHASE_KEY;

pub use config::EnasConfig;
pub use derived::Derived;
pub use phase::{
    Candidate, ControllerEpoch, ControllerTrajectory, PhaseOutcome, SearchCost, SupernetSearch,
    TrainedSupernet,
};

use nas_core::config::Budget;
use nas_core::journal::{Journal, JournalState};
use nas_core::registry::{ConfigError, OneShotConfig, OneShotContext};
use nas_core::search::{Observer, Search, SearchError, SearchReport};
use nas_core::{SearchSpace, Strategy};
use std::sync::Arc;

impl OneShotConfig for EnasConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build_search(&self, ctx: OneShotContext) -> Result<Box<dyn Search>, ConfigError> {
        Ok(Box::new(EnasSearch {
            phase: SupernetSearch::new(self, Arc::clone(&ctx.space))?,
            ctx,
        }))
    }
}

nas_core::register!(
    dyn OneShotConfig,
    EnasConfig,
    "enas",
    "ENAS (one-shot): a space's weight-sharing supernet and an LSTM controller."
);

/// The ENAS search of an experiment.
#[derive(Debug)]
pub struct EnasSearch {
    pub phase: SupernetSearch,
    pub ctx: OneShotContext,
}

impl Search for EnasSearch {
    fn space(&self) -> &Arc<dyn SearchSpace> {
        &self.ctx.space
    }

    fn run(
        &mut self,
        budget: &Budget,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
    ) -> Result<SearchReport, SearchError> {
        let done = resume.as_ref().and_then(|s| s.checkpoint.clone());
        let derived = match done {
            Some(checkpoint) => {
                let mut d = Derived {
                    phase: self.phase_placeholder(),
                    next: 0,
                };
                d.restore(checkpoint)
                    .map_err(|e| SearchError::Resume(e.to_string()))?;
                observer.on_message("enas: search phase restored from the journal");
                d
            }
            None => {
                let (phase, _) =
                    self.phase
                        .run_journaled(self.ctx.strategy_seed, journal, &mut |m| {
                            observer.on_message(m)
                        })?;
                let cost = &phase.cost;
                observer.on_message(&format!(
                    "enas: search phase done in {:.1} s: {} shared-weight steps, {} controller \
                     steps, {} distinct derived cells; best under shared weights {} ({:.1}%)",
                    cost.wall_seconds,
                    cost.shared_steps,
                    cost.controller_steps,
                    phase.candidates.len(),
                    phase
                        .candidates
                        .first()
                        .map_or_else(String::new, |c| self.ctx.space.render(&c.genotype)),
                    phase
                        .candidates
                        .first()
                        .map_or(f64::NAN, |c| c.supernet_acc),
                ));
                Derived { phase, next: 0 }
            }
        };
        let mut final_evaluation = self.ctx.final_evaluation(Box::new(derived));
        final_evaluation.run(budget, journal, observer, resume)
    }
}

impl EnasSearch {
    /// An empty outcome, overwritten by a restored checkpoint.
    fn phase_placeholder(&self) -> PhaseOutcome {
        PhaseOutcome {
            candidates: Vec::new(),
            greedy: nas_core::Genotype(Vec::new()),
            cost: SearchCost::default(),
            last_shared_loss: f64::NAN,
            controller: None,
        }
    }
}
