//! CPU training kernels on plain `f32` slices: convolution, batch normalization and
//! NB201's average pooling, the operations that dominate training the NAS-Bench-201
//! network.
//!
//! burn's CPU backends train the NAS-Bench-201 network far below PyTorch's rate, and most
//! of the time went to convolution gradients: burn computes the weight gradient as a
//! convolution whose kernel is the whole output-gradient image, and the input gradient as a
//! transposed convolution. Here both gradients are matrix products over im2col, as in
//! Caffe and PyTorch's CPU path, and the products run on a 6x16 AVX2/FMA microkernel
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
mod depthwise;
mod lanes;
mod matmul;
mod microkernel;
mod output;

pub use avg_pool::{AvgPoolShape, avg_pool_backward, avg_pool_forward};
pub use batch_norm::{
    BatchNormGrads, BatchNormOutput, BatchNormShape, batch_norm_backward, batch_norm_forward,
};
pub use conv2d::{Conv2dShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};
pub use depthwise::{
    DepthwiseShape, depthwise_forward, depthwise_input_grad, depthwise_weight_grad,
};

/// Makes the calling thread (a program's main thread) one of the threads of rayon's
/// global pool, which the kernels run on. Call it first thing in `main`, before anything
/// runs in parallel; it returns false, changing nothing, when the pool already exists.
///
/// Otherwise a thread outside the pool hands each parallel kernel to the pool's threads
/// and sleeps until they finish: hundreds of hand-offs per training step, while the work
/// between kernels (burn's elementwise operations, the autodiff graph) runs on a third
/// thread whose caches the kernels did not fill. As one of the pool's threads, the main
/// thread splits each kernel's work with the others and takes part in it. The pool keeps
/// its size (one thread per core, or `RAYON_NUM_THREADS`), the main thread included.
///
/// The serial work stays on the main thread: burn keeps state per thread, so the
/// training steps of one run must not move between threads.
///
/// With a pool of one thread it does nothing: that thread would then be the only
/// worker, and work handed to the pool from other threads (a search's worker threads)
/// would wait for it forever.
pub fn work_on_this_thread() -> bool {
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    threads >= 2
        && rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .use_current_thread()
            .build_global()
            .is_ok()
}
