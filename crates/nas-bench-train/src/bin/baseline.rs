//! `cargo xtask bench baseline`: a searched architecture against LeNet-5, both trained
//! with the same recipe (epochs, data, optimizer, schedule, seed) on the same data, so the
//! comparison says whether the search found something better than a hand design.
//!
//! The search itself is a `nas search` run (its report gives the best architecture and the
//! search cost); this retrains it at the width given here, through the network its space
//! registers (any space that registers one), and trains the baseline beside it.
//!
//! Options: `--cell TEXT` (required: the searched architecture in its space's string
//! form, e.g. `333132` for NB201), `--space NAME` (`nb201`), `--dataset NAME`
//! (`fashion-mnist`), `--epochs N` (4), `--data-fraction F` (1.0), `--channels C` (16),
//! `--cells-per-stage N` (1), `--backend NAME` (`flex`), `--seed N` (0),
//! `--learning-rate F` (0.05).

use nas_builtins as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{SearchSpace, SpaceConfig};
use nas_data::{DataConfig, DataSource};
use nas_eval::train::TrainConfig;
use nas_nn::{FitJob, Task};
use nas_space::nn::{LeNet5Net, lenet_check_task};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// A searched architecture against LeNet-5, trained with the same recipe.
#[derive(Debug, clap::Parser)]
#[command(name = "baseline")]
struct Args {
    /// The searched architecture in its space's string form, e.g. `333132` for NB201.
    #[arg(long)]
    cell: String,
    /// The registered space the architecture is of.
    #[arg(long, default_value = "nb201")]
    space: String,
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
    let space: Arc<dyn SearchSpace> =
        PluginConfig::<dyn SpaceConfig>::from_value(serde_json::json!({ "type": a.space }))
            .map_err(|e| format!("--space: {e}"))?
            .config
            .build()
            .map_err(|e| format!("--space: {e}"))?;
    let network = nas_nn::network_of(space.name()).map_err(|e| format!("--space: {e}"))?;
    let genotype = space.parse(&cell).map_err(|e| format!("--cell: {e}"))?;
    let splits = config.data.load().map_err(|e| e.to_string())?;
    let device = nas_nn::device(&config.backend).map_err(|e| e.to_string())?;
    let t = &splits.train;
    let spec = config.spec(&splits, None);
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
    let job = FitJob {
        recipe: &config.recipe(),
        splits: &splits,
        epochs: config.epochs,
        data_fraction: config.data_fraction,
        seed,
        device: &device,
    };
    let task: Task = spec.task;
    lenet_check_task(&task).map_err(|e| format!("LeNet-5: {e}"))?;
    for name in [
        format!(
            "{} network, channels {} cells_per_stage {}",
            space.name(),
            spec.width,
            spec.depth
        ),
        "LeNet-5 (baseline)".to_string(),
    ] {
        let started = Instant::now();
        let reporter = &mut CollectingReporter::default();
        let out = if name.starts_with("LeNet") {
            nas_nn::fit(
                |d| LeNet5Net::new(task.input, task.classes, d, seed),
                task,
                &job,
                reporter,
            )
        } else {
            network.fit(space.as_ref(), &genotype, &spec, &job, reporter)
        }
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
    nas_nn::work_on_this_thread();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
