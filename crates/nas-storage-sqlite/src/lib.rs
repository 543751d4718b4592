//! The default storage of journals: one SQLite file per experiment, registered under the
//! `sqlite:` scheme (`sqlite:runs/x.sqlite`).
//!
//! SQLite is bundled (nothing to install), a journal is a file people can copy, archive
//! and open with `sqlite3` (the `trials` view), and its transactions make a flush atomic.
//! It lives in its own crate so that a crate that depends on `nas-core` alone (a
//! third-party strategy) compiles no SQLite, and so that another storage is one more
//! crate beside this one. A program that runs searches links it once
//! (`use nas_storage_sqlite as _;`): `Experiment::run_in` and the `nas` binary's default
//! journals go through it.
//!
//! - `journal.rs`: [`SqliteJournal`], the tables, flushing, reading, resuming.
//! - `lock.rs`: one writer per journal, an OS lock on `<journal>.lock`.
//! - `file.rs`: what lies at a journal's path, checked before anything is written, and
//!   reading where nothing may be written.

mod file;
mod journal;
mod lock;

pub use journal::SqliteJournal;

use nas_core::journal::{JournalError, JournalState};
use nas_core::storage::{JournalRequest, OpenedJournal, StoragePlugin, StorageUrl};
use std::path::PathBuf;

/// The scheme this storage is registered under.
pub const SCHEME: &str = "sqlite";

/// The file a `sqlite:PATH` URL names: PATH as written, relative to the working folder
/// unless absolute.
///
/// # Errors
/// `sqlite://...`: other tools read `//` as the start of a host, and taking it for a path
/// would put the journal somewhere the user did not mean, so it is refused with the forms
/// that are meant.
pub fn path_of(url: &StorageUrl) -> Result<PathBuf, JournalError> {
    let location = url.location();
    if location.starts_with("//") {
        return Err(JournalError::Url {
            url: url.to_string(),
            reason: format!(
                "an SQLite journal is a file, not a host: write `{SCHEME}:PATH` \
                 (`{SCHEME}:runs/x.sqlite`, or `{SCHEME}:/abs/x.sqlite` for an absolute path)"
            ),
        });
    }
    Ok(PathBuf::from(location))
}

/// Opens the journal file for writing and stores the resolved objectives in it.
fn open(url: &StorageUrl, request: JournalRequest<'_>) -> Result<OpenedJournal, JournalError> {
    let (mut journal, state) = SqliteJournal::open(&path_of(url)?, request.config, request.render)?;
    journal.record_objectives(request.objectives)?;
    Ok((Box::new(journal), state))
}

fn read(url: &StorageUrl) -> Result<JournalState, JournalError> {
    SqliteJournal::read(&path_of(url)?)
}

fn writer(url: &StorageUrl) -> Option<String> {
    SqliteJournal::writer(&path_of(url).ok()?)
}

inventory::submit! {
    StoragePlugin {
        scheme: SCHEME,
        summary: "one SQLite file per experiment, `sqlite:PATH` (the default: \
                  `sqlite:<dir>/<name>.sqlite`)",
        open,
        read,
        writer,
        queue: None,
    }
}
