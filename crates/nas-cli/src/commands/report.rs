//! `nas report`: the trade-off report of one or more experiments as one self-contained
//! HTML page (`nas-report`). Reading writes nothing to the journals, so a report can be
//! made while a search runs.

use crate::commands::show;
use crate::out::outln;
use anyhow::{Context, Result};
use nas_report::Run;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The experiments: names (in --dir), journal files or storage URLs.
    #[arg(required = true)]
    experiments: Vec<String>,
    /// Folder of the experiment journals.
    #[arg(long, default_value = "runs")]
    dir: PathBuf,
    /// Where to write the page. Default: `<dir>/<first experiment>-report.html`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// How many of the best trials feed the generalization figure and the operation
    /// statistics.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print the page's path as JSON (`{"report": PATH, "experiments": [...]}`).
    #[arg(long)]
    json: bool,
}

/// One experiment's journal, read and typed by its space.
fn read(experiment: &str, dir: &Path) -> Result<Run> {
    let r = show::read(experiment, dir)?;
    let objectives = show::objectives(&r.state, &r.path)?;
    Ok(Run {
        name: r.config.name,
        state: r.state,
        space: r.space,
        objectives,
    })
}

pub fn run(args: ReportArgs) -> Result<()> {
    let runs: Vec<Run> = args
        .experiments
        .iter()
        .map(|e| read(e, &args.dir))
        .collect::<Result<_>>()?;
    let page = nas_report::html(&runs, args.top)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let first = runs.first().map_or("report", |r| r.name.as_str());
        args.dir.join(format!("{first}-report.html"))
    });
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&out, page).with_context(|| format!("cannot write {}", out.display()))?;
    if args.json {
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        outln!(
            "{}",
            serde_json::json!({ "report": out.display().to_string(), "experiments": names })
        )?;
    } else {
        outln!("{}", out.display())?;
    }
    Ok(())
}
