//! The conformance kit for strategies: what every built-in strategy is tested against,
//! public so that a strategy crate gets the same tests in one line.
//!
//! ```no_run
//! // In the strategy crate's tests (name the crate so its `register!` is linked):
//! #[test]
//! fn conformance() {
//!     nas_core::testkit::check_strategy("mutate-best", serde_json::json!({"warmup": 3}));
//! }
//! ```
//!
//! [`check_strategy`] builds the strategy through the registry, as `nas search` does, and
//! checks that:
//! - it is registered, its config survives a round trip through JSON (the journal stores
//!   it that way) and an unknown field is refused;
//! - its proposals are in the space and never compute the same function twice (unless
//!   [`Conformance::repeats_allowed`]), with one worker and with several, and on a tiny
//!   space it stops once every function was proposed;
//! - the same seed gives the same proposals, another seed other ones;
//! - a checkpoint (through JSON text) restored into a fresh strategy continues exactly as
//!   the uninterrupted run, at several cut points, with one worker and with several;
//! - a run that crashes at random points, losing everything after its last flush, and
//!   resumes from that flush ends with the same proposals.
//!
//! The search is played by a [`Driver`] that does the runner's part: at most `workers`
//! trials in flight, results told in trial-id order, the evaluation a plain function of
//! the genotype. The space is a toy ([`twin_toy`]) whose genotypes come in twins that
//! compute the same function, as isomorphic NAS-Bench-201 cells do; the evaluation is
//! onemax with failures ([`onemax_of_function`]), whose optimum is known.
//!
//! This is test code: a failed check panics with a message that says which check and
//! where the runs first differ.

mod checks;
mod driver;
pub mod journals;
#[cfg(test)]
mod tests;
mod toy;

pub use checks::{assert_deterministic, assert_resumes_exactly, assert_survives_crashes};
pub use driver::{Driver, Eval, Make};
pub use toy::{
    Toy, acc, canonical, completed, ctx, onemax, onemax_of_function, onemax_with_failures, target,
    toy, twin_toy,
};

use crate::registry::{PluginConfig, StrategyConfig, find};
use crate::space::{Genotype, SearchSpace};
use crate::strategy::Strategy;
use crate::trial::{Objective, Outcome};
use checks::assert_same_proposals;
use std::sync::Arc;

/// A field name no strategy has: its config must refuse it.
const UNKNOWN_FIELD: &str = "testkit_unknown_field";

/// The strategy is registered under `name`; `config` (a table of its fields, with or
/// without `type`) reads, survives a round trip through JSON, and its defaults do; a
/// table with an unknown field is refused, naming the field.
pub fn assert_registered(name: &str, config: &serde_json::Value) {
    registered(name, config);
}

/// [`assert_registered`]; the table with its `type`, and the table read and written back
/// (what a journal stores).
fn registered(name: &str, config: &serde_json::Value) -> (serde_json::Value, serde_json::Value) {
    if let Err(e) = find::<dyn StrategyConfig>(name) {
        panic!("{e} (name the strategy crate in the test, `use my_crate as _;`, to link it)");
    }
    let mut table = match config {
        serde_json::Value::Object(_) => config.clone(),
        other => panic!("the config of `{name}` must be a JSON table of its fields, not {other}"),
    };
    match table.get("type") {
        None => table["type"] = name.into(),
        Some(t) if t == name => {}
        Some(t) => panic!("the config's type is {t}, the strategy checked is `{name}`"),
    }
    let round_trip = |table: &serde_json::Value, what: &str| {
        let read = PluginConfig::<dyn StrategyConfig>::from_value(table.clone())
            .unwrap_or_else(|e| panic!("`{name}`: {what} does not read: {e}"));
        assert_eq!(read.name, name);
        let written = read
            .to_value()
            .unwrap_or_else(|e| panic!("`{name}`: {what} does not serialize: {e}"));
        let again = PluginConfig::<dyn StrategyConfig>::from_value(written.clone())
            .unwrap_or_else(|e| {
                panic!("`{name}`: {what}, written as {written}, does not read back: {e}")
            })
            .to_value()
            .unwrap_or_else(|e| panic!("`{name}`: {what} does not serialize twice: {e}"));
        assert_eq!(
            written, again,
            "`{name}`: {what} changes in a round trip through JSON"
        );
        written
    };
    let written = round_trip(&table, "the config");
    let defaults = PluginConfig::<dyn StrategyConfig>::default_for(name)
        .unwrap_or_else(|e| panic!("`{name}`: {e}"))
        .to_value()
        .unwrap_or_else(|e| panic!("`{name}`: the default config does not serialize: {e}"));
    round_trip(&defaults, "the default config");

    let mut unknown = table.clone();
    unknown[UNKNOWN_FIELD] = 1.into();
    match PluginConfig::<dyn StrategyConfig>::from_value(unknown) {
        Ok(_) => panic!(
            "`{name}` accepts an unknown field `{UNKNOWN_FIELD}`: a misspelt field would be \
             ignored (add #[serde(deny_unknown_fields)] to its config)"
        ),
        Err(e) => assert!(
            e.to_string().contains(UNKNOWN_FIELD),
            "`{name}`: the error about an unknown field does not name it: {e}"
        ),
    }
    (table, written)
}

/// The conformance suite of one strategy config, with the space, objectives and
/// evaluation it runs on; [`check_strategy`] runs it with the defaults.
pub struct Conformance {
    name: String,
    config: serde_json::Value,
    space: Arc<dyn SearchSpace>,
    objectives: Vec<Objective>,
    eval: Box<dyn Fn(&Genotype) -> Outcome>,
    repeats: bool,
    trials: usize,
}

impl std::fmt::Debug for Conformance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformance")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("space", &self.space.name())
            .field("objectives", &self.objectives)
            .field("repeats", &self.repeats)
            .field("trials", &self.trials)
            .finish()
    }
}

impl Conformance {
    /// The suite for strategy `name` with `config` (a JSON table of its fields), on
    /// `twin_toy(8, 4)`, maximizing `acc` from [`onemax_of_function`], 120 trials a run.
    pub fn new(name: &str, config: serde_json::Value) -> Self {
        Conformance {
            name: name.to_string(),
            config,
            space: twin_toy(8, 4),
            objectives: vec![acc()],
            eval: Box::new(onemax_of_function),
            repeats: false,
            trials: 120,
        }
    }

    /// Another space (its evaluation too, unless it reads the toy's genotypes).
    pub fn space(mut self, space: Arc<dyn SearchSpace>) -> Self {
        self.space = space;
        self
    }

    /// Other objectives (a multi-objective strategy needs two).
    pub fn objectives(mut self, objectives: Vec<Objective>) -> Self {
        self.objectives = objectives;
        self
    }

    /// Another evaluation; it must report the objectives' metrics.
    pub fn eval(mut self, eval: impl Fn(&Genotype) -> Outcome + 'static) -> Self {
        self.eval = Box::new(eval);
        self
    }

    /// The strategy samples with replacement: repeated functions are allowed, and the
    /// tiny-space check (which needs an end) is skipped.
    pub fn repeats_allowed(mut self) -> Self {
        self.repeats = true;
        self
    }

    /// Results per run (at least 10).
    pub fn trials(mut self, trials: usize) -> Self {
        self.trials = trials.max(10);
        self
    }

    /// Runs every check; panics at the first that fails.
    pub fn run(&self) {
        let name = &self.name;
        let (table, written) = registered(name, &self.config);
        let make = self.maker(table.clone(), Arc::clone(&self.space));
        let eval: Eval<'_> = &*self.eval;
        let n = self.trials;

        // The config as the journal stores it builds the same strategy: a field that is
        // read but not written would change the search on resume.
        let stored = self.maker(written, Arc::clone(&self.space));
        let (mut a, mut b) = (self.driver(3), self.driver(3));
        a.run(&mut *make(7), eval, n);
        b.run(&mut *stored(7), eval, n);
        assert_same_proposals(
            &a.proposed,
            &b.proposed,
            &format!("`{name}` built from its config written back as JSON"),
        );

        // Proposals validate and do not repeat: the driver checks each one.
        for workers in [1, 3, 16] {
            let mut d = self.driver(workers);
            d.run(&mut *make(1), eval, n);
            assert!(!d.proposed.is_empty(), "`{name}` proposed nothing");
        }
        if !self.repeats {
            self.stops_when_covered(table);
        }

        assert_deterministic(&self.driver(4), &make, eval, n);
        for workers in [1, 4] {
            for cut in [0, 1, 7, n / 3, 2 * n / 3] {
                assert_resumes_exactly(&self.driver(workers), &make, eval, cut, n);
            }
            for scenario in 0..6 {
                assert_survives_crashes(&self.driver(workers), &make, eval, n, scenario);
            }
        }
    }

    fn driver(&self, workers: usize) -> Driver {
        let d = Driver::new(Arc::clone(&self.space), workers);
        if self.repeats {
            d.allowing_repeats()
        } else {
            d
        }
    }

    /// Builds the strategy from a config table through the registry, as an experiment
    /// does.
    fn maker(
        &self,
        table: serde_json::Value,
        space: Arc<dyn SearchSpace>,
    ) -> impl Fn(u64) -> Box<dyn Strategy> + '_ {
        move |seed| {
            let name = &self.name;
            let config = PluginConfig::<dyn StrategyConfig>::from_value(table.clone())
                .unwrap_or_else(|e| panic!("`{name}`: {e}"));
            config
                .config
                .build(ctx(Arc::clone(&space), self.objectives.clone(), seed))
                .unwrap_or_else(|e| {
                    panic!("`{name}` does not build on space `{}`: {e}", space.name())
                })
        }
    }

    /// On `twin_toy(2, 3)` (9 genotypes, 7 functions), a strategy that never repeats a
    /// function stops proposing once it has nothing new: it cannot go on without a
    /// repeat, which the driver refuses.
    fn stops_when_covered(&self, table: serde_json::Value) {
        let tiny = twin_toy(2, 3);
        let make = self.maker(table, Arc::clone(&tiny));
        let mut d = Driver::new(tiny, 2);
        let ended = d.run(&mut *make(3), &onemax_of_function, 100);
        assert!(
            ended && d.proposed.len() <= 7,
            "`{}` on a space of 7 functions made {} proposals and did not stop",
            self.name,
            d.proposed.len()
        );
    }
}

/// Runs the whole conformance suite ([`Conformance`]) on strategy `name` with `config`, a
/// JSON table of its fields: the one line a strategy crate's tests need.
pub fn check_strategy(name: &str, config: serde_json::Value) {
    Conformance::new(name, config).run();
}
