//! ENAS checkpoints its search phase (issue #14): a phase killed after any epoch resumes
//! from the journal to the same outcome as an uninterrupted run, to the bit; a damaged or
//! foreign state is a clear error, not a panic.

use nas_core::config::ExperimentConfig;
use nas_core::search::{Observer, SearchError};
use nas_core::testkit::journals::{Blobs, KilledAfter};
use nas_core::{Experiment, SearchSpace};
use nas_enas::{EnasConfig, PHASE_KEY, PhaseOutcome, SupernetSearch, TrainedSupernet};
use nas_space::Nb201Space;
use nas_storage_sqlite::SqliteJournal;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Three short epochs on a quarter of the digits.
fn tiny() -> EnasConfig {
    EnasConfig {
        epochs: 3,
        data_fraction: 0.25,
        controller_steps: 5,
        derive_samples: 8,
        derive_images: 128,
        ..EnasConfig::default()
    }
}

/// Every float parameter's bits by path (batch-norm running statistics included).
fn weights(trained: &TrainedSupernet) -> BTreeMap<String, Vec<u32>> {
    let bits = trained.supernet.parameter_bits();
    assert!(!bits.is_empty());
    bits
}

/// Everything but the wall time.
fn same_outcome(a: &PhaseOutcome, b: &PhaseOutcome, what: &str) {
    assert_eq!(
        a.candidates, b.candidates,
        "{what}: derived cells and scores"
    );
    assert_eq!(a.greedy, b.greedy, "{what}");
    assert_eq!(
        a.last_shared_loss.to_bits(),
        b.last_shared_loss.to_bits(),
        "{what}"
    );
    assert_eq!(a.cost.shared_steps, b.cost.shared_steps, "{what}");
    assert_eq!(a.cost.controller_steps, b.cost.controller_steps, "{what}");
    assert_eq!(a.cost.derive_samples, b.cost.derive_samples, "{what}");
    // The controller's distributions by epoch survive the kill too.
    assert_eq!(
        a.controller, b.controller,
        "{what}: the controller's trajectory"
    );
}

fn phase() -> SupernetSearch {
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    SupernetSearch::new(&tiny(), space).unwrap()
}

#[test]
fn a_search_phase_killed_after_any_epoch_resumes_to_the_same_outcome() {
    let phase = phase();
    let mut whole = Blobs::default();
    let (want, want_trained) = phase.run_journaled(7, &mut whole, &mut |_| {}).unwrap();
    let size = whole.0[PHASE_KEY].len();
    println!("search-phase blob: {size} bytes");
    assert!(want.cost.wall_seconds > 0.0);
    // NB201's six edges share the five operations: the controller's distributions along
    // its greedy cell, one table an epoch, each row a distribution.
    let controller = want.controller.as_ref().unwrap();
    assert_eq!(controller.shape, [6, 5]);
    assert_eq!(controller.candidates[1], "skip_connect");
    let epochs: Vec<u32> = controller.trajectory.iter().map(|e| e.epoch).collect();
    assert_eq!(epochs, [1, 2, 3]);
    for e in &controller.trajectory {
        for row in e.probabilities.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }

    for killed in 1..=3 {
        let mut journal = Blobs::default();
        let mut lines = Vec::new();
        let err = phase
            .run_journaled(
                7,
                &mut KilledAfter {
                    inner: &mut journal,
                    after: killed,
                    saved: 0,
                },
                &mut |m| lines.push(m.to_string()),
            )
            .unwrap_err();
        assert!(matches!(err, SearchError::Journal(_)), "{err}");
        assert_eq!(lines.len(), killed, "{lines:?}");

        let mut lines = Vec::new();
        let (got, got_trained) = phase
            .run_journaled(7, &mut journal, &mut |m| lines.push(m.to_string()))
            .unwrap();
        assert_eq!(
            lines[0],
            format!(
                "enas: resumed the search phase at epoch {killed} of 3 (its state after that \
                 epoch, from the journal)"
            )
        );
        // Only the epochs after the kill ran.
        assert_eq!(lines.len(), 1 + 3 - killed, "{lines:?}");
        assert!(
            lines[1..]
                .iter()
                .all(|l| !l.contains(&format!("epoch {killed}/")))
        );
        same_outcome(&want, &got, &format!("killed after epoch {killed}"));
        let (wa, wb) = (weights(&want_trained), weights(&got_trained));
        let differ: Vec<&String> = wa.keys().filter(|k| wa.get(*k) != wb.get(*k)).collect();
        assert!(
            differ.is_empty() && wa.len() == wb.len(),
            "killed after epoch {killed}: the final shared weights differ in {differ:?}"
        );
        // The last state saved resumes too: a finished phase goes straight to the derivation.
        let mut lines = Vec::new();
        let (again, _) = phase
            .run_journaled(7, &mut journal, &mut |m| lines.push(m.to_string()))
            .unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("at epoch 3 of 3"), "{lines:?}");
        same_outcome(&want, &again, "resumed after the last epoch");
    }
}

#[test]
fn a_damaged_or_foreign_search_phase_state_is_a_clear_error() {
    let phase = phase();
    let mut journal = Blobs::default();
    phase
        .run_journaled(
            7,
            &mut KilledAfter {
                inner: &mut journal,
                after: 1,
                saved: 0,
            },
            &mut |_| {},
        )
        .unwrap_err();
    let good = journal.0[PHASE_KEY].clone();
    let resume = |bytes: Vec<u8>, seed: u64, phase: &SupernetSearch| {
        let mut j = Blobs::default();
        j.0.insert(PHASE_KEY.to_string(), bytes);
        match phase.run_journaled(seed, &mut j, &mut |_| {}) {
            Err(SearchError::Resume(m)) => {
                assert!(m.contains(PHASE_KEY), "names the blob: {m}");
                m
            }
            Err(e) => panic!("not a resume error: {e}"),
            Ok(_) => panic!("resumed from a bad state"),
        }
    };
    let err = resume(b"PK\x03\x04 not ours at all".to_vec(), 7, &phase);
    assert!(err.contains("foreign"), "{err}");
    let err = resume(Vec::new(), 7, &phase);
    assert!(err.contains("foreign"), "{err}");

    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    let err = resume(flipped, 7, &phase);
    assert!(err.contains("checksum"), "{err}");
    let err = resume(good[..good.len() - 100].to_vec(), 7, &phase);
    assert!(err.contains("checksum"), "{err}");

    let mut newer = good.clone();
    newer[15] = b'9';
    let err = resume(newer, 7, &phase);
    assert!(err.contains("format version 9"), "{err}");

    // Another seed, another config: the state of another search.
    let err = resume(good.clone(), 8, &phase);
    assert!(err.contains("another search"), "{err}");
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let other = SupernetSearch::new(
        &EnasConfig {
            channels: 4,
            ..tiny()
        },
        space,
    )
    .unwrap();
    let err = resume(good.clone(), 7, &other);
    assert!(err.contains("another search"), "{err}");

    // The untouched state still resumes.
    let mut j = Blobs::default();
    j.0.insert(PHASE_KEY.to_string(), good);
    phase.run_journaled(7, &mut j, &mut |_| {}).unwrap();
}

#[derive(Default)]
struct Messages(Vec<String>);
impl Observer for Messages {
    fn on_message(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

fn experiment() -> Experiment {
    let config = json!({
        "name": "enas-killed",
        "seed": 3,
        "budget": { "trials": 2 },
        "space": "nb201",
        "strategy": { "type": "enas", "epochs": 2, "data_fraction": 0.25,
                      "controller_steps": 5, "derive_samples": 8, "derive_images": 128 },
        "evaluator": { "type": "train", "epochs": 1, "data_fraction": 0.25 },
    });
    Experiment::build(ExperimentConfig::from_json(config).unwrap()).unwrap()
}

/// A finished trial: its cell, seed and metrics (the bits), wall-clock metrics left out.
type Finished = (nas_core::Genotype, u64, Vec<(String, u64)>);

/// The finished trials and the phase outcome a journal holds, wall time left out.
fn record(path: &std::path::Path) -> (Vec<Finished>, serde_json::Value) {
    let state = SqliteJournal::read(path).unwrap();
    let trials = state
        .finished
        .iter()
        .map(|r| {
            let metrics = r
                .outcome
                .metrics()
                .unwrap()
                .iter()
                .filter(|(k, _)| !k.contains("seconds") && !k.contains("latency"))
                .map(|(k, v)| (k.to_string(), v.to_bits()))
                .collect();
            (r.trial.genotype.clone(), r.trial.seed, metrics)
        })
        .collect();
    let mut phase = state.checkpoint.unwrap()["phase"].clone();
    phase["cost"]["wall_seconds"] = json!(null);
    (trials, phase)
}

#[test]
fn an_experiment_killed_in_its_search_phase_resumes_there_through_the_sqlite_journal() {
    let whole = tempfile::tempdir().unwrap();
    let mut e = experiment();
    e.run_in(whole.path(), &mut Messages::default()).unwrap();
    let want = record(&e.journal_path(whole.path()));
    assert_eq!(want.0.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let mut e = experiment();
    let space = Arc::clone(&e.space);
    let (mut sqlite, state) = SqliteJournal::open(
        &e.journal_path(dir.path()),
        &e.config.to_json().unwrap(),
        Box::new(move |t| space.render(&t.genotype)),
    )
    .unwrap();
    let mut seen = Messages::default();
    let err = e
        .run_with(
            &mut KilledAfter {
                inner: &mut sqlite,
                after: 1,
                saved: 0,
            },
            &mut seen,
            state,
        )
        .unwrap_err();
    assert!(err.to_string().contains("killed after blob 1"), "{err}");
    drop(sqlite);

    let mut e = experiment();
    let mut seen = Messages::default();
    let report = e.run_in(dir.path(), &mut seen).unwrap();
    assert_eq!(report.progress.finished, 2);
    assert!(
        seen.0
            .iter()
            .any(|m| m.starts_with("enas: resumed the search phase at epoch 1 of 2")),
        "{:?}",
        seen.0
    );
    assert!(
        !seen.0.iter().any(|m| m.contains("epoch 1/2")),
        "{:?}",
        seen.0
    );
    assert!(
        seen.0.iter().any(|m| m.contains("epoch 2/2")),
        "{:?}",
        seen.0
    );
    assert_eq!(record(&e.journal_path(dir.path())), want);
}
