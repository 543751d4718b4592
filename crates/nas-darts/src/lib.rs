//! DARTS (Liu et al. 2019) and its variants, gradient-based one-shot searches on any space
//! that registers a relaxed supernet ([`nas_nn::relaxed`]; NB201's mixes the five ops of each edge).
//!
//! Each candidate op of each choice runs, weighted by the softmax of its row of the
//! architecture weights alpha. Per minibatch, (a) alpha takes an Adam step on the
//! validation loss (first order: the gradient at the current weights), then (b) the
//! supernet's weights take an SGD step on the training loss with alpha held fixed. The
//! derived architecture (NB201: each edge's strongest op) goes to the experiment's
//! evaluator as a trial: the final evaluation is an ordinary black-box run of a
//! [`Derived`] strategy, journaled and resumable like any search. Alpha's trajectory, per
//! epoch, is in that strategy's checkpoint, so the journal holds it.
//!
//! Resuming: after each epoch the search phase saves its whole state (weights, SGD
//! velocities, alpha and its Adam state, generators, trajectory, counters) in the
//! journal's blob [`PHASE_KEY`], and a search interrupted during the phase continues after
//! the last saved epoch, to the same result as an uninterrupted run.
//!
//! Three methods share this crate and their config ([`DartsConfig`]): `darts`, `gdas`
//! (one op per edge sampled by Gumbel-softmax, straight-through; Dong & Yang 2019) and
//! `beta-darts` (DARTS with Beta-Decay regularization; Ye et al. 2022), the
//! collapse-resistant variant: it is one term on alpha's loss, keeps the relaxation as
//! it is, and reported NB201's optimum region on CIFAR-10.
//!
//! Second order (`order = 2`): alpha's gradient at the weights unrolled one SGD step on
//! the training batch, less the paper's finite-difference Hessian-vector term
//! ([`hessian_vector_product`]).

mod adam;
mod checkpoint;
mod config;
mod derived;
mod hessian;
mod phase;

pub use adam::Adam;
pub use checkpoint::PHASE_KEY;
pub use config::{BetaDartsConfig, DartsConfig, GdasConfig, Relaxation};
pub use derived::Derived;
pub use hessian::hessian_vector_product;
pub use phase::{DartsCost, DartsOutcome, EpochRecord, RelaxedSearch, row_softmax};

use nas_core::SearchSpace;
use nas_core::config::Budget;
use nas_core::journal::{Journal, JournalState};
use nas_core::registry::{ConfigError, OneShotConfig, OneShotContext};
use nas_core::search::{Observer, Search, SearchError, SearchReport};
use std::sync::Arc;

/// Builds the search of the method `name` from its config.
fn build(
    name: &'static str,
    config: &DartsConfig,
    ctx: OneShotContext,
) -> Result<Box<dyn Search>, ConfigError> {
    Ok(Box::new(DartsSearch {
        phase: RelaxedSearch::new(name, config, Arc::clone(&ctx.space))?,
        ctx,
    }))
}

impl OneShotConfig for DartsConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build_search(&self, ctx: OneShotContext) -> Result<Box<dyn Search>, ConfigError> {
        build(config::NAME, self, ctx)
    }
}

impl OneShotConfig for BetaDartsConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build_search(&self, ctx: OneShotContext) -> Result<Box<dyn Search>, ConfigError> {
        build(config::BETA_NAME, &self.0, ctx)
    }
}

impl OneShotConfig for GdasConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        &nas_data::TRAINING_KNOBS
    }

    fn build_search(&self, ctx: OneShotContext) -> Result<Box<dyn Search>, ConfigError> {
        build(config::GDAS_NAME, &self.0, ctx)
    }
}

nas_core::register!(
    dyn OneShotConfig,
    DartsConfig,
    "darts",
    "DARTS (one-shot, gradient-based): a space's relaxed supernet, weights and architecture trained by bilevel descent (first or second order)."
);

nas_core::register!(
    dyn OneShotConfig,
    BetaDartsConfig,
    "beta-darts",
    "beta-DARTS: DARTS with Beta-Decay regularization of alpha, against the collapse onto parameter-free ops."
);

nas_core::register!(
    dyn OneShotConfig,
    GdasConfig,
    "gdas",
    "GDAS: one op per edge sampled by Gumbel-softmax, straight-through gradients to alpha."
);

/// The DARTS search of an experiment.
#[derive(Debug)]
pub struct DartsSearch {
    pub phase: RelaxedSearch,
    pub ctx: OneShotContext,
}

impl Search for DartsSearch {
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
                let d: Derived = nas_core::strategy::from_checkpoint(checkpoint)
                    .map_err(|e| SearchError::Resume(e.to_string()))?;
                observer.on_message(&format!(
                    "{}: search phase restored from the journal",
                    self.phase.name
                ));
                d
            }
            None => {
                let phase =
                    self.phase
                        .run_journaled(self.ctx.strategy_seed, journal, &mut |m| {
                            observer.on_message(m)
                        })?;
                observer.on_message(&format!(
                    "{}: search phase done in {:.1} s: {} weight steps, {} architecture \
                     steps; derived {}",
                    self.phase.name,
                    phase.cost.wall_seconds,
                    phase.cost.weight_steps,
                    phase.cost.arch_steps,
                    self.ctx.space.render(&phase.genotype),
                ));
                Derived {
                    phase,
                    proposed: false,
                }
            }
        };
        let mut final_evaluation = self.ctx.final_evaluation(Box::new(derived));
        final_evaluation.run(budget, journal, observer, resume)
    }
}
