//! Journals through the CLI (issue #14): one writer per experiment, other files left as
//! they were, `nas show` on read-only copies, trials in flight and failure reasons,
//! renamed journals, SQLite errors told once.

use super::{TABLE, assert_clean_failure, finished_count, nas, shown, text, trials};
use nas_core::journal::Journal;
use nas_core::{Outcome, Trial, TrialResult};
use nas_storage_sqlite::SqliteJournal;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every file in `dir` with its bytes: what "left as it was" compares.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    files.sort();
    files
}

fn search_args<'a>(name: &'a str, d: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    [
        &["search", "--name", name, "--dir", d, "--no-progress"][..],
        &TABLE,
        extra,
    ]
    .concat()
}

#[test]
fn two_searches_on_one_experiment_the_second_is_refused_the_first_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let common = ["--trials", "100", "--seed", "2"];
    let reference = nas(&search_args("reference", d, &common));
    assert!(reference.status.success(), "{}", text(&reference).1);

    // 100 trials of 50 ms: the first search runs for 5 s.
    let slow = [&common[..], &["--set", "evaluator.wall_delay_ms=50"]].concat();
    let first = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(search_args("two", d, &slow))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal = dir.path().join("two.sqlite");
    let started = Instant::now();
    while finished_count(&journal) < 1 {
        assert!(started.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = nas(&search_args("two", d, &slow));
    assert_clean_failure(&second, &format!("in use by process {} ", first.id()));
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first).1);
    assert!(text(&first).0.contains("100 trials finished"));
    assert_eq!(
        trials(d, "two"),
        trials(d, "reference"),
        "one run's journal"
    );

    // The finished search left its lock file behind; it blocks nobody.
    assert!(dir.path().join("two.sqlite.lock").exists());
    let again = nas(&[
        "search",
        "--resume",
        "--name",
        "two",
        "--dir",
        d,
        "--no-progress",
    ]);
    assert!(again.status.success(), "{}", text(&again).1);
}

#[test]
fn files_that_are_not_journals_are_refused_and_left_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("other.sqlite")).unwrap();
    conn.execute_batch("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada');")
        .unwrap();
    drop(conn);
    std::fs::write(dir.path().join("empty.sqlite"), b"").unwrap();
    let before = snapshot(dir.path());
    for name in ["other", "empty"] {
        assert_clean_failure(&nas(&search_args(name, d, &[])), "not a journal");
        assert_clean_failure(&nas(&["show", name, "--dir", d]), "not a journal");
        assert_clean_failure(
            &nas(&["search", "--resume", "--name", name, "--dir", d]),
            "not a journal",
        );
    }
    assert!(snapshot(dir.path()) == before, "the folder changed");
}

#[cfg(unix)]
#[test]
fn show_reads_a_journal_in_a_folder_it_cannot_write() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&search_args("s", d, &["--trials", "20"]));
    assert!(o.status.success(), "{}", text(&o).1);
    let expected = nas(&["show", "s", "--dir", d, "--json"]);
    assert!(expected.status.success());
    let wal = dir.path().join("s.sqlite-wal");
    assert!(std::fs::metadata(&wal).map_or(true, |m| m.len() == 0));

    // An archive: the journal file alone, in a folder its reader cannot write.
    let archive = tempfile::tempdir().unwrap();
    let a = archive.path().to_str().unwrap();
    std::fs::copy(dir.path().join("s.sqlite"), archive.path().join("s.sqlite")).unwrap();
    let mode = |m| std::fs::set_permissions(archive.path(), std::fs::Permissions::from_mode(m));
    mode(0o555).unwrap();
    let before = snapshot(archive.path());
    let mut show = Command::new(env!("CARGO_BIN_EXE_nas"));
    show.args(["show", "s", "--dir", a, "--json"]);
    // Permission bits do not stop root: show as `nobody`, for whom the folder is read-only.
    if std::fs::metadata(archive.path()).unwrap().uid() == 0 {
        show.uid(65534).gid(65534);
    }
    let shown = show.output().unwrap();
    let after = snapshot(archive.path());
    mode(0o755).unwrap();
    assert!(shown.status.success(), "{}", text(&shown).1);
    let json = |o: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(o).unwrap();
        v["journal"] = serde_json::Value::Null;
        v
    };
    assert_eq!(json(&shown.stdout), json(&expected.stdout));
    assert!(after == before, "the folder changed");
}

fn trial_like(t: &Trial, id: u64) -> Trial {
    Trial {
        id,
        seed: id,
        ..t.clone()
    }
}

#[test]
fn show_counts_trials_in_flight_and_tells_why_trials_failed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&search_args("s", d, &["--trials", "5"]));
    assert!(o.status.success(), "{}", text(&o).1);
    let path = dir.path().join("s.sqlite");
    let state = SqliteJournal::read(&path).unwrap();
    // This test writes the journal as a running search would.
    let (mut j, _) =
        SqliteJournal::open(&path, &state.config, Box::new(|_| String::new())).unwrap();
    let t = &state.finished[0].trial;
    let reasons = [
        "diverged: loss is NaN",
        "out of memory",
        "diverged: loss is NaN",
    ];
    for (id, reason) in (5..).zip(reasons) {
        j.asked(&trial_like(t, id)).unwrap();
        j.finished(&TrialResult {
            trial: trial_like(t, id),
            outcome: Outcome::Failed {
                reason: reason.into(),
            },
            intermediate: vec![],
        })
        .unwrap();
    }
    j.asked(&trial_like(t, 8)).unwrap();
    let checkpoint = state.checkpoint.clone().unwrap();
    j.flush(&mut || Ok(checkpoint.clone())).unwrap();

    let shown = text(&nas(&["show", "s", "--dir", d])).0;
    assert!(
        shown.contains("8 finished (5 completed, 0 pruned, 3 failed)"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "1 in flight (written by process {} ",
            std::process::id()
        )),
        "{shown}"
    );
    let diverged = shown
        .find("2 x diverged: loss is NaN")
        .expect("counted reasons");
    let oom = shown.find("1 x out of memory").expect("counted reasons");
    assert!(diverged < oom, "most common first: {shown}");
    let json: serde_json::Value =
        serde_json::from_slice(&nas(&["show", "s", "--dir", d, "--json"]).stdout).unwrap();
    assert_eq!(json["in_flight"], 1);
    assert_eq!(json["failures"][1]["id"], 6);
    assert_eq!(json["failures"][1]["reason"], "out of memory");
    assert_eq!(json["failure_reasons"][0]["count"], 2);

    drop(j);
    let shown = text(&nas(&["show", "s", "--dir", d])).0;
    assert!(
        shown.contains("1 unfinished (no search is running"),
        "{shown}"
    );
}

#[test]
fn show_does_not_build_the_evaluator() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&search_args("s", d, &["--trials", "5"]));
    assert!(o.status.success(), "{}", text(&o).1);
    // The evaluator's table is gone (an archived journal on another machine).
    let conn = rusqlite::Connection::open(dir.path().join("s.sqlite")).unwrap();
    conn.execute(
        "UPDATE meta SET value = json_set(value, '$.evaluator.table', '/gone/table.csv')
         WHERE key = 'config'",
        [],
    )
    .unwrap();
    drop(conn);
    let shown = nas(&["show", "s", "--dir", d]);
    assert!(shown.status.success(), "{}", text(&shown).1);
    assert!(text(&shown).0.contains("best 5 by"), "{}", text(&shown).0);
}

#[test]
fn a_copied_journal_resumes_under_its_new_name_and_a_refusal_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&search_args("s", d, &["--trials", "10", "--seed", "1"]));
    assert!(o.status.success(), "{}", text(&o).1);
    std::fs::copy(dir.path().join("s.sqlite"), dir.path().join("c.sqlite")).unwrap();
    let resumed = nas(&[
        "search",
        "--resume",
        "--name",
        "c",
        "--trials",
        "20",
        "--dir",
        d,
        "--no-progress",
    ]);
    let (out, err) = text(&resumed);
    assert!(resumed.status.success(), "{err}");
    assert!(out.contains("10 came from the journal"), "{out}");

    let other = nas(&search_args("s", d, &["--trials", "10", "--seed", "9"]));
    assert_clean_failure(&other, "`seed` is 1 there and 9 here");
}

#[test]
fn an_sqlite_error_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // A journal by its header and tables, whose events table is damaged.
    let conn = rusqlite::Connection::open(dir.path().join("broken.sqlite")).unwrap();
    conn.execute_batch(
        "PRAGMA application_id = 1312904010;
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE events (x); CREATE TABLE checkpoint (id, state, asked, finished);
         INSERT INTO meta VALUES ('format', '1'), ('config', '{}');",
    )
    .unwrap();
    drop(conn);
    let o = nas(&["show", "broken", "--dir", d]);
    assert_clean_failure(&o, "no such column");
    assert_eq!(
        text(&o).1.matches("no such column").count(),
        1,
        "{}",
        text(&o).1
    );
}

#[test]
fn evolution_on_a_space_with_integer_decisions_resumes_to_the_same_trials() {
    // The mlp space's depth is an integer decision: in JSON its `3` reads back as a
    // categorical index unless the space types it, in REA's restored population as in
    // `nas show`.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let args = |name: &'static str, trials: &'static str| {
        vec![
            "search",
            "--name",
            name,
            "--dir",
            d,
            "--no-progress",
            "--space",
            "mlp",
            "--evaluator",
            "zero-cost",
            "--set",
            "evaluator.proxy=params",
            "--strategy",
            "regularized-evolution",
            "--set",
            "strategy.population=4",
            "--set",
            "strategy.sample=2",
            "--seed",
            "1",
            "--trials",
            trials,
        ]
    };
    for trials in ["6", "12", "16"] {
        let o = nas(&args("cut", trials));
        assert!(o.status.success(), "{:?}", text(&o));
    }
    let o = nas(&args("whole", "16"));
    assert!(o.status.success(), "{:?}", text(&o));
    let archs = |name: &str| -> Vec<(u64, String)> {
        shown(d, name)
            .iter()
            .map(|t| {
                (
                    t["id"].as_u64().unwrap(),
                    t["arch"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (cut, whole) = (archs("cut"), archs("whole"));
    assert_eq!(cut.len(), 16);
    assert!(
        cut.iter().all(|(_, arch)| !arch.contains("not an mlp")),
        "{cut:?}"
    );
    assert_eq!(cut, whole);
}
