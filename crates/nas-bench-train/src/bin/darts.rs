//! `cargo xtask bench darts`: images per second of DARTS search and peak memory, on the
//! NAS-Bench-201 supernet at C = 16, N = 5, batch 64, 32x32x3 images of 10 classes, one
//! architecture step and one weight step per batch, first and second order, on each CPU
//! backend; beside it, when a Python with torch is at hand, the same steps in PyTorch
//! (`bench/reference/darts_nb201.py`), measured in the same run.
//!
//! Each configuration runs in its own process (this binary with `--child`), so its peak
//! resident memory (`VmHWM`) is its own. The images are random (seeded) and written once
//! to a CSV the search reads as any data set. Images per second counts training images:
//! steps times the batch, over the search phase's wall time.
//!
//! Options: `--steps N` (5), `--backends LIST` (`flex,ndarray`), `--orders LIST` (`1,2`),
//! `--python PATH` (a Python with torch; default: the venv `--setup-torch` makes, when it
//! exists), `--setup-torch` (make that venv first: `pip install -r
//! bench/reference/requirements.txt`, a download of about 3 GB), `--out FILE`.

use nas_bench_train::reference::{self, Figure, column, ratio};
use nas_builtins as _;
use nas_core::{Rng, SearchSpace};
use nas_darts::{DartsConfig, RelaxedSearch};
use nas_data::{DataConfig, DataSource};
use nas_space::Nb201Space;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;

const BATCH: usize = 64;

/// DARTS search throughput against PyTorch.
#[derive(Debug, clap::Parser)]
#[command(name = "darts")]
struct Args {
    /// Search steps (batches) per configuration.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    #[arg(long, default_value = "flex,ndarray")]
    backends: String,
    #[arg(long, default_value = "1,2")]
    orders: String,
    /// A Python with torch for the reference column.
    #[arg(long)]
    python: Option<PathBuf>,
    /// Make the throwaway venv for the reference column first.
    #[arg(long)]
    setup_torch: bool,
    #[arg(long)]
    out: Option<String>,
    /// Internal: measure `BACKEND:ORDER` in this process, reading `--csv`.
    #[arg(long, hide = true)]
    child: Option<String>,
    #[arg(long, hide = true)]
    csv: Option<PathBuf>,
}

/// Random 32x32x3 images, labels 0-9 in turn: `2 * steps` batches (the search holds half
/// out for validation and testing, the other half is `steps` training batches).
fn write_images(path: &Path, steps: usize) -> Result<(), String> {
    let mut rng = Rng::new(0);
    let mut text = String::from("label");
    for i in 0..3 * 32 * 32 {
        let _ = write!(text, ",p{i}");
    }
    for row in 0..2 * steps * BATCH {
        let _ = write!(text, "\n{}", row % 10);
        for _ in 0..3 * 32 * 32 {
            let _ = write!(text, ",{:.3}", rng.uniform_in(0.0, 1.0));
        }
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// This process's peak resident memory, from `/proc/self/status`.
fn peak_gib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / (1024.0 * 1024.0)
}

/// The child: one search phase of `steps` batches on `backend` at `order`.
fn measure(spec: &str, csv: &Path) -> Result<Figure, String> {
    let (backend, order) = spec
        .split_once(':')
        .ok_or_else(|| format!("--child {spec}: expected BACKEND:ORDER"))?;
    let config = DartsConfig {
        backend: backend.to_string(),
        data: DataConfig {
            dataset: DataSource::Csv,
            csv: Some(csv.to_path_buf()),
            image_shape: Some([3, 32, 32]),
            valid_fraction: 0.25,
            ..DataConfig::default()
        },
        channels: 16,
        cells_per_stage: 5,
        epochs: 1,
        batch_size: BATCH,
        order: order.parse().map_err(|_| format!("order {order:?}"))?,
        ..DartsConfig::default()
    };
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let phase = RelaxedSearch::new("darts", &config, space).map_err(|e| e.to_string())?;
    let images = phase.data.splits.train.len();
    let outcome = phase.run(0, &mut |_| {}).map_err(|e| e.to_string())?;
    Ok(Figure {
        images_per_s: images as f64 / outcome.cost.wall_seconds,
        peak_gib: peak_gib(),
    })
}

fn main() -> ExitCode {
    // The kernels split their work with this thread instead of handing it over.
    nas_nn::work_on_this_thread();
    let a = <Args as clap::Parser>::parse();
    match (&a.child, &a.csv) {
        (Some(spec), Some(csv)) => match measure(spec, csv) {
            Ok(f) => {
                println!(
                    "{{\"images_per_s\": {}, \"peak_rss_gib\": {}}}",
                    f.images_per_s, f.peak_gib
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        _ => match bench(&a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn bench(a: &Args) -> Result<(), String> {
    let dir = reference::out_dir().join("darts");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let python = reference::python(a.python.clone(), a.setup_torch)?;
    let csv = dir.join("images.csv");
    write_images(&csv, a.steps)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let script = reference::script("darts_nb201.py");
    let mut report = format!(
        "DARTS search on the NB201 supernet (C=16, N=5, batch {BATCH}, 32x32x3, 10 classes), {} steps a configuration\n\n| order | backend | images/s | peak GiB | PyTorch images/s | PyTorch peak GiB | speed ratio | memory ratio |\n|---|---|---|---|---|---|---|---|\n",
        a.steps
    );
    for order in a.orders.split(',') {
        // PyTorch first, then each backend, in one run: the figures share the minute.
        let torch = python.as_ref().map(|py| {
            reference::run(Command::new(py).arg(&script).args([
                "--order",
                order,
                "--steps",
                &a.steps.to_string(),
            ]))
        });
        if let Some(Err(e)) = &torch {
            eprintln!("PyTorch reference failed: {e}");
        }
        for backend in a.backends.split(',') {
            let ours = reference::run(
                Command::new(&exe)
                    .args(["--child", &format!("{backend}:{order}")])
                    .arg("--csv")
                    .arg(&csv),
            )?;
            let speed = |f: &Figure| f.images_per_s;
            let memory = |f: &Figure| f.peak_gib;
            let row = format!(
                "| {order} | {backend} | {:.1} | {:.2} | {} | {} | {} | {} |",
                ours.images_per_s,
                ours.peak_gib,
                column(&torch, speed),
                column(&torch, memory),
                ratio(ours.images_per_s, &torch, speed),
                ratio(ours.peak_gib, &torch, memory),
            );
            eprintln!("{row}");
            let _ = writeln!(report, "{row}");
        }
    }
    print!("{report}");
    if let Some(path) = &a.out {
        std::fs::write(path, &report).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
