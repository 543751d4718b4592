//! The default journal: one SQLite file per experiment (bundled SQLite, nothing to install).
//!
//! Tables: `meta` (format version, config), `events` (one row per trial event, append
//! only; `UNIQUE(trial_id, kind)` makes a trial finishing twice impossible), `checkpoint`
//! (one row: the strategy state as of the last flush), `blobs` (a method's own state by
//! key, such as a supernet, each written in its own transaction). The view `trials` joins them for
//! people who open the file with `sqlite3`. WAL mode with `synchronous = NORMAL`: a
//! killed process loses nothing that was flushed; a power cut may lose the last flush.

use crate::file::{
    APPLICATION_ID, create, folder_is_read_only, inspect, invalid, open_in_place,
    open_where_unwritable, sqlite_err,
};
use crate::lock::WriterLock;
use nas_core::journal::events::{PendingEvents, Replay, check_checkpoint};
use nas_core::journal::{Journal, JournalError, JournalState, check_continuation};
use nas_core::strategy::StrategyError;
use nas_core::trial::{Objective, Trial, TrialResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

const FORMAT_VERSION: &str = "1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    trial_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('asked', 'finished')),
    data TEXT NOT NULL,
    UNIQUE (trial_id, kind)
);
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    asked INTEGER NOT NULL,
    finished INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE VIEW IF NOT EXISTS trials AS
SELECT a.trial_id AS id,
       json_extract(a.data, '$.arch') AS arch,
       coalesce(json_extract(f.data, '$.outcome.state'), 'running') AS state,
       json_extract(f.data, '$.outcome.metrics') AS metrics,
       json_extract(f.data, '$.outcome.reason') AS reason
FROM events a LEFT JOIN events f ON f.trial_id = a.trial_id AND f.kind = 'finished'
WHERE a.kind = 'asked';
";

/// A journal in one SQLite file.
pub struct SqliteJournal {
    path: PathBuf,
    conn: Connection,
    pending: PendingEvents,
    render: Box<dyn Fn(&Trial) -> String + Send>,
    /// Declared after `conn`, so the connection closes (and checkpoints) before another
    /// writer may open the file.
    _lock: WriterLock,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournal")
            .field("path", &self.path)
            .field("pending", &self.pending.rows.len())
            .finish()
    }
}

impl SqliteJournal {
    fn invalid(&self, reason: impl Into<String>) -> JournalError {
        invalid(&self.path, reason)
    }

    /// Reads an existing journal without writing anything, for `nas show` and `--resume`:
    /// also in a read-only folder (an archive, a shared copy), and while a search writes it.
    ///
    /// # Errors
    /// A missing file, a file that is not a journal.
    pub fn read(path: &Path) -> Result<JournalState, JournalError> {
        if !inspect(path)? {
            return Err(invalid(path, "no such file"));
        }
        if !folder_is_read_only(path)
            && let Some(conn) = open_in_place(path)?
        {
            // One read transaction: a search may be writing, and the checkpoint and the
            // events must come from the same snapshot, or they disagree by a trial.
            let snapshot = conn.unchecked_transaction().map_err(sqlite_err(path))?;
            return load_existing(&snapshot, path);
        }
        let (conn, copy) = open_where_unwritable(path)?;
        let state = load_existing(&conn, path);
        drop(conn);
        drop(copy);
        state
    }

    /// Who writes the journal at `path` now (`process 123 (nas) on host`), if a search
    /// does: its unfinished trials are then in flight, not waiting for a resume.
    pub fn writer(path: &Path) -> Option<String> {
        WriterLock::holder(path)
    }

    /// Opens or creates the journal of an experiment, as its only writer.
    ///
    /// Returns the journal and, when the file already held this experiment, its state.
    /// `render` turns a trial's genotype into the space's string, stored for people.
    ///
    /// # Errors
    /// Another process writing it ([`JournalError::Locked`]); a file that is not a journal
    /// (left as it is); a journal of an experiment whose config differs in more than its
    /// budget and name (the message names the first differing field).
    pub fn open(
        path: &Path,
        config: &serde_json::Value,
        render: Box<dyn Fn(&Trial) -> String + Send>,
    ) -> Result<(Self, Option<JournalState>), JournalError> {
        // Checked before the lock file is made beside it: a foreign file is left alone.
        inspect(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                invalid(path, format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        let lock = WriterLock::acquire(path)?;
        let existed = inspect(path)?;
        if !existed {
            create(path, |tx| {
                tx.execute_batch(SCHEMA)?;
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('format', ?1), ('config', ?2)",
                    params![FORMAT_VERSION, config.to_string()],
                )?;
                Ok(())
            })?;
        }
        let err = sqlite_err(path);
        let conn = Connection::open(path).map_err(&err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(&err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&err)?;
        let mut journal = SqliteJournal {
            path: path.to_path_buf(),
            conn,
            pending: PendingEvents::new(0, 0),
            render,
            _lock: lock,
        };
        if !existed {
            return Ok((journal, None));
        }
        journal.upgrade()?;
        let state = load_existing(&journal.conn, path)?;
        journal.continue_with(&state, config)?;
        Ok((journal, Some(state)))
    }

    /// Brings a journal of an earlier version up to this one: the tables it lacks, and the
    /// application id that marks the file as ours.
    fn upgrade(&mut self) -> Result<(), JournalError> {
        let err = sqlite_err(&self.path);
        self.conn.execute_batch(SCHEMA).map_err(&err)?;
        let id: u32 = self
            .conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(&err)?;
        if id != APPLICATION_ID {
            self.conn
                .pragma_update(None, "application_id", APPLICATION_ID)
                .map_err(&err)?;
        }
        Ok(())
    }

    /// Checks that `config` may continue the stored experiment and stores it (its budget or
    /// name may differ: a search extended, a journal copied under another name).
    fn continue_with(
        &mut self,
        state: &JournalState,
        config: &serde_json::Value,
    ) -> Result<(), JournalError> {
        check_continuation(&self.path.display().to_string(), &state.config, config)?;
        if &state.config != config {
            self.conn
                .execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'config'",
                    [config.to_string()],
                )
                .map_err(sqlite_err(&self.path))?;
        }
        let finished = state.finished.len() as u64;
        self.pending = PendingEvents::new(finished + state.pending.len() as u64, finished);
        Ok(())
    }

    /// Stores the objectives the experiment resolved, so that showing the journal needs
    /// no evaluator (building one may load data sets).
    ///
    /// # Errors
    /// The journal cannot be written.
    pub fn record_objectives(&mut self, objectives: &[Objective]) -> Result<(), JournalError> {
        let text = serde_json::to_string(objectives).map_err(|e| self.invalid(e.to_string()))?;
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('objectives', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = ?1",
                [text],
            )
            .map_err(sqlite_err(&self.path))?;
        Ok(())
    }
}

/// The state of a journal that must hold an experiment.
fn load_existing(conn: &Connection, path: &Path) -> Result<JournalState, JournalError> {
    load(conn, path)?.ok_or_else(|| invalid(path, "not a journal: it holds no experiment"))
}

/// Reads the whole state; `None` for a file with no experiment in it.
fn load(conn: &Connection, path: &Path) -> Result<Option<JournalState>, JournalError> {
    let err = sqlite_err(path);
    let has_meta: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(&err)?
        > 0;
    if !has_meta {
        return Ok(None);
    }
    let get_meta = |key: &str| -> Result<Option<String>, JournalError> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(&err)
    };
    let Some(config) = get_meta("config")? else {
        return Ok(None);
    };
    match get_meta("format")?.as_deref() {
        Some(FORMAT_VERSION) => {}
        other => {
            return Err(invalid(
                path,
                format!("journal format {other:?}, this program reads {FORMAT_VERSION}"),
            ));
        }
    }
    let config: serde_json::Value = serde_json::from_str(&config)
        .map_err(|e| invalid(path, format!("stored config is not JSON: {e}")))?;
    let objectives = match get_meta("objectives")? {
        Some(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| invalid(path, format!("stored objectives: {e}")))?,
        ),
        None => None,
    };
    let checkpoint: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT state, asked, finished FROM checkpoint WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(&err)?;
    let (finished, pending) = load_events(conn, path)?;
    let state = JournalState {
        config,
        checkpoint: match &checkpoint {
            Some((text, _, _)) => Some(
                serde_json::from_str(text)
                    .map_err(|e| invalid(path, format!("stored checkpoint is not JSON: {e}")))?,
            ),
            None => None,
        },
        finished,
        pending,
        objectives,
    };
    check_checkpoint(
        checkpoint.map(|(_, a, f)| (a, f)),
        state.finished.len(),
        state.pending.len(),
    )
    .map_err(|reason| invalid(path, reason))?;
    Ok(Some(state))
}

/// The finished trials and the trials asked but not finished, each in id order.
fn load_events(
    conn: &Connection,
    path: &Path,
) -> Result<(Vec<TrialResult>, Vec<Trial>), JournalError> {
    let err = sqlite_err(path);
    let mut replay = Replay::default();
    let mut statement = conn
        .prepare("SELECT trial_id, kind, data FROM events ORDER BY trial_id, kind")
        .map_err(&err)?;
    let mut rows = statement.query([]).map_err(&err)?;
    while let Some(row) = rows.next().map_err(&err)? {
        let id: i64 = row.get(0).map_err(&err)?;
        let kind: String = row.get(1).map_err(&err)?;
        let data: String = row.get(2).map_err(&err)?;
        replay
            .push(id as u64, &kind, &data)
            .map_err(|reason| invalid(path, reason))?;
    }
    Ok(replay.trials())
}

impl Journal for SqliteJournal {
    fn asked(&mut self, trial: &Trial) -> Result<(), JournalError> {
        let arch = (self.render)(trial);
        self.pending
            .asked(trial, arch)
            .map_err(|e| self.invalid(e.to_string()))
    }

    fn finished(&mut self, result: &TrialResult) -> Result<(), JournalError> {
        self.pending
            .finished(result)
            .map_err(|e| self.invalid(e.to_string()))
    }

    fn wants_flush(&self) -> bool {
        self.pending.wants_flush()
    }

    fn flush(
        &mut self,
        checkpoint: &mut dyn FnMut() -> Result<serde_json::Value, StrategyError>,
    ) -> Result<(), JournalError> {
        if self.pending.rows.is_empty() {
            return Ok(());
        }
        let state = checkpoint()?.to_string();
        let err = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO events (trial_id, kind, data) VALUES (?1, ?2, ?3)")
                .map_err(&err)?;
            for (id, kind, data) in &self.pending.rows {
                insert
                    .execute(params![*id as i64, kind, data])
                    .map_err(&err)?;
            }
            tx.execute(
                "INSERT INTO checkpoint (id, state, asked, finished) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET state = ?1, asked = ?2, finished = ?3",
                params![
                    state,
                    self.pending.asked as i64,
                    self.pending.finished as i64
                ],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)?;
        self.pending.written();
        Ok(())
    }

    fn save_blob(&mut self, key: &str, bytes: &[u8]) -> Result<(), JournalError> {
        let err = sqlite_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute(
            "INSERT INTO blobs (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, bytes],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }

    fn load_blob(&mut self, key: &str) -> Result<Option<Vec<u8>>, JournalError> {
        self.conn
            .query_row("SELECT value FROM blobs WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sqlite_err(&self.path))
    }
}
