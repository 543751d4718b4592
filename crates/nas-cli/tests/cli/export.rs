//! `nas export` and `nas eval` (issue #17): every registered space's best architecture
//! goes out as files and comes back through `nas eval` with the search's own evaluator,
//! giving the numbers the journal holds.

use super::{assert_clean_failure, nas, text};
use serde_json::Value;

/// The flags each space needs beyond a tiny training run: its data.
fn data_flags(space: &str) -> &'static [&'static str] {
    match space {
        "rnn-cell" => &["--dataset", "sentiment"],
        _ => &[],
    }
}

#[test]
fn every_registered_space_round_trips_through_export_and_eval() {
    let list: Value = serde_json::from_slice(&nas(&["list", "--json"]).stdout).unwrap();
    let spaces: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "space")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert!(spaces.len() >= 5, "{spaces:?}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for space in &spaces {
        let o = nas(&[
            &[
                "search",
                "--name",
                space,
                "--space",
                space,
                "--dir",
                d,
                "--no-progress",
                "--trials",
                "2",
                "--strategy",
                "random",
                "--evaluator",
                "train",
            ][..],
            &[
                "--set",
                "evaluator.epochs=1",
                "--set",
                "evaluator.data_fraction=0.1",
            ],
            &["--set", "evaluator.channels=4"],
            data_flags(space),
        ]
        .concat());
        assert!(o.status.success(), "{space}: {}", text(&o).1);
        let o = nas(&["export", space, "--dir", d, "--json"]);
        assert!(o.status.success(), "{space}: {}", text(&o).1);
        let exported: Value = serde_json::from_slice(&o.stdout).unwrap();
        let files: Vec<&str> = exported["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        assert!(
            files.iter().any(|f| f.ends_with("arch.dot")),
            "{space}: {files:?}"
        );
        let dot = std::fs::read_to_string(dir.path().join(format!("{space}-export/arch.dot")));
        assert!(dot.unwrap().starts_with("digraph"), "{space}");
        let arch = std::fs::read_to_string(dir.path().join(format!("{space}-export/arch.txt")));
        assert_eq!(arch.unwrap().trim(), exported["arch"].as_str().unwrap());
        // The command the export names, as a user runs it.
        let command: Vec<&str> = exported["eval"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(&command[..2], ["nas", "eval"]);
        let o = nas(&[&command[1..], &["--json"]].concat());
        assert!(o.status.success(), "{space}: {}", text(&o).1);
        let again: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(again["arch"], exported["arch"], "{space}");
        assert_eq!(again["fingerprint"], exported["fingerprint"], "{space}");
        // Trained again from the same seed: the same accuracy and size, to the bit.
        for metric in ["valid_acc", "test_acc", "params_m"] {
            assert_eq!(
                again["metrics"][metric], exported["metrics"][metric],
                "{space}: {metric}"
            );
        }
    }
    // Weights kept by the search are exported beside the architecture.
    let kept = dir.path().join("weights");
    let o = nas(&[
        "search",
        "--name",
        "kept",
        "--dir",
        d,
        "--no-progress",
        "--trials",
        "2",
        "--strategy",
        "random",
        "--evaluator",
        "train",
        "--set",
        "evaluator.epochs=1",
        "--set",
        "evaluator.data_fraction=0.1",
        "--set",
        &format!("evaluator.weights_dir={}", kept.display()),
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = nas(&["export", "kept", "--dir", d, "--json"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let exported: Value = serde_json::from_slice(&o.stdout).unwrap();
    let copy = std::fs::read(exported["weights"].as_str().unwrap()).unwrap();
    let trial = exported["trial"].as_u64().unwrap();
    let original = std::fs::read(kept.join(format!("trial-{trial}.record"))).unwrap();
    assert!(copy.len() > 1000 && copy == original);
    std::fs::remove_file(kept.join(format!("trial-{trial}.record"))).unwrap();
    assert_clean_failure(&nas(&["export", "kept", "--dir", d]), "is not there");
    // A trial that is not there, and an evaluator file that is not a table.
    assert_clean_failure(
        &nas(&["export", "nb201", "--dir", d, "--trial", "99"]),
        "no finished trial #99",
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    assert_clean_failure(
        &nas(&["eval", "333132", "--evaluator", bad.to_str().unwrap()]),
        "expected a table with a `type`",
    );
}
