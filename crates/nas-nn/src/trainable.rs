//! A space's network as a caller with its own loss drives it: forward with the tape, a
//! step of burn's optimizer on any loss, and a tape-free copy for acting. The training
//! loop of [`crate::fit`] is for classification; a reinforcement-learning evaluator
//! trains the same registered networks on a policy-gradient loss through this handle.

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;

use crate::network::Classifier;

/// A network on an autodiff device with its optimizer.
pub trait TrainableNetwork: Send {
    /// Outputs `[batch, outputs]` with the tape, for a loss.
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;

    /// Outputs without the tape, on the inner device: acting, evaluating. Reflects the
    /// last [`step`](Self::step).
    fn infer(&self, x: Tensor<4>) -> Tensor<2>;

    /// One optimizer step on `loss` (computed with [`forward`](Self::forward)) at
    /// learning rate `lr`.
    fn step(&mut self, loss: Tensor<1>, lr: f64);

    fn trainable_params(&self) -> usize;
}

/// The network, its tape-free copy and its optimizer.
pub(crate) struct WithOptimizer<M: Classifier> {
    /// Always `Some` between calls: a step moves the module through the optimizer.
    net: Option<M>,
    frozen: M,
    optimizer: ModuleOptimizer,
}

impl<M: Classifier> WithOptimizer<M> {
    pub(crate) fn new(net: M, optimizer: ModuleOptimizer) -> Self {
        WithOptimizer {
            frozen: net.valid(),
            net: Some(net),
            optimizer,
        }
    }

    fn net(&self) -> &M {
        // Set at construction and put back by `step`.
        self.net
            .as_ref()
            .unwrap_or_else(|| unreachable!("the network is always set"))
    }
}

impl<M> TrainableNetwork for WithOptimizer<M>
where
    M: Classifier + Send,
{
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.net().forward(x)
    }

    fn infer(&self, x: Tensor<4>) -> Tensor<2> {
        self.frozen.forward(x)
    }

    fn step(&mut self, loss: Tensor<1>, lr: f64) {
        let Some(net) = self.net.take() else {
            unreachable!("the network is always set")
        };
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let net = self.optimizer.step(lr, net, grads);
        self.frozen = net.valid();
        self.net = Some(net);
    }

    fn trainable_params(&self) -> usize {
        self.net().trainable_params()
    }
}
