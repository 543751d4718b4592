//! The runner and the clock (issue #14): a trial in flight is visible in the journal
//! while it runs, and the wall budget stops a running trial.

use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::search::{Observer, Quiet};
use nas_core::{
    Control, EvalError, Evaluator, Experiment, Goal, MetricRole, MetricSpec, Metrics, Reporter,
    SearchSpace, Trial,
};
use nas_storage_sqlite::SqliteJournal;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reports `steps` times, sleeping `step_ms` before each report, and stops when told.
/// With `journal`, its metric `seen` says whether the journal at that path showed this
/// trial as asked (in flight) during the evaluation.
#[derive(Debug)]
struct Probe {
    steps: u32,
    step_ms: u64,
    journal: Option<String>,
}

impl Evaluator for Probe {
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![MetricSpec {
            name: "seen".into(),
            goal: Goal::Maximize,
            role: MetricRole::Objective,
            description: "the trial was in the journal while it ran".into(),
        }]
    }
    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let mut m = Metrics::default();
        m.set("seen", 0.0);
        for step in 0..self.steps {
            std::thread::sleep(Duration::from_millis(self.step_ms));
            if reporter.report(step, &m) == Control::Stop {
                return Err(EvalError::Pruned { step, metrics: m });
            }
        }
        if let Some(path) = &self.journal {
            let state =
                SqliteJournal::read(path.as_ref()).map_err(|e| EvalError::Fatal(e.to_string()))?;
            let seen = state.pending.iter().any(|t| t.id == trial.id);
            m.set("seen", if seen { 1.0 } else { 0.0 });
        }
        Ok(m)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ProbeConfig {
    steps: u32,
    step_ms: u64,
    journal: Option<String>,
}
impl EvaluatorConfig for ProbeConfig {
    fn build(&self, _: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        Ok(Arc::new(Probe {
            steps: self.steps,
            step_ms: self.step_ms,
            journal: self.journal.clone(),
        }))
    }
}
nas_core::register!(
    dyn EvaluatorConfig,
    ProbeConfig,
    "probe-eval",
    "Sleeps and reports; looks itself up in the journal."
);

fn experiment(budget: &str, evaluator: &str, workers: usize) -> Experiment {
    let text = format!(
        "name = \"p\"\nseed = 1\nworkers = {workers}\n[budget]\n{budget}\n[space]\ntype = \
         \"toy\"\n[strategy]\ntype = \"greedy\"\n[evaluator]\ntype = \"probe-eval\"\n{evaluator}\n"
    );
    Experiment::build(nas_core::ExperimentConfig::from_toml(&text).unwrap()).unwrap()
}

#[test]
fn a_running_trial_is_in_the_journal_while_it_runs() {
    for workers in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sqlite");
        let evaluator = format!(
            "steps = 1\nstep_ms = 60\njournal = {:?}",
            path.to_str().unwrap()
        );
        experiment("trials = 4", &evaluator, workers)
            .run_in(dir.path(), &mut Quiet)
            .unwrap();
        let state = SqliteJournal::read(&path).unwrap();
        let seen: Vec<f64> = state
            .finished
            .iter()
            .map(|r| r.outcome.metrics().unwrap().get("seen").unwrap())
            .collect();
        assert_eq!(seen, vec![1.0; 4], "workers {workers}");
    }
}

/// Keeps the observer's messages.
#[derive(Default)]
struct Messages(Vec<String>);
impl Observer for Messages {
    fn on_message(&mut self, message: &str) {
        self.0.push(message.into());
    }
}

#[test]
fn the_wall_budget_stops_a_running_trial_which_then_runs_again_on_resume() {
    for workers in [1, 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sqlite");
        // Each trial takes 100 x 10 ms = 1 s; the budget is a quarter of that.
        let mut e = experiment("wall_seconds = 0.25", "steps = 100\nstep_ms = 10", workers);
        let started = Instant::now();
        let mut messages = Messages::default();
        let report = e.run_in(dir.path(), &mut messages).unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(700),
            "workers {workers}"
        );
        assert_eq!(report.progress.finished, 0);
        let state = SqliteJournal::read(&path).unwrap();
        assert!(state.finished.is_empty());
        let stopped = state.pending.clone();
        let ids: Vec<u64> = stopped.iter().map(|t| t.id).collect();
        assert_eq!(ids, (0..workers as u64).collect::<Vec<_>>());
        assert!(
            messages.0.iter().any(|m| m.contains("wall budget spent")),
            "{:?}",
            messages.0
        );

        // With a budget of trials, the stopped trials run again, whole, and are kept.
        let report = experiment("trials = 2", "steps = 100\nstep_ms = 10", workers)
            .run_in(dir.path(), &mut Quiet)
            .unwrap();
        assert_eq!(report.progress.completed, 2, "workers {workers}");
        let state = SqliteJournal::read(&path).unwrap();
        let rerun: Vec<Trial> = state.finished[..workers]
            .iter()
            .map(|r| r.trial.clone())
            .collect();
        assert_eq!(rerun, stopped, "the same ids, genotypes and seeds");
    }
}
