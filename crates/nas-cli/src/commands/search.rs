//! `nas search`: build an experiment config from a file and flags, run it, print the best.

use crate::progress::ProgressObserver;
use anyhow::{Context, Result, bail};
use nas_core::journal::SqliteJournal;
use nas_core::{Experiment, ExperimentConfig, SearchReport};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// A TOML experiment config; the flags below override its fields.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Experiment name: names the journal `<dir>/<name>.sqlite`. Default: made from the
    /// strategy, space, evaluator and seed.
    #[arg(long)]
    name: Option<String>,
    /// Search space plugin (see `nas list`).
    #[arg(long)]
    space: Option<String>,
    /// Strategy plugin.
    #[arg(long)]
    strategy: Option<String>,
    /// Evaluator plugin.
    #[arg(long)]
    evaluator: Option<String>,
    /// The evaluator's data set (`cifar10`, `cifar100`, `imagenet16` for the table;
    /// `digits`, `mnist`, `fashion-mnist`, `csv` for training).
    #[arg(long)]
    dataset: Option<String>,
    /// The burn backend that trains networks (`flex`, `ndarray`; see `nas list`).
    #[arg(long)]
    backend: Option<String>,
    /// Budget: finished trials.
    #[arg(long)]
    trials: Option<u64>,
    /// Budget: simulated (or real) training seconds summed over trials.
    #[arg(long)]
    simulated_seconds: Option<f64>,
    /// Budget: wall-clock seconds of this run.
    #[arg(long)]
    wall_seconds: Option<f64>,
    /// Experiment seed: every random choice derives from it.
    #[arg(long)]
    seed: Option<u64>,
    /// Trials evaluated at once.
    #[arg(long)]
    workers: Option<usize>,
    /// A metric to optimize (repeat for several objectives).
    #[arg(long = "objective")]
    objectives: Vec<String>,
    /// Set a config field, e.g. `--set evaluator.dataset=cifar100`; the value is read as
    /// JSON when it parses, else as a string.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Folder of the experiment journals.
    #[arg(long, default_value = "runs")]
    dir: PathBuf,
    /// Continue the experiment `--name` from its journal, with the config stored there
    /// (a budget flag extends its budget).
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The fields of the default config of strategy `name` (empty for an unknown name: the
/// experiment reports that).
fn strategy_default_fields(name: &Value) -> Vec<&'static str> {
    let Some(name) = name.as_str() else {
        return Vec::new();
    };
    let Ok(plugin) =
        nas_core::registry::PluginConfig::<dyn nas_core::StrategyConfig>::default_for(name)
    else {
        return Vec::new();
    };
    let fields = serde_json::to_value(&plugin).unwrap_or_default();
    ["data", "backend"]
        .into_iter()
        .filter(|f| fields.get(f).is_some())
        .collect()
}

/// The experiment `cargo xtask search` runs when given nothing: regularized evolution
/// over NAS-Bench-201 cells, each trained for real on the embedded digits on the CPU.
fn default_config() -> Value {
    json!({
        "seed": 0,
        "budget": { "trials": 30 },
        "space": { "type": "nb201" },
        "strategy": { "type": "regularized-evolution" },
        "evaluator": { "type": "train", "backend": "flex", "data": { "dataset": "digits" } },
    })
}

fn set_plugin(config: &mut Value, part: &str, name: &Option<String>) {
    if let Some(name) = name {
        if config[part]["type"].as_str() != Some(name.as_str()) {
            config[part] = json!({ "type": name });
        }
    }
}

/// Applies `a.b.c=value` to a JSON tree.
fn apply_set(config: &mut Value, assignment: &str) -> Result<()> {
    let (path, raw) = assignment
        .split_once('=')
        .with_context(|| format!("--set {assignment:?}: expected PATH=VALUE"))?;
    let value: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    let mut node = config;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        if key.is_empty() {
            bail!("--set {assignment:?}: empty name in the path");
        }
        if !node.is_object() {
            bail!(
                "--set {assignment:?}: `{}` is not a table",
                keys[..i].join(".")
            );
        }
        node = &mut node[*key];
    }
    *node = value;
    Ok(())
}

fn build_config(args: &SearchArgs) -> Result<ExperimentConfig> {
    let mut config = if args.resume {
        let name = args
            .name
            .as_deref()
            .context("--resume needs --name (the experiment to continue)")?;
        let path = args.dir.join(format!("{name}.sqlite"));
        if !path.is_file() {
            bail!("--resume: no experiment `{name}` in {}", args.dir.display());
        }
        SqliteJournal::read(&path)?.config
    } else if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        toml::from_str::<Value>(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                path.display(),
                nas_core::config::toml_error(&text, &e)
            )
        })?
    } else {
        default_config()
    };
    set_plugin(&mut config, "space", &args.space);
    set_plugin(&mut config, "strategy", &args.strategy);
    set_plugin(&mut config, "evaluator", &args.evaluator);
    if let Some(dataset) = &args.dataset {
        // Training evaluators nest their data config; the table names its data set.
        if config["evaluator"]["type"] == "train" {
            config["evaluator"]["data"]["dataset"] = json!(dataset);
        } else {
            config["evaluator"]["dataset"] = json!(dataset);
        }
    }
    if let Some(backend) = &args.backend {
        config["evaluator"]["backend"] = json!(backend);
    }
    // A strategy that trains networks itself (a one-shot method's supernet) takes the same
    // data set and backend as the evaluator.
    let trains = strategy_default_fields(&config["strategy"]["type"]);
    if let (Some(dataset), true) = (&args.dataset, trains.contains(&"data")) {
        config["strategy"]["data"]["dataset"] = json!(dataset);
    }
    if let (Some(backend), true) = (&args.backend, trains.contains(&"backend")) {
        config["strategy"]["backend"] = json!(backend);
    }
    if args.trials.is_some() || args.simulated_seconds.is_some() || args.wall_seconds.is_some() {
        let mut budget = json!({});
        if let Some(n) = args.trials {
            budget["trials"] = json!(n);
        }
        if let Some(s) = args.simulated_seconds {
            budget["simulated_seconds"] = json!(s);
        }
        if let Some(s) = args.wall_seconds {
            budget["wall_seconds"] = json!(s);
        }
        config["budget"] = budget;
    }
    if let Some(seed) = args.seed {
        config["seed"] = json!(seed);
    }
    if let Some(workers) = args.workers {
        config["workers"] = json!(workers);
    }
    if !args.objectives.is_empty() {
        config["objectives"] = json!(args.objectives);
    }
    for s in &args.sets {
        apply_set(&mut config, s)?;
    }
    if let Some(name) = &args.name {
        config["name"] = json!(name);
    } else if config.get("name").is_none() {
        let part = |p: &str| config[p]["type"].as_str().unwrap_or("?").to_string();
        let name = format!(
            "{}-{}-{}-seed{}",
            part("strategy"),
            part("space"),
            part("evaluator"),
            config["seed"].as_u64().unwrap_or(0)
        );
        config["name"] = json!(name);
    }
    Ok(ExperimentConfig::from_json(config)?)
}

pub fn run(args: SearchArgs) -> Result<()> {
    let config = build_config(&args)?;
    let mut experiment = Experiment::build(config)?;
    let journal = experiment.journal_path(&args.dir);
    let mut observer = ProgressObserver::new(!args.no_progress && !args.json);
    let report = experiment.run_in(&args.dir, &mut observer)?;
    observer.finish();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "name": experiment.config.name,
                "journal": journal,
                "report": report,
                "best_arch": report.progress.best.as_ref().map(|b| experiment.space.render(&b.trial.genotype)),
            }))?
        );
        return Ok(());
    }
    print_report(&experiment, &report, &journal);
    Ok(())
}

fn print_report(experiment: &Experiment, report: &SearchReport, journal: &Path) {
    let p = &report.progress;
    let mut line = format!(
        "{} trials finished ({} completed, {} failed) in {:.2} s",
        p.finished, p.completed, p.failed, report.wall_seconds
    );
    if p.simulated_seconds > 0.0 {
        line += &format!(", {:.0} simulated training seconds", p.simulated_seconds);
    }
    if report.resumed > 0 {
        line += &format!("; {} came from the journal", report.resumed);
    }
    println!("{line}");
    if report.stop == nas_core::search::StopReason::Exhausted {
        println!("the strategy had nothing more to propose");
    }
    match &p.best {
        Some(best) => {
            let objective = &report.objectives[0];
            println!(
                "best trial #{} by {} ({:?}):",
                best.trial.id, objective.metric, objective.goal
            );
            println!("  {}", experiment.space.render(&best.trial.genotype));
            if let Some(metrics) = best.outcome.metrics() {
                let parts: Vec<String> =
                    metrics.iter().map(|(n, v)| format!("{n} {v:.4}")).collect();
                println!("  {}", parts.join(", "));
            }
        }
        None => println!("no trial completed"),
    }
    if !report.pareto_front.is_empty() {
        println!("Pareto front: {} trials", report.pareto_front.len());
    }
    println!(
        "journal: {} (nas show {} --dir {})",
        journal.display(),
        experiment.config.name,
        journal.parent().unwrap_or(Path::new(".")).display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_paths() {
        let mut v = json!({"evaluator": {"type": "x"}});
        apply_set(&mut v, "evaluator.dataset=cifar100").unwrap();
        apply_set(&mut v, "evaluator.epochs=12").unwrap();
        assert_eq!(v["evaluator"]["dataset"], "cifar100");
        assert_eq!(v["evaluator"]["epochs"], 12);
        assert!(apply_set(&mut v, "novalue").is_err());
        assert!(apply_set(&mut v, "evaluator.type.x=1").is_err());
    }
}
