//! Random search: genotypes sampled uniformly from the space.

use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::seen::COVERED_AFTER_MISSES;
use nas_core::space::StableHasher;
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Genotype, Proposal, Rng, Seen, Strategy, StrategyContext, StrategyError,
    TrialResult,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// Config of the `random` strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSearchConfig {
    /// Never propose a genotype twice, nor one that computes the same function as an
    /// earlier one (an isomorphic cell); the search ends when the space is covered. Off,
    /// it samples with replacement, as the classic baseline does.
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
    /// Fingerprints of the functions proposed so far, sorted, when `unique`.
    #[serde(default)]
    functions: Vec<u64>,
    /// Only in checkpoints written before random search deduplicated by function: the
    /// raw genotype hashes it proposed (sorted), still never proposed again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<u64>,
}

/// The random search strategy.
///
/// With `unique`, a proposal is a uniform sample among the genotypes whose function was
/// not proposed before (rejection sampling, [`Seen::fresh`]): so no two proposals are
/// isomorphic, and an unseen function with many genotypes is still more likely than one
/// with a single genotype, as in plain random search.
#[derive(Debug)]
pub struct RandomSearch {
    config: RandomSearchConfig,
    ctx: StrategyContext,
    rng: Rng,
    seen: Seen,
    /// Genotype hashes from an old checkpoint (see [`State::seen`]).
    legacy: HashSet<u64>,
}

impl RandomSearch {
    pub fn new(config: RandomSearchConfig, ctx: StrategyContext) -> Self {
        RandomSearch {
            config,
            rng: ctx.rng(),
            seen: Seen::new(&ctx.space),
            legacy: HashSet::new(),
            ctx,
        }
    }

    /// The hash an old checkpoint kept of a genotype proposed before.
    fn legacy_key(g: &Genotype) -> u64 {
        let mut h = StableHasher::default();
        g.hash(&mut h);
        h.finish()
    }

    /// The next unique proposal; `None` when the space is covered.
    fn fresh(&mut self) -> Option<Genotype> {
        if self.legacy.is_empty() {
            return self.seen.fresh(&mut self.rng);
        }
        for _ in 0..COVERED_AFTER_MISSES {
            if self.seen.covered() {
                return None;
            }
            let g = self.ctx.space.sample(&mut self.rng);
            if self.legacy.contains(&Self::legacy_key(&g)) {
                // Proposed before the upgrade: its function is now recorded as proposed.
                self.seen.insert(&g);
            } else if self.seen.insert(&g) {
                return Some(g);
            }
        }
        None
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
            match self.fresh() {
                Some(g) => out.push(g.into()),
                // The space is covered.
                None => break,
            }
        }
        out
    }

    fn tell(&mut self, _result: &TrialResult) {}

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        let mut seen: Vec<u64> = self.legacy.iter().copied().collect();
        seen.sort_unstable();
        to_checkpoint(&State {
            rng: self.rng.clone(),
            functions: self.seen.sorted(),
            seen,
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        self.rng = state.rng;
        self.seen.replace(state.functions);
        self.legacy = state.seen.into_iter().collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nas_core::SearchSpace;
    use nas_core::testkit::*;
    use serde_json::json;
    use std::collections::BTreeSet;

    #[test]
    fn conformance() {
        check_strategy("random", json!({}));
        Conformance::new("random", json!({"unique": false}))
            .repeats_allowed()
            .run();
    }

    fn build(space: &std::sync::Arc<dyn SearchSpace>, seed: u64) -> RandomSearch {
        RandomSearch::new(
            RandomSearchConfig::default(),
            ctx(space.clone(), vec![acc()], seed),
        )
    }

    #[test]
    fn isomorphic_genotypes_are_proposed_once() {
        // 9 genotypes, 7 functions: deduplicating genotypes proposed 9.
        let space = twin_toy(2, 3);
        for seed in 0..10 {
            let mut s = build(&space, seed);
            let mut d = Driver::new(space.clone(), 2);
            assert!(d.run(&mut s, &onemax, 100));
            let functions: BTreeSet<_> = d.proposed.iter().map(|g| space.fingerprint(g)).collect();
            assert_eq!((d.proposed.len(), functions.len()), (7, 7), "seed {seed}");
        }
    }

    #[test]
    fn a_checkpoint_of_genotype_hashes_still_restores() {
        // The form written before deduplication by function: genotype hashes in `seen`.
        let space = twin_toy(2, 3);
        let old = [
            Genotype::from_indices([1, 1]),
            Genotype::from_indices([0, 2]),
        ];
        let mut hashes: Vec<u64> = old.iter().map(RandomSearch::legacy_key).collect();
        hashes.sort_unstable();
        for seed in 0..10 {
            let mut s = build(&space, seed);
            s.restore(json!({ "rng": nas_core::Rng::new(seed), "seen": hashes }))
                .unwrap();
            let mut d = Driver::new(space.clone(), 1);
            assert!(
                d.run(&mut s, &onemax, 100),
                "seed {seed}: the space is covered"
            );
            // The old genotypes are not proposed again. Their twins may be: a hash does
            // not say which function it was. Then the old one's function counts as
            // proposed, the twin is proposed once.
            assert!(
                d.proposed.iter().all(|g| !old.contains(g)),
                "seed {seed}: {:?}",
                d.proposed
            );
            assert!(
                (5..=6).contains(&d.proposed.len()),
                "seed {seed}: {:?}",
                d.proposed
            );
            // The old hashes stay in later checkpoints, beside the functions.
            let state = s.checkpoint().unwrap();
            assert_eq!(state["seen"], json!(hashes));
            assert_eq!(state["functions"].as_array().map(Vec::len), Some(7));
        }
    }
}
