//! GDAS and beta-DARTS: GDAS's sampled forward pass is the sampled cell's, its temperature
//! anneals, and both are deterministic; Beta-Decay keeps alpha flatter than DARTS's from
//! the same start; each name refuses the others' settings.

use burn::tensor::{Device, Tensor, TensorData};
use nas_core::config::ExperimentConfig;
use nas_core::{Experiment, SearchSpace};
use nas_darts::{DartsConfig, Relaxation, RelaxedSearch};
use nas_data::DataConfig;
use nas_nn::batch;
use nas_space::Nb201NetConfig;
use nas_space::Nb201Space;
use nas_space::nn::Nb201Supernet;
use serde_json::json;
use std::sync::Arc;

fn config(relaxation: Relaxation, beta_decay: f64) -> DartsConfig {
    DartsConfig {
        epochs: 2,
        data_fraction: 0.5,
        learning_rate: 0.05,
        arch_learning_rate: 3e-3,
        relaxation,
        beta_decay,
        ..DartsConfig::default()
    }
}

fn gumbel() -> Relaxation {
    Relaxation::Gumbel {
        tau_max: 10.0,
        tau_min: 0.1,
    }
}

fn space() -> Arc<dyn SearchSpace> {
    Arc::new(Nb201Space::new())
}

#[test]
fn a_sampled_pass_with_one_hot_weights_is_the_cell_alone() {
    let device = Device::flex().autodiff();
    let splits = DataConfig::default().load().unwrap();
    let net = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 1,
        input: [1, 8, 8],
        classes: 10,
    };
    let supernet = Nb201Supernet::new(&net, &device, 3);
    let (x, _) = batch(&splits.train, &(0..16).collect::<Vec<_>>(), &device);
    for ops in [[3, 1, 0, 2, 4, 3], [0, 0, 0, 0, 0, 1], [4, 4, 2, 2, 1, 0]] {
        let mut one_hot = vec![0f32; 30];
        for (edge, &op) in ops.iter().enumerate() {
            one_hot[edge * 5 + op as usize] = 1.0;
        }
        let w = Tensor::<2>::from_data(TensorData::new(one_hot, [6, 5]), &device);
        let sampled = supernet.forward_sampled(x.clone(), &w, &ops);
        let alone = supernet.forward(x.clone(), &ops);
        let diff: f32 = (sampled - alone).abs().max().into_scalar();
        assert!(diff < 1e-6, "{ops:?}: {diff}");
    }
}

#[test]
fn gdas_anneals_its_temperature_and_is_deterministic() {
    // One sampled cell trains per step: GDAS learns slower than DARTS at first.
    let gdas = DartsConfig {
        epochs: 3,
        data_fraction: 1.0,
        ..config(gumbel(), 0.0)
    };
    let phase = RelaxedSearch::new("gdas", &gdas, space()).unwrap();
    let mut lines = Vec::new();
    let a = phase.run(5, &mut |m| lines.push(m.to_string())).unwrap();
    assert!(lines[0].starts_with("gdas: epoch 1/3"), "{lines:?}");
    let taus: Vec<f64> = a.trajectory.iter().filter_map(|r| r.temperature).collect();
    assert_eq!((taus.len(), taus[0], taus[2]), (3, 10.0, 0.1));
    assert!(taus[1] < 10.0 && taus[1] > 0.1);
    assert!(a.trajectory[2].valid_acc > 25.0, "{:?}", a.trajectory[2]);
    let b = phase.run(5, &mut |_| {}).unwrap();
    assert_eq!(a.alpha, b.alpha, "same seed, same search");
    // GDAS moves alpha too.
    let c = RelaxedSearch::new("darts", &config(Relaxation::Softmax, 0.0), space())
        .unwrap()
        .run(5, &mut |_| {})
        .unwrap();
    assert_ne!(a.alpha, c.alpha);
}

#[test]
fn beta_decay_keeps_alpha_flatter_than_darts_from_the_same_start() {
    let peak = |beta: f64| {
        let name = if beta > 0.0 { "beta-darts" } else { "darts" };
        let outcome = RelaxedSearch::new(name, &config(Relaxation::Softmax, beta), space())
            .unwrap()
            .run(5, &mut |_| {})
            .unwrap();
        let last = outcome.trajectory.last().unwrap();
        last.probabilities.iter().fold(0f32, |m, &p| m.max(p))
    };
    let (darts, beta) = (peak(0.0), peak(5.0));
    assert!(beta < darts, "beta-darts peak {beta} vs darts {darts}");
}

#[test]
fn each_name_refuses_the_others_settings() {
    let build = |strategy: serde_json::Value| {
        let config = json!({
            "name": "x", "budget": { "trials": 1 }, "space": "nb201",
            "strategy": strategy, "evaluator": "train",
        });
        Experiment::build(ExperimentConfig::from_json(config).unwrap())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let err = build(json!({ "type": "darts", "beta_decay": 1.0 }));
    assert!(
        err.contains("beta_decay") && err.contains("beta-darts"),
        "{err}"
    );
    let err = build(
        json!({ "type": "darts", "relaxation": { "type": "gumbel", "tau_max": 10.0, "tau_min": 0.1 } }),
    );
    assert!(err.contains("relaxation") && err.contains("gdas"), "{err}");
    let err = build(json!({ "type": "gdas", "relaxation": { "type": "softmax" } }));
    assert!(err.contains("relaxation"), "{err}");
    let err = build(
        json!({ "type": "gdas", "relaxation": { "type": "gumbel", "tau_max": 0.1, "tau_min": 1.0 } }),
    );
    assert!(err.contains("tau_min"), "{err}");
    let err = build(json!({ "type": "beta-darts", "beta_decay": 0.0 }));
    assert!(err.contains("must be positive"), "{err}");
    assert!(build(json!("gdas")).is_empty() && build(json!("beta-darts")).is_empty());
}
