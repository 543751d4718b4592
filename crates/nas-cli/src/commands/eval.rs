//! `nas eval`: evaluate one architecture, given in the space's own string form.

use anyhow::{Context, Result};
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::{EvaluatorConfig, PluginConfig, SpaceConfig};
use nas_core::{Fidelity, Trial};
use serde_json::{Value, json};

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The architecture, e.g. an NB201 string `|nor_conv_3x3~0|+|...|` or its op code `333132`.
    arch: String,
    /// Search space plugin.
    #[arg(long, default_value = "nb201")]
    space: String,
    /// Evaluator plugin.
    #[arg(long, default_value = "nb201-table")]
    evaluator: String,
    /// Set an evaluator field, e.g. `--set dataset=cifar100`.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    sets: Vec<String>,
    /// Epochs (a fidelity), when the evaluator supports it.
    #[arg(long)]
    epochs: Option<u32>,
    /// Seed of the evaluation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let space = PluginConfig::<dyn SpaceConfig>::default_for(&args.space)?
        .config
        .build()?;
    let mut evaluator_config = json!({ "type": args.evaluator });
    for s in &args.sets {
        let (field, raw) = s
            .split_once('=')
            .with_context(|| format!("--set {s:?}: expected FIELD=VALUE"))?;
        evaluator_config[field] =
            serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    }
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
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "arch": space.render(&trial.genotype),
                "fingerprint": space.fingerprint(&trial.genotype).to_string(),
                "metrics": metrics,
            }))?
        );
        return Ok(());
    }
    println!("{}", space.render(&trial.genotype));
    for (name, value) in metrics.iter() {
        println!("  {name:<18} {value:.4}");
    }
    Ok(())
}
