//! Convolution ([`nas_kernels::conv2d_forward`] and its two gradients), with or without
//! the ReLU before it fused.

use super::filter::FilterKernel;
use super::{CpuKernels, DepthwiseGeometry, applies};
use burn::backend::Dispatch;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use nas_kernels::{Conv2dShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};

/// What a tensor's shape does not say about the convolution.
#[derive(Debug, Clone, Copy)]
pub struct ConvGeometry {
    /// `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// `[vertical, horizontal]`.
    pub padding: [usize; 2],
    /// Whether the convolution reads `relu(x)` (see [`relu_conv2d`]).
    pub relu_input: bool,
}

impl ConvGeometry {
    fn shape(self, xd: [usize; 4], wd: [usize; 4]) -> Conv2dShape {
        let [batch, channels_in, height, width] = xd;
        let [channels_out, _, kh, kw] = wd;
        Conv2dShape {
            batch,
            channels_in,
            height,
            width,
            channels_out,
            kernel: [kh, kw],
            stride: self.stride,
            padding: self.padding,
            relu_input: self.relu_input,
        }
    }
}

impl FilterKernel for ConvGeometry {
    fn forward(
        self,
        x: &[f32],
        xd: [usize; 4],
        w: &[f32],
        wd: [usize; 4],
    ) -> (Vec<f32>, Vec<usize>) {
        let s = self.shape(xd, wd);
        let [h, w_out] = s.output_size();
        (
            conv2d_forward(x, w, &s),
            vec![s.batch, s.channels_out, h, w_out],
        )
    }
    fn input_grad(
        self,
        dy: &[f32],
        w: &[f32],
        x: &[f32],
        xd: [usize; 4],
        wd: [usize; 4],
    ) -> Vec<f32> {
        conv2d_input_grad(dy, w, x, &self.shape(xd, wd))
    }
    fn weight_grad(self, x: &[f32], dy: &[f32], xd: [usize; 4], wd: [usize; 4]) -> Vec<f32> {
        conv2d_weight_grad(x, dy, &self.shape(xd, wd))
    }
}

/// `conv.forward(x)`, through the kernels where they apply (see the module doc); the
/// result is the same convolution either way.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    convolve(conv, x, false)
}

/// `conv.forward(relu(x))`. On the CPU kernels the ReLU is fused into the convolution:
/// no activation is written out forward, and its gradient is applied as the
/// convolution's input gradient is written. A ReLU that feeds several convolutions is
/// computed once per convolution, which costs nothing there (the convolution copies its
/// input anyway).
pub fn relu_conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    convolve(conv, x, true)
}

/// A convolution with one square filter per channel (`groups` = input = output channels,
/// no bias), the same stride, padding and dilation along both axes, through the depthwise
/// kernel; `None` for any other.
fn depthwise(
    conv: &Conv2d,
    x: Tensor<4>,
    weight: &Tensor<4>,
    padding: [usize; 2],
    relu_input: bool,
) -> Option<Tensor<4>> {
    let [out, per_group, kh, kw] = weight.dims();
    let channels = x.dims()[1];
    let square = kh == kw
        && conv.stride[0] == conv.stride[1]
        && conv.dilation[0] == conv.dilation[1]
        && padding[0] == padding[1];
    let depthwise = conv.groups > 1 && conv.groups == channels && out == channels && per_group == 1;
    if !(depthwise && square && conv.bias.is_none()) {
        return None;
    }
    let geometry = DepthwiseGeometry {
        stride: conv.stride[0],
        padding: padding[0],
        dilation: conv.dilation[0],
        relu_input,
    };
    Some(Tensor::<4>::from_dispatch(
        <Dispatch as CpuKernels>::kernel_depthwise(
            x.into_dispatch(),
            weight.clone().into_dispatch(),
            geometry,
        ),
    ))
}

fn convolve(conv: &Conv2d, x: Tensor<4>, relu_input: bool) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some([top, left])
        }
        PaddingConfig2d::Same => None,
    };
    let weight = conv.weight.val();
    let on_kernels = x.dtype() == weight.dtype() && applies(&x.device(), x.dtype());
    if let Some(y) = padding
        .filter(|_| on_kernels)
        .and_then(|p| depthwise(conv, x.clone(), &weight, p, relu_input))
    {
        return y;
    }
    let covered = conv.groups == 1 && conv.dilation == [1, 1] && on_kernels;
    let Some(padding) = padding.filter(|_| covered) else {
        return conv.forward(if relu_input { relu(x) } else { x });
    };
    let geometry = ConvGeometry {
        stride: conv.stride,
        padding,
        relu_input,
    };
    let y = Tensor::<4>::from_dispatch(<Dispatch as CpuKernels>::kernel_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        geometry,
    ));
    match &conv.bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.val().reshape([1, channels, 1, 1])
        }
        None => y,
    }
}
