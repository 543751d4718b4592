//! The numbers behind each figure, from a [`Run`]'s journal alone.

use crate::Run;
use nas_core::evaluator::{SIMULATED_SECONDS, TRAIN_TFLOPS};
use nas_core::{DecisionKind, Goal, Objective, TrialResult, Value};

/// `objective`'s value in `result` as reported (not turned to larger-is-better), for a
/// completed trial that reports it.
pub(crate) fn value(objective: &Objective, result: &TrialResult) -> Option<f64> {
    objective
        .score(&result.outcome)
        .map(|s| match objective.goal {
            Goal::Maximize => s,
            Goal::Minimize => -s,
        })
}

/// A metric of a completed or pruned trial.
fn metric(result: &TrialResult, name: &str) -> Option<f64> {
    result.outcome.metrics().and_then(|m| m.get(name))
}

/// The dataset the run's evaluator measured on, where its config names one: a
/// `dataset` field of the evaluator's table or of its `data` table (the convention of
/// the built-in evaluators).
pub fn dataset(run: &Run) -> Option<String> {
    let evaluator = run.state.config.get("evaluator")?;
    evaluator
        .get("dataset")
        .or_else(|| evaluator.get("data")?.get("dataset"))?
        .as_str()
        .map(str::to_string)
}

/// The completed trials that report the primary objective, best first (ties in trial
/// order).
pub fn ranked(run: &Run) -> Vec<&TrialResult> {
    run.objectives
        .first()
        .map_or_else(Vec::new, |o| o.ranked(&run.state.finished))
}

/// The best value of the primary objective so far against `x`, a point wherever the
/// best is known; `x` is fed every finished trial in id order and returns its position.
fn anytime(run: &Run, mut x: impl FnMut(usize, &TrialResult) -> f64) -> Vec<(f64, f64)> {
    let Some(objective) = run.objectives.first() else {
        return Vec::new();
    };
    let mut best: Option<(f64, f64)> = None; // (score, value)
    let mut points = Vec::new();
    for (i, r) in run.state.finished.iter().enumerate() {
        let at = x(i, r);
        if let (Some(score), Some(v)) = (objective.score(&r.outcome), value(objective, r))
            && best.is_none_or(|(b, _)| score > b)
        {
            best = Some((score, v));
        }
        if let Some((_, v)) = best {
            points.push((at, v));
        }
    }
    points
}

/// The best value so far against the number of finished trials.
pub fn anytime_by_trial(run: &Run) -> Vec<(f64, f64)> {
    anytime(run, |i, _| (i + 1) as f64)
}

/// The best value so far against the sum of a cost metric over the finished trials,
/// pruned trials' included; empty when no trial reports it.
fn anytime_by_spent(run: &Run, cost: &str) -> Vec<(f64, f64)> {
    let mut spent = 0.0;
    let mut any = false;
    let points = anytime(run, |_, r| {
        if let Some(s) = metric(r, cost) {
            spent += s;
            any = true;
        }
        spent
    });
    if any { points } else { Vec::new() }
}

/// The best value so far against the simulated (or, for real training, measured
/// wall-clock) training seconds spent, pruned trials' included; empty when the evaluator
/// reports none.
pub fn anytime_by_seconds(run: &Run) -> Vec<(f64, f64)> {
    anytime_by_spent(run, SIMULATED_SECONDS)
}

/// The best value so far against the training compute spent (teraFLOPs, the
/// evaluator's estimate); empty when the evaluator reports none.
pub fn anytime_by_flops(run: &Run) -> Vec<(f64, f64)> {
    anytime_by_spent(run, TRAIN_TFLOPS)
}

/// The primary objective against `test_metric` for the `top` best trials that report
/// both: how far the search signal and the held-out score part.
pub fn generalization(run: &Run, top: usize, test_metric: &str) -> Vec<(f64, f64)> {
    let Some(objective) = run.objectives.first() else {
        return Vec::new();
    };
    ranked(run)
        .into_iter()
        .filter_map(|r| Some((value(objective, r)?, metric(r, test_metric)?)))
        .take(top)
        .collect()
}

/// Points of a chart, `(x, y)`.
pub type Points = Vec<(f64, f64)>;

/// Every completed trial as `(x, primary objective)`, and the ones no other trial
/// dominates (better or equal on both, better on one), ordered by `x`.
pub fn pareto(run: &Run, x: &Objective) -> (Points, Points) {
    let Some(y) = run.objectives.first() else {
        return (Vec::new(), Vec::new());
    };
    // (x score, y score, x value, y value), larger scores better.
    let mut scored: Vec<(f64, f64, f64, f64)> = run
        .state
        .finished
        .iter()
        .filter_map(|r| {
            Some((
                x.score(&r.outcome)?,
                y.score(&r.outcome)?,
                value(x, r)?,
                value(y, r)?,
            ))
        })
        .collect();
    let points = scored.iter().map(|p| (p.2, p.3)).collect();
    // Best x first (ties: best y first); a point is on the front when its y beats every
    // point with an x at least as good.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let mut front = Vec::new();
    let mut best_y = f64::NEG_INFINITY;
    for p in scored {
        if p.1 > best_y {
            best_y = p.1;
            front.push((p.2, p.3));
        }
    }
    front.sort_by(|a, b| a.0.total_cmp(&b.0));
    (points, front)
}

/// How often each choice of one categorical decision was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFrequencies {
    pub decision: String,
    pub choices: Vec<String>,
    /// Shares among the best trials, summing to 1.
    pub top: Vec<f64>,
    /// Shares among all finished trials.
    pub all: Vec<f64>,
}

/// For each categorical decision (an edge's operation, a layer's kind), the share of each
/// choice among the `top` best trials against the whole run: what the search favoured.
pub fn operation_frequencies(run: &Run, top: usize) -> Vec<DecisionFrequencies> {
    let best: Vec<&TrialResult> = ranked(run).into_iter().take(top).collect();
    let all: Vec<&TrialResult> = run.state.finished.iter().collect();
    run.space
        .decisions()
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let DecisionKind::Categorical { choices } = &d.kind else {
                return None;
            };
            let shares = |trials: &[&TrialResult]| {
                let mut counts = vec![0.0; choices.len()];
                for r in trials {
                    if let Some(Value::Index(c)) = r.trial.genotype.0.get(i)
                        && let Some(n) = counts.get_mut(*c as usize)
                    {
                        *n += 1.0;
                    }
                }
                let total: f64 = counts.iter().sum();
                if total > 0.0 {
                    counts.iter_mut().for_each(|n| *n /= total);
                }
                counts
            };
            Some(DecisionFrequencies {
                decision: d.name.clone(),
                choices: choices.clone(),
                top: shares(&best),
                all: shares(&all),
            })
        })
        .collect()
}
