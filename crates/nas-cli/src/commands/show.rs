//! `nas show`: read an experiment back from its journal.

use anyhow::{Context, Result};
use nas_core::journal::SqliteJournal;
use nas_core::{Experiment, ExperimentConfig, TrialResult};
use serde_json::json;
use std::path::{Path, PathBuf};

fn journal_path(experiment: &str, dir: &Path) -> PathBuf {
    let as_path = PathBuf::from(experiment);
    if as_path.extension().is_some_and(|e| e == "sqlite") || as_path.is_file() {
        as_path
    } else {
        dir.join(format!("{experiment}.sqlite"))
    }
}

pub fn run(experiment: &str, dir: &Path, top: usize, as_json: bool) -> Result<()> {
    let path = journal_path(experiment, dir);
    let state = SqliteJournal::read(&path)?;
    let config = ExperimentConfig::from_json(state.config.clone())
        .with_context(|| format!("{}: stored config", path.display()))?;
    let built = Experiment::build(config)
        .with_context(|| format!("{}: cannot rebuild the experiment", path.display()))?;
    let objective = built.objectives[0].clone();
    let mut ranked: Vec<(&TrialResult, f64)> = state
        .finished
        .iter()
        .filter_map(|r| objective.score(&r.outcome).map(|s| (r, s)))
        .collect();
    // Best first; ties keep trial order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let failed = state
        .finished
        .iter()
        .filter(|r| r.outcome.metrics().is_none())
        .count();
    let best: Vec<_> = ranked
        .iter()
        .take(top)
        .map(|(r, _)| {
            json!({
                "id": r.trial.id,
                "arch": built.space.render(&r.trial.genotype),
                "fingerprint": built.space.fingerprint(&r.trial.genotype).to_string(),
                "metrics": r.outcome.metrics(),
            })
        })
        .collect();
    let summary = json!({
        "name": built.config.name,
        "journal": path,
        "config": state.config,
        "finished": state.finished.len(),
        "completed": ranked.len(),
        "failed": failed,
        "pending": state.pending.len(),
        "objective": objective,
        "best": best,
    });
    if as_json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    let c = &built.config;
    println!("experiment {} ({})", c.name, path.display());
    println!(
        "  space {}, strategy {}, evaluator {}, seed {}, workers {}",
        c.space.name, c.strategy.name, c.evaluator.name, c.seed, c.workers
    );
    println!(
        "  {} finished ({} completed, {} failed), {} unfinished",
        state.finished.len(),
        ranked.len(),
        failed,
        state.pending.len()
    );
    println!(
        "best {} by {} ({:?}):",
        best.len(),
        objective.metric,
        objective.goal
    );
    for (r, _) in ranked.iter().take(top) {
        println!(
            "  #{:<6} {}",
            r.trial.id,
            built.space.render(&r.trial.genotype)
        );
        if let Some(m) = r.outcome.metrics() {
            let parts: Vec<String> = m.iter().map(|(n, v)| format!("{n} {v:.4}")).collect();
            println!("          {}", parts.join(", "));
        }
    }
    Ok(())
}
