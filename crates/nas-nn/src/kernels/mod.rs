//! The CPU kernels of `nas-kernels` as burn operations on the flex and ndarray backends,
//! each with its own backward pass: convolution ([`conv2d`], depthwise ones included),
//! training-mode batch norm
//! ([`batch_norm`]) and NB201's average pooling ([`avg_pool`]).
//!
//! burn composes both on its CPU backends out of general tensor operations: a
//! convolution's weight gradient becomes a convolution whose kernel is the whole
//! output-gradient image, and batch norm's statistics and gradients each copy the tensor
//! to swap its batch and channel axes, and flex's pooling backward is slow. Together that
//! was most of a training step. The
//! operations here are a burn backend extension (`CpuKernels`): the CPU backends read the
//! values, run the kernel and wrap the result; the autodiff backend records a backward
//! step that calls the kernels' gradients.
//!
//! Other backends (wgpu), and cases the kernels do not cover, keep burn's own operation;
//! [`conv2d`], [`batch_norm`] and [`avg_pool`] choose, so network code calls them and
//! nothing else.
// The extension names burn's deprecated NdArray type, the design's default CPU backend.
#![allow(deprecated)]
// Without a CPU backend's feature the default bodies are unused (`cargo build -p nas-nn`).
#![cfg_attr(
    not(any(feature = "flex", feature = "ndarray")),
    allow(unused_variables)
)]

mod avg_pool;
mod batch_norm;
mod conv;
mod depthwise;
mod filter;

pub use avg_pool::avg_pool;
pub use batch_norm::{batch_norm, batch_norm_affine_free};
pub use conv::{ConvGeometry, conv2d, relu_conv2d};
pub use depthwise::DepthwiseGeometry;

use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, TensorMetadata, backend_extension};
use burn::tensor::{DType, Device, TensorData};
use std::borrow::Cow;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// The operations as a backend extension. The default bodies are the CPU backends'
/// implementations; the autodiff backend overrides them to record its backward steps.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    Autodiff
)]
pub trait CpuKernels: Backend {
    /// A convolution without bias of `[batch, in, h, w]` by `[out, in, kh, kw]`.
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        filter::forward::<Self, ConvGeometry>(x, weight, geometry)
    }

    /// A depthwise convolution without bias of `[batch, channels, h, w]` by
    /// `[channels, 1, k, k]`.
    fn kernel_depthwise(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        filter::forward::<Self, DepthwiseGeometry>(x, weight, geometry)
    }

    /// Training-mode batch norm of `[batch, channels, h, w]`: the output, and the batch
    /// mean and biased variance per channel.
    fn kernel_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::forward::<Self>(x, gamma, beta, epsilon)
    }

    /// Average pooling of `[batch, channels, h, w]` over a `kernel x kernel` window (odd),
    /// stride 1, "same" padding not counted.
    fn kernel_avg_pool(x: FloatTensor<Self>, kernel: usize) -> FloatTensor<Self> {
        avg_pool::forward::<Self>(x, kernel)
    }
}

#[cfg(feature = "flex")]
impl CpuKernels for burn::backend::Flex {}

#[cfg(feature = "ndarray")]
impl CpuKernels for burn::backend::NdArray {}

impl<B: Backend + CpuKernels, C: CheckpointStrategy> CpuKernels for Autodiff<B, C> {
    fn kernel_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        filter::autodiff::<B, C, ConvGeometry>(x, weight, geometry, B::kernel_conv2d)
    }

    fn kernel_depthwise(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        filter::autodiff::<B, C, DepthwiseGeometry>(x, weight, geometry, B::kernel_depthwise)
    }

    fn kernel_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::autodiff::<B, C>(x, gamma, beta, epsilon)
    }

    fn kernel_avg_pool(x: FloatTensor<Self>, kernel: usize) -> FloatTensor<Self> {
        avg_pool::autodiff::<B, C>(x, kernel)
    }
}

/// A CPU tensor's values: borrowed from a contiguous flex tensor, else copied out.
/// (Reading through `TensorData` copies any tensor the autodiff graph also holds, which
/// is most of them: a third of a training step.)
fn values<B: Backend>(tensor: &FloatTensor<B>) -> Cow<'_, [f32]> {
    #[cfg(feature = "flex")]
    if let Some(flex) =
        (tensor as &dyn std::any::Any).downcast_ref::<burn::backend::flex::FlexTensor>()
        && let Some(slice) = flex.as_slice::<f32>()
    {
        return Cow::Borrowed(slice);
    }
    Cow::Owned(read::<B>(tensor.clone()))
}

/// A CPU tensor's values, copied. The public functions only send f32 tensors of CPU
/// backends here, whose reads complete at once, so a failure is a broken invariant, not
/// bad input.
fn read<B: Backend>(tensor: FloatTensor<B>) -> Vec<f32> {
    let data = match block_on(B::float_into_data(tensor)) {
        Ok(data) => data,
        Err(e) => panic!("CPU kernels: reading a CPU tensor failed: {e:?}"),
    };
    match data.try_into_vec::<f32>() {
        Ok(values) => values,
        Err(e) => panic!("CPU kernels: expected f32 data: {e:?}"),
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

/// Whether the kernels can run on `device` for tensors of type `dtype`: a backend that
/// implements [`CpuKernels`], and f32.
fn applies(device: &Device, dtype: DType) -> bool {
    if dtype != DType::F32 {
        return false;
    }
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

/// The `[batch, channels, h, w]` dimensions of a primitive.
fn dims4<B: Backend>(t: &FloatTensor<B>) -> [usize; 4] {
    t.shape().dims()
}
