//! Training-mode batch norm ([`nas_kernels::batch_norm_forward`] and its backward pass).

use super::{CpuKernels, applies, dims4, values, write};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata};
use burn::nn::BatchNorm;
use burn::tensor::Tensor;
use nas_kernels::{BatchNormShape, batch_norm_backward, batch_norm_forward};

/// The output, the batch mean and the batch variance.
type Outputs<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

fn shape_of<B: Backend>(x: &FloatTensor<B>) -> BatchNormShape {
    let [batch, channels, h, w] = dims4::<B>(x);
    BatchNormShape {
        batch,
        channels,
        plane: h * w,
    }
}

/// The CPU backends' batch norm: the kernel on the tensors' values.
pub(super) fn forward<B: Backend>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    epsilon: f64,
) -> Outputs<B> {
    let s = shape_of::<B>(&x);
    let (device, dims) = (x.device(), x.shape().to_vec());
    let out = batch_norm_forward(
        &values::<B>(&x),
        &values::<B>(&gamma),
        &values::<B>(&beta),
        epsilon,
        &s,
    );
    (
        write::<B>(out.output, dims, &device),
        write::<B>(out.mean, vec![s.channels], &device),
        write::<B>(out.variance, vec![s.channels], &device),
    )
}

/// The backward step: the kernel's three gradients.
#[derive(Debug)]
struct BatchNormBackward;

impl<B: Backend> Backward<B, 3> for BatchNormBackward {
    /// The input, gamma, the batch mean and variance (shared storage, not copies), epsilon.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        f64,
    );

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, gamma, mean, variance, epsilon) = ops.state;
        let s = shape_of::<B>(&x);
        let (device, dims) = (x.device(), x.shape().to_vec());
        let g = batch_norm_backward(
            &values::<B>(&x),
            &values::<B>(&gamma),
            &values::<B>(&mean),
            &values::<B>(&variance),
            epsilon,
            &values::<B>(&dy),
            &s,
        );
        for (node, values, dims) in [
            (node_x, g.input, dims),
            (node_gamma, g.gamma, vec![s.channels]),
            (node_beta, g.beta, vec![s.channels]),
        ] {
            if let Some(node) = node {
                grads.register::<B>(node.id, write::<B>(values, dims, &device));
            }
        }
    }
}

/// The autodiff backend's batch norm: the inner backend's, plus a backward step for the
/// output. The statistics are constants to the graph, as in burn's own.
pub(super) fn autodiff<B: Backend + CpuKernels, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    gamma: FloatTensor<Autodiff<B, C>>,
    beta: FloatTensor<Autodiff<B, C>>,
    epsilon: f64,
) -> Outputs<Autodiff<B, C>> {
    let nodes = [x.node(), gamma.node(), beta.node()];
    let (x, gamma) = (x.into_primitive(), gamma.into_primitive());
    let (y, mean, variance) =
        B::kernel_batch_norm_train(x.clone(), gamma.clone(), beta.into_primitive(), epsilon);
    let state = (x, gamma, mean.clone(), variance.clone(), epsilon);
    let y = match BatchNormBackward
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(state, y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    };
    (
        y,
        FloatTensor::<Autodiff<B, C>>::new(mean),
        FloatTensor::<Autodiff<B, C>>::new(variance),
    )
}

/// `bn.forward(x)`, through the kernel where it applies: training mode (an autodiff
/// device and a layer not frozen) on a CPU backend. The running statistics are updated
/// exactly as burn's `BatchNorm::forward` does; everywhere else that is what runs.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    if !(device.is_autodiff() && bn.training.is_enabled() && applies(&device, x.dtype())) {
        return bn.forward(x);
    }
    normalize_train(bn, x, bn.gamma.val(), bn.beta.val())
}

/// Batch norm without its affine pair (PyTorch's `affine=False`): the output is the
/// normalized input, as in DARTS's search cells, where a learned scale per op would compete
/// with the architecture weights that mix the ops. `bn`'s gamma and beta are read as
/// constants (one and zero, since no gradient ever reaches them); its running statistics
/// are kept as [`batch_norm`] keeps them.
pub fn batch_norm_affine_free(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    let (gamma, beta) = (bn.gamma.val().detach(), bn.beta.val().detach());
    if !(device.is_autodiff() && bn.training.is_enabled()) {
        let mean = bn.running_mean.value().to_device(&device);
        let variance = bn.running_var.value().to_device(&device);
        return burn::tensor::module::batch_norm(x, gamma, beta, mean, variance, bn.epsilon);
    }
    normalize_train(bn, x, gamma, beta)
}

/// Training mode: normalize by the batch statistics (through the kernel on a CPU
/// backend), then move the running statistics towards them.
fn normalize_train(bn: &BatchNorm, x: Tensor<4>, gamma: Tensor<1>, beta: Tensor<1>) -> Tensor<4> {
    let device = x.device();
    let (y, mean, variance) = if applies(&device, x.dtype()) {
        let (y, mean, variance) = <Dispatch as CpuKernels>::kernel_batch_norm_train(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            bn.epsilon,
        );
        (
            Tensor::<4>::from_dispatch(y),
            Tensor::<1>::from_dispatch(mean),
            Tensor::<1>::from_dispatch(variance),
        )
    } else {
        let out = burn::tensor::module::batch_norm_train(x, gamma, beta, bn.epsilon);
        (out.output, out.mean, out.variance)
    };
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - bn.momentum)
        .add(mean.detach().mul_scalar(bn.momentum));
    let running_var = running_var
        .mul_scalar(1.0 - bn.momentum)
        .add(variance.detach().mul_scalar(bn.momentum));
    bn.running_mean.update(running_mean.detach());
    bn.running_var.update(running_var.detach());
    y
}
