//! The throwaway PostgreSQL server of `cargo xtask test`: the storage tests need a real
//! server, and a fresh machine has none running. `scripts/postgres-throwaway.sh` installs
//! Debian's package if needed and starts a cluster on loopback; this starts it before the
//! tests and stops it after, unless `NAS_TEST_POSTGRES_URL` already names a server.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A started server, stopped when dropped.
#[derive(Debug)]
pub struct Throwaway {
    script: PathBuf,
    dir: PathBuf,
    pub url: String,
}

impl Throwaway {
    /// Starts one in `dir` with the script under `root`.
    ///
    /// # Errors
    /// The script failed (its output is in the message).
    pub fn start(root: &Path, dir: &Path) -> Result<Self> {
        let script = root.join("scripts/postgres-throwaway.sh");
        let out = Command::new(&script)
            .arg("start")
            .arg(dir)
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{} start failed ({}): {}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(Throwaway {
            script,
            dir: dir.to_path_buf(),
            url,
        })
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}
