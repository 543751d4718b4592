//! The flex backend: the NB201 network gives the same outputs as on ndarray with the
//! same weights, and the training evaluator (whose default backend is flex) learns,
//! reproduces its numbers bit for bit, and fails or stops runs as it should; the kernel
//! convolution matches burn's.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use burn::tensor::{Tensor, TensorData};
use nas_backend_flex as _;
use nas_backend_ndarray as _;
use nas_eval as _;
use nas_nn::device;
use nas_space::Nb201NetConfig;
use nas_space::nn::Nb201Net;

#[path = "backend/kernels.rs"]
mod kernels;
#[path = "backend/zero_cost.rs"]
mod zero_cost;

#[test]
fn flex_and_ndarray_agree_on_the_same_network() {
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 2,
        input: [1, 8, 8],
        classes: 10,
    };
    let input: Vec<f32> = (0..2 * 64)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let run = |backend: &str| {
        let d = device(backend).unwrap();
        let model = Nb201Net::new(&[3, 4, 2, 1, 3, 2], &net, &d, 42);
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [2, 1, 8, 8]), &d);
        model.forward(x).into_data().try_to_vec::<f32>().unwrap()
    };
    let (a, b) = (run("flex"), run("ndarray"));
    assert_eq!(a.len(), 20);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

mod training {
    use nas_core::evaluator::CollectingReporter;
    use nas_core::registry::PluginConfig;
    use nas_core::{
        Control, EvalError, Evaluator, EvaluatorConfig, Fidelity, Metrics, Reporter, SearchSpace,
        Trial,
    };
    use nas_space::Nb201Space;
    use std::sync::Arc;

    fn evaluator(fields: serde_json::Value) -> Result<Arc<dyn Evaluator>, String> {
        let mut v = serde_json::json!({"type": "train", "channels": 4, "epochs": 2});
        for (k, x) in fields.as_object().unwrap() {
            v[k] = x.clone();
        }
        let config =
            PluginConfig::<dyn EvaluatorConfig>::from_value(v).map_err(|e| e.to_string())?;
        let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
        config.config.build(&space).map_err(|e| e.to_string())
    }

    fn trial(code: &str, seed: u64) -> Trial {
        Trial {
            id: 0,
            genotype: Nb201Space::new().parse(code).unwrap(),
            fidelity: Fidelity::default(),
            seed,
        }
    }

    #[test]
    fn a_cell_learns_the_digits_and_the_same_seed_gives_the_same_bits() {
        let e = evaluator(serde_json::json!({})).unwrap();
        let mut reports = CollectingReporter::default();
        let a = e.evaluate(&trial("333132", 7), &mut reports).unwrap();
        assert!(a.get("valid_acc").unwrap() > 70.0, "{a:?}");
        assert_eq!(reports.reports.len(), 2, "one report per epoch");
        for name in [
            "test_acc",
            "params_m",
            "flops_m",
            "latency_ms",
            "simulated_seconds",
        ] {
            assert!(a.get(name).is_some_and(f64::is_finite), "{name}: {a:?}");
        }
        let b = e
            .evaluate(&trial("333132", 7), &mut CollectingReporter::default())
            .unwrap();
        for name in ["valid_acc", "valid_loss", "test_acc", "train_loss"] {
            assert_eq!(
                a.get(name).unwrap().to_bits(),
                b.get(name).unwrap().to_bits(),
                "{name}"
            );
        }
        let c = e
            .evaluate(&trial("333132", 8), &mut CollectingReporter::default())
            .unwrap();
        assert_ne!(a.get("train_loss"), c.get("train_loss"));
    }

    #[test]
    fn a_diverging_run_is_a_failed_trial() {
        let e = evaluator(serde_json::json!({"learning_rate": 1e9, "epochs": 1})).unwrap();
        match e.evaluate(&trial("333333", 1), &mut CollectingReporter::default()) {
            Err(EvalError::Failed(reason)) => assert!(reason.contains("diverged"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    struct StopAfterFirst;
    impl Reporter for StopAfterFirst {
        fn report(&mut self, _: u32, _: &Metrics) -> Control {
            Control::Stop
        }
    }

    #[test]
    fn a_reporter_can_stop_a_run_and_fidelities_apply() {
        let e = evaluator(serde_json::json!({})).unwrap();
        match e.evaluate(&trial("111111", 1), &mut StopAfterFirst) {
            Err(EvalError::Pruned { step, metrics }) => {
                assert_eq!(step, 1);
                assert!(metrics.get("valid_acc").is_some());
            }
            other => panic!("{other:?}"),
        }
        let mut t = trial("222222", 1);
        t.fidelity = Fidelity {
            epochs: Some(1),
            data_fraction: Some(0.2),
            width: Some(2),
        };
        let m = e.evaluate(&t, &mut CollectingReporter::default()).unwrap();
        assert_eq!(m.get("epochs"), Some(1.0));
        let narrow = m.get("params_m").unwrap();
        let wide = e
            .evaluate(&trial("222222", 1), &mut CollectingReporter::default())
            .unwrap()
            .get("params_m")
            .unwrap();
        assert!(narrow < wide);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let e = evaluator(serde_json::json!({"backend": "nope"})).unwrap_err();
        assert!(
            e.contains("unknown backend `nope`") && e.contains("ndarray"),
            "{e}"
        );
        let e = evaluator(serde_json::json!({"epochs": 0})).unwrap_err();
        assert!(e.contains("`epochs`"), "{e}");
        let e = evaluator(
            serde_json::json!({"data": {"dataset": "mnist", "data_dir": "/nonexistent"}}),
        )
        .unwrap_err();
        assert!(
            e.contains("/nonexistent") && e.contains("no mnist files"),
            "{e}"
        );
        let e = evaluator(serde_json::json!({"batch": 3})).unwrap_err();
        assert!(e.contains("unknown field `batch`"), "{e}");
    }
}
