//! One writer per journal: an OS advisory lock on `<journal>.lock`, held while the journal
//! is open for writing.
//!
//! Two processes appending to one journal interleave their trial ids and the first one to
//! collide dies on `UNIQUE(trial_id, kind)`: the second must be refused before it writes
//! anything. The lock is the operating system's (`flock` on Unix, `LockFileEx` on
//! Windows), so it vanishes with a killed process and a stale holder never blocks a
//! resume. The file holds the holder's pid and host, for the refusal message. It is left
//! in place when the journal closes: deleting it would let a process that opened it just
//! before the deletion lock a file nobody else sees.

use nas_core::journal::JournalError;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many times a writer retries a lock held by someone else before it gives up, and how
/// long it waits between tries: a reader (`nas show`) takes the lock shared for a moment
/// to learn whether a search is running, and must not make a starting search fail.
const TRIES: u32 = 5;
const RETRY_AFTER: Duration = Duration::from_millis(20);

/// The exclusive lock of a journal's writer; released when dropped (or the process dies).
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

/// `<journal>.lock`, beside the journal.
fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// What the holder wrote into the lock file, or a placeholder while it has not yet.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    match file.read_to_string(&mut text) {
        Ok(_) if !text.trim().is_empty() => text.trim().to_string(),
        _ => "another process".into(),
    }
}

impl WriterLock {
    /// Takes the writer's lock of `journal`, or says which process holds it.
    ///
    /// # Errors
    /// [`JournalError::Locked`] when another process holds it; [`JournalError::Invalid`]
    /// when the lock file cannot be created or locked (a read-only folder, a file system
    /// without locks).
    pub(crate) fn acquire(journal: &Path) -> Result<Self, JournalError> {
        let path = lock_path(journal);
        let invalid = |reason: String| JournalError::Invalid {
            location: journal.display().to_string(),
            reason,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| invalid(format!("cannot open the lock file {}: {e}", path.display())))?;
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if tries + 1 < TRIES => {
                    tries += 1;
                    std::thread::sleep(RETRY_AFTER);
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(JournalError::Locked {
                        location: journal.display().to_string(),
                        holder: read_holder(&mut file),
                    });
                }
                Err(TryLockError::Error(e)) => {
                    return Err(invalid(format!("cannot lock {}: {e}", path.display())));
                }
            }
        }
        let written = file
            .set_len(0)
            .and_then(|()| file.write_all(nas_core::storage::this_process().as_bytes()));
        written.map_err(|e| {
            invalid(format!(
                "cannot write the lock file {}: {e}",
                path.display()
            ))
        })?;
        Ok(WriterLock { _file: file })
    }

    /// Who holds the writer's lock of `journal` now, if anyone: a search is running.
    ///
    /// Never fails: a lock file that cannot be read means nobody is known to write.
    pub(crate) fn holder(journal: &Path) -> Option<String> {
        let mut file = File::open(lock_path(journal)).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(TryLockError::WouldBlock) => Some(read_holder(&mut file)),
            Err(TryLockError::Error(_)) => None,
        }
    }
}
