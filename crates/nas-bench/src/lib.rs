//! Shared setup for the benchmarks: a black-box search over the NAS-Bench-201 table.

use nas_core::registry::ConfigError;
use nas_core::{Budget, Experiment, ExperimentConfig};

/// Random search on the embedded NB201 table (CIFAR-10, 200 epochs), `trials` long.
/// `unique = false`: sampling with replacement, so any number of trials can run.
///
/// # Errors
/// Only if the built-in plugins are missing, which a build of this crate rules out.
pub fn random_on_table(trials: u64, seed: u64) -> Result<Experiment, ConfigError> {
    let mut config = ExperimentConfig::from_names(
        "bench",
        "nb201",
        "random",
        "nb201-table",
        Budget::trials(trials),
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    config.seed = seed;
    config.strategy = nas_core::registry::PluginConfig::from_value(
        serde_json::json!({"type": "random", "unique": false}),
    )
    .map_err(|e| ConfigError(e.to_string()))?;
    Experiment::build(config)
}
