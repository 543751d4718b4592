//! The plugin registry: every space, strategy and evaluator a linked crate registered.
//!
//! Plugins register through `inventory`, so a third-party crate adds a strategy by linking
//! it, without touching this workspace. A config is a plain serde struct; the registry turns
//! a tagged table (`type = "random"`, plus the plugin's fields) into a boxed config through
//! `erased-serde`, and back. Unknown names list the available ones; unknown fields are
//! rejected by the plugin's `#[serde(deny_unknown_fields)]`; duplicate names are an error
//! the first time the registry is read.

use crate::evaluator::Evaluator;
use crate::pruner::PrunerConfig;
use crate::search::Search;
use crate::space::SearchSpace;
use crate::strategy::{Strategy, StrategyContext};
use crate::trial::Objective;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

/// A config that is wrong: what is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    /// An error about one field of a plugin's config.
    pub fn field(plugin: &str, field: &str, reason: impl fmt::Display) -> Self {
        ConfigError(format!("{plugin}: field `{field}`: {reason}"))
    }
}

/// Problems with the registry itself or with a name in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    #[error("unknown {kind} `{name}`; available: {}", available.join(", "))]
    Unknown {
        kind: &'static str,
        name: String,
        available: Vec<&'static str>,
    },
    #[error("two {kind} plugins are registered under the name `{name}`")]
    Duplicate {
        kind: &'static str,
        name: &'static str,
    },
    #[error("{kind} `{name}`: {reason}")]
    BadConfig {
        kind: &'static str,
        name: String,
        reason: String,
    },
}

/// A command-line flag that a plugin takes (`--dataset`, `--backend`), and the field of
/// the plugin's config it sets.
///
/// The CLI knows no plugin by name or by field: it applies a flag to every plugin of the
/// experiment that declares it, and a flag that none declares is an error naming the
/// plugins that would take it. So a third-party evaluator with a data set gets
/// `--dataset` by declaring it, whatever its config calls the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knob {
    /// The flag without its dashes: `dataset`.
    pub flag: &'static str,
    /// Where its value goes in the plugin's config, as a dotted path: `data.dataset`.
    pub path: &'static str,
}

impl Knob {
    pub const fn new(flag: &'static str, path: &'static str) -> Self {
        Knob { flag, path }
    }
}

/// Config of a search space plugin.
pub trait SpaceConfig: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// # Errors
    /// A config value the space cannot be built with.
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError>;

    /// The command-line flags this plugin takes; none by default.
    fn knobs(&self) -> &'static [Knob] {
        &[]
    }
}

/// Config of a black-box strategy plugin: ask/tell, driven by the runner.
pub trait StrategyConfig: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// Checks the config against the space and objectives, then builds the strategy.
    ///
    /// # Errors
    /// A field out of range, or a strategy that cannot work with these objectives.
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError>;

    /// The command-line flags this plugin takes; none by default.
    fn knobs(&self) -> &'static [Knob] {
        &[]
    }
}

/// What a one-shot search is built with: the experiment's parts, already checked.
#[derive(Debug, Clone)]
pub struct OneShotContext {
    pub space: Arc<dyn SearchSpace>,
    /// The final evaluator: the derived architectures are handed to it like any trial.
    pub evaluator: Arc<dyn Evaluator>,
    pub objectives: Vec<Objective>,
    /// The experiment seed (trial seeds derive from it, as in a black-box search).
    pub seed: u64,
    /// The method's own seed, derived from the experiment seed.
    pub strategy_seed: u64,
    pub workers: usize,
}

impl OneShotContext {
    /// The final phase of a one-shot method: `strategy` proposes the derived architectures
    /// and the runner evaluates, journals and resumes them like any black-box search's
    /// trials (the strategy's checkpoint is where the method keeps its search outcome).
    pub fn final_evaluation(&self, strategy: Box<dyn Strategy>) -> crate::runner::BlackBoxSearch {
        crate::runner::BlackBoxSearch {
            space: Arc::clone(&self.space),
            strategy,
            evaluator: Arc::clone(&self.evaluator),
            objectives: self.objectives.clone(),
            seed: self.seed,
            workers: self.workers,
            pruner: None,
        }
    }
}

/// Config of a one-shot method plugin (ENAS, DARTS): it trains a supernet, derives
/// architectures and hands them to the experiment's evaluator, as a whole [`Search`].
///
/// One-shot methods are a registry of their own, so no strategy has a `build` that
/// always fails. An experiment's `[strategy]` table names either kind (see
/// [`StrategyChoice`](crate::config::StrategyChoice)); a name may be registered as one
/// kind only.
pub trait OneShotConfig: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// # Errors
    /// A field out of range, a space or objective the method cannot work with, missing
    /// data.
    fn build_search(&self, ctx: OneShotContext) -> Result<Box<dyn Search>, ConfigError>;

    /// The command-line flags this plugin takes (a method that trains a supernet takes
    /// `--dataset` and `--backend`); none by default.
    fn knobs(&self) -> &'static [Knob] {
        &[]
    }
}

/// Config of an evaluator plugin.
pub trait EvaluatorConfig: erased_serde::Serialize + fmt::Debug + Send + Sync {
    /// Builds the evaluator for a space (loading tables or data sets).
    ///
    /// # Errors
    /// A space the evaluator cannot evaluate, a missing or malformed data file.
    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError>;

    /// The command-line flags this plugin takes; none by default.
    fn knobs(&self) -> &'static [Knob] {
        &[]
    }
}

erased_serde::serialize_trait_object!(SpaceConfig);
erased_serde::serialize_trait_object!(StrategyConfig);
erased_serde::serialize_trait_object!(EvaluatorConfig);
erased_serde::serialize_trait_object!(OneShotConfig);
erased_serde::serialize_trait_object!(PrunerConfig);

/// A kind of plugin: one `inventory` collection per kind.
pub trait PluginKind: 'static {
    /// `space`, `strategy`, `evaluator`: used in messages and in `nas list`.
    const KIND: &'static str;
}
impl PluginKind for dyn SpaceConfig {
    const KIND: &'static str = "space";
}
impl PluginKind for dyn StrategyConfig {
    const KIND: &'static str = "strategy";
}
impl PluginKind for dyn EvaluatorConfig {
    const KIND: &'static str = "evaluator";
}
impl PluginKind for dyn OneShotConfig {
    const KIND: &'static str = "one-shot method";
}
impl PluginKind for dyn PrunerConfig {
    const KIND: &'static str = "pruner";
}

/// Boxing a concrete config as the kind's trait object.
pub trait IntoBoxed<C: ?Sized> {
    fn into_boxed(self) -> Box<C>;
}
impl<T: SpaceConfig + 'static> IntoBoxed<dyn SpaceConfig> for T {
    fn into_boxed(self) -> Box<dyn SpaceConfig> {
        Box::new(self)
    }
}
impl<T: StrategyConfig + 'static> IntoBoxed<dyn StrategyConfig> for T {
    fn into_boxed(self) -> Box<dyn StrategyConfig> {
        Box::new(self)
    }
}
impl<T: EvaluatorConfig + 'static> IntoBoxed<dyn EvaluatorConfig> for T {
    fn into_boxed(self) -> Box<dyn EvaluatorConfig> {
        Box::new(self)
    }
}
impl<T: OneShotConfig + 'static> IntoBoxed<dyn OneShotConfig> for T {
    fn into_boxed(self) -> Box<dyn OneShotConfig> {
        Box::new(self)
    }
}
impl<T: PrunerConfig + 'static> IntoBoxed<dyn PrunerConfig> for T {
    fn into_boxed(self) -> Box<dyn PrunerConfig> {
        Box::new(self)
    }
}

type Deserialize<C> =
    fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<Box<C>, erased_serde::Error>;

/// One registered plugin of kind `C`.
pub struct Plugin<C: ?Sized + 'static> {
    pub name: &'static str,
    pub summary: &'static str,
    pub default_config: fn() -> Box<C>,
    pub deserialize: Deserialize<C>,
}

impl<C: ?Sized> fmt::Debug for Plugin<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("summary", &self.summary)
            .finish()
    }
}

fn default_boxed<C: ?Sized, T: Default + IntoBoxed<C>>() -> Box<C> {
    T::default().into_boxed()
}

fn deserialize_boxed<C: ?Sized, T: DeserializeOwned + IntoBoxed<C>>(
    d: &mut dyn erased_serde::Deserializer<'_>,
) -> Result<Box<C>, erased_serde::Error> {
    Ok(erased_serde::deserialize::<T>(d)?.into_boxed())
}

impl<C: ?Sized + 'static> Plugin<C> {
    /// The entry for config type `T`; used by [`register!`](crate::register).
    pub const fn new<T: Default + DeserializeOwned + IntoBoxed<C>>(
        name: &'static str,
        summary: &'static str,
    ) -> Self {
        Plugin {
            name,
            summary,
            default_config: default_boxed::<C, T>,
            deserialize: deserialize_boxed::<C, T>,
        }
    }
}

inventory::collect!(Plugin<dyn SpaceConfig>);
inventory::collect!(Plugin<dyn StrategyConfig>);
inventory::collect!(Plugin<dyn EvaluatorConfig>);
inventory::collect!(Plugin<dyn OneShotConfig>);
inventory::collect!(Plugin<dyn PrunerConfig>);

/// Registers a config type as a plugin of a kind:
/// `nas_core::register!(dyn StrategyConfig, MyConfig, "my-strategy", "One line summary.");`
/// The config must be `Default + Deserialize + Serialize` and implement the kind's trait.
#[macro_export]
macro_rules! register {
    ($kind:ty, $config:ty, $name:expr, $summary:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::registry::Plugin::<$kind>::new::<$config>($name, $summary)
        }
    };
}

/// Every plugin of kind `C`, sorted by name.
///
/// # Errors
/// [`RegistryError::Duplicate`] when two linked crates registered the same name.
pub fn plugins<C: ?Sized + PluginKind>() -> Result<Vec<&'static Plugin<C>>, RegistryError>
where
    Plugin<C>: inventory::Collect,
{
    let mut all: Vec<&'static Plugin<C>> = inventory::iter::<Plugin<C>>.into_iter().collect();
    all.sort_by_key(|p| p.name);
    if let Some(name) = first_duplicate(all.iter().map(|p| p.name)) {
        return Err(RegistryError::Duplicate {
            kind: C::KIND,
            name,
        });
    }
    Ok(all)
}

/// The first name that occurs twice in a sorted sequence.
fn first_duplicate<'a>(sorted: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut last: Option<&str> = None;
    for name in sorted {
        if last == Some(name) {
            return Some(name);
        }
        last = Some(name);
    }
    None
}

/// The plugin of kind `C` registered as `name`.
///
/// # Errors
/// [`RegistryError::Unknown`] listing the available names.
pub fn find<C: ?Sized + PluginKind>(name: &str) -> Result<&'static Plugin<C>, RegistryError>
where
    Plugin<C>: inventory::Collect,
{
    let all = plugins::<C>()?;
    all.iter()
        .find(|p| p.name == name)
        .copied()
        .ok_or_else(|| RegistryError::Unknown {
            kind: C::KIND,
            name: name.to_string(),
            available: all.iter().map(|p| p.name).collect(),
        })
}

/// A plugin's name with its config: what an experiment config holds for each part.
///
/// Serializes as the plugin's fields plus `type = "<name>"`, and deserializes through the
/// registry, so it reads TOML and JSON alike.
pub struct PluginConfig<C: ?Sized + 'static> {
    pub name: String,
    pub config: Box<C>,
}

impl<C: ?Sized + fmt::Debug> fmt::Debug for PluginConfig<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginConfig")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish()
    }
}

impl<C> PluginConfig<C>
where
    C: ?Sized + PluginKind + serde::Serialize,
    Plugin<C>: inventory::Collect,
{
    /// The plugin's default config.
    ///
    /// # Errors
    /// An unknown name.
    pub fn default_for(name: &str) -> Result<Self, RegistryError> {
        let plugin = find::<C>(name)?;
        Ok(PluginConfig {
            name: plugin.name.to_string(),
            config: (plugin.default_config)(),
        })
    }

    /// Reads a config from a JSON value: either a bare name (`"random"`: the defaults) or
    /// a table with a `type` field and the plugin's fields.
    ///
    /// # Errors
    /// No `type`, an unknown name, an unknown or ill-typed field.
    pub fn from_value(value: serde_json::Value) -> Result<Self, RegistryError> {
        let mut table = match value {
            serde_json::Value::String(name) => return Self::default_for(&name),
            serde_json::Value::Object(table) => table,
            other => {
                return Err(RegistryError::BadConfig {
                    kind: C::KIND,
                    name: String::new(),
                    reason: format!("expected a name or a table with `type`, got {other}"),
                });
            }
        };
        let name = match table.remove("type") {
            Some(serde_json::Value::String(name)) => name,
            _ => {
                return Err(RegistryError::BadConfig {
                    kind: C::KIND,
                    name: String::new(),
                    reason: "missing `type = \"<plugin name>\"`".into(),
                });
            }
        };
        let plugin = find::<C>(&name)?;
        let value = serde_json::Value::Object(table);
        // The path tracker names the field an error is about (`field `epochs`: invalid
        // type ...`): erased-serde's messages alone do not.
        let mut track = serde_path_to_error::Track::new();
        let result = {
            let tracked = serde_path_to_error::Deserializer::new(value, &mut track);
            let mut de = <dyn erased_serde::Deserializer>::erase(tracked);
            (plugin.deserialize)(&mut de)
        };
        let config = result.map_err(|e| {
            let path = track.path().to_string();
            RegistryError::BadConfig {
                kind: C::KIND,
                name: name.clone(),
                reason: if path == "." || path.is_empty() {
                    e.to_string()
                } else {
                    format!("field `{path}`: {e}")
                },
            }
        })?;
        Ok(PluginConfig { name, config })
    }

    /// The config as a JSON table with its `type`.
    ///
    /// # Errors
    /// A config that does not serialize (a non-finite float, say).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut value = serde_json::to_value(&*self.config)?;
        if let serde_json::Value::Object(table) = &mut value {
            table.insert("type".into(), serde_json::Value::String(self.name.clone()));
        }
        Ok(value)
    }
}

impl<C> serde::Serialize for PluginConfig<C>
where
    C: ?Sized + PluginKind + serde::Serialize,
    Plugin<C>: inventory::Collect,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de, C> serde::Deserialize<'de> for PluginConfig<C>
where
    C: ?Sized + PluginKind + serde::Serialize,
    Plugin<C>: inventory::Collect,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Self::from_value(value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found() {
        assert_eq!(first_duplicate(["a", "b", "c"].into_iter()), None);
        assert_eq!(first_duplicate(["a", "b", "b"].into_iter()), Some("b"));
    }
}
