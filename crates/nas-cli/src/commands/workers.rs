//! `nas search --workers N` on a storage that processes share: the search runs as N local
//! `nas worker` processes, exactly as workers started on other machines would, and this
//! process reports what they found.
//!
//! The workers get the storage URL through the environment (`NAS_STORAGE`), not their
//! command line, where any user of the machine could read its password.

use crate::commands::worker::{DEFAULT_LEASE_SECONDS, join};
use anyhow::{Context, Result, bail};
use nas_core::queue::WorkerIdentity;
use nas_core::runner::pareto_of;
use nas_core::search::{Progress, SearchReport, StopReason};
use nas_core::storage;
use nas_core::{Experiment, Outcome, TrialResult};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `experiment` at `url` as `experiment.config.workers` worker processes; the report
/// and every finished trial.
pub fn run(experiment: &mut Experiment, url: &str) -> Result<(SearchReport, Vec<TrialResult>)> {
    let started = Instant::now();
    let workers = experiment.config.workers;
    let name = experiment.config.name.clone();
    let me = storage::this_process();
    let mut queue = storage::queue(
        url,
        Some(&name),
        WorkerIdentity {
            name: me.clone(),
            lease: Duration::from_secs_f64(DEFAULT_LEASE_SECONDS),
        },
    )?;
    if experiment.search.as_black_box().is_none() {
        bail!(
            "the one-shot method `{}` trains one supernet in one process: run it without \
             `--workers`, or with a storage of one process (`sqlite:`)",
            experiment.config.strategy.name()
        );
    }
    join(experiment, queue.as_mut())?;
    run_processes(workers, &name, &me, url)?;
    let mut state = queue.read()?;
    state.conform(experiment.space.as_ref());
    let report = report_of(experiment, &state.finished, started);
    Ok((report, state.finished))
}

/// Starts `workers` `nas worker` processes on the experiment `name` at `url` and waits for
/// them all.
///
/// # Errors
/// A worker that could not start, or that failed (each prints why).
fn run_processes(workers: usize, name: &str, me: &str, url: &str) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find this program to start workers")?;
    let mut children = Vec::with_capacity(workers);
    for i in 0..workers {
        let child = Command::new(&exe)
            .args(["worker", "--name", name, "--worker-name"])
            .arg(format!("{me} #{i}"))
            .env("NAS_STORAGE", url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start worker {i} ({})", exe.display()))?;
        children.push(child);
    }
    let mut failed = Vec::new();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = child
            .wait()
            .with_context(|| format!("waiting for worker {i}"))?;
        if !status.success() {
            failed.push(format!("worker {i} ({status})"));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {workers} workers failed: {} (each printed why); what the others \
             recorded is kept: run the search again to continue it",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// The search report of the finished trials the workers recorded.
fn report_of(experiment: &Experiment, finished: &[TrialResult], started: Instant) -> SearchReport {
    let mut progress = Progress::default();
    for r in finished {
        progress.record(r, &experiment.objectives);
    }
    let completed: Vec<TrialResult> = finished
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Completed { .. }))
        .cloned()
        .collect();
    let pareto_front = if experiment.objectives.len() > 1 {
        pareto_of(&completed, &experiment.objectives)
    } else {
        Vec::new()
    };
    let under_budget = experiment
        .config
        .budget
        .trials
        .is_some_and(|n| progress.finished < n);
    SearchReport {
        progress,
        stop: if under_budget && experiment.config.budget.wall_seconds.is_none() {
            StopReason::Exhausted
        } else {
            StopReason::Budget
        },
        objectives: experiment.objectives.clone(),
        resumed: 0,
        wall_seconds: started.elapsed().as_secs_f64(),
        pareto_front,
    }
}
