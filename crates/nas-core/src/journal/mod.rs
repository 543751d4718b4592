//! The trial journal: every trial event, durable across crashes.
//!
//! The runner appends events (a trial asked, a trial finished) and from time to time
//! flushes them together with the strategy's checkpoint in one transaction. Because the
//! checkpoint and the events are written atomically, a resumed search restores a strategy
//! that has seen exactly the journaled events: trials that were asked but not finished are
//! run again with the same id and seed, finished ones are never run twice.

mod diff;
mod file;
mod lock;
mod sqlite;

pub use sqlite::SqliteJournal;

use crate::strategy::StrategyError;
use crate::trial::{Objective, Trial, TrialResult};

/// A journal that failed: the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: {reason}")]
    Invalid { path: String, reason: String },
    /// Another process writes this journal: two writers would interleave trial ids.
    #[error(
        "journal {path} is in use by {holder}: one experiment has one writer; wait for that \
         search to end or stop it (a stopped search is continued with --resume)"
    )]
    Locked { path: String, holder: String },
    /// SQLite's own error. Its message is printed once: rusqlite's error repeats its
    /// message in its `source` chain, which a CLI that prints causes would show three
    /// times, so it is kept as a plain field, not a source.
    #[error("journal {path}: {}", sqlite_message(error))]
    Sqlite {
        path: String,
        error: rusqlite::Error,
    },
    #[error(transparent)]
    Checkpoint(#[from] StrategyError),
}

/// SQLite's message for an error, without the code rusqlite adds as its source.
fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// Where a search writes its events.
pub trait Journal {
    fn asked(&mut self, trial: &Trial) -> Result<(), JournalError>;
    fn finished(&mut self, result: &TrialResult) -> Result<(), JournalError>;
    /// `true` when enough events are pending that they should be written now.
    fn wants_flush(&self) -> bool;
    /// Writes pending events and the strategy checkpoint in one transaction.
    ///
    /// `checkpoint` is called only when there is something to write.
    fn flush(
        &mut self,
        checkpoint: &mut dyn FnMut() -> Result<serde_json::Value, StrategyError>,
    ) -> Result<(), JournalError>;
    /// Stores a method's own state under `key` (a one-shot method's supernet at an epoch
    /// boundary), replacing the last value, durably when this returns.
    ///
    /// Blobs live beside the trial events, not in the strategy checkpoint: a supernet is
    /// megabytes, written once an epoch, while checkpoints are written every 50 ms.
    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), JournalError> {
        let _ = (key, bytes);
        Ok(())
    }
    /// The last value stored under `key`.
    fn load_blob(&mut self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        let _ = key;
        Ok(None)
    }
}

/// A journal that keeps nothing: for benchmarks that measure the search alone.
#[derive(Debug, Default)]
pub struct NullJournal;

impl Journal for NullJournal {
    fn asked(&mut self, _: &Trial) -> Result<(), JournalError> {
        Ok(())
    }
    fn finished(&mut self, _: &TrialResult) -> Result<(), JournalError> {
        Ok(())
    }
    fn wants_flush(&self) -> bool {
        false
    }
    fn flush(
        &mut self,
        _: &mut dyn FnMut() -> Result<serde_json::Value, StrategyError>,
    ) -> Result<(), JournalError> {
        Ok(())
    }
}

/// What a journal holds: enough to show an experiment or resume it.
#[derive(Debug, Clone)]
pub struct JournalState {
    /// The experiment config, as JSON.
    pub config: serde_json::Value,
    /// The strategy checkpoint written with the last flush, if any.
    pub checkpoint: Option<serde_json::Value>,
    /// Finished trials, in trial-id order.
    pub finished: Vec<TrialResult>,
    /// Trials asked but not finished, in trial-id order.
    pub pending: Vec<Trial>,
    /// The objectives as the experiment resolved them when it ran (journals written
    /// before they were stored have `None`): showing a journal then needs no evaluator.
    pub objectives: Option<Vec<Objective>>,
}

impl JournalState {
    /// The id the next asked trial gets.
    pub fn next_id(&self) -> u64 {
        let last_finished = self.finished.last().map(|r| r.trial.id + 1).unwrap_or(0);
        let last_pending = self.pending.last().map(|t| t.id + 1).unwrap_or(0);
        last_finished.max(last_pending)
    }
}
