//! Benchmarks of the framework: shared setup for the criterion throughput bench, and the
//! NAS-Bench-201 protocol benchmark behind `cargo xtask bench nb201` (every registered
//! black-box strategy, three datasets, hundreds of seeds, compared with published rows).

pub mod anytime;
pub mod nb201_protocol;
pub mod published;
pub mod report;

use nas_core::config::StrategyChoice;
use nas_core::registry::ConfigError;
use nas_core::{Budget, Experiment, ExperimentConfig};

// The registry only sees plugin crates that are named.
use nas_builtins as _;

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
    config.strategy =
        StrategyChoice::from_value(serde_json::json!({"type": "random", "unique": false}))
            .map_err(|e| ConfigError(e.to_string()))?;
    Experiment::build(config)
}
