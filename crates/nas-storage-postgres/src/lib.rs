//! Journals in a PostgreSQL database, registered under the `postgresql:` (and `postgres:`)
//! scheme: `postgresql://user[:password]@host[:port]/database[?experiment=NAME]`.
//!
//! One database holds many experiments, each a row of `nas_experiments` with its trial
//! events in `nas_events` and its blobs in `nas_blobs`; the framework creates the tables
//! and records their version in `nas_schema` (`schema.rs`), and refuses a database whose
//! schema a newer version of it wrote. A search opening an experiment names it by its
//! config's `name` (or `?experiment=` in the URL); reading one (`nas show URL`) needs the
//! `?experiment=` parameter. One writer per experiment, as with SQLite: a session-level
//! advisory lock that PostgreSQL releases when the writer's connection ends, so a killed
//! search never leaves a stale lock.
//!
//! The password of a URL never reaches a message: errors name the URL as
//! [`StorageUrl`] displays it (`postgresql://ada:***@host/db`), and the database's own
//! messages do not repeat connection strings. Connecting gives up after
//! [`CONNECT_TIMEOUT_S`] seconds, so an unreachable server is an error, not a hang.
//!
//! - `url.rs`: the experiment parameter and the connection.
//! - `schema.rs`: the tables and their version.
//! - `journal.rs`: [`PostgresJournal`], writing, reading, the writer lock.
//! - `queue.rs`: [`PostgresQueue`], an experiment shared by workers (`nas worker`).

mod journal;
mod queue;
mod schema;
pub mod test_server;
mod url;

pub use journal::PostgresJournal;
pub use queue::PostgresQueue;
pub use schema::SCHEMA_VERSION;
pub use url::{CONNECT_TIMEOUT_S, Target};

use nas_core::journal::{JournalError, JournalState};
use nas_core::queue::{TrialQueue, WorkerIdentity};
use nas_core::storage::{JournalRequest, OpenedJournal, StoragePlugin, StorageUrl};

/// The scheme this storage is registered under (`postgres` works too).
pub const SCHEME: &str = "postgresql";

fn open(url: &StorageUrl, request: JournalRequest<'_>) -> Result<OpenedJournal, JournalError> {
    let target = Target::for_writing(url, request.config)?;
    let (journal, state) = PostgresJournal::open(&target, request)?;
    Ok((Box::new(journal), state))
}

fn read(url: &StorageUrl) -> Result<JournalState, JournalError> {
    PostgresJournal::read(&Target::for_reading(url)?)
}

fn queue(
    url: &StorageUrl,
    name: Option<&str>,
    identity: WorkerIdentity,
) -> Result<Box<dyn TrialQueue>, JournalError> {
    Ok(Box::new(PostgresQueue::open(
        &Target::named(url, name)?,
        identity,
    )?))
}

fn writer(url: &StorageUrl) -> Option<String> {
    PostgresJournal::writer(&Target::for_reading(url).ok()?)
}

inventory::submit! {
    StoragePlugin {
        scheme: SCHEME,
        summary: "experiments in a PostgreSQL database, \
                  `postgresql://user@host/db?experiment=NAME`",
        open,
        read,
        writer,
        queue: Some(queue),
    }
}

inventory::submit! {
    StoragePlugin {
        scheme: "postgres",
        summary: "an alias of `postgresql:`",
        open,
        read,
        writer,
        queue: Some(queue),
    }
}
