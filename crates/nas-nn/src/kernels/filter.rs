//! What a convolution kernel with an input and a weight shares, full or depthwise: reading
//! the tensors' values, writing the result, and the backward step that calls the kernel's
//! two gradients. Each kind brings its geometry as a [`FilterKernel`].

use super::{CpuKernels, dims4, values, write};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, TensorMetadata};

/// A convolution's geometry (what the tensors' shapes do not say) and its kernels, on
/// `[batch, channels, h, w]` inputs and `[out, in per group, kh, kw]` weights.
pub(super) trait FilterKernel: Copy + std::fmt::Debug + Send + Sync + 'static {
    /// The output's values and dimensions.
    fn forward(
        self,
        x: &[f32],
        xd: [usize; 4],
        w: &[f32],
        wd: [usize; 4],
    ) -> (Vec<f32>, Vec<usize>);
    fn input_grad(
        self,
        dy: &[f32],
        w: &[f32],
        x: &[f32],
        xd: [usize; 4],
        wd: [usize; 4],
    ) -> Vec<f32>;
    fn weight_grad(self, x: &[f32], dy: &[f32], xd: [usize; 4], wd: [usize; 4]) -> Vec<f32>;
}

/// The CPU backends' convolution: the kernel on the tensors' values.
pub(super) fn forward<B: Backend, G: FilterKernel>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    geometry: G,
) -> FloatTensor<B> {
    let (xd, wd) = (dims4::<B>(&x), dims4::<B>(&weight));
    let device = x.device();
    let (y, dims) = geometry.forward(&values::<B>(&x), xd, &values::<B>(&weight), wd);
    write::<B>(y, dims, &device)
}

/// The backward step: the kernel's input and weight gradients.
#[derive(Debug)]
struct FilterBackward<G>(std::marker::PhantomData<G>);

impl<B: Backend, G: FilterKernel> Backward<B, 2> for FilterBackward<G> {
    /// The forward pass's input and weight (shared storage, not copies) and geometry.
    type State = (FloatTensor<B>, FloatTensor<B>, G);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, weight, geometry) = ops.state;
        let (xd, wd) = (dims4::<B>(&x), dims4::<B>(&weight));
        let device = dy.device();
        let dy = values::<B>(&dy);
        let x_values = values::<B>(&x);
        if let Some(node) = node_x {
            let dx = geometry.input_grad(&dy, &values::<B>(&weight), &x_values, xd, wd);
            grads.register::<B>(node.id, write::<B>(dx, xd.to_vec(), &device));
        }
        if let Some(node) = node_weight {
            let dw = geometry.weight_grad(&x_values, &dy, xd, wd);
            grads.register::<B>(node.id, write::<B>(dw, wd.to_vec(), &device));
        }
    }
}

/// The autodiff backend's convolution: the inner backend's (`inner`), plus a backward
/// step.
pub(super) fn autodiff<B: Backend + CpuKernels, C: CheckpointStrategy, G: FilterKernel>(
    x: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    geometry: G,
    inner: fn(FloatTensor<B>, FloatTensor<B>, G) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    let nodes = [x.node(), weight.node()];
    let (x, weight) = (x.into_primitive(), weight.into_primitive());
    let y = inner(x.clone(), weight.clone(), geometry);
    match FilterBackward::<G>(std::marker::PhantomData)
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((x, weight, geometry), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}
