//! ENAS on the embedded digits: the search phase trains shared weights that beat chance,
//! is deterministic, hands distinct derived cells to the final evaluator best first, resumes
//! without training the supernet again, and refuses what it cannot search.

use nas_core::config::ExperimentConfig;
use nas_core::search::{Observer, Quiet};
use nas_core::{Experiment, SearchSpace};
use nas_enas::{EnasConfig, SupernetSearch};
use nas_space::Nb201Space;
use serde_json::json;
use std::sync::Arc;

/// A search phase small enough for a test: two epochs on digits.
fn tiny() -> EnasConfig {
    EnasConfig {
        epochs: 2,
        controller_steps: 10,
        derive_samples: 8,
        derive_images: 128,
        ..EnasConfig::default()
    }
}

fn experiment(name: &str, trials: u64) -> Experiment {
    let config = json!({
        "name": name,
        "seed": 3,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": { "type": "enas", "epochs": 2, "controller_steps": 10,
                      "derive_samples": 8, "derive_images": 128 },
        "evaluator": { "type": "train", "epochs": 1 },
    });
    Experiment::build(ExperimentConfig::from_json(config).unwrap()).unwrap()
}

#[derive(Default)]
struct Messages(Vec<String>);
impl Observer for Messages {
    fn on_message(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

#[test]
fn the_search_phase_learns_and_is_deterministic() {
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let phase = SupernetSearch::new(&tiny(), Arc::clone(&space)).unwrap();
    let mut lines = Vec::new();
    let (a, trained) = phase.run(7, &mut |m| lines.push(m.to_string())).unwrap();
    assert_eq!(lines.len(), 2, "one line per epoch: {lines:?}");
    assert!(a.cost.shared_steps > 0 && a.cost.controller_steps == 20);
    assert!(!a.candidates.is_empty() && a.candidates.len() <= 8);
    // Distinct cells, best first.
    let mut prints: Vec<u64> = a
        .candidates
        .iter()
        .map(|c| space.fingerprint(&c.genotype).0)
        .collect();
    assert!(
        a.candidates
            .windows(2)
            .all(|w| w[0].supernet_acc >= w[1].supernet_acc)
    );
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), a.candidates.len());
    // Ten classes: chance is 10%. Two epochs of shared weights do much better on the
    // best derived cell.
    assert!(a.candidates[0].supernet_acc > 40.0, "{:?}", a.candidates[0]);
    // The trained weights score a cell the same way the derivation did.
    let images: Vec<usize> = (0..128).collect();
    let again = trained
        .accuracy(&a.candidates[0].genotype, &phase.data.splits.valid, &images)
        .unwrap();
    assert!((again - a.candidates[0].supernet_acc).abs() < 1e-9);

    let (b, _) = phase.run(7, &mut |_| {}).unwrap();
    assert_eq!(a.candidates, b.candidates, "same seed, same search");
    assert_eq!(a.cost.shared_steps, b.cost.shared_steps);
}

#[test]
fn an_experiment_evaluates_the_derived_cells_and_resumes_without_searching_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = experiment("enas", 2);
    let mut seen = Messages::default();
    let report = e.run_in(dir.path(), &mut seen).unwrap();
    assert_eq!(report.progress.finished, 2);
    assert!(
        seen.0.iter().any(|m| m.contains("search phase done")),
        "{:?}",
        seen.0
    );
    let journal = nas_storage_sqlite::SqliteJournal::read(&e.journal_path(dir.path())).unwrap();
    let cells: Vec<_> = journal
        .finished
        .iter()
        .map(|r| r.trial.genotype.clone())
        .collect();
    assert_eq!(cells.len(), 2);
    assert_ne!(cells[0], cells[1]);
    // The checkpoint holds the search phase; its first candidates are the trials.
    let checkpoint = journal.checkpoint.unwrap();
    let first = &checkpoint["phase"]["candidates"][0]["genotype"];
    assert_eq!(first, &serde_json::to_value(&cells[0]).unwrap());

    // A larger budget continues with the next candidate, without a new search phase.
    let mut more = experiment("enas", 3);
    let mut seen = Messages::default();
    let report = more.run_in(dir.path(), &mut seen).unwrap();
    assert_eq!(report.progress.finished, 3);
    assert_eq!(report.resumed, 2);
    assert!(
        seen.0.iter().any(|m| m.contains("restored")),
        "{:?}",
        seen.0
    );
    assert!(!seen.0.iter().any(|m| m.contains("epoch")), "{:?}", seen.0);
    let _ = Quiet;
}

#[test]
fn enas_refuses_other_spaces_and_bad_configs() {
    let mlp = json!({
        "name": "x", "budget": { "trials": 1 }, "space": "mlp",
        "strategy": "enas", "evaluator": "train",
    });
    let err = Experiment::build(ExperimentConfig::from_json(mlp).unwrap())
        .unwrap_err()
        .to_string();
    // The spaces that register a supernet are named.
    assert!(
        err.contains("no weight-sharing supernet")
            && err.contains("`mlp`")
            && err.contains("nb201"),
        "{err}"
    );

    let unique = json!({
        "name": "x", "budget": { "trials": 1 }, "space": "nb201",
        "strategy": { "type": "enas", "controller": { "unique": true } },
        "evaluator": "train",
    });
    let err = Experiment::build(ExperimentConfig::from_json(unique).unwrap()).unwrap_err();
    assert!(err.to_string().contains("controller.unique"), "{err}");

    let epochs = json!({
        "name": "x", "budget": { "trials": 1 }, "space": "nb201",
        "strategy": { "type": "enas", "epochs": 0 }, "evaluator": "train",
    });
    let err = Experiment::build(ExperimentConfig::from_json(epochs).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains("one-shot method `enas`: field `epochs`"),
        "{err}"
    );
}
