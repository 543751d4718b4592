//! The wgpu backend computes what the CPU backend does with the same weights, and says
//! "no GPU adapter" where there is none.
//!
//! Without any adapter the agreement test is skipped with a message, so the workspace's
//! tests pass on a machine without a GPU or lavapipe; CI installs lavapipe and sets
//! `NAS_REQUIRE_GPU_ADAPTER=1`, which makes a missing adapter a failure.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use burn::tensor::{Tensor, TensorData};
use nas_backend_ndarray as _;
use nas_backend_wgpu::NO_ADAPTER;
use nas_eval as _; // Registers the zero-cost evaluator.
use nas_nn::device;
use nas_space::Nb201NetConfig;
use nas_space::nn::Nb201Net;

fn adapter_required() -> bool {
    std::env::var("NAS_REQUIRE_GPU_ADAPTER").is_ok_and(|v| v == "1")
}

#[test]
fn wgpu_and_ndarray_agree_on_the_same_network() {
    let gpu = match device("wgpu") {
        Ok(d) => d,
        Err(e) if !adapter_required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 1,
        input: [1, 8, 8],
        classes: 10,
    };
    let input: Vec<f32> = (0..2 * 64)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let run = |d: &burn::tensor::Device| {
        // Every op of the space: skip, 1x1 and 3x3 convolutions, pooling, none.
        let model = Nb201Net::new(&[3, 4, 2, 1, 3, 0], &net, d, 42);
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [2, 1, 8, 8]), d);
        model.forward(x).into_data().try_to_vec::<f32>().unwrap()
    };
    let (a, b) = (run(&gpu), run(&device("ndarray").unwrap()));
    assert_eq!(a.len(), 20);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

#[test]
fn without_an_adapter_wgpu_says_so() {
    // What the registered device function does with an empty adapter list (a machine
    // without a GPU driver or lavapipe cannot be made on demand in a test).
    let e = nas_backend_wgpu::pick(Vec::new()).unwrap_err();
    assert_eq!(e, NO_ADAPTER);
    assert!(e.starts_with("no GPU adapter"), "{e}");
    assert!(
        e.contains("mesa-vulkan-drivers") && e.contains("flex"),
        "{e}"
    );
}

#[test]
fn the_picked_adapter_is_the_one_burn_opens_and_is_described() {
    let gpu = match device("wgpu") {
        Ok(d) => d,
        Err(e) if !adapter_required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let picked = nas_backend_wgpu::picked_adapter().expect("an adapter was found");
    let opened = gpu.identity().expect("a wgpu device reports its identity");
    // The probe mirrors cubecl's choice; a mismatch would name the wrong adapter.
    assert_eq!(picked.name, opened.name);
    let line = picked.describe();
    assert!(
        line.contains(&picked.name) && line.contains(&picked.backend),
        "{line}"
    );
    // lavapipe and llvmpipe have no card behind them; they are the ones warned about.
    assert_eq!(picked.software, opened.physical.is_none(), "{picked:?}");
    assert_eq!(picked.warning().is_some(), picked.software);
}

/// The zero-cost proxies that compute in f64 either run on this adapter or are refused when
/// the evaluator is built; they panicked in every trial (`Float(F64) not supported`) on an
/// adapter without f64 (Mesa's llvmpipe behind OpenGL).
#[test]
fn zero_cost_proxies_run_or_are_refused_up_front_on_wgpu() {
    use nas_core::evaluator::CollectingReporter;
    use nas_core::registry::PluginConfig;
    use nas_core::{EvaluatorConfig, SearchSpace, Trial};
    use std::sync::Arc;

    let gpu = match device("wgpu") {
        Ok(d) => d,
        Err(e) if !adapter_required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let f64_ok = gpu.supports_dtype(burn::tensor::FloatDType::F64);
    eprintln!("this adapter computes in f64: {f64_ok}");
    let space: Arc<dyn SearchSpace> = Arc::new(nas_space::Nb201Space::new());
    let trial = Trial {
        id: 0,
        genotype: space
            .parse("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")
            .unwrap(),
        fidelity: Default::default(),
        seed: 3,
    };
    for (proxy, needs_f64) in [("synflow", true), ("snip", true), ("params", false)] {
        let config = serde_json::json!({
            "type": "zero-cost", "proxy": proxy, "backend": "wgpu",
            "channels": 4, "cells_per_stage": 1, "input": [1, 8, 8], "batch_size": 8
        });
        let built = PluginConfig::<dyn EvaluatorConfig>::from_value(config)
            .unwrap()
            .config
            .build(&space);
        match built {
            Err(e) => {
                let e = e.to_string();
                assert!(needs_f64 && !f64_ok, "{proxy}: {e}");
                assert!(
                    e.contains("f64") && e.contains("synflow, grad_norm, snip, jacob_cov"),
                    "{e}"
                );
            }
            Ok(evaluator) => {
                let m = evaluator
                    .evaluate(&trial, &mut CollectingReporter::default())
                    .unwrap();
                assert!(m.get("score").unwrap().is_finite(), "{proxy}: {m:?}");
            }
        }
    }
}

/// Every parameter's gradient, flattened in visiting order.
struct Grads<'a> {
    grads: &'a burn::tensor::Gradients,
    values: Vec<f32>,
}

impl burn::module::ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        if let Some(g) = param.val().grad(self.grads) {
            self.values
                .extend(g.into_data().try_to_vec::<f32>().unwrap_or_default());
        }
    }
}

/// DARTS's first step on wgpu: the gradients of the mixed NB201 supernet's loss with
/// respect to alpha and to every weight are the CPU backend's, within tolerance (issue
/// #15: the supernet trains on any registered backend). ndarray is the CPU side: this
/// binary links it, not flex.
#[test]
fn darts_first_step_gradients_agree_on_wgpu_and_the_cpu() {
    use burn::module::Module;
    use burn::tensor::Int;
    use burn::tensor::activation::softmax;
    use nas_space::nn::Nb201Supernet;

    let gpu = match device("wgpu") {
        Ok(d) => d,
        Err(e) if !adapter_required() => {
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 1,
        input: [1, 8, 8],
        classes: 10,
    };
    let input: Vec<f32> = (0..4 * 64)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let alpha: Vec<f32> = (0..30)
        .map(|i| ((i * 13 % 7) as f32 - 3.0) / 10.0)
        .collect();
    let run = |d: &burn::tensor::Device| {
        let d = d.clone().autodiff();
        let supernet = Nb201Supernet::new(&net, &d, 42);
        let a = Tensor::<2>::from_data(TensorData::new(alpha.clone(), [6, 5]), &d).require_grad();
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [4, 1, 8, 8]), &d);
        let y = Tensor::<1, Int>::from_data(TensorData::new(vec![3i64, 1, 4, 1], [4]), &d);
        let logits = supernet.forward_mixed(x, &softmax(a.clone(), 1));
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&d)
            .forward(logits, y);
        let grads = loss.backward();
        let alpha_grad = a
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let mut weights = Grads {
            grads: &grads,
            values: Vec::new(),
        };
        supernet.visit(&mut weights);
        (alpha_grad, weights.values)
    };
    let (gpu_alpha, gpu_weights) = run(&gpu);
    let (cpu_alpha, cpu_weights) = run(&device("ndarray").unwrap());
    assert_eq!(gpu_weights.len(), cpu_weights.len());
    assert!(!cpu_weights.is_empty());
    let close = |a: &[f32], b: &[f32], what: &str| {
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-3 * scale,
                "{what}[{i}]: wgpu {x}, cpu {y}"
            );
        }
    };
    close(&gpu_alpha, &cpu_alpha, "alpha gradient");
    close(&gpu_weights, &cpu_weights, "weight gradient");
}
