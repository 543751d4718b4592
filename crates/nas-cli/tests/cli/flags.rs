//! Flags, `--set`, messages and exit codes: the defects found by trying the CLI as a
//! tester would (issue #14), each reproduced here.

use super::{TABLE, assert_clean_failure, nas, text};
use std::process::{Command, Stdio};

/// A search of `n` table trials named `name` in `dir`.
fn table_search(dir: &str, name: &str, n: &str) {
    let o = nas(&[
        &[
            "search",
            "--name",
            name,
            "--trials",
            n,
            "--dir",
            dir,
            "--no-progress",
        ][..],
        &TABLE,
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o).1);
}

/// Runs `nas` with its standard output a pipe whose reader is already gone.
fn nas_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    table_search(d, "p", "5");
    let search = [
        &["search", "--name", "q", "--trials", "3", "--dir", d][..],
        &TABLE,
    ]
    .concat();
    for args in [
        &["show", "p", "--dir", d][..],
        &["show", "p", "--dir", d, "--json"][..],
        &["list"][..],
        &["list", "--json"][..],
        &["eval", "333132"][..],
        &search[..],
    ] {
        let o = nas_into_closed_pipe(args);
        let (_, err) = text(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(o.status.success(), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: quiet, got {err}");
    }
}

#[test]
fn too_many_workers_are_refused_before_anything_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        &[
            "search",
            "--name",
            "w",
            "--workers",
            "100000",
            "--trials",
            "5",
            "--dir",
            d,
        ][..],
        &TABLE,
    ]
    .concat());
    assert_clean_failure(&o, "field `workers`: at most 1024");
    assert!(!dir.path().join("w.sqlite").exists());
}

#[test]
fn budgets_that_are_not_numbers_are_refused() {
    for flag in ["--wall-seconds", "--simulated-seconds"] {
        for bad in ["nan", "inf", "-1", "0"] {
            let o = nas(&[
                "search",
                &format!("{flag}={bad}"),
                "--evaluator",
                "nb201-table",
            ]);
            let (_, err) = text(&o);
            assert!(!o.status.success(), "{flag} {bad}");
            assert!(err.contains(flag), "{flag} {bad}: {err}");
            assert!(err.contains("positive number"), "{flag} {bad}: {err}");
        }
    }
}

#[test]
fn a_search_where_every_trial_failed_exits_non_zero_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        "search",
        "--name",
        "f",
        "--strategy",
        "random",
        "--evaluator",
        "train",
        "--trials",
        "2",
        "--set",
        "evaluator.learning_rate=1e30",
        "--set",
        "evaluator.epochs=1",
        "--set",
        "evaluator.data_fraction=0.2",
        "--dir",
        d,
        "--no-progress",
    ]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("every trial failed (2 of 2)"), "{err}");
    assert!(out.contains("failed 2x: "), "the reason is listed: {out}");
    let show = nas(&["show", "f", "--dir", d, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(json["failed"], 2);
}

#[test]
fn dataset_and_backend_go_to_the_plugins_that_declare_them() {
    // zero-cost's data set is `data.dataset`: the flag reaches it (the bad name is
    // reported by the data config, not as an unknown field `dataset`).
    let o = nas(&[
        "search",
        "--evaluator",
        "zero-cost",
        "--dataset",
        "nonsense",
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("nonsense"), "{err}");
    assert!(!err.contains("unknown field"), "{err}");
    // The table trains nothing: --backend is an error naming the plugins that take it.
    let o = nas(&[&["search"][..], &TABLE, &["--backend", "flex"]].concat());
    assert_clean_failure(&o, "--backend: no plugin of this experiment takes it");
    let (_, err) = text(&o);
    assert!(err.contains("evaluator train"), "{err}");
    assert!(err.contains("one-shot method enas"), "{err}");
}

#[test]
fn set_creates_missing_tables_and_eval_takes_dotted_paths() {
    // `--evaluator train` starts from {type = "train"}: no `data` table yet.
    let o = nas(&[
        "search",
        "--evaluator",
        "train",
        "--set",
        "evaluator.data.dataset=nonsense",
    ]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(!err.contains("is not a table"), "{err}");
    assert!(err.contains("nonsense"), "{err}");
    for set in ["data.dataset=nonsense", "evaluator.data.dataset=nonsense"] {
        let o = nas(&["eval", "333132", "--evaluator", "train", "--set", set]);
        let (_, err) = text(&o);
        assert!(!o.status.success());
        assert!(err.contains("nonsense"), "{set}: {err}");
        assert!(!err.contains("unknown field"), "{set}: {err}");
    }
}

#[test]
fn type_errors_name_the_field_and_where_it_was_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.toml");
    std::fs::write(
        &file,
        "name = \"x\"\nseed = \"zero\"\n[budget]\ntrials = 3\n[space]\ntype = \"nb201\"\n\
         [strategy]\ntype = \"random\"\n[evaluator]\ntype = \"nb201-table\"\n",
    )
    .unwrap();
    let o = nas(&["search", "--config", file.to_str().unwrap()]);
    assert_clean_failure(&o, "x.toml: line 2: field `seed`");
    let o = nas(&["search", "--evaluator", "nb201-table", "--set", "seed=abc"]);
    assert_clean_failure(&o, "--set seed=abc: field `seed`");
    let o = nas(&[
        "search",
        "--evaluator",
        "nb201-table",
        "--set",
        "evaluator.epochs=abc",
    ]);
    assert_clean_failure(&o, "--set evaluator.epochs=abc");
    let (_, err) = text(&o);
    assert!(err.contains("field `epochs`"), "{err}");
}

#[test]
fn a_huge_bad_architecture_is_not_echoed_in_full() {
    let arch = format!("|{}|", "x".repeat(120_000));
    let o = nas(&["eval", &arch]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.len() < 1_000, "{} bytes of message", err.len());
    assert!(err.contains("more characters"), "{err}");
}

#[test]
fn eval_refuses_zero_epochs() {
    let o = nas(&["eval", "333132", "--evaluator", "train", "--epochs", "0"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("--epochs"), "{err}");
}

#[test]
fn a_budget_flag_on_resume_says_what_the_budget_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    table_search(d, "r", "5");
    let o = nas(&[
        "search",
        "--resume",
        "--name",
        "r",
        "--simulated-seconds",
        "100000",
        "--dir",
        d,
        "--no-progress",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("the budget is now simulated_seconds 100000 (stored: trials 5)"),
        "{err}"
    );
    assert!(out.contains("trials finished"), "{out}");
}

#[test]
fn a_plugin_error_names_the_plugin_once() {
    let o = nas(&[
        "search",
        "--strategy",
        "regularized-evolution",
        "--evaluator",
        "nb201-table",
        "--set",
        "strategy.population=0",
    ]);
    assert_clean_failure(
        &o,
        "strategy `regularized-evolution`: field `population`: must be at least 1",
    );
    let (_, err) = text(&o);
    assert_eq!(err.matches("regularized-evolution").count(), 1, "{err}");
}
