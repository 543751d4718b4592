//! `nas search`: build an experiment config from a file and flags, run it, print the best.

use crate::commands::show::{failure_reasons, short_reason};
use crate::edit::{apply_knob, apply_set, blame, plugin_tables};
use crate::out::outln;
use crate::progress::ProgressObserver;
use anyhow::{Context, Result, bail};
use nas_core::config::Budget;
use nas_core::storage;
use nas_core::{Experiment, ExperimentConfig, SearchReport};
use serde_json::{Value, json};
use std::path::PathBuf;

/// A budget in seconds: a positive, finite number (`nan` and `inf` are refused here,
/// since JSON cannot carry them and they would vanish from the config).
pub(crate) fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a positive number of seconds, got {v}")),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

#[derive(Debug, Default, clap::Args)]
pub struct SearchArgs {
    /// A TOML experiment config; the flags below override its fields.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Experiment name: names the journal `<dir>/<name>.sqlite`. Default: made from the
    /// strategy, space, evaluator and seed.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Search space plugin (see `nas list`).
    #[arg(long)]
    pub(crate) space: Option<String>,
    /// Strategy plugin.
    #[arg(long)]
    pub(crate) strategy: Option<String>,
    /// Evaluator plugin.
    #[arg(long)]
    pub(crate) evaluator: Option<String>,
    /// Pruner plugin: stops trials early from their intermediate reports (`median`,
    /// `successive-halving`, `hyperband`; see `nas list`).
    #[arg(long)]
    pub(crate) pruner: Option<String>,
    /// The data set, for every plugin of the experiment that takes one (`cifar10`,
    /// `cifar100`, `imagenet16` for the table; `digits`, `mnist`, `fashion-mnist`, `csv`
    /// for training on images; `sentiment`, `text-csv` for text).
    #[arg(long)]
    pub(crate) dataset: Option<String>,
    /// The burn backend, for every plugin of the experiment that trains networks (`flex`,
    /// `ndarray`, `wgpu`; see `nas list`).
    #[arg(long)]
    pub(crate) backend: Option<String>,
    /// Budget: finished trials.
    #[arg(long)]
    pub(crate) trials: Option<u64>,
    /// Budget: simulated (or real) training seconds summed over trials.
    #[arg(long, value_parser = positive_seconds)]
    pub(crate) simulated_seconds: Option<f64>,
    /// Budget: wall-clock seconds of this run.
    #[arg(long, value_parser = positive_seconds)]
    pub(crate) wall_seconds: Option<f64>,
    /// Experiment seed: every random choice derives from it.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Trials evaluated at once.
    #[arg(long)]
    pub(crate) workers: Option<usize>,
    /// A metric to optimize (repeat for several objectives).
    #[arg(long = "objective")]
    pub(crate) objectives: Vec<String>,
    /// Set a config field, e.g. `--set evaluator.dataset=cifar100`; the value is read as
    /// JSON when it parses, else as a string.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub(crate) sets: Vec<String>,
    /// Folder of the experiment journals.
    #[arg(long, default_value = "runs")]
    pub(crate) dir: PathBuf,
    /// Where the journal is, as a storage URL (`sqlite:runs/x.sqlite`); replaces
    /// `<dir>/<name>.sqlite`. `nas show URL` reads it back.
    #[arg(long, value_name = "URL")]
    pub(crate) storage: Option<String>,
    /// Continue the experiment `--name` (or the one at `--storage`) from its journal, with
    /// the config stored there (a budget flag extends its budget).
    #[arg(long)]
    pub(crate) resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub(crate) no_progress: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
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

/// `--space`, `--strategy`, `--evaluator`: a plugin other than the configured one starts
/// from its defaults.
fn set_plugin(config: &mut Value, part: &str, name: &Option<String>) {
    if let Some(name) = name
        && config[part]["type"].as_str() != Some(name.as_str())
    {
        config[part] = json!({ "type": name });
    }
}

/// The budget in words: `trials 100, simulated_seconds 500`.
fn budget_text(budget: &Value) -> String {
    match serde_json::from_value::<Budget>(budget.clone()) {
        Ok(b) => {
            let mut parts = Vec::new();
            if let Some(n) = b.trials {
                parts.push(format!("trials {n}"));
            }
            if let Some(s) = b.simulated_seconds {
                parts.push(format!("simulated_seconds {s}"));
            }
            if let Some(s) = b.wall_seconds {
                parts.push(format!("wall_seconds {s}"));
            }
            parts.join(", ")
        }
        Err(_) => budget.to_string(),
    }
}

/// The config stored in the journal `--resume` continues: at `--storage`, or
/// `<dir>/<name>.sqlite`.
fn resumed_config(args: &SearchArgs) -> Result<Value> {
    if let Some(url) = &args.storage {
        return Ok(storage::read(url).context("--resume")?.config);
    }
    let name = args
        .name
        .as_deref()
        .context("--resume needs --name (the experiment to continue) or --storage")?;
    let path = args.dir.join(format!("{name}.sqlite"));
    if !path.is_file() {
        bail!("--resume: no experiment `{name}` in {}", args.dir.display());
    }
    Ok(storage::read(&storage::default_url(&args.dir, name)?)?.config)
}

/// Where a search's journal is, as it is stored and as it is shown.
pub(crate) struct JournalAt {
    /// The storage URL.
    url: String,
    /// For people: the file of the default storage, or the URL without its password.
    shown: String,
    /// The `nas show` arguments that read it back.
    show_args: String,
}

impl JournalAt {
    fn of(args: &SearchArgs, experiment: &Experiment) -> Result<Self> {
        if let Some(url) = &args.storage {
            let shown = storage::StorageUrl::parse(url)?.to_string();
            return Ok(JournalAt {
                url: url.clone(),
                show_args: shown.clone(),
                shown,
            });
        }
        Ok(JournalAt {
            url: experiment.storage_in(&args.dir)?,
            shown: experiment.journal_path(&args.dir).display().to_string(),
            show_args: format!("{} --dir {}", experiment.config.name, args.dir.display()),
        })
    }
}

/// `--trials`, `--simulated-seconds`, `--wall-seconds`: together they replace the budget
/// (on `--resume` too, which says what the budget was and is now).
fn apply_budget_flags(args: &SearchArgs, config: &mut Value) {
    if args.trials.is_none() && args.simulated_seconds.is_none() && args.wall_seconds.is_none() {
        return;
    }
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
    if args.resume && config["budget"] != budget {
        // The budget flags replace the stored budget as a whole: say so, since a
        // limit of another kind that was stored is dropped.
        eprintln!(
            "resume: the budget is now {} (stored: {})",
            budget_text(&budget),
            budget_text(&config["budget"])
        );
    }
    config["budget"] = budget;
}

/// The experiment config from the journal (`--resume`), a file or the default, with the
/// flags applied.
pub(crate) fn build_config(args: &SearchArgs) -> Result<ExperimentConfig> {
    let mut file: Option<(String, String)> = None;
    let mut config = if args.resume {
        resumed_config(args)?
    } else if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let value = toml::from_str::<Value>(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                path.display(),
                nas_core::config::toml_error(&text, &e)
            )
        })?;
        file = Some((path.display().to_string(), text));
        value
    } else {
        default_config()
    };
    plugin_tables(&mut config);
    set_plugin(&mut config, "space", &args.space);
    set_plugin(&mut config, "strategy", &args.strategy);
    set_plugin(&mut config, "evaluator", &args.evaluator);
    if let Value::String(name) = &config["pruner"] {
        config["pruner"] = json!({ "type": name.clone() });
    }
    set_plugin(&mut config, "pruner", &args.pruner);
    if let Some(dataset) = &args.dataset {
        apply_knob(&mut config, "dataset", &json!(dataset))?;
    }
    if let Some(backend) = &args.backend {
        apply_knob(&mut config, "backend", &json!(backend))?;
    }
    apply_budget_flags(args, &mut config);
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
    ExperimentConfig::from_json_at(config).map_err(|e| {
        let file = file
            .as_ref()
            .map(|(name, text)| (name.as_str(), text.as_str()));
        anyhow::anyhow!("{}", blame(&e, &args.sets, file))
    })
}

pub fn run(args: SearchArgs) -> Result<()> {
    if let Some(url) = &args.storage {
        // Checked before the experiment is built, which may load data sets.
        storage::find(&storage::StorageUrl::parse(url)?)?;
    }
    let config = build_config(&args)?;
    let mut experiment = Experiment::build(config)?;
    let journal = JournalAt::of(&args, &experiment)?;
    if experiment.config.workers > 1 && storage::shares_experiments(&journal.url)? {
        let (report, finished) = crate::commands::workers::run(&mut experiment, &journal.url)?;
        return finish(&args, &experiment, &journal, &report, Some(finished));
    }
    let mut observer = ProgressObserver::new(!args.no_progress && !args.json);
    let report = experiment.run_at(&journal.url, &mut observer)?;
    observer.finish();
    finish(&args, &experiment, &journal, &report, None)
}

/// Prints the report of a search, and fails when every trial failed.
fn finish(
    args: &SearchArgs,
    experiment: &Experiment,
    journal: &JournalAt,
    report: &SearchReport,
    finished: Option<Vec<nas_core::TrialResult>>,
) -> Result<()> {
    // The reasons come from the journal, so a resumed search counts the failures of the
    // runs before it too; the progress counts them as well, so a search without failures
    // does not read its journal back.
    let finished = match finished {
        Some(f) => f,
        None if report.progress.failed > 0 => storage::read(&journal.url)?.finished,
        None => Vec::new(),
    };
    let failures = failure_reasons(&finished);
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "name": experiment.config.name,
                "journal": journal.shown,
                "report": report,
                "best_arch": report.progress.best.as_ref().map(|b| experiment.space.render(&b.trial.genotype)),
                "failures": failures.iter().map(|(reason, count)| json!({ "reason": reason, "count": count })).collect::<Vec<_>>(),
            }))?
        )?;
    } else {
        print_report(experiment, report, journal, &failures)?;
    }
    let p = &report.progress;
    if p.completed == 0 && p.failed > 0 && p.pruned == 0 {
        let common = failures
            .first()
            .map_or_else(String::new, |(reason, count)| {
                format!(
                    "; the most common reason ({count}): {}",
                    short_reason(reason)
                )
            });
        bail!(
            "every trial failed ({} of {}){common}",
            p.failed,
            p.finished
        );
    }
    Ok(())
}

/// How many failure reasons are listed in text; `--json` has them all.
const REASONS_SHOWN: usize = 3;

fn print_report(
    experiment: &Experiment,
    report: &SearchReport,
    journal: &JournalAt,
    failures: &[(&str, usize)],
) -> Result<()> {
    let p = &report.progress;
    let mut line = format!(
        "{} trials finished ({} completed, {} failed) in {:.2} s",
        p.finished, p.completed, p.failed, report.wall_seconds
    );
    if p.pruned > 0 {
        line += &format!(", {} pruned", p.pruned);
    }
    if p.simulated_seconds > 0.0 {
        line += &format!(", {:.0} simulated training seconds", p.simulated_seconds);
    }
    if report.resumed > 0 {
        line += &format!("; {} came from the journal", report.resumed);
    }
    outln!("{line}")?;
    for (reason, count) in failures.iter().take(REASONS_SHOWN) {
        outln!("  failed {count}x: {}", short_reason(reason))?;
    }
    if failures.len() > REASONS_SHOWN {
        outln!(
            "  and {} other reasons (nas show --json lists each)",
            failures.len() - REASONS_SHOWN
        )?;
    }
    if report.stop == nas_core::search::StopReason::Exhausted {
        outln!("the strategy had nothing more to propose")?;
    }
    match &p.best {
        Some(best) => {
            let objective = &report.objectives[0];
            outln!(
                "best trial #{} by {} ({:?}):",
                best.trial.id,
                objective.metric,
                objective.goal
            )?;
            outln!("  {}", experiment.space.render(&best.trial.genotype))?;
            if let Some(metrics) = best.outcome.metrics() {
                let parts: Vec<String> =
                    metrics.iter().map(|(n, v)| format!("{n} {v:.4}")).collect();
                outln!("  {}", parts.join(", "))?;
            }
        }
        None => outln!("no trial completed")?,
    }
    if !report.pareto_front.is_empty() {
        outln!("Pareto front: {} trials", report.pareto_front.len())?;
    }
    outln!(
        "journal: {} (nas show {})",
        journal.shown,
        journal.show_args
    )?;
    Ok(())
}
