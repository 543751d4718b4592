//! The NAS-Bench-201 network on burn (see [`crate::nb201_cost`] for its structure; the
//! parameter count of a built network equals the structural count).
//!
//! # Shapes
//! Input `[batch, channels, height, width]` as in [`Nb201NetConfig::input`]; output
//! `[batch, classes]` logits.

use crate::nb201::EDGES;
use crate::nb201_cost::Nb201NetConfig;
use burn::module::Module;
use burn::nn::Initializer;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use nas_core::Rng;
use nas_nn::init::SeededInit;
use nas_nn::kernels::{self, conv2d};

pub(crate) fn conv(
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    padding: usize,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(false)
        .with_initializer(Initializer::Zeros)
        .init(device)
}

/// Trainable parameters of a batch norm: its affine weight and bias. (burn's
/// `num_params` also counts the running mean and variance.)
pub(crate) fn bn_params(bn: &BatchNorm) -> usize {
    bn.gamma.lazy_shape().num_elements() + bn.beta.lazy_shape().num_elements()
}

/// [`bn_params`] of a batch norm that the normalization-free variant leaves out.
pub(crate) fn optional_bn_params(bn: &Option<BatchNorm>) -> usize {
    bn.as_ref().map_or(0, bn_params)
}

/// A batch norm of `channels`, or none in the normalization-free variant.
pub(crate) fn batch_norm(channels: usize, with_bn: bool, device: &Device) -> Option<BatchNorm> {
    with_bn.then(|| BatchNormConfig::new(channels).init(device))
}

pub(crate) fn maybe_bn(bn: &Option<BatchNorm>, x: Tensor<4>) -> Tensor<4> {
    match bn {
        Some(bn) => kernels::batch_norm(bn, x),
        None => x,
    }
}

/// ReLU, convolution, batch norm: NB201's `nor_conv` and the reduction block's halves.
#[derive(Module, Debug)]
pub struct ReluConvBn {
    conv: Conv2d,
    bn: Option<BatchNorm>,
}

impl ReluConvBn {
    pub(crate) fn new(
        c_in: usize,
        c_out: usize,
        k: usize,
        stride: usize,
        bn: bool,
        device: &Device,
    ) -> Self {
        ReluConvBn {
            conv: conv(c_in, c_out, k, stride, k / 2, device),
            bn: batch_norm(c_out, bn, device),
        }
    }

    /// The ReLU is fused into the convolution ([`kernels::relu_conv2d`]): no pass of its
    /// own over the input, forward or backward, even where several edges leave a node.
    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        maybe_bn(&self.bn, kernels::relu_conv2d(&self.conv, x))
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.conv.num_params() + optional_bn_params(&self.bn)
    }
}

/// The classifier after global pooling (zero-initialized, then drawn by [`SeededInit`]).
pub(crate) fn classifier(channels: usize, classes: usize, device: &Device) -> Linear {
    LinearConfig::new(channels, classes)
        .with_initializer(Initializer::Zeros)
        .init(device)
}

/// The network's end: ReLU after the last batch norm, global average pooling over height
/// and width, the classifier.
pub(crate) fn head(last_bn: &Option<BatchNorm>, classifier: &Linear, x: Tensor<4>) -> Tensor<2> {
    let x = relu(maybe_bn(last_bn, x));
    let pooled: Tensor<2> = x.mean_dim(3).mean_dim(2).flatten(1, 3);
    classifier.forward(pooled)
}

/// NB201's `avg_pool_3x3`: stride 1, padding 1, padding not counted.
pub(crate) fn avg_pool_3x3() -> AvgPool2d {
    AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init()
}

/// One edge of a cell that is not `none`.
#[derive(Module, Debug)]
pub struct Edge {
    from: usize,
    to: usize,
    /// For `nor_conv_1x1` and `nor_conv_3x3`.
    conv: Option<ReluConvBn>,
    /// For `avg_pool_3x3`; neither set means `skip_connect`.
    pool: Option<AvgPool2d>,
}

impl Edge {
    /// The edge's op on node `x`.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match (&self.conv, &self.pool) {
            (Some(c), _) => c.forward(x),
            (None, Some(p)) => kernels::avg_pool(p, x),
            (None, None) => x,
        }
    }
}

/// A cell: node `j` is the sum of the edges into it; node 3 is the output.
#[derive(Module, Debug)]
pub struct Cell {
    edges: Vec<Edge>,
}

impl Cell {
    fn new(ops: &[u32; 6], channels: usize, bn: bool, device: &Device) -> Self {
        let edges = EDGES
            .iter()
            .zip(ops)
            .filter(|(_, op)| **op != 0)
            .map(|(&(from, to), &op)| Edge {
                from,
                to,
                conv: match op {
                    2 => Some(ReluConvBn::new(channels, channels, 1, 1, bn, device)),
                    3 => Some(ReluConvBn::new(channels, channels, 3, 1, bn, device)),
                    _ => None,
                },
                pool: (op == 4).then(avg_pool_3x3),
            })
            .collect();
        Cell { edges }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut nodes: Vec<Option<Tensor<4>>> = vec![Some(x.clone()), None, None, None];
        for j in 1..4 {
            let mut sum: Option<Tensor<4>> = None;
            for e in self.edges.iter().filter(|e| e.to == j) {
                if let Some(input) = nodes[e.from].clone() {
                    let y = e.forward(input);
                    sum = Some(match sum {
                        Some(s) => s + y,
                        None => y,
                    });
                }
            }
            nodes[j] = sum;
        }
        // A cell whose output is cut off computes zero.
        nodes[3].take().unwrap_or_else(|| x.zeros_like())
    }
}

/// The residual block between stages: halves the resolution, doubles the channels.
#[derive(Module, Debug)]
pub struct Reduction {
    conv_a: ReluConvBn,
    conv_b: ReluConvBn,
    shortcut_pool: AvgPool2d,
    shortcut_conv: Conv2d,
}

impl Reduction {
    pub(crate) fn new(c_in: usize, c_out: usize, bn: bool, device: &Device) -> Self {
        Reduction {
            conv_a: ReluConvBn::new(c_in, c_out, 3, 2, bn, device),
            conv_b: ReluConvBn::new(c_out, c_out, 3, 1, bn, device),
            shortcut_pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            shortcut_conv: conv(c_in, c_out, 1, 1, 0, device),
        }
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.conv_a.trainable_params()
            + self.conv_b.trainable_params()
            + self.shortcut_conv.num_params()
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let residual = conv2d(&self.shortcut_conv, self.shortcut_pool.forward(x.clone()));
        residual + self.conv_b.forward(self.conv_a.forward(x))
    }
}

/// A stage: an optional reduction block, then its cells.
#[derive(Module, Debug)]
pub struct Stage {
    reduction: Option<Reduction>,
    cells: Vec<Cell>,
}

/// The NAS-Bench-201 network of one cell.
#[derive(Module, Debug)]
pub struct Nb201Net {
    stem: Conv2d,
    stem_bn: Option<BatchNorm>,
    stages: Vec<Stage>,
    last_bn: Option<BatchNorm>,
    classifier: Linear,
}

impl Nb201Net {
    /// Builds the network of cell `ops` on `device`, its weights drawn from `seed` alone
    /// (see [`SeededInit`]).
    pub fn new(ops: &[u32; 6], net: &Nb201NetConfig, device: &Device, seed: u64) -> Self {
        Self::build(ops, net, device, seed, true)
    }

    /// The same network without any batch norm, as synflow scores it (Tanaka et al.
    /// 2020; Abdelfattah et al. 2021 build NB201 cells with `bn=False` for it): with batch
    /// norm, the all-ones input would be normalized away.
    pub fn without_batch_norm(
        ops: &[u32; 6],
        net: &Nb201NetConfig,
        device: &Device,
        seed: u64,
    ) -> Self {
        Self::build(ops, net, device, seed, false)
    }

    fn build(ops: &[u32; 6], net: &Nb201NetConfig, device: &Device, seed: u64, bn: bool) -> Self {
        let c = net.channels;
        let stages = (0..3)
            .map(|s| {
                let channels = c << s;
                Stage {
                    reduction: (s > 0).then(|| Reduction::new(channels / 2, channels, bn, device)),
                    cells: (0..net.cells_per_stage)
                        .map(|_| Cell::new(ops, channels, bn, device))
                        .collect(),
                }
            })
            .collect();
        Nb201Net {
            stem: conv(net.input[0], c, 3, 1, 1, device),
            stem_bn: batch_norm(c, bn, device),
            stages,
            last_bn: batch_norm(4 * c, bn, device),
            classifier: classifier(4 * c, net.classes, device),
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    /// Trainable parameters, the count the benchmark reports.
    pub fn trainable_params(&self) -> usize {
        let mut n = self.stem.num_params() + optional_bn_params(&self.stem_bn);
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                n += r.trainable_params();
            }
            for cell in &stage.cells {
                n += cell
                    .edges
                    .iter()
                    .filter_map(|e| e.conv.as_ref())
                    .map(ReluConvBn::trainable_params)
                    .sum::<usize>();
            }
        }
        n + optional_bn_params(&self.last_bn) + self.classifier.num_params()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = maybe_bn(&self.stem_bn, conv2d(&self.stem, x));
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                x = r.forward(x);
            }
            for cell in &stage.cells {
                x = cell.forward(x);
            }
        }
        head(&self.last_bn, &self.classifier, x)
    }
}
