//! `cargo xtask bench pruners-train`: pruners with real training, under a budget of
//! training time. Regularized evolution over NB201 cells trained on digits (the epochs are
//! the fidelity: a pruner stops a trial after any epoch), with and without each pruner,
//! each search given the same seconds of training (the train evaluator's
//! `simulated_seconds` is the measured training time), over seeds: the test accuracy of the
//! cell each search returns (best validation accuracy among its completed trials), the
//! training seconds and epochs it used, its trials and pruned trials.
//!
//! The searches run one after another, never two at once, so that each gets the machine
//! as the others did: a budget of seconds is only fair on equal footing.
//!
//! Options: `--seeds N` (3), `--budget SECONDS` (60), `--epochs N` (4),
//! `--pruners LIST` (`successive-halving,hyperband`), `--dataset NAME` (`digits`),
//! `--out FILE`.

use nas_bench_train::mean_sd;
use nas_builtins as _;
use nas_core::config::ExperimentConfig;
use nas_core::journal::NullJournal;
use nas_core::search::{Observer, Progress};
use nas_core::{Experiment, Outcome, TrialResult};
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Debug, clap::Parser)]
#[command(name = "pruners-train")]
struct Args {
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    #[arg(long, default_value_t = 60.0)]
    budget: f64,
    #[arg(long, default_value_t = 4)]
    epochs: u32,
    #[arg(long, default_value = "successive-halving,hyperband")]
    pruners: String,
    #[arg(long, default_value = "digits")]
    dataset: String,
    #[arg(long)]
    out: Option<String>,
}

/// One search: test accuracy of the returned cell, training seconds, epochs trained,
/// trials, pruned trials.
fn search(a: &Args, pruner: Option<&str>, seed: u64) -> Result<[f64; 5], String> {
    let mut config = serde_json::json!({
        "name": "pruners-train",
        "seed": seed,
        "budget": { "simulated_seconds": a.budget },
        "space": "nb201",
        "strategy": "regularized-evolution",
        "evaluator": {
            "type": "train",
            "epochs": a.epochs,
            "data": { "dataset": a.dataset },
        },
    });
    if let Some(p) = pruner {
        config["pruner"] = serde_json::json!({ "type": p });
    }
    let config = ExperimentConfig::from_json(config).map_err(|e| e.to_string())?;
    let mut e = Experiment::build(config).map_err(|e| e.to_string())?;
    let mut epochs = EpochCount(0.0);
    let report = e
        .run_with(&mut NullJournal, &mut epochs, None)
        .map_err(|e| e.to_string())?;
    let p = &report.progress;
    let test = match p.best.as_ref().map(|b| &b.outcome) {
        Some(Outcome::Completed { metrics }) => metrics.get("test_acc").unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    Ok([
        test,
        p.simulated_seconds,
        epochs.0,
        p.finished as f64,
        p.pruned as f64,
    ])
}

/// Sums the epochs each finished trial trained (a pruned one's too).
struct EpochCount(f64);

impl Observer for EpochCount {
    fn on_result(&mut self, result: &TrialResult, _: &Progress) {
        self.0 += result
            .outcome
            .metrics()
            .and_then(|m| m.get("epochs"))
            .unwrap_or(0.0);
    }
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let mut pruners: Vec<Option<&str>> = vec![None];
    pruners.extend(a.pruners.split(',').map(|p| Some(p.trim())));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Pruners with real training: regularized evolution on NB201 cells trained on {}, \
         {} epochs, {} s of training a search, {} seeds\n\nCommand: `cargo xtask bench \
         pruners-train --seeds {} --budget {} --epochs {} --dataset {}`\n",
        a.dataset, a.epochs, a.budget, a.seeds, a.seeds, a.budget, a.epochs, a.dataset
    );
    let _ = writeln!(
        out,
        "| pruner | test acc | training s used | epochs trained | trials | pruned |\n|---|---|---|---|---|---|"
    );
    for pruner in pruners {
        let mut rows = Vec::new();
        for seed in 0..a.seeds {
            let row = search(&a, pruner, seed)?;
            eprintln!(
                "{} seed {seed}: test {:.2}, {:.1} s, {} epochs, {} trials, {} pruned",
                pruner.unwrap_or("none"),
                row[0],
                row[1],
                row[2],
                row[3],
                row[4]
            );
            rows.push(row);
        }
        let col = |i: usize| mean_sd(&rows.iter().map(|r| r[i]).collect::<Vec<_>>());
        let (acc, sd) = col(0);
        let _ = writeln!(
            out,
            "| {} | {acc:.2} ± {sd:.2} | {:.1} | {:.1} | {:.1} | {:.1} |",
            pruner.unwrap_or("none"),
            col(1).0,
            col(2).0,
            col(3).0,
            col(4).0
        );
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
            eprintln!("pruners-train: {e}");
            ExitCode::FAILURE
        }
    }
}
