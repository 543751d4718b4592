//! `cargo xtask bench rl`: NAS for reinforcement learning. Per seed, a search over the
//! `mlp` space with the `rl-policy` evaluator (every trial a PPO run of the same budget of
//! environment steps), against the hand-picked baseline policy network (64-64 tanh, SB3's
//! default width with CleanRL's activation) trained with the same budget. The found
//! network's return in its search was the best of several, so it is biased upwards: the
//! found network is also trained again from a fresh seed, the baseline's, which no
//! selection saw. The table gives those returns over the fixed evaluation episodes and
//! what the search cost (environment steps over all trials, wall time), mean and spread
//! over the seeds.
//!
//! Options: `--env NAME` (`cartpole`; `acrobot`), `--seeds N` (3), `--trials N` (6),
//! `--strategy NAME` (`random`), `--steps N` (100000 per trial), `--out FILE`.

use nas_bench_train::mean_sd;
use nas_builtins as _;
use nas_core::config::ExperimentConfig;
use nas_core::evaluator::CollectingReporter;
use nas_core::journal::NullJournal;
use nas_core::search::{Observer, Progress};
use nas_core::{Experiment, Outcome, Trial, TrialResult};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

/// A searched policy network against a hand-picked one, same budget.
#[derive(Debug, clap::Parser)]
#[command(name = "rl")]
struct Args {
    #[arg(long, default_value = "cartpole")]
    env: String,
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    #[arg(long, default_value_t = 6)]
    trials: u64,
    #[arg(long, default_value = "random")]
    strategy: String,
    /// Environment steps of each trial's training.
    #[arg(long, default_value_t = 100_000)]
    steps: u64,
    /// A file for the report (default: print only).
    #[arg(long)]
    out: Option<String>,
}

/// Every finished trial.
#[derive(Default)]
struct Results(Vec<TrialResult>);

impl Observer for Results {
    fn on_result(&mut self, result: &TrialResult, _: &Progress) {
        self.0.push(result.clone());
    }
}

fn metric(r: &TrialResult, name: &str) -> Option<f64> {
    match &r.outcome {
        Outcome::Completed { metrics } => metrics.get(name),
        _ => None,
    }
}

fn config(a: &Args, seed: u64) -> serde_json::Value {
    serde_json::json!({
        "name": format!("rl-{}-{seed}", a.env),
        "seed": seed,
        "budget": { "trials": a.trials },
        // No dropout: PPO's probability ratio assumes a deterministic policy.
        "space": { "type": "mlp", "dropouts": [0.0] },
        "strategy": a.strategy,
        "evaluator": { "type": "rl-policy", "env": a.env, "steps": a.steps },
    })
}

struct SeedRow {
    found: String,
    found_return: f64,
    retrained_return: f64,
    search_steps: f64,
    search_seconds: f64,
    baseline_return: f64,
    baseline_seconds: f64,
}

fn one_seed(a: &Args, seed: u64) -> Result<SeedRow, String> {
    let mut experiment =
        Experiment::build(ExperimentConfig::from_json(config(a, seed)).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let mut results = Results::default();
    let started = Instant::now();
    experiment
        .run_with(&mut NullJournal, &mut results, None)
        .map_err(|e| e.to_string())?;
    let search_seconds = started.elapsed().as_secs_f64();
    let best = results
        .0
        .iter()
        .filter_map(|r| Some((r, metric(r, "mean_return")?)))
        .fold(None::<(&TrialResult, f64)>, |best, (r, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((r, v)),
        })
        .ok_or("no trial completed")?;
    let search_steps = results
        .0
        .iter()
        .filter_map(|r| metric(r, "env_steps"))
        .sum();
    // The baseline and the found network again: the same evaluator and budget, a seed no
    // search trial had.
    let space = experiment.space.as_ref();
    let fresh = |genotype| Trial {
        id: 0,
        genotype,
        fidelity: Default::default(),
        seed: nas_core::rng::derive_seed(seed, u64::MAX - 1),
    };
    let evaluate = |t: &Trial| {
        experiment
            .evaluator
            .evaluate(t, &mut CollectingReporter::default())
            .map_err(|e| e.to_string())
    };
    let retrained = evaluate(&fresh(best.0.trial.genotype.clone()))?;
    let started = Instant::now();
    let m = evaluate(&fresh(
        space.parse("64-64:tanh:0").map_err(|e| e.to_string())?,
    ))?;
    Ok(SeedRow {
        found: space.render(&best.0.trial.genotype),
        found_return: best.1,
        retrained_return: retrained.get("mean_return").unwrap_or(f64::NAN),
        search_steps,
        search_seconds,
        baseline_return: m.get("mean_return").unwrap_or(f64::NAN),
        baseline_seconds: started.elapsed().as_secs_f64(),
    })
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let mut rows = Vec::new();
    for seed in 0..a.seeds {
        let row = one_seed(&a, seed)?;
        eprintln!(
            "seed {seed}: found {} ({:.1}; retrained {:.1}) in {:.0} s; baseline 64-64:tanh {:.1}",
            row.found,
            row.found_return,
            row.retrained_return,
            row.search_seconds,
            row.baseline_return
        );
        rows.push(row);
    }
    let col = |f: fn(&SeedRow) -> f64| mean_sd(&rows.iter().map(f).collect::<Vec<_>>());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# rl-policy on {}: {} search ({} trials of {} environment steps each) against 64-64 tanh, {} seeds\n",
        a.env, a.strategy, a.trials, a.steps, a.seeds
    );
    let _ = writeln!(
        out,
        "Command: `cargo xtask bench rl --env {} --seeds {} --trials {} --strategy {} --steps {}`\n",
        a.env, a.seeds, a.trials, a.strategy, a.steps
    );
    let _ = writeln!(
        out,
        "| seed | found network | its mean return in the search | retrained, fresh seed | baseline, fresh seed | search env steps | search seconds | baseline seconds |\n|---|---|---|---|---|---|---|---|"
    );
    for (seed, r) in rows.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {seed} | `{}` | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} |",
            r.found,
            r.found_return,
            r.retrained_return,
            r.baseline_return,
            r.search_steps,
            r.search_seconds,
            r.baseline_seconds
        );
    }
    let (fm, fs) = col(|r| r.found_return);
    let (rm, rs) = col(|r| r.retrained_return);
    let (bm, bs) = col(|r| r.baseline_return);
    let (sm, _) = col(|r| r.search_steps);
    let (tm, ts) = col(|r| r.search_seconds);
    let _ = writeln!(
        out,
        "| mean ± sd | | {fm:.2} ± {fs:.2} | {rm:.2} ± {rs:.2} | {bm:.2} ± {bs:.2} | {sm:.0} | {tm:.0} ± {ts:.0} | |"
    );
    let _ = writeln!(
        out,
        "\nMean return: greedy actions over the evaluator's 100 fixed evaluation episodes (the same start states for every network). CartPole-v1 counts as solved at 475; Acrobot-v1 at -100."
    );
    print!("{out}");
    if let Some(path) = &a.out {
        std::fs::write(path, &out).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("written: {path}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rl: {e}");
            ExitCode::FAILURE
        }
    }
}
