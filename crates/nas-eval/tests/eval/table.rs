use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{EvalError, Evaluator, EvaluatorConfig, Fidelity, SearchSpace, Trial};
use nas_eval::{Dataset, Nb201Table};
use nas_space::Nb201Space;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn shared_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nas-bench-201/nb201.csv")
}

fn evaluator(fields: serde_json::Value) -> Result<Arc<dyn Evaluator>, String> {
    let mut value = serde_json::json!({"type": "nb201-table"});
    for (k, v) in fields.as_object().unwrap() {
        value[k] = v.clone();
    }
    let config =
        PluginConfig::<dyn EvaluatorConfig>::from_value(value).map_err(|e| e.to_string())?;
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    config.config.build(&space).map_err(|e| e.to_string())
}

fn trial(code: &str, epochs: Option<u32>) -> Trial {
    Trial {
        id: 0,
        genotype: Nb201Space::new().parse(code).unwrap(),
        fidelity: Fidelity {
            epochs,
            ..Fidelity::default()
        },
        seed: 0,
    }
}

#[test]
fn every_official_string_parses_and_renders_back() {
    let table = Nb201Table::embedded().unwrap();
    let space = Nb201Space::new();
    assert_eq!(table.rows().len(), 15_625);
    for row in table.rows() {
        let g = space.parse(&row.arch).unwrap();
        assert_eq!(space.render(&g), row.arch);
        assert_eq!(space.ops(&g).unwrap(), row.ops);
    }
}

#[test]
fn the_embedded_table_is_the_shared_one() {
    let path = shared_csv();
    if !path.is_file() {
        eprintln!("skipped: {} not present", path.display());
        return;
    }
    let shared = Nb201Table::from_path(&path).unwrap();
    assert_eq!(shared.rows(), Nb201Table::embedded().unwrap().rows());
}

#[test]
fn the_documented_optima_hold() {
    let t = Nb201Table::embedded().unwrap();
    let best = t.best(Dataset::Cifar10, |e| e.test_acc);
    assert!((best - 94.3733).abs() < 1e-9);
    let best_rows: Vec<u32> = t
        .rows()
        .iter()
        .filter(|r| r.entry(Dataset::Cifar10).test_acc == best)
        .map(|r| r.index)
        .collect();
    assert_eq!(best_rows.len(), 2);
    assert!(best_rows.contains(&6111) && best_rows.contains(&13714));
    assert!((t.best(Dataset::Cifar100, |e| e.test_acc) - 73.5133).abs() < 1e-9);
    assert!((t.best(Dataset::Imagenet16, |e| e.test_acc) - 47.3111).abs() < 1e-9);
}

#[test]
fn the_evaluator_reports_the_row_at_the_trials_fidelity() {
    let e = evaluator(serde_json::json!({})).unwrap();
    let mut r = CollectingReporter::default();
    let m = e.evaluate(&trial("333132", None), &mut r).unwrap();
    assert_eq!(m.get("valid_acc"), Some(91.6067));
    assert_eq!(m.get("test_acc"), Some(94.3733));
    assert_eq!(m.get("epochs"), Some(200.0));
    let m12 = e.evaluate(&trial("333132", Some(12)), &mut r).unwrap();
    assert_ne!(m12.get("valid_acc"), m.get("valid_acc"));
    assert_eq!(m12.get("final_test_acc"), Some(94.3733));
    assert!(m12.get("simulated_seconds").unwrap() < m.get("simulated_seconds").unwrap());
    match e.evaluate(&trial("333132", Some(50)), &mut r) {
        Err(EvalError::Failed(reason)) => assert!(reason.contains("12 and 200")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_time_model_makes_the_paper_budget_about_100_evaluations() {
    let t = Nb201Table::embedded().unwrap();
    let mean: f64 = t
        .rows()
        .iter()
        .map(|r| {
            r.entry(Dataset::Cifar10)
                .simulated_seconds(Dataset::Cifar10, 12)
        })
        .sum::<f64>()
        / t.rows().len() as f64;
    let evaluations = 12_000.0 / mean;
    assert!((90.0..110.0).contains(&evaluations), "{evaluations}");
}

#[test]
fn bad_configs_name_the_field() {
    let e = evaluator(serde_json::json!({"epochs": 100})).unwrap_err();
    assert!(e.contains("`epochs`") && e.contains("12 and 200"), "{e}");
    let e = evaluator(serde_json::json!({"dataset": "cifar11"})).unwrap_err();
    assert!(e.contains("cifar11") && e.contains("cifar100"), "{e}");
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

fn table_error(path: &std::path::Path) -> String {
    evaluator(serde_json::json!({"table": path})).unwrap_err()
}

#[test]
fn bad_table_files_say_which_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(shared_csv()).unwrap_or_default();
    if text.is_empty() {
        eprintln!("skipped: shared table not present");
        return;
    }
    let lines: Vec<&str> = text.lines().collect();

    let missing = dir.path().join("missing.csv");
    let e = table_error(&missing);
    assert!(
        e.contains("missing.csv") && e.contains("No such file"),
        "{e}"
    );

    let truncated = write(&dir, "truncated.csv", lines[..1000].join("\n").as_bytes());
    let e = table_error(&truncated);
    assert!(e.contains("999 cells, expected all 15625"), "{e}");

    let mut bad = lines.clone();
    let mut fields: Vec<&str> = bad[5].split(',').collect();
    fields[3] = "abc";
    let broken = fields.join(",");
    bad[5] = &broken;
    let e = table_error(&write(&dir, "badnum.csv", bad.join("\n").as_bytes()));
    assert!(e.contains("line 6") && e.contains("is not a number"), "{e}");

    let mut short = lines.clone();
    short[9] = "1,2,3";
    let e = table_error(&write(&dir, "short.csv", short.join("\n").as_bytes()));
    assert!(e.contains("line 10") && e.contains("3 fields"), "{e}");

    let e = table_error(&write(&dir, "empty.csv", b""));
    assert!(e.contains("empty file"), "{e}");

    let e = table_error(&write(&dir, "header.csv", b"index,arch\n"));
    assert!(e.contains("missing column `ops`"), "{e}");

    let e = table_error(&write(&dir, "bad.gz", &[0x1f, 0x8b, 1, 2, 3]));
    assert!(e.contains("cannot decompress"), "{e}");

    let e = table_error(&write(&dir, "binary.csv", &[0xff, 0xfe, 0, 1]));
    assert!(e.contains("not UTF-8"), "{e}");
}

#[test]
fn counted_params_and_flops_equal_the_table_for_every_cell() {
    use nas_space::{Nb201NetConfig, nb201_cost::cost};
    let table = Nb201Table::embedded().unwrap();
    let net = Nb201NetConfig::default();
    for row in table.rows() {
        let c = cost(&row.ops, &net);
        let e = row.entry(Dataset::Cifar10);
        assert!(
            (c.params_m() - e.params_m).abs() < 1e-6,
            "{}: {} vs {}",
            row.arch,
            c.params_m(),
            e.params_m
        );
        assert!(
            (c.flops_m() - e.flops_m).abs() < 1e-5,
            "{}: {} vs {}",
            row.arch,
            c.flops_m(),
            e.flops_m
        );
    }
    // CIFAR-100 differs only in the classifier.
    let c100 = Nb201NetConfig {
        classes: 100,
        ..net
    };
    for row in table.rows().iter().step_by(97) {
        let c = cost(&row.ops, &c100);
        assert!(
            (c.params_m() - row.entry(Dataset::Cifar100).params_m).abs() < 1e-6,
            "{}",
            row.arch
        );
    }
    // ImageNet16-120: 16x16 inputs, 120 classes.
    let in16 = Nb201NetConfig {
        classes: 120,
        input: [3, 16, 16],
        ..net
    };
    for row in table.rows().iter().step_by(97) {
        let c = cost(&row.ops, &in16);
        let e = row.entry(Dataset::Imagenet16);
        assert!((c.params_m() - e.params_m).abs() < 1e-6, "{}", row.arch);
        assert!(
            (c.flops_m() - e.flops_m).abs() < 1e-5,
            "{}: {} vs {}",
            row.arch,
            c.flops_m(),
            e.flops_m
        );
    }
}
