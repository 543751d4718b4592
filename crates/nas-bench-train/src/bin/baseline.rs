//! `cargo xtask bench baseline`: a searched architecture against hand designs, all trained
//! with the same recipe (epochs, data, optimizer, schedule, seeds) on the same data, so the
//! comparison says whether the search found something better than a hand design. On
//! images the baseline is LeNet-5; on text (`--dataset sentiment`, `--space rnn-cell`)
//! burn's LSTM and GRU of the same hidden size in the same embedding and head.
//!
//! The search itself is a `nas search` run (its report gives the best architecture and the
//! search cost); this retrains it at the width given here, through the network its space
//! registers (any space that registers one), and trains the baselines beside it, once per
//! seed: the table gives each network's mean and standard deviation over the seeds.
//!
//! Options: `--cell TEXT` (required: the searched architecture in its space's string
//! form, e.g. `333132` for NB201), `--space NAME` (`nb201`), `--dataset NAME`
//! (`fashion-mnist`), `--epochs N` (4), `--data-fraction F` (1.0), `--channels C` (16; the
//! hidden size on text), `--cells-per-stage N` (1), `--backend NAME` (`flex`), `--seed N`
//! (0, the first seed), `--seeds N` (1), `--learning-rate F` (0.05), `--optimizer NAME`
//! (`sgd` or `adam`), `--weight-decay F` (5e-4), `--valid-fraction F` (0.1).

use nas_bench_train::mean_sd;
use nas_builtins as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{EvalError, Reporter};
use nas_core::{SearchSpace, SpaceConfig};
use nas_data::{DataConfig, DataSource};
use nas_eval::train::TrainConfig;
use nas_nn::{FitJob, FitOutcome, OptimizerKind, Task};
use nas_space::nn::{GruNet, LeNet5Net, LstmNet, lenet_check_task, text_check_task};
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
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    #[arg(long, default_value_t = 5e-4)]
    weight_decay: f64,
    #[arg(long, default_value_t = 0.1)]
    valid_fraction: f64,
    #[arg(long, default_value = "flex")]
    backend: String,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Seeds trained per network, from `--seed` on.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
}

/// A network's training run for one job.
type Trainer<'a> =
    Box<dyn Fn(&FitJob<'_>, &mut dyn Reporter) -> Result<FitOutcome, EvalError> + 'a>;

/// The hand designs for `task`: LeNet-5 on images, the LSTM and the GRU on text.
fn baselines<'a>(task: Task, hidden: usize) -> Result<Vec<(String, Trainer<'a>)>, String> {
    if task.is_text() {
        text_check_task(&task)?;
        let (v, k) = (task.vocabulary, task.classes);
        return Ok(vec![
            (
                format!("LSTM (burn), hidden {hidden}"),
                Box::new(move |job: &FitJob<'_>, r: &mut dyn Reporter| {
                    nas_nn::fit(|d| LstmNet::new(hidden, v, k, d, job.seed), task, job, r)
                }),
            ),
            (
                format!("GRU (burn), hidden {hidden}"),
                Box::new(move |job: &FitJob<'_>, r: &mut dyn Reporter| {
                    nas_nn::fit(|d| GruNet::new(hidden, v, k, d, job.seed), task, job, r)
                }),
            ),
        ]);
    }
    lenet_check_task(&task).map_err(|e| format!("LeNet-5: {e}"))?;
    Ok(vec![(
        "LeNet-5 (baseline)".to_string(),
        Box::new(move |job: &FitJob<'_>, r: &mut dyn Reporter| {
            nas_nn::fit(
                |d| LeNet5Net::new(task.input, task.classes, d, job.seed),
                task,
                job,
                r,
            )
        }),
    )])
}

/// The training config the options ask for.
fn train_config(a: &Args) -> Result<TrainConfig, String> {
    let config = TrainConfig {
        epochs: a.epochs,
        data_fraction: a.data_fraction,
        channels: a.channels,
        cells_per_stage: a.cells_per_stage,
        learning_rate: a.learning_rate,
        weight_decay: a.weight_decay,
        optimizer: serde_json::from_value::<OptimizerKind>(serde_json::json!(a.optimizer))
            .map_err(|e| format!("--optimizer: {e}"))?,
        backend: a.backend.clone(),
        data: DataConfig {
            dataset: serde_json::from_value::<DataSource>(serde_json::json!(a.dataset))
                .map_err(|e| format!("--dataset: {e}"))?,
            valid_fraction: a.valid_fraction,
            ..DataConfig::default()
        },
        ..TrainConfig::default()
    };
    config.check().map_err(|e| e.to_string())?;
    Ok(config)
}

/// Trains one network once per seed and prints its row: mean ± sd of validation and test
/// accuracy, seconds, each seed's test accuracy.
fn row(name: &str, train: &Trainer<'_>, job: &FitJob<'_>, seeds: &[u64]) -> Result<(), String> {
    let (mut valid, mut test, mut seconds, mut params) = (vec![], vec![], vec![], 0);
    for &seed in seeds {
        let started = Instant::now();
        let out = train(&FitJob { seed, ..*job }, &mut CollectingReporter::default())
            .map_err(|e| format!("{name}, seed {seed}: {e}"))?;
        valid.push(out.valid_acc);
        test.push(out.test_acc);
        seconds.push(started.elapsed().as_secs_f64());
        params = out.params;
    }
    let (vm, vs) = mean_sd(&valid);
    let (tm, ts) = mean_sd(&test);
    let per_seed: Vec<String> = test.iter().map(|a| format!("{a:.2}")).collect();
    println!(
        "| {name} | {params} | {vm:.2} ± {vs:.2} | {tm:.2} ± {ts:.2} | {:.0} | {} |",
        mean_sd(&seconds).0,
        per_seed.join(", ")
    );
    Ok(())
}

fn run() -> Result<(), String> {
    let a = <Args as clap::Parser>::parse();
    let config = train_config(&a)?;
    let space: Arc<dyn SearchSpace> =
        PluginConfig::<dyn SpaceConfig>::from_value(serde_json::json!({ "type": a.space }))
            .map_err(|e| format!("--space: {e}"))?
            .config
            .build()
            .map_err(|e| format!("--space: {e}"))?;
    let network = nas_nn::network_of(space.name()).map_err(|e| format!("--space: {e}"))?;
    let genotype = space.parse(&a.cell).map_err(|e| format!("--cell: {e}"))?;
    let splits = config.data.load().map_err(|e| e.to_string())?;
    let device = nas_nn::device(&config.backend).map_err(|e| e.to_string())?;
    let t = &splits.train;
    let spec = config.spec(&splits, None);
    let seeds: Vec<u64> = (a.seed..a.seed + a.seeds).collect();
    println!(
        "# {} on {}: {} epochs, {:.0}% of {} training {}, {:?} lr {}, {} backend, seeds {seeds:?}\n",
        space.render(&genotype),
        splits.name,
        config.epochs,
        config.data_fraction * 100.0,
        t.len(),
        match &splits.vocabulary {
            Some(v) => format!("sentences (a vocabulary of {} ids)", v.len()),
            None => "images".to_string(),
        },
        config.optimizer,
        config.learning_rate,
        config.backend
    );
    let searched: Trainer<'_> = Box::new(|job: &FitJob<'_>, r: &mut dyn Reporter| {
        network.fit(space.as_ref(), &genotype, &spec, job, r)
    });
    let mut networks = vec![(
        format!(
            "{} network (searched), width {} depth {}",
            space.name(),
            spec.width,
            spec.depth
        ),
        searched,
    )];
    networks.extend(baselines(spec.task, spec.width)?);
    println!("| network | params | valid acc | test acc | train seconds | per seed (test) |");
    println!("|---|---|---|---|---|---|");
    let recipe = config.recipe();
    let job = FitJob {
        recipe: &recipe,
        splits: &splits,
        epochs: config.epochs,
        data_fraction: config.data_fraction,
        seed: a.seed,
        device: &device,
        keep_weights: false,
    };
    for (name, train) in &networks {
        row(name, train, &job, &seeds)?;
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
