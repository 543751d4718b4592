//! `nas export`: an experiment's best architecture (or a chosen trial's) as files that
//! outlive the journal: the space's own string, the genotype as JSON, the drawing as
//! Graphviz DOT, the trained weights where the evaluator kept them (`weights_dir`: burn's
//! record bytes), and the space's and evaluator's configs, so that
//! `nas eval "$(cat arch.txt)" --space space.json --evaluator evaluator.json --seed S`
//! evaluates (retrains) it again exactly as the search did.

use crate::commands::show;
use crate::out::outln;
use anyhow::{Context, Result, bail};
use nas_core::TrialResult;
use nas_core::drawing::to_dot;
use nas_core::evaluator::{WEIGHTS_DIR, weights_file};
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

pub fn run(args: ExportArgs) -> Result<()> {
    let r = show::read(&args.experiment, &args.dir)?;
    let objectives = show::objectives(&r.state, &r.path)?;
    let chosen: &TrialResult = match args.trial {
        Some(id) => match r.state.finished.iter().find(|t| t.trial.id == id) {
            Some(t) => t,
            None => bail!("{}: no finished trial #{id}", r.path),
        },
        None => {
            let objective = objectives
                .first()
                .with_context(|| format!("{}: the experiment has no objective", r.path))?;
            r.state
                .finished
                .iter()
                .filter_map(|t| objective.score(&t.outcome).map(|s| (t, s)))
                // The first of equals, as `nas show` ranks them.
                .fold(
                    None,
                    |best: Option<(&TrialResult, f64)>, (t, s)| match best {
                        Some((_, b)) if b >= s => best,
                        _ => Some((t, s)),
                    },
                )
                .map(|(t, _)| t)
                .with_context(|| {
                    format!(
                        "{}: no completed trial reports {}",
                        r.path, objective.metric
                    )
                })?
        }
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(format!("{}-export", r.config.name)));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let genotype = &chosen.trial.genotype;
    let arch = r.space.render(genotype);
    let graphs = r.space.draw(genotype);
    let space_config = r.state.config.get("space").cloned().unwrap_or(Value::Null);
    let evaluator_config = r
        .state
        .config
        .get("evaluator")
        .cloned()
        .unwrap_or(Value::Null);
    let mut files = vec![
        write(&out, "arch.txt", &format!("{arch}\n"))?,
        write(
            &out,
            "space.json",
            &serde_json::to_string_pretty(&space_config)?,
        )?,
        write(
            &out,
            "evaluator.json",
            &serde_json::to_string_pretty(&evaluator_config)?,
        )?,
    ];
    if !graphs.is_empty() {
        files.push(write(&out, "arch.dot", &to_dot(&r.config.name, &graphs))?);
    }
    // The trained weights, where the search's evaluator kept them.
    let weights = match evaluator_config.get(WEIGHTS_DIR).and_then(Value::as_str) {
        Some(dir) => {
            let kept = Path::new(dir).join(weights_file(chosen.trial.id));
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
            files.push(copy.display().to_string());
            Some(copy.display().to_string())
        }
        None => None,
    };
    let space_file = out.join("space.json").display().to_string();
    let evaluator_file = out.join("evaluator.json").display().to_string();
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
