//! Integration tests of nas-core with a toy space, strategy and evaluator: the runner,
//! the journal and resume, the registry and configs. Journals are the SQLite storage's
//! (a dev-dependency); its own hardening tests live in `nas-storage-sqlite`.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::config::Budget;
use nas_core::journal::{Journal, NullJournal};
use nas_core::registry::{
    ConfigError, EvaluatorConfig, PluginConfig, RegistryError, SpaceConfig, StrategyConfig,
};
use nas_core::search::{Quiet, StopReason};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Decision, EvalError, Evaluator, Experiment, ExperimentConfig, Genotype, Goal,
    MetricRole, MetricSpec, Metrics, Outcome, Proposal, Reporter, Rng, SearchSpace, Strategy,
    StrategyContext, StrategyError, Trial, TrialResult,
};
use nas_storage_sqlite::SqliteJournal;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[path = "core/in_flight.rs"]
mod in_flight;
#[path = "core/joint.rs"]
mod joint;

// ---------------------------------------------------------------- toy plugins

#[derive(Debug)]
struct ToySpace {
    decisions: Vec<Decision>,
}

impl SearchSpace for ToySpace {
    fn name(&self) -> &str {
        "toy"
    }
    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToySpaceConfig {}
impl SpaceConfig for ToySpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(ToySpace {
            decisions: (0..4)
                .map(|i| Decision::categorical(format!("d{i}"), &["a", "b", "c"]))
                .collect(),
        }))
    }
}
nas_core::register!(
    dyn SpaceConfig,
    ToySpaceConfig,
    "toy",
    "4 decisions of 3 choices."
);

/// Score: the sum of the indices (best: all `c`). Genotypes starting with `b, b` fail,
/// with `a, b` panic; trial `crash_at` is a fatal error, as a crash would be.
#[derive(Debug)]
struct ToyEvaluator {
    delay_ms: u64,
    crash_at: Option<u64>,
}

impl Evaluator for ToyEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![
            MetricSpec {
                name: "score".into(),
                goal: Goal::Maximize,
                role: MetricRole::Objective,
                description: "sum of indices".into(),
            },
            MetricSpec {
                name: "secret".into(),
                goal: Goal::Maximize,
                role: MetricRole::Report,
                description: "a test split".into(),
            },
        ]
    }
    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        if self.crash_at == Some(trial.id) {
            return Err(EvalError::Fatal("simulated crash".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(self.delay_ms));
        let idx = trial.genotype.indices().unwrap_or_default();
        match (idx[0], idx[1]) {
            (1, 1) => return Err(EvalError::Failed("diverged".into())),
            (0, 1) => panic!("toy evaluator panics"),
            _ => {}
        }
        let mut m = Metrics::default();
        m.set(
            "score",
            idx.iter().sum::<u32>() as f64 + (trial.seed % 7) as f64 * 0.01,
        );
        reporter.report(0, &m);
        m.set("secret", 1.0);
        Ok(m)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ToyEvaluatorConfig {
    delay_ms: u64,
    crash_at: Option<u64>,
}
impl EvaluatorConfig for ToyEvaluatorConfig {
    fn build(&self, _: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        Ok(Arc::new(ToyEvaluator {
            delay_ms: self.delay_ms,
            crash_at: self.crash_at,
        }))
    }
}
nas_core::register!(
    dyn EvaluatorConfig,
    ToyEvaluatorConfig,
    "toy-eval",
    "Sum of indices."
);

/// Mutates the best genotype seen so far: its proposals depend on what it was told, so
/// it catches resume bugs that random search would not.
#[derive(Debug)]
struct Greedy {
    ctx: StrategyContext,
    state: GreedyState,
}
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GreedyState {
    rng: Rng,
    best: Option<(Genotype, f64)>,
    limit: Option<u64>,
    asked: u64,
}
impl Strategy for Greedy {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::new();
        for _ in 0..n {
            if self.state.limit.is_some_and(|l| self.state.asked >= l) {
                break;
            }
            self.state.asked += 1;
            let g = match &self.state.best {
                Some((g, _)) => self.ctx.space.mutate(g, &mut self.state.rng),
                None => self.ctx.space.sample(&mut self.state.rng),
            };
            out.push(g.into());
        }
        out
    }
    fn tell(&mut self, result: &TrialResult) {
        if let Some(s) = self.ctx.score(result)
            && self.state.best.as_ref().is_none_or(|(_, b)| s > *b)
        {
            self.state.best = Some((result.trial.genotype.clone(), s));
        }
    }
    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&self.state)
    }
    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        self.state = from_checkpoint(state)?;
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GreedyConfig {
    /// Stop proposing after this many (to test exhaustion).
    limit: Option<u64>,
}
impl StrategyConfig for GreedyConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        if self.limit == Some(0) {
            return Err(ConfigError::field("greedy", "limit", "must be at least 1"));
        }
        let rng = ctx.rng();
        Ok(Box::new(Greedy {
            ctx,
            state: GreedyState {
                rng,
                best: None,
                limit: self.limit,
                asked: 0,
            },
        }))
    }
}
nas_core::register!(
    dyn StrategyConfig,
    GreedyConfig,
    "greedy",
    "Mutate the best so far."
);

// ---------------------------------------------------------------- helpers

fn config(toml: &str) -> ExperimentConfig {
    ExperimentConfig::from_toml(toml).unwrap()
}

const BASE: &str = r#"
name = "t"
seed = 3
[budget]
trials = 40
[space]
type = "toy"
[strategy]
type = "greedy"
[evaluator]
type = "toy-eval"
"#;

fn with(extra_eval: &str, workers: usize) -> ExperimentConfig {
    let text = BASE.replace(
        "type = \"toy-eval\"",
        &format!("type = \"toy-eval\"\n{extra_eval}"),
    );
    let mut c = config(&text);
    c.workers = workers;
    c
}

fn trials_of(results: &[TrialResult]) -> Vec<(u64, Genotype, String)> {
    results
        .iter()
        .map(|r| {
            (
                r.trial.id,
                r.trial.genotype.clone(),
                format!("{:?}", r.outcome),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- runner

#[test]
fn runs_exactly_the_budget_and_keeps_failures_as_data() {
    let mut e = Experiment::build(with("", 1)).unwrap();
    let report = e.run_with(&mut NullJournal, &mut Quiet, None).unwrap();
    let p = &report.progress;
    assert_eq!(p.finished, 40);
    assert_eq!(p.completed + p.failed + p.pruned, 40);
    assert_eq!(report.stop, StopReason::Budget);
    let best = p.best.as_ref().unwrap();
    assert!(best.outcome.metrics().unwrap().get("score").unwrap() >= 6.0);
}

#[test]
fn panics_and_failures_become_failed_trials() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Experiment::build(with("", 2)).unwrap();
    e.run_in(dir.path(), &mut Quiet).unwrap();
    let state = SqliteJournal::read(&dir.path().join("t.sqlite")).unwrap();
    let reasons: Vec<&str> = state
        .finished
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Failed { reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    // Every genotype starting (a, b) or (b, b) failed, with its reason.
    for r in &state.finished {
        let idx = r.trial.genotype.indices().unwrap();
        let failed = matches!(r.outcome, Outcome::Failed { .. });
        assert_eq!(failed, idx[1] == 1 && idx[0] <= 1, "{idx:?}");
    }
    assert!(
        reasons
            .iter()
            .all(|r| r.contains("diverged") || r.contains("panicked"))
    );
}

#[test]
fn same_seed_same_trials_even_with_threads() {
    let run = |workers| {
        let dir = tempfile::tempdir().unwrap();
        let mut e = Experiment::build(with("delay_ms = 1", workers)).unwrap();
        e.run_in(dir.path(), &mut Quiet).unwrap();
        trials_of(
            &SqliteJournal::read(&dir.path().join("t.sqlite"))
                .unwrap()
                .finished,
        )
    };
    assert_eq!(run(3), run(3));
    assert_eq!(run(1), run(1));
}

#[test]
fn a_strategy_with_nothing_to_propose_ends_the_search() {
    let mut c = with("", 1);
    c.strategy = nas_core::config::StrategyChoice::from_value(
        serde_json::json!({"type": "greedy", "limit": 7}),
    )
    .unwrap();
    let mut e = Experiment::build(c).unwrap();
    let report = e.run_with(&mut NullJournal, &mut Quiet, None).unwrap();
    assert_eq!(report.progress.finished, 7);
    assert_eq!(report.stop, StopReason::Exhausted);
}

#[test]
fn intermediate_reports_are_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Experiment::build(with("", 1)).unwrap();
    e.run_in(dir.path(), &mut Quiet).unwrap();
    let state = SqliteJournal::read(&dir.path().join("t.sqlite")).unwrap();
    let completed = state
        .finished
        .iter()
        .find(|r| matches!(r.outcome, Outcome::Completed { .. }))
        .unwrap();
    assert_eq!(completed.intermediate.len(), 1);
}

// ---------------------------------------------------------------- journal and resume

#[test]
fn a_crash_then_resume_equals_an_uninterrupted_run() {
    for workers in [1, 3] {
        let reference = tempfile::tempdir().unwrap();
        let mut e = Experiment::build(with("delay_ms = 4", workers)).unwrap();
        let full = e.run_in(reference.path(), &mut Quiet).unwrap();
        let expected = trials_of(
            &SqliteJournal::read(&reference.path().join("t.sqlite"))
                .unwrap()
                .finished,
        );

        let dir = tempfile::tempdir().unwrap();
        let mut crashing = Experiment::build(with("delay_ms = 4\ncrash_at = 29", workers)).unwrap();
        // The evaluator config differs, so the crashing run writes the journal under the
        // reference config's name by hand: build its journal with the reference config.
        let config_json = Experiment::build(with("delay_ms = 4", workers))
            .unwrap()
            .config
            .to_json()
            .unwrap();
        let (mut journal, state) = SqliteJournal::open(
            &dir.path().join("t.sqlite"),
            &config_json,
            Box::new(|_| String::new()),
        )
        .unwrap();
        assert!(state.is_none());
        let err = crashing
            .run_with(&mut journal, &mut Quiet, None)
            .unwrap_err();
        assert!(err.to_string().contains("simulated crash"));
        drop(journal);
        let partial = SqliteJournal::read(&dir.path().join("t.sqlite")).unwrap();
        assert!(partial.finished.len() < 29, "workers {workers}");
        assert!(
            !partial.finished.is_empty(),
            "workers {workers}: nothing was flushed"
        );

        let mut resumed = Experiment::build(with("delay_ms = 4", workers)).unwrap();
        let report = resumed.run_in(dir.path(), &mut Quiet).unwrap();
        assert_eq!(report.resumed, partial.finished.len() as u64);
        let got = trials_of(
            &SqliteJournal::read(&dir.path().join("t.sqlite"))
                .unwrap()
                .finished,
        );
        assert_eq!(got.len(), 40);
        assert_eq!(got, expected, "workers {workers}");
        assert_eq!(
            report.progress.best.map(|b| b.trial.id),
            full.progress.best.map(|b| b.trial.id)
        );
    }
}

#[test]
fn rerunning_a_finished_experiment_runs_nothing_and_extending_its_budget_continues() {
    let dir = tempfile::tempdir().unwrap();
    Experiment::build(with("", 1))
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    let again = Experiment::build(with("", 1))
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    assert_eq!(again.resumed, 40);
    assert_eq!(again.progress.finished, 40);
    let mut longer = with("", 1);
    longer.budget = Budget::trials(55);
    let more = Experiment::build(longer)
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    assert_eq!(more.progress.finished, 55);
    let state = SqliteJournal::read(&dir.path().join("t.sqlite")).unwrap();
    let ids: Vec<u64> = state.finished.iter().map(|r| r.trial.id).collect();
    assert_eq!(ids, (0..55).collect::<Vec<_>>());
}

#[test]
fn another_config_under_the_same_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Experiment::build(with("", 1))
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    let mut other = with("", 1);
    other.seed = 4;
    let err = Experiment::build(other)
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap_err();
    assert!(err.to_string().contains("another config"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    std::fs::write(&path, b"this is not a database, just some text that is long enough to matter....................................................").unwrap();
    let err = SqliteJournal::read(&path).unwrap_err().to_string();
    assert!(err.contains("not an SQLite database"), "{err}");
    let err = Experiment::build(with("", 1))
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap_err();
    assert!(err.to_string().contains("not an SQLite database"), "{err}");
    // The file is left as it was: nothing recorded is lost.
    assert!(
        std::fs::read(&path)
            .unwrap()
            .starts_with(b"this is not a database")
    );
    let missing = SqliteJournal::read(&dir.path().join("nope.sqlite")).unwrap_err();
    assert!(missing.to_string().contains("no such file"));
}

#[test]
fn a_flush_writes_events_and_checkpoint_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    let config = serde_json::json!({"x": 1});
    let (mut j, _) = SqliteJournal::open(&path, &config, Box::new(|_| "arch".into())).unwrap();
    let trial = Trial {
        id: 0,
        genotype: Genotype::from_indices([1, 2]),
        fidelity: Default::default(),
        seed: 9,
    };
    j.asked(&trial).unwrap();
    // Not flushed: a reader sees nothing yet.
    assert!(SqliteJournal::read(&path).unwrap().pending.is_empty());
    j.flush(&mut || Ok(serde_json::json!({"n": 1}))).unwrap();
    let state = SqliteJournal::read(&path).unwrap();
    assert_eq!(state.pending, vec![trial.clone()]);
    assert_eq!(state.checkpoint, Some(serde_json::json!({"n": 1})));
    j.finished(&TrialResult {
        trial: trial.clone(),
        outcome: Outcome::Failed { reason: "x".into() },
        intermediate: vec![],
    })
    .unwrap();
    j.flush(&mut || Ok(serde_json::json!({"n": 2}))).unwrap();
    let state = SqliteJournal::read(&path).unwrap();
    assert!(state.pending.is_empty());
    assert_eq!(state.finished.len(), 1);
    // A trial cannot finish twice: the database refuses it.
    j.finished(&TrialResult {
        trial,
        outcome: Outcome::Failed {
            reason: "again".into(),
        },
        intermediate: vec![],
    })
    .unwrap();
    assert!(j.flush(&mut || Ok(serde_json::json!({}))).is_err());
}

// ---------------------------------------------------------------- registry and configs

#[test]
fn unknown_names_list_the_available_ones() {
    let err = PluginConfig::<dyn StrategyConfig>::default_for("nope").unwrap_err();
    match &err {
        RegistryError::Unknown { available, .. } => assert!(available.contains(&"greedy")),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("unknown strategy `nope`; available: ")
    );
    let err = ExperimentConfig::from_toml(&BASE.replace("\"greedy\"", "\"nope\"")).unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown strategy or one-shot method `nope`"),
        "{err}"
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_name() {
    let err = ExperimentConfig::from_toml(
        &BASE.replace("type = \"greedy\"", "type = \"greedy\"\nlimt = 3"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `limt`"), "{err}");
    assert!(err.to_string().contains("greedy"), "{err}");
    let err = ExperimentConfig::from_toml(&format!("colour = 1\n{BASE}")).unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    let err = ExperimentConfig::from_toml(&BASE.replace("type = \"greedy\"", "")).unwrap_err();
    assert!(err.to_string().contains("missing `type"), "{err}");
}

#[test]
fn bad_values_are_caught_before_anything_runs() {
    let mut c = with("", 1);
    c.budget = Budget::trials(0);
    assert!(
        Experiment::build(c)
            .unwrap_err()
            .to_string()
            .contains("`trials`: must be at least 1")
    );
    let mut c = with("", 1);
    c.budget = Budget::default();
    assert!(
        Experiment::build(c)
            .unwrap_err()
            .to_string()
            .contains("at least one of")
    );
    let mut c = with("", 0);
    c.workers = 0;
    assert!(
        Experiment::build(c)
            .unwrap_err()
            .to_string()
            .contains("`workers`")
    );
    let mut c = with("", 1);
    c.name = "../escape".into();
    assert!(
        Experiment::build(c)
            .unwrap_err()
            .to_string()
            .contains("`name`")
    );
    let mut c = with("", 1);
    c.strategy = nas_core::config::StrategyChoice::from_value(
        serde_json::json!({"type": "greedy", "limit": 0}),
    )
    .unwrap();
    let e = Experiment::build(c).unwrap_err().to_string();
    assert!(
        e.contains("strategy `greedy`") && e.contains("`limit`"),
        "{e}"
    );
}

#[test]
fn objectives_are_checked_against_the_evaluator() {
    let mut c = with("", 1);
    c.objectives = vec!["accuracy".into()];
    let e = Experiment::build(c).unwrap_err().to_string();
    assert!(
        e.contains("does not report `accuracy`") && e.contains("score"),
        "{e}"
    );
    let mut c = with("", 1);
    c.objectives = vec!["secret".into()];
    let e = Experiment::build(c).unwrap_err().to_string();
    assert!(e.contains("report-only"), "{e}");
}

proptest! {
    #[test]
    fn configs_round_trip(seed in any::<u64>(), workers in 1usize..16, trials in 1u64..1_000_000,
                          limit in proptest::option::of(1u64..100), delay in 0u64..10,
                          sim in proptest::option::of(1.0f64..1e6)) {
        let mut c = with(&format!("delay_ms = {delay}"), workers);
        c.seed = seed;
        c.budget = Budget { trials: Some(trials), simulated_seconds: sim, wall_seconds: None };
        c.strategy = nas_core::config::StrategyChoice::from_value(serde_json::json!({"type": "greedy", "limit": limit})).unwrap();
        let json = c.to_json().unwrap();
        let back = ExperimentConfig::from_json(json.clone()).unwrap();
        prop_assert_eq!(back.to_json().unwrap(), json.clone());
        let toml = c.to_toml().unwrap();
        let from_toml = ExperimentConfig::from_toml(&toml).unwrap();
        prop_assert_eq!(from_toml.to_json().unwrap(), json);
    }
}

/// A one-shot method whose search needs data this test does not have: enough to see the
/// `[strategy]` table choose the one-shot registry and the experiment call it.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedsDataConfig {
    #[serde(default)]
    epochs: u32,
}

impl nas_core::registry::OneShotConfig for NeedsDataConfig {
    fn build_search(
        &self,
        _: nas_core::registry::OneShotContext,
    ) -> Result<Box<dyn nas_core::Search>, ConfigError> {
        Err(ConfigError(format!("no data for {} epochs", self.epochs)))
    }
}

nas_core::register!(
    dyn nas_core::registry::OneShotConfig,
    NeedsDataConfig,
    "needs-data",
    "A one-shot method of the tests."
);

#[test]
fn the_strategy_table_names_a_strategy_or_a_one_shot_method() {
    use nas_core::config::StrategyChoice;
    assert!(!StrategyChoice::is_one_shot("greedy").unwrap());
    assert!(StrategyChoice::is_one_shot("needs-data").unwrap());
    let c = config(&BASE.replace("type = \"greedy\"", "type = \"needs-data\"\nepochs = 3"));
    assert!(matches!(c.strategy, StrategyChoice::OneShot(_)));
    assert_eq!(c.strategy.name(), "needs-data");
    // The config round-trips through JSON as the journal stores it.
    let again = ExperimentConfig::from_json(c.to_json().unwrap()).unwrap();
    assert_eq!(again.to_json().unwrap(), c.to_json().unwrap());
    let err = Experiment::build(c).unwrap_err().to_string();
    assert_eq!(err, "one-shot method `needs-data`: no data for 3 epochs");
    // A one-shot method's unknown field is refused like a strategy's.
    let err = ExperimentConfig::from_toml(
        &BASE.replace("type = \"greedy\"", "type = \"needs-data\"\nepoch = 3"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `epoch`"), "{err}");
}
