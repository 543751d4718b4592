//! The example evaluator as a user meets it: registered, refusing what it cannot read
//! (naming the file, line or space), and driving a real search through its own `nas`.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use custom_evaluator as _;
use nas_core::registry::{EvaluatorConfig, PluginConfig, SpaceConfig};
use std::path::PathBuf;
use std::process::Command;

/// NAS-Bench-201's table, beside the repository (`../shared`), as CI has it.
fn nb201_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nas-bench-201/nb201.csv")
}

fn build(space: &str, evaluator: serde_json::Value) -> Result<(), String> {
    let space = PluginConfig::<dyn SpaceConfig>::default_for(space)
        .unwrap()
        .config
        .build()
        .unwrap();
    PluginConfig::<dyn EvaluatorConfig>::from_value(evaluator)
        .map_err(|e| e.to_string())?
        .config
        .build(&space)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn bad_tables_and_other_spaces_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let err = build(
        "nb201",
        serde_json::json!({"type": "csv-lookup", "path": missing}),
    )
    .unwrap_err();
    assert!(err.contains("missing.csv"), "{err}");

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "ops,cifar10_valid_acc,cifar10_test_acc\n333132,90.1,93.7\n000000,ten,10\n",
    )
    .unwrap();
    let err = build(
        "nb201",
        serde_json::json!({"type": "csv-lookup", "path": bad}),
    )
    .unwrap_err();
    assert!(err.contains("bad.csv, line 3"), "{err}");

    let err = build(
        "nb201",
        serde_json::json!({"type": "csv-lookup", "path": bad, "valid": "nope"}),
    )
    .unwrap_err();
    assert!(err.contains("no column `nope`"), "{err}");

    let err = build(
        "mlp",
        serde_json::json!({"type": "csv-lookup", "path": nb201_csv()}),
    )
    .unwrap_err();
    assert!(err.contains("the space `mlp` is not NB201"), "{err}");
}

#[test]
fn its_own_nas_searches_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("evaluator.path={}", nb201_csv().display());
    let out = Command::new(env!("CARGO_BIN_EXE_nas-lookup"))
        .args([
            "search",
            "--strategy",
            "regularized-evolution",
            "--evaluator",
            "csv-lookup",
            "--set",
            &path,
            "--trials",
            "60",
            "--json",
            "--dir",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["report"]["progress"]["completed"], 60);
    // The best cell's metrics are its row of the table.
    let arch = json["best_arch"].as_str().unwrap();
    let metrics = &json["report"]["progress"]["best"]["outcome"]["metrics"];
    let table = std::fs::read_to_string(nb201_csv()).unwrap();
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.split(',').nth(1) == Some(arch))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(
        metrics["valid_acc"].as_f64().unwrap(),
        row[3].parse::<f64>().unwrap()
    );
    assert_eq!(
        metrics["test_acc"].as_f64().unwrap(),
        row[4].parse::<f64>().unwrap()
    );
    // Searching on the report-only test accuracy is refused before anything runs.
    let refused = Command::new(env!("CARGO_BIN_EXE_nas-lookup"))
        .args([
            "search",
            "--evaluator",
            "csv-lookup",
            "--set",
            &path,
            "--objective",
            "test_acc",
        ])
        .args(["--dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
}
