//! `cargo xtask bench storage`: the storage benchmark (`nas-bench`'s `storage` binary)
//! against a throwaway PostgreSQL server, with Optuna's column from a throwaway venv
//! (`target/nas-bench/optuna-venv`, made on first use from
//! `bench/reference/optuna-requirements.txt`; `--no-optuna` skips it).

use crate::postgres::Throwaway;
use crate::{cargo_with, target_dir, workspace_root};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// Runs the benchmark with `args` (those of the `storage` binary, and `--no-optuna`).
pub fn run(args: &[&str]) -> Result<()> {
    let no_optuna = args.contains(&"--no-optuna");
    let rest: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--no-optuna")
        .collect();
    let server = match std::env::var("NAS_BENCH_POSTGRES_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let s = Throwaway::start(&workspace_root(), &target_dir().join("postgres-bench"))?;
            let url = s.url.clone();
            (Some(s), url)
        }
    };
    let mut a = vec!["run", "--quiet", "--release", "--package", "nas-bench"];
    a.extend(["--bin", "storage", "--"]);
    let python;
    if !no_optuna {
        python = optuna_python()?.display().to_string();
        a.extend(["--optuna", python.as_str()]);
    }
    a.extend(rest);
    let result = cargo_with(&a, &[("NAS_BENCH_POSTGRES_URL", server.1.as_str())]);
    drop(server.0);
    result
}

/// The venv's Python, the venv made first if it is missing.
fn optuna_python() -> Result<PathBuf> {
    let venv = target_dir().join("nas-bench/optuna-venv");
    let python = venv.join("bin/python");
    if python.exists() {
        return Ok(python);
    }
    let requirements = workspace_root().join("bench/reference/optuna-requirements.txt");
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let steps: [(String, Vec<String>); 2] = [
        (
            system,
            vec!["-m".into(), "venv".into(), venv.display().to_string()],
        ),
        (
            python.display().to_string(),
            vec![
                "-m".into(),
                "pip".into(),
                "install".into(),
                "-q".into(),
                "-r".into(),
                requirements.display().to_string(),
            ],
        ),
    ];
    for (program, args) in steps {
        eprintln!("$ {program} {}", args.join(" "));
        let status = Command::new(&program)
            .args(&args)
            .status()
            .with_context(|| format!("cannot run {program}"))?;
        if !status.success() {
            bail!("{program} failed ({status}); run with --no-optuna to skip Optuna's column");
        }
    }
    Ok(python)
}
