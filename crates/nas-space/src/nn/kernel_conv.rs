//! 2-D convolution on the CPU backends through `nas-kernels` (im2col + gemm), as a burn
//! operation with its own backward pass.
//!
//! burn's CPU backends compute a convolution's weight gradient as a convolution whose
//! kernel is the whole output-gradient image, which made convolution gradients most of a
//! training step (3x3, 16 channels, 32x32, batch 64: 100 ms on flex, 40 ms here). This
//! module registers `kernel_conv2d` as a burn backend extension for flex and ndarray, with
//! an autodiff implementation whose backward pass calls the kernels' two gradients.
//! Other backends (wgpu) and geometries the kernels do not cover (groups, dilation,
//! asymmetric padding, non-f32) keep burn's own convolution: see [`conv2d`].
// The extension names burn's deprecated NdArray type, the design's default CPU backend.
#![allow(deprecated)]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Device, Tensor, TensorData};
use nas_kernels::{Conv2dShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// `stride` then `padding`, `[vertical, horizontal]` each: what a tensor's shape does not
/// say about the convolution.
type Geometry = [usize; 4];

/// The convolution as a backend operation. Its inputs are `[batch, in, h, w]` and a
/// `[out, in, kh, kw]` weight; no bias (the caller adds it).
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    Autodiff
)]
pub trait KernelConv: Backend {
    /// On a CPU backend: read the values, run the kernel, wrap the result.
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        forward::<Self>(x, weight, [stride_h, stride_w, pad_h, pad_w])
    }
}

#[cfg(feature = "flex")]
impl KernelConv for burn::backend::Flex {}

#[cfg(feature = "ndarray")]
impl KernelConv for burn::backend::NdArray {}

/// The backward pass: the kernels' input and weight gradients.
#[derive(Debug)]
struct KernelConvBackward;

impl<B: Backend> Backward<B, 2> for KernelConvBackward {
    /// The forward pass's input and weight (shared storage, not copies) and geometry.
    type State = (FloatTensor<B>, FloatTensor<B>, Geometry);

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
        let dy = read::<B>(dy);
        if let Some(node) = node_x {
            let dx = conv2d_input_grad(&dy, &read::<B>(weight), &s);
            grads.register::<B>(node.id, write::<B>(dx, x.shape().to_vec(), &device));
        }
        if let Some(node) = node_weight {
            let dw = conv2d_weight_grad(&read::<B>(x), &dy, &s);
            let dims = vec![s.channels_out, s.channels_in, s.kernel[0], s.kernel[1]];
            grads.register::<B>(node.id, write::<B>(dw, dims, &device));
        }
    }
}

impl<B: Backend + KernelConv, C: CheckpointStrategy> KernelConv for Autodiff<B, C> {
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride_h: usize,
        stride_w: usize,
        pad_h: usize,
        pad_w: usize,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), weight.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        let y = B::kernel_conv2d(x.clone(), weight.clone(), stride_h, stride_w, pad_h, pad_w);
        match KernelConvBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                prep.finish((x, weight, [stride_h, stride_w, pad_h, pad_w]), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

fn shape_of<B: Backend>(
    x: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    [stride_h, stride_w, pad_h, pad_w]: Geometry,
) -> Conv2dShape {
    let [batch, channels_in, height, width] = x.shape().dims();
    let [channels_out, _, kh, kw] = weight.shape().dims();
    Conv2dShape {
        batch,
        channels_in,
        height,
        width,
        channels_out,
        kernel: [kh, kw],
        stride: [stride_h, stride_w],
        padding: [pad_h, pad_w],
    }
}

fn forward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    geometry: Geometry,
) -> FloatTensor<B> {
    let s = shape_of::<B>(&x, &weight, geometry);
    let device = x.device();
    let y = conv2d_forward(&read::<B>(x), &read::<B>(weight), &s);
    let [h, w] = s.output_size();
    write::<B>(y, vec![s.batch, s.channels_out, h, w], &device)
}

/// A CPU tensor's values. [`conv2d`] only sends f32 tensors of CPU backends here, whose
/// reads complete at once, so a failure is a broken invariant, not bad input.
fn read<B: Backend>(tensor: FloatTensor<B>) -> Vec<f32> {
    let data = match block_on(B::float_into_data(tensor)) {
        Ok(data) => data,
        Err(e) => panic!("kernel_conv2d: reading a CPU tensor failed: {e:?}"),
    };
    match data.try_into_vec::<f32>() {
        Ok(values) => values,
        Err(e) => panic!("kernel_conv2d: expected f32 data: {e:?}"),
    }
}

fn write<B: Backend>(values: Vec<f32>, dims: Vec<usize>, device: &B::Device) -> FloatTensor<B> {
    B::float_from_data(TensorData::new(values, dims), device)
}

/// Polls a future that CPU backends resolve immediately (their reads never wait).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::yield_now();
    }
}

/// Whether `device` runs on a backend that implements [`KernelConv`].
fn has_kernels(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return true;
    }
    #[cfg(feature = "ndarray")]
    if *device == Device::ndarray() {
        return true;
    }
    let _ = device;
    false
}

/// `conv.forward(x)`, through the kernels where they apply (see the module doc); the
/// result is the same convolution either way.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some((0, 0)),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some((top, left))
        }
        PaddingConfig2d::Same => None,
    };
    let weight = conv.weight.val();
    let covered = conv.groups == 1
        && conv.dilation == [1, 1]
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && has_kernels(&x.device());
    let Some((top, left)) = padding.filter(|_| covered) else {
        return conv.forward(x);
    };
    let [stride_h, stride_w] = conv.stride;
    let y = Tensor::<4>::from_dispatch(<Dispatch as KernelConv>::kernel_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        stride_h,
        stride_w,
        top,
        left,
    ));
    match &conv.bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.val().reshape([1, channels, 1, 1])
        }
        None => y,
    }
}
