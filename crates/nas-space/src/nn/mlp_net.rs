//! The MLP on burn (see [`crate::mlp`]; [`crate::mlp_cost`] counts what
//! [`MlpNet::trainable_params`] returns).
//!
//! Dropout masks are drawn from a caller's seeded [`Rng`] ([`MlpNet::forward_train`]), not
//! with burn's `Dropout`, whose masks come from the backend's process-wide generator:
//! trials training on parallel threads would change each other's masks.
//!
//! # Shapes
//! Input `[batch, channels, height, width]` (flattened inside); output `[batch, classes]`
//! logits.

use crate::mlp::{Activation, MlpArch};
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{gelu, relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor, TensorData};
use nas_core::Rng;
use nas_nn::init::SeededInit;

/// An MLP built from an [`MlpArch`].
#[derive(Module, Debug)]
pub struct MlpNet {
    hidden: Vec<Linear>,
    classifier: Linear,
    #[module(skip)]
    activation: Activation,
    dropout: f64,
}

impl MlpNet {
    /// Builds `arch` for `input` images (`[channels, height, width]`) and `classes` outputs
    /// on `device`, its weights drawn from `seed` alone (see [`SeededInit`]). Biases start
    /// at zero, as in the other networks.
    pub fn new(
        arch: &MlpArch,
        input: [usize; 3],
        classes: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        let linear = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let mut features: usize = input.iter().product();
        let mut hidden = Vec::with_capacity(arch.widths.len());
        for &w in &arch.widths {
            hidden.push(linear(features, w));
            features = w;
        }
        MlpNet {
            hidden,
            classifier: linear(features, classes),
            activation: arch.activation,
            dropout: arch.dropout,
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    /// Trainable parameters: weights and biases of every linear layer.
    pub fn trainable_params(&self) -> usize {
        self.hidden.iter().map(Module::num_params).sum::<usize>() + self.classifier.num_params()
    }

    fn activate(&self, x: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Relu => relu(x),
            Activation::Tanh => tanh(x),
            Activation::Gelu => gelu(x),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// Inference: no dropout.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.run(x, None)
    }

    /// Training: inverted dropout after every hidden activation, masks drawn from `rng`.
    pub fn forward_train(&self, x: Tensor<4>, rng: &mut Rng) -> Tensor<2> {
        self.run(x, Some(rng))
    }

    fn run(&self, x: Tensor<4>, mut rng: Option<&mut Rng>) -> Tensor<2> {
        let mut h: Tensor<2> = x.flatten(1, 3);
        for layer in &self.hidden {
            h = self.activate(layer.forward(h));
            if let (Some(rng), true) = (rng.as_deref_mut(), self.dropout > 0.0) {
                let mask = dropout_mask(h.dims(), self.dropout, rng, &h.device());
                h = h * mask;
            }
        }
        self.classifier.forward(h)
    }
}

/// Inverted dropout: each unit kept with probability `1 - p` and scaled by `1 / (1 - p)`.
fn dropout_mask(dims: [usize; 2], p: f64, rng: &mut Rng, device: &Device) -> Tensor<2> {
    let keep = (1.0 / (1.0 - p)) as f32;
    let values: Vec<f32> = (0..dims[0] * dims[1])
        .map(|_| if rng.chance(p) { 0.0 } else { keep })
        .collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}
