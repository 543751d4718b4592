//! A strategy written outside the framework: "mutate the best so far" (a (1+1) evolution
//! strategy). Everything a third party needs is here: a config, the strategy, and one
//! `register!` line. Linking this crate into a `nas` binary (see `main.rs`) makes
//! `nas search --strategy mutate-best` work.

use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Genotype, Proposal, Rng, Strategy, StrategyContext, StrategyError, TrialResult,
};
use serde::{Deserialize, Serialize};

/// The config: how many random samples before mutating the best.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MutateBestConfig {
    pub warmup: usize,
}

impl Default for MutateBestConfig {
    fn default() -> Self {
        MutateBestConfig { warmup: 5 }
    }
}

impl StrategyConfig for MutateBestConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        if self.warmup == 0 {
            return Err(ConfigError::field(
                "mutate-best",
                "warmup",
                "must be at least 1",
            ));
        }
        Ok(Box::new(MutateBest {
            warmup: self.warmup,
            state: State {
                rng: ctx.rng(),
                asked: 0,
                best: None,
            },
            ctx,
        }))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    MutateBestConfig,
    "mutate-best",
    "Example plugin: random warm-up, then mutate the best genotype so far."
);

#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    asked: usize,
    best: Option<(Genotype, f64)>,
}

#[derive(Debug)]
struct MutateBest {
    ctx: StrategyContext,
    warmup: usize,
    state: State,
}

impl Strategy for MutateBest {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        (0..n)
            .map(|_| {
                self.state.asked += 1;
                match &self.state.best {
                    Some((g, _)) if self.state.asked > self.warmup => {
                        self.ctx.space.mutate(g, &mut self.state.rng).into()
                    }
                    _ => self.ctx.space.sample(&mut self.state.rng).into(),
                }
            })
            .collect()
    }

    fn tell(&mut self, result: &TrialResult) {
        if let Some(score) = self.ctx.score(result) {
            if self.state.best.as_ref().is_none_or(|(_, b)| score > *b) {
                self.state.best = Some((result.trial.genotype.clone(), score));
            }
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&self.state)
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        self.state = from_checkpoint(state)?;
        Ok(())
    }
}
