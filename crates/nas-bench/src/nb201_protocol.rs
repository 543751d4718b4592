//! The NAS-Bench-201 search protocol (Dong & Yang 2020): search on the 12-epoch
//! validation accuracy, report the 200-epoch test accuracy of the architecture returned.
//!
//! Our budget is a fixed number of evaluations on every dataset (100 by default: the
//! paper's 12,000 simulated seconds on CIFAR-10 is "about 100 evaluations"), so strategies
//! are compared at equal numbers of queries.

use nas_core::journal::NullJournal;
use nas_core::pareto::hypervolume;
use nas_core::search::{Observer, Progress};
use nas_core::{Experiment, ExperimentConfig, TrialResult};
use nas_eval::{Dataset, Nb201Table};
use serde_json::json;
use std::time::Instant;

/// One search: the incumbent's 200-epoch test accuracy after each evaluation.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub strategy: String,
    pub dataset: Dataset,
    pub seed: u64,
    /// `curve[i]`: the 200-epoch test accuracy of the best cell (by the search signal)
    /// after `i + 1` evaluations; NaN before any trial completed.
    pub curve: Vec<f64>,
    pub wall_seconds: f64,
}

impl RunRecord {
    /// The reported figure: the returned architecture's 200-epoch test accuracy.
    pub fn final_test(&self) -> f64 {
        self.curve.last().copied().unwrap_or(f64::NAN)
    }
}

struct Curve(Vec<f64>);

impl Observer for Curve {
    fn on_result(&mut self, _: &TrialResult, progress: &Progress) {
        let test = progress
            .best
            .as_ref()
            .and_then(|b| b.outcome.metrics())
            .and_then(|m| m.get("final_test_acc"))
            .unwrap_or(f64::NAN);
        self.0.push(test);
    }
}

fn experiment(
    strategy: &str,
    dataset: Dataset,
    seed: u64,
    trials: u64,
    objectives: &[&str],
) -> Result<Experiment, String> {
    let config = ExperimentConfig::from_json(json!({
        "name": "nb201-protocol",
        "seed": seed,
        "objectives": objectives,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": strategy,
        "evaluator": { "type": "nb201-table", "dataset": dataset, "epochs": 12 },
    }))
    .map_err(|e| e.to_string())?;
    Experiment::build(config).map_err(|e| e.to_string())
}

/// Runs one search under the protocol.
///
/// # Errors
/// A strategy that cannot be built or fails.
pub fn run_one(
    strategy: &str,
    dataset: Dataset,
    seed: u64,
    trials: u64,
) -> Result<RunRecord, String> {
    let mut e = experiment(strategy, dataset, seed, trials, &[])?;
    let mut curve = Curve(Vec::with_capacity(trials as usize));
    let started = Instant::now();
    e.run_with(&mut NullJournal, &mut curve, None)
        .map_err(|err| format!("{strategy} on {dataset:?}, seed {seed}: {err}"))?;
    Ok(RunRecord {
        strategy: strategy.to_string(),
        dataset,
        seed,
        curve: curve.0,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Test accuracy up, FLOPs down, as points for [`hypervolume`]; the reference point is the
/// worst test accuracy and the largest FLOPs in the table.
fn accuracy_flops_points(rows: impl Iterator<Item = (f64, f64)>) -> Vec<Vec<f64>> {
    rows.map(|(acc, flops)| vec![acc, -flops]).collect()
}

/// The reference point and hypervolume of the true (test accuracy, FLOPs) front.
pub fn true_front(table: &Nb201Table, dataset: Dataset) -> (Vec<f64>, f64) {
    let entries = || table.rows().iter().map(|r| r.entry(dataset));
    let worst_acc = entries().map(|e| e.test_acc).fold(f64::INFINITY, f64::min);
    let max_flops = entries()
        .map(|e| e.flops_m)
        .fold(f64::NEG_INFINITY, f64::max);
    let reference = vec![worst_acc - 1e-9, -max_flops - 1e-9];
    let points = accuracy_flops_points(entries().map(|e| (e.test_acc, e.flops_m)));
    let hv = hypervolume(&points, &reference);
    (reference, hv)
}

/// NSGA-II on (12-epoch validation accuracy up, FLOPs down) for `trials` evaluations;
/// returns the hypervolume of the front it returns, measured in (200-epoch test accuracy,
/// FLOPs), as a fraction of the true front's.
///
/// # Errors
/// A strategy that cannot be built or fails.
pub fn pareto_fraction(
    strategy: &str,
    dataset: Dataset,
    seed: u64,
    trials: u64,
    table: &Nb201Table,
) -> Result<f64, String> {
    let mut e = experiment(strategy, dataset, seed, trials, &["valid_acc", "flops_m"])?;
    let report = e
        .run_with(&mut NullJournal, &mut nas_core::search::Quiet, None)
        .map_err(|err| err.to_string())?;
    let found = accuracy_flops_points(report.pareto_front.iter().filter_map(|r| {
        let m = r.outcome.metrics()?;
        Some((m.get("final_test_acc")?, m.get("flops_m")?))
    }));
    let (reference, true_hv) = true_front(table, dataset);
    Ok(hypervolume(&found, &reference) / true_hv)
}

/// Runs `jobs` on `threads` threads (a rayon pool of its own); results come back in job
/// order.
pub fn parallel<J: Sync, R: Send>(
    jobs: &[J],
    threads: usize,
    run: impl Fn(&J) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| jobs.par_iter().map(&run).collect()),
        // No threads to be had: the same results, one job after another.
        Err(_) => jobs.iter().map(run).collect(),
    }
}
