//! Convolution ([`nas_kernels::conv2d_forward`] and its two gradients), with or without
//! the ReLU before it fused.

use super::{CpuKernels, applies, dims4, values, write};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata};
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

/// The backward pass: the kernels' input and weight gradients.
#[derive(Debug)]
struct KernelConvBackward;

impl<B: Backend> Backward<B, 2> for KernelConvBackward {
    /// The forward pass's input and weight (shared storage, not copies) and geometry.
    type State = (FloatTensor<B>, FloatTensor<B>, ConvGeometry);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, weight, geometry) = ops.state;
        let s = shape_of::<B>(&x, &weight, geometry);
        let device = dy.device();
        let dy = values::<B>(&dy);
        let x_values = values::<B>(&x);
        if let Some(node) = node_x {
            let dx = conv2d_input_grad(&dy, &values::<B>(&weight), &x_values, &s);
            grads.register::<B>(node.id, write::<B>(dx, x.shape().to_vec(), &device));
        }
        if let Some(node) = node_weight {
            let dw = conv2d_weight_grad(&x_values, &dy, &s);
            let dims = vec![s.channels_out, s.channels_in, s.kernel[0], s.kernel[1]];
            grads.register::<B>(node.id, write::<B>(dw, dims, &device));
        }
    }
}

/// The autodiff backend's convolution: the inner backend's, plus a backward step.
pub(super) fn autodiff<B: Backend + CpuKernels, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    geometry: ConvGeometry,
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = [x.node(), weight.node()];
    let (x, weight) = (x.into_primitive(), weight.into_primitive());
    let y = B::kernel_conv2d(x.clone(), weight.clone(), geometry);
    match KernelConvBackward
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((x, weight, geometry), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

fn shape_of<B: Backend>(
    x: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    g: ConvGeometry,
) -> Conv2dShape {
    let [batch, channels_in, height, width] = dims4::<B>(x);
    let [channels_out, _, kh, kw] = dims4::<B>(weight);
    Conv2dShape {
        batch,
        channels_in,
        height,
        width,
        channels_out,
        kernel: [kh, kw],
        stride: g.stride,
        padding: g.padding,
        relu_input: g.relu_input,
    }
}

pub(super) fn forward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    geometry: ConvGeometry,
) -> FloatTensor<B> {
    let s = shape_of::<B>(&x, &weight, geometry);
    let device = x.device();
    let y = conv2d_forward(&values::<B>(&x), &values::<B>(&weight), &s);
    let [h, w] = s.output_size();
    write::<B>(y, vec![s.batch, s.channels_out, h, w], &device)
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

fn convolve(conv: &Conv2d, x: Tensor<4>, relu_input: bool) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some([top, left])
        }
        PaddingConfig2d::Same => None,
    };
    let weight = conv.weight.val();
    let covered = conv.groups == 1
        && conv.dilation == [1, 1]
        && x.dtype() == weight.dtype()
        && applies(&x.device(), x.dtype());
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
