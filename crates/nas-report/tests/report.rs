//! The report of real experiments (the tabular benchmark, one and two objectives): every
//! figure is there with its series drawn, the page is self-contained, and the figures
//! follow the journal.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::search::Quiet;
use nas_core::storage;
use nas_core::{Experiment, ExperimentConfig, Outcome};
use nas_eval as _;
use nas_evo as _;
use nas_report::{Run, html};
use nas_space as _;
use nas_storage_sqlite as _;

/// A finished tabular search of `trials` trials, read back from its journal.
fn run(name: &str, strategy: &str, objectives: &[&str], trials: u64) -> Run {
    run_with(name, serde_json::json!(strategy), objectives, trials)
}

fn run_with(name: &str, strategy: serde_json::Value, objectives: &[&str], trials: u64) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config = ExperimentConfig::from_json(serde_json::json!({
        "name": name,
        "seed": 3,
        "budget": { "trials": trials },
        "objectives": objectives,
        "space": "nb201",
        "strategy": strategy,
        "evaluator": { "type": "nb201-table", "epochs": 200 },
    }))
    .unwrap();
    let mut e = Experiment::build(config).unwrap();
    let url = e.storage_in(dir.path()).unwrap();
    e.run_at(&url, &mut Quiet).unwrap();
    let mut state = storage::read(&url).unwrap();
    state.conform(e.space.as_ref());
    Run {
        name: name.into(),
        state,
        space: e.space.clone(),
        objectives: e.objectives.clone(),
    }
}

/// The markup of the figure `id`.
fn figure<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<figure id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let end = start + page[start..].find("</figure>").unwrap();
    &page[start..end]
}

/// The `points` of each polyline in `svg` that has some.
fn lines(svg: &str) -> Vec<&str> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let at = p.find("points=\"")? + 8;
            let points = &p[at..at + p[at..].find('"')?];
            (!points.trim().is_empty()).then_some(points)
        })
        .collect()
}

#[test]
fn every_figure_of_a_two_objective_search_is_drawn_from_its_journal() {
    let r = run("two", "nsga2", &["valid_acc", "params_m"], 80);
    let page = html(std::slice::from_ref(&r), 10).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Self-contained: nothing fetched, nothing run.
    for banned in ["<script", " src=", "href=", "@import", "url("] {
        assert!(!page.contains(banned), "{banned}");
    }
    // The anytime curves: the curve and the mesh's lines.
    for id in ["anytime-trials-0", "anytime-seconds-0"] {
        assert!(!lines(figure(&page, id)).is_empty(), "{id}");
    }
    // Pareto fronts against each cost, and of the two objectives: a dot per trial that
    // reports both, and the front's line.
    let completed = r
        .state
        .finished
        .iter()
        .filter(|t| matches!(t.outcome, Outcome::Completed { .. }))
        .count();
    for id in ["pareto-params_m-0", "pareto-flops_m-0"] {
        let svg = figure(&page, id);
        // One circle a trial, and one in the legend.
        assert_eq!(svg.matches("<circle").count(), completed + 1, "{id}");
        assert!(!lines(svg).is_empty(), "{id}");
    }
    // Validation against test for the 10 best, with the diagonal.
    let svg = figure(&page, "generalization-0");
    assert_eq!(svg.matches("<circle").count(), 10 + 1);
    assert!(figure(&page, "generalization-0").contains("gap is"));
    // The best trial and the operation statistics: NB201 has six edges.
    assert!(page.contains("<h3>Best trial: #"));
    let favoured = &page[page.find("<table id=\"favoured\">").unwrap()..];
    let favoured = &favoured[..favoured.find("</table>").unwrap()];
    // A header row, then a row an edge.
    assert_eq!(favoured.matches("<tr><th>").count(), 1 + 6);
    // The compute curve; the best cell drawn, an arrow an edge that is not `none`.
    assert!(!lines(figure(&page, "anytime-flops-0")).is_empty());
    let best = nas_report::ranked(&r)[0];
    let edges = r.space.draw(&best.trial.genotype)[0].edges.len();
    assert_eq!(lines(figure(&page, "architecture-0-0")).len(), edges);
    assert!(page.contains("<summary>Graphviz DOT"));
    // Transfer: a curve a dataset of the table, beside the mesh.
    assert!(lines(figure(&page, "transfer-0")).len() >= 3);
    let table = &page[page.find("<table id=\"transfer-table-0\">").unwrap()..];
    for dataset in ["cifar10", "cifar100", "imagenet16"] {
        assert!(
            table.contains(&format!("<tr><th>{dataset}</th>")),
            "{dataset}"
        );
    }
    // This run beside the published searches.
    let costs = &page[page.find("<table id=\"cost-result\">").unwrap()..];
    assert!(costs.contains("<b>two</b> (nsga2)") && costs.contains("AmoebaNet-A"));
}

#[test]
fn transfer_looks_the_best_trials_up_on_every_dataset_of_the_table() {
    let r = run("transfer", "regularized-evolution", &[], 60);
    let t = nas_report::transfer(&r, 5).unwrap().unwrap();
    assert_eq!(t.datasets, ["cifar10", "cifar100", "imagenet16"]);
    assert_eq!(t.searched.as_deref(), Some("cifar10"));
    assert_eq!(t.trials.len(), 5);
    let table = nas_eval::nb201_table::Nb201Table::embedded().unwrap();
    let ranked = nas_report::ranked(&r);
    for (k, id) in t.trials.iter().enumerate() {
        assert_eq!(*id, ranked[k].trial.id);
        let row = table.lookup(&ranked[k].trial.genotype).unwrap();
        for (d, dataset) in nas_eval::nb201_table::Dataset::ALL.iter().enumerate() {
            assert_eq!(t.accuracies[d][k], row.entry(*dataset).test_acc);
            assert!((0.0..=100.0).contains(&t.percentiles[d][k]));
        }
    }
    // The table's optimum, as REFERENCE-NUMBERS.md gives it.
    assert!(
        (t.table_best[0] - 94.37).abs() < 0.01,
        "{}",
        t.table_best[0]
    );
    // A dataset's order agrees with itself.
    assert_eq!(t.correlations[1][1], Some(1.0));
}

#[test]
fn a_one_shot_phase_in_the_checkpoint_is_plotted_and_follows_it() {
    let mut r = run("phase", "random", &[], 5);
    let ops = [
        "none",
        "skip_connect",
        "nor_conv_1x1",
        "nor_conv_3x3",
        "avg_pool_3x3",
    ];
    let probabilities = |skip: f32| {
        let other = (1.0 - skip) / 4.0;
        let row = [other, skip, other, other, other];
        row.repeat(6)
    };
    let checkpoint = |last: f32| {
        serde_json::json!({ "phase": {
            "shape": [6, 5],
            "candidates": ops,
            "trajectory": [
                { "epoch": 1, "probabilities": probabilities(0.2) },
                { "epoch": 2, "probabilities": probabilities(last) },
            ],
            "cost": { "wall_seconds": 12.5 },
        }, "proposed": true })
    };
    r.state.checkpoint = Some(checkpoint(0.6));
    let page = html(std::slice::from_ref(&r), 10).unwrap();
    // Five candidates' curves (and their legend marks) beside the mesh.
    assert!(lines(figure(&page, "phase-weights-0")).len() >= 5);
    assert!(page.contains("12.5 s of wall time"));
    assert!(page.contains("<table id=\"phase-last-0\">"));
    let phase = nas_report::phase(&r).unwrap();
    let means = phase.weights.unwrap().mean_by_candidate();
    assert!((means[1][1].1 - 0.6).abs() < 1e-6, "{means:?}");
    // Another trajectory, another figure; no phase, no figure.
    r.state.checkpoint = Some(checkpoint(0.9));
    let other = html(std::slice::from_ref(&r), 10).unwrap();
    assert_ne!(
        figure(&page, "phase-weights-0"),
        figure(&other, "phase-weights-0")
    );
    // A controller's probabilities (ENAS), under `phase.controller`.
    let controller = serde_json::json!({ "phase": {
        "candidates": [{ "genotype": [0, 0, 0, 0, 0, 0], "supernet_acc": 50.0 }],
        "cost": { "wall_seconds": 3.0 },
        "controller": checkpoint(0.7)["phase"].clone(),
    }});
    r.state.checkpoint = Some(controller);
    let page = html(std::slice::from_ref(&r), 10).unwrap();
    assert!(figure(&page, "phase-weights-0").contains("Controller probabilities"));
    assert!(nas_report::phase(&r).unwrap().weights.unwrap().controller);
    r.state.checkpoint = None;
    assert!(
        !html(std::slice::from_ref(&r), 10)
            .unwrap()
            .contains("phase-weights-0")
    );
}

#[test]
fn a_changed_journal_changes_the_figures() {
    let r = run("change", "random", &[], 40);
    let before = html(std::slice::from_ref(&r), 10).unwrap();
    let mut changed = r.clone();
    // Trial 0 now scores above every other: the anytime curve is flat at its value from
    // the first trial on, and it is the best trial.
    if let Outcome::Completed { metrics } = &mut changed.state.finished[0].outcome {
        for (name, v) in &mut metrics.0 {
            if name == "valid_acc" {
                *v = 99.5;
            }
        }
    }
    let after = html(std::slice::from_ref(&changed), 10).unwrap();
    assert_ne!(
        figure(&before, "anytime-trials-0"),
        figure(&after, "anytime-trials-0")
    );
    assert!(after.contains("<h3>Best trial: #0</h3>"));
    assert!(!before.contains("<h3>Best trial: #0</h3>"));
    // The drawing and the transfer are of the new best.
    for id in ["architecture-0-0", "transfer-0", "anytime-flops-0"] {
        assert_ne!(figure(&before, id), figure(&after, id), "{id}");
    }
    // Fewer trials, fewer dots.
    let mut fewer = r.clone();
    fewer.state.finished.truncate(20);
    let page = html(std::slice::from_ref(&fewer), 10).unwrap();
    let completed = fewer
        .state
        .finished
        .iter()
        .filter(|t| matches!(t.outcome, Outcome::Completed { .. }))
        .count();
    assert_eq!(
        figure(&page, "pareto-params_m-0")
            .matches("<circle")
            .count(),
        completed + 1
    );
}

#[test]
fn several_experiments_are_compared_side_by_side() {
    let a = run("random-run", "random", &[], 30);
    let b = run("evolution-run", "regularized-evolution", &[], 30);
    let page = html(&[a, b], 10).unwrap();
    let svg = figure(&page, "compare-anytime-trials");
    // Two curves and their two legend marks, beside the mesh.
    assert!(lines(svg).len() >= 4, "{}", lines(svg).len());
    assert!(page.contains("<td>random-run</td>") && page.contains("<td>evolution-run</td>"));
    assert!(page.contains("id=\"run-0\"") && page.contains("id=\"run-1\""));
    assert!(html(&[], 10).is_err());
}

#[test]
fn a_large_experiment_draws_a_thinned_scatter_around_its_whole_front() {
    let strategy = serde_json::json!({ "type": "random", "unique": false });
    let r = run_with("large", strategy, &[], 10_000);
    let page = html(std::slice::from_ref(&r), 10).unwrap();
    let svg = figure(&page, "pareto-params_m-0");
    // Every 3rd of 10,000 trials (at most 4,000 dots), and the legend's.
    assert_eq!(svg.matches("<circle").count(), 3334 + 1);
    assert!(svg.contains("3334 of the 10000 completed trials (one in every 3,"));
    assert!(page.len() < 3_000_000, "{} bytes", page.len());
}
