//! The plugin is found through the registry and runs through the CLI path.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use custom_strategy as _;
use nas_core::registry::{StrategyConfig, find};
use std::process::{Command, ExitCode};

/// The framework's conformance suite: registration and config, valid proposals that never
/// repeat a function, determinism, exact resume from checkpoints and after crashes.
#[test]
fn conformance() {
    nas_core::testkit::check_strategy("mutate-best", serde_json::json!({"warmup": 3}));
}

#[test]
fn the_registry_finds_it() {
    let plugin = find::<dyn StrategyConfig>("mutate-best").unwrap();
    assert!(plugin.summary.contains("mutate the best"));
}

#[test]
fn the_cli_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let code = nas_cli::main_with_args([
        "nas",
        "search",
        "--strategy",
        "mutate-best",
        "--name",
        "mb",
        "--trials",
        "25",
        "--dir",
        d,
        "--no-progress",
        "--evaluator",
        "nb201-table",
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    // The journal through the storage registry: nas-cli links the SQLite storage.
    let journal = dir.path().join("mb.sqlite");
    let state = nas_core::storage::read(&format!("sqlite:{}", journal.display())).unwrap();
    assert_eq!(state.finished.len(), 25);
    assert_eq!(state.config["strategy"]["type"], "mutate-best");
    assert_eq!(state.config["strategy"]["warmup"], 5);
}

#[test]
fn its_binary_lists_it_beside_the_builtin_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_nas-custom"))
        .arg("list")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("mutate-best") && text.contains("random"),
        "{text}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_nas-custom"))
        .args([
            "search",
            "--strategy",
            "mutate-best",
            "--set",
            "strategy.warmup=0",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`warmup`: must be at least 1"));
}
