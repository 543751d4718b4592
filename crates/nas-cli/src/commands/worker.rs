//! `nas worker`: one of many processes, on any machines, that run one experiment through
//! a storage they all reach (`postgresql://...`). Start as many as there are trials to run
//! at once, by hand, as a SLURM job array or as a Kubernetes Job: the first creates the
//! experiment from its config, the others join it, and a worker that dies has its trial
//! run again by another.

use crate::commands::search::{SearchArgs, build_config, positive_seconds};
use crate::out::outln;
use anyhow::{Context, Result, bail};
use nas_core::queue::{TrialQueue, WorkerIdentity};
use nas_core::storage::{self, JournalRequest};
use nas_core::worker::{WorkerReport, WorkerStop, run_worker};
use nas_core::{Experiment, ExperimentConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a lease lasts by default: long enough that a busy database or a pause for
/// garbage collection never costs a trial, short enough that a dead worker's trial waits
/// half a minute for another.
pub const DEFAULT_LEASE_SECONDS: f64 = 30.0;

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Where the experiment is, as a storage URL that many processes reach
    /// (`postgresql://user@host/db`); read it from the environment in job scripts, so
    /// that no password is written into them.
    #[arg(long, value_name = "URL", env = "NAS_STORAGE")]
    storage: String,
    /// The experiment to join, as stored. Default: the config's name, or the URL's
    /// `?experiment=`.
    #[arg(long)]
    name: Option<String>,
    /// The experiment's TOML config: the first worker creates the experiment from it,
    /// the others check that theirs matches (only the budget and the name may differ).
    /// Without it, the worker joins the experiment as stored.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Set a config field, as `nas search --set`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Budget: finished trials over all workers (replaces the config's budget).
    #[arg(long)]
    trials: Option<u64>,
    /// This worker's own wall-clock budget, in seconds: it stops then, and the others go
    /// on.
    #[arg(long, value_parser = positive_seconds)]
    wall_seconds: Option<f64>,
    /// Seconds a trial stays leased to this worker without a heartbeat; a trial whose
    /// worker stopped beating is run again by another after this long.
    #[arg(long, default_value_t = DEFAULT_LEASE_SECONDS, value_parser = positive_seconds)]
    lease_seconds: f64,
    /// This worker's name in the storage. Default: its process id and host.
    #[arg(long)]
    worker_name: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: WorkerArgs) -> Result<()> {
    storage::find(&storage::StorageUrl::parse(&args.storage)?)?;
    let identity = WorkerIdentity {
        name: args
            .worker_name
            .clone()
            .unwrap_or_else(storage::this_process),
        lease: Duration::from_secs_f64(args.lease_seconds),
    };
    let (config, mut queue) = config_and_queue(&args, identity.clone())?;
    let mut experiment = Experiment::build(config)?;
    let mut budget = experiment.config.budget.clone();
    if args.wall_seconds.is_some() {
        budget.wall_seconds = args.wall_seconds;
    }
    let report = work(&mut experiment, queue.as_mut(), &budget)?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "worker": identity.name,
                "experiment": experiment.config.name,
                "report": report,
            }))?
        )?;
    } else {
        print_report(&identity.name, &report)?;
    }
    Ok(())
}

/// Joins `queue`'s experiment with `experiment` and works until it is done.
pub fn work(
    experiment: &mut Experiment,
    queue: &mut dyn TrialQueue,
    budget: &nas_core::Budget,
) -> Result<WorkerReport> {
    join(experiment, queue)?;
    let method = experiment.config.strategy.name().to_string();
    let Some(search) = experiment.search.as_black_box() else {
        bail!(
            "the one-shot method `{method}` trains one supernet in one process: run it \
             with `nas search`"
        );
    };
    Ok(run_worker(
        search,
        budget,
        queue,
        &mut nas_core::search::Quiet,
    )?)
}

/// Creates or joins the experiment with `experiment`'s config.
pub fn join(experiment: &Experiment, queue: &mut dyn TrialQueue) -> Result<()> {
    let config = experiment.config.to_json()?;
    let space = Arc::clone(&experiment.space);
    queue.join(JournalRequest {
        config: &config,
        objectives: &experiment.objectives,
        render: Box::new(move |t| space.render(&t.genotype)),
    })?;
    Ok(())
}

/// The experiment's config (from `--config` and the flags, or as stored) and the queue.
fn config_and_queue(
    args: &WorkerArgs,
    identity: WorkerIdentity,
) -> Result<(ExperimentConfig, Box<dyn TrialQueue>)> {
    if args.config.is_some() {
        let search = SearchArgs {
            config: args.config.clone(),
            name: args.name.clone(),
            sets: args.sets.clone(),
            trials: args.trials,
            ..SearchArgs::default()
        };
        let config = build_config(&search)?;
        let queue = storage::queue(&args.storage, Some(&config.name), identity)?;
        return Ok((config, queue));
    }
    let mut queue = storage::queue(&args.storage, args.name.as_deref(), identity)?;
    let Some(mut stored) = queue.stored_config()? else {
        bail!(
            "{}: no such experiment{}; the first worker creates it: give it the config \
             (`--config FILE`)",
            storage::StorageUrl::parse(&args.storage)?,
            args.name
                .as_ref()
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default()
        );
    };
    if let Some(n) = args.trials {
        stored["budget"] = serde_json::json!({ "trials": n });
    }
    for s in &args.sets {
        crate::edit::apply_set(&mut stored, s)?;
    }
    let config = ExperimentConfig::from_json_at(stored).context("the stored config")?;
    Ok((config, queue))
}

fn print_report(name: &str, report: &WorkerReport) -> Result<()> {
    let stop = match report.stop {
        WorkerStop::Budget => "the budget is spent and every trial is finished",
        WorkerStop::Exhausted => "the strategy had nothing more to propose",
        WorkerStop::Wall => "its wall budget is spent",
    };
    let mut line = format!(
        "{name}: recorded {} results ({} asked, {} taken over from stopped workers) in \
         {:.2} s; stopped: {stop}",
        report.recorded, report.asked, report.claimed, report.wall_seconds
    );
    if report.late > 0 {
        line += &format!(
            "; {} results came after another worker's and were not recorded",
            report.late
        );
    }
    outln!("{line}")?;
    Ok(())
}
