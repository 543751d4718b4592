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
