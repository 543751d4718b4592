//! Parameters and activation values per image of each network here, as `f64` estimates
//! so that no size overflows: they decide whether a network fits in memory before it is
//! built (the exact integer counts of the cost models are computed once it is known to
//! fit). Each convolution keeps its input, output, batch-norm output and ReLU for the
//! backward pass; see each function for its network.

use crate::chain_cnn::ChainArch;
use crate::mlp::MlpArch;
use crate::nb201_cost::Nb201NetConfig;
use nas_nn::Counts;

fn counts((params, activations): (f64, f64)) -> Counts {
    Counts {
        params,
        activations,
    }
}

/// A chain CNN: each layer keeps its concatenated input, then its convolution, batch norm
/// and ReLU outputs.
pub fn chain_cnn(a: &ChainArch, input: [usize; 3], classes: usize) -> Counts {
    let [c, h, w] = input.map(|d| d as f64);
    let classes = classes as f64;
    let (reads, outputs) = a.shapes(input);
    let mut params = 0.0;
    let mut acts = c * h * w;
    for ((layer, read), out) in a.layers.iter().zip(&reads).zip(&outputs) {
        let [rc, rh, rw] = read.map(|d| d as f64);
        let [oc, oh, ow] = out.map(|d| d as f64);
        let k = layer.kernel as f64;
        params += rc * oc * k * k + 2.0 * oc;
        // The concatenated input, then convolution, batch norm and ReLU outputs.
        acts += rc * rh * rw + 3.0 * oc * oh * ow;
    }
    let features = a.layers.last().map_or(c, |l| l.filters as f64);
    counts((params + features * classes + classes, acts))
}

/// An MLP: each layer keeps its linear output, activation and dropout mask.
pub fn mlp(a: &MlpArch, input: [usize; 3], classes: usize) -> Counts {
    let [c, h, w] = input.map(|d| d as f64);
    let classes = classes as f64;
    let mut features = c * h * w;
    let (mut params, mut acts) = (0.0, features);
    for &width in &a.widths {
        let width = width as f64;
        params += features * width + width;
        // Linear output, activation, dropout mask.
        acts += 3.0 * width;
        features = width;
    }
    counts((params + features * classes + classes, acts + classes))
}

/// The NB201 network: each convolution edge keeps its ReLU'd input copy,
/// the convolution's and the batch norm's outputs, a pooling edge its output, every node
/// its sum; a reduction block seven maps of its output size.
pub fn nb201(ops: &[u32; 6], net: &Nb201NetConfig) -> Counts {
    let [c_in, mut h, mut w] = net.input.map(|d| d as f64);
    let mut ch = net.channels as f64;
    let cells = net.cells_per_stage as f64;
    let per_cell_params: f64 = ops
        .iter()
        .map(|op| match op {
            2 => 1.0,
            3 => 9.0,
            _ => 0.0,
        })
        .sum();
    let batch_norms = ops.iter().filter(|&&op| op == 2 || op == 3).count() as f64;
    let maps_per_cell: f64 = 4.0
        + ops
            .iter()
            .map(|op| match op {
                2 | 3 => 3.0,
                4 => 1.0,
                _ => 0.0,
            })
            .sum::<f64>();
    let mut params = 9.0 * c_in * ch + 2.0 * ch;
    let mut acts = c_in * h * w + 2.0 * ch * h * w;
    for stage in 0..3 {
        if stage > 0 {
            let out = 2.0 * ch;
            h = (h / 2.0).ceil();
            w = (w / 2.0).ceil();
            params += 9.0 * ch * out + 9.0 * out * out + ch * out + 4.0 * out;
            acts += 7.0 * out * h * w;
            ch = out;
        }
        params += cells * (per_cell_params * ch * ch + batch_norms * 2.0 * ch);
        acts += cells * maps_per_cell * ch * h * w;
    }
    let classes = net.classes as f64;
    counts((
        params + 2.0 * ch + ch * classes + classes,
        acts + 2.0 * ch * h * w,
    ))
}
