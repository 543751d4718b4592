//! The chain-structured CNN on burn (see [`crate::chain_cnn`] for its semantics and
//! [`crate::chain_cnn_cost`] for its structural count, which equals
//! [`ChainCnnNet::trainable_params`]).
//!
//! # Shapes
//! Input `[batch, channels, height, width]`; output `[batch, classes]` logits.

use super::nb201_net::{bn_params, conv};
use crate::chain_cnn::{ChainArch, Source};
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::module::adaptive_avg_pool2d;
use burn::tensor::{Device, Tensor};
use nas_core::Rng;
use nas_nn::init::SeededInit;
use nas_nn::kernels::{self, conv2d};

/// Marks the image among a layer's sources (layer indices otherwise).
const IMAGE: usize = usize::MAX;

/// One layer: concatenated (size-matched) sources, then convolution, batch norm, ReLU.
#[derive(Module, Debug)]
pub struct ChainConvLayer {
    /// Layer indices read, or [`IMAGE`].
    sources: Vec<usize>,
    conv: Conv2d,
    bn: BatchNorm,
}

/// A chain CNN built from a [`ChainArch`].
#[derive(Module, Debug)]
pub struct ChainCnnNet {
    layers: Vec<ChainConvLayer>,
    classifier: Linear,
}

impl ChainCnnNet {
    /// Builds `arch` for `input` images (`[channels, height, width]`) and `classes` outputs
    /// on `device`, its weights drawn from `seed` alone (see [`SeededInit`]).
    pub fn new(
        arch: &ChainArch,
        input: [usize; 3],
        classes: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        let (reads, _) = arch.shapes(input);
        let layers = arch
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| ChainConvLayer {
                sources: arch
                    .sources(i)
                    .iter()
                    .map(|s| match s {
                        Source::Image => IMAGE,
                        Source::Layer(j) => *j,
                    })
                    .collect(),
                conv: conv(
                    reads[i][0],
                    l.filters,
                    l.kernel,
                    l.stride,
                    l.kernel / 2,
                    device,
                ),
                bn: BatchNormConfig::new(l.filters).init(device),
            })
            .collect();
        let features = arch.layers.last().map_or(input[0], |l| l.filters);
        ChainCnnNet {
            layers,
            classifier: LinearConfig::new(features, classes)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    /// Trainable parameters: convolutions, batch-norm affine terms, the classifier.
    pub fn trainable_params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.conv.num_params() + bn_params(&l.bn))
            .sum::<usize>()
            + self.classifier.num_params()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut outputs: Vec<Tensor<4>> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let inputs: Vec<Tensor<4>> = layer
                .sources
                .iter()
                .map(|&j| match outputs.get(j) {
                    Some(t) if j != IMAGE => t.clone(),
                    _ => x.clone(),
                })
                .collect();
            let y = kernels::batch_norm(&layer.bn, conv2d(&layer.conv, match_and_concat(inputs)));
            outputs.push(relu(y));
        }
        let last = outputs.pop().unwrap_or(x);
        // Global average pooling over height and width.
        let pooled: Tensor<2> = last.mean_dim(3).mean_dim(2).flatten(1, 3);
        self.classifier.forward(pooled)
    }
}

/// Average-pools every input down to the smallest height and width among them, then
/// concatenates along channels. A layer always has at least one source.
fn match_and_concat(mut inputs: Vec<Tensor<4>>) -> Tensor<4> {
    if inputs.len() == 1
        && let Some(only) = inputs.pop()
    {
        return only;
    }
    let h = inputs.iter().map(|t| t.dims()[2]).min().unwrap_or(1);
    let w = inputs.iter().map(|t| t.dims()[3]).min().unwrap_or(1);
    let matched = inputs
        .into_iter()
        .map(|t| {
            let [_, _, th, tw] = t.dims();
            if th == h && tw == w {
                t
            } else {
                adaptive_avg_pool2d(t, [h, w])
            }
        })
        .collect();
    Tensor::cat(matched, 1)
}
