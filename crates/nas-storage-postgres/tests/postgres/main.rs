//! The PostgreSQL storage against a real server: a search stored there equals the same
//! search stored in SQLite, resumes exactly, has one writer, refuses another config, a
//! newer schema and bad connections with clear errors that never show the password.
//!
//! The server is the one `NAS_TEST_POSTGRES_URL` names (a superuser's URL; each test makes
//! its own database). `cargo xtask test` starts a throwaway one
//! (`scripts/postgres-throwaway.sh`); without one these tests say so and pass, except
//! under CI (`CI` set), where they fail.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::journal::JournalState;
use nas_core::search::Quiet;
use nas_core::storage::{self, JournalRequest};
use nas_core::{Experiment, ExperimentConfig};
use nas_eval as _;
use nas_evo as _;
use nas_space as _;
use nas_storage_postgres as _;
use nas_storage_sqlite as _;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The test server's superuser URL, or `None` (outside CI) when there is none.
fn server() -> Option<String> {
    match std::env::var("NAS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but NAS_TEST_POSTGRES_URL is not: `cargo xtask test` starts a \
             throwaway server with scripts/postgres-throwaway.sh"
        ),
        _ => {
            eprintln!("no PostgreSQL server (NAS_TEST_POSTGRES_URL): skipped");
            None
        }
    }
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

/// A new empty database on the server; its URL.
fn fresh_database(admin: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let db = format!(
        "nas_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    // One statement each: several in one string run as one transaction, which these
    // statements refuse.
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    with_database(admin, &db)
}

fn config(name: &str, seed: u64, trials: u64) -> ExperimentConfig {
    ExperimentConfig::from_json(serde_json::json!({
        "name": name,
        "seed": seed,
        "budget": { "trials": trials },
        "space": "nb201",
        "strategy": { "type": "regularized-evolution", "population": 10, "sample": 3 },
        "evaluator": { "type": "nb201-table", "epochs": 12 },
    }))
    .unwrap()
}

fn run(url: &str, name: &str, seed: u64, trials: u64) -> Result<(), String> {
    let mut e = Experiment::build(config(name, seed, trials)).unwrap();
    e.run_at(url, &mut Quiet)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The trials of a state: id, genotype and outcome as JSON, in id order.
fn trials(state: &JournalState) -> Vec<String> {
    state
        .finished
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

fn read(db: &str, name: &str) -> JournalState {
    storage::read(&format!("{db}?experiment={name}")).unwrap()
}

#[test]
fn a_search_in_postgres_equals_the_same_search_in_sqlite_and_resumes_exactly() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    run(&db, "whole", 5, 60).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}/whole.sqlite", dir.path().display());
    run(&sqlite, "whole", 5, 60).unwrap();
    let (pg, lite) = (read(&db, "whole"), storage::read(&sqlite).unwrap());
    assert_eq!(pg.finished.len(), 60);
    assert_eq!(trials(&pg), trials(&lite));
    assert_eq!(pg.checkpoint, lite.checkpoint);
    assert_eq!(pg.objectives, lite.objectives);
    // Stopped at 25 and continued with a larger budget: the same 60 trials.
    run(&db, "cut", 5, 25).unwrap();
    assert_eq!(read(&db, "cut").finished.len(), 25);
    run(&db, "cut", 5, 60).unwrap();
    assert_eq!(trials(&read(&db, "cut")), trials(&pg));
    // Two experiments share the database without touching each other.
    assert_eq!(trials(&read(&db, "whole")), trials(&lite));
}

#[test]
fn one_writer_per_experiment_and_another_config_is_refused_without_writing() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    run(&db, "x", 1, 10).unwrap();
    let before = trials(&read(&db, "x"));
    let e = run(&db, "x", 2, 20).unwrap_err();
    assert!(e.contains("seed"), "{e}");
    assert_eq!(
        trials(&read(&db, "x")),
        before,
        "a refused config wrote something"
    );

    let json = config("x", 1, 10).to_json().unwrap();
    let open = |objectives: &[nas_core::Objective]| {
        storage::open(
            &db,
            JournalRequest {
                config: &json,
                objectives,
                render: Box::new(|_| String::new()),
            },
        )
    };
    let (first, _) = open(&[]).unwrap();
    let e = open(&[]).map(|_| ()).unwrap_err().to_string();
    assert!(
        e.contains("in use by process") && e.contains("experiment `x`"),
        "{e}"
    );
    let writer = storage::writer(&format!("{db}?experiment=x")).unwrap();
    assert!(writer.is_some_and(|w| w.contains(&std::process::id().to_string())));
    drop(first);
    // The lock goes with the connection.
    assert_eq!(
        storage::writer(&format!("{db}?experiment=x")).unwrap(),
        None
    );
    assert!(open(&[]).is_ok());
}

#[test]
fn blobs_replace_the_last_value() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    let json = config("b", 1, 10).to_json().unwrap();
    let (mut journal, _) = storage::open(
        &db,
        JournalRequest {
            config: &json,
            objectives: &[],
            render: Box::new(|_| String::new()),
        },
    )
    .unwrap();
    assert_eq!(journal.load_blob("phase").unwrap(), None);
    journal.save_blob("phase", &[1, 2, 3]).unwrap();
    journal.save_blob("phase", &[4, 5]).unwrap();
    assert_eq!(journal.load_blob("phase").unwrap(), Some(vec![4, 5]));
}

#[test]
fn bad_connections_and_a_newer_schema_are_clear_errors_without_the_password() {
    let Some(admin) = server() else { return };
    let password = admin
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| p.to_string())
        .unwrap();
    let wrong = admin.replace(&password, "not-the-password");
    let unreachable = "postgresql://nas:secret-word@127.0.0.1:1/db";
    let missing = with_database(&admin, "no_such_database");
    for (url, needle) in [
        (unreachable.to_string(), "cannot connect"),
        (wrong, "password authentication failed"),
        (missing, "does not exist"),
    ] {
        let started = std::time::Instant::now();
        let e = run(&url, "x", 1, 5).unwrap_err();
        assert!(e.contains(needle), "{e}");
        assert!(
            !e.contains(&password) && !e.contains("secret-word") && !e.contains("not-the-password"),
            "{e}"
        );
        assert!(started.elapsed().as_secs() < 30);
        let e = storage::read(&format!("{url}?experiment=x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && !e.contains(&password), "{e}");
    }
    let db = fresh_database(&admin);
    run(&db, "x", 1, 5).unwrap();
    let mut client = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    client
        .execute("UPDATE nas_schema SET version = 99", &[])
        .unwrap();
    let e = run(&db, "x", 1, 10).unwrap_err();
    assert!(
        e.contains("schema version 99") && e.contains("newer"),
        "{e}"
    );
    let e = storage::read(&format!("{db}?experiment=x"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("schema version 99"), "{e}");
    // Reading needs the experiment's name; an unknown one lists those there are.
    let e = storage::read(&db).unwrap_err().to_string();
    assert!(e.contains("?experiment=NAME"), "{e}");
    client
        .execute("UPDATE nas_schema SET version = 1", &[])
        .unwrap();
    let e = storage::read(&format!("{db}?experiment=y"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no such experiment; the database holds x"),
        "{e}"
    );
}
