//! The experiment config: what to search, how, for how long. It is the serialized API of
//! the framework: the CLI reads it from TOML or flags, the journal stores it, and resuming
//! checks the stored one is the same.

use crate::joint::HyperParameter;
use crate::pruner::PrunerConfig;
use crate::registry::{
    ConfigError, EvaluatorConfig, Knob, OneShotConfig, PluginConfig, PluginKind, RegistryError,
    SpaceConfig, StrategyConfig, plugins,
};
use serde::{Deserialize, Serialize};

/// When a search stops asking for trials. At least one limit must be set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Finished trials (completed, pruned or failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<u64>,
    /// Sum of the trials' `simulated_seconds` metric (training time, real or modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulated_seconds: Option<f64>,
    /// Wall-clock seconds of this process (not counted across resumes, so it does not
    /// make runs reproducible; prefer the other two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_seconds: Option<f64>,
}

impl Budget {
    pub fn trials(n: u64) -> Self {
        Budget {
            trials: Some(n),
            ..Budget::default()
        }
    }

    /// # Errors
    /// No limit, or a limit that is zero, negative or not a number.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.trials.is_none() && self.simulated_seconds.is_none() && self.wall_seconds.is_none()
        {
            return Err(ConfigError(
                "budget: set at least one of `trials`, `simulated_seconds`, `wall_seconds`".into(),
            ));
        }
        if self.trials == Some(0) {
            return Err(ConfigError(
                "budget: field `trials`: must be at least 1, got 0".into(),
            ));
        }
        for (field, v) in [
            ("simulated_seconds", self.simulated_seconds),
            ("wall_seconds", self.wall_seconds),
        ] {
            if let Some(v) = v
                && !(v.is_finite() && v > 0.0)
            {
                return Err(ConfigError(format!(
                    "budget: field `{field}`: must be a positive number, got {v}"
                )));
            }
        }
        Ok(())
    }
}

fn default_workers() -> usize {
    1
}

/// The most workers an experiment may ask for. Each is a thread of this process: tens of
/// thousands abort the process when the system refuses threads. 1,024 is far beyond any
/// machine's useful parallelism for one experiment.
pub const MAX_WORKERS: usize = 1024;

/// A config field that could not be read: its dotted path (empty for the whole config)
/// and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{reason}", self.prefix())]
pub struct FieldError {
    pub path: String,
    pub reason: String,
}

impl FieldError {
    /// `field `seed`: `, or nothing where the reason names the field already: the whole
    /// config, or a plugin's table (`space`, `strategy`, `evaluator`), whose registry
    /// error names the kind, the plugin and its field.
    fn prefix(&self) -> String {
        if self.path.is_empty() || PLUGIN_PARTS.contains(&self.path.as_str()) {
            String::new()
        } else {
            format!("field `{}`: ", self.path)
        }
    }
}

/// The tables of an experiment config that hold a plugin's config.
pub const PLUGIN_PARTS: [&str; 3] = ["space", "strategy", "evaluator"];

/// One experiment: a space, a strategy and an evaluator, with a seed and a budget.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Names the journal file (`<name>.sqlite`).
    pub name: String,
    #[serde(default)]
    pub seed: u64,
    /// Trials evaluated at once, on threads.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Metrics to optimize, by name; the goal comes from the evaluator. Empty: the
    /// evaluator's first objective metric.
    #[serde(default)]
    pub objectives: Vec<String>,
    pub budget: Budget,
    pub space: PluginConfig<dyn SpaceConfig>,
    pub strategy: StrategyChoice,
    pub evaluator: PluginConfig<dyn EvaluatorConfig>,
    /// Stops trials early from their intermediate reports (a `[pruner]` table); none by
    /// default, and then not written, so configs from before pruners read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruner: Option<PluginConfig<dyn PrunerConfig>>,
    /// Fields of the evaluator's config searched next to the space's decisions
    /// (`[[hyperparameters]]` tables); none by default, and then not written, so configs
    /// from before joint search read and compare the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hyperparameters: Vec<HyperParameter>,
}

impl ExperimentConfig {
    /// A config from plugin names with their default configs.
    ///
    /// # Errors
    /// An unknown plugin name.
    pub fn from_names(
        name: &str,
        space: &str,
        strategy: &str,
        evaluator: &str,
        budget: Budget,
    ) -> Result<Self, RegistryError> {
        Ok(ExperimentConfig {
            name: name.to_string(),
            seed: 0,
            workers: 1,
            objectives: Vec::new(),
            budget,
            space: PluginConfig::default_for(space)?,
            strategy: StrategyChoice::default_for(strategy)?,
            evaluator: PluginConfig::default_for(evaluator)?,
            pruner: None,
            hyperparameters: Vec::new(),
        })
    }

    /// Reads a TOML config.
    ///
    /// # Errors
    /// Malformed TOML, unknown fields or plugins (the message says which).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(toml_error(text, &e)))
    }

    /// The config as JSON: what the journal stores and compares on resume.
    ///
    /// # Errors
    /// A plugin config that does not serialize.
    pub fn to_json(&self) -> Result<serde_json::Value, ConfigError> {
        serde_json::to_value(self).map_err(|e| ConfigError(e.to_string()))
    }

    /// Reads the JSON form back.
    ///
    /// # Errors
    /// As [`ExperimentConfig::from_toml`].
    pub fn from_json(value: serde_json::Value) -> Result<Self, ConfigError> {
        Self::from_json_at(value).map_err(|e| ConfigError(e.to_string()))
    }

    /// Reads the JSON form back; an error carries the dotted path of the field it is
    /// about (`seed`, `budget.trials`, `evaluator`), so a caller can say which flag or
    /// which line of a file set it.
    ///
    /// # Errors
    /// As [`ExperimentConfig::from_toml`].
    pub fn from_json_at(value: serde_json::Value) -> Result<Self, FieldError> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            FieldError {
                path: if path == "." { String::new() } else { path },
                reason: e.into_inner().to_string(),
            }
        })
    }

    /// The config as TOML, for people.
    ///
    /// # Errors
    /// A plugin config that does not serialize.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        // TOML has no null: an unset optional field is simply left out.
        let mut value = self.to_json()?;
        drop_nulls(&mut value);
        toml::to_string(&value).map_err(|e| ConfigError(e.to_string()))
    }

    /// Checks what needs no plugin: name, workers, budget.
    ///
    /// # Errors
    /// The first problem found, naming the field.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || self.name.starts_with('.')
        {
            return Err(ConfigError(format!(
                "field `name`: {:?} must be letters, digits, '-', '_' or '.' (it names a file)",
                self.name
            )));
        }
        if self.workers == 0 {
            return Err(ConfigError("field `workers`: must be at least 1".into()));
        }
        if self.workers > MAX_WORKERS {
            return Err(ConfigError(format!(
                "field `workers`: at most {MAX_WORKERS} (each worker is a thread that trains \
                 or looks up trials), got {}",
                self.workers
            )));
        }
        self.budget.check()
    }
}

/// The `[strategy]` table of an experiment: a black-box strategy, which the runner
/// drives by ask and tell, or a one-shot method, which runs a search of its own.
///
/// The rule: the table's `type` is looked up among the strategies and among the one-shot
/// methods. A name registered as both is an error, so the table always means one thing;
/// an unknown name lists the names of both kinds.
#[derive(Debug)]
pub enum StrategyChoice {
    BlackBox(PluginConfig<dyn StrategyConfig>),
    OneShot(PluginConfig<dyn OneShotConfig>),
}

impl StrategyChoice {
    /// The plugin's registered name.
    pub fn name(&self) -> &str {
        match self {
            StrategyChoice::BlackBox(c) => &c.name,
            StrategyChoice::OneShot(c) => &c.name,
        }
    }

    /// The command-line flags the plugin takes.
    pub fn knobs(&self) -> &'static [Knob] {
        match self {
            StrategyChoice::BlackBox(c) => c.config.knobs(),
            StrategyChoice::OneShot(c) => c.config.knobs(),
        }
    }

    /// Whether `name` is a one-shot method (`Ok(true)`) or a strategy (`Ok(false)`).
    ///
    /// # Errors
    /// A name of neither kind (listing both), a name of both kinds, a duplicate name.
    pub fn is_one_shot(name: &str) -> Result<bool, RegistryError> {
        let strategies = plugins::<dyn StrategyConfig>()?;
        let one_shot = plugins::<dyn OneShotConfig>()?;
        let is_strategy = strategies.iter().any(|p| p.name == name);
        let is_one_shot = one_shot.iter().any(|p| p.name == name);
        match (is_strategy, is_one_shot) {
            (true, false) => Ok(false),
            (false, true) => Ok(true),
            (true, true) => Err(RegistryError::BadConfig {
                kind: <dyn StrategyConfig as PluginKind>::KIND,
                name: name.to_string(),
                reason: "registered both as a strategy and as a one-shot method".into(),
            }),
            (false, false) => {
                let mut available: Vec<&'static str> = strategies
                    .iter()
                    .map(|p| p.name)
                    .chain(one_shot.iter().map(|p| p.name))
                    .collect();
                available.sort_unstable();
                Err(RegistryError::Unknown {
                    kind: "strategy or one-shot method",
                    name: name.to_string(),
                    available,
                })
            }
        }
    }

    /// The plugin's default config.
    ///
    /// # Errors
    /// As [`StrategyChoice::is_one_shot`].
    pub fn default_for(name: &str) -> Result<Self, RegistryError> {
        Ok(if Self::is_one_shot(name)? {
            StrategyChoice::OneShot(PluginConfig::default_for(name)?)
        } else {
            StrategyChoice::BlackBox(PluginConfig::default_for(name)?)
        })
    }

    /// Reads the table (or a bare name) of either kind.
    ///
    /// # Errors
    /// No `type`, an unknown name, an unknown or ill-typed field.
    pub fn from_value(value: serde_json::Value) -> Result<Self, RegistryError> {
        let name = match &value {
            serde_json::Value::String(name) => Some(name.clone()),
            serde_json::Value::Object(table) => {
                table.get("type").and_then(|t| t.as_str()).map(String::from)
            }
            _ => None,
        };
        match name {
            Some(name) if Self::is_one_shot(&name)? => {
                Ok(StrategyChoice::OneShot(PluginConfig::from_value(value)?))
            }
            // No name, or a strategy's: the strategy registry reads it (and says what
            // is missing).
            _ => Ok(StrategyChoice::BlackBox(PluginConfig::from_value(value)?)),
        }
    }

    /// The config as a JSON table with its `type`.
    ///
    /// # Errors
    /// A config that does not serialize.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            StrategyChoice::BlackBox(c) => c.to_value(),
            StrategyChoice::OneShot(c) => c.to_value(),
        }
    }
}

impl Serialize for StrategyChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for StrategyChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// A TOML error on one line: `line L, column C: message` (toml's own rendering draws the
/// source over several lines).
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}
