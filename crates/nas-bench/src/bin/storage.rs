//! `cargo xtask bench storage`: trials per second through each storage, with Optuna's on
//! the same server beside them.
//!
//! Random search over NAS-Bench-201 cells with the tabular evaluator and no delay, so
//! that what is measured is the coordination: SQLite (one process, N threads: one writer
//! per file) and PostgreSQL with N worker processes (`--worker`: this binary again, doing
//! what `nas worker` does), each from a fresh experiment. The rate is trials over the
//! wall time from starting the workers to the last one's exit; the coordination cost is
//! the worker-seconds spent on anything but evaluating, per trial.
//!
//! With `--optuna PYTHON` (a Python with optuna and psycopg2, which `cargo xtask bench
//! storage` installs into a throwaway venv), `bench/reference/optuna_storage.py` runs
//! Optuna's random sampler on a trivial objective (6 integer suggestions and a dict
//! lookup) with the same worker counts, on a fresh database of the same server and on
//! SQLite, and the ratios are printed.
//!
//! Options: `--url URL` (a PostgreSQL superuser's URL; each run gets a new database),
//! `--trials N` (2000), `--workers LIST` (`1,2,4,8`), `--optuna PYTHON`,
//! `--optuna-trials N` (400), `--out FILE`.

use nas_builtins as _;
use nas_core::config::ExperimentConfig;
use nas_core::queue::WorkerIdentity;
use nas_core::search::Quiet;
use nas_core::storage::{self, JournalRequest};
use nas_core::worker::run_worker;
use nas_core::{Experiment, storage::this_process};
use nas_storage_postgres::test_server::fresh_database;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Parser)]
#[command(name = "storage")]
struct Args {
    #[arg(long, env = "NAS_BENCH_POSTGRES_URL")]
    url: Option<String>,
    #[arg(long, default_value_t = 2000)]
    trials: u64,
    #[arg(long, default_value = "1,2,4,8")]
    workers: String,
    #[arg(long)]
    optuna: Option<String>,
    #[arg(long, default_value_t = 400)]
    optuna_trials: u64,
    #[arg(long)]
    out: Option<String>,
    /// Internal: run as one worker of the experiment `--name` at `NAS_STORAGE`.
    #[arg(long, hide = true)]
    worker: bool,
    #[arg(long, hide = true)]
    name: Option<String>,
}

fn config(name: &str, trials: u64, workers: usize) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "seed": 0,
        "workers": workers,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": "random",
        "evaluator": { "type": "nb201-table" },
    })
}

fn identity() -> WorkerIdentity {
    WorkerIdentity {
        name: this_process(),
        lease: Duration::from_secs(30),
    }
}

/// Creates (or joins) the experiment `json` at `url`; the worker's report as JSON when
/// `work` is set.
fn join_and_work(url: &str, json: serde_json::Value, work: bool) -> Result<String, String> {
    let config = ExperimentConfig::from_json(json).map_err(|e| e.to_string())?;
    let name = config.name.clone();
    let mut e = Experiment::build(config).map_err(|e| e.to_string())?;
    let mut q = storage::queue(url, Some(&name), identity()).map_err(|e| e.to_string())?;
    let stored = e.config.to_json().map_err(|e| e.to_string())?;
    let space = Arc::clone(&e.space);
    q.join(JournalRequest {
        config: &stored,
        objectives: &e.objectives,
        render: Box::new(move |t| space.render(&t.genotype)),
    })
    .map_err(|e| e.to_string())?;
    if !work {
        return Ok(String::new());
    }
    let budget = e.config.budget.clone();
    let search = e.search.as_black_box().ok_or("not a black-box search")?;
    let report = run_worker(search, &budget, q.as_mut(), &mut Quiet).map_err(|e| e.to_string())?;
    serde_json::to_string(&report).map_err(|e| e.to_string())
}

/// The worker side: joins the stored experiment and prints its report.
fn worker(name: &str) -> Result<(), String> {
    let url = std::env::var("NAS_STORAGE").map_err(|_| "NAS_STORAGE is not set")?;
    let mut q = storage::queue(&url, Some(name), identity()).map_err(|e| e.to_string())?;
    let stored = q
        .stored_config()
        .map_err(|e| e.to_string())?
        .ok_or("no such experiment")?;
    drop(q);
    println!("{}", join_and_work(&url, stored, true)?);
    Ok(())
}

/// Trials per second through SQLite with `workers` threads.
fn sqlite(trials: u64, workers: usize) -> Result<f64, String> {
    let dir = std::env::temp_dir().join(format!("nas-bench-storage-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let url = format!("sqlite:{}/s.sqlite", dir.display());
    let config =
        ExperimentConfig::from_json(config("s", trials, workers)).map_err(|e| e.to_string())?;
    let mut e = Experiment::build(config).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let report = e.run_at(&url, &mut Quiet).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(report.progress.finished as f64 / seconds)
}

/// Trials per second through PostgreSQL with `workers` processes, and the coordination
/// milliseconds per trial.
fn postgres(admin: &str, trials: u64, workers: usize) -> Result<(f64, f64), String> {
    let db = fresh_database(admin).map_err(|e| e.to_string())?;
    join_and_work(&db, config("p", trials, workers), false)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|_| {
            Command::new(&exe)
                .args(["--worker", "--name", "p"])
                .env("NAS_STORAGE", &db)
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut outputs = Vec::new();
    for child in children {
        let o = child.wait_with_output().map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(format!("a worker failed ({})", o.status));
        }
        outputs.push(o.stdout);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut recorded = 0;
    let mut coordination = 0.0;
    for out in outputs {
        let r: serde_json::Value = serde_json::from_slice(&out).map_err(|e| e.to_string())?;
        recorded += r["recorded"].as_u64().unwrap_or(0);
        coordination += r["wall_seconds"].as_f64().unwrap_or(0.0)
            - r["seconds"]["evaluate"].as_f64().unwrap_or(0.0);
    }
    if recorded != trials {
        return Err(format!("{recorded} trials recorded, {trials} expected"));
    }
    Ok((
        trials as f64 / seconds,
        1000.0 * coordination / trials as f64,
    ))
}

/// Optuna's trials per second: `storage` is `postgresql` or `sqlite`.
fn optuna(
    python: &str,
    admin: &str,
    storage: &str,
    trials: u64,
    workers: usize,
) -> Result<f64, String> {
    let url = match storage {
        "postgresql" => {
            let db = fresh_database(admin).map_err(|e| e.to_string())?;
            db.replacen("postgresql://", "postgresql+psycopg2://", 1)
        }
        _ => format!(
            "sqlite:///{}/optuna-{}.db",
            std::env::temp_dir().display(),
            std::process::id()
        ),
    };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/reference/optuna_storage.py"
    );
    let o = Command::new(python)
        .arg(script)
        .args([
            "--trials",
            &trials.to_string(),
            "--workers",
            &workers.to_string(),
        ])
        .env("OPTUNA_STORAGE", &url)
        .output()
        .map_err(|e| format!("cannot run {python}: {e}"))?;
    if let Some(path) = url.strip_prefix("sqlite:///") {
        let _ = std::fs::remove_file(path);
    }
    if !o.status.success() {
        return Err(format!(
            "optuna_storage.py failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).map_err(|e| e.to_string())?;
    r["trials_per_second"]
        .as_f64()
        .ok_or_else(|| "optuna_storage.py printed no rate".to_string())
}

fn run(a: &Args) -> Result<String, String> {
    let admin = a
        .url
        .as_deref()
        .ok_or("--url: a PostgreSQL superuser's URL (cargo xtask bench storage starts one)")?;
    let counts: Vec<usize> = a
        .workers
        .split(',')
        .map(|w| {
            w.trim()
                .parse()
                .map_err(|_| format!("--workers: bad count {w:?}"))
        })
        .collect::<Result<_, _>>()?;
    let mut out = format!(
        "Trials per second, random search on the NB201 table without delay: ours {} trials, \
         Optuna {} (random sampler, 6 integer suggestions and a dict lookup).\n\n\
         | workers | ours SQLite (threads) | ours PostgreSQL (processes) | coordination ms/trial \
         | Optuna PostgreSQL | Optuna SQLite | PostgreSQL ours/Optuna |\n|---|---|---|---|---|---|---|\n",
        a.trials, a.optuna_trials
    );
    for &n in &counts {
        let lite = sqlite(a.trials, n)?;
        let (pg, cost) = postgres(admin, a.trials, n)?;
        let (opg, olite) = match &a.optuna {
            Some(py) => (
                Some(optuna(py, admin, "postgresql", a.optuna_trials, n)?),
                Some(optuna(py, admin, "sqlite", a.optuna_trials, n)?),
            ),
            None => (None, None),
        };
        let cell = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.0}"));
        let ratio = opg.map_or("-".to_string(), |o| format!("{:.1}x", pg / o));
        let row = format!(
            "| {n} | {lite:.0} | {pg:.0} | {cost:.2} | {} | {} | {ratio} |\n",
            cell(opg),
            cell(olite)
        );
        eprint!("{row}");
        out += &row;
    }
    Ok(out)
}

fn main() -> ExitCode {
    let a = <Args as clap::Parser>::parse();
    let result = if a.worker {
        worker(a.name.as_deref().unwrap_or("p")).map(|()| String::new())
    } else {
        run(&a)
    };
    match result {
        Ok(text) => {
            print!("{text}");
            if let Some(path) = a.out.as_ref().filter(|_| !a.worker)
                && let Err(e) = std::fs::write(path, text)
            {
                eprintln!("error: {path}: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
