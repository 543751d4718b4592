//! The record of the functions a strategy has proposed, so that it never proposes a
//! genotype twice, nor one that computes the same function as an earlier one.
//!
//! Every built-in strategy keeps one; a third-party strategy should too: the conformance
//! kit ([`crate::testkit`]) fails a strategy that proposes two genotypes with the same
//! [`fingerprint`](SearchSpace::fingerprint) (isomorphic NAS-Bench-201 cells, say), unless
//! the strategy is told to sample with replacement.

use crate::rng::Rng;
use crate::space::{Genotype, SearchSpace};
use std::collections::HashSet;
use std::sync::Arc;

/// How many times [`Seen::novel`] retries its operator for an unseen child before falling
/// back to a fresh random sample. A parent whose neighborhood is used up would otherwise
/// keep the search spinning.
pub const RETRIES: usize = 100;

/// Random samples in a row that may all hit functions proposed before until the space
/// counts as covered. The number of distinct functions is known only when the space says
/// so ([`SearchSpace::distinct_functions`]); otherwise, on NAS-Bench-201 (8,765 functions
/// among 15,625 cells), the chance that an unseen function is still there after this many
/// misses is under 0.2%.
pub const COVERED_AFTER_MISSES: usize = 100_000;

/// The functions proposed so far, by the space's [`fingerprint`](SearchSpace::fingerprint).
///
/// A strategy records each proposal with [`insert`](Seen::insert) (or draws it with
/// [`fresh`](Seen::fresh) or [`novel`](Seen::novel), which record it) and stores
/// [`sorted`](Seen::sorted) in its checkpoint, giving it back to
/// [`replace`](Seen::replace) on restore. Fingerprints are stable across runs and Rust
/// versions, so the stored keys mean the same thing when a search resumes; they are
/// sorted because a set's iteration order is not reproducible.
///
/// What rejection sampling gives: [`SearchSpace::sample`] is uniform over genotypes, so
/// [`fresh`](Seen::fresh) is uniform over the unseen *genotypes*, and an unseen function
/// with `m` genotypes is `m` times as likely as one with a single genotype.
#[derive(Debug, Clone)]
pub struct Seen {
    keys: HashSet<u64>,
    space: Arc<dyn SearchSpace>,
    /// At most this many functions can be proposed, when known.
    bound: Option<u128>,
}

impl Seen {
    /// An empty record for `space`, bounded by its
    /// [`distinct_functions`](SearchSpace::distinct_functions).
    pub fn new(space: &Arc<dyn SearchSpace>) -> Self {
        Self::with_bound(space, space.distinct_functions())
    }

    /// An empty record that counts as covered once `bound` functions are recorded: for a
    /// strategy that proposes from a part of the space only (a controller over a grid of
    /// values, say), whose size it knows better than the space does.
    pub fn with_bound(space: &Arc<dyn SearchSpace>, bound: Option<u128>) -> Self {
        Seen {
            keys: HashSet::new(),
            space: Arc::clone(space),
            bound,
        }
    }

    /// The bound [`covered`](Seen::covered) compares with.
    pub fn bound(&self) -> Option<u128> {
        self.bound
    }

    /// How many functions are recorded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Nothing recorded yet.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `g`, or a genotype computing the same function, was recorded.
    pub fn contains(&self, g: &Genotype) -> bool {
        self.keys.contains(&self.space.fingerprint(g).0)
    }

    /// Records `g`; `false` if it (or a genotype computing the same function) was
    /// recorded before.
    pub fn insert(&mut self, g: &Genotype) -> bool {
        self.keys.insert(self.space.fingerprint(g).0)
    }

    /// Every function the bound allows has been recorded: nothing new is left to propose.
    /// `false` for an unbounded space, and for one whose count of functions is above the
    /// true one; [`fresh`](Seen::fresh) then gives up after [`COVERED_AFTER_MISSES`].
    pub fn covered(&self) -> bool {
        self.bound.is_some_and(|b| self.keys.len() as u128 >= b)
    }

    /// The recorded fingerprints in ascending order, for a checkpoint.
    pub fn sorted(&self) -> Vec<u64> {
        let mut keys: Vec<u64> = self.keys.iter().copied().collect();
        keys.sort_unstable();
        keys
    }

    /// Replaces the record with fingerprints from [`sorted`](Seen::sorted) (a restored
    /// checkpoint).
    pub fn replace(&mut self, keys: impl IntoIterator<Item = u64>) {
        self.keys = keys.into_iter().collect();
    }

    /// A random genotype whose function was not recorded, now recorded; `None` when the
    /// space is covered (or [`COVERED_AFTER_MISSES`] samples in a row were all seen).
    pub fn fresh(&mut self, rng: &mut Rng) -> Option<Genotype> {
        let space = Arc::clone(&self.space);
        self.fresh_from(rng, |rng| space.sample(rng))
    }

    /// Like [`fresh`](Seen::fresh), drawing candidates with `sample` instead of the
    /// space's [`sample`](SearchSpace::sample).
    pub fn fresh_from(
        &mut self,
        rng: &mut Rng,
        mut sample: impl FnMut(&mut Rng) -> Genotype,
    ) -> Option<Genotype> {
        for _ in 0..COVERED_AFTER_MISSES {
            if self.covered() {
                return None;
            }
            let g = sample(rng);
            if self.insert(&g) {
                return Some(g);
            }
        }
        None
    }

    /// A genotype from `make` (a mutation, a crossover) whose function was not recorded,
    /// now recorded. After [`RETRIES`] repeats, a [`fresh`](Seen::fresh) random sample
    /// instead; `None` when the space is covered.
    pub fn novel(
        &mut self,
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
        self.fresh(rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{toy, twin_toy};

    #[test]
    fn isomorphic_genotypes_are_one_function() {
        let space = twin_toy(3, 3);
        let mut seen = Seen::new(&space);
        // The first decision at 0 makes the others inert (3 decisions).
        assert!(seen.insert(&Genotype::from_indices([0, 1, 2])));
        assert!(!seen.insert(&Genotype::from_indices([0, 1, 0])));
        assert!(seen.contains(&Genotype::from_indices([0, 1, 1])));
        assert!(seen.insert(&Genotype::from_indices([1, 1, 0])));
        assert!(seen.insert(&Genotype::from_indices([1, 1, 2])));
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn fresh_covers_every_function_once_then_stops() {
        // 9 genotypes, 7 functions: a bound of 9 would never be reached.
        let space = twin_toy(2, 3);
        let mut seen = Seen::new(&space);
        assert_eq!(seen.bound(), Some(7));
        let mut rng = Rng::new(1);
        let mut drawn = Vec::new();
        while let Some(g) = seen.fresh(&mut rng) {
            drawn.push(space.fingerprint(&g));
        }
        drawn.sort();
        drawn.dedup();
        assert_eq!(drawn.len(), 7);
        assert!(seen.covered());
        assert_eq!(seen.novel(&mut rng, |_| unreachable!()), None);
    }

    #[test]
    fn an_unreachable_bound_gives_up_after_the_misses() {
        let space = toy(1, 2);
        let mut seen = Seen::with_bound(&space, Some(3));
        let mut rng = Rng::new(0);
        assert!(seen.fresh(&mut rng).is_some());
        assert!(seen.fresh(&mut rng).is_some());
        assert!(!seen.covered());
        assert_eq!(seen.fresh(&mut rng), None);
    }

    #[test]
    fn novel_falls_back_to_a_fresh_sample() {
        let space = toy(3, 3);
        let mut seen = Seen::new(&space);
        let stuck = Genotype::from_indices([0, 0, 0]);
        assert!(seen.insert(&stuck));
        let mut calls = 0;
        let g = seen
            .novel(&mut Rng::new(2), |_| {
                calls += 1;
                stuck.clone()
            })
            .expect("26 unseen genotypes are left");
        assert_eq!(calls, RETRIES);
        assert_ne!(g, stuck);
    }

    #[test]
    fn sorted_keys_restore_the_record() {
        let space = twin_toy(4, 3);
        let mut a = Seen::new(&space);
        let mut rng = Rng::new(3);
        for _ in 0..20 {
            a.fresh(&mut rng);
        }
        let keys = a.sorted();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let mut b = Seen::new(&space);
        b.replace(keys.clone());
        assert_eq!(b.sorted(), keys);
        let (mut ra, mut rb) = (Rng::new(4), Rng::new(4));
        for _ in 0..20 {
            assert_eq!(a.fresh(&mut ra), b.fresh(&mut rb));
        }
    }
}
