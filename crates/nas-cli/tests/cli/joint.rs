//! Joint architecture and hyperparameter search from the command line: the example
//! config, trained for real on a small budget.

use crate::{nas, shown, text};

#[test]
fn a_joint_search_trains_each_trial_with_its_own_hyperparameters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../configs/joint-mlp-digits.toml"
    );
    let o = nas(&[
        "search",
        "--config",
        config,
        "--name",
        "joint",
        "--trials",
        "3",
        "--dir",
        d,
        "--no-progress",
        "--set",
        "evaluator.epochs=1",
        "--set",
        "evaluator.data_fraction=0.25",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let trials = shown(d, "joint");
    assert_eq!(trials.len(), 3, "{trials:?}");
    let value = |arch: &str, key: &str| -> String {
        arch.split(' ')
            .find_map(|part| part.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in {arch}"))
            .to_string()
    };
    let mut rates = Vec::new();
    for t in &trials {
        let arch = t["arch"].as_str().unwrap();
        let rate: f64 = value(arch, "learning_rate").parse().unwrap();
        assert!((0.001..=0.3).contains(&rate), "{arch}");
        assert!(
            ["sgd", "adam"].contains(&value(arch, "optimizer").as_str()),
            "{arch}"
        );
        assert!(
            ["32", "64", "128"].contains(&value(arch, "batch_size").as_str()),
            "{arch}"
        );
        assert!(t["metrics"]["valid_acc"].as_f64().is_some(), "{t}");
        rates.push(value(arch, "learning_rate"));
    }
    rates.sort();
    rates.dedup();
    assert_eq!(
        rates.len(),
        3,
        "each trial its own learning rate: {rates:?}"
    );

    let json: serde_json::Value =
        serde_json::from_slice(&nas(&["show", "joint", "--dir", d, "--json"]).stdout).unwrap();
    assert_eq!(json["config"]["hyperparameters"][1]["path"], "optimizer");
}

#[test]
fn a_hyperparameter_the_evaluator_has_no_field_for_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        "search",
        "--dir",
        d,
        "--no-progress",
        "--trials",
        "2",
        "--space",
        "mlp",
        "--evaluator",
        "train",
        "--set",
        r#"hyperparameters=[{"path": "learnin_rate", "low": 0.001, "high": 0.1}]"#,
    ]);
    crate::assert_clean_failure(&o, "hyperparameters[0].path");
    assert!(text(&o).1.contains("learnin_rate"), "{}", text(&o).1);
}
