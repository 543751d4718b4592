//! `cargo xtask bench nb201`: every registered black-box strategy on the NAS-Bench-201
//! table under the published protocol, on three datasets and many seeds; NSGA-II's
//! Pareto front against the true one. Writes Markdown, CSV and SVG, prints the table.
//!
//! Options: `--seeds N` (200), `--trials N` (100), `--pareto-trials N` (500),
//! `--threads N` (all cores), `--out DIR` (`target/nas-bench/nb201`), `--strategies a,b`
//! (every registered one; a subset for tuning one strategy without running the others).

use nas_bench::anytime;
use nas_bench::nb201_protocol::{RunRecord, parallel, pareto_fraction, run_one};
use nas_bench::published::{self, BLACK_BOX_CIFAR10};
use nas_bench::report::{self, Stats};
use nas_core::registry::{StrategyConfig, plugins};
use nas_eval::{Dataset, Nb201Table};
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

struct Options {
    seeds: u64,
    trials: u64,
    pareto_trials: u64,
    threads: usize,
    out: PathBuf,
    /// `None`: every registered strategy.
    strategies: Option<Vec<String>>,
}

/// Every registered black-box strategy on the NAS-Bench-201 table under the published
/// protocol.
#[derive(Debug, clap::Parser)]
#[command(name = "nb201")]
struct Args {
    /// Searches per strategy and data set.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Evaluations per search.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    trials: u64,
    /// Evaluations of NSGA-II's searches for the Pareto front.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
    pareto_trials: u64,
    /// Threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    threads: Option<u64>,
    /// Where the report goes.
    #[arg(long, default_value = "target/nas-bench/nb201")]
    out: PathBuf,
    /// A comma-separated subset of the strategies (default: every registered one).
    #[arg(long, value_delimiter = ',')]
    strategies: Option<Vec<String>>,
}

fn options() -> Result<Options, String> {
    let a = <Args as clap::Parser>::parse();
    Ok(Options {
        seeds: a.seeds,
        trials: a.trials,
        pareto_trials: a.pareto_trials,
        threads: a.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        ),
        out: a.out,
        strategies: a.strategies,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let started = Instant::now();
    let registered: Vec<String> = plugins::<dyn StrategyConfig>()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    let strategies = match &o.strategies {
        None => registered,
        Some(chosen) => {
            if let Some(unknown) = chosen.iter().find(|s| !registered.contains(s)) {
                return Err(format!(
                    "--strategies: unknown strategy {unknown:?}; registered: {}",
                    registered.join(", ")
                ));
            }
            chosen.clone()
        }
    };
    let mut jobs = Vec::new();
    for s in &strategies {
        for d in Dataset::ALL {
            for seed in 0..o.seeds {
                jobs.push((s.clone(), d, seed));
            }
        }
    }
    eprintln!(
        "{} searches ({} strategies x 3 datasets x {} seeds, {} evaluations each) on {} threads",
        jobs.len(),
        strategies.len(),
        o.seeds,
        o.trials,
        o.threads
    );
    let runs: Vec<RunRecord> = parallel(&jobs, o.threads, |(s, d, seed)| {
        run_one(s, *d, *seed, o.trials)
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let search_seconds = started.elapsed().as_secs_f64();

    let cells = report::cells(&runs, &strategies);
    let mut md = report::markdown(&cells, &strategies, o.seeds as usize, o.trials);

    // Multi-objective: NSGA-II (and random search as its baseline) on accuracy vs FLOPs.
    let table = Nb201Table::embedded().map_err(|e| e.to_string())?;
    let pareto_strategies: Vec<&str> = ["nsga2", "random"]
        .into_iter()
        .filter(|s| strategies.iter().any(|x| x == s))
        .collect();
    let mut pareto_jobs = Vec::new();
    for s in &pareto_strategies {
        for d in Dataset::ALL {
            for seed in 0..o.seeds {
                pareto_jobs.push((*s, d, seed));
            }
        }
    }
    let fractions: Vec<f64> = parallel(&pareto_jobs, o.threads, |(s, d, seed)| {
        pareto_fraction(s, *d, *seed, o.pareto_trials, &table)
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    let _ = writeln!(
        md,
        "\nPareto front, 200-epoch test accuracy vs FLOPs, searched on (12-epoch validation accuracy, FLOPs) \
         for {} evaluations: hypervolume of the returned front as a fraction of the true front's \
         (reference point: worst accuracy, largest FLOPs in the table), mean ± std over {} seeds.\n",
        o.pareto_trials, o.seeds
    );
    let _ = writeln!(
        md,
        "| strategy | CIFAR-10 | CIFAR-100 | ImageNet16-120 |\n|---|---|---|---|"
    );
    let mut nsga2_fractions = Vec::new();
    for s in &pareto_strategies {
        let mut line = format!("| {s} ");
        for d in Dataset::ALL {
            let st = Stats::of(
                pareto_jobs
                    .iter()
                    .zip(&fractions)
                    .filter(|((js, jd, _), _)| js == s && *jd == d)
                    .map(|(_, f)| *f),
            );
            if *s == "nsga2" {
                nsga2_fractions.push(st.mean);
            }
            let _ = write!(line, "| {:.4} ± {:.4} ", st.mean, st.std);
        }
        md += &line;
        md += "|\n";
    }

    md += &checks(&cells, &nsga2_fractions);
    let total = started.elapsed().as_secs_f64();
    let _ = writeln!(
        md,
        "\nWall time: {search_seconds:.1} s for the single-objective searches, {total:.1} s in all, {} threads.",
        o.threads
    );

    std::fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    let write = |name: &str, text: &str| {
        let path = o.out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("table.md", &md)?;
    write("table.csv", &report::csv(&cells))?;
    for (k, d) in Dataset::ALL.iter().enumerate() {
        let bands: Vec<(String, Vec<Stats>)> = strategies
            .iter()
            .map(|s| {
                let mine: Vec<&RunRecord> = runs
                    .iter()
                    .filter(|r| &r.strategy == s && r.dataset == *d)
                    .collect();
                (s.clone(), report::curve_band(&mine))
            })
            .collect();
        let svg = anytime::chart(
            &format!(
                "NAS-Bench-201 {}: test accuracy of the incumbent",
                d.column()
            ),
            &bands,
            published::OPTIMUM[k],
        )?;
        write(&format!("anytime-{}.svg", d.column()), &svg)?;
    }
    println!("{md}");
    println!(
        "written: {}/{{table.md, table.csv, anytime-*.svg}}",
        o.out.display()
    );
    Ok(())
}

/// The targets, checked against what was measured.
fn checks(cells: &[nas_bench::report::Cell], nsga2: &[f64]) -> String {
    let get = |s: &str, d: Dataset| {
        cells
            .iter()
            .find(|c| c.strategy == s && c.dataset == d)
            .map(|c| c.result)
    };
    let mut md = String::from("\nChecks:\n\n");
    let mark = |ok: bool| if ok { "yes" } else { "NO" };
    if let Some(rea) = get("regularized-evolution", Dataset::Cifar10) {
        let _ = writeln!(
            md,
            "- REA on CIFAR-10 reaches the published 93.92: {} ({:.2})",
            mark(rea.mean >= 93.92),
            rea.mean
        );
    }
    for d in Dataset::ALL {
        if let (Some(rea), Some(rs)) = (get("regularized-evolution", d), get("random", d)) {
            let se = (rea.stderr().powi(2) + rs.stderr().powi(2)).sqrt();
            let _ = writeln!(
                md,
                "- REA beats random search on {} by more than the standard error: {} ({:+.3} vs SE {:.3})",
                d.column(),
                mark(rea.mean - rs.mean > se),
                rea.mean - rs.mean,
                se
            );
        }
    }
    if let Some(rl) = get("reinforce", Dataset::Cifar10) {
        let _ = writeln!(
            md,
            "- REINFORCE on CIFAR-10 reaches the published 93.85: {} ({:.2})",
            mark(rl.mean >= 93.85),
            rl.mean
        );
    }
    if let Some(rs) = get("random", Dataset::Cifar10) {
        let _ = writeln!(
            md,
            "- random search within the published 93.70 ± 0.36: {} ({:.2})",
            mark((rs.mean - 93.70).abs() <= 0.36),
            rs.mean
        );
    }
    let best = cells
        .iter()
        .filter(|c| c.dataset == Dataset::Cifar10)
        .max_by(|a, b| a.result.mean.total_cmp(&b.result.mean));
    if let Some(b) = best {
        let published_best = BLACK_BOX_CIFAR10
            .iter()
            .map(|(_, v)| *v)
            .fold(f64::NEG_INFINITY, f64::max);
        let regret = published::OPTIMUM[0] - b.result.mean;
        let _ = writeln!(
            md,
            "- best strategy ({}) closer to the optimum than every published black-box row: {} (regret {:.3} vs {:.3}); under 0.15: {}",
            b.strategy,
            mark(b.result.mean > published_best),
            regret,
            published::OPTIMUM[0] - published_best,
            mark(regret < 0.15)
        );
    }
    if !nsga2.is_empty() {
        let _ = writeln!(
            md,
            "- NSGA-II covers at least 95% of the true front's hypervolume: {} ({})",
            mark(nsga2.iter().all(|f| *f >= 0.95)),
            nsga2
                .iter()
                .map(|f| format!("{:.1}%", f * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    md
}
