//! `cargo xtask bench baseline`: a searched NB201 cell against LeNet-5, both trained with
//! the same recipe (epochs, data, optimizer, schedule, seed) on the same data, so the
//! comparison says whether the search found something better than a hand design.
//!
//! The search itself is a `nas search` run (its report gives the best cell and the search
//! cost); this retrains that cell at the width given here and trains the baseline beside it.
//!
//! Options: `--cell CODE` (required: the searched cell, e.g. `333132` or its NB201 string),
//! `--dataset NAME` (`fashion-mnist`), `--epochs N` (4), `--data-fraction F` (1.0),
//! `--channels C` (16), `--cells-per-stage N` (1), `--backend NAME` (`flex`), `--seed N` (0),
//! `--learning-rate F` (0.05).

use nas_builtins as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::{SearchSpace, Trial};
use nas_eval::data::{DataConfig, DataSource};
use nas_eval::train::{TrainConfig, fit};
use nas_space::{Architecture, Nb201NetConfig, Nb201Space};
use std::process::ExitCode;
use std::time::Instant;

/// A searched NB201 cell against LeNet-5, trained with the same recipe.
#[derive(Debug, clap::Parser)]
#[command(name = "baseline")]
struct Args {
    /// The searched cell, e.g. `333132` or its NB201 string.
    #[arg(long)]
    cell: String,
    #[arg(long, default_value = "fashion-mnist")]
    dataset: String,
    #[arg(long, default_value_t = 4)]
    epochs: u32,
    #[arg(long, default_value_t = 1.0)]
    data_fraction: f64,
    #[arg(long, default_value_t = 16)]
    channels: usize,
    #[arg(long, default_value_t = 1)]
    cells_per_stage: usize,
    #[arg(long, default_value_t = 0.05)]
    learning_rate: f64,
    #[arg(long, default_value = "flex")]
    backend: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let mut config = TrainConfig {
        epochs: a.epochs,
        data_fraction: a.data_fraction,
        channels: a.channels,
        cells_per_stage: a.cells_per_stage,
        learning_rate: a.learning_rate,
        backend: a.backend,
        ..TrainConfig::default()
    };
    let (seed, dataset) = (a.seed, a.dataset);
    let cell = a.cell;
    config.data = DataConfig {
        dataset: serde_json::from_value::<DataSource>(serde_json::json!(dataset))
            .map_err(|e| format!("--dataset: {e}"))?,
        ..DataConfig::default()
    };
    config.check().map_err(|e| e.to_string())?;
    let space = Nb201Space::new();
    let genotype = space.parse(&cell).map_err(|e| format!("--cell: {e}"))?;
    let splits = config.data.load().map_err(|e| e.to_string())?;
    let device = nas_space::nn::device(&config.backend).map_err(|e| e.to_string())?;
    let t = &splits.train;
    let net = Nb201NetConfig {
        channels: config.channels,
        cells_per_stage: config.cells_per_stage,
        input: [t.channels, t.height, t.width],
        classes: t.classes,
    };
    println!(
        "# {} on {}: {} epochs, {:.0}% of {} training images, {} backend, seed {seed}\n",
        space.render(&genotype),
        splits.name,
        config.epochs,
        config.data_fraction * 100.0,
        t.len(),
        config.backend
    );
    println!("| network | params | valid acc | test acc | train seconds |");
    println!("|---|---|---|---|---|");
    let ops = space.ops(&genotype).map_err(|e| e.to_string())?;
    for (name, arch) in [
        (
            format!("NB201 cell, C={} N={}", net.channels, net.cells_per_stage),
            Architecture::Nb201(ops),
        ),
        ("LeNet-5 (baseline)".to_string(), Architecture::LeNet5),
    ] {
        let started = Instant::now();
        let trial = Trial {
            id: 0,
            genotype: genotype.clone(),
            fidelity: Default::default(),
            seed,
        };
        let out = fit(
            &arch,
            &net,
            &config,
            &splits,
            config.epochs,
            config.data_fraction,
            trial.seed,
            &device,
            &mut CollectingReporter::default(),
        )
        .map_err(|e| format!("{name}: {e}"))?;
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.0} |",
            out.params,
            out.valid_acc,
            out.test_acc,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    // The kernels split their work with this thread instead of handing it over.
    nas_space::nn::work_on_this_thread();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
