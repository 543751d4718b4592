//! The search phase learns, is deterministic and records alpha's trajectory; an experiment
//! evaluates the derived cell and resumes without searching again; other spaces and bad
//! configs are refused by name.

use nas_core::config::ExperimentConfig;
use nas_core::search::Observer;
use nas_core::{Experiment, SearchSpace};
use nas_darts::{DartsConfig, RelaxedSearch};
use nas_space::Nb201Space;
use serde_json::json;
use std::sync::Arc;

fn tiny() -> DartsConfig {
    DartsConfig {
        epochs: 2,
        learning_rate: 0.05,
        arch_learning_rate: 3e-3,
        ..DartsConfig::default()
    }
}

#[derive(Default)]
struct Messages(Vec<String>);
impl Observer for Messages {
    fn on_message(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

#[test]
fn the_search_phase_learns_moves_alpha_and_is_deterministic() {
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let phase = RelaxedSearch::new("darts", &tiny(), Arc::clone(&space)).unwrap();
    let mut lines = Vec::new();
    let a = phase.run(7, &mut |m| lines.push(m.to_string())).unwrap();
    assert_eq!(lines.len(), 2, "one line per epoch: {lines:?}");
    assert_eq!(a.shape, [6, 5]);
    assert_eq!(a.candidates[0], "none");
    assert_eq!(a.trajectory.len(), 2);
    assert_eq!(a.cost.weight_steps, a.cost.arch_steps);
    space.validate(&a.genotype).unwrap();
    for record in &a.trajectory {
        for row in record.probabilities.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }
    // The mixed supernet beats chance (10%) on the validation batches by its second epoch.
    assert!(a.trajectory[1].valid_acc > 30.0, "{:?}", a.trajectory[1]);
    // Alpha moved away from its near-uniform start, and the derivation follows it.
    let spread = |p: &[f32]| p.iter().fold(0f32, |m, &x| m.max(x)) - 0.2;
    assert!(
        spread(&a.trajectory[1].probabilities) > 0.005,
        "{:?}",
        a.trajectory[1]
    );
    assert_eq!(a.trajectory[1].derived, a.genotype);
    let b = phase.run(7, &mut |_| {}).unwrap();
    assert_eq!(a.alpha, b.alpha, "same seed, same search");
    assert_eq!(a.genotype, b.genotype);
    let c = phase.run(8, &mut |_| {}).unwrap();
    assert_ne!(a.alpha, c.alpha, "another seed, another search");
}

fn experiment(trials: u64) -> Experiment {
    let config = json!({
        "name": "darts",
        "seed": 3,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": { "type": "darts", "epochs": 1 },
        "evaluator": { "type": "train", "epochs": 1 },
    });
    Experiment::build(ExperimentConfig::from_json(config).unwrap()).unwrap()
}

#[test]
fn an_experiment_evaluates_the_derived_cell_and_resumes_without_searching_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = experiment(2);
    let mut seen = Messages::default();
    let report = e.run_in(dir.path(), &mut seen).unwrap();
    // One derived cell: the final evaluation ends after it, whatever the budget.
    assert_eq!(report.progress.finished, 1);
    assert!(
        seen.0.iter().any(|m| m.contains("search phase done")),
        "{:?}",
        seen.0
    );
    let journal = nas_storage_sqlite::SqliteJournal::read(&e.journal_path(dir.path())).unwrap();
    let checkpoint = journal.checkpoint.unwrap();
    // The journal holds the derived cell and alpha's trajectory.
    assert_eq!(
        checkpoint["phase"]["genotype"],
        serde_json::to_value(&journal.finished[0].trial.genotype).unwrap()
    );
    assert_eq!(
        checkpoint["phase"]["trajectory"].as_array().unwrap().len(),
        1
    );

    let mut again = experiment(3);
    let mut seen = Messages::default();
    let report = again.run_in(dir.path(), &mut seen).unwrap();
    assert_eq!(report.resumed, 1);
    assert!(
        seen.0.iter().any(|m| m.contains("restored")),
        "{:?}",
        seen.0
    );
    assert!(!seen.0.iter().any(|m| m.contains("epoch")), "{:?}", seen.0);
}

#[test]
fn darts_refuses_spaces_without_a_relaxed_supernet_and_bad_configs() {
    let build = |strategy: serde_json::Value, space: &str| {
        let config = json!({
            "name": "x", "budget": { "trials": 1 }, "space": space,
            "strategy": strategy, "evaluator": "train",
        });
        Experiment::build(ExperimentConfig::from_json(config).unwrap())
            .err()
            .map(|e| e.to_string())
    };
    let err = build(json!("darts"), "mlp").unwrap();
    assert!(
        err.contains("no relaxed supernet") && err.contains("`mlp`") && err.contains("nb201"),
        "{err}"
    );
    let err = build(
        json!({ "type": "darts", "arch_learning_rate": 0.0 }),
        "nb201",
    )
    .unwrap();
    assert!(err.contains("arch_learning_rate"), "{err}");
    let err = build(json!({ "type": "darts", "epochs": 0 }), "nb201").unwrap();
    assert!(err.contains("epochs"), "{err}");
}
