//! Journals for testing one-shot methods' search-phase checkpoints: blobs in memory, and a
//! journal that fails after a given blob as a killed process would leave it.

use crate::journal::{Journal, JournalError};
use crate::strategy::StrategyError;
use crate::{Trial, TrialResult};
use std::collections::HashMap;

/// A journal in memory that keeps blobs only: a one-shot method's search-phase
/// checkpoints, without a database.
#[derive(Debug, Default)]
pub struct Blobs(pub HashMap<String, Vec<u8>>);

impl Journal for Blobs {
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
    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), JournalError> {
        self.0.insert(key.to_string(), bytes.to_vec());
        Ok(())
    }
    fn load_blob(&mut self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        Ok(self.0.get(key).cloned())
    }
}

/// A kill in a search phase: forwards everything to `inner`, and fails right after the
/// `after`-th blob is saved, as a process killed at that moment would leave the journal.
#[allow(missing_debug_implementations)] // Holds a `dyn Journal`.
pub struct KilledAfter<'a> {
    pub inner: &'a mut dyn Journal,
    /// The blob after whose save the journal fails (1 for the first).
    pub after: usize,
    /// Blobs saved so far; 0 to start.
    pub saved: usize,
}

impl Journal for KilledAfter<'_> {
    fn asked(&mut self, t: &Trial) -> Result<(), JournalError> {
        self.inner.asked(t)
    }
    fn finished(&mut self, r: &TrialResult) -> Result<(), JournalError> {
        self.inner.finished(r)
    }
    fn wants_flush(&self) -> bool {
        self.inner.wants_flush()
    }
    fn flush(
        &mut self,
        c: &mut dyn FnMut() -> Result<serde_json::Value, StrategyError>,
    ) -> Result<(), JournalError> {
        self.inner.flush(c)
    }
    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), JournalError> {
        self.inner.save_blob(key, bytes)?;
        self.saved += 1;
        if self.saved == self.after {
            return Err(JournalError::Invalid {
                location: "test".into(),
                reason: format!("killed after blob {}", self.saved),
            });
        }
        Ok(())
    }
    fn load_blob(&mut self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        self.inner.load_blob(key)
    }
}
