//! Weight initialization from our own seeded generator.
//!
//! burn's CPU backends draw random weights from one process-wide generator, so two trials
//! initialized on parallel threads would disturb each other's draws. Networks here are
//! built with zero initializers, then every weight matrix and kernel is drawn by this
//! mapper from the trial's seed: the weights depend on the seed alone.

use burn::module::{ModuleMapper, Param};
use burn::tensor::{Tensor, TensorData};
use nas_core::Rng;

/// Draws every parameter of rank 2 or more uniformly from `±1/sqrt(fan_in)` (PyTorch's
/// default for convolutions and linear layers, and burn's). Rank-1 parameters (biases,
/// batch-norm affine terms, running statistics) keep their constant initial values.
#[derive(Debug)]
pub struct SeededInit {
    pub rng: Rng,
}

impl ModuleMapper for SeededInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D < 2 {
            return param;
        }
        let rng = &mut self.rng;
        param.map(|t| {
            let dims = t.dims();
            // Convolution kernels are [out, in, k, k]; linear weights are stored [in, out].
            let fan_in: usize = if D == 2 {
                dims[0]
            } else {
                dims[1..].iter().product()
            };
            let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
            let n: usize = dims.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| rng.uniform_in(-bound, bound) as f32)
                .collect();
            let require_grad = t.is_require_grad();
            let fresh = Tensor::<D>::from_data(TensorData::new(values, dims), &t.device());
            if require_grad {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}
