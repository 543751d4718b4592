//! `cargo xtask bench train`: training throughput (images per second) of the NAS-Bench-201
//! network on each registered CPU backend: C=16, N=5, 32x32x3 inputs, 10 classes, batch 64
//! of random data, one SGD-momentum step per batch (forward, backward, update), for the
//! cells `333132` (index 6111), `222222` and `343434`.
//!
//! Beside each cell, when a Python with torch is at hand, PyTorch trains the same network
//! the same way (`bench/reference/train_nb201.py`), measured in the same run.
//!
//! Options: `--steps N` (timed steps per cell and backend, 5), `--batch N` (64),
//! `--backends a,b` (every CPU backend registered), `--cells a,b` (the three above),
//! `--python PATH` (a Python with torch; default: the venv `--setup-torch` makes, when it
//! exists), `--setup-torch` (make that venv first; about 3 GB of downloads).

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};
use nas_bench_train::reference::{self, Figure, column, ratio};
use nas_builtins as _;
use nas_core::{Rng, SearchSpace};
use nas_nn::{backend_names, device};
use nas_space::nn::Nb201Net;
use nas_space::{Nb201NetConfig, Nb201Space};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The cells measured by default: the benchmark's `333132` (index 6111), the cheapest and
/// a costly one.
const CELLS: [&str; 3] = ["333132", "222222", "343434"];

struct Options {
    steps: usize,
    batch: usize,
    backends: Vec<String>,
    cells: Vec<String>,
    python: Option<PathBuf>,
}

/// Training images per second of the NB201 network per CPU backend.
#[derive(Debug, clap::Parser)]
#[command(name = "train")]
struct Args {
    /// Timed SGD steps (after one untimed warm-up step).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Comma-separated backends (default: every registered CPU backend).
    #[arg(long, value_delimiter = ',')]
    backends: Option<Vec<String>>,
    /// Comma-separated cells, as op codes (default: the three above).
    #[arg(long, value_delimiter = ',')]
    cells: Option<Vec<String>>,
    /// A Python with torch for the reference column.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Make the throwaway venv for the reference column first.
    #[arg(long)]
    setup_torch: bool,
}

fn options() -> Result<Options, String> {
    let a = <Args as clap::Parser>::parse();
    Ok(Options {
        steps: a.steps as usize,
        batch: a.batch as usize,
        backends: a.backends.unwrap_or_else(|| {
            backend_names()
                .into_iter()
                .filter(|b| b.name != "wgpu")
                .map(|b| b.name.to_string())
                .collect()
        }),
        cells: a
            .cells
            .unwrap_or_else(|| CELLS.iter().map(ToString::to_string).collect()),
        python: reference::python(a.python, a.setup_torch)?,
    })
}

/// Images per second of `steps` SGD steps after one untimed warm-up step.
fn throughput(ops: &[u32; 6], backend: &str, o: &Options) -> Result<f64, String> {
    let device = device(backend).map_err(|e| e.to_string())?.autodiff();
    let net = Nb201NetConfig::default();
    let mut model = Nb201Net::new(ops, &net, &device, 1);
    let mut optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }))
        .init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut rng = Rng::new(7);
    let [c, h, w] = net.input;
    let pixels: Vec<f32> = (0..o.batch * c * h * w)
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    let labels: Vec<i64> = (0..o.batch).map(|_| rng.index(10) as i64).collect();
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [o.batch, c, h, w]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [o.batch]), &device);
    let mut started = Instant::now();
    for step in 0..=o.steps {
        if step == 1 {
            started = Instant::now();
        }
        let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(0.01, model, grads);
        // Wait for the step to finish (a lazy backend would otherwise time nothing).
        let _ = model.clone().valid();
        let value: f32 = loss.into_scalar();
        if !value.is_finite() {
            return Err(format!("the loss is {value} at step {step}"));
        }
    }
    Ok((o.steps * o.batch) as f64 / started.elapsed().as_secs_f64())
}

fn main() -> ExitCode {
    // The kernels split their work with this thread instead of handing it over.
    nas_nn::work_on_this_thread();
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let space = Nb201Space::new();
    println!(
        "# Training throughput of the NB201 network (C=16, N=5, batch {}, 32x32x3)\n",
        o.batch
    );
    println!("| cell | backend | images/s | PyTorch images/s | ratio |");
    println!("|---|---|---|---|---|");
    for code in &o.cells {
        let ops = match space
            .parse(code)
            .map_err(|e| e.to_string())
            .and_then(|g| space.ops(&g).map_err(|e| e.to_string()))
        {
            Ok(ops) => ops,
            Err(e) => {
                eprintln!("error: cell {code:?}: {e}");
                return ExitCode::from(2);
            }
        };
        let pytorch = o.python.as_ref().map(|py| {
            reference::run(
                Command::new(py)
                    .arg(reference::script("train_nb201.py"))
                    .args(["--cell", code])
                    .args(["--steps", &o.steps.to_string()])
                    .args(["--batch", &o.batch.to_string()]),
            )
        });
        if let Some(Err(e)) = &pytorch {
            eprintln!("PyTorch reference failed: {e}");
        }
        let speed = |f: &Figure| f.images_per_s;
        for backend in &o.backends {
            match throughput(&ops, backend, &o) {
                Ok(rate) => println!(
                    "| {code} | {backend} | {rate:.1} | {} | {} |",
                    column(&pytorch, speed),
                    ratio(rate, &pytorch, speed),
                ),
                Err(e) => {
                    eprintln!("error: {backend}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
