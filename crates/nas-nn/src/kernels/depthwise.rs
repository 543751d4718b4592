//! Depthwise convolution ([`nas_kernels::depthwise_forward`] and its two gradients), with
//! or without the ReLU before it fused: what [`super::conv2d`] and
//! [`super::relu_conv2d`] run for a convolution with one filter per channel.

use super::filter::FilterKernel;
use nas_kernels::{DepthwiseShape, depthwise_forward, depthwise_input_grad, depthwise_weight_grad};

/// What a tensor's shape does not say about a depthwise convolution (square filters,
/// the same stride, padding and dilation along both axes).
#[derive(Debug, Clone, Copy)]
pub struct DepthwiseGeometry {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    /// Whether the convolution reads `relu(x)`.
    pub relu_input: bool,
}

impl DepthwiseGeometry {
    fn shape(self, xd: [usize; 4], wd: [usize; 4]) -> DepthwiseShape {
        let [batch, channels, height, width] = xd;
        DepthwiseShape {
            batch,
            channels,
            height,
            width,
            kernel: wd[2],
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            relu_input: self.relu_input,
        }
    }
}

impl FilterKernel for DepthwiseGeometry {
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
            depthwise_forward(x, w, &s),
            vec![s.batch, s.channels, h, w_out],
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
        depthwise_input_grad(dy, w, x, &self.shape(xd, wd))
    }
    fn weight_grad(self, x: &[f32], dy: &[f32], xd: [usize; 4], wd: [usize; 4]) -> Vec<f32> {
        depthwise_weight_grad(x, dy, &self.shape(xd, wd))
    }
}
