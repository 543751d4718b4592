//! The SQLite journal as a storage plugin (issue #13): reached through `sqlite:` URLs by
//! nas-core's registry, the default of `Experiment::run_in`, and its URLs checked.

use nas_core::journal::JournalError;
use nas_core::search::Quiet;
use nas_core::storage::{self, JournalRequest};
use nas_core::{Goal, TrialResult};
use nas_storage_sqlite::SqliteJournal;
use std::path::Path;

fn url(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

fn ids(finished: &[TrialResult]) -> Vec<(u64, String)> {
    finished
        .iter()
        .map(|r| (r.trial.id, format!("{:?}", r.trial.genotype)))
        .collect()
}

#[test]
fn a_search_at_an_sqlite_url_is_the_search_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let report = super::experiment("a", 5, 12)
        .run_at(&url(&path), &mut Quiet)
        .unwrap();
    assert_eq!(report.progress.finished, 12);
    let through_url = storage::read(&url(&path)).unwrap();
    let direct = SqliteJournal::read(&path).unwrap();
    assert_eq!(ids(&through_url.finished), ids(&direct.finished));
    assert_eq!(through_url.finished.len(), 12);
    // The plugin stores the resolved objectives, as `run_in` did before storages were
    // plugins: showing the journal needs no evaluator.
    let objectives = through_url.objectives.unwrap();
    assert_eq!(objectives.len(), 1);
    assert_eq!(
        (objectives[0].metric.as_str(), objectives[0].goal),
        ("score", Goal::Maximize)
    );
    // `run_in(dir)` is `sqlite:<dir>/<name>.sqlite`: it continues that very file.
    let more = super::experiment("a", 5, 20)
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    assert_eq!(more.resumed, 12);
    assert_eq!(SqliteJournal::read(&path).unwrap().finished.len(), 20);
    let e = super::experiment("a", 5, 20);
    assert_eq!(e.storage_in(dir.path()).unwrap(), url(&path));
}

#[test]
fn the_writer_is_known_and_a_second_one_refused_through_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let at = url(&dir.path().join("w.sqlite"));
    let config = serde_json::json!({"name": "w"});
    let request = || JournalRequest {
        config: &config,
        objectives: &[],
        render: Box::new(|_| String::new()),
    };
    let (first, state) = storage::open(&at, request()).unwrap();
    assert!(state.is_none());
    let writer = storage::writer(&at).unwrap().unwrap();
    assert!(writer.starts_with(&format!("process {}", std::process::id())));
    let second = storage::open(&at, request()).map(|_| ()).unwrap_err();
    assert!(matches!(second, JournalError::Locked { .. }), "{second}");
    drop(first);
    assert_eq!(storage::writer(&at).unwrap(), None);
    let (_, state) = storage::open(&at, request()).unwrap();
    assert!(state.is_some());
}

#[test]
fn an_sqlite_url_with_a_host_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    // `sqlite:` + `//` + an absolute path: read literally, it would be `path` itself.
    let with_host = format!("sqlite://{}", path.display());
    let err = super::experiment("h", 1, 3)
        .run_at(&with_host, &mut Quiet)
        .unwrap_err()
        .to_string();
    assert!(err.contains("a file, not a host"), "{err}");
    assert!(err.contains("`sqlite:runs/x.sqlite`"), "{err}");
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let err = storage::read(&with_host).unwrap_err().to_string();
    assert!(err.contains("a file, not a host"), "{err}");
}

#[test]
fn an_unknown_scheme_names_the_registered_storages_without_the_password() {
    let err = storage::read("postgresql://ada:hunter2@db.example/nas")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no storage is registered under `postgresql`; registered: `sqlite`"),
        "{err}"
    );
    assert!(err.contains("postgresql://ada:***@db.example/nas"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let no_scheme = storage::read("runs/x.sqlite").unwrap_err().to_string();
    assert!(no_scheme.contains("no scheme"), "{no_scheme}");
}

#[test]
fn scheme_case_does_not_matter_and_a_missing_journal_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.sqlite");
    let err = storage::read(&format!("SQLite:{}", path.display()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.sqlite") && err.contains("no such file"),
        "{err}"
    );
}
