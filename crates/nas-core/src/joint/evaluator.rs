//! [`JointEvaluator`]: the experiment's evaluator, built again with each trial's
//! hyperparameters set in its config.

use super::{JointSpace, path};
use crate::evaluator::{EvalError, Evaluator, Reporter};
use crate::registry::{ConfigError, EvaluatorConfig, PluginConfig, RegistryError};
use crate::space::{SearchSpace, Value};
use crate::trial::{MetricSpec, Metrics, Trial};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Evaluators kept, by hyperparameter values: a categorical search repeats its settings,
/// and rebuilding an evaluator reloads its data. Real-valued hyperparameters rarely
/// repeat, so more would mostly hold data sets in memory for nothing.
const CACHED: usize = 8;

/// Evaluates a [`JointSpace`]'s trials: the inner evaluator, built from the experiment's
/// evaluator config with the trial's hyperparameters set at their paths, evaluates the
/// trial's architecture. Its metrics are the inner evaluator's.
pub struct JointEvaluator {
    space: Arc<JointSpace>,
    /// The evaluator's config as JSON, with its `type`.
    base: serde_json::Value,
    /// The evaluator's registered name, for messages.
    name: String,
    metrics: Vec<MetricSpec>,
    /// The most recently used last.
    cache: Mutex<VecDeque<(String, Arc<dyn Evaluator>)>>,
}

impl std::fmt::Debug for JointEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JointEvaluator")
            .field("evaluator", &self.base)
            .field("hyperparameters", self.space.hyperparameters())
            .finish_non_exhaustive()
    }
}

impl JointEvaluator {
    /// Builds the evaluator once as configured, then once per value that exercises each
    /// hyperparameter's domain (every choice, both ends of a range) with that value set:
    /// a path the evaluator has no field for, or a value it refuses, is an error now
    /// rather than a failed trial later.
    ///
    /// # Errors
    /// The evaluator's own error as configured, or one naming `hyperparameters[i].path`
    /// and the value.
    pub fn build(
        config: &PluginConfig<dyn EvaluatorConfig>,
        space: Arc<JointSpace>,
    ) -> Result<Self, ConfigError> {
        let base = config
            .to_value()
            .map_err(|e| ConfigError(format!("evaluator `{}`: {e}", config.name)))?;
        let metrics = config
            .config
            .build(space.inner())
            .map_err(|e| crate::experiment::under("evaluator", &config.name, e))?
            .metrics();
        let joint = JointEvaluator {
            space,
            base,
            name: config.name.clone(),
            metrics,
            cache: Mutex::new(VecDeque::new()),
        };
        let hps = joint.space.hyperparameters();
        for i in 0..hps.len() {
            for value in hps.probes(i) {
                let built = joint.build_with(&[(i, &value)]).map_err(|why| {
                    ConfigError(format!("field `hyperparameters[{i}].path`: {why}"))
                })?;
                let names = |m: &[MetricSpec]| m.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
                if names(&built.metrics()) != names(&joint.metrics) {
                    return Err(ConfigError(format!(
                        "field `hyperparameters[{i}].path`: evaluator `{}` with {} reports other metrics than without it; a hyperparameter may change how a trial is evaluated, not what is reported",
                        joint.name,
                        joint.setting(i, &value)
                    )));
                }
            }
        }
        Ok(joint)
    }

    /// `path = value` as JSON writes the value.
    fn setting(&self, i: usize, value: &Value) -> String {
        let hps = self.space.hyperparameters();
        let shown = hps
            .json(i, value)
            .map_or_else(|| format!("{value:?}"), |v| v.to_string());
        format!("`{} = {shown}`", hps.path(i))
    }

    /// The evaluator built with `values` (hyperparameter index, value) set in its config.
    ///
    /// # Errors
    /// Why not, naming the evaluator and each setting.
    fn build_with(&self, values: &[(usize, &Value)]) -> Result<Arc<dyn Evaluator>, String> {
        let hps = self.space.hyperparameters();
        let settings = || {
            values
                .iter()
                .map(|(i, v)| self.setting(*i, v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let with = || format!("evaluator `{}` with {}", self.name, settings());
        let mut config = self.base.clone();
        for (i, value) in values {
            let json = hps.json(*i, value).ok_or_else(|| {
                format!("{}: no value of the domain of `{}`", with(), hps.path(*i))
            })?;
            path::set(&mut config, hps.path(*i), json)
                .map_err(|why| format!("{}: {why} in its config", with()))?;
        }
        let plugin = PluginConfig::<dyn EvaluatorConfig>::from_value(config).map_err(|e| {
            match e {
                // Named once, by `with`.
                RegistryError::BadConfig { reason, .. } => format!("{}: {reason}", with()),
                other => format!("{}: {other}", with()),
            }
        })?;
        // A config that ignores unknown fields reads any path; what it does not write
        // back, it has no field for.
        let read_back = plugin.to_value().map_err(|e| format!("{}: {e}", with()))?;
        for (i, _) in values {
            if path::get(&read_back, hps.path(*i)).is_none() {
                return Err(format!(
                    "evaluator `{}` has no field `{}` (the fields it has: {})",
                    self.name,
                    hps.path(*i),
                    fields(&self.base).join(", ")
                ));
            }
        }
        plugin.config.build(self.space.inner()).map_err(|e| {
            let own = format!("{}: ", self.name);
            format!("{}: {}", with(), e.0.strip_prefix(&own).unwrap_or(&e.0))
        })
    }

    /// The evaluator for these hyperparameter values, from the cache or built.
    fn evaluator_for(&self, values: &[Value]) -> Result<Arc<dyn Evaluator>, EvalError> {
        let hps = self.space.hyperparameters();
        let key = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{}={}", hps.path(i), hps.shown(i, v)))
            .collect::<Vec<_>>()
            .join(" ");
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(at) = cache.iter().position(|(k, _)| *k == key) {
                let hit = cache.remove(at);
                if let Some((k, e)) = hit {
                    cache.push_back((k, Arc::clone(&e)));
                    return Ok(e);
                }
            }
        }
        // Built outside the lock: other workers' trials go on meanwhile.
        let indexed: Vec<(usize, &Value)> = values.iter().enumerate().collect();
        let built = self.build_with(&indexed).map_err(EvalError::Failed)?;
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if !cache.iter().any(|(k, _)| *k == key) {
            cache.push_back((key, Arc::clone(&built)));
            while cache.len() > CACHED {
                cache.pop_front();
            }
        }
        Ok(built)
    }
}

/// The top-level field names of a plugin's JSON config, without `type`.
fn fields(config: &serde_json::Value) -> Vec<String> {
    config
        .as_object()
        .map(|t| t.keys().filter(|k| *k != "type").cloned().collect())
        .unwrap_or_default()
}

impl Evaluator for JointEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        self.metrics.clone()
    }

    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        self.space
            .validate(&trial.genotype)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        let (genotype, values) = self.space.split(&trial.genotype);
        let evaluator = self.evaluator_for(values)?;
        let inner = Trial {
            genotype,
            ..trial.clone()
        };
        evaluator.evaluate(&inner, reporter)
    }
}
