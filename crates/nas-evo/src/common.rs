//! What the evolutionary strategies share: the record of proposed genotypes, the rule for
//! finding a genotype not proposed before, and scores that survive a checkpoint.

use nas_core::{Genotype, Rng, SearchSpace};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// How many times a variation operator is retried for an unseen child before falling
/// back to a fresh random sample. A parent whose neighborhood is used up would otherwise
/// keep the search spinning.
pub(crate) const RETRIES: usize = 100;

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

/// Random samples in a row that may all hit functions proposed before until the space
/// counts as covered. Fingerprints merge isomorphic genotypes, so the number of distinct
/// functions is below the space's size and unknown in general; on NAS-Bench-201 (8,765
/// functions among 15,625 cells) the chance that an unseen function is still there after
/// this many misses is under 0.2%.
const COVERED_AFTER_MISSES: usize = 100_000;

/// The functions proposed so far, by the space's [`fingerprint`](SearchSpace::fingerprint),
/// so that no strategy evaluates a genotype, or one isomorphic to it, twice. Stable
/// fingerprints let the sorted list of them be stored in a checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    keys: HashSet<u64>,
    space: Arc<dyn SearchSpace>,
    /// The size of the space, when finite: a bound on what can be proposed.
    size: Option<u128>,
}

impl Seen {
    pub fn new(space: &Arc<dyn SearchSpace>) -> Self {
        Seen {
            keys: HashSet::new(),
            space: Arc::clone(space),
            size: space.size(),
        }
    }

    /// Records `g`; `false` if it (or a genotype computing the same function) was
    /// proposed before.
    pub fn insert(&mut self, g: &Genotype) -> bool {
        self.keys.insert(self.space.fingerprint(g).0)
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
        for _ in 0..COVERED_AFTER_MISSES {
            if self.covered() {
                return None;
            }
            let g = space.sample(rng);
            if self.insert(&g) {
                return Some(g);
            }
        }
        None
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
