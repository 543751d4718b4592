//! `cargo xtask bench enas`: ENAS on the NB201 space with real training, and what the issue
//! asks of it: the derived cell (NB201 string), its table accuracies on the three benchmark
//! data sets (a transfer figure: searched on one data set, read on others), its own
//! retrained accuracy, the search cost (wall time, shared-weight steps), whether it
//! collapsed to parameter-free ops, and the ranking quality of the shared weights
//! (Spearman between supernet accuracy and stand-alone accuracy over a sample of cells).
//!
//! Options: `--dataset NAME` (`fashion-mnist`), `--data-fraction F` (0.1), `--epochs N`
//! (10), `--channels C` (8), `--controller-steps N` (50), `--retrain-epochs N` (4),
//! `--rank-cells K` (200: cells scored under the shared weights against the table),
//! `--trained-cells K` (0: cells also trained stand-alone on the data for a second
//! Spearman), `--seed N` (0), `--backend NAME` (`flex`), `--out FILE` (print only).

use nas_builtins as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::stats::spearman;
use nas_core::{Rng, SearchSpace};
use nas_data::{DataConfig, DataSource};
use nas_enas::{EnasConfig, SupernetSearch};
use nas_eval::{Dataset, Nb201Table};
use nas_nn::{FitJob, Task};
use nas_space::Nb201Space;
use nas_space::nn::Nb201Net;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

struct Options {
    enas: EnasConfig,
    retrain_epochs: u32,
    rank_cells: usize,
    trained_cells: usize,
    seed: u64,
    out: Option<String>,
}

/// ENAS on NB201 cells with real training.
#[derive(Debug, clap::Parser)]
#[command(name = "enas")]
struct Args {
    #[arg(long, default_value = "fashion-mnist")]
    dataset: String,
    #[arg(long, default_value_t = 0.1)]
    data_fraction: f64,
    #[arg(long, default_value_t = 10)]
    epochs: u32,
    #[arg(long, default_value_t = 8)]
    channels: usize,
    #[arg(long, default_value_t = 50)]
    controller_steps: usize,
    #[arg(long, default_value_t = 4)]
    retrain_epochs: u32,
    /// Cells scored under the shared weights against the table.
    #[arg(long, default_value_t = 200)]
    rank_cells: usize,
    /// Cells also trained stand-alone on the data, for a second Spearman.
    #[arg(long, default_value_t = 0)]
    trained_cells: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "flex")]
    backend: String,
    /// A file for the report (default: print only).
    #[arg(long)]
    out: Option<String>,
}

fn options() -> Result<Options, String> {
    let a = <Args as clap::Parser>::parse();
    Ok(Options {
        enas: EnasConfig {
            data_fraction: a.data_fraction,
            epochs: a.epochs,
            channels: a.channels,
            controller_steps: a.controller_steps,
            backend: a.backend,
            data: DataConfig {
                dataset: serde_json::from_value::<DataSource>(serde_json::json!(a.dataset))
                    .map_err(|e| format!("--dataset: {e}"))?,
                ..DataConfig::default()
            },
            ..EnasConfig::default()
        },
        retrain_epochs: a.retrain_epochs,
        rank_cells: a.rank_cells,
        trained_cells: a.trained_cells,
        seed: a.seed,
        out: a.out,
    })
}

/// Ops with no weights: `none`, `skip_connect`, `avg_pool_3x3`.
fn parameter_free(op: u32) -> bool {
    matches!(op, 0 | 1 | 4)
}

fn run() -> Result<(), String> {
    let o = options()?;
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let nb201 = Nb201Space::new();
    let phase = SupernetSearch::new(&o.enas, Arc::clone(&space)).map_err(|e| e.to_string())?;
    let table = Nb201Table::embedded().map_err(|e| e.to_string())?;
    let (outcome, trained) = phase
        .run(o.seed, &mut |m| eprintln!("{m}"))
        .map_err(|e| e.to_string())?;
    let best = outcome.candidates.first().ok_or("no cell was derived")?;
    let ops = nb201.ops(&best.genotype).map_err(|e| e.to_string())?;
    let greedy_ops = nb201.ops(&outcome.greedy).map_err(|e| e.to_string())?;
    let net = nas_space::nn::nb201_net_config(&phase.data.spec);
    let mut md = String::new();
    let c = &o.enas;
    let _ = writeln!(
        md,
        "# ENAS on NAS-Bench-201 cells, searched on {}\n\n\
         Command: `cargo xtask bench enas --dataset {} --data-fraction {} --epochs {} \
         --channels {} --controller-steps {} --retrain-epochs {} --rank-cells {} \
         --trained-cells {} --seed {}` ({} backend, this machine).\n",
        phase.data.splits.name,
        phase.data.splits.name,
        c.data_fraction,
        c.epochs,
        c.channels,
        c.controller_steps,
        o.retrain_epochs,
        o.rank_cells,
        o.trained_cells,
        o.seed,
        c.backend,
    );
    let cost = &outcome.cost;
    let _ = writeln!(
        md,
        "## Search cost\n\n| wall seconds | shared-weight steps | controller steps | derived cells scored | train images used |\n|---|---|---|---|---|\n| {:.0} | {} | {} | {} | {} |\n",
        cost.wall_seconds,
        cost.shared_steps,
        cost.controller_steps,
        cost.derive_samples,
        ((phase.data.splits.train.len() as f64 * c.data_fraction).round() as usize).max(1),
    );

    // The derived cell, the controller's greedy one, and their table accuracies.
    let _ = writeln!(
        md,
        "## Derived cell\n\n| cell | supernet acc | CIFAR-10 | CIFAR-100 | ImageNet16-120 | parameter-free edges |\n|---|---|---|---|---|---|"
    );
    for (label, cell_ops, acc) in [
        ("best derived", ops, Some(best.supernet_acc)),
        ("controller's greedy", greedy_ops, None),
    ] {
        let row = table.row(&cell_ops);
        let free = cell_ops.iter().filter(|&&op| parameter_free(op)).count();
        let _ = writeln!(
            md,
            "| {label}: `{}` | {} | {:.2} | {:.2} | {:.2} | {free}/6 |",
            row.arch,
            acc.map_or_else(|| "".to_string(), |a| format!("{a:.2}")),
            row.entry(Dataset::Cifar10).test_acc,
            row.entry(Dataset::Cifar100).test_acc,
            row.entry(Dataset::Imagenet16).test_acc,
        );
    }
    let _ = writeln!(
        md,
        "\nTable columns: 200-epoch test accuracy from the NAS-Bench-201 table (the cell searched \
         on {}, read on CIFAR; the published ENAS result is 53.89 on CIFAR-10, a collapse to \
         skip connections).\n",
        phase.data.splits.name
    );
    let collapsed = ops.iter().all(|&op| parameter_free(op));
    let _ = writeln!(
        md,
        "Collapse: {}.\n",
        if collapsed {
            "yes, the derived cell has no convolution"
        } else {
            "no, the derived cell keeps convolutions"
        }
    );

    // Retrained stand-alone on the search data.
    let recipe = c.shared_weights();
    let retrain = |cell_ops: [u32; 6], seed: u64| {
        let job = FitJob {
            recipe: &recipe,
            splits: &phase.data.splits,
            epochs: o.retrain_epochs,
            data_fraction: c.data_fraction,
            seed,
            device: &phase.data.device,
            keep_weights: false,
        };
        let task = Task::images(net.input, net.classes);
        nas_nn::fit(
            |d| Nb201Net::new(&cell_ops, &net, d, seed),
            task,
            &job,
            &mut CollectingReporter::default(),
        )
        .map_err(|e| e.to_string())
    };
    let out = retrain(ops, o.seed)?;
    let _ = writeln!(
        md,
        "## Retrained\n\nThe best derived cell trained from scratch with the `train` evaluator's \
         recipe ({} epochs, same data share, C={}, N={}): valid {:.2}%, test {:.2}%, {:.0} s.\n",
        o.retrain_epochs,
        c.channels,
        c.cells_per_stage,
        out.valid_acc,
        out.test_acc,
        out.train_seconds
    );

    // Ranking quality of the shared weights.
    let mut rng = Rng::new(o.seed ^ 0x005e_ed0f_ce11);
    let sample: Vec<[u32; 6]> = rng
        .sample_indices(table.rows().len(), o.rank_cells.min(table.rows().len()))
        .into_iter()
        .map(|i| table.rows()[i].ops)
        .collect();
    let images: Vec<usize> = (0..c.derive_images.min(phase.data.splits.valid.len())).collect();
    let supernet_acc: Vec<f64> = sample
        .iter()
        .map(|cell| {
            let g = nas_core::Genotype::from_indices(*cell);
            trained.accuracy(&g, &phase.data.splits.valid, &images)
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let _ = writeln!(
        md,
        "## Ranking quality of the shared weights\n\nSpearman correlation between a cell's \
         accuracy under the shared weights ({} validation images) and its stand-alone \
         accuracy.\n\n| stand-alone accuracy | cells | Spearman |\n|---|---|---|",
        images.len()
    );
    for d in Dataset::ALL {
        let truth: Vec<f64> = sample
            .iter()
            .map(|cell| table.row(cell).entry(d).test_acc)
            .collect();
        let rho = spearman(&supernet_acc, &truth).unwrap_or(f64::NAN);
        let _ = writeln!(
            md,
            "| table, {} (200 epochs, test) | {} | {rho:.3} |",
            d.column(),
            sample.len()
        );
    }
    if o.trained_cells > 0 {
        let k = o.trained_cells.min(sample.len());
        let mut trained_acc = Vec::with_capacity(k);
        for (i, cell) in sample.iter().take(k).enumerate() {
            eprintln!("enas bench: training cell {}/{k} stand-alone", i + 1);
            trained_acc.push(retrain(*cell, o.seed)?.valid_acc);
        }
        let rho = spearman(&supernet_acc[..k], &trained_acc).unwrap_or(f64::NAN);
        let _ = writeln!(
            md,
            "| trained on {} ({} epochs, valid) | {k} | {rho:.3} |",
            phase.data.splits.name, o.retrain_epochs
        );
    }
    print!("{md}");
    if let Some(path) = &o.out {
        std::fs::write(path, &md).map_err(|e| format!("--out {path}: {e}"))?;
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
