//! A strategy written outside the framework: "mutate the best so far" (a (1+1) evolution
//! strategy). Everything a third party needs is here: a config, the strategy, and one
//! `register!` line. Linking this crate into a `nas` binary (see `main.rs`) makes
//! `nas search --strategy mutate-best` work, and `tests/plugin.rs` runs the framework's
//! conformance suite on it in one line (`nas_core::testkit::check_strategy`).
//!
//! It keeps a [`Seen`], the record of the functions it proposed, so that it never
//! evaluates a genotype twice, nor one isomorphic to an earlier one, and stores it in its
//! checkpoint, so that a resumed search does not either.

use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Genotype, Proposal, Rng, Seen, Strategy, StrategyContext, StrategyError,
    TrialResult,
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
            seen: Seen::new(&ctx.space),
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

/// What `ask` and `tell` depend on besides the record of proposals.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    rng: Rng,
    asked: usize,
    best: Option<(Genotype, f64)>,
}

/// What a checkpoint holds: the state and the fingerprints of the proposals, sorted.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    #[serde(flatten)]
    state: State,
    seen: Vec<u64>,
}

#[derive(Debug)]
struct MutateBest {
    ctx: StrategyContext,
    warmup: usize,
    seen: Seen,
    state: State,
}

impl Strategy for MutateBest {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let rng = &mut self.state.rng;
            let g = match &self.state.best {
                Some((best, _)) if self.state.asked >= self.warmup => {
                    // A mutation not proposed before (a random unseen genotype when the
                    // best one's neighborhood is used up).
                    let space = &self.ctx.space;
                    self.seen.novel(rng, |rng| space.mutate(best, rng))
                }
                _ => self.seen.fresh(rng),
            };
            match g {
                Some(g) => {
                    self.state.asked += 1;
                    out.push(g.into());
                }
                // Every function of the space has been proposed.
                None => break,
            }
        }
        out
    }

    fn tell(&mut self, result: &TrialResult) {
        if let Some(score) = self.ctx.score(result)
            && self.state.best.as_ref().is_none_or(|(_, b)| score > *b)
        {
            self.state.best = Some((result.trial.genotype.clone(), score));
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&Saved {
            state: self.state.clone(),
            seen: self.seen.sorted(),
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let saved: Saved = from_checkpoint(state)?;
        self.state = saved.state;
        self.seen.replace(saved.seen);
        Ok(())
    }
}
