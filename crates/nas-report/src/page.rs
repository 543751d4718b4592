//! The HTML page: a section per experiment, a comparison when there are several. Every
//! figure is inline SVG in a `<figure>` with an id, so that tests (and people) find it.

use crate::analysis::{
    Points, anytime_by_seconds, anytime_by_trial, generalization, operation_frequencies, pareto,
    ranked, value,
};
use crate::chart::{self, Series};
use crate::{ReportError, Run};
use nas_core::{Goal, Objective};
use std::fmt::Write as _;

/// The held-out metric the generalization figure sets against the objective.
const TEST_METRIC: &str = "test_acc";

/// At most this many dots a scatter plot: a 100,000-trial experiment drew every trial
/// into a 20 MB page.
const MAX_DOTS: usize = 4000;

/// Cost metrics an accuracy is traded against, where trials report them.
const COSTS: [(&str, &str); 3] = [
    ("params_m", "parameters (M)"),
    ("flops_m", "FLOPs (M)"),
    ("latency_ms", "latency (ms)"),
];

const STYLE: &str = "body{font-family:sans-serif;max-width:1340px;margin:2em auto;color:#222}\
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}\
figcaption{max-width:640px;font-size:90%;color:#444}\
table{border-collapse:collapse;margin:0.5em 0 1.5em}\
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}\
th{background:#f4f4f4}code{font-size:95%}";

/// `text` safe inside HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn figure(
    out: &mut String,
    id: &str,
    svg: Result<String, String>,
    caption: &str,
) -> Result<(), ReportError> {
    let svg = svg.map_err(|reason| ReportError::Draw {
        figure: id.to_string(),
        reason,
    })?;
    let _ = writeln!(
        out,
        "<figure id=\"{id}\">{svg}<figcaption>{}</figcaption></figure>",
        escape(caption)
    );
    Ok(())
}

/// A field of the stored config, as text.
fn config_text(run: &Run, part: &str) -> String {
    let c = &run.state.config;
    c.get(part)
        .and_then(|p| p.get("type").or(Some(p)))
        .and_then(|t| {
            t.as_str()
                .map(str::to_string)
                .or_else(|| Some(t.to_string()))
        })
        .unwrap_or_else(|| "?".into())
}

fn goal_word(o: &Objective) -> &'static str {
    match o.goal {
        Goal::Maximize => "higher is better",
        Goal::Minimize => "lower is better",
    }
}

/// The report of `runs` as one HTML page; `top` best trials feed the generalization
/// figure and the operation statistics.
///
/// # Errors
/// No runs, a run without an objective, a figure plotters could not draw.
pub fn html(runs: &[Run], top: usize) -> Result<String, ReportError> {
    if runs.is_empty() {
        return Err(ReportError::Empty);
    }
    for run in runs {
        if run.objectives.is_empty() {
            return Err(ReportError::NoObjective(run.name.clone()));
        }
    }
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>NAS report: {}</title><style>{STYLE}</style></head><body>\n\
         <h1>Trade-off report: {}</h1>\n\
         <p>Every figure is computed from the experiments' journals.</p>\n",
        escape(&names.join(", ")),
        escape(&names.join(", "))
    );
    if runs.len() > 1 {
        comparison(&mut out, runs)?;
    }
    for (i, run) in runs.iter().enumerate() {
        section(&mut out, run, i, top)?;
    }
    out += "</body></html>\n";
    Ok(out)
}

/// Each run's points under its name.
fn named<'a>(runs: &'a [Run], points: &'a [Points]) -> Vec<Series<'a>> {
    runs.iter()
        .zip(points)
        .map(|(r, p)| Series {
            name: &r.name,
            points: p,
        })
        .collect()
}

/// The runs side by side: anytime curves overlaid and a cost/result table.
fn comparison(out: &mut String, runs: &[Run]) -> Result<(), ReportError> {
    out.push_str("<section id=\"comparison\"><h2>Side by side</h2>\n");
    let objective = &runs[0].objectives[0];
    let by_trial: Vec<Points> = runs.iter().map(anytime_by_trial).collect();
    let series = named(runs, &by_trial);
    figure(
        out,
        "compare-anytime-trials",
        chart::lines(
            "Best so far, by trials",
            "trials finished",
            &objective.metric,
            &series,
        ),
        &format!(
            "The best {} found so far by each experiment.",
            objective.metric
        ),
    )?;
    let by_seconds: Vec<Points> = runs.iter().map(anytime_by_seconds).collect();
    if by_seconds.iter().any(|p| !p.is_empty()) {
        let series = named(runs, &by_seconds);
        figure(
            out,
            "compare-anytime-seconds",
            chart::lines(
                "Best so far, by training time",
                "simulated training seconds",
                &objective.metric,
                &series,
            ),
            "Search cost against result: the same curves against the training time spent.",
        )?;
    }
    out.push_str(
        "<table><tr><th>experiment</th><th>strategy</th><th>trials</th>\
         <th>training s</th><th>best</th><th>its test</th><th>its params (M)</th></tr>\n",
    );
    for run in runs {
        let best = ranked(run).into_iter().next();
        let metric = |name: &str| {
            best.and_then(|b| b.outcome.metrics())
                .and_then(|m| m.get(name))
                .map_or("-".to_string(), |v| format!("{v:.3}"))
        };
        let seconds: f64 = anytime_by_seconds(run).last().map_or(0.0, |p| p.0);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{seconds:.0}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&run.name),
            escape(&config_text(run, "strategy")),
            run.state.finished.len(),
            best.and_then(|b| value(&run.objectives[0], b))
                .map_or("-".to_string(), |v| format!("{v:.3}")),
            metric(TEST_METRIC),
            metric("params_m"),
        );
    }
    out.push_str("</table></section>\n");
    Ok(())
}

/// One experiment's figures and tables.
fn section(out: &mut String, run: &Run, i: usize, top: usize) -> Result<(), ReportError> {
    let objective = &run.objectives[0];
    let count = |state: &str| {
        run.state
            .finished
            .iter()
            .filter(|r| r.outcome.state_name() == state)
            .count()
    };
    let _ = write!(
        out,
        "<section id=\"run-{i}\"><h2>{}</h2>\n<p>space <code>{}</code>, strategy <code>{}</code>, \
         evaluator <code>{}</code>; {} trials finished ({} completed, {} pruned, {} failed); \
         objective {} ({}).</p>\n",
        escape(&run.name),
        escape(&config_text(run, "space")),
        escape(&config_text(run, "strategy")),
        escape(&config_text(run, "evaluator")),
        run.state.finished.len(),
        count("completed"),
        count("pruned"),
        count("failed"),
        escape(&objective.metric),
        goal_word(objective),
    );
    let by_trial = anytime_by_trial(run);
    figure(
        out,
        &format!("anytime-trials-{i}"),
        chart::lines(
            "Best so far, by trials",
            "trials finished",
            &objective.metric,
            &[Series {
                name: &run.name,
                points: &by_trial,
            }],
        ),
        "The anytime curve: the best value found after each finished trial.",
    )?;
    let by_seconds = anytime_by_seconds(run);
    if !by_seconds.is_empty() {
        figure(
            out,
            &format!("anytime-seconds-{i}"),
            chart::lines(
                "Best so far, by training time",
                "simulated training seconds",
                &objective.metric,
                &[Series {
                    name: &run.name,
                    points: &by_seconds,
                }],
            ),
            "Search cost against result: the best value against the training time spent \
             (pruned trials' partial training included).",
        )?;
    }
    pareto_figures(out, run, i)?;
    generalization_figure(out, run, i, top)?;
    best_architecture(out, run);
    frequencies(out, run, top);
    out.push_str("</section>\n");
    Ok(())
}

/// The objective against each cost the trials report, and against the other objectives,
/// with the front.
fn pareto_figures(out: &mut String, run: &Run, i: usize) -> Result<(), ReportError> {
    let objective = &run.objectives[0];
    let mut costs: Vec<(String, Objective)> = COSTS
        .iter()
        .map(|(metric, label)| {
            (
                label.to_string(),
                Objective {
                    metric: metric.to_string(),
                    goal: Goal::Minimize,
                },
            )
        })
        .collect();
    for other in run.objectives.iter().skip(1) {
        costs.push((other.metric.clone(), other.clone()));
    }
    for (label, x) in &costs {
        let (points, front) = pareto(run, x);
        if points.is_empty() {
            continue;
        }
        // The front is found among all trials; the dots are thinned to every k-th.
        let every = points.len().div_ceil(MAX_DOTS);
        let shown: Points = points.iter().copied().step_by(every).collect();
        let dots = if every == 1 {
            "Every completed trial".to_string()
        } else {
            format!(
                "{} of the {} completed trials (one in every {every}, in trial order)",
                shown.len(),
                points.len()
            )
        };
        figure(
            out,
            &format!("pareto-{}-{i}", x.metric),
            chart::scatter(
                &format!("{} against {label}", objective.metric),
                label,
                &objective.metric,
                &shown,
                &front,
                false,
            ),
            &format!(
                "{dots}; the red line joins the {} trials no other beats on both {} ({}) and \
                 {}.",
                front.len(),
                x.metric,
                goal_word(x),
                objective.metric
            ),
        )?;
    }
    Ok(())
}

/// The objective against the held-out score for the `top` best trials.
fn generalization_figure(
    out: &mut String,
    run: &Run,
    i: usize,
    top: usize,
) -> Result<(), ReportError> {
    let objective = &run.objectives[0];
    let pairs = generalization(run, top, TEST_METRIC);
    if !pairs.is_empty() {
        let gap = pairs.iter().map(|(v, t)| v - t).sum::<f64>() / pairs.len() as f64;
        figure(
            out,
            &format!("generalization-{i}"),
            chart::scatter(
                &format!(
                    "{} against {TEST_METRIC}, best {}",
                    objective.metric,
                    pairs.len()
                ),
                &objective.metric,
                TEST_METRIC,
                &pairs,
                &[],
                true,
            ),
            &format!(
                "Generalization: the {} best trials by {}; their mean {} - {} gap is {gap:.3}.",
                pairs.len(),
                objective.metric,
                objective.metric,
                TEST_METRIC
            ),
        )?;
    }
    Ok(())
}

/// The best trial: its architecture in the space's words and every metric it reported
/// (params, FLOPs, latency where the evaluator measures them).
fn best_architecture(out: &mut String, run: &Run) {
    let Some(best) = ranked(run).into_iter().next() else {
        out.push_str("<p>No trial completed.</p>\n");
        return;
    };
    let _ = write!(
        out,
        "<h3>Best trial: #{}</h3>\n<p><code>{}</code></p>\n<table><tr>",
        best.trial.id,
        escape(&run.space.render(&best.trial.genotype))
    );
    let metrics: Vec<(&str, f64)> = best
        .outcome
        .metrics()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    for (name, _) in &metrics {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr><tr>");
    for (_, v) in &metrics {
        let _ = write!(out, "<td>{v:.4}</td>");
    }
    out.push_str("</tr></table>\n");
}

/// Each categorical decision's choices among the best trials against the whole run.
fn frequencies(out: &mut String, run: &Run, top: usize) {
    let decisions = operation_frequencies(run, top);
    if decisions.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h3>What the search favoured</h3>\n<p>Share of each choice among the {top} best \
         trials (and among all {} trials).</p>\n<table id=\"favoured\"><tr><th>decision</th>",
        run.state.finished.len()
    );
    let width = decisions.iter().map(|d| d.choices.len()).max().unwrap_or(0);
    for k in 0..width {
        let _ = write!(out, "<th>choice {k}</th>");
    }
    out.push_str("</tr>\n");
    for d in &decisions {
        let _ = write!(out, "<tr><th>{}</th>", escape(&d.decision));
        for (k, choice) in d.choices.iter().enumerate() {
            let share = d.top.get(k).copied().unwrap_or(0.0);
            let all = d.all.get(k).copied().unwrap_or(0.0);
            let _ = write!(
                out,
                "<td style=\"background:rgba(220,50,32,{:.2})\">{}<br>{:.0}% ({:.0}%)</td>",
                share * 0.8,
                escape(choice),
                share * 100.0,
                all * 100.0
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}
