//! Finding a data set's folder: an explicit path, then `NAS_DATA_DIR`, then the standard
//! places, so a fresh machine with Debian's `dataset-fashion-mnist` works with no flags.

use super::DataError;
use std::path::{Path, PathBuf};

/// The environment variable naming a folder of data sets (`$NAS_DATA_DIR/<name>/`, or the
/// files directly inside it).
pub const DATA_DIR_ENV: &str = "NAS_DATA_DIR";

/// Where a data set named `name` is looked for, in order.
pub fn candidate_dirs(name: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = std::env::var_os(DATA_DIR_ENV) {
        let root = PathBuf::from(root);
        dirs.push(root.join(name));
        dirs.push(root);
    }
    dirs.push(PathBuf::from("data").join(name));
    dirs.push(PathBuf::from("../shared/data/datasets").join(name));
    dirs.push(PathBuf::from("/usr/share/datasets").join(name));
    dirs
}

fn has_idx(dir: &Path) -> bool {
    idx_file(dir, "train-images-idx3-ubyte").is_ok()
}

/// The folder holding `name`'s files: `explicit` when given (it must hold them), else the
/// first candidate that does.
///
/// # Errors
/// No folder found, naming every place looked at.
pub fn find_dir(name: &str, explicit: Option<&Path>) -> Result<PathBuf, DataError> {
    if let Some(dir) = explicit {
        if has_idx(dir) {
            return Ok(dir.to_path_buf());
        }
        let nested = dir.join(name);
        if has_idx(&nested) {
            return Ok(nested);
        }
        return Err(DataError::file(
            dir,
            format!("no {name} files here (expected train-images-idx3-ubyte[.gz] and the others)"),
        ));
    }
    let dirs = candidate_dirs(name);
    dirs.iter().find(|d| has_idx(d)).cloned().ok_or_else(|| {
        DataError::named(
            name,
            format!(
                "not found; looked in {}. Name its folder with `--set evaluator.data.data_dir=DIR` (`strategy.data.data_dir` for ENAS's shared weights) or the environment variable `${DATA_DIR_ENV}`{}",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if name == "fashion-mnist" {
                    ", or install Debian's dataset-fashion-mnist"
                } else {
                    ""
                }
            ),
        )
    })
}

/// `stem.gz` or `stem` in `dir`.
///
/// # Errors
/// Neither exists.
pub fn idx_file(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    let gz = dir.join(format!("{stem}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let raw = dir.join(stem);
    if raw.is_file() {
        return Ok(raw);
    }
    Err(DataError::file(
        &gz,
        format!("missing (nor {stem} uncompressed)"),
    ))
}
