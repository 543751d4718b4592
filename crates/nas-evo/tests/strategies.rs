//! Every registered strategy, driven by the real runner on the NAS-Bench-201 table:
//! proposals validate and never repeat a function, the same seed gives the same trials,
//! and a search stopped and resumed from its journal (checkpoint, restore, continue)
//! equals an uninterrupted one, with any number of trials in flight; and the conformance
//! suite of every strategy on the recurrent-cell space.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::journal::{Journal, JournalError, NullJournal};
use nas_core::registry::{StrategyConfig, plugins};
use nas_core::search::{Observer, Progress, Quiet};
use nas_core::{
    Checkpoint, Experiment, ExperimentConfig, Genotype, SearchSpace, StrategyError, Trial,
    TrialResult,
};
use nas_eval as _;
use nas_evo as _;
use nas_space::Nb201Space;
use nas_storage_sqlite::SqliteJournal;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

fn strategies() -> Vec<&'static str> {
    plugins::<dyn StrategyConfig>()
        .unwrap()
        .iter()
        .map(|p| p.name)
        .collect()
}

fn config(strategy: &str, seed: u64, workers: usize, trials: u64) -> ExperimentConfig {
    let objectives: &[&str] = if strategy == "nsga2" {
        &["valid_acc", "flops_m"]
    } else {
        &[]
    };
    ExperimentConfig::from_json(serde_json::json!({
        "name": "p",
        "seed": seed,
        "workers": workers,
        "objectives": objectives,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": strategy,
        "evaluator": { "type": "nb201-table", "epochs": 12 },
    }))
    .unwrap()
}

#[derive(Default)]
struct Trials(Vec<(u64, Genotype)>);
impl Observer for Trials {
    fn on_result(&mut self, r: &TrialResult, _: &Progress) {
        self.0.push((r.trial.id, r.trial.genotype.clone()));
    }
}

fn run(strategy: &str, seed: u64, workers: usize, trials: u64) -> Vec<(u64, Genotype)> {
    let mut e = Experiment::build(config(strategy, seed, workers, trials)).unwrap();
    let mut t = Trials::default();
    e.run_with(&mut NullJournal, &mut t, None).unwrap();
    t.0
}

#[test]
fn every_strategy_is_registered() {
    let names = strategies();
    for s in [
        "random",
        "regularized-evolution",
        "large-scale-evolution",
        "nsga2",
        "local-search",
    ] {
        assert!(names.contains(&s), "{names:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn proposals_validate_repeat_nothing_and_follow_the_seed(seed in any::<u64>(), workers in 1usize..6) {
        let space = Nb201Space::new();
        for s in strategies() {
            let a = run(s, seed, workers, 80);
            prop_assert_eq!(a.len(), 80, "{}", s);
            // Strategies skip cells isomorphic to ones they tried (random search too).
            let distinct: HashSet<_> = a.iter().map(|(_, g)| space.fingerprint(g)).collect();
            prop_assert_eq!(distinct.len(), 80, "{}", s);
            prop_assert!(a.iter().all(|(_, g)| space.validate(g).is_ok()));
            prop_assert_eq!(&a, &run(s, seed, workers, 80), "{}: same seed, same trials", s);
        }
    }

    #[test]
    fn a_crash_then_resume_equals_an_uninterrupted_run(
        seed in any::<u64>(), workers in 1usize..5, crash_after in 10usize..120, flush_every in 1usize..15,
    ) {
        for s in strategies() {
            let straight = run(s, seed, workers, 70);
            let dir = tempfile::tempdir().unwrap();
            let mut crashing = Experiment::build(config(s, seed, workers, 70)).unwrap();
            let (inner, _) = SqliteJournal::open(
                &dir.path().join("p.sqlite"),
                &crashing.config.to_json().unwrap(),
                Box::new(|_| String::new()),
            )
            .unwrap();
            let mut journal = Crashing { inner, events: 0, crash_after, flush_every };
            let crashed = crashing.run_with(&mut journal, &mut Quiet, None).is_err();
            drop(journal);
            let mut resumed = Experiment::build(config(s, seed, workers, 70)).unwrap();
            let mut t = Trials::default();
            let report = resumed.run_in(dir.path(), &mut t).unwrap();
            prop_assert_eq!(report.progress.finished, 70);
            let n = report.resumed as usize;
            prop_assert!(!crashed || n < 70);
            prop_assert_eq!(&t.0[..], &straight[n..], "{} resumed after {} trials", s, n);
        }
    }

    #[test]
    fn extending_the_budget_of_a_sequential_search_equals_a_longer_run(seed in any::<u64>(), cut in 1u64..70) {
        // With one worker; with several, the longer run would already have asked trials
        // past the cut before the last results came in, so its sequence differs.
        for s in strategies() {
            let straight = run(s, seed, 1, 70);
            let dir = tempfile::tempdir().unwrap();
            Experiment::build(config(s, seed, 1, cut)).unwrap().run_in(dir.path(), &mut Quiet).unwrap();
            let mut rest = Experiment::build(config(s, seed, 1, 70)).unwrap();
            let mut t = Trials::default();
            let report = rest.run_in(dir.path(), &mut t).unwrap();
            prop_assert_eq!(report.resumed, cut);
            prop_assert_eq!(&t.0[..], &straight[cut as usize..], "{} cut at {}", s, cut);
        }
    }
}

/// A journal that flushes every `flush_every` events and fails at event `crash_after`,
/// losing what it had not flushed: a process killed mid-search.
struct Crashing {
    inner: SqliteJournal,
    events: usize,
    crash_after: usize,
    flush_every: usize,
}

impl Crashing {
    fn count(&mut self) -> Result<(), JournalError> {
        self.events += 1;
        if self.events == self.crash_after {
            return Err(JournalError::Invalid {
                location: "test".into(),
                reason: "simulated crash".into(),
            });
        }
        Ok(())
    }
}

impl Journal for Crashing {
    fn asked(&mut self, t: &Trial) -> Result<(), JournalError> {
        self.count()?;
        self.inner.asked(t)
    }
    fn finished(&mut self, r: &TrialResult) -> Result<(), JournalError> {
        self.count()?;
        self.inner.finished(r)
    }
    fn wants_flush(&self) -> bool {
        self.events.is_multiple_of(self.flush_every)
    }
    fn flush(
        &mut self,
        checkpoint: &mut dyn FnMut() -> Result<Checkpoint, StrategyError>,
    ) -> Result<(), JournalError> {
        self.inner.flush(checkpoint)
    }
}

#[test]
fn bad_configs_are_refused_before_the_search_starts() {
    let bad = [
        (
            serde_json::json!({"type": "regularized-evolution", "population": 0}),
            "`population`",
        ),
        (
            serde_json::json!({"type": "regularized-evolution", "population": 3, "sample": 5}),
            "`sample`",
        ),
        (
            serde_json::json!({"type": "large-scale-evolution", "crossover_prob": 2.0}),
            "`crossover_prob`",
        ),
        (
            serde_json::json!({"type": "nsga2", "population": 0}),
            "`population`",
        ),
        (
            serde_json::json!({"type": "local-search", "start_samples": 0}),
            "`start_samples`",
        ),
    ];
    for (strategy, field) in bad {
        let mut c = config("random", 0, 1, 10);
        c.strategy = nas_core::config::StrategyChoice::from_value(strategy.clone()).unwrap();
        let err = Experiment::build(c).unwrap_err().to_string();
        assert!(err.contains(field), "{strategy}: {err}");
    }
    let mut c = config("nsga2", 0, 1, 10);
    c.objectives = vec!["valid_acc".into(), "latency".into()];
    let err = Experiment::build(c).unwrap_err().to_string();
    assert!(err.contains("does not report `latency`"), "{err}");
}

/// A score of a recurrent cell's function (its canonical tree, through the fingerprint),
/// so cells equal up to the order of a node's children score the same; and its loose
/// ends as a second objective to minimize.
fn score_cell(space: &nas_space::RnnCellSpace, g: &Genotype) -> nas_core::Outcome {
    let acc = (space.fingerprint(g).0 % 1000) as f64 / 10.0;
    let ends = space.decode(g).unwrap().loose_ends().len() as f64;
    nas_core::testkit::completed(&[("acc", acc), ("ends", ends)])
}

/// Every black-box strategy runs the recurrent-cell space unchanged: the whole conformance
/// suite (valid, never-repeating proposals, determinism, exact resume, crashes) on it.
#[test]
fn every_strategy_searches_recurrent_cells_unchanged() {
    use nas_core::testkit::{Conformance, acc};
    let space =
        Arc::new(nas_space::RnnCellSpace::new(nas_space::RnnCellSpaceConfig::default()).unwrap());
    for name in strategies() {
        let scoring = Arc::clone(&space);
        let mut suite = Conformance::new(name, serde_json::json!({}))
            .space(space.clone())
            .eval(move |g| score_cell(&scoring, g))
            .trials(40);
        if name == "nsga2" {
            suite = suite.objectives(vec![
                acc(),
                nas_core::Objective {
                    metric: "ends".into(),
                    goal: nas_core::Goal::Minimize,
                },
            ]);
        }
        suite.run();
    }
}
