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
use nas_core::queue::{AskAnswer, TrialQueue, WorkerIdentity};
use nas_core::runner::evaluate_trial;
use nas_core::search::Quiet;
use nas_core::storage::{self, JournalRequest};
use nas_core::worker::{WorkerStop, run_worker};
use nas_core::{Experiment, ExperimentConfig};
use nas_eval as _;
use nas_evo as _;
use nas_space as _;
use nas_storage_postgres::test_server::{self, with_database};
use nas_storage_sqlite as _;
use std::time::Duration;

/// The test server's superuser URL, or `None` (outside CI) when there is none.
fn server() -> Option<String> {
    test_server::server().unwrap()
}

/// A new empty database on the server; its URL.
fn fresh_database(admin: &str) -> String {
    test_server::fresh_database(admin).unwrap()
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
    let password = test_server::password_of(&admin).unwrap();
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
        .execute(
            "UPDATE nas_schema SET version = $1",
            &[&nas_storage_postgres::SCHEMA_VERSION],
        )
        .unwrap();
    let e = storage::read(&format!("{db}?experiment=y"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no such experiment; the database holds x"),
        "{e}"
    );
}

/// A worker's connection to experiment `name` at `db`, joined with `config`.
fn worker(db: &str, e: &Experiment, lease_ms: u64, who: &str) -> Box<dyn TrialQueue> {
    let mut q = storage::queue(
        db,
        Some(&e.config.name),
        WorkerIdentity {
            name: who.into(),
            lease: Duration::from_millis(lease_ms),
        },
    )
    .unwrap();
    let json = e.config.to_json().unwrap();
    q.join(JournalRequest {
        config: &json,
        objectives: &e.objectives,
        render: Box::new(|_| String::new()),
    })
    .unwrap();
    q
}

#[test]
fn one_worker_gives_the_trials_of_the_one_process_search() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    let mut e = Experiment::build(config("solo", 3, 80)).unwrap();
    let mut q = worker(&db, &e, 30_000, "solo");
    let budget = e.config.budget.clone();
    let search = e.search.as_black_box().unwrap();
    let report = run_worker(search, &budget, q.as_mut(), &mut Quiet).unwrap();
    assert_eq!((report.asked, report.recorded, report.late), (80, 80, 0));
    assert_eq!(report.stop, WorkerStop::Budget);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}/solo.sqlite", dir.path().display());
    run(&sqlite, "solo", 3, 80).unwrap();
    assert_eq!(
        trials(&read(&db, "solo")),
        trials(&storage::read(&sqlite).unwrap())
    );
}

#[test]
fn a_dead_workers_trial_runs_again_with_its_id_and_seed_and_is_recorded_once() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    let mut e = Experiment::build(config("lease", 1, 10)).unwrap();
    let mut a = worker(&db, &e, 300, "a");
    let mut b = worker(&db, &e, 300, "b");
    let search = e.search.as_black_box().unwrap();
    // Worker a asks for trial 0 and stops beating (it hung, or was killed).
    let mut asked = Vec::new();
    a.ask(&[], &mut |round| {
        assert!(round.checkpoint.is_none() && round.untold.is_empty());
        let p = search.strategy.ask(1).pop().unwrap();
        let trial = search.trial_for(round.asked, p);
        asked.push(trial.clone());
        Ok(AskAnswer {
            checkpoint: Some(search.strategy.checkpoint().unwrap()),
            trials: vec![trial],
            told_seconds: 0.0,
        })
    })
    .unwrap();
    let trial = asked.pop().unwrap();
    assert_eq!(b.claim().unwrap(), None, "the lease is alive");
    std::thread::sleep(Duration::from_millis(400));
    let again = b.claim().unwrap().expect("the expired lease is claimed");
    assert_eq!((again.id, again.seed), (trial.id, trial.seed));
    assert_eq!(b.claim().unwrap(), None, "claimed once");
    let result = evaluate_trial(&*search.evaluator, again).unwrap();
    // Results are recorded in ask rounds, which tell the strategy the ones recorded:
    // b's result is the first, so it is recorded and told (b restores a's checkpoint
    // first); a's comes late, and is neither.
    let mut rounds = Vec::new();
    for q in [&mut b, &mut a] {
        let recorded = q
            .ask(std::slice::from_ref(&result), &mut |round| {
                rounds.push((round.checkpoint.is_some(), round.untold.len(), round.told));
                for r in &round.untold {
                    search.strategy.tell(r);
                }
                Ok(AskAnswer {
                    checkpoint: (!round.untold.is_empty())
                        .then(|| search.strategy.checkpoint().unwrap()),
                    trials: Vec::new(),
                    told_seconds: 0.0,
                })
            })
            .unwrap();
        rounds.push((false, recorded.len(), u64::MAX));
    }
    assert_eq!(
        rounds,
        vec![
            (true, 1, 0),
            (false, 1, u64::MAX),
            (true, 0, 1),
            (false, 0, u64::MAX)
        ]
    );
    let state = read(&db, "lease");
    assert_eq!((state.finished.len(), state.pending.len()), (1, 0));
}

#[test]
fn workers_and_one_process_searches_do_not_share_an_experiment() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    // A one-process search's experiment is not joined by workers...
    run(&db, "one", 1, 5).unwrap();
    let e = Experiment::build(config("one", 1, 5)).unwrap();
    let mut q = storage::queue(
        &db,
        Some("one"),
        WorkerIdentity {
            name: "w".into(),
            lease: Duration::from_secs(30),
        },
    )
    .unwrap();
    let json = e.config.to_json().unwrap();
    let err = q
        .join(JournalRequest {
            config: &json,
            objectives: &e.objectives,
            render: Box::new(|_| String::new()),
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("run by one `nas search` process"), "{err}");
    // ...and the workers' experiment is not written by a one-process search, nor joined
    // with another config.
    let shared = Experiment::build(config("shared", 1, 5)).unwrap();
    let _w = worker(&db, &shared, 30_000, "w");
    let err = run(&db, "shared", 1, 5).unwrap_err();
    assert!(err.contains("in use by workers"), "{err}");
    let other = Experiment::build(config("shared", 2, 5)).unwrap();
    let mut q = storage::queue(
        &db,
        Some("shared"),
        WorkerIdentity {
            name: "v".into(),
            lease: Duration::from_secs(30),
        },
    )
    .unwrap();
    let json = other.config.to_json().unwrap();
    let err = q
        .join(JournalRequest {
            config: &json,
            objectives: &other.objectives,
            render: Box::new(|_| String::new()),
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("`seed` is 1 there and 2 here"), "{err}");
    drop(_w);
    drop(q);
    let err = run(&db, "shared", 1, 5).unwrap_err();
    assert!(
        err.contains("is run by workers: join it with `nas worker"),
        "{err}"
    );
}

#[test]
fn results_with_quotes_and_backslashes_read_back_unchanged() {
    let Some(admin) = server() else { return };
    let db = fresh_database(&admin);
    let mut e = Experiment::build(config("quotes", 1, 10)).unwrap();
    let mut q = worker(&db, &e, 30_000, "it's \\ me");
    let search = e.search.as_black_box().unwrap();
    let mut trial = None;
    q.ask(&[], &mut |round| {
        let p = search.strategy.ask(1).pop().unwrap();
        let t = search.trial_for(round.asked, p);
        trial = Some(t.clone());
        Ok(AskAnswer {
            checkpoint: Some(search.strategy.checkpoint().unwrap()),
            trials: vec![t],
            told_seconds: 0.0,
        })
    })
    .unwrap();
    let reason = "it's a \\ path, \"quoted\", E'\\x00' and a tab\t; DROP TABLE nas_events; --";
    let result = nas_core::TrialResult {
        trial: trial.unwrap(),
        outcome: nas_core::Outcome::Failed {
            reason: reason.into(),
        },
        intermediate: Vec::new(),
    };
    let recorded = q
        .ask(std::slice::from_ref(&result), &mut |round| {
            for r in &round.untold {
                search.strategy.tell(r);
            }
            Ok(AskAnswer {
                checkpoint: Some(search.strategy.checkpoint().unwrap()),
                trials: Vec::new(),
                told_seconds: 0.0,
            })
        })
        .unwrap();
    assert_eq!(recorded, vec![0]);
    let state = read(&db, "quotes");
    match &state.finished[0].outcome {
        nas_core::Outcome::Failed { reason: stored } => assert_eq!(stored, reason),
        other => panic!("{other:?}"),
    }
}
