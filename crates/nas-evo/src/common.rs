//! What the evolutionary strategies share: the record of proposed genotypes, the rule for
//! finding a genotype not proposed before, and scores that survive a checkpoint.

use nas_core::space::StableHasher;
use nas_core::{Genotype, Rng, SearchSpace};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// How many times a variation operator is retried for an unseen child before falling
/// back to a fresh random sample. A parent whose neighborhood is used up would otherwise
/// keep the search spinning.
pub(crate) const RETRIES: usize = 100;

/// A stable hash of a genotype: the same in every run and Rust version, so the sorted
/// list of them can be stored in a checkpoint. The same key as random search uses.
pub(crate) fn key(g: &Genotype) -> u64 {
    let mut h = StableHasher::default();
    g.hash(&mut h);
    h.finish()
}

/// A score as the strategies keep it: `None` for a failed or pruned trial or a missing
/// metric. JSON has no infinities, so a score of `-inf` is kept as `None` (it ranks the
/// same) and `+inf` as the largest finite number; a restored checkpoint then ranks every
/// member exactly as before.
pub(crate) fn clean(score: Option<f64>) -> Option<f64> {
    match score {
        Some(v) if v.is_nan() || v == f64::NEG_INFINITY => None,
        Some(v) if v == f64::INFINITY => Some(f64::MAX),
        other => other,
    }
}

/// The value a score is compared by: a failed trial is worse than any result.
pub(crate) fn rank(score: Option<f64>) -> f64 {
    score.unwrap_or(f64::NEG_INFINITY)
}

/// An evaluated genotype with its primary score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Member {
    pub genotype: Genotype,
    pub score: Option<f64>,
}

/// The genotypes proposed so far, by [`key`], so that no strategy evaluates one twice.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    keys: HashSet<u64>,
    /// The size of the space, when finite: how we know it is covered.
    size: Option<u128>,
}

impl Seen {
    pub fn new(space: &dyn SearchSpace) -> Self {
        Seen {
            keys: HashSet::new(),
            size: space.size(),
        }
    }

    /// Records `g`; `false` if it was proposed before.
    pub fn insert(&mut self, g: &Genotype) -> bool {
        self.keys.insert(key(g))
    }

    /// Every genotype of a finite space has been proposed.
    pub fn covered(&self) -> bool {
        self.size.is_some_and(|s| self.keys.len() as u128 >= s)
    }

    /// The keys in ascending order: a set's iteration order is not reproducible.
    pub fn sorted(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.keys.iter().copied().collect();
        keys.sort_unstable();
        keys
    }

    pub fn replace(&mut self, keys: Vec<u64>) {
        self.keys = keys.into_iter().collect();
    }

    /// A uniformly random genotype not proposed before, now recorded; `None` when the
    /// space is covered. Rejection sampling keeps it uniform over the unseen ones.
    pub fn fresh(&mut self, space: &dyn SearchSpace, rng: &mut Rng) -> Option<Genotype> {
        loop {
            if self.covered() {
                return None;
            }
            let g = space.sample(rng);
            if self.insert(&g) {
                return Some(g);
            }
        }
    }

    /// A genotype from `make` not proposed before, now recorded. After [`RETRIES`]
    /// duplicates, a fresh random sample instead; `None` when the space is covered.
    pub fn novel(
        &mut self,
        space: &dyn SearchSpace,
        rng: &mut Rng,
        mut make: impl FnMut(&mut Rng) -> Genotype,
    ) -> Option<Genotype> {
        if self.covered() {
            return None;
        }
        for _ in 0..RETRIES {
            let g = make(rng);
            if self.insert(&g) {
                return Some(g);
            }
        }
        self.fresh(space, rng)
    }
}
