//! What lies at a journal's path, checked before anything is written to it, and how to
//! read a journal where nothing may be written.
//!
//! SQLite changes a file as soon as it is opened for writing (a journal mode, tables), so
//! a file that is not ours must be recognized first, from its header and read-only, and
//! left byte-identical. New journals carry [`APPLICATION_ID`] in their header; journals of
//! earlier versions, which have none, are recognized by their tables.

use nas_core::journal::JournalError;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `PRAGMA application_id` of our journals: "NASJ".
pub(crate) const APPLICATION_ID: u32 = 0x4e41_534a;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Where the application id lies in an SQLite header (big-endian).
const APPLICATION_ID_AT: usize = 68;
const HEADER_BYTES: usize = 100;

pub(crate) fn invalid(path: &Path, reason: impl Into<String>) -> JournalError {
    JournalError::Invalid {
        location: path.display().to_string(),
        reason: reason.into(),
    }
}

/// Maps an SQLite error on `path`; a file that is not a database says so plainly.
///
/// Any other error becomes [`JournalError::Storage`] with SQLite's message once:
/// rusqlite's error repeats its message in its `source` chain, which a CLI that prints
/// causes would show three times.
pub(crate) fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |error| match &error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::NotADatabase => {
            invalid(path, "not a journal: the file is not an SQLite database")
        }
        _ => JournalError::Storage {
            location: path.display().to_string(),
            reason: sqlite_message(&error),
        },
    }
}

/// SQLite's message for an error, without the code rusqlite adds as its source.
fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        other => other.to_string(),
    }
}

/// `<journal>-wal` or another file beside the journal named by a suffix.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `true` when the journal's write-ahead log holds frames its main file lacks.
fn has_wal_frames(path: &Path) -> bool {
    std::fs::metadata(with_suffix(path, "-wal")).is_ok_and(|m| m.len() > 0)
}

/// `Ok(false)` when nothing is at `path`, `Ok(true)` when a journal of ours is.
///
/// # Errors
/// Anything else (an empty file, a file that is not SQLite, another program's
/// database), without having written to it.
pub(crate) fn inspect(path: &Path) -> Result<bool, JournalError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(invalid(path, format!("cannot read it: {e}"))),
        Ok(m) if !m.is_file() => return Err(invalid(path, "not a journal: not a file")),
        Ok(m) if m.len() == 0 => {
            return Err(invalid(
                path,
                "not a journal: the file is empty (it was left as it is)",
            ));
        }
        Ok(_) => {}
    }
    let mut header = Vec::with_capacity(HEADER_BYTES);
    std::fs::File::open(path)
        .and_then(|f| f.take(HEADER_BYTES as u64).read_to_end(&mut header))
        .map_err(|e| invalid(path, format!("cannot read it: {e}")))?;
    if header.len() < HEADER_BYTES || !header.starts_with(SQLITE_MAGIC) {
        return Err(invalid(
            path,
            "not a journal: the file is not an SQLite database",
        ));
    }
    let mut id = [0u8; 4];
    id.copy_from_slice(&header[APPLICATION_ID_AT..APPLICATION_ID_AT + 4]);
    match u32::from_be_bytes(id) {
        APPLICATION_ID => Ok(true),
        0 => recognize_by_tables(path),
        other => Err(invalid(
            path,
            format!(
                "not a journal: an SQLite database of another program (application id \
                 {other:#010x}); it was left as it is"
            ),
        )),
    }
}

/// A database without an application id: a journal of an earlier version when it has a
/// journal's tables and meta data.
fn recognize_by_tables(path: &Path) -> Result<bool, JournalError> {
    // Immutable: no lock, no `-shm`, nothing created beside another program's file.
    if let Ok(conn) = open_immutable(path)
        && let Ok((true, _)) = journal_tables(&conn)
    {
        return Ok(true);
    }
    let tables = if has_wal_frames(path) {
        // The tables may be in the log only (a journal killed before its first checkpoint).
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite_err(path))?;
        journal_tables(&conn).map_err(sqlite_err(path))?
    } else {
        let conn = open_immutable(path).map_err(sqlite_err(path))?;
        journal_tables(&conn).map_err(sqlite_err(path))?
    };
    match tables {
        (true, _) => Ok(true),
        (false, names) => Err(invalid(
            path,
            format!(
                "not a journal: an SQLite database with other tables ({}); it was left as it is",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        )),
    }
}

/// Whether the database has a journal's tables with its format and config, and the
/// names of its tables.
fn journal_tables(conn: &Connection) -> rusqlite::Result<(bool, Vec<String>)> {
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let ours = ["meta", "events", "checkpoint"]
        .iter()
        .all(|t| names.iter().any(|n| n == t))
        && conn.query_row(
            "SELECT count(*) FROM meta WHERE key IN ('format', 'config')",
            [],
            |r| r.get::<_, i64>(0),
        )? == 2;
    names.truncate(8);
    Ok((ours, names))
}

/// Opens a database as immutable: SQLite reads the main file and nothing else, takes no
/// lock and creates no file. Right only when no write-ahead log holds frames.
fn open_immutable(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        file_uri(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// `file:<path>?immutable=1`, the path percent-encoded.
fn file_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes: Vec<u8> = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes: Vec<u8> = path.to_string_lossy().replace('\\', "/").into_bytes();
    // An absolute path gets an empty authority: `file:///tmp/x`.
    let mut uri = String::from(if bytes.first() == Some(&b'/') {
        "file://"
    } else {
        "file:"
    });
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/._-~:".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Creates a journal atomically: written whole under a temporary name, then renamed, so
/// a journal's path never holds a half-made file that the next run would refuse.
pub(crate) fn create(
    path: &Path,
    init: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
) -> Result<(), JournalError> {
    let tmp = with_suffix(path, ".new");
    // A creation that died before its rename left it; the writer's lock is held.
    let _ = std::fs::remove_file(&tmp);
    let made = (|| -> rusqlite::Result<()> {
        let mut conn = Connection::open(&tmp)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let tx = conn.transaction()?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        init(&tx)?;
        tx.commit()?;
        conn.close().map_err(|(_, e)| e)
    })();
    if let Err(e) = made {
        let _ = std::fs::remove_file(&tmp);
        return Err(sqlite_err(path)(e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        invalid(path, format!("cannot create it: {e}"))
    })
}

/// `true` when the journal's folder says it cannot be written (an archive, a shared copy).
pub(crate) fn folder_is_read_only(path: &Path) -> bool {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::metadata(folder).is_ok_and(|m| m.permissions().readonly())
}

/// Opens a journal read-only where it lies and reads its schema, which is where SQLite
/// fails when it may not write a WAL database's shared-memory file beside it
/// (`SQLITE_READONLY_DIRECTORY` and kin): `Ok(None)` then, and the caller reads it
/// without writing ([`open_where_unwritable`]).
///
/// # Errors
/// Any other failure to open or read it.
pub(crate) fn open_in_place(path: &Path) -> Result<Option<Connection>, JournalError> {
    let opened = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|conn| {
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(conn)
    });
    match opened {
        Ok(conn) => Ok(Some(conn)),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(sqlite_err(path)(e)),
    }
}

/// A connection for reading a journal in a folder where nothing may be written.
///
/// Without a write-ahead log the main file is the whole journal and is opened immutable.
/// A log with frames cannot be read in place (SQLite must write a `-shm` beside it), and
/// skipping it would show an old state without a word, so both files are copied to a
/// private folder and read there.
pub(crate) fn open_where_unwritable(
    path: &Path,
) -> Result<(Connection, Option<PrivateCopy>), JournalError> {
    if !has_wal_frames(path) {
        return Ok((open_immutable(path).map_err(sqlite_err(path))?, None));
    }
    let copy = PrivateCopy::new(path)?;
    let conn = Connection::open_with_flags(
        &copy.journal,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(path))?;
    Ok((conn, Some(copy)))
}

/// A journal and its log copied into a private temporary folder, removed when dropped.
#[derive(Debug)]
pub(crate) struct PrivateCopy {
    folder: PathBuf,
    journal: PathBuf,
}

impl PrivateCopy {
    fn new(path: &Path) -> Result<Self, JournalError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let folder =
            std::env::temp_dir().join(format!("nas-journal-{}-{nanos}", std::process::id()));
        let journal = folder.join("journal.sqlite");
        let copy = PrivateCopy { folder, journal };
        let copied = std::fs::create_dir(&copy.folder)
            .and_then(|()| std::fs::copy(path, &copy.journal))
            .and_then(|_| {
                std::fs::copy(
                    with_suffix(path, "-wal"),
                    with_suffix(&copy.journal, "-wal"),
                )
            });
        copied.map_err(|e| {
            invalid(
                path,
                format!(
                    "its folder is read-only and its log holds unmerged trials, so it is read \
                     from a copy, which failed in {}: {e}",
                    copy.folder.display()
                ),
            )
        })?;
        Ok(copy)
    }
}

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
