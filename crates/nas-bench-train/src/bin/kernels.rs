//! `cargo xtask bench kernels`: time of each CPU training kernel (`nas-kernels`) at the
//! shapes of the NB201 network at C=16, batch 64: the 3x3 and 1x1 convolutions of each
//! stage, each with the ReLU before it fused as in the cells (forward, input gradient,
//! weight gradient), and batch norm (forward, backward).
//!
//! A whole training step moves by ±20 % with this machine's load; one kernel timed alone,
//! best of several runs, moves far less, so this is where kernel changes are compared.
//! Each line gives the best time in ms and, for convolutions, the rate in G multiply-adds
//! per second (the useful ones: positions that are computed and dropped do not count).
//!
//! Options: `--repeats N` (best of N, 10), `--batch N` (64), `--threads N` (rayon's
//! default: one per core).

use nas_core::Rng;
use nas_kernels::{
    BatchNormShape, Conv2dShape, batch_norm_backward, batch_norm_forward, conv2d_forward,
    conv2d_input_grad, conv2d_weight_grad,
};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

struct Options {
    repeats: usize,
    batch: usize,
    threads: Option<usize>,
}

/// Time of each CPU training kernel at the NB201 network's shapes.
#[derive(Debug, clap::Parser)]
#[command(name = "kernels")]
struct Args {
    /// Best of this many runs.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    repeats: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// rayon's threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
}

fn options() -> Result<Options, String> {
    let a = <Args as clap::Parser>::parse();
    Ok(Options {
        repeats: a.repeats as usize,
        batch: a.batch as usize,
        threads: a.threads.map(|n| n as usize),
    })
}

/// The best wall time of `repeats` calls of `f`, in ms.
fn best_ms<T>(repeats: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..repeats)
        .map(|_| {
            let started = Instant::now();
            black_box(f());
            started.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn random(rng: &mut Rng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.uniform_in(-1.0, 1.0) as f32).collect()
}

fn conv_lines(s: &Conv2dShape, name: &str, rng: &mut Rng, repeats: usize) {
    let x = random(rng, s.input_len());
    let w = random(rng, s.weight_len());
    let dy = random(rng, s.output_len());
    let macs = (s.output_len() * s.channels_in * s.kernel[0] * s.kernel[1]) as f64;
    let runs: [(&str, f64); 3] = [
        ("forward", best_ms(repeats, || conv2d_forward(&x, &w, s))),
        (
            "input grad",
            best_ms(repeats, || conv2d_input_grad(&dy, &w, &x, s)),
        ),
        (
            "weight grad",
            best_ms(repeats, || conv2d_weight_grad(&x, &dy, s)),
        ),
    ];
    for (what, ms) in runs {
        println!(
            "| {name} | {what} | {ms:.2} | {:.1} |",
            macs / (ms * 1e-3) / 1e9
        );
    }
}

fn batch_norm_lines(s: &BatchNormShape, name: &str, rng: &mut Rng, repeats: usize) {
    let x = random(rng, s.len());
    let dy = random(rng, s.len());
    let gamma = random(rng, s.channels);
    let beta = random(rng, s.channels);
    let forward = batch_norm_forward(&x, &gamma, &beta, 1e-5, s);
    let runs = [
        (
            "forward",
            best_ms(repeats, || batch_norm_forward(&x, &gamma, &beta, 1e-5, s)),
        ),
        (
            "backward",
            best_ms(repeats, || {
                batch_norm_backward(&x, &gamma, &forward.mean, &forward.variance, 1e-5, &dy, s)
            }),
        ),
    ];
    for (what, ms) in runs {
        println!("| {name} | {what} | {ms:.2} | |");
    }
}

fn run(o: &Options) {
    let mut rng = Rng::new(11);
    println!(
        "# CPU kernels at the NB201 network's shapes (C=16, batch {})\n",
        o.batch
    );
    println!("| kernel | pass | best ms | GMAC/s |");
    println!("|---|---|---|---|");
    for (channels, size) in [(16, 32), (32, 16), (64, 8)] {
        for kernel in [3, 1] {
            let s = Conv2dShape {
                batch: o.batch,
                channels_in: channels,
                height: size,
                width: size,
                channels_out: channels,
                kernel: [kernel; 2],
                stride: [1, 1],
                padding: [kernel / 2; 2],
                // The cells' ReLU-conv-BN: the ReLU is fused into the convolution.
                relu_input: true,
            };
            let name = format!("conv {kernel}x{kernel}, {channels} ch, {size}x{size}");
            conv_lines(&s, &name, &mut rng, o.repeats);
        }
        let s = BatchNormShape {
            batch: o.batch,
            channels,
            plane: size * size,
        };
        let name = format!("batch norm, {channels} ch, {size}x{size}");
        batch_norm_lines(&s, &name, &mut rng, o.repeats);
    }
}

fn main() -> ExitCode {
    // The kernels split their work with this thread instead of handing it over.
    nas_kernels::work_on_this_thread();
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match o.threads {
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(|| run(&o)),
            Err(e) => {
                eprintln!("error: cannot start {n} threads: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => run(&o),
    }
    ExitCode::SUCCESS
}
