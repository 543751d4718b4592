//! The PyTorch reference column: a Python with torch (given, or a throwaway venv the bench
//! makes on request from `bench/reference/requirements.txt`; never in CI), the scripts in
//! `bench/reference/`, and the JSON line each prints last.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One measurement: training images per second and peak resident memory.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    pub images_per_s: f64,
    pub peak_gib: f64,
}

/// The workspace's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the benchmarks write (and the venv lives).
pub fn out_dir() -> PathBuf {
    root().join("target/nas-bench")
}

/// A reference script by file name.
pub fn script(name: &str) -> PathBuf {
    root().join("bench/reference").join(name)
}

fn venv_python() -> PathBuf {
    out_dir().join("torch-venv/bin/python")
}

/// The Python to run the references with: `explicit`, else the venv when it exists (made
/// first when `setup` is set), else none (the column says so).
///
/// # Errors
/// Making the venv failed (no `python3 -m venv`, no network to the package index).
pub fn python(explicit: Option<PathBuf>, setup: bool) -> Result<Option<PathBuf>, String> {
    if setup {
        make_venv()?;
    }
    Ok(explicit.or_else(|| Some(venv_python()).filter(|p| p.exists())))
}

/// `python3 -m venv target/nas-bench/torch-venv`, then `pip install -r
/// bench/reference/requirements.txt` into it (torch 2.15: a download of about 3 GB).
fn make_venv() -> Result<(), String> {
    let venv = out_dir().join("torch-venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let requirements = root().join("bench/reference/requirements.txt");
    let steps: [(PathBuf, Vec<String>); 2] = [
        (
            python.into(),
            vec!["-m".into(), "venv".into(), venv.display().to_string()],
        ),
        (
            venv_python(),
            ["-m", "pip", "install", "-q", "-r"]
                .iter()
                .map(ToString::to_string)
                .chain([requirements.display().to_string()])
                .collect(),
        ),
    ];
    for (program, args) in steps {
        eprintln!("$ {} {}", program.display(), args.join(" "));
        let status = Command::new(&program)
            .args(&args)
            .status()
            .map_err(|e| format!("{}: {e}", program.display()))?;
        if !status.success() {
            return Err(format!("{} failed ({status})", program.display()));
        }
    }
    Ok(())
}

/// Reads the JSON line (`images_per_s`, `peak_rss_gib`) a script prints last.
///
/// # Errors
/// No such line.
pub fn parse_figure(stdout: &[u8]) -> Result<Figure, String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("no figure in {text:?}: {e}"))?;
    let field = |k: &str| v[k].as_f64().ok_or_else(|| format!("no {k} in {line}"));
    Ok(Figure {
        images_per_s: field("images_per_s")?,
        peak_gib: field("peak_rss_gib")?,
    })
}

/// Runs `command` and reads its figure.
///
/// # Errors
/// The command failed (its standard error), or printed no figure.
pub fn run(command: &mut Command) -> Result<Figure, String> {
    let out = command.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    parse_figure(&out.stdout)
}

/// A ratio column: `ours / theirs`, or why there is none.
pub fn ratio(
    ours: f64,
    theirs: &Option<Result<Figure, String>>,
    pick: fn(&Figure) -> f64,
) -> String {
    match theirs {
        Some(Ok(t)) => format!("{:.2}", ours / pick(t)),
        Some(Err(_)) => "failed".into(),
        None => "no torch".into(),
    }
}

/// A reference column: the value, or why there is none.
pub fn column(theirs: &Option<Result<Figure, String>>, pick: fn(&Figure) -> f64) -> String {
    match theirs {
        Some(Ok(t)) => format!("{:.2}", pick(t)),
        Some(Err(_)) => "failed".into(),
        None => "no torch".into(),
    }
}
