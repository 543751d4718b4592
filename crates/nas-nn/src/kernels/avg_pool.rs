//! NB201's average pooling ([`nas_kernels::avg_pool_forward`] and its backward pass).

use super::{CpuKernels, applies, dims4, values, write};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata};
use burn::nn::PaddingConfig2d;
use burn::nn::pool::AvgPool2d;
use burn::tensor::Tensor;
use nas_kernels::{AvgPoolShape, avg_pool_backward, avg_pool_forward};

fn shape_of<B: Backend>(x: &FloatTensor<B>, kernel: usize) -> AvgPoolShape {
    let [batch, channels, height, width] = dims4::<B>(x);
    AvgPoolShape {
        batch,
        channels,
        height,
        width,
        kernel,
    }
}

/// The CPU backends' pooling: the kernel on the tensor's values.
pub(super) fn forward<B: Backend>(x: FloatTensor<B>, kernel: usize) -> FloatTensor<B> {
    let s = shape_of::<B>(&x, kernel);
    let (device, dims) = (x.device(), x.shape().to_vec());
    write::<B>(avg_pool_forward(&values::<B>(&x), &s), dims, &device)
}

/// The backward step: it needs only the window, not the input.
#[derive(Debug)]
struct AvgPoolBackward;

impl<B: Backend> Backward<B, 1> for AvgPoolBackward {
    type State = usize;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        if let Some(node) = node_x {
            let s = shape_of::<B>(&dy, ops.state);
            let (device, dims) = (dy.device(), dy.shape().to_vec());
            let dx = avg_pool_backward(&values::<B>(&dy), &s);
            grads.register::<B>(node.id, write::<B>(dx, dims, &device));
        }
    }
}

/// The autodiff backend's pooling: the inner backend's, plus a backward step.
pub(super) fn autodiff<B: Backend + CpuKernels, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    kernel: usize,
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = [x.node()];
    let y = B::kernel_avg_pool(x.into_primitive(), kernel);
    match AvgPoolBackward
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(kernel, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

/// `pool.forward(x)`, through the kernel where it applies: a square odd window, stride
/// 1, "same" padding not counted, on a CPU backend (NB201's `avg_pool_3x3`).
pub fn avg_pool(pool: &AvgPool2d, x: Tensor<4>) -> Tensor<4> {
    let [k, kw] = pool.kernel_size;
    let r = k / 2;
    let covered = k == kw
        && k % 2 == 1
        && pool.stride == [1, 1]
        && pool.padding == PaddingConfig2d::Explicit(r, r, r, r)
        && !pool.count_include_pad
        && applies(&x.device(), x.dtype());
    if !covered {
        return pool.forward(x);
    }
    Tensor::<4>::from_dispatch(<Dispatch as CpuKernels>::kernel_avg_pool(
        x.into_dispatch(),
        k,
    ))
}
