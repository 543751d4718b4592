//! Parameter and FLOP counts of a network, counted from its structure rather than from a
//! built network, so tensor-free spaces and cost models report them without burn.
//!
//! FLOPs follow NAS-Bench-201's convention: multiply-accumulates of convolutions and of
//! linear layers (with their bias), nothing else.

/// Output size of a convolution or pooling along one axis.
pub fn out_size(size: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    (size + 2 * padding - kernel) / stride + 1
}

/// Parameter and FLOP counts.
///
/// The builders count a convolution without bias, a batch norm's affine pair, a linear
/// layer with its bias: a network adds one call per layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub params: u64,
    pub flops: u64,
}

impl Cost {
    pub fn conv(&mut self, c_in: usize, c_out: usize, k: usize, out_h: usize, out_w: usize) {
        let weights = (c_in * c_out * k * k) as u64;
        self.params += weights;
        self.flops += weights * (out_h * out_w) as u64;
    }
    /// A depthwise convolution (one `k x k` filter per channel, `groups = c`).
    pub fn depthwise_conv(&mut self, c: usize, k: usize, out_h: usize, out_w: usize) {
        let weights = (c * k * k) as u64;
        self.params += weights;
        self.flops += weights * (out_h * out_w) as u64;
    }
    pub fn batch_norm(&mut self, c: usize) {
        self.params += 2 * c as u64;
    }
    pub fn linear(&mut self, c_in: usize, c_out: usize) {
        let weights = (c_in * c_out) as u64;
        self.params += weights + c_out as u64;
        self.flops += weights + c_out as u64;
    }

    pub fn params_m(&self) -> f64 {
        self.params as f64 / 1e6
    }
    pub fn flops_m(&self) -> f64 {
        self.flops as f64 / 1e6
    }
}
