//! `nas eval`: evaluate one architecture, given in the space's own string form.

use crate::edit::{apply_knob, apply_set};
use crate::out::outln;
use anyhow::{Context, Result, bail};
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::{EvaluatorConfig, PluginConfig, SpaceConfig};
use nas_core::{Fidelity, Trial};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The architecture, e.g. an NB201 string `|nor_conv_3x3~0|+|...|` or its op code `333132`.
    arch: String,
    /// Search space plugin, by name (its default config) or as a JSON file holding its
    /// table (`space.json` from `nas export`).
    #[arg(long, default_value = "nb201")]
    space: String,
    /// Evaluator plugin, by name or as a JSON file holding its table (`evaluator.json`
    /// from `nas export`: the search's own evaluator, to evaluate again as it did).
    #[arg(long, default_value = "nb201-table")]
    evaluator: String,
    /// The data set, for an evaluator that takes one (see `nas search --dataset`).
    #[arg(long)]
    dataset: Option<String>,
    /// The burn backend, for an evaluator that trains networks.
    #[arg(long)]
    backend: Option<String>,
    /// Set an evaluator field, e.g. `--set dataset=cifar100` or `--set data.dataset=mnist`
    /// (a leading `evaluator.` is allowed, as in `nas search --set`).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    sets: Vec<String>,
    /// Epochs (a fidelity), when the evaluator supports it.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    epochs: Option<u32>,
    /// Seed of the evaluation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// A plugin's table: a plugin name stands for `{"type": name}`, a path ending in `.json`
/// for the table in that file.
fn table(text: &str, what: &str) -> Result<Value> {
    if !text.ends_with(".json") {
        return Ok(json!({ "type": text }));
    }
    let read = std::fs::read_to_string(text).with_context(|| format!("--{what} {text}"))?;
    let value: Value =
        serde_json::from_str(&read).with_context(|| format!("--{what} {text}: not JSON"))?;
    if !value.is_object() {
        bail!("--{what} {text}: expected a table with a `type`, found {value}");
    }
    Ok(value)
}

pub fn run(args: EvalArgs) -> Result<()> {
    let space = PluginConfig::<dyn SpaceConfig>::from_value(table(&args.space, "space")?)
        .with_context(|| format!("--space {}", args.space))?
        .config
        .build()?;
    // The evaluator's table inside an experiment-shaped config, so that the flags and
    // `--set` work as in `nas search`.
    let mut config = json!({ "evaluator": table(&args.evaluator, "evaluator")? });
    if let Some(dataset) = &args.dataset {
        apply_knob(&mut config, "dataset", &json!(dataset))?;
    }
    if let Some(backend) = &args.backend {
        apply_knob(&mut config, "backend", &json!(backend))?;
    }
    for s in &args.sets {
        if s.starts_with("evaluator.") {
            apply_set(&mut config, s)?;
        } else {
            apply_set(&mut config, &format!("evaluator.{s}"))?;
        }
    }
    let evaluator_config = config["evaluator"].take();
    let evaluator = PluginConfig::<dyn EvaluatorConfig>::from_value(evaluator_config)?
        .config
        .build(&space)?;
    let genotype = space.parse(&args.arch)?;
    let trial = Trial {
        id: 0,
        genotype,
        fidelity: Fidelity {
            epochs: args.epochs,
            ..Fidelity::default()
        },
        seed: args.seed,
    };
    let metrics = evaluator
        .evaluate(&trial, &mut CollectingReporter::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "arch": space.render(&trial.genotype),
                "fingerprint": space.fingerprint(&trial.genotype).to_string(),
                "metrics": metrics,
            }))?
        )?;
        return Ok(());
    }
    outln!("{}", space.render(&trial.genotype))?;
    for (name, value) in metrics.iter() {
        outln!("  {name:<18} {value:.4}")?;
    }
    Ok(())
}
