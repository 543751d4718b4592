//! The `nas` binary as a user runs it: listing, searching, showing, bad input, and a
//! search killed with SIGKILL then resumed.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/export.rs"]
mod export;
#[path = "cli/flags.rs"]
mod flags;
#[path = "cli/joint.rs"]
mod joint;
#[path = "cli/journal.rs"]
mod journal;
#[path = "cli/json.rs"]
mod json;
#[path = "cli/report.rs"]
mod report;
#[path = "cli/storage.rs"]
mod storage;
#[path = "cli/workers.rs"]
mod workers;

/// Flags that select the tabular benchmark (fast) instead of the default training.
const TABLE: [&str; 4] = ["--strategy", "random", "--evaluator", "nb201-table"];

fn nas(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(args)
        .output()
        .expect("the nas binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Fails unless the command failed with one clear line and no panic.
fn assert_clean_failure(o: &Output, needle: &str) {
    let (out, err) = text(o);
    assert!(!o.status.success(), "should fail: {out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in {err}");
}

#[test]
fn list_shows_the_builtin_plugins() {
    let o = nas(&["list"]);
    assert!(o.status.success());
    let (out, _) = text(&o);
    for name in ["nb201", "nb201-table", "random", "enas", "flex", "sqlite:"] {
        assert!(out.contains(name), "{out}");
    }
    let json: serde_json::Value = serde_json::from_slice(&nas(&["list", "--json"]).stdout).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "random")
    );
}

#[test]
fn search_then_show_reads_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        &[
            "search",
            "--name",
            "s",
            "--trials",
            "30",
            "--dir",
            d,
            "--no-progress",
        ][..],
        &TABLE,
    ]
    .concat());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("30 trials finished"), "{out}");
    assert!(out.contains("|+|"), "prints the NB201 string: {out}");
    let show = nas(&["show", "s", "--dir", d, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(json["finished"], 30);
    assert_eq!(json["pending"], 0);
    let best_arch = json["best"][0]["arch"].as_str().unwrap();
    assert!(out.contains(best_arch));
    let shown = text(&nas(&["show", "s", "--dir", d])).0;
    assert!(shown.contains(best_arch));
}

#[test]
fn the_default_search_trains_real_networks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        "search",
        "--trials",
        "2",
        "--set",
        "evaluator.epochs=1",
        "--dir",
        d,
        "--no-progress",
        "--json",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["report"]["progress"]["completed"], 2);
    let best = &json["report"]["progress"]["best"]["outcome"]["metrics"];
    assert!(best["valid_acc"].as_f64().unwrap() > 20.0, "{best}");
    assert!(best["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(json["best_arch"].as_str().unwrap().contains("|+|"));
    // The binary trains on its main thread as one of the kernels' pool threads; a
    // second process with the same seed gives the same trials, to the bit.
    let again = nas(&[
        "search",
        "--trials",
        "2",
        "--set",
        "evaluator.epochs=1",
        "--name",
        "again",
        "--dir",
        d,
        "--no-progress",
    ]);
    assert!(again.status.success(), "{}", text(&again).1);
    let first = trials(d, "regularized-evolution-nb201-train-seed0");
    assert_eq!(first.len(), 2);
    assert_eq!(first, trials(d, "again"));
    let flags = nas(&[
        "search",
        "--trials",
        "1",
        "--set",
        "evaluator.epochs=1",
        "--backend",
        "ndarray",
        "--dataset",
        "digits",
        "--name",
        "f",
        "--dir",
        d,
        "--no-progress",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&flags.stdout).unwrap();
    assert_eq!(json["report"]["progress"]["completed"], 1);
    let bad = nas(&["search", "--backend", "gpu-nope", "--dir", d]);
    assert_clean_failure(&bad, "unknown backend `gpu-nope`");
    let list = text(&nas(&["list"])).0;
    assert!(
        list.contains("backends:") && list.contains("ndarray") && list.contains("flex"),
        "{list}"
    );
    assert!(list.contains("train"), "{list}");
}

#[test]
fn eval_looks_a_cell_up() {
    let o = nas(&["eval", "333132", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["metrics"]["test_acc"], 94.3733);
    assert_clean_failure(
        &nas(&[
            "eval",
            "|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|",
        ]),
        "unknown op \"bogus\"",
    );
    assert_clean_failure(&nas(&["eval", "|nor_conv_3x3~0|"]), "expected 3 nodes");
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert_clean_failure(
        &nas(&["search", "--strategy", "nope", "--dir", d]),
        "unknown strategy or one-shot method `nope`; available: ",
    );
    assert_clean_failure(
        &nas(&["search", "--evaluator", "nope", "--dir", d]),
        "unknown evaluator `nope`",
    );
    assert_clean_failure(
        &nas(&["search", "--trials", "0", "--dir", d]),
        "`trials`: must be at least 1",
    );
    assert_clean_failure(
        &nas(&["search", "--set", "strategy.uniq=true", "--dir", d]),
        "unknown field `uniq`",
    );

    let config = dir.path().join("c.toml");
    std::fs::write(&config, "name = \"x\"\nseeed = 1\n[budget]\ntrials = 3\n[space]\ntype = \"nb201\"\n[strategy]\ntype = \"random\"\n[evaluator]\ntype = \"nb201-table\"\n").unwrap();
    assert_clean_failure(
        &nas(&["search", "--config", config.to_str().unwrap(), "--dir", d]),
        "unknown field `seeed`",
    );
    std::fs::write(&config, "name = [").unwrap();
    assert_clean_failure(
        &nas(&["search", "--config", config.to_str().unwrap(), "--dir", d]),
        "c.toml",
    );

    let missing = dir.path().join("missing.csv");
    assert_clean_failure(
        &nas(&[
            "search",
            "--set",
            &format!("evaluator.table={}", missing.display()),
            "--evaluator",
            "nb201-table",
            "--dir",
            d,
        ]),
        "missing.csv",
    );
    let corrupt = dir.path().join("corrupt.csv");
    std::fs::write(&corrupt, "index,arch,ops\n1,2,3\n").unwrap();
    assert_clean_failure(
        &nas(&[
            "search",
            "--set",
            &format!("evaluator.table={}", corrupt.display()),
            "--evaluator",
            "nb201-table",
            "--dir",
            d,
        ]),
        "missing column",
    );

    std::fs::write(dir.path().join("junk.sqlite"), vec![b'x'; 4096]).unwrap();
    assert_clean_failure(
        &nas(&[&["search", "--name", "junk", "--dir", d][..], &TABLE].concat()),
        "not an SQLite database",
    );
    assert_clean_failure(
        &nas(&["show", "junk", "--dir", d]),
        "not an SQLite database",
    );
    assert_clean_failure(&nas(&["show", "absent", "--dir", d]), "no such file");
}

fn finished_count(path: &Path) -> i64 {
    let Ok(conn) =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    conn.query_row(
        "SELECT count(*) FROM events WHERE kind = 'finished'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// The trials `nas show --json` lists for the experiment `name`, by id.
fn shown(dir: &str, name: &str) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_slice(
        &nas(&["show", name, "--dir", dir, "--json", "--top", "1000"]).stdout,
    )
    .unwrap();
    let mut out = json["best"].as_array().unwrap().clone();
    out.sort_by_key(|t| t["id"].as_u64());
    out
}

fn trials(dir: &str, name: &str) -> Vec<(u64, String, f64)> {
    shown(dir, name)
        .iter()
        .map(|t| {
            (
                t["id"].as_u64().unwrap(),
                t["arch"].as_str().unwrap().to_string(),
                t["metrics"]["valid_acc"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_killed_search_resumes_without_losing_or_repeating_trials() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let common = [
        "--trials",
        "60",
        "--seed",
        "5",
        "--dir",
        d,
        "--no-progress",
        "--strategy",
        "random",
        "--evaluator",
        "nb201-table",
    ];

    let reference = nas(&[&["search", "--name", "reference"][..], &common[..]].concat());
    assert!(reference.status.success());

    let slow = [
        &[
            "search",
            "--name",
            "killed",
            "--set",
            "evaluator.wall_delay_ms=20",
        ][..],
        &common[..],
    ]
    .concat();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(&slow)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.path().join("killed.sqlite");
    let started = Instant::now();
    while finished_count(&journal) < 15 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the search never got going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = finished_count(&journal);
    assert!((15..60).contains(&at_kill), "{at_kill}");

    // Continue it: --resume reads the stored config.
    let resumed = nas(&[
        "search",
        "--resume",
        "--name",
        "killed",
        "--dir",
        d,
        "--no-progress",
    ]);
    let (out, err) = text(&resumed);
    assert!(resumed.status.success(), "{err}");
    assert!(out.contains("came from the journal"), "{out}");

    assert_eq!(finished_count(&journal), 60);
    let got = trials(d, "killed");
    let ids: Vec<u64> = got.iter().map(|t| t.0).collect();
    assert_eq!(ids, (0..60).collect::<Vec<_>>(), "every trial exactly once");
    assert_eq!(
        got,
        trials(d, "reference"),
        "same trials as an uninterrupted run"
    );
    let best = |name: &str| {
        let json: serde_json::Value =
            serde_json::from_slice(&nas(&["show", name, "--dir", d, "--json"]).stdout).unwrap();
        json["best"][0].clone()
    };
    assert_eq!(best("killed"), best("reference"));
}
