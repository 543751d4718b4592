//! The pruners' rules on hand-made reports, and pruned searches on the NB201 tabular
//! ladder: pruned trials journaled with their rung, the same trials after a resume, less
//! simulated time per trial, and bad configs named.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::config::ExperimentConfig;
use nas_core::pruner::{PrunerConfig, Reports};
use nas_core::search::Quiet;
use nas_core::{Experiment, Outcome, TrialResult};
use nas_eval as _;
use nas_evo as _;
use nas_prune::{HyperbandConfig, MedianConfig, SuccessiveHalvingConfig};
use nas_space as _;
use nas_storage_sqlite as _;

#[test]
fn median_stopping_prunes_below_the_median_of_the_others_after_its_startup() {
    let p = MedianConfig {
        startup_trials: 3,
        warmup_steps: 1,
    }
    .build()
    .unwrap();
    let mut r = Reports::default();
    for (t, s) in [(0, 0.5), (1, 0.7), (2, 0.9)] {
        r.record(t, 1, s);
        r.record(t, 2, s);
    }
    r.record(3, 1, 0.1);
    assert!(!p.prune(3, 1, &r), "warm-up step");
    r.record(3, 2, 0.6);
    assert!(p.prune(3, 2, &r), "0.6 is below the others' median 0.7");
    r.record(4, 2, 0.8);
    assert!(
        !p.prune(4, 2, &r),
        "0.8 is above the median of 0.5, 0.6, 0.7, 0.9"
    );
    let mut few = Reports::default();
    few.record(0, 2, 0.9);
    few.record(1, 2, 0.1);
    assert!(!p.prune(1, 2, &few), "one other trial: still starting up");
}

#[test]
fn successive_halving_keeps_the_top_third_at_each_rung_once() {
    let p = SuccessiveHalvingConfig {
        min_step: 1,
        reduction_factor: 3,
    }
    .build()
    .unwrap();
    let mut r = Reports::default();
    // Rungs at steps 1, 3, 9. The first trial at a rung is its best so far: it goes on.
    r.record(0, 1, 0.5);
    assert!(!p.prune(0, 1, &r));
    r.record(1, 1, 0.4);
    assert!(p.prune(1, 1, &r), "below the best of two");
    r.record(2, 1, 0.6);
    assert!(!p.prune(2, 1, &r), "the new best");
    // Step 2 is inside rung 0, which the trial already passed: no decision.
    r.record(2, 2, 0.0);
    assert!(!p.prune(2, 2, &r));
    // Six trials at step 3 (rung 1): the top two go on.
    for (t, s) in [(10, 0.1), (11, 0.2), (12, 0.3), (13, 0.4), (14, 0.5)] {
        r.record(t, 3, s);
    }
    r.record(15, 3, 0.45);
    assert!(!p.prune(15, 3, &r), "second of six");
    r.record(16, 3, 0.35);
    assert!(
        p.prune(16, 3, &r),
        "fourth of seven: only the top two go on"
    );
}

#[test]
fn hyperband_runs_brackets_that_start_halving_later() {
    let h = HyperbandConfig {
        min_step: 1,
        max_step: 200,
        reduction_factor: 3,
    };
    assert_eq!(h.brackets(), 5, "rungs 1, 3, 9, 27, 81");
    let p = h.build().unwrap();
    let mut r = Reports::default();
    // Trials 0 and 5 share bracket 0 (rungs from step 1): the worse stops at step 12.
    r.record(0, 12, 0.9);
    r.record(5, 12, 0.1);
    assert!(p.prune(5, 12, &r));
    // Trial 3 is in bracket 3 (rungs from 27): at step 12 it is never compared.
    r.record(3, 12, 0.0);
    assert!(!p.prune(3, 12, &r));
}

fn ladder(trials: u64, pruner: &str) -> Experiment {
    let config = serde_json::json!({
        "name": "ladder",
        "seed": 7,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": "regularized-evolution",
        "evaluator": { "type": "nb201-table", "epochs": 200 },
        "pruner": pruner,
    });
    Experiment::build(ExperimentConfig::from_json(config).unwrap()).unwrap()
}

fn finished(dir: &std::path::Path) -> Vec<TrialResult> {
    nas_core::storage::read(&format!("sqlite:{}/ladder.sqlite", dir.display()))
        .unwrap()
        .finished
}

#[test]
fn a_pruned_search_journals_the_rung_and_resumes_to_the_same_trials() {
    let whole = tempfile::tempdir().unwrap();
    let report = ladder(60, "successive-halving")
        .run_in(whole.path(), &mut Quiet)
        .unwrap();
    assert!(report.progress.pruned > 10, "{:?}", report.progress);
    let all = finished(whole.path());
    for r in &all {
        match &r.outcome {
            Outcome::Pruned { step, metrics } => {
                assert_eq!(*step, 12);
                assert_eq!(metrics.get("epochs"), Some(12.0));
                assert_eq!(r.intermediate.len(), 1);
                assert_eq!(r.intermediate[0].get("step"), Some(12.0));
            }
            Outcome::Completed { metrics } => assert_eq!(metrics.get("epochs"), Some(200.0)),
            Outcome::Failed { reason } => panic!("{reason}"),
        }
    }
    // Cut after 25 trials, then resumed: the pruner sees the journaled reports again.
    let cut = tempfile::tempdir().unwrap();
    ladder(25, "successive-halving")
        .run_in(cut.path(), &mut Quiet)
        .unwrap();
    let report = ladder(60, "successive-halving")
        .run_in(cut.path(), &mut Quiet)
        .unwrap();
    assert_eq!(report.resumed, 25);
    let strip = |v: Vec<TrialResult>| {
        v.into_iter()
            .map(|r| (r.trial, r.outcome))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(finished(cut.path())), strip(all));
}

#[test]
fn pruned_trials_cost_their_rung_only() {
    let config = |pruner: Option<&str>| {
        let mut c = serde_json::json!({
            "name": "cost",
            "seed": 2,
            "budget": { "trials": 40 },
            "space": "nb201",
            "strategy": "random",
            "evaluator": { "type": "nb201-table", "epochs": 200 },
        });
        if let Some(p) = pruner {
            c["pruner"] = serde_json::json!(p);
        }
        Experiment::build(ExperimentConfig::from_json(c).unwrap()).unwrap()
    };
    let run = |pruner| {
        config(pruner)
            .run_with(&mut nas_core::journal::NullJournal, &mut Quiet, None)
            .unwrap()
            .progress
    };
    let (plain, pruned) = (run(None), run(Some("median")));
    // Random search proposes the same 40 cells either way; the pruned ones cost 12 epochs.
    assert_eq!(plain.finished, pruned.finished);
    assert!(pruned.pruned > 5, "{pruned:?}");
    assert!(
        pruned.simulated_seconds < plain.simulated_seconds * 0.9,
        "{} against {}",
        pruned.simulated_seconds,
        plain.simulated_seconds
    );
}

#[test]
fn bad_pruner_configs_are_named() {
    let build = |pruner: serde_json::Value, strategy: &str| {
        let config = serde_json::json!({
            "name": "bad",
            "budget": { "trials": 1 },
            "space": "nb201",
            "strategy": strategy,
            "evaluator": { "type": "nb201-table", "epochs": 200 },
            "pruner": pruner,
        });
        ExperimentConfig::from_json(config)
            .map_err(|e| e.to_string())
            .and_then(|c| Experiment::build(c).map(|_| ()).map_err(|e| e.to_string()))
            .unwrap_err()
    };
    let e = build(
        serde_json::json!({"type": "successive-halving", "reduction_factor": 1}),
        "random",
    );
    assert!(e.contains("reduction_factor"), "{e}");
    let e = build(
        serde_json::json!({"type": "hyperband", "min_step": 5, "max_step": 2}),
        "random",
    );
    assert!(e.contains("max_step"), "{e}");
    let e = build(
        serde_json::json!({"type": "median", "startup_trials": 0}),
        "random",
    );
    assert!(e.contains("startup_trials"), "{e}");
    let e = build(serde_json::json!({"type": "asha"}), "random");
    assert!(
        e.contains("asha") && e.contains("successive-halving"),
        "{e}"
    );
    let e = build(
        serde_json::json!({"type": "median", "patience": 3}),
        "random",
    );
    assert!(e.contains("patience"), "{e}");
}
