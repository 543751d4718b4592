//! `nas export`: an experiment's best architecture (or a chosen trial's) as files that
//! outlive the journal: the space's own string, the genotype as JSON, the drawing as
//! Graphviz DOT, the trained weights where the evaluator kept them (`weights_dir`: burn's
//! record bytes), and the space's and evaluator's configs, so that
//! `nas eval "$(cat arch.txt)" --space space.json --evaluator evaluator.json --seed S`
//! evaluates (retrains) it again exactly as the search did.

use crate::commands::show;
use crate::out::outln;
use anyhow::{Context, Result, bail};
use nas_core::drawing::to_dot;
use nas_core::evaluator::{WEIGHTS_DIR, weights_file};
use nas_core::{Objective, TrialResult};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The experiment: a name (in --dir), a journal file or a storage URL.
    experiment: String,
    /// Folder of the experiment journals.
    #[arg(long, default_value = "runs")]
    dir: PathBuf,
    /// Folder to write the files to. Default: `<dir>/<experiment>-export`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Export this trial instead of the best by the first objective.
    #[arg(long)]
    trial: Option<u64>,
    /// Print what was exported as JSON (the content of `architecture.json`, with the
    /// files written under `files`).
    #[arg(long)]
    json: bool,
}

fn write(dir: &Path, name: &str, text: &str) -> Result<String> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path.display().to_string())
}

/// The trial `id` when one is asked for, else the best by the first objective (the
/// first of equals, as `nas show` ranks them).
fn chosen<'a>(
    r: &'a show::Read,
    objectives: &[Objective],
    id: Option<u64>,
) -> Result<&'a TrialResult> {
    if let Some(id) = id {
        return r
            .state
            .finished
            .iter()
            .find(|t| t.trial.id == id)
            .with_context(|| format!("{}: no finished trial #{id}", r.path));
    }
    let objective = objectives
        .first()
        .with_context(|| format!("{}: the experiment has no objective", r.path))?;
    let best = objective.ranked(&r.state.finished).first().copied();
    best.with_context(|| {
        format!(
            "{}: no completed trial reports {}",
            r.path, objective.metric
        )
    })
}

/// A copy in `out` of trial `id`'s trained weights, where the search's evaluator kept
/// them (its `weights_dir`); `None` when it kept none.
fn copy_weights(r: &show::Read, evaluator: &Value, id: u64, out: &Path) -> Result<Option<String>> {
    let Some(dir) = evaluator.get(WEIGHTS_DIR).and_then(Value::as_str) else {
        return Ok(None);
    };
    let kept = Path::new(dir).join(weights_file(id));
    if !kept.is_file() {
        bail!(
            "{}: the evaluator keeps weights in {dir}, but {} is not there",
            r.path,
            kept.display()
        );
    }
    let copy = out.join("weights.record");
    std::fs::copy(&kept, &copy)
        .with_context(|| format!("cannot copy {} to {}", kept.display(), copy.display()))?;
    Ok(Some(copy.display().to_string()))
}

pub fn run(args: ExportArgs) -> Result<()> {
    let r = show::read(&args.experiment, &args.dir)?;
    let objectives = show::objectives(&r.state, &r.path)?;
    let chosen = chosen(&r, &objectives, args.trial)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(format!("{}-export", r.config.name)));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let genotype = &chosen.trial.genotype;
    let arch = r.space.render(genotype);
    let graphs = r.space.draw(genotype);
    let table = |part: &str| r.state.config.get(part).cloned().unwrap_or(Value::Null);
    let (space_config, evaluator_config) = (table("space"), table("evaluator"));
    let space_file = write(
        &out,
        "space.json",
        &serde_json::to_string_pretty(&space_config)?,
    )?;
    let evaluator_file = write(
        &out,
        "evaluator.json",
        &serde_json::to_string_pretty(&evaluator_config)?,
    )?;
    let mut files = vec![
        write(&out, "arch.txt", &format!("{arch}\n"))?,
        space_file.clone(),
        evaluator_file.clone(),
    ];
    if !graphs.is_empty() {
        files.push(write(&out, "arch.dot", &to_dot(&r.config.name, &graphs))?);
    }
    let weights = copy_weights(&r, &evaluator_config, chosen.trial.id, &out)?;
    files.extend(weights.clone());
    let mut exported = json!({
        "experiment": r.config.name,
        "journal": r.path,
        "trial": chosen.trial.id,
        "seed": chosen.trial.seed,
        "fidelity": chosen.trial.fidelity,
        "space": space_config,
        "arch": arch,
        "genotype": genotype,
        "fingerprint": r.space.fingerprint(genotype).to_string(),
        "outcome": chosen.outcome.state_name(),
        "metrics": chosen.outcome.metrics(),
        "objectives": objectives,
        "graphs": graphs,
        "weights": weights,
        "eval": [
            "nas", "eval", arch, "--space", space_file, "--evaluator", evaluator_file,
            "--seed", chosen.trial.seed.to_string(),
        ],
    });
    files.push(write(
        &out,
        "architecture.json",
        &serde_json::to_string_pretty(&exported)?,
    )?);
    if args.json {
        exported["files"] = json!(files);
        outln!("{}", serde_json::to_string_pretty(&exported)?)?;
    } else {
        outln!("trial #{} of {}: {arch}", chosen.trial.id, r.config.name)?;
        for f in &files {
            outln!("  {f}")?;
        }
    }
    Ok(())
}
