//! The DARTS cell space: its network has the structural parameter count (the published
//! DARTS_V2 at the paper's CIFAR-10 setting included), its relaxed supernet's sampled and
//! mixed passes agree on one-hot weights, and DARTS and GDAS search it end to end.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use nas_core::{Rng, SearchSpace};
use nas_darts::{DartsConfig, RelaxedSearch};
use nas_data::DataConfig;
use nas_nn::{NetSpec, NetworkBuilder, Task, batch, kernels};
use nas_space::darts::{DARTS_V2, PRIMITIVES};
use nas_space::nn::darts_ops::Pool3x3;
use nas_space::nn::{DartsNetwork, DartsSupernet, darts_net_config};
use nas_space::{DartsArch, DartsSpace};
use std::sync::Arc;

fn spec(width: usize, depth: usize, input: [usize; 3]) -> NetSpec {
    NetSpec {
        task: Task::images(input, 10),
        width,
        depth,
    }
}

#[test]
fn darts_v2_at_the_papers_setting_has_3_349_342_parameters() {
    // C = 36, 20 cells (N = 6), 32x32x3, 10 classes, no auxiliary head.
    let device = Device::flex();
    let arch = DartsArch::parse(DARTS_V2).unwrap();
    let paper = spec(36, 6, [3, 32, 32]);
    let net = DartsNetwork.build(&arch, &paper, &device, 1);
    assert_eq!(net.trainable_params(), 3_349_342);
    assert_eq!(DartsNetwork.cost(&arch, &paper).params, 3_349_342);
}

#[test]
fn built_networks_have_their_structural_count_and_shape() {
    let device = Device::flex();
    let space = DartsSpace::new();
    let mut rng = Rng::new(7);
    let x = Tensor::<4>::ones([2, 1, 8, 8], &device);
    for depth in [0, 1] {
        let s = spec(4, depth, [1, 8, 8]);
        for _ in 0..4 {
            let arch = space.arch(&space.sample(&mut rng)).unwrap();
            let net = DartsNetwork.build(&arch, &s, &device, 3);
            let cost = DartsNetwork.cost(&arch, &s);
            assert_eq!(net.trainable_params() as u64, cost.params, "{arch}");
            let estimate = DartsNetwork.counts(&arch, &s);
            assert_eq!(estimate.params, cost.params as f64, "{arch}");
            assert_eq!(net.forward(x.clone()).dims(), [2, 10]);
        }
    }
    let odd = NetworkBuilder::check_task(&DartsNetwork, &Task::images([1, 6, 6], 10));
    assert!(odd.unwrap_err().contains("multiples of 4"));
    assert_eq!(darts_net_config(&spec(16, 2, [3, 32, 32])).cells, 8);
}

#[test]
fn depthwise_convolutions_are_burns_grouped_ones() {
    // The depthwise kernel against burn's grouped convolution: output, input gradient
    // and weight gradient, with and without the fused ReLU.
    let device = Device::flex().autodiff();
    let mut rng = Rng::new(4);
    for (k, stride, dilation, relu_first) in [
        (3, 1, 1, true),
        (5, 2, 1, true),
        (3, 1, 2, false),
        (5, 2, 2, true),
    ] {
        let padding = dilation * (k - 1) / 2;
        let conv = Conv2dConfig::new([4, 4], [k, k])
            .with_groups(4)
            .with_stride([stride, stride])
            .with_dilation([dilation, dilation])
            .with_padding(PaddingConfig2d::Explicit(
                padding, padding, padding, padding,
            ))
            .with_bias(false)
            .init(&device);
        let values: Vec<f32> = (0..2 * 4 * 8 * 8)
            .map(|_| rng.uniform_in(-1.0, 1.0) as f32)
            .collect();
        let x =
            Tensor::<4>::from_data(TensorData::new(values, [2, 4, 8, 8]), &device).require_grad();
        let ours = if relu_first {
            kernels::relu_conv2d(&conv, x.clone())
        } else {
            kernels::conv2d(&conv, x.clone())
        };
        let theirs = conv.forward(if relu_first {
            relu(x.clone())
        } else {
            x.clone()
        });
        let close = |a: Tensor<4>, b: Tensor<4>, what: &str| {
            assert_eq!(a.dims(), b.dims(), "{what}");
            let diff: f32 = (a - b).abs().max().into_scalar();
            assert!(
                diff < 1e-5,
                "k {k} stride {stride} dilation {dilation}: {what} {diff}"
            );
        };
        close(ours.clone(), theirs.clone(), "output");
        let weights = Tensor::<4>::ones(ours.dims(), &device).mul_scalar(0.5);
        let (g_ours, g_theirs) = (
            (ours * weights.clone()).sum().backward(),
            (theirs * weights).sum().backward(),
        );
        close(
            Tensor::from_inner(x.grad(&g_ours).unwrap()),
            Tensor::from_inner(x.grad(&g_theirs).unwrap()),
            "input gradient",
        );
        close(
            Tensor::from_inner(conv.weight.val().grad(&g_ours).unwrap()),
            Tensor::from_inner(conv.weight.val().grad(&g_theirs).unwrap()),
            "weight gradient",
        );
    }
}

#[test]
fn the_pools_are_burns_pools_at_either_stride() {
    // Max pooling pads with -inf (a negative map stays negative); average pooling does not
    // count the padding. Odd sizes too, though the network only halves even ones.
    let device = Device::flex().autodiff();
    let mut rng = Rng::new(9);
    for (side, stride) in [(6, 1), (6, 2), (7, 2), (5, 1)] {
        let values: Vec<f32> = (0..2 * 3 * side * side)
            .map(|_| rng.uniform_in(-2.0, -1.0) as f32)
            .collect();
        let x = Tensor::<4>::from_data(TensorData::new(values, [2, 3, side, side]), &device);
        let padding = PaddingConfig2d::Explicit(1, 1, 1, 1);
        let theirs_max = MaxPool2dConfig::new([3, 3])
            .with_strides([stride, stride])
            .with_padding(padding.clone())
            .init()
            .forward(x.clone());
        let theirs_avg = AvgPool2dConfig::new([3, 3])
            .with_strides([stride, stride])
            .with_padding(padding)
            .with_count_include_pad(false)
            .init()
            .forward(x.clone());
        for (ours, theirs) in [
            (Pool3x3::max(stride).forward(x.clone()), theirs_max),
            (Pool3x3::average(stride).forward(x.clone()), theirs_avg),
        ] {
            assert_eq!(ours.dims(), theirs.dims(), "{side} {stride}");
            let diff: f32 = (ours - theirs).abs().max().into_scalar();
            assert!(diff < 1e-6, "{side} {stride}: {diff}");
        }
    }
}

#[test]
fn the_sampled_pass_with_one_hot_weights_is_the_mixed_pass() {
    let device = Device::flex().autodiff();
    let net = darts_net_config(&spec(4, 0, [1, 8, 8]));
    let supernet = DartsSupernet::new(&net, &device, 5);
    let splits = DataConfig::default().load().unwrap();
    let (x, _) = batch(&splits.train, &(0..8).collect::<Vec<_>>(), &device);
    let mut rng = Rng::new(2);
    for _ in 0..3 {
        let choices: Vec<usize> = (0..28).map(|_| rng.index(PRIMITIVES.len())).collect();
        let mut one_hot = vec![0f32; 28 * 8];
        for (row, &k) in choices.iter().enumerate() {
            one_hot[row * 8 + k] = 1.0;
        }
        let w = Tensor::<2>::from_data(TensorData::new(one_hot, [28, 8]), &device);
        let sampled = supernet.forward_sampled(x.clone(), &w, &choices);
        let mixed = supernet.forward_mixed(x.clone(), &w);
        assert_eq!(sampled.dims(), [8, 10]);
        let diff: f32 = (sampled - mixed).abs().max().into_scalar();
        assert!(diff < 1e-5, "{choices:?}: {diff}");
    }
}

#[test]
fn darts_and_gdas_search_the_cell_space() {
    let space: Arc<dyn SearchSpace> = Arc::new(DartsSpace::new());
    let darts = DartsConfig {
        epochs: 2,
        data_fraction: 0.1,
        channels: 4,
        cells_per_stage: 1,
        ..DartsConfig::default()
    };
    for (name, config) in crate::with_gdas(darts) {
        let phase = RelaxedSearch::new(name, &config, space.clone()).unwrap();
        let outcome = phase.run(1, &mut |_| {}).unwrap();
        assert_eq!(outcome.shape, [28, 8]);
        assert_eq!(outcome.candidates[0], "none");
        assert_eq!(outcome.trajectory.len(), 2);
        let text = space.render(&outcome.genotype);
        assert!(text.starts_with("Genotype(normal=[('"), "{text}");
        assert_eq!(space.parse(&text).unwrap(), outcome.genotype);
        // Deterministic: the same seed derives the same cell from the same weights.
        let again = phase.run(1, &mut |_| {}).unwrap();
        assert_eq!(again.alpha, outcome.alpha, "{name}");
    }
}
