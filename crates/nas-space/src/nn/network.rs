//! Any of this crate's networks, as one burn module, so a training loop is written once.
//!
//! burn 0.22 derives `Module` for enums of one-field tuple variants; the optimizer and
//! `valid()` then work on [`Network`] as on any module.

use super::{ChainCnnNet, LeNet5Net, MlpNet, Nb201Net};
use crate::arch::Architecture;
use crate::nb201_cost::Nb201NetConfig;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use nas_core::Rng;

/// The network of an [`Architecture`].
///
/// The NB201 variant is the largest (about 1 KB of module handles); boxing it is not
/// possible (burn derives `Module` for one-field variants of module types, and `Box<M>`
/// is not one), and a network is moved once per training step, so the size costs nothing
/// measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Nb201(Nb201Net),
    ChainCnn(ChainCnnNet),
    Mlp(MlpNet),
    LeNet5(LeNet5Net),
}

impl Network {
    /// Builds the network of `arch` on `device` with weights from `seed` alone. `net` gives
    /// every network its input shape and classes; its `channels` and `cells_per_stage` shape
    /// NB201 networks only.
    pub fn new(arch: &Architecture, net: &Nb201NetConfig, device: &Device, seed: u64) -> Self {
        match arch {
            Architecture::Nb201(ops) => Network::Nb201(Nb201Net::new(ops, net, device, seed)),
            Architecture::ChainCnn(a) => {
                Network::ChainCnn(ChainCnnNet::new(a, net.input, net.classes, device, seed))
            }
            Architecture::Mlp(a) => {
                Network::Mlp(MlpNet::new(a, net.input, net.classes, device, seed))
            }
            Architecture::LeNet5 => {
                Network::LeNet5(LeNet5Net::new(net.input, net.classes, device, seed))
            }
        }
    }

    pub fn trainable_params(&self) -> usize {
        match self {
            Network::Nb201(n) => n.trainable_params(),
            Network::ChainCnn(n) => n.trainable_params(),
            Network::Mlp(n) => n.trainable_params(),
            Network::LeNet5(n) => n.trainable_params(),
        }
    }

    /// Inference.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Network::Nb201(n) => n.forward(x),
            Network::ChainCnn(n) => n.forward(x),
            Network::Mlp(n) => n.forward(x),
            Network::LeNet5(n) => n.forward(x),
        }
    }

    /// A training step's forward pass: the same as [`Network::forward`] except where a
    /// network has dropout, whose masks are drawn from `rng`.
    pub fn forward_train(&self, x: Tensor<4>, rng: &mut Rng) -> Tensor<2> {
        match self {
            Network::Mlp(n) => n.forward_train(x, rng),
            other => other.forward(x),
        }
    }
}
