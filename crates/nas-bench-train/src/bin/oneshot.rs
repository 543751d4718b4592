//! `cargo xtask bench oneshot`: the one-shot methods side by side on NAS-Bench-201 cells,
//! each over several seeds: the derived cell's 200-epoch test accuracy in the table on
//! CIFAR-10, CIFAR-100 and ImageNet16-120 (searched on another data set: a transfer
//! figure), mean and spread; the share of parameter-free edges (none, skip, pooling) as
//! the collapse measure; the search's wall time. Every method runs through the registry
//! and the supernet its space registers, with the same data, width and epochs.
//!
//! Options: `--methods LIST` (`darts,beta-darts,gdas,enas`), `--seeds N` (3),
//! `--dataset NAME` (`fashion-mnist`), `--data-fraction F` (0.02), `--epochs N` (10),
//! `--channels C` (8), `--backend NAME` (`flex`), `--out FILE` (print only).

use nas_bench_train::mean_sd;
use nas_builtins as _;
use nas_core::registry::{OneShotConfig, OneShotContext, PluginConfig};
use nas_core::search::Observer;
use nas_core::{Budget, EvaluatorConfig, Goal, Objective, SearchSpace, SpaceConfig};
use nas_eval::{Dataset, Nb201Table};
use nas_space::Nb201Space;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// One-shot methods on NB201 cells, several seeds each.
#[derive(Debug, clap::Parser)]
#[command(name = "oneshot")]
struct Args {
    /// Registered one-shot methods, comma-separated.
    #[arg(long, default_value = "darts,beta-darts,gdas,enas")]
    methods: String,
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    #[arg(long, default_value = "fashion-mnist")]
    dataset: String,
    #[arg(long, default_value_t = 0.02)]
    data_fraction: f64,
    #[arg(long, default_value_t = 10)]
    epochs: u32,
    #[arg(long, default_value_t = 8)]
    channels: usize,
    #[arg(long, default_value = "flex")]
    backend: String,
    /// A file for the report (default: print only).
    #[arg(long)]
    out: Option<String>,
}

/// The best trial's architecture, from the final evaluation's results.
#[derive(Default)]
struct Last(Option<nas_core::Genotype>);

impl Observer for Last {
    fn on_result(
        &mut self,
        result: &nas_core::TrialResult,
        _progress: &nas_core::search::Progress,
    ) {
        if self.0.is_none() {
            self.0 = Some(result.trial.genotype.clone());
        }
    }
}

/// Ops with no weights: `none`, `skip_connect`, `avg_pool_3x3`.
fn parameter_free(op: u32) -> bool {
    matches!(op, 0 | 1 | 4)
}

/// The cell `method` derives from `seed`, its final evaluation a table lookup.
fn derive(
    a: &Args,
    method: &str,
    seed: u64,
    space: &Arc<dyn SearchSpace>,
    evaluator: &Arc<dyn nas_core::Evaluator>,
) -> Result<nas_core::Genotype, String> {
    let config = serde_json::json!({
        "type": method,
        "epochs": a.epochs,
        "channels": a.channels,
        "data_fraction": a.data_fraction,
        "backend": a.backend,
        "data": { "dataset": a.dataset },
    });
    let config = PluginConfig::<dyn OneShotConfig>::from_value(config)
        .map_err(|e| format!("{method}: {e}"))?;
    let ctx = OneShotContext {
        space: Arc::clone(space),
        evaluator: Arc::clone(evaluator),
        objectives: vec![Objective {
            metric: "valid_acc".into(),
            goal: Goal::Maximize,
        }],
        seed,
        strategy_seed: nas_core::rng::derive_seed(seed, u64::MAX),
        workers: 1,
    };
    let mut search = config
        .config
        .build_search(ctx)
        .map_err(|e| format!("{method}: {e}"))?;
    let mut last = Last::default();
    let budget = Budget {
        trials: Some(1),
        ..Budget::default()
    };
    search
        .run(
            &budget,
            &mut nas_core::journal::NullJournal,
            &mut last,
            None,
        )
        .map_err(|e| format!("{method}, seed {seed}: {e}"))?;
    last.0
        .ok_or(format!("{method}, seed {seed}: no cell derived"))
}

/// The report's title and the command that reproduces it.
fn header(a: &Args) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# One-shot methods on NAS-Bench-201 cells, searched on {} ({}% of it, C={}, one cell a \
         stage, {} epochs), {} seeds each\n\nCommand: `cargo xtask bench oneshot --methods {} \
         --seeds {} --dataset {} --data-fraction {} --epochs {} --channels {} --backend {}`\n",
        a.dataset,
        a.data_fraction * 100.0,
        a.channels,
        a.epochs,
        a.seeds,
        a.methods,
        a.seeds,
        a.dataset,
        a.data_fraction,
        a.epochs,
        a.channels,
        a.backend
    );
    md
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let table = Nb201Table::embedded().map_err(|e| e.to_string())?;
    let nb201 = Nb201Space::new();
    let space: Arc<dyn SearchSpace> = PluginConfig::<dyn SpaceConfig>::default_for("nb201")
        .map_err(|e| e.to_string())?
        .config
        .build()
        .map_err(|e| e.to_string())?;
    // The final evaluation looks the derived cell up in the table: no training after the
    // search, so the figure is the search's alone.
    let evaluator = PluginConfig::<dyn EvaluatorConfig>::default_for("nb201-table")
        .map_err(|e| e.to_string())?
        .config
        .build(&space)
        .map_err(|e| e.to_string())?;
    let mut md = header(&a);
    let _ = writeln!(
        md,
        "| method | CIFAR-10 | CIFAR-100 | ImageNet16-120 | parameter-free edges | search seconds | derived cells |\n|---|---|---|---|---|---|---|"
    );
    for method in a.methods.split(',').map(str::trim) {
        let mut acc: [Vec<f64>; 3] = Default::default();
        let (mut free, mut seconds, mut cells) = (Vec::new(), Vec::new(), Vec::new());
        for seed in 0..a.seeds {
            let started = Instant::now();
            let genotype = derive(&a, method, seed, &space, &evaluator)?;
            seconds.push(started.elapsed().as_secs_f64());
            let ops = nb201.ops(&genotype).map_err(|e| e.to_string())?;
            let row = table.row(&ops);
            for (slot, d) in
                acc.iter_mut()
                    .zip([Dataset::Cifar10, Dataset::Cifar100, Dataset::Imagenet16])
            {
                slot.push(row.entry(d).test_acc);
            }
            free.push(ops.iter().filter(|&&op| parameter_free(op)).count() as f64 / 6.0);
            cells.push(format!("`{}`", nb201.op_code(&genotype)));
            eprintln!(
                "{method}, seed {seed}: {} ({:.2} on CIFAR-10) in {:.0} s",
                row.arch,
                row.entry(Dataset::Cifar10).test_acc,
                seconds.last().copied().unwrap_or(f64::NAN)
            );
        }
        let cell = |v: &[f64]| {
            let (m, s) = mean_sd(v);
            format!("{m:.2} ± {s:.2}")
        };
        let (free_mean, _) = mean_sd(&free);
        let (secs, _) = mean_sd(&seconds);
        let _ = writeln!(
            md,
            "| {method} | {} | {} | {} | {:.0}% | {secs:.0} | {} |",
            cell(&acc[0]),
            cell(&acc[1]),
            cell(&acc[2]),
            free_mean * 100.0,
            cells.join(" ")
        );
    }
    let _ = writeln!(
        md,
        "\nAccuracies: 200-epoch test accuracy of the derived cell in the NAS-Bench-201 table, \
         mean ± standard deviation over the seeds. Published, searched on CIFAR-10 itself: \
         DARTS 54.30 (collapse to skip connections), GDAS 93.61, ENAS 53.89, the table's \
         optimum 94.37. Derived cells by their op codes (`0` none, `1` skip, `2` 1x1 conv, `3` \
         3x3 conv, `4` pooling)."
    );
    print!("{md}");
    if let Some(path) = a.out {
        std::fs::write(&path, &md).map_err(|e| format!("{path}: {e}"))?;
        eprintln!("written: {path}");
    }
    Ok(())
}

fn main() -> ExitCode {
    // The kernels split their work with this thread instead of handing it over.
    nas_nn::work_on_this_thread();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
