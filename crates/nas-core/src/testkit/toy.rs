//! The kit's space and evaluations: a toy whose genotypes come in twins, and onemax,
//! whose optimum is known.

use crate::space::{Decision, Fingerprint, Genotype, SearchSpace, StableHasher, Value};
use crate::strategy::StrategyContext;
use crate::trial::{Goal, Metrics, Objective, Outcome};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// `n` categorical decisions of `k` choices each: `k^n` genotypes.
///
/// With twins ([`Toy::with_twins`]), the second half of the decisions is inert while the
/// first decision is 0, as NB201 edges are when they feed nothing: those genotypes come in
/// groups that compute the same function, and the fingerprint says so. A quarter of the
/// samples of `twin_toy(8, 4)` fall in 64 functions, so a strategy that remembers
/// genotypes rather than functions repeats a function within a few dozen proposals.
#[derive(Debug)]
pub struct Toy {
    decisions: Vec<Decision>,
    twins: bool,
}

impl Toy {
    /// `n` decisions of `k` choices, every genotype its own function.
    pub fn new(n: usize, k: usize) -> Self {
        let names: Vec<String> = (0..k).map(|c| format!("c{c}")).collect();
        let choices: Vec<&str> = names.iter().map(String::as_str).collect();
        Toy {
            decisions: (0..n)
                .map(|i| Decision::categorical(format!("d{i}"), &choices))
                .collect(),
            twins: false,
        }
    }

    /// `n` decisions of `k` choices, decisions `max(n / 2, 1)..n` inert while the first
    /// is 0.
    pub fn with_twins(n: usize, k: usize) -> Self {
        Toy {
            twins: true,
            ..Toy::new(n, k)
        }
    }
}

/// The first decision that is inert while decision 0 is 0, in a twin toy of `n`
/// decisions.
fn first_inert(n: usize) -> usize {
    (n / 2).max(1)
}

/// The twin toy's one genotype per function: the inert decisions set to 0 where the first
/// decision is 0.
pub fn canonical(g: &Genotype) -> Genotype {
    let mut c = g.clone();
    if c.0.first() == Some(&Value::Index(0)) {
        let from = first_inert(c.0.len());
        for v in &mut c.0[from..] {
            *v = Value::Index(0);
        }
    }
    c
}

impl SearchSpace for Toy {
    fn name(&self) -> &str {
        if self.twins { "twin-toy" } else { "toy" }
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let mut h = StableHasher::default();
        if self.twins {
            canonical(g).hash(&mut h);
        } else {
            g.hash(&mut h);
        }
        Fingerprint(h.finish())
    }

    /// With twins, `k^(n-1-m)` functions with the first decision at 0 (`m` of its
    /// decisions inert), and `(k-1) k^(n-1)` without.
    fn distinct_functions(&self) -> Option<u128> {
        let n = self.decisions.len();
        if !self.twins || n == 0 {
            return self.size();
        }
        let live_at_zero = first_inert(n).min(n) as u32 - 1;
        let k = self.decisions[0].cardinality()? as u128;
        let at_zero = k.checked_pow(live_at_zero)?;
        let elsewhere = (k - 1).checked_mul(k.checked_pow(n as u32 - 1)?)?;
        at_zero.checked_add(elsewhere)
    }
}

/// [`Toy::new`] as a space handle.
pub fn toy(n: usize, k: usize) -> Arc<dyn SearchSpace> {
    Arc::new(Toy::new(n, k))
}

/// [`Toy::with_twins`] as a space handle: the kit's default space is `twin_toy(8, 4)`.
pub fn twin_toy(n: usize, k: usize) -> Arc<dyn SearchSpace> {
    Arc::new(Toy::with_twins(n, k))
}

// ---------------------------------------------------------------- toy evaluations

/// The objective the toy evaluations report: `acc`, maximized.
pub fn acc() -> Objective {
    Objective {
        metric: "acc".into(),
        goal: Goal::Maximize,
    }
}

/// A strategy context on `space`.
pub fn ctx(space: Arc<dyn SearchSpace>, objectives: Vec<Objective>, seed: u64) -> StrategyContext {
    StrategyContext {
        space,
        objectives,
        seed,
    }
}

/// A completed outcome with these metrics.
pub fn completed(metrics: &[(&'static str, f64)]) -> Outcome {
    let mut m = Metrics::default();
    for (name, v) in metrics {
        m.set(*name, *v);
    }
    Outcome::Completed { metrics: m }
}

fn indices(g: &Genotype) -> Vec<u32> {
    g.indices()
        .expect("the toy evaluations read categorical genotypes only")
}

/// The optimum's value of decision `i`: 1, 2, 1, 2...
pub fn target(i: usize) -> u32 {
    (i % 2) as u32 + 1
}

/// `acc` = how many decisions hold [`target`]: the optimum, unique, scores `n`.
pub fn onemax(g: &Genotype) -> Outcome {
    let hits = indices(g)
        .iter()
        .enumerate()
        .filter(|&(i, &v)| v == target(i))
        .count();
    completed(&[("acc", hits as f64)])
}

/// [`onemax`], except that a quarter of the space (the first two decisions equal) fails.
pub fn onemax_with_failures(g: &Genotype) -> Outcome {
    let ix = indices(g);
    if ix.len() >= 2 && ix[0] == ix[1] {
        Outcome::Failed {
            reason: "toy failure".into(),
        }
    } else {
        onemax(g)
    }
}

/// [`onemax_with_failures`] of the genotype's [`canonical`] form, so that twins score
/// the same: the kit's default evaluation. The optimum (first decision 1) has no twin.
pub fn onemax_of_function(g: &Genotype) -> Outcome {
    onemax_with_failures(&canonical(g))
}
