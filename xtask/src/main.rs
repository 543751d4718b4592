//! `cargo xtask <task>`: the project's commands in one place (matklad's cargo-xtask
//! pattern). Each task shells out to cargo, so what it runs is visible and reproducible.

mod postgres;
mod storage_bench;
mod tidy;

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask <task> [args]

tasks:
  search [ARGS]     run a search; no ARGS: the default experiment (regularized
                    evolution over NAS-Bench-201 cells, 30 trained on digits on the CPU).
                    ARGS go to `nas search` (see `cargo xtask search --help`).
  test              run every test of the workspace (what CI runs)
  bench [NAME]      run benchmarks: `throughput` (default: search queries/s,
                    journal on and off); `report`: reading a 100,000-trial
                    journal and writing its trade-off report (target: 5 s);
                    `nb201 [--seeds N --trials N ...]`: every strategy under
                    the NAS-Bench-201 protocol, with published rows;
                    `zero-cost`: each proxy's rank correlation on NAS-Bench-201;
                    `train`: training images/s of the NB201 network per CPU backend;
                    `kernels`: time of each CPU kernel at the NB201 network's shapes;
                    `baseline --cell CODE`: a searched cell against LeNet-5, same recipe;
                    `enas`: ENAS on NB201 cells with real training (cost, derived
                    cell, transfer, ranking quality of the shared weights);
                    `oneshot`: DARTS, beta-DARTS, GDAS and ENAS over seeds, the
                    derived cells' table accuracies and parameter-free share;
                    `darts [--setup-torch]`: DARTS search images/s and peak memory
                    per CPU backend, first and second order, beside PyTorch's;
                    `transfer`: a DARTS cell searched small, trained small and
                    stacked larger, against a random cell;
                    `pruners`: regularized evolution on the NB201 tabular
                    ladder with and without each pruner, per budget, 200 seeds;
                    `pruners-train`: the same with real training on digits,
                    each search given the same seconds of training, 3 seeds;
                    `rl`: a policy network searched with the rl-policy
                    evaluator (PPO) against 64-64 tanh, same budget, over seeds;
                    `storage [--no-optuna]`: trials/s through SQLite and through
                    PostgreSQL with 1, 2, 4, 8 worker processes, beside Optuna's
  tidy              check the rules of ARCHITECTURE.md: dependency edges between
                    crates (cargo metadata), no burn below the tensor-free crates,
                    anyhow only in binaries, every crate documented, seeded randomness
  ci                what CI runs: fmt check, clippy with warnings denied, tidy, tests";

fn cargo(args: &[&str]) -> Result<()> {
    cargo_with(args, &[])
}

/// `cargo args` with the environment variables `env` added.
fn cargo_with(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Where cargo builds: `CARGO_TARGET_DIR` (relative to the current folder, as cargo reads
/// it), else the workspace's `target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("target"),
    }
}

/// The workspace's root folder: xtask's parent.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .to_path_buf()
}

/// Builds the workspace as the tests do and runs one of its binaries with `args`.
///
/// `cargo run -p PACKAGE` would resolve features for that package alone: without the
/// dev-dependencies' features (rand's `os_rng`, bitflags' `std`...) every crate above
/// them differs, and burn, cubecl and wgpu would compile a second time (about 15 minutes
/// here). `cargo build --workspace --all-targets` resolves them as `cargo test
/// --workspace` does and shares its build.
fn run_bin(bin: &str, first: &[&str], args: &[&str]) -> Result<()> {
    cargo(&["build", "--workspace", "--all-targets", "--quiet"])?;
    let path = target_dir()
        .join("debug")
        .join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    eprintln!("$ {} {}", path.display(), [first, args].concat().join(" "));
    let status = Command::new(&path)
        .args(first)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", path.display()))?;
    if !status.success() {
        bail!("{bin} failed ({status})");
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("search") => run_bin("nas", &["search"], &rest),
        Some("test") => {
            let mut a = vec!["test", "--workspace"];
            a.extend(&rest);
            // The storage tests need a PostgreSQL server: a throwaway one unless the
            // environment names one. Without one (no package, no rights to install it)
            // they skip, except under CI, where they fail.
            let server = match std::env::var_os("NAS_TEST_POSTGRES_URL") {
                Some(_) => None,
                None => match postgres::Throwaway::start(
                    &workspace_root(),
                    &target_dir().join("postgres-test"),
                ) {
                    Ok(server) => {
                        eprintln!("PostgreSQL for the tests: a throwaway server on loopback");
                        Some(server)
                    }
                    Err(e) if std::env::var_os("CI").is_some() => return Err(e),
                    Err(e) => {
                        eprintln!("no PostgreSQL for the tests ({e}); its tests skip");
                        None
                    }
                },
            };
            let env: Vec<(&str, &str)> = server
                .iter()
                .map(|s| ("NAS_TEST_POSTGRES_URL", s.url.as_str()))
                .collect();
            cargo_with(&a, &env)
        }
        Some("bench") => match rest.first().copied().unwrap_or("throughput") {
            name @ ("throughput" | "report") => {
                cargo(&["bench", "--package", "nas-bench", "--bench", name])
            }
            "storage" => storage_bench::run(&rest[1..]),
            name @ ("nb201" | "pruners") => {
                let mut a = vec!["run", "--quiet", "--release", "--package", "nas-bench"];
                a.extend(["--bin", name, "--"]);
                a.extend(&rest[1..]);
                cargo(&a)
            }
            // The tensor benchmarks run in the dev profile, whose dependencies (burn) are
            // optimized at opt-level 2: they share the test build instead of compiling
            // burn a second time in release (about 9 minutes here). The time goes to
            // burn's kernels, which that profile optimizes.
            name @ ("zero-cost" | "train" | "kernels" | "baseline" | "enas" | "oneshot"
            | "darts" | "transfer" | "rl" | "pruners-train") => {
                run_bin(&name.replace('-', "_"), &[], &rest[1..])
            }
            other => {
                bail!(
                    "unknown benchmark `{other}`; available: throughput, report, storage, nb201, zero-cost, train, kernels, baseline, enas, oneshot, darts, transfer, rl, pruners, pruners-train"
                )
            }
        },
        Some("tidy") => tidy::run(&workspace_root()),
        Some("ci") => {
            cargo(&["fmt", "--all", "--check"])?;
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])?;
            tidy::run(&workspace_root())?;
            cargo(&["test", "--workspace"])
        }
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n{USAGE}"),
    }
}
