//! `cargo xtask bench transfer`: does a DARTS cell searched small transfer to a deeper,
//! wider network (NASNet's premise)? Per seed, a gradient-based method searches the DARTS
//! space at a CPU proxy size; the derived cell (printed in the original genotype format)
//! is then trained at the search size and stacked deeper and wider, and a random cell of
//! the same space (seeded) is trained at both sizes with the same recipe and budget. The
//! table gives each network's test accuracy per seed, mean and spread.
//!
//! Options: `--method NAME` (`darts`; `beta-darts`, `gdas`), `--seeds N` (3), `--dataset
//! NAME` (`fashion-mnist`), `--search-epochs N` (3), `--search-fraction F` (0.05),
//! `--channels C` (8) and `--cells-per-stage N` (1: 5 cells) of the search,
//! `--large-channels` (16) and `--large-cells-per-stage` (2: 8 cells) of the transfer,
//! `--train-epochs N` (3), `--train-fraction F` (0.2), `--backend NAME` (`flex`), `--out`.

use nas_bench_train::mean_sd;
use nas_builtins as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::{Genotype, Rng, SearchSpace};
use nas_darts::{BetaDartsConfig, DartsConfig, GdasConfig, RelaxedSearch};
use nas_data::{DataConfig, DataSource};
use nas_eval::train::TrainConfig;
use nas_nn::FitJob;
use nas_space::DartsSpace;
use nas_space::darts::PRIMITIVES;
use serde_json::json;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

/// A searched DARTS cell against a random one, at the search size and stacked larger.
#[derive(Debug, clap::Parser)]
#[command(name = "transfer")]
struct Args {
    #[arg(long, default_value = "darts")]
    method: String,
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    #[arg(long, default_value = "fashion-mnist")]
    dataset: String,
    #[arg(long, default_value_t = 3)]
    search_epochs: u32,
    #[arg(long, default_value_t = 0.05)]
    search_fraction: f64,
    #[arg(long, default_value_t = 8)]
    channels: usize,
    #[arg(long, default_value_t = 1)]
    cells_per_stage: usize,
    #[arg(long, default_value_t = 16)]
    large_channels: usize,
    #[arg(long, default_value_t = 2)]
    large_cells_per_stage: usize,
    #[arg(long, default_value_t = 3)]
    train_epochs: u32,
    #[arg(long, default_value_t = 0.2)]
    train_fraction: f64,
    #[arg(long, default_value = "flex")]
    backend: String,
    #[arg(long)]
    out: Option<String>,
}

/// The method's registered name, and its config as that name reads it, with the proxy
/// size and data.
fn search_config(a: &Args) -> Result<(&'static str, DartsConfig), String> {
    let fields = json!({
        "backend": a.backend,
        "data": { "dataset": a.dataset },
        "channels": a.channels,
        "cells_per_stage": a.cells_per_stage,
        "epochs": a.search_epochs,
        "data_fraction": a.search_fraction,
    });
    let read = |e: serde_json::Error| format!("--method {} --dataset {}: {e}", a.method, a.dataset);
    Ok(match a.method.as_str() {
        "darts" => (
            "darts",
            serde_json::from_value::<DartsConfig>(fields).map_err(read)?,
        ),
        "beta-darts" => (
            "beta-darts",
            serde_json::from_value::<BetaDartsConfig>(fields)
                .map_err(read)?
                .0,
        ),
        "gdas" => (
            "gdas",
            serde_json::from_value::<GdasConfig>(fields)
                .map_err(read)?
                .0,
        ),
        other => return Err(format!("--method {other}: one of darts, beta-darts, gdas")),
    })
}

/// Share of a genotype's edges (both cells) that have no weights.
fn parameter_free_share(space: &DartsSpace, g: &Genotype) -> f64 {
    let Ok(arch) = space.arch(g) else {
        return f64::NAN;
    };
    let edges: Vec<_> = arch.normal.edges.iter().chain(&arch.reduce.edges).collect();
    let free = edges.iter().filter(|e| e.op.parameter_free()).count();
    free as f64 / edges.len() as f64
}

/// One network's test accuracies over the seeds, and its parameters.
#[derive(Default)]
struct Row {
    accs: Vec<f64>,
    params: Vec<u64>,
}

fn run() -> Result<String, String> {
    let a = <Args as clap::Parser>::parse();
    let space = DartsSpace::new();
    let shared: Arc<dyn SearchSpace> = Arc::new(space.clone());
    let (method, search) = search_config(&a)?;
    let network = nas_nn::network_of(space.name())?;
    let train = train_config(&a)?;
    train.check().map_err(|e| e.to_string())?;
    let splits = train.data.load().map_err(|e| e.to_string())?;
    let device = nas_nn::device(&a.backend).map_err(|e| e.to_string())?;
    let sizes = [
        ("search size", a.channels, a.cells_per_stage),
        (
            "deeper and wider",
            a.large_channels,
            a.large_cells_per_stage,
        ),
    ];
    let recipe = train.recipe();
    let mut rows: Vec<(String, Row)> = Vec::new();
    for kind in ["searched", "random"] {
        for (size, c, n) in sizes {
            let label = format!("{kind} cell, {size} (C={c}, {} cells)", 3 * n + 2);
            rows.push((label, Row::default()));
        }
    }
    let mut report = header(&a, &splits.name);
    for seed in 0..a.seeds {
        let phase =
            RelaxedSearch::new(method, &search, shared.clone()).map_err(|e| e.to_string())?;
        let outcome = phase
            .run(seed, &mut |line| eprintln!("{line}"))
            .map_err(|e| e.to_string())?;
        let searched = outcome.genotype.clone();
        let random = space.sample(&mut Rng::new(1_000 + seed));
        let _ = writeln!(
            report,
            "seed {seed}: searched in {:.0} s, {:.0}% of edges parameter-free\n  {}\n  random: {}",
            outcome.cost.wall_seconds,
            100.0 * parameter_free_share(&space, &searched),
            space.render(&searched),
            space.render(&random)
        );
        for (i, g) in [&searched, &random].into_iter().enumerate() {
            for (j, (_, c, n)) in sizes.iter().enumerate() {
                let spec = TrainConfig {
                    channels: *c,
                    cells_per_stage: *n,
                    ..train.clone()
                }
                .spec(&splits, None);
                let job = FitJob {
                    recipe: &recipe,
                    splits: &splits,
                    epochs: train.epochs,
                    data_fraction: train.data_fraction,
                    seed,
                    device: &device,
                    keep_weights: false,
                };
                let out = network
                    .fit(&space, g, &spec, &job, &mut CollectingReporter::default())
                    .map_err(|e| e.to_string())?;
                eprintln!(
                    "seed {seed}: {}: test {:.2}",
                    rows[2 * i + j].0,
                    out.test_acc
                );
                rows[2 * i + j].1.accs.push(out.test_acc);
                rows[2 * i + j].1.params.push(out.params as u64);
            }
        }
    }
    write_table(&mut report, &rows);
    if let Some(path) = &a.out {
        std::fs::write(path, &report).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(report)
}

/// The training recipe of every network: the same for searched and random cells.
fn train_config(a: &Args) -> Result<TrainConfig, String> {
    let train = TrainConfig {
        epochs: a.train_epochs,
        data_fraction: a.train_fraction,
        backend: a.backend.clone(),
        data: DataConfig {
            dataset: serde_json::from_value::<DataSource>(json!(a.dataset))
                .map_err(|e| format!("--dataset: {e}"))?,
            ..DataConfig::default()
        },
        ..TrainConfig::default()
    };
    Ok(train)
}

/// The report's first line: what was searched and trained, and how.
fn header(a: &Args, data: &str) -> String {
    format!(
        "# {} on the DARTS space: searched on {data} (C={}, {} cells, {} epochs, {:.0}% of the training split), trained {} epochs on {:.0}% ({} backend)\n\n",
        a.method,
        a.channels,
        3 * a.cells_per_stage + 2,
        a.search_epochs,
        100.0 * a.search_fraction,
        a.train_epochs,
        100.0 * a.train_fraction,
        a.backend
    )
}

/// The table of every network's test accuracies over the seeds.
fn write_table(report: &mut String, rows: &[(String, Row)]) {
    let _ = writeln!(
        report,
        "\n| network | test acc per seed | mean ± sd | params (per seed) |\n|---|---|---|---|"
    );
    for (label, row) in rows {
        let (mean, sd) = mean_sd(&row.accs);
        let per_seed: Vec<String> = row.accs.iter().map(|v| format!("{v:.2}")).collect();
        let params: Vec<String> = row.params.iter().map(u64::to_string).collect();
        let _ = writeln!(
            report,
            "| {label} | {} | {mean:.2} ± {sd:.2} | {} |",
            per_seed.join(", "),
            params.join(", ")
        );
    }
    let _ = writeln!(report, "\nops: {}", PRIMITIVES[1..].join(", "));
}

fn main() -> ExitCode {
    match run() {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
