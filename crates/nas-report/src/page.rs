//! The HTML page: a section per experiment, a comparison when there are several. Every
//! figure is inline SVG in a `<figure>` with an id, so that tests (and people) find it.

use crate::analysis::{
    Points, anytime_by_flops, anytime_by_seconds, anytime_by_trial, generalization,
    operation_frequencies, pareto, ranked, value,
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
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top;max-width:100%}\
figure svg{max-width:100%;height:auto}\
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
    cost_and_result(&mut out, runs);
    out += "</body></html>\n";
    Ok(out)
}

/// An axis the anytime curves are drawn against: what a search has spent.
struct Spent {
    /// The figures' ids: `anytime-<key>-<run>` and `compare-anytime-<key>`.
    key: &'static str,
    curve: fn(&Run) -> Points,
    title: &'static str,
    x_desc: &'static str,
    /// Drawn even when empty (every journal has trials to count).
    always: bool,
    /// The caption for one run, and for several (`{metric}`: the objective).
    caption: &'static str,
    compared: &'static str,
}

const SPENT: [Spent; 3] = [
    Spent {
        key: "trials",
        curve: anytime_by_trial,
        title: "Best so far, by trials",
        x_desc: "trials finished",
        always: true,
        caption: "The anytime curve: the best value found after each finished trial.",
        compared: "The best {metric} found so far by each experiment.",
    },
    Spent {
        key: "seconds",
        curve: anytime_by_seconds,
        title: "Best so far, by training time",
        x_desc: "simulated training seconds",
        always: false,
        caption: "Search cost against result: the best value against the training time spent \
                  (pruned trials' partial training included). For a tabular benchmark it is \
                  the benchmark's modelled GPU time; for real training, the measured \
                  wall-clock seconds of each trial's training.",
        compared: "Search cost against result: the same curves against the training time \
                   spent.",
    },
    Spent {
        key: "flops",
        curve: anytime_by_flops,
        title: "Best so far, by training compute",
        x_desc: "training teraFLOPs spent",
        always: false,
        caption: "The same against the compute the trials' training spent (3 x forward FLOPs \
                  x images x epochs): a cost that does not depend on the machine.",
        compared: "The same curves against the training compute spent.",
    },
];

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
    for axis in &SPENT {
        let points: Vec<Points> = runs.iter().map(axis.curve).collect();
        if axis.always || points.iter().any(|p| !p.is_empty()) {
            figure(
                out,
                &format!("compare-anytime-{}", axis.key),
                chart::lines(
                    axis.title,
                    axis.x_desc,
                    &objective.metric,
                    &named(runs, &points),
                ),
                &axis.compared.replace("{metric}", &objective.metric),
            )?;
        }
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

/// The held-out accuracy a run's best trial reports: the 200-epoch test accuracy where a
/// tabular evaluator reports it beside the searched fidelity's, else `test_acc`.
fn best_test(run: &Run) -> Option<f64> {
    let best = ranked(run).into_iter().next()?;
    let m = best.outcome.metrics()?;
    m.get("final_test_acc").or_else(|| m.get(TEST_METRIC))
}

/// `v` with three significant digits (a cost of seconds and one of thousands of days sit
/// in one column).
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// Each run beside the published searches: search cost in days of training against the
/// test accuracy found.
fn cost_and_result(out: &mut String, runs: &[Run]) {
    out.push_str(
        "<section id=\"published\"><h2>Search cost and result, beside published searches</h2>\n\
         <p>Cost is the training time the journal's trials report, in days (simulated GPU \
         time for a tabular benchmark, measured CPU time for real training; a one-shot \
         method's search phase is added in wall time, on this machine). The result is the \
         best trial's test accuracy on the dataset its evaluator names. Published results \
         are CIFAR-10 test accuracy; a DARTS-space figure is after the paper's full \
         retraining, an NB201 one is the table's 200-epoch accuracy, mean over 500 runs.</p>\n\
         <table id=\"cost-result\"><tr><th>search</th><th>space</th><th>cost (days)</th>\
         <th>test accuracy (%)</th><th>dataset</th><th>source</th></tr>\n",
    );
    for run in runs {
        let trials = anytime_by_seconds(run).last().map(|p| p.0);
        let phase = crate::phase::phase(run).and_then(|p| p.wall_seconds);
        let days = match (trials, phase) {
            (None, None) => None,
            (t, p) => Some((t.unwrap_or(0.0) + p.unwrap_or(0.0)) / 86_400.0),
        };
        let _ = writeln!(
            out,
            "<tr><td><b>{}</b> ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>this journal</td></tr>",
            escape(&run.name),
            escape(&config_text(run, "strategy")),
            escape(&config_text(run, "space")),
            days.map_or("-".into(), significant),
            best_test(run).map_or("-".into(), |v| format!("{v:.2}")),
            escape(&crate::analysis::dataset(run).unwrap_or_else(|| "-".into())),
        );
    }
    for p in crate::published::PUBLISHED {
        let result = p.cifar10_test.map_or("-".into(), |(mean, sd)| match sd {
            Some(sd) => format!("{mean:.2} &plusmn; {sd:.2}"),
            None => format!("{mean:.2}"),
        });
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{result}</td><td>cifar10</td>\
             <td>{}{}</td></tr>",
            escape(p.method),
            p.space,
            p.gpu_days.map_or("-".into(), significant),
            p.source,
            if p.from_copy { " (copy)" } else { "" },
        );
    }
    out.push_str("</table></section>\n");
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
    for axis in &SPENT {
        let points = (axis.curve)(run);
        if axis.always || !points.is_empty() {
            figure(
                out,
                &format!("anytime-{}-{i}", axis.key),
                chart::lines(
                    axis.title,
                    axis.x_desc,
                    &objective.metric,
                    &[Series {
                        name: &run.name,
                        points: &points,
                    }],
                ),
                axis.caption,
            )?;
        }
    }
    pareto_figures(out, run, i)?;
    generalization_figure(out, run, i, top)?;
    transfer_figure(out, run, i, top)?;
    phase_figure(out, run, i)?;
    best_architecture(out, run, i)?;
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

/// The top trials on every dataset of the space's tabular benchmark: their percentiles
/// by rank, the best trial against the table's best, and the rank correlations.
fn transfer_figure(out: &mut String, run: &Run, i: usize, top: usize) -> Result<(), ReportError> {
    let t = match crate::transfer::transfer(run, top) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(()),
        Err(reason) => {
            return Err(ReportError::Draw {
                figure: format!("transfer-{i}"),
                reason,
            });
        }
    };
    let points: Vec<Points> = t
        .percentiles
        .iter()
        .map(|p| {
            p.iter()
                .enumerate()
                .map(|(k, &v)| ((k + 1) as f64, v))
                .collect()
        })
        .collect();
    let series: Vec<Series> = t
        .datasets
        .iter()
        .zip(&points)
        .map(|(name, points)| Series { name, points })
        .collect();
    let searched = match (&t.searched, crate::analysis::dataset(run)) {
        (Some(d), _) => format!("it searched on {d}"),
        (None, Some(d)) => format!("it searched on {d}, which the table does not hold"),
        (None, None) => "its evaluator names no dataset".to_string(),
    };
    figure(
        out,
        &format!("transfer-{i}"),
        chart::lines(
            &format!("Transfer of the best {}", t.trials.len()),
            "rank in the search",
            "percentile in the table",
            &series,
        ),
        &format!(
            "Transfer: each of the {} best trials (by {}) looked up on every dataset of the \
             space's tabular benchmark, as the share of the table's architectures it beats \
             there ({searched}). Curves that stay together mean the ranking carries over.",
            t.trials.len(),
            run.objectives[0].metric
        ),
    )?;
    let _ = write!(
        out,
        "<table id=\"transfer-table-{i}\"><tr><th>dataset</th><th>best trial's test</th>\
         <th>its percentile</th><th>table's best</th><th>mean percentile, top {}</th>",
        t.trials.len()
    );
    for d in &t.datasets {
        let _ = write!(out, "<th>Spearman with {}</th>", escape(d));
    }
    out.push_str("</tr>\n");
    for (d, name) in t.datasets.iter().enumerate() {
        let mean = t.percentiles[d].iter().sum::<f64>() / t.percentiles[d].len() as f64;
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{:.2}</td><td>{:.1}</td><td>{:.2}</td><td>{mean:.1}</td>",
            escape(name),
            t.accuracies[d][0],
            t.percentiles[d][0],
            t.table_best[d],
        );
        for r in &t.correlations[d] {
            let _ = write!(
                out,
                "<td>{}</td>",
                r.map_or("-".into(), |r| format!("{r:.2}"))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    Ok(())
}

/// A one-shot method's architecture weights over its search phase: each candidate's
/// probability averaged over the choices, by epoch, and the last epoch's per choice.
fn phase_figure(out: &mut String, run: &Run, i: usize) -> Result<(), ReportError> {
    let Some(phase) = crate::phase::phase(run) else {
        return Ok(());
    };
    if let Some(seconds) = phase.wall_seconds {
        let _ = writeln!(
            out,
            "<p>Search phase (supernet training): {seconds:.1} s of wall time, before the \
             {} trial(s) below.</p>",
            run.state.finished.len()
        );
    }
    let Some(w) = phase.weights else {
        return Ok(());
    };
    let means = w.mean_by_candidate();
    let series: Vec<Series> = w
        .candidates
        .iter()
        .zip(&means)
        .map(|(name, points)| Series { name, points })
        .collect();
    let (title, whose) = if w.controller {
        (
            "Controller probabilities over the search",
            "the controller's probabilities along its greedy cell",
        )
    } else {
        (
            "Architecture weights over the search",
            "the architecture weights",
        )
    };
    figure(
        out,
        &format!("phase-weights-{i}"),
        chart::lines(title, "epoch", "mean probability", &series),
        &format!(
            "Each candidate operation's probability under {whose}, averaged over the {} \
             choices, after each epoch of the search phase: the operation whose curve rises \
             is the one the derived architecture takes (a rise of skip_connect is the known \
             collapse of DARTS).",
            w.rows
        ),
    )?;
    if let Some((epoch, last)) = w.epochs.last() {
        let _ = write!(
            out,
            "<table id=\"phase-last-{i}\"><tr><th>choice (epoch {epoch})</th>"
        );
        for c in &w.candidates {
            let _ = write!(out, "<th>{}</th>", escape(c));
        }
        out.push_str("</tr>\n");
        for (row, p) in last.chunks(w.candidates.len().max(1)).enumerate() {
            // A space whose decisions are the weights' rows (NB201's edges) names them.
            let decisions = run.space.decisions();
            let name = match decisions.get(row) {
                Some(d) if decisions.len() == w.rows => d.name.clone(),
                _ => format!("choice {row}"),
            };
            let _ = write!(out, "<tr><th>{}</th>", escape(&name));
            for v in p {
                let _ = write!(
                    out,
                    "<td style=\"background:rgba(220,50,32,{:.2})\">{:.2}</td>",
                    v * 0.8,
                    v
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    Ok(())
}

/// The best trial: its architecture in the space's words and drawn as graphs, and every
/// metric it reported (params, FLOPs, latency where the evaluator measures them).
fn best_architecture(out: &mut String, run: &Run, i: usize) -> Result<(), ReportError> {
    let Some(best) = ranked(run).into_iter().next() else {
        out.push_str("<p>No trial completed.</p>\n");
        return Ok(());
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
    let graphs = run.space.draw(&best.trial.genotype);
    for (k, graph) in graphs.iter().enumerate() {
        figure(
            out,
            &format!("architecture-{i}-{k}"),
            crate::graph::svg(graph),
            &format!(
                "The best trial's {}: {} nodes, {} edges, each labelled with its operation.",
                graph.title,
                graph.nodes.len(),
                graph.edges.len()
            ),
        )?;
    }
    if !graphs.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Graphviz DOT (<code>nas export</code> writes it too)</summary>\
             <pre>{}</pre></details>",
            escape(&nas_core::drawing::to_dot(&run.name, &graphs))
        );
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::significant;

    #[test]
    fn costs_keep_three_significant_digits() {
        assert_eq!(significant(3150.0), "3150");
        assert_eq!(significant(0.139), "0.139");
        assert_eq!(significant(0.000_814_9), "0.000815");
        assert_eq!(significant(0.0), "0");
    }
}
