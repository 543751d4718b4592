//! Issue #14, the evaluators: every bad input is an error that names the file (and line,
//! column or record) and what was expected, found before the search starts; none is a
//! panic inside burn or the kernels, an abort, or a result computed on nothing. The data
//! readers' own cases are in nas-data's tests.

#[cfg(feature = "train")]
mod evaluators {
    use std::path::{Path, PathBuf};

    fn csv_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    use nas_backend_flex as _;
    use nas_core::evaluator::CollectingReporter;
    use nas_core::registry::PluginConfig;
    use nas_core::{EvalError, EvaluatorConfig, Fidelity, SearchSpace, SpaceConfig, Trial};
    use std::sync::Arc;

    fn space(json: serde_json::Value) -> Arc<dyn SearchSpace> {
        PluginConfig::<dyn SpaceConfig>::from_value(json)
            .unwrap()
            .config
            .build()
            .unwrap()
    }

    fn nb201() -> Arc<dyn SearchSpace> {
        space(serde_json::json!({"type": "nb201"}))
    }

    fn build(
        space: &Arc<dyn SearchSpace>,
        config: serde_json::Value,
    ) -> Result<Arc<dyn nas_core::Evaluator>, String> {
        PluginConfig::<dyn EvaluatorConfig>::from_value(config)
            .unwrap()
            .config
            .build(space)
            .map_err(|e| e.to_string())
    }

    fn trial(space: &dyn SearchSpace, text: &str, epochs: Option<u32>) -> Trial {
        Trial {
            id: 0,
            genotype: space.parse(text).unwrap(),
            fidelity: Fidelity {
                epochs,
                ..Fidelity::default()
            },
            seed: 1,
        }
    }

    /// A CSV of `rows` images of `pixels` values each, three classes.
    fn pixel_csv(dir: &Path, pixels: usize, rows: usize) -> PathBuf {
        let mut s = String::from("label");
        for p in 0..pixels {
            s.push_str(&format!(",p{p}"));
        }
        s.push('\n');
        for i in 0..rows {
            s.push_str(&(i % 3).to_string());
            for p in 0..pixels {
                s.push_str(&format!(",{}", (i * 7 + p * 3) % 11));
            }
            s.push('\n');
        }
        csv_file(dir, "pixels.csv", &s)
    }

    #[test]
    fn a_trial_fidelity_of_zero_epochs_fails_like_the_config_field() {
        let s = nb201();
        let e = build(&s, serde_json::json!({"type": "train", "epochs": 0})).unwrap_err();
        assert!(e.contains("`epochs`"), "{e}");
        let evaluator = build(&s, serde_json::json!({"type": "train", "epochs": 1})).unwrap();
        let t = trial(
            s.as_ref(),
            "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|",
            Some(0),
        );
        let mut reports = CollectingReporter::default();
        match evaluator.evaluate(&t, &mut reports) {
            Err(EvalError::Failed(why)) => assert!(why.contains("0 epochs"), "{why}"),
            other => panic!("0 epochs gave {other:?}"),
        }
        assert!(reports.reports.is_empty());
    }

    #[test]
    fn images_a_network_cannot_take_are_refused_before_the_search() {
        let tmp = tempfile::tempdir().unwrap();
        let csv = pixel_csv(tmp.path(), 1, 60);
        let data = serde_json::json!({"dataset": "csv", "csv": csv});
        let e = build(&nb201(), serde_json::json!({"type": "train", "data": data})).unwrap_err();
        assert!(
            e.contains("pixels.csv") && e.contains("1x1") && e.contains("multiples of 4"),
            "{e}"
        );
        // 1-pixel images are enough for chain CNNs (odd kernels, padding k/2) and MLPs:
        // they train (no panic in the kernels) and are scored on every split.
        for (space, text) in [
            (
                space(
                    serde_json::json!({"type": "chain-cnn", "layers": 2, "filters": [4], "kernels": [3, 5], "strides": [1, 2]}),
                ),
                "f4k5s2|f4k3s1",
            ),
            (
                space(
                    serde_json::json!({"type": "mlp", "max_layers": 1, "widths": [8], "dropouts": [0.0]}),
                ),
                "8:relu:0",
            ),
        ] {
            let e = build(
                &space,
                serde_json::json!({"type": "train", "epochs": 1, "data": data}),
            )
            .unwrap();
            let m = e
                .evaluate(
                    &trial(space.as_ref(), text, None),
                    &mut CollectingReporter::default(),
                )
                .unwrap();
            assert!(m.get("valid_loss").unwrap().is_finite(), "{text}: {m:?}");
        }
    }

    #[test]
    fn a_network_too_large_for_memory_is_refused_before_any_allocation() {
        let s = nb201();
        let e = build(
            &s,
            serde_json::json!({"type": "train", "channels": 1_000_000}),
        )
        .unwrap_err();
        assert!(
            e.contains("GiB") && e.contains("more than") && e.contains("`channels`"),
            "{e}"
        );
        let e = build(
            &s,
            serde_json::json!({"type": "zero-cost", "input": [3, 100_000, 100_000]}),
        )
        .unwrap_err();
        assert!(e.contains("GiB") && e.contains("`input`"), "{e}");
        // The benchmark's own network is fine.
        build(&s, serde_json::json!({"type": "zero-cost"})).unwrap();
    }

    #[test]
    fn zero_cost_inputs_the_network_cannot_take_are_refused() {
        let s = nb201();
        let e = build(
            &s,
            serde_json::json!({"type": "zero-cost", "input": [3, 2, 2]}),
        )
        .unwrap_err();
        assert!(
            e.contains("field `input`") && e.contains("multiples of 4") && e.contains("4x4"),
            "{e}"
        );
        let tmp = tempfile::tempdir().unwrap();
        let csv = pixel_csv(tmp.path(), 36, 60);
        let e = build(
            &s,
            serde_json::json!({"type": "zero-cost", "proxy": "snip", "data": {"dataset": "csv", "csv": csv}}),
        )
        .unwrap_err();
        assert!(e.contains("pixels.csv") && e.contains("6x6"), "{e}");
    }
}
