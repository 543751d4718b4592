//! Workers sharing one experiment in PostgreSQL (issue #16): eight `nas worker`
//! processes, three of them killed with SIGKILL at random moments and replaced; and
//! `nas search --workers N`, which starts the processes itself.
//!
//! The server is the one `NAS_TEST_POSTGRES_URL` names (see
//! `nas_storage_postgres::test_server`): without one these tests say so and pass, except
//! under CI, where they fail.

use super::text;
use nas_core::Rng;
use nas_storage_postgres::test_server;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn server() -> Option<String> {
    test_server::server().unwrap()
}

/// A worker of the experiment in `config` at `db`, its report on stdout as JSON.
fn start_worker(db: &str, config: &std::path::Path, who: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .args([
            "worker",
            "--lease-seconds",
            "1",
            "--json",
            "--worker-name",
            who,
        ])
        .arg("--config")
        .arg(config)
        .env("NAS_STORAGE", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `(asked events, finished events, distinct finished ids, largest id, leases left)`.
fn counts(db: &str, name: &str) -> (i64, i64, i64, i64, i64) {
    let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE kind = 'asked'),
                    count(*) FILTER (WHERE kind = 'finished'),
                    count(DISTINCT trial_id) FILTER (WHERE kind = 'finished'),
                    coalesce(max(trial_id), -1),
                    (SELECT count(*) FROM nas_leases WHERE experiment = $1)
             FROM nas_events WHERE experiment = $1",
            &[&name],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))
}

#[test]
fn eight_workers_three_killed_and_replaced_finish_exactly_the_budget() {
    let Some(admin) = server() else { return };
    let db = test_server::fresh_database(&admin).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kill.toml");
    std::fs::write(
        &config,
        r#"
name = "kill"
seed = 7
budget = { trials = 2000 }
space = { type = "nb201" }
strategy = { type = "regularized-evolution" }
evaluator = { type = "nb201-table", wall_delay_ms = 5 }
"#,
    )
    .unwrap();
    // Which workers die and when: from one seed, printed, so a failure can be replayed
    // as closely as timing allows.
    let seed = 16;
    eprintln!("kill schedule seed {seed}");
    let mut rng = Rng::new(seed);
    let mut workers: Vec<Child> = (0..8)
        .map(|i| start_worker(&db, &config, &format!("w{i}")))
        .collect();
    let mut victims: Vec<usize> = (0..8).collect();
    rng.shuffle(&mut victims);
    let mut moments: Vec<u64> = (0..3).map(|_| 300 + rng.below(1500)).collect();
    moments.sort_unstable();
    let started = Instant::now();
    for (k, (&victim, &ms)) in victims.iter().zip(&moments).enumerate() {
        let at = Duration::from_millis(ms);
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        workers[victim].kill().unwrap(); // SIGKILL
        workers[victim].wait().unwrap();
        workers.push(start_worker(&db, &config, &format!("replacement{k}")));
    }
    let mut killed = victims[..3].to_vec();
    killed.sort_unstable();
    let mut claimed = 0;
    for (i, w) in workers.into_iter().enumerate() {
        if killed.binary_search(&i).is_ok() {
            continue;
        }
        let o = w.wait_with_output().unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "worker {i}: {err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        let keys: std::collections::BTreeSet<String> =
            report.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, super::json::documented_keys("worker"));
        claimed += report["report"]["claimed"].as_u64().unwrap();
    }
    eprintln!("killed workers {killed:?} at {moments:?} ms; {claimed} trials taken over");
    let (asked, finished, distinct, largest, leases) = counts(&db, "kill");
    assert_eq!(asked, 2000, "exactly the budget was asked");
    assert_eq!(finished, 2000, "every asked trial finished: no result lost");
    assert_eq!(distinct, 2000, "no trial finished twice");
    assert_eq!(largest, 1999, "ids 0..2000");
    assert_eq!(leases, 0, "nothing left in flight");
    // A killed worker holds a lease from its ask until its next one records the result,
    // so its kill leaves a trial for another worker (unless it fell between the two).
    assert!(claimed >= 1, "no killed worker's trial was taken over");
}

#[test]
fn search_with_workers_starts_them_and_reports_what_they_found() {
    let Some(admin) = server() else { return };
    let db = test_server::fresh_database(&admin).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args([
            "search",
            "--name",
            "four",
            "--workers",
            "4",
            "--trials",
            "300",
        ])
        .args([
            "--strategy",
            "regularized-evolution",
            "--evaluator",
            "nb201-table",
        ])
        .args(["--json", "--storage", &db])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["report"]["progress"]["finished"], 300);
    assert!(report["best_arch"].is_string(), "{out}");
    let (asked, finished, distinct, _, leases) = counts(&db, "four");
    assert_eq!((asked, finished, distinct, leases), (300, 300, 300, 0));
    // The password never reaches the output.
    let password = test_server::password_of(&admin).unwrap();
    assert!(!out.contains(&password) && !err.contains(&password));
    // A worker without a config joins the stored experiment; with the budget spent, it
    // has nothing to do.
    let o = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(["worker", "--name", "four"])
        .env("NAS_STORAGE", &db)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("recorded 0 results"), "{out}");
    // One that names no stored experiment and has no config is told how to start one.
    let o = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(["worker", "--name", "nothing"])
        .env("NAS_STORAGE", &db)
        .output()
        .unwrap();
    super::assert_clean_failure(&o, "no such experiment `nothing`");
    assert!(!text(&o).1.contains(&password));
}

#[test]
fn bad_storage_input_is_one_clear_line_without_the_password() {
    let Some(admin) = server() else { return };
    let db = test_server::fresh_database(&admin).unwrap();
    let password = test_server::password_of(&admin).unwrap();
    let search = |url: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nas"))
            .args(["search", "--name", "bad", "--trials", "20", "--no-progress"])
            .args([
                "--strategy",
                "random",
                "--evaluator",
                "nb201-table",
                "--storage",
                url,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let cases = [
        (
            "postgresql://nas:secret-word@127.0.0.1:1/db".to_string(),
            "cannot connect",
        ),
        (
            admin.replace(&password, "not-the-password"),
            "password authentication failed",
        ),
        (
            test_server::with_database(&admin, "no_such_db"),
            "does not exist",
        ),
    ];
    for (url, needle) in &cases {
        for workers in ["1", "3"] {
            let o = search(url, &["--workers", workers]);
            super::assert_clean_failure(&o, needle);
            let err = text(&o).1;
            assert!(
                !err.contains(&password) && !err.contains("secret-word"),
                "{err}"
            );
        }
        let o = Command::new(env!("CARGO_BIN_EXE_nas"))
            .args(["worker", "--name", "bad"])
            .env("NAS_STORAGE", url)
            .output()
            .unwrap();
        super::assert_clean_failure(&o, needle);
    }
    // A second search of another config on a stored experiment: refused, nothing written.
    assert!(search(&db, &[]).status.success());
    let before = counts(&db, "bad");
    let o = search(&db, &["--seed", "9"]);
    super::assert_clean_failure(&o, "`seed` is 0 there and 9 here");
    let o = search(&db, &["--seed", "9", "--workers", "2"]);
    super::assert_clean_failure(&o, "run by one `nas search` process");
    assert_eq!(counts(&db, "bad"), before, "nothing written");
}
