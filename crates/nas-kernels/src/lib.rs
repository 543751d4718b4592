//! CPU training kernels on plain `f32` slices: convolution, batch normalization and
//! NB201's average pooling, the operations that dominate training the NAS-Bench-201
//! network.
//!
//! burn's CPU backends train the NAS-Bench-201 network far below PyTorch's rate, and most
//! of the time went to convolution gradients: burn computes the weight gradient as a
//! convolution whose kernel is the whole output-gradient image, and the input gradient as a
//! transposed convolution. Here both gradients are matrix products over im2col, as in
//! Caffe and PyTorch's CPU path, and the products run on a 4x16 AVX2/FMA microkernel
//! (`gemm` for the edges and for CPUs without AVX2). Stride-1 convolutions never write
//! im2col out: the microkernel reads each im2col row as the zero-padded image at an
//! offset. `nas-space` wraps the kernels as burn operations with their own backward
//! passes.
//!
//! Every result is deterministic: work is split by image, never by thread, and partial
//! sums are added in a fixed order, so the same inputs give the same bits on any number
//! of threads.

mod avg_pool;
mod batch_norm;
mod conv2d;
mod matmul;
mod microkernel;
mod output;

pub use avg_pool::{AvgPoolShape, avg_pool_backward, avg_pool_forward};
pub use batch_norm::{
    BatchNormGrads, BatchNormOutput, BatchNormShape, batch_norm_backward, batch_norm_forward,
};
pub use conv2d::{Conv2dShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};
