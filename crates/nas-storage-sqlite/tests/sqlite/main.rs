//! The SQLite storage: its hardening (one writer, foreign files, read-only folders,
//! renamed journals) and its registration under `sqlite:`, run on a toy experiment.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod journal;
mod storage;

use nas_core::registry::{ConfigError, EvaluatorConfig, SpaceConfig, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Decision, EvalError, Evaluator, Experiment, ExperimentConfig, Goal, MetricRole,
    MetricSpec, Metrics, Proposal, Reporter, Rng, SearchSpace, Strategy, StrategyContext,
    StrategyError, Trial, TrialResult,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Four decisions of three choices.
#[derive(Debug)]
struct ToySpace(Vec<Decision>);

impl SearchSpace for ToySpace {
    fn name(&self) -> &str {
        "toy"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToySpaceConfig {}
impl SpaceConfig for ToySpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(ToySpace(
            (0..4)
                .map(|i| Decision::categorical(format!("d{i}"), &["a", "b", "c"]))
                .collect(),
        )))
    }
}
nas_core::register!(
    dyn SpaceConfig,
    ToySpaceConfig,
    "toy",
    "4 decisions of 3 choices."
);

/// Score: the sum of the indices.
#[derive(Debug)]
struct ToyEvaluator;

impl Evaluator for ToyEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![MetricSpec {
            name: "score".into(),
            goal: Goal::Maximize,
            role: MetricRole::Objective,
            description: "sum of indices".into(),
        }]
    }
    fn evaluate(&self, trial: &Trial, _: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let idx = trial.genotype.indices().unwrap_or_default();
        let mut m = Metrics::default();
        m.set("score", idx.iter().sum::<u32>() as f64);
        Ok(m)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ToyEvaluatorConfig {}
impl EvaluatorConfig for ToyEvaluatorConfig {
    fn build(&self, _: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        Ok(Arc::new(ToyEvaluator))
    }
}
nas_core::register!(
    dyn EvaluatorConfig,
    ToyEvaluatorConfig,
    "toy-eval",
    "Sum of indices."
);

/// Samples the space; its generator is its checkpoint, so a resume continues it.
#[derive(Debug)]
struct Sampler {
    space: Arc<dyn SearchSpace>,
    rng: Rng,
}
impl Strategy for Sampler {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        (0..n)
            .map(|_| self.space.sample(&mut self.rng).into())
            .collect()
    }
    fn tell(&mut self, _: &TrialResult) {}
    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&self.rng)
    }
    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        self.rng = from_checkpoint(state)?;
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplerConfig {}
impl StrategyConfig for SamplerConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Sampler {
            rng: ctx.rng(),
            space: ctx.space,
        }))
    }
}
nas_core::register!(
    dyn StrategyConfig,
    SamplerConfig,
    "sampler",
    "Samples the space."
);

/// The toy experiment `name` with `seed`, for `trials` trials.
fn experiment(name: &str, seed: u64, trials: u64) -> Experiment {
    let text = format!(
        "name = \"{name}\"\nseed = {seed}\n[budget]\ntrials = {trials}\n[space]\ntype = \
         \"toy\"\n[strategy]\ntype = \"sampler\"\n[evaluator]\ntype = \"toy-eval\"\n"
    );
    Experiment::build(ExperimentConfig::from_toml(&text).unwrap()).unwrap()
}
