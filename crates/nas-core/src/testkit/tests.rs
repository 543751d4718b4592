//! The kit catches what it claims to: probe strategies, each with one defect, fail the
//! check meant for that defect, and the sound probe passes them all.

use super::*;
use crate::registry::ConfigError;
use crate::rng::Rng;
use crate::seen::Seen;
use crate::strategy::{Checkpoint, StrategyContext, StrategyError, from_checkpoint, to_checkpoint};
use crate::trial::{Proposal, TrialResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The one thing a probe does wrong.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Defect {
    #[default]
    None,
    /// Remembers genotypes, not functions: proposes twins.
    Twins,
    /// Does not restore its generator.
    Forgetful,
    /// Uses seed 0 whatever it is given.
    Seedless,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ProbeConfig {
    defect: Defect,
}

impl StrategyConfig for ProbeConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Probe::new(self.defect, &ctx, ctx.seed)))
    }
}

crate::register!(
    dyn StrategyConfig,
    ProbeConfig,
    "testkit-probe",
    "Random search, with one defect."
);

/// Reads a field it does not write back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LossyConfig {
    #[serde(skip_serializing)]
    offset: u64,
}

impl StrategyConfig for LossyConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Probe::new(
            Defect::None,
            &ctx,
            ctx.seed + self.offset,
        )))
    }
}

crate::register!(
    dyn StrategyConfig,
    LossyConfig,
    "testkit-lossy",
    "Random search whose config loses a field."
);

/// Accepts any field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LooseConfig {}

impl StrategyConfig for LooseConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Probe::new(Defect::None, &ctx, ctx.seed)))
    }
}

crate::register!(
    dyn StrategyConfig,
    LooseConfig,
    "testkit-loose",
    "Random search whose config accepts unknown fields."
);

/// Random search without replacement, drawing a number on each result.
#[derive(Debug)]
struct Probe {
    defect: Defect,
    space: Arc<dyn SearchSpace>,
    rng: Rng,
    seen: Seen,
    /// For [`Defect::Twins`].
    genotypes: BTreeSet<Genotype>,
}

#[derive(Serialize, Deserialize)]
struct State {
    rng: Rng,
    seen: Vec<u64>,
    genotypes: BTreeSet<Genotype>,
}

impl Probe {
    fn new(defect: Defect, ctx: &StrategyContext, seed: u64) -> Self {
        let seed = if defect == Defect::Seedless { 0 } else { seed };
        Probe {
            defect,
            space: Arc::clone(&ctx.space),
            rng: Rng::new(seed),
            seen: Seen::new(&ctx.space),
            genotypes: BTreeSet::new(),
        }
    }

    fn next(&mut self) -> Option<Genotype> {
        if self.defect != Defect::Twins {
            return self.seen.fresh(&mut self.rng);
        }
        let size = self.space.size()?;
        while (self.genotypes.len() as u128) < size {
            let g = self.space.sample(&mut self.rng);
            if self.genotypes.insert(g.clone()) {
                return Some(g);
            }
        }
        None
    }
}

impl Strategy for Probe {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        (0..n)
            .map_while(|_| self.next())
            .map(Proposal::from)
            .collect()
    }

    /// Draws a number, as a tournament on a result would: a generator that is not
    /// restored then draws different proposals (without it, rejection sampling would
    /// replay the same ones and hide the defect).
    fn tell(&mut self, _: &TrialResult) {
        self.rng.next_u64();
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&State {
            rng: self.rng.clone(),
            seen: self.seen.sorted(),
            genotypes: self.genotypes.clone(),
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        if self.defect != Defect::Forgetful {
            self.rng = state.rng;
        }
        self.seen.replace(state.seen);
        self.genotypes = state.genotypes;
        Ok(())
    }
}

/// The message of the panic `f` raises; fails the test if it does not panic.
fn failure(f: impl FnOnce()) -> String {
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("the kit passed a strategy it should have failed");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn probe(defect: &str) -> serde_json::Value {
    serde_json::json!({ "defect": defect })
}

#[test]
fn a_sound_strategy_passes() {
    check_strategy("testkit-probe", serde_json::json!({}));
    check_strategy("testkit-lossy", serde_json::json!({}));
}

#[test]
fn proposing_twins_is_caught() {
    let err = failure(|| check_strategy("testkit-probe", probe("twins")));
    assert!(
        err.contains("computes the same function as proposal"),
        "{err}"
    );
    // A strategy that samples with replacement says so, and then passes.
    Conformance::new("testkit-probe", probe("twins"))
        .repeats_allowed()
        .run();
}

#[test]
fn a_checkpoint_that_forgets_is_caught() {
    let err = failure(|| check_strategy("testkit-probe", probe("forgetful")));
    assert!(err.contains("resumed after 1 results"), "{err}");
    // The crash check finds it on its own.
    let make = |seed| {
        ProbeConfig {
            defect: Defect::Forgetful,
        }
        .build(ctx(twin_toy(8, 4), vec![acc()], seed))
        .expect("the probe builds")
    };
    let driver = Driver::new(twin_toy(8, 4), 2);
    let err = failure(|| assert_survives_crashes(&driver, &make, &onemax_of_function, 120, 0));
    assert!(err.contains("crash scenario 0, 2 workers"), "{err}");
}

#[test]
fn an_ignored_seed_is_caught() {
    let err = failure(|| check_strategy("testkit-probe", probe("seedless")));
    assert!(err.contains("ignores its seed"), "{err}");
}

#[test]
fn a_config_field_lost_in_json_is_caught() {
    let err = failure(|| check_strategy("testkit-lossy", serde_json::json!({"offset": 3})));
    assert!(
        err.contains("built from its config written back as JSON"),
        "{err}"
    );
}

#[test]
fn unknown_fields_must_be_refused() {
    let err = failure(|| check_strategy("testkit-loose", serde_json::json!({})));
    assert!(err.contains("accepts an unknown field"), "{err}");
    let err = failure(|| check_strategy("testkit-probe", probe("nonsense")));
    assert!(err.contains("`defect`"), "{err}");
}

#[test]
fn an_unknown_name_lists_the_registered_ones() {
    let err = failure(|| check_strategy("testkit-nothing", serde_json::json!({})));
    assert!(
        err.contains("testkit-probe") && err.contains("use my_crate as _"),
        "{err}"
    );
    let err = failure(|| {
        check_strategy(
            "testkit-probe",
            serde_json::json!({"type": "testkit-lossy"}),
        );
    });
    assert!(
        err.contains("the strategy checked is `testkit-probe`"),
        "{err}"
    );
}

#[test]
fn the_twin_toy_counts_its_functions() {
    for (n, k) in [(1, 3), (2, 3), (3, 2), (4, 3), (3, 1)] {
        let space = twin_toy(n, k);
        let mut all = vec![Genotype::from_indices([])];
        for _ in 0..n {
            all = all
                .into_iter()
                .flat_map(|g| {
                    (0..k as u32).map(move |c| {
                        let mut g = g.clone();
                        g.0.push(crate::space::Value::Index(c));
                        g
                    })
                })
                .collect();
        }
        let functions: BTreeSet<_> = all.iter().map(|g| space.fingerprint(g)).collect();
        assert_eq!(
            space.distinct_functions(),
            Some(functions.len() as u128),
            "n {n}, k {k}"
        );
        // Twins score the same.
        for g in &all {
            assert_eq!(onemax_of_function(g), onemax_of_function(&canonical(g)));
        }
    }
    assert_eq!(toy(4, 3).distinct_functions(), Some(81));
}

#[test]
fn the_driver_asks_like_the_runner() {
    // Every free slot is filled, and only those.
    let space = twin_toy(8, 4);
    let mut s = ProbeConfig::default()
        .build(ctx(Arc::clone(&space), vec![acc()], 1))
        .expect("the probe builds");
    let mut d = Driver::new(space, 5);
    assert_eq!(d.refill(&mut *s), 5);
    assert_eq!(d.in_flight(), 5);
    assert!(d.tell_next(&mut *s, &onemax));
    assert_eq!(d.refill(&mut *s), 1);
    assert!(!d.run(&mut *s, &onemax, 30));
    assert_eq!(d.told.len(), 30);
}
