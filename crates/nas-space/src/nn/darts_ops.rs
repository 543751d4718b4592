//! The DARTS ops on burn, with the original code's definitions (see
//! [`crate::darts_cost`]), shared by the stand-alone network and the relaxed supernet. A
//! batch norm is affine in the network and affine-free in the supernet's mixed ops, as in
//! the original code.

use super::nb201_net::conv;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor};
use nas_nn::kernels;

/// A batch norm, affine or not.
#[derive(Module, Debug)]
pub struct Norm {
    bn: BatchNorm,
    affine: bool,
}

impl Norm {
    pub(crate) fn new(channels: usize, affine: bool, device: &Device) -> Self {
        Norm {
            bn: BatchNormConfig::new(channels).init(device),
            affine,
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if self.affine {
            kernels::batch_norm(&self.bn, x)
        } else {
            kernels::batch_norm_affine_free(&self.bn, x)
        }
    }

    pub(crate) fn trainable_params(&self) -> usize {
        if self.affine {
            2 * self.bn.gamma.lazy_shape().num_elements()
        } else {
            0
        }
    }
}

/// A depthwise `k x k` convolution (one filter per channel), padding keeping the size.
fn depthwise(channels: usize, k: usize, stride: usize, dilation: usize, device: &Device) -> Conv2d {
    let padding = dilation * (k - 1) / 2;
    Conv2dConfig::new([channels, channels], [k, k])
        .with_stride([stride, stride])
        .with_dilation([dilation, dilation])
        .with_groups(channels)
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(false)
        .with_initializer(Initializer::Zeros)
        .init(device)
}

/// ReLU, depthwise conv, pointwise conv, batch norm: one half of a `sep_conv`, or a
/// `dil_conv` (dilation 2).
#[derive(Module, Debug)]
pub struct ReluDwPwBn {
    depthwise: Conv2d,
    pointwise: Conv2d,
    norm: Norm,
}

impl ReluDwPwBn {
    fn new(c: usize, k: usize, stride: usize, dilation: usize, affine: bool, d: &Device) -> Self {
        ReluDwPwBn {
            depthwise: depthwise(c, k, stride, dilation, d),
            pointwise: conv(c, c, 1, 1, 0, d),
            norm: Norm::new(c, affine, d),
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = kernels::relu_conv2d(&self.depthwise, x);
        self.norm.forward(kernels::conv2d(&self.pointwise, x))
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.depthwise.num_params() + self.pointwise.num_params() + self.norm.trainable_params()
    }
}

/// `sep_conv_kxk`: two [`ReluDwPwBn`], the stride on the first.
#[derive(Module, Debug)]
pub struct SepConv {
    first: ReluDwPwBn,
    second: ReluDwPwBn,
}

impl SepConv {
    pub(crate) fn new(c: usize, k: usize, stride: usize, affine: bool, d: &Device) -> Self {
        SepConv {
            first: ReluDwPwBn::new(c, k, stride, 1, affine, d),
            second: ReluDwPwBn::new(c, k, 1, 1, affine, d),
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.second.forward(self.first.forward(x))
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.first.trainable_params() + self.second.trainable_params()
    }
}

/// `dil_conv_kxk`.
pub(crate) fn dil_conv(c: usize, k: usize, stride: usize, affine: bool, d: &Device) -> ReluDwPwBn {
    ReluDwPwBn::new(c, k, stride, 2, affine, d)
}

/// ReLU, two 1x1 stride-2 convolutions of half the output channels each, the second on
/// the input shifted by one pixel, concatenated, batch norm: halves an even size.
#[derive(Module, Debug)]
pub struct FactorizedReduce {
    conv_1: Conv2d,
    conv_2: Conv2d,
    norm: Norm,
}

impl FactorizedReduce {
    pub(crate) fn new(c_in: usize, c_out: usize, affine: bool, d: &Device) -> Self {
        FactorizedReduce {
            conv_1: conv(c_in, c_out / 2, 1, 2, 0, d),
            conv_2: conv(c_in, c_out - c_out / 2, 1, 2, 0, d),
            norm: Norm::new(c_out, affine, d),
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let shifted = x.clone().slice([0..b, 0..c, 1..h, 1..w]);
        let halves = vec![
            kernels::relu_conv2d(&self.conv_1, x),
            kernels::relu_conv2d(&self.conv_2, shifted),
        ];
        self.norm.forward(Tensor::cat(halves, 1))
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.conv_1.num_params() + self.conv_2.num_params() + self.norm.trainable_params()
    }
}

/// ReLU, 1x1 convolution, batch norm: a cell's preprocessing of an input.
#[derive(Module, Debug)]
pub struct ReluConv1x1Bn {
    conv: Conv2d,
    norm: Norm,
}

impl ReluConv1x1Bn {
    pub(crate) fn new(c_in: usize, c_out: usize, affine: bool, d: &Device) -> Self {
        ReluConv1x1Bn {
            conv: conv(c_in, c_out, 1, 1, 0, d),
            norm: Norm::new(c_out, affine, d),
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(kernels::relu_conv2d(&self.conv, x))
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.conv.num_params() + self.norm.trainable_params()
    }
}

/// A cell's preprocessing of the input from two cells back: a factorized reduce when that
/// input is before a reduction (twice the size), else ReLU-1x1 conv-BN.
#[derive(Module, Debug)]
pub struct Preprocess {
    reduce: Option<FactorizedReduce>,
    plain: Option<ReluConv1x1Bn>,
}

impl Preprocess {
    pub(crate) fn new(c_in: usize, c_out: usize, halve: bool, affine: bool, d: &Device) -> Self {
        Preprocess {
            reduce: halve.then(|| FactorizedReduce::new(c_in, c_out, affine, d)),
            plain: (!halve).then(|| ReluConv1x1Bn::new(c_in, c_out, affine, d)),
        }
    }

    pub(crate) fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match (&self.reduce, &self.plain) {
            (Some(r), _) => r.forward(x),
            (None, Some(p)) => p.forward(x),
            (None, None) => x,
        }
    }

    pub(crate) fn trainable_params(&self) -> usize {
        self.reduce
            .as_ref()
            .map_or(0, FactorizedReduce::trainable_params)
            + self
                .plain
                .as_ref()
                .map_or(0, ReluConv1x1Bn::trainable_params)
    }
}

/// A 3x3 pooling, padding 1, at stride 1 or 2: max (the padding never wins) or average
/// (the padding not counted), as the original's `max_pool_3x3` and `avg_pool_3x3`.
///
/// Computed as the stride-1 pooling (the maximum separably, over three columns then three
/// rows; the average through the CPU kernel), then at stride 2 every second row and column,
/// which is exactly the stride-2 pooling. burn's own max pooling took five times as long as
/// a skip connection in a cell of this space (`nas eval` of a cell of all `max_pool_3x3`:
/// 74 s against 14 s for all `skip_connect`, one epoch on 1% of Fashion-MNIST).
#[derive(Module, Debug)]
pub struct Pool3x3 {
    max: bool,
    stride: usize,
    average: AvgPool2d,
}

impl Pool3x3 {
    pub fn max(stride: usize) -> Self {
        Pool3x3 {
            max: true,
            stride,
            average: avg_pool_3x3(),
        }
    }

    pub fn average(stride: usize) -> Self {
        Pool3x3 {
            max: false,
            ..Pool3x3::max(stride)
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let pooled = if self.max {
            max_3x3(x)
        } else {
            kernels::avg_pool(&self.average, x)
        };
        if self.stride == 2 {
            every_second(pooled)
        } else {
            pooled
        }
    }
}

/// 3x3 maximum at stride 1, the border padded with `-inf`.
fn max_3x3(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let padded = x.pad((1, 1, 1, 1), PadMode::Constant(f32::NEG_INFINITY));
    let columns = |t: Tensor<4>, dim: usize, n: usize| {
        t.clone()
            .narrow(dim, 0, n)
            .max_pair(t.clone().narrow(dim, 1, n))
            .max_pair(t.narrow(dim, 2, n))
    };
    columns(columns(padded, 3, w), 2, h)
}

/// Rows and columns `0, 2, 4, ...`.
fn every_second(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let x = if h % 2 == 1 || w % 2 == 1 {
        x.pad((0, w % 2, 0, h % 2), PadMode::Constant(0.0))
    } else {
        x
    };
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h / 2, 2, w / 2, 2])
        .narrow(3, 0, 1)
        .narrow(5, 0, 1)
        .reshape([b, c, h / 2, w / 2])
}

/// 3x3 average pooling at stride 1, padding 1, the padding not counted (the CPU kernel's).
fn avg_pool_3x3() -> AvgPool2d {
    AvgPool2dConfig::new([3, 3])
        .with_strides([1, 1])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_count_include_pad(false)
        .init()
}
