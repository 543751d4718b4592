//! An experiment built from its config: the one place that turns names into running parts,
//! checking everything before anything runs.

use crate::config::ExperimentConfig;
use crate::config::StrategyChoice;
use crate::evaluator::Evaluator;
use crate::joint::{Hyperparameters, JointEvaluator, JointSpace};
use crate::journal::{Journal, JournalState};
use crate::registry::{ConfigError, OneShotContext};
use crate::rng::derive_seed;
use crate::runner::BlackBoxSearch;
use crate::search::{Observer, Search, SearchError, SearchReport};
use crate::space::SearchSpace;
use crate::storage::{self, JournalRequest};
use crate::strategy::StrategyContext;
use crate::trial::{MetricRole, MetricSpec, Objective};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The label of the strategy's seed stream (trial `i` uses label `i`).
const STRATEGY_SEED_LABEL: u64 = u64::MAX;

/// A checked, built experiment, ready to run.
#[derive(Debug)]
pub struct Experiment {
    pub config: ExperimentConfig,
    pub space: Arc<dyn SearchSpace>,
    pub evaluator: Arc<dyn Evaluator>,
    pub objectives: Vec<Objective>,
    /// A black-box search (the runner driving the strategy) or a one-shot method.
    pub search: Box<dyn Search>,
}

/// Resolves objective names against what the evaluator reports.
///
/// # Errors
/// An unknown metric (listing the known ones), or a report-only metric such as a test
/// split, which must never steer a search.
pub fn resolve_objectives(
    names: &[String],
    metrics: &[MetricSpec],
) -> Result<Vec<Objective>, ConfigError> {
    if names.is_empty() {
        let first = metrics
            .iter()
            .find(|m| m.role == MetricRole::Objective)
            .ok_or_else(|| ConfigError("the evaluator reports no objective metric".into()))?;
        return Ok(vec![Objective {
            metric: first.name.to_string(),
            goal: first.goal,
        }]);
    }
    names
        .iter()
        .map(|name| {
            let spec = metrics.iter().find(|m| m.name == name.as_str()).ok_or_else(|| {
                ConfigError(format!(
                    "field `objectives`: the evaluator does not report `{name}`; it reports: {}",
                    metrics.iter().map(|m| m.name.as_ref()).collect::<Vec<_>>().join(", ")
                ))
            })?;
            if spec.role == MetricRole::Report {
                return Err(ConfigError(format!(
                    "field `objectives`: `{name}` is report-only ({}); searching on it would \
                     overfit what it is meant to measure",
                    spec.description
                )));
            }
            Ok(Objective {
                metric: name.clone(),
                goal: spec.goal,
            })
        })
        .collect()
}

/// A plugin's error under its kind and name: `evaluator `train`: field `epochs`: ...`. A
/// plugin that named itself already (`ConfigError::field`) is not named twice.
pub(crate) fn under(kind: &str, name: &str, e: ConfigError) -> ConfigError {
    let reason = e.0.strip_prefix(&format!("{name}: ")).unwrap_or(&e.0);
    ConfigError(format!("{kind} `{name}`: {reason}"))
}

/// The search space of an experiment: the `[space]` table's, followed by the
/// `[[hyperparameters]]` as decisions ([`JointSpace`]) when there are any. What
/// strategies search, the journal renders and `nas show` reads trials back with.
///
/// # Errors
/// The space's own error, or a malformed hyperparameter, naming its field.
pub fn build_space(config: &ExperimentConfig) -> Result<Arc<dyn SearchSpace>, ConfigError> {
    Ok(build_spaces(config)?.0)
}

/// The experiment's space, and the same as a joint space when it has hyperparameters.
type Spaces = (Arc<dyn SearchSpace>, Option<Arc<JointSpace>>);

/// The experiment's [`Spaces`].
fn build_spaces(config: &ExperimentConfig) -> Result<Spaces, ConfigError> {
    let inner = config
        .space
        .config
        .build()
        .map_err(|e| under("space", &config.space.name, e))?;
    if config.hyperparameters.is_empty() {
        return Ok((inner, None));
    }
    let hps = Hyperparameters::check(&config.hyperparameters)?;
    let joint = Arc::new(JointSpace::new(inner, hps));
    Ok((Arc::clone(&joint) as Arc<dyn SearchSpace>, Some(joint)))
}

impl Experiment {
    /// Checks the config and builds every part.
    ///
    /// # Errors
    /// The first problem found, naming the part and the field.
    pub fn build(config: ExperimentConfig) -> Result<Self, ConfigError> {
        config.check()?;
        if let (StrategyChoice::OneShot(one_shot), false) =
            (&config.strategy, config.hyperparameters.is_empty())
        {
            return Err(ConfigError(format!(
                "field `hyperparameters`: the one-shot method `{}` trains its own supernet and derives architectures only; search hyperparameters with a black-box strategy",
                one_shot.name
            )));
        }
        let (space, joint) = build_spaces(&config)?;
        // A joint space's evaluator is built against the inner space (evaluators downcast
        // it and look its network up by name) and gets each trial's hyperparameters.
        let evaluator: Arc<dyn Evaluator> = match joint {
            Some(joint) => Arc::new(JointEvaluator::build(&config.evaluator, joint)?),
            None => config
                .evaluator
                .config
                .build(&space)
                .map_err(|e| under("evaluator", &config.evaluator.name, e))?,
        };
        let objectives = resolve_objectives(&config.objectives, &evaluator.metrics())?;
        let strategy_seed = derive_seed(config.seed, STRATEGY_SEED_LABEL);
        let named = |e: ConfigError| {
            let kind = match &config.strategy {
                StrategyChoice::BlackBox(_) => "strategy",
                StrategyChoice::OneShot(_) => "one-shot method",
            };
            under(kind, config.strategy.name(), e)
        };
        if let (StrategyChoice::OneShot(one_shot), Some(p)) = (&config.strategy, &config.pruner) {
            return Err(ConfigError(format!(
                "pruner `{}`: pruners stop black-box trials early; the one-shot method `{}` trains its own supernet and has none to stop",
                p.name, one_shot.name
            )));
        }
        let search: Box<dyn Search> = match &config.strategy {
            StrategyChoice::OneShot(one_shot) => one_shot
                .config
                .build_search(OneShotContext {
                    space: Arc::clone(&space),
                    evaluator: Arc::clone(&evaluator),
                    objectives: objectives.clone(),
                    seed: config.seed,
                    strategy_seed,
                    workers: config.workers,
                })
                .map_err(named)?,
            StrategyChoice::BlackBox(strategy) => {
                let ctx = StrategyContext {
                    space: Arc::clone(&space),
                    objectives: objectives.clone(),
                    seed: strategy_seed,
                };
                let pruner = match &config.pruner {
                    Some(p) => Some(p.config.build().map_err(|e| under("pruner", &p.name, e))?),
                    None => None,
                };
                Box::new(BlackBoxSearch {
                    space: Arc::clone(&space),
                    strategy: strategy.config.build(ctx).map_err(named)?,
                    evaluator: Arc::clone(&evaluator),
                    objectives: objectives.clone(),
                    seed: config.seed,
                    workers: config.workers,
                    pruner,
                })
            }
        };
        Ok(Experiment {
            config,
            space,
            evaluator,
            objectives,
            search,
        })
    }

    /// The journal file of this experiment in `dir`, where [`Experiment::run_in`] keeps it.
    pub fn journal_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.sqlite", self.config.name))
    }

    /// The default storage URL of this experiment in `dir`: `sqlite:<dir>/<name>.sqlite`.
    ///
    /// # Errors
    /// A folder whose path is not UTF-8.
    pub fn storage_in(&self, dir: &Path) -> Result<String, SearchError> {
        Ok(storage::default_url(dir, &self.config.name)?)
    }

    /// Opens (or creates) the experiment's journal in `dir` (the SQLite file
    /// [`Experiment::journal_path`]) and runs the search, resuming from what the journal
    /// holds. The SQLite storage must be linked (`use nas_storage_sqlite as _;`).
    ///
    /// # Errors
    /// As [`Experiment::run_at`].
    pub fn run_in(
        &mut self,
        dir: &Path,
        observer: &mut dyn Observer,
    ) -> Result<SearchReport, SearchError> {
        let url = self.storage_in(dir)?;
        self.run_at(&url, observer)
    }

    /// Opens (or creates) the experiment's journal at the storage URL `url`
    /// (`sqlite:runs/x.sqlite`), through the storage registered under its scheme, and runs
    /// the search, resuming from what the journal holds.
    ///
    /// # Errors
    /// A URL of no registered storage; a journal that another process writes, that holds
    /// another config or is not a journal; anything [`Search::run`] reports.
    pub fn run_at(
        &mut self,
        url: &str,
        observer: &mut dyn Observer,
    ) -> Result<SearchReport, SearchError> {
        let config = self.config.to_json()?;
        let space = Arc::clone(&self.space);
        let (mut journal, state) = storage::open(
            url,
            JournalRequest {
                config: &config,
                objectives: &self.objectives,
                render: Box::new(move |t| space.render(&t.genotype)),
            },
        )?;
        self.run_with(journal.as_mut(), observer, state)
    }

    /// Runs against any journal.
    ///
    /// # Errors
    /// As [`Search::run`].
    pub fn run_with(
        &mut self,
        journal: &mut dyn Journal,
        observer: &mut dyn Observer,
        resume: Option<JournalState>,
    ) -> Result<SearchReport, SearchError> {
        let budget = self.config.budget.clone();
        self.search.run(&budget, journal, observer, resume)
    }
}
