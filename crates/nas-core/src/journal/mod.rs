//! The trial journal: every trial event, durable across crashes.
//!
//! The runner appends events (a trial asked, a trial finished) and from time to time
//! flushes them together with the strategy's checkpoint in one transaction. Because the
//! checkpoint and the events are written atomically, a resumed search restores a strategy
//! that has seen exactly the journaled events: trials that were asked but not finished are
//! run again with the same id and seed, finished ones are never run twice.
//!
//! This module is storage-neutral: the trait, the state a journal holds and its errors.
//! Where journals live is a plugin kind ([`crate::storage`]): the SQLite files of
//! `nas-storage-sqlite` are the default, chosen by a URL's scheme.

mod diff;
pub mod events;

pub use diff::{check_continuation, check_joining, first_difference};

use crate::strategy::StrategyError;
use crate::trial::{Objective, Trial, TrialResult};

/// A journal that failed: where it is (a file, a storage URL without its password), and
/// what is wrong.
///
/// No variant names a database: a storage plugin turns its database's errors into
/// [`JournalError::Storage`] with the database's own message, so a second storage adds a
/// crate, not a variant.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// What is stored there is not a journal we may use: not a journal at all, another
    /// experiment's config, a format this program does not read.
    #[error("journal {location}: {reason}")]
    Invalid { location: String, reason: String },
    /// Another process writes this journal: two writers would interleave trial ids.
    #[error(
        "journal {location} is in use by {holder}: one experiment has one writer; wait for \
         that search to end or stop it (a stopped search is continued with --resume)"
    )]
    Locked { location: String, holder: String },
    /// The storage itself failed (a database error, a full disk, a lost connection), with
    /// its own message told once: a plain string, not a `source`, because database errors
    /// tend to repeat their message in their source chain, which a CLI printing causes
    /// would show several times.
    #[error("journal {location}: {reason}")]
    Storage { location: String, reason: String },
    /// A storage URL that names no registered storage, or that its storage cannot read.
    #[error("storage `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error(transparent)]
    Checkpoint(#[from] StrategyError),
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
    /// Every stored genotype typed by `space`'s decisions ([`Genotype::conform`]): what a
    /// reader with the space at hand does before using them.
    pub fn conform(&mut self, space: &dyn crate::SearchSpace) {
        let decisions = space.decisions();
        for r in &mut self.finished {
            r.trial.genotype.conform(decisions);
        }
        for t in &mut self.pending {
            t.genotype.conform(decisions);
        }
    }

    /// The id the next asked trial gets.
    pub fn next_id(&self) -> u64 {
        let last_finished = self.finished.last().map(|r| r.trial.id + 1).unwrap_or(0);
        let last_pending = self.pending.last().map(|t| t.id + 1).unwrap_or(0);
        last_finished.max(last_pending)
    }
}
