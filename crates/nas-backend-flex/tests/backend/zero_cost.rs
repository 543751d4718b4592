//! Zero-cost proxies (nas-eval's `zero-cost` evaluator) on the flex backend.

use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{EvalError, Evaluator, EvaluatorConfig, Fidelity, SearchSpace, Trial};
use nas_eval::zero_cost::Proxy;
use nas_nn::proxies::{JACOB_COV_UNDEFINED, synflow};
use nas_space::nn::Nb201Net;
use nas_space::{Nb201NetConfig, Nb201Space};
use std::sync::Arc;

fn evaluator(fields: serde_json::Value) -> Result<Arc<dyn Evaluator>, String> {
    let mut v = serde_json::json!({"type": "zero-cost", "channels": 4, "cells_per_stage": 1});
    for (k, x) in fields.as_object().unwrap() {
        v[k] = x.clone();
    }
    let config = PluginConfig::<dyn EvaluatorConfig>::from_value(v).map_err(|e| e.to_string())?;
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    config.config.build(&space).map_err(|e| e.to_string())
}

fn score(e: &Arc<dyn Evaluator>, code: &str, seed: u64) -> Result<f64, EvalError> {
    let trial = Trial {
        id: 0,
        genotype: Nb201Space::new().parse(code).unwrap(),
        fidelity: Fidelity::default(),
        seed,
    };
    let m = e.evaluate(&trial, &mut CollectingReporter::default())?;
    Ok(m.get("score").unwrap())
}

#[test]
fn every_proxy_scores_cells_reproducibly() {
    for proxy in Proxy::ALL {
        let e = evaluator(serde_json::json!({"proxy": proxy, "batch_size": 16})).unwrap();
        let a = score(&e, "333132", 3).unwrap();
        let b = score(&e, "333132", 3).unwrap();
        assert!(a.is_finite(), "{proxy:?}: {a}");
        assert_eq!(a.to_bits(), b.to_bits(), "{proxy:?} is not reproducible");
        let other = score(&e, "111111", 3).unwrap();
        assert_ne!(a, other, "{proxy:?} does not tell two cells apart");
    }
}

#[test]
fn synflow_prefers_wide_convolutions_and_needs_no_batch_norm() {
    let device = nas_nn::device("flex").unwrap().autodiff();
    let synflow =
        |ops: &[u32; 6], net: &Nb201NetConfig, device: &burn::tensor::Device, seed: u64| {
            synflow(
                Nb201Net::without_batch_norm(ops, net, device, seed),
                net.input,
                device,
            )
        };
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 2,
        input: [3, 16, 16],
        classes: 10,
    };
    let convs3 = synflow(&[3; 6], &net, &device, 1);
    let convs1 = synflow(&[2; 6], &net, &device, 1);
    let skips = synflow(&[1; 6], &net, &device, 1);
    assert!(
        convs3 > convs1 && convs1 > skips,
        "{convs3} {convs1} {skips}"
    );
    // With every weight positive and an all-ones input, nothing is cut by a ReLU: the
    // score grows with the weights' scale (synflow is not invariant to it, unlike an
    // accuracy), so a deeper stack of convolutions must score higher still.
    let deeper = synflow(
        &[3; 6],
        &Nb201NetConfig {
            cells_per_stage: 3,
            ..net
        },
        &device,
        1,
    );
    assert!(deeper > convs3, "{deeper} vs {convs3}");
}

#[test]
fn a_cell_cut_from_its_input_gets_the_floor_from_jacob_cov() {
    let e = evaluator(serde_json::json!({"proxy": "jacob_cov", "batch_size": 8})).unwrap();
    assert_eq!(score(&e, "000000", 1).unwrap(), JACOB_COV_UNDEFINED);
    assert!(score(&e, "333333", 1).unwrap() > JACOB_COV_UNDEFINED);
}

#[test]
fn bad_zero_cost_configs_say_what_is_wrong() {
    let e = evaluator(serde_json::json!({"proxy": "fisher"})).unwrap_err();
    assert!(e.contains("unknown variant `fisher`"), "{e}");
    let e = evaluator(serde_json::json!({"batch_size": 1})).unwrap_err();
    assert!(e.contains("`batch_size`"), "{e}");
    let e = evaluator(serde_json::json!({
        "proxy": "snip",
        "data": {"dataset": "mnist", "data_dir": "/nonexistent"}
    }))
    .unwrap_err();
    assert!(e.contains("/nonexistent"), "{e}");
}
