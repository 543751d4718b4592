//! Random search: genotypes sampled uniformly from the space.

use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::space::StableHasher;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{Checkpoint, Proposal, Rng, Strategy, StrategyContext, StrategyError, TrialResult};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Config of the `random` strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSearchConfig {
    /// Never propose the same genotype twice (the search ends when the space is covered).
    /// Off, it samples with replacement, as the classic baseline does.
    #[serde(default = "yes")]
    pub unique: bool,
}

fn yes() -> bool {
    true
}

impl Default for RandomSearchConfig {
    fn default() -> Self {
        RandomSearchConfig { unique: true }
    }
}

impl StrategyConfig for RandomSearchConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(RandomSearch::new(self.clone(), ctx)))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    RandomSearchConfig,
    "random",
    "Random search: uniform samples from the space, the baseline of every comparison."
);

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    /// Hashes of the genotypes proposed so far (sorted in checkpoints), when `unique`.
    seen: Vec<u64>,
}

/// The random search strategy.
#[derive(Debug)]
pub struct RandomSearch {
    config: RandomSearchConfig,
    ctx: StrategyContext,
    rng: Rng,
    seen: HashSet<u64>,
    size: Option<u128>,
}

impl RandomSearch {
    pub fn new(config: RandomSearchConfig, ctx: StrategyContext) -> Self {
        let rng = ctx.rng();
        let size = ctx.space.size();
        RandomSearch {
            config,
            ctx,
            rng,
            seen: HashSet::new(),
            size,
        }
    }

    fn key(g: &nas_core::Genotype) -> u64 {
        let mut h = StableHasher::default();
        g.hash(&mut h);
        h.finish()
    }
}

impl Strategy for RandomSearch {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            if !self.config.unique {
                out.push(self.ctx.space.sample(&mut self.rng).into());
                continue;
            }
            if self.size.is_some_and(|s| self.seen.len() as u128 >= s) {
                break;
            }
            // Rejection sampling keeps the choice uniform over the unseen genotypes.
            loop {
                let g = self.ctx.space.sample(&mut self.rng);
                if self.seen.insert(Self::key(&g)) {
                    out.push(g.into());
                    break;
                }
            }
        }
        out
    }

    fn tell(&mut self, _result: &TrialResult) {}

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        let mut seen: Vec<u64> = self.seen.iter().copied().collect();
        seen.sort_unstable();
        to_checkpoint(&State {
            rng: self.rng.clone(),
            seen,
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        self.rng = state.rng;
        self.seen = state.seen.into_iter().collect();
        Ok(())
    }
}
