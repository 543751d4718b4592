//! `cargo xtask bench pruners`: multi-fidelity search on the tabular ladder. Regularized
//! evolution on NB201 cells with the 200-epoch lookup (the 12-epoch row reported first,
//! as a rung), with and without each registered pruner, under several budgets of
//! simulated training time, over many seeds: the mean 200-epoch test accuracy (CIFAR-10)
//! of the cell each search returns (best 200-epoch validation accuracy among its
//! completed trials), and the simulated time it used. A pruner pays when its column
//! reaches plain evolution's accuracy at a smaller budget.
//!
//! Options: `--seeds N` (200), `--budgets LIST` (simulated seconds, `50000,100000,200000,
//! 400000`), `--strategy NAME` (`regularized-evolution`), `--dataset NAME` (`cifar10`),
//! `--out FILE`.

use nas_bench::report::Stats;
use nas_builtins as _;
use nas_core::config::ExperimentConfig;
use nas_core::journal::NullJournal;
use nas_core::search::Quiet;
use nas_core::{Experiment, Outcome};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Debug, clap::Parser)]
#[command(name = "pruners")]
struct Args {
    #[arg(long, default_value_t = 200)]
    seeds: u64,
    #[arg(long, default_value = "50000,100000,200000,400000")]
    budgets: String,
    #[arg(long, default_value = "regularized-evolution")]
    strategy: String,
    #[arg(long, default_value = "cifar10")]
    dataset: String,
    #[arg(long)]
    out: Option<String>,
}

/// One search: the returned cell's 200-epoch test accuracy, the simulated seconds used,
/// trials and pruned trials.
fn search(a: &Args, pruner: Option<&str>, budget: f64, seed: u64) -> Result<[f64; 4], String> {
    let mut config = serde_json::json!({
        "name": "pruners",
        "seed": seed,
        "budget": { "simulated_seconds": budget },
        "space": "nb201",
        "strategy": a.strategy,
        "evaluator": { "type": "nb201-table", "dataset": a.dataset, "epochs": 200 },
    });
    if let Some(p) = pruner {
        config["pruner"] = serde_json::json!({ "type": p });
    }
    let mut e = Experiment::build(ExperimentConfig::from_json(config).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let report = e
        .run_with(&mut NullJournal, &mut Quiet, None)
        .map_err(|e| e.to_string())?;
    let p = &report.progress;
    let test = match p.best.as_ref().map(|b| &b.outcome) {
        Some(Outcome::Completed { metrics }) => metrics.get("test_acc").unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    Ok([
        test,
        p.simulated_seconds,
        p.finished as f64,
        p.pruned as f64,
    ])
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let budgets: Vec<f64> = a
        .budgets
        .split(',')
        .map(|b| {
            b.trim()
                .parse()
                .map_err(|_| format!("--budgets: `{b}` is not a number"))
        })
        .collect::<Result<_, _>>()?;
    let pruners = [
        None,
        Some("successive-halving"),
        Some("hyperband"),
        Some("median"),
    ];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Pruners on the NB201 tabular ladder (12 then 200 epochs), {} on {}, {} seeds\n\nCommand: `cargo xtask bench pruners --seeds {} --budgets {} --strategy {} --dataset {}`\n",
        a.strategy, a.dataset, a.seeds, a.seeds, a.budgets, a.strategy, a.dataset
    );
    let _ = writeln!(
        out,
        "| budget (simulated s) | pruner | test acc (200 ep) | simulated s used | trials | pruned |\n|---|---|---|---|---|---|"
    );
    for &budget in &budgets {
        for pruner in pruners {
            let rows: Vec<[f64; 4]> = (0..a.seeds)
                .into_par_iter()
                .map(|seed| search(&a, pruner, budget, seed))
                .collect::<Result<_, _>>()?;
            let col = |i: usize| Stats::of(rows.iter().map(|r| r[i]));
            let accuracy = col(0);
            let (acc, sd) = (accuracy.mean, accuracy.std);
            let _ = writeln!(
                out,
                "| {budget:.0} | {} | {acc:.2} ± {sd:.2} | {:.0} | {:.1} | {:.1} |",
                pruner.unwrap_or("none"),
                col(1).mean,
                col(2).mean,
                col(3).mean
            );
        }
    }
    print!("{out}");
    if let Some(path) = &a.out {
        std::fs::write(path, &out).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pruners: {e}");
            ExitCode::FAILURE
        }
    }
}
