//! `cargo xtask bench train`: training throughput (images per second) of the NAS-Bench-201
//! network on each registered CPU backend: C=16, N=5, 32x32x3 inputs, 10 classes, batch 64
//! of random data, one SGD-momentum step per batch (forward, backward, update), for the
//! cells `333132` (index 6111), `222222` and `343434`.
//!
//! Beside each cell, when a Python with torch is at hand, PyTorch trains the same network
//! the same way (`bench/reference/train_nb201.py`), measured in the same run.
//!
//! Then text: training tokens per second of the `rnn-cell` network (the cell of
//! `--text-cell`, by default the one `docs/benchmarks/text.md` found) against burn's LSTM
//! and GRU of the same hidden size in the same embedding and head: batch 64 of random
//! sentences of `--words` words (24) from 2,000 ids, hidden `--hidden` (64), one Adam step
//! per batch.
//!
//! Options: `--steps N` (timed steps per cell and backend, 5), `--batch N` (64),
//! `--backends a,b` (every CPU backend registered), `--cells a,b` (the three above),
//! `--python PATH` (a Python with torch; default: the venv `--setup-torch` makes, when it
//! exists), `--setup-torch` (make that venv first; about 3 GB of downloads), `--parts`
//! (`nb201,text`, both by default), `--text-cell TEXT`, `--hidden N`, `--words N`.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};
use nas_bench_train::reference::{self, Figure, column, ratio};
use nas_builtins as _;
use nas_core::{Rng, SearchSpace};
use nas_nn::{Classifier, OptimizerKind, Recipe, backend_names, device};
use nas_space::nn::{GruNet, LstmNet, Nb201Net, RnnCellNet};
use nas_space::{Nb201NetConfig, Nb201Space, RnnCellArch};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The cells measured by default: the benchmark's `333132` (index 6111), the cheapest and
/// a costly one.
const CELLS: [&str; 3] = ["333132", "222222", "343434"];

/// The recurrent cell measured by default: the one `docs/benchmarks/text.md` found.
const TEXT_CELL: &str = "identity<0|identity<1|sigmoid<2|tanh<0|relu<2|relu<5|relu<0|relu<0";

struct Options {
    steps: usize,
    batch: usize,
    backends: Vec<String>,
    cells: Vec<String>,
    python: Option<PathBuf>,
    parts: Vec<String>,
    text_cell: String,
    hidden: usize,
    words: usize,
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
    /// Which measurements: `nb201`, `text`.
    #[arg(long, value_delimiter = ',', default_value = "nb201,text")]
    parts: Vec<String>,
    /// The recurrent cell of the text measurement.
    #[arg(long, default_value = TEXT_CELL)]
    text_cell: String,
    /// Hidden size (and embedding size) of the text networks.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    hidden: u64,
    /// Words per sentence of the text measurement.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..))]
    words: u64,
}

fn options() -> Result<Options, String> {
    let a = <Args as clap::Parser>::parse();
    if let Some(p) = a
        .parts
        .iter()
        .find(|p| !["nb201", "text"].contains(&p.as_str()))
    {
        return Err(format!(
            "--parts: unknown part {p:?}; the parts are nb201, text"
        ));
    }
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
        python: if a.parts.iter().any(|p| p == "nb201") {
            reference::python(a.python, a.setup_torch)?
        } else {
            None
        },
        parts: a.parts,
        text_cell: a.text_cell,
        hidden: a.hidden as usize,
        words: a.words as usize,
    })
}

/// Seconds of `steps` optimizer steps of `model` on one batch `(x, y)` at learning rate
/// `lr`, after one untimed warm-up step.
fn timed_steps<N: Classifier>(
    mut model: N,
    mut optim: ModuleOptimizer,
    lr: f64,
    (x, y): (Tensor<4>, Tensor<1, Int>),
    steps: usize,
    device: &burn::tensor::Device,
) -> Result<f64, String> {
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut started = Instant::now();
    for step in 0..=steps {
        if step == 1 {
            started = Instant::now();
        }
        let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
        // Wait for the step to finish (a lazy backend would otherwise time nothing).
        let _ = model.clone().valid();
        let value: f32 = loss.into_scalar();
        if !value.is_finite() {
            return Err(format!("the loss is {value} at step {step}"));
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Images per second of `steps` SGD steps after one untimed warm-up step.
fn throughput(ops: &[u32; 6], backend: &str, o: &Options) -> Result<f64, String> {
    let device = device(backend).map_err(|e| e.to_string())?.autodiff();
    let net = Nb201NetConfig::default();
    let model = Nb201Net::new(ops, &net, &device, 1);
    let optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }))
        .init();
    let mut rng = Rng::new(7);
    let [c, h, w] = net.input;
    let pixels: Vec<f32> = (0..o.batch * c * h * w)
        .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
        .collect();
    let labels: Vec<i64> = (0..o.batch).map(|_| rng.index(10) as i64).collect();
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [o.batch, c, h, w]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [o.batch]), &device);
    let seconds = timed_steps(model, optim, 0.01, (x, y), o.steps, &device)?;
    Ok((o.steps * o.batch) as f64 / seconds)
}

/// Words in the random sentences of the text measurement.
const TEXT_VOCABULARY: usize = 2_000;

/// Training tokens per second of `model` (on an autodiff device): `steps` Adam steps on
/// one batch of random full-length sentences, after one untimed step.
fn tokens_per_second<N: Classifier>(
    model: N,
    o: &Options,
    device: &burn::tensor::Device,
) -> Result<f64, String> {
    let optim = Recipe {
        batch_size: o.batch,
        optimizer: OptimizerKind::Adam,
        learning_rate: 1e-3,
        momentum: 0.0,
        weight_decay: 0.0,
    }
    .optimizer();
    let mut rng = Rng::new(11);
    let ids: Vec<f32> = (0..o.batch * o.words)
        .map(|_| (2 + rng.index(TEXT_VOCABULARY - 2)) as f32)
        .collect();
    let labels: Vec<i64> = (0..o.batch).map(|_| rng.index(2) as i64).collect();
    let x = Tensor::<4>::from_data(TensorData::new(ids, [o.batch, 1, 1, o.words]), device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [o.batch]), device);
    let seconds = timed_steps(model, optim, 1e-3, (x, y), o.steps, device)?;
    Ok((o.steps * o.batch * o.words) as f64 / seconds)
}

/// The text table: the searched cell, the LSTM and the GRU per backend.
fn text_throughput(o: &Options) -> Result<(), String> {
    let arch: RnnCellArch = o
        .text_cell
        .parse()
        .map_err(|e| format!("--text-cell {:?}: {e}", o.text_cell))?;
    let (h, v) = (o.hidden, TEXT_VOCABULARY);
    println!(
        "\n# Training throughput of text networks (hidden {h}, batch {}, {} words, Adam)\n",
        o.batch, o.words
    );
    println!("| network | backend | params | tokens/s | ratio to LSTM |");
    println!("|---|---|---|---|---|");
    for backend in &o.backends {
        let d = device(backend).map_err(|e| e.to_string())?.autodiff();
        let cell = RnnCellNet::new(&arch, h, v, 2, &d, 1);
        let lstm = LstmNet::new(h, v, 2, &d, 1);
        let gru = GruNet::new(h, v, 2, &d, 1);
        let params = [
            cell.trainable_params(),
            lstm.trainable_params(),
            gru.trainable_params(),
        ];
        let rates = [
            tokens_per_second(cell, o, &d)?,
            tokens_per_second(lstm, o, &d)?,
            tokens_per_second(gru, o, &d)?,
        ];
        // A markdown cell cannot hold a bare `|`.
        let cell_name = format!("rnn-cell `{}`", o.text_cell.replace('|', "\\|"));
        let names = [cell_name, "LSTM (burn)".into(), "GRU (burn)".into()];
        for ((name, p), rate) in names.iter().zip(params).zip(rates) {
            println!(
                "| {name} | {backend} | {p} | {rate:.0} | {:.2}x |",
                rate / rates[1]
            );
        }
    }
    Ok(())
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
    if !o.parts.iter().any(|p| p == "nb201") {
        return match text_throughput(&o) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
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
    if o.parts.iter().any(|p| p == "text")
        && let Err(e) = text_throughput(&o)
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
