//! `nas show`: read an experiment back from its journal.
//!
//! Reading writes nothing (archived and shared journals are read-only) and builds only
//! the search space, for rendering: the objectives are stored in the journal, so no
//! evaluator (and no data set) is loaded, except for journals written before they were.

use crate::out::outln;
use anyhow::{Context, Result, bail};
use nas_core::journal::JournalState;
use nas_core::storage::{self, StorageUrl};
use nas_core::{Experiment, ExperimentConfig, Objective, Outcome, SearchSpace, TrialResult};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many distinct failure reasons the text summary lists.
const SHOWN_REASONS: usize = 3;
/// Reasons longer than this are cut in the text summary (`--json` has them whole).
const REASON_CHARS: usize = 100;

/// The journal `nas show EXPERIMENT` reads, as a storage URL and as shown to people.
///
/// An existing file is that file; text with a URL scheme (`sqlite:runs/x.sqlite`,
/// `postgresql://...`) is a storage URL, unless `<dir>/<text>.sqlite` exists (an
/// experiment named `a:b`); a `.sqlite` path is that file; any other text names the
/// experiment's file in `dir`, as before storages were plugins.
fn journal_at(experiment: &str, dir: &Path) -> Result<(String, String)> {
    let as_path = PathBuf::from(experiment);
    let in_dir = dir.join(format!("{experiment}.sqlite"));
    if !as_path.is_file() && storage::has_scheme(experiment) && !in_dir.is_file() {
        let shown = StorageUrl::parse(experiment)?.to_string();
        return Ok((experiment.to_string(), shown));
    }
    let path = if as_path.is_file() || as_path.extension().is_some_and(|e| e == "sqlite") {
        as_path
    } else {
        in_dir
    };
    let url = match path.to_str() {
        Some(text) => format!("{}:{text}", storage::DEFAULT_SCHEME),
        None => bail!("{}: the path is not UTF-8", path.display()),
    };
    Ok((url, path.display().to_string()))
}

/// The stored objectives; for a journal written before they were stored, the whole
/// experiment is built to resolve them.
pub(crate) fn objectives(state: &JournalState, path: &str) -> Result<Vec<Objective>> {
    if let Some(stored) = state.objectives.as_ref().filter(|o| !o.is_empty()) {
        return Ok(stored.clone());
    }
    let config = ExperimentConfig::from_json(state.config.clone())
        .with_context(|| format!("{path}: stored config"))?;
    let built = Experiment::build(config)
        .with_context(|| format!("{path}: cannot rebuild the experiment"))?;
    Ok(built.objectives)
}

/// Failure reasons with how many trials failed with each, most common first.
pub(crate) fn failure_reasons(finished: &[TrialResult]) -> Vec<(&str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in finished {
        if let Outcome::Failed { reason } = &r.outcome {
            *counts.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut reasons: Vec<(&str, usize)> = counts.into_iter().collect();
    // Most common first; equal counts in the reasons' order, so the output is stable.
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    reasons
}

/// One line of a reason, cut for the text summary.
pub(crate) fn short_reason(reason: &str) -> String {
    let line = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= REASON_CHARS {
        return line;
    }
    let cut: String = line.chars().take(REASON_CHARS - 3).collect();
    format!("{cut}...")
}

/// What `nas show` reports, gathered once for the text and the JSON form.
struct Summary<'a> {
    /// The journal's file, or its storage URL without a password.
    path: String,
    config: ExperimentConfig,
    state: &'a JournalState,
    space: Arc<dyn SearchSpace>,
    objective: Objective,
    /// Trials with a score by the objective, best first.
    ranked: Vec<&'a TrialResult>,
    /// The process that writes the journal now, if a search is running.
    writer: Option<String>,
}

impl Summary<'_> {
    fn count(&self, state: &str) -> usize {
        self.state
            .finished
            .iter()
            .filter(|r| r.outcome.state_name() == state)
            .count()
    }

    fn in_flight(&self) -> usize {
        if self.writer.is_some() {
            self.state.pending.len()
        } else {
            0
        }
    }

    fn to_json(&self, top: usize) -> Value {
        let best: Vec<Value> = self
            .ranked
            .iter()
            .take(top)
            .map(|r| {
                json!({
                    "id": r.trial.id,
                    "arch": self.space.render(&r.trial.genotype),
                    "fingerprint": self.space.fingerprint(&r.trial.genotype).to_string(),
                    "metrics": r.outcome.metrics(),
                })
            })
            .collect();
        let failures: Vec<Value> = self
            .state
            .finished
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed { reason } => Some(json!({"id": r.trial.id, "reason": reason})),
                _ => None,
            })
            .collect();
        let reasons: Vec<Value> = failure_reasons(&self.state.finished)
            .into_iter()
            .map(|(reason, count)| json!({"reason": reason, "count": count}))
            .collect();
        json!({
            "name": self.config.name,
            "journal": self.path,
            "config": self.state.config,
            "finished": self.state.finished.len(),
            "completed": self.count("completed"),
            "pruned": self.count("pruned"),
            "failed": self.count("failed"),
            "pending": self.state.pending.len(),
            "in_flight": self.in_flight(),
            "writer": self.writer,
            "objective": self.objective,
            "best": best,
            "failure_reasons": reasons,
            "failures": failures,
        })
    }

    fn print(&self, top: usize) -> std::io::Result<()> {
        let c = &self.config;
        outln!("experiment {} ({})", c.name, self.path)?;
        outln!(
            "  space {}, strategy {}, evaluator {}, seed {}, workers {}",
            c.space.name,
            c.strategy.name(),
            c.evaluator.name,
            c.seed,
            c.workers
        )?;
        let pending = self.state.pending.len();
        let unfinished = match &self.writer {
            Some(writer) => format!("{pending} in flight (written by {writer})"),
            None if pending > 0 => {
                format!("{pending} unfinished (no search is running; --resume runs them)")
            }
            None => "0 unfinished".into(),
        };
        outln!(
            "  {} finished ({} completed, {} pruned, {} failed), {unfinished}",
            self.state.finished.len(),
            self.count("completed"),
            self.count("pruned"),
            self.count("failed"),
        )?;
        let reasons = failure_reasons(&self.state.finished);
        if !reasons.is_empty() {
            outln!("  failure reasons, most common first:")?;
            for (reason, count) in reasons.iter().take(SHOWN_REASONS) {
                outln!("    {count:>6} x {}", short_reason(reason))?;
            }
            if reasons.len() > SHOWN_REASONS {
                outln!(
                    "    and {} other reasons (--json lists each failed trial)",
                    reasons.len() - SHOWN_REASONS
                )?;
            }
        }
        let shown = self.ranked.len().min(top);
        outln!(
            "best {shown} by {} ({:?}):",
            self.objective.metric,
            self.objective.goal
        )?;
        for r in self.ranked.iter().take(top) {
            outln!(
                "  #{:<6} {}",
                r.trial.id,
                self.space.render(&r.trial.genotype)
            )?;
            if let Some(m) = r.outcome.metrics() {
                let parts: Vec<String> = m.iter().map(|(n, v)| format!("{n} {v:.4}")).collect();
                outln!("          {}", parts.join(", "))?;
            }
        }
        Ok(())
    }
}

/// An experiment's journal as its readers use it: the storage URL, where it is for
/// people, the state typed by the space, the stored config and the space.
pub(crate) struct Read {
    pub url: String,
    pub path: String,
    pub state: JournalState,
    pub config: ExperimentConfig,
    pub space: Arc<dyn SearchSpace>,
}

/// Reads the experiment `experiment` (a name in `dir`, a file or a URL) and builds its
/// space, nothing else.
pub(crate) fn read(experiment: &str, dir: &Path) -> Result<Read> {
    let (url, path) = journal_at(experiment, dir)?;
    let mut state = storage::read(&url)?;
    let config = ExperimentConfig::from_json(state.config.clone())
        .with_context(|| format!("{path}: stored config"))?;
    // With `[[hyperparameters]]`, the joint space: trials render with their values.
    let space = nas_core::build_space(&config).with_context(|| path.clone())?;
    state.conform(space.as_ref());
    Ok(Read {
        url,
        path,
        state,
        config,
        space,
    })
}

pub fn run(experiment: &str, dir: &Path, top: usize, as_json: bool) -> Result<()> {
    let Read {
        url,
        path,
        state,
        config,
        space,
    } = read(experiment, dir)?;
    let objective = objectives(&state, &path)?
        .into_iter()
        .next()
        .with_context(|| format!("{path}: the experiment has no objective"))?;
    let ranked = objective.ranked(&state.finished);
    let summary = Summary {
        writer: storage::writer(&url)?,
        path,
        config,
        state: &state,
        space,
        objective,
        ranked,
    };
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&summary.to_json(top))?)?;
    } else {
        summary.print(top)?;
    }
    Ok(())
}
