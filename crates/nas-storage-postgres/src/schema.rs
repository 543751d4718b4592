//! The tables, created by the framework and versioned in `nas_schema`.
//!
//! A writer creates them on first use, inside a transaction holding a transaction-level
//! advisory lock, so two processes starting on an empty database do not race. A database
//! whose recorded version is newer than [`SCHEMA_VERSION`] was written by a newer version
//! of the framework, whose tables this one may misread: it is refused, and nothing is
//! written. Readers never create anything.

use crate::url::{Target, describe};
use nas_core::journal::JournalError;
use postgres::Client;

/// The version of the tables this program writes and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// Serializes schema creation across processes (any constant unlikely to clash).
const SCHEMA_LOCK: i64 = 0x6e61_735f_7363_6865;

/// Version 1: one writer per experiment.
const VERSION_1: &str = "
CREATE TABLE nas_schema (version INTEGER NOT NULL);
CREATE TABLE nas_experiments (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    objectives TEXT,
    checkpoint TEXT,
    checkpoint_asked BIGINT,
    checkpoint_finished BIGINT,
    writer TEXT
);
CREATE TABLE nas_events (
    experiment TEXT NOT NULL REFERENCES nas_experiments (name) ON DELETE CASCADE,
    trial_id BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('asked', 'finished')),
    data TEXT NOT NULL,
    PRIMARY KEY (experiment, trial_id, kind)
);
CREATE TABLE nas_blobs (
    experiment TEXT NOT NULL REFERENCES nas_experiments (name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (experiment, key)
);
CREATE VIEW nas_trials AS
SELECT a.experiment, a.trial_id AS id,
       a.data::json ->> 'arch' AS arch,
       coalesce(f.data::json -> 'outcome' ->> 'state', 'running') AS state,
       f.data::json -> 'outcome' -> 'metrics' AS metrics
FROM nas_events a
LEFT JOIN nas_events f
  ON f.experiment = a.experiment AND f.trial_id = a.trial_id AND f.kind = 'finished'
WHERE a.kind = 'asked';
";

/// Version 2: experiments shared by workers (`queue.rs`). An experiment is run by one
/// process (`journal`) or by workers; the checkpoint has a version, so that a worker whose
/// strategy is in the stored state skips restoring it, and the simulated seconds it
/// covers, for the budget; the trials in flight hold leases. The checkpoint is stored
/// uncompressed: workers rewrite it at every ask, and compressing it cost the server a
/// quarter of its time (8 workers, 2,000 trials: 4.3 s of CPU instead of 5.9 s).
const VERSION_2: &str = "
ALTER TABLE nas_experiments
    ADD COLUMN mode TEXT NOT NULL DEFAULT 'journal' CHECK (mode IN ('journal', 'workers')),
    ADD COLUMN checkpoint_version BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN checkpoint_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    ALTER COLUMN checkpoint SET STORAGE EXTERNAL;
CREATE TABLE nas_leases (
    experiment TEXT NOT NULL REFERENCES nas_experiments (name) ON DELETE CASCADE,
    trial_id BIGINT NOT NULL,
    worker TEXT NOT NULL,
    expires TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (experiment, trial_id)
);
";

/// The statements that bring version `i` (the index) to version `i + 1`.
const MIGRATIONS: [&str; 2] = [VERSION_1, VERSION_2];

/// A storage error at `target` from the database.
pub(crate) fn db_err(target: &Target) -> impl Fn(postgres::Error) -> JournalError + '_ {
    move |e| JournalError::Storage {
        location: target.location(),
        reason: describe(&e),
    }
}

/// The recorded version, `None` where no table of ours exists.
pub(crate) fn version(client: &mut Client, target: &Target) -> Result<Option<i32>, JournalError> {
    let err = db_err(target);
    let exists: bool = client
        .query_one("SELECT to_regclass('nas_schema') IS NOT NULL", &[])
        .map_err(&err)?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_opt("SELECT max(version) FROM nas_schema", &[])
        .map_err(&err)?;
    Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)))
}

/// Refuses a schema newer than this program's.
pub(crate) fn check_version(found: i32, target: &Target) -> Result<(), JournalError> {
    if found > SCHEMA_VERSION {
        return Err(JournalError::Invalid {
            location: target.location(),
            reason: format!(
                "the database holds nas schema version {found}, written by a newer version of \
                 this framework; this one reads version {SCHEMA_VERSION}: upgrade it, or use \
                 another database"
            ),
        });
    }
    Ok(())
}

/// Creates the tables where there are none, brings an older version up to this one, and
/// refuses a newer one.
pub(crate) fn ensure(client: &mut Client, target: &Target) -> Result<(), JournalError> {
    let err = db_err(target);
    let mut tx = client.transaction().map_err(&err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(&err)?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('nas_schema') IS NOT NULL", &[])
        .map_err(&err)?
        .get(0);
    let found = if exists {
        let found: Option<i32> = tx
            .query_one("SELECT max(version) FROM nas_schema", &[])
            .map_err(&err)?
            .get(0);
        let found = found.unwrap_or(0);
        check_version(found, target)?;
        found
    } else {
        0
    };
    if found == SCHEMA_VERSION {
        return tx.commit().map_err(&err);
    }
    for step in &MIGRATIONS[found.max(0) as usize..] {
        tx.batch_execute(step).map_err(&err)?;
    }
    tx.execute("DELETE FROM nas_schema", &[]).map_err(&err)?;
    tx.execute(
        "INSERT INTO nas_schema (version) VALUES ($1)",
        &[&SCHEMA_VERSION],
    )
    .map_err(&err)?;
    tx.commit().map_err(&err)
}
