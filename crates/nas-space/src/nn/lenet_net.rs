//! LeNet-5 on burn (see [`crate::lenet`], whose count [`LeNet5Net::trainable_params`]
//! equals).

use crate::lenet::{FILTERS, HIDDEN, KERNEL, pooled};
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use nas_core::Rng;
use nas_nn::init::SeededInit;
use nas_nn::kernels::conv2d;

/// LeNet-5 for one input shape and class count.
#[derive(Module, Debug)]
pub struct LeNet5Net {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: AvgPool2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

impl LeNet5Net {
    /// Builds LeNet-5 for `input` (`[channels, height, width]`) and `classes` on `device`,
    /// its weights drawn from `seed` alone (see [`SeededInit`]); biases start at zero.
    pub fn new(input: [usize; 3], classes: usize, device: &Device, seed: u64) -> Self {
        let linear = |i: usize, o: usize| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let (ph, pw) = pooled(input);
        let biased = |c_in, c_out| {
            Conv2dConfig::new([c_in, c_out], [KERNEL, KERNEL])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        LeNet5Net {
            conv1: biased(input[0], FILTERS[0]),
            conv2: biased(FILTERS[0], FILTERS[1]),
            pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: linear(FILTERS[1] * ph * pw, HIDDEN[0]),
            fc2: linear(HIDDEN[0], HIDDEN[1]),
            fc3: linear(HIDDEN[1], classes),
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    pub fn trainable_params(&self) -> usize {
        self.num_params()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(conv2d(&self.conv1, x)));
        let x = self.pool.forward(relu(conv2d(&self.conv2, x)));
        let x: Tensor<2> = x.flatten(1, 3);
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}
