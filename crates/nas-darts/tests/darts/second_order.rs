//! Second-order DARTS's pieces: the unrolled weights are exactly one more SGD step, a
//! perturbation moves every weight by the given multiple of the direction, and a
//! second-order search runs, is deterministic and differs from the first-order one.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use nas_core::SearchSpace;
use nas_darts::{DartsConfig, RelaxedSearch};
use nas_data::DataConfig;
use nas_nn::{NetSpec, RelaxedWeights, Task, batch};
use nas_space::Nb201Space;
use std::sync::Arc;

fn weights(device: &Device) -> Box<dyn RelaxedWeights> {
    let spec = NetSpec {
        task: Task::images([1, 8, 8], 10),
        width: 4,
        depth: 1,
    };
    nas_nn::relaxed_of("nb201").unwrap().relaxed_weights(
        &nas_space::Nb201Space::new(),
        &spec,
        device,
        7,
        0.9,
        3e-4,
    )
}

fn loss(w: &dyn RelaxedWeights, device: &Device) -> Tensor<1> {
    let splits = DataConfig::default().load().unwrap();
    let (x, y) = batch(&splits.train, &(0..16).collect::<Vec<_>>(), device);
    let mix = softmax(Tensor::<2>::zeros([6, 5], device), 1);
    CrossEntropyLossConfig::new()
        .init(device)
        .forward(w.forward(x, &mix), y)
}

/// The trainable weights' bits: batch norm's running statistics move with every forward
/// pass in training mode, which the unrolled step takes on the weights too (as DARTS's).
fn trainable(w: &dyn RelaxedWeights) -> std::collections::BTreeMap<String, Vec<u32>> {
    let mut bits = w.parameter_bits();
    bits.retain(|path, _| !path.contains("running_"));
    bits
}

#[test]
fn the_unrolled_weights_are_one_more_sgd_step_and_leave_the_weights_alone() {
    let device = Device::flex().autodiff();
    let mut w = weights(&device);
    // A first real step, so the unrolled one uses a velocity too.
    let l = loss(w.as_ref(), &device);
    w.step(l, 0.05);
    let before = trainable(w.as_ref());
    let unrolled = w.unrolled(loss(w.as_ref(), &device), 0.05);
    let after = trainable(w.as_ref());
    let changed: Vec<&String> = after.keys().filter(|k| after[*k] != before[*k]).collect();
    assert!(changed.is_empty(), "the weights moved: {changed:?}");
    let l = loss(w.as_ref(), &device);
    w.step(l, 0.05);
    let (a, b) = (trainable(unrolled.as_ref()), trainable(w.as_ref()));
    let differ: Vec<&String> = a.keys().filter(|k| a[*k] != b[*k]).collect();
    assert!(
        differ.is_empty(),
        "unrolled and stepped differ in {differ:?}"
    );
    assert_ne!(b, before);
}

#[test]
fn a_perturbation_moves_every_weight_along_the_direction() {
    let device = Device::flex().autodiff();
    let w = weights(&device);
    let grads = loss(w.as_ref(), &device).backward();
    let direction = w.weight_grads(&grads);
    assert!(direction.norm() > 0.0);
    let scale = 0.5;
    let (up, down) = (
        w.perturbed(&direction, scale),
        w.perturbed(&direction, -scale),
    );
    let (a, b, base) = (
        up.parameter_bits(),
        down.parameter_bits(),
        w.parameter_bits(),
    );
    let mut moved = 0;
    for (path, bits) in &base {
        let value =
            |m: &std::collections::BTreeMap<String, Vec<u32>>, i: usize| f32::from_bits(m[path][i]);
        for i in 0..bits.len() {
            let (x, p, m) = (value(&base, i), value(&a, i), value(&b, i));
            // Symmetric about the weights: w + s v and w - s v.
            assert!(
                ((p + m) / 2.0 - x).abs() <= 1e-5 * (1.0 + x.abs()),
                "{path}[{i}]"
            );
            if p != x {
                moved += 1;
            }
        }
    }
    assert!(moved > 0);
}

#[test]
fn a_second_order_search_runs_and_is_deterministic() {
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let config = |order| DartsConfig {
        epochs: 1,
        data_fraction: 0.25,
        channels: 4,
        order,
        ..DartsConfig::default()
    };
    let second = RelaxedSearch::new("darts", &config(2), Arc::clone(&space)).unwrap();
    let a = second.run(3, &mut |_| {}).unwrap();
    let b = second.run(3, &mut |_| {}).unwrap();
    assert_eq!(a.alpha, b.alpha);
    let first = RelaxedSearch::new("darts", &config(1), space)
        .unwrap()
        .run(3, &mut |_| {})
        .unwrap();
    assert_ne!(
        a.alpha, first.alpha,
        "the Hessian term changes alpha's steps"
    );
    assert_eq!(a.cost.weight_steps, first.cost.weight_steps);
}
