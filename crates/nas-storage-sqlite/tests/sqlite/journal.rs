//! The journal's hardening (issue #14): blobs, one writer per journal, foreign files,
//! read-only copies, renamed journals, error messages. Moved here from nas-core's tests
//! with the SQLite journal.

use nas_core::journal::{Journal, NullJournal};
use nas_storage_sqlite::SqliteJournal;

fn config() -> serde_json::Value {
    serde_json::json!({"name": "j", "x": 1})
}

fn open(path: &std::path::Path) -> SqliteJournal {
    SqliteJournal::open(path, &config(), Box::new(|_| String::new()))
        .unwrap()
        .0
}

#[test]
fn blobs_replace_the_last_value_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    {
        let mut j = open(&path);
        assert_eq!(j.load_blob("supernet").unwrap(), None);
        j.save_blob("supernet", &[1, 2, 3]).unwrap();
        j.save_blob("supernet", &[4, 5]).unwrap();
        j.save_blob("other", &[]).unwrap();
        assert_eq!(j.load_blob("supernet").unwrap(), Some(vec![4, 5]));
    }
    let mut j = open(&path);
    assert_eq!(j.load_blob("supernet").unwrap(), Some(vec![4, 5]));
    assert_eq!(j.load_blob("other").unwrap(), Some(vec![]));
    let mut null = NullJournal;
    null.save_blob("supernet", &[1]).unwrap();
    assert_eq!(null.load_blob("supernet").unwrap(), None);
}

use nas_core::journal::JournalError;
use nas_core::search::Quiet;
use nas_core::{Genotype, Outcome, Trial, TrialResult};
use std::path::Path;

/// Every file in `dir` with its bytes: what "left as it was" compares.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The error and its causes, joined as the CLI prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text += &format!(": {c}");
        cause = c.source();
    }
    text
}

fn trial(id: u64) -> Trial {
    Trial {
        id,
        genotype: Genotype::from_indices([1, 2]),
        fidelity: Default::default(),
        seed: id,
    }
}

/// Sets the folder's permission bits; restored before the folder is removed.
#[cfg(unix)]
fn set_mode(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_second_writer_is_refused_and_told_who_holds_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    let first = open(&path);
    let err = SqliteJournal::open(&path, &config(), Box::new(|_| String::new())).unwrap_err();
    assert!(matches!(err, JournalError::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("in use by process {} ", std::process::id())),
        "{text}"
    );
    // A reader is not a writer: it is not refused, and it learns who writes.
    assert!(SqliteJournal::read(&path).is_ok());
    let writer = SqliteJournal::writer(&path).unwrap();
    assert!(writer.starts_with(&format!("process {}", std::process::id())));
    drop(first);
    assert_eq!(SqliteJournal::writer(&path), None);
    // The lock file stays with the last holder's name, but nobody holds it: no block.
    std::fs::write(
        dir.path().join("j.sqlite.lock"),
        "process 1 (nas) on elsewhere",
    )
    .unwrap();
    assert_eq!(SqliteJournal::writer(&path), None);
    let (_again, state) =
        SqliteJournal::open(&path, &config(), Box::new(|_| String::new())).unwrap();
    assert!(state.is_some());
}

/// A database of another program, made with SQLite directly.
fn foreign(path: &Path, setup: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(setup).unwrap();
}

#[test]
fn files_that_are_not_journals_are_refused_and_left_as_they_were() {
    type MakeFile<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, MakeFile<'_>); 6] = [
        ("other tables", &|p| {
            foreign(
                p,
                "CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada');",
            )
        }),
        ("other tables, WAL", &|p| {
            foreign(
                p,
                "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
        }),
        ("another program's id", &|p| {
            foreign(
                p,
                "PRAGMA application_id = 4660; CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
                 CREATE TABLE events (x); CREATE TABLE checkpoint (x);
                 INSERT INTO meta VALUES ('format', '1'), ('config', '{}');",
            )
        }),
        ("no tables", &|p| foreign(p, "PRAGMA user_version = 7;")),
        ("empty", &|p| std::fs::write(p, b"").unwrap()),
        ("text", &|p| std::fs::write(p, "x".repeat(300)).unwrap()),
    ];
    for (case, make) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.sqlite");
        make(&path);
        let before = snapshot(dir.path());
        let err = SqliteJournal::open(&path, &config(), Box::new(|_| String::new()))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a journal"), "{case}: {err}");
        let err = SqliteJournal::read(&path).unwrap_err().to_string();
        assert!(err.contains("not a journal"), "{case}: {err}");
        assert!(snapshot(dir.path()) == before, "{case}: the folder changed");
    }
}

#[test]
fn journals_of_earlier_versions_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    {
        let mut j = open(&path);
        j.asked(&trial(0)).unwrap();
        j.flush(&mut || Ok(serde_json::json!({"n": 1}))).unwrap();
    }
    // What an earlier version wrote: no application id, no blobs table.
    foreign(&path, "PRAGMA application_id = 0; DROP TABLE blobs;");
    assert_eq!(std::fs::read(&path).unwrap()[68..72], [0, 0, 0, 0]);
    assert_eq!(SqliteJournal::read(&path).unwrap().pending, vec![trial(0)]);
    let (mut j, state) =
        SqliteJournal::open(&path, &config(), Box::new(|_| String::new())).unwrap();
    assert_eq!(state.unwrap().pending, vec![trial(0)]);
    j.save_blob("k", &[1]).unwrap();
}

#[test]
fn a_renamed_journal_resumes_and_a_refusal_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    super::experiment("t", 3, 40)
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    std::fs::copy(dir.path().join("t.sqlite"), dir.path().join("u.sqlite")).unwrap();
    let report = super::experiment("u", 3, 40)
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    assert_eq!(report.resumed, 40);
    // The stored config now carries the journal's new name.
    let stored = SqliteJournal::read(&dir.path().join("u.sqlite")).unwrap();
    assert_eq!(stored.config["name"], "u");

    let err = super::experiment("u", 4, 40)
        .run_in(dir.path(), &mut Quiet)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`seed` is 3 there and 4 here"), "{err}");
}

#[test]
fn an_sqlite_error_is_told_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    // A journal by its header and tables, whose events table is damaged.
    foreign(
        &path,
        "PRAGMA application_id = 1312904010;
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE events (x); CREATE TABLE checkpoint (id, state, asked, finished);
         INSERT INTO meta VALUES ('format', '1'), ('config', '{}');",
    );
    let err = SqliteJournal::read(&path).unwrap_err();
    let text = chain(&err);
    assert_eq!(text.matches("no such column").count(), 1, "{text}");
    assert!(text.contains("j.sqlite"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_journal_in_a_read_only_folder_is_read_whole_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    let mut j = open(&path);
    j.asked(&trial(0)).unwrap();
    j.flush(&mut || Ok(serde_json::json!({"n": 1}))).unwrap();
    j.finished(&TrialResult {
        trial: trial(0),
        outcome: Outcome::Failed { reason: "x".into() },
        intermediate: vec![],
    })
    .unwrap();
    j.asked(&trial(1)).unwrap();
    j.flush(&mut || Ok(serde_json::json!({"n": 2}))).unwrap();

    // A copy taken while the search runs: the last flushes are in the log only.
    let copy = tempfile::tempdir().unwrap();
    let wal = dir.path().join("j.sqlite-wal");
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    std::fs::copy(&path, copy.path().join("j.sqlite")).unwrap();
    std::fs::copy(&wal, copy.path().join("j.sqlite-wal")).unwrap();
    drop(j);
    let before = snapshot(copy.path());
    set_mode(copy.path(), 0o555);
    let state = SqliteJournal::read(&copy.path().join("j.sqlite"));
    set_mode(copy.path(), 0o755);
    let state = state.unwrap();
    assert_eq!(state.finished.len(), 1);
    assert_eq!(state.pending, vec![trial(1)]);
    assert!(snapshot(copy.path()) == before, "the folder changed");

    // The journal closed (its log merged), in a read-only folder.
    assert!(!wal.exists());
    let before = snapshot(dir.path());
    set_mode(dir.path(), 0o555);
    let state = SqliteJournal::read(&path);
    set_mode(dir.path(), 0o755);
    assert_eq!(state.unwrap().pending, vec![trial(1)]);
    assert!(snapshot(dir.path()) == before, "the folder changed");
}
