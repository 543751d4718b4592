//! What a network needs before it is built: an input it can take, and memory this machine
//! has. Both are checked when an evaluator is built (and again per trial, where the
//! genotype or the trial's width decides), so a configuration that cannot run is an error
//! that says why, not a panic inside burn or the kernels in every trial, nor an abort on
//! an allocation of terabytes.
//!
//! No burn here: the checks read the architecture and the input shape only.

use nas_space::{Architecture, Nb201NetConfig};

/// NAS-Bench-201's cell with every edge a 3x3 convolution: the largest network of the
/// space for a given width and depth, the one a configuration has to fit.
pub const NB201_LARGEST_CELL: [u32; 6] = [3; 6];

/// Bytes per `f32`, the training dtype.
const F32: f64 = 4.0;

const GIB: f64 = (1u64 << 30) as f64;

/// Whether the network of the space `space` can take `[channels, height, width]` images;
/// why not, with the smallest input it takes, otherwise.
///
/// # Errors
/// A zero dimension, or a size the space's network cannot reduce: NB201 halves the image
/// in two stride-2 reductions whose shortcut (2x2 average pooling) must land on the size
/// of the strided convolution, so height and width must be multiples of 4. Chain CNNs
/// (odd kernels, padding `k/2`: every layer keeps at least one pixel) and MLPs take any
/// image of at least one pixel.
pub fn check_input(space: &str, input: [usize; 3]) -> Result<(), String> {
    let [c, h, w] = input;
    if c == 0 || h == 0 || w == 0 {
        return Err(format!(
            "input [{c}, {h}, {w}] has a zero dimension; every network needs at least one channel and one pixel"
        ));
    }
    if space == "nb201" && (!h.is_multiple_of(4) || !w.is_multiple_of(4)) {
        return Err(format!(
            "the nb201 network cannot take {h}x{w} images: its two stride-2 reductions need height and width multiples of 4 (the smallest is 4x4; 8x8, 28x28 and 32x32 work), because each reduction's 2x2 pooled shortcut must match its strided convolution"
        ));
    }
    Ok(())
}

/// [`check_input`] for one architecture, the LeNet-5 baseline included (its two 2x2
/// poolings leave nothing of an image under 4x4).
///
/// # Errors
/// As [`check_input`].
pub fn check_arch_input(arch: &Architecture, input: [usize; 3]) -> Result<(), String> {
    match arch {
        Architecture::Nb201(_) => check_input("nb201", input),
        Architecture::LeNet5 if input[1] < 4 || input[2] < 4 => Err(format!(
            "LeNet-5 cannot take {}x{} images: its two 2x2 poolings need at least 4x4",
            input[1], input[2]
        )),
        _ => check_input("", input),
    }
}

/// Memory of one step, estimated from the structure, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    /// Weights, their gradients and the optimizer's state.
    pub parameters: f64,
    /// Activations kept for the backward pass and their gradients, for the whole batch.
    pub activations: f64,
}

impl MemoryEstimate {
    pub fn total(&self) -> f64 {
        self.parameters + self.activations
    }
}

/// The memory of one training step of `arch` on a batch of `batch` images: four copies of
/// the parameters (weights, gradients, two optimizer moments: Adam's worst case) and two of
/// every activation the network keeps (the value and its gradient), in `f32`.
///
/// An estimate, not a measure: it counts the tensors the networks create, not the
/// allocator's slack or burn's temporaries, and it is what tells 1 GB from 4 TB.
pub fn training_memory(arch: &Architecture, net: &Nb201NetConfig, batch: usize) -> MemoryEstimate {
    let (params, activations) = counts(arch, net);
    MemoryEstimate {
        parameters: 4.0 * params * F32,
        activations: 2.0 * activations * batch as f64 * F32,
    }
}

/// The memory of scoring the NB201 network of `ops` once, as the zero-cost proxies do: the
/// weights (also in `f64` for synflow, which runs on a copy in double precision), their
/// gradients, and the activations of `batch` images with their gradients, in `bytes` per
/// value; `jacobian` adds the input gradients and their correlation matrix (jacob_cov).
pub fn scoring_memory(
    ops: &[u32; 6],
    net: &Nb201NetConfig,
    batch: usize,
    bytes: f64,
    jacobian: bool,
) -> MemoryEstimate {
    let (params, activations) = counts(&Architecture::Nb201(*ops), net);
    let b = batch as f64;
    let [c, h, w] = net.input.map(|d| d as f64);
    let jacobian = if jacobian {
        b * c * h * w * 8.0 + b * b * 8.0
    } else {
        0.0
    };
    MemoryEstimate {
        parameters: params * (F32 + 2.0 * bytes),
        activations: 2.0 * activations * b * bytes + jacobian,
    }
}

/// The memory a network may use here: the machine's physical memory (`MemTotal` of
/// `/proc/meminfo`) and where that number comes from, or a fixed 64 GiB where it cannot be
/// read. A step that needs more than all of it cannot run: the allocation aborts the
/// process, or the machine swaps for hours.
pub fn memory_limit() -> (f64, String) {
    match physical_memory() {
        Some(bytes) => (
            bytes,
            format!(
                "this machine's physical memory, {:.1} GiB (MemTotal in /proc/meminfo)",
                bytes / GIB
            ),
        ),
        None => (
            64.0 * GIB,
            "a fixed cap of 64 GiB (this machine's physical memory could not be read)".to_string(),
        ),
    }
}

fn physical_memory() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024.0)
}

/// Refuses an estimate above `limit` bytes (`limit_why` says where the limit comes from);
/// `what` names the step and `knobs` what to lower.
///
/// # Errors
/// The estimate is above the limit: the message gives both, in GiB.
pub fn check_memory(
    what: &str,
    estimate: MemoryEstimate,
    (limit, limit_why): &(f64, String),
    knobs: &str,
) -> Result<(), String> {
    if estimate.total().is_finite() && estimate.total() <= *limit {
        return Ok(());
    }
    Err(format!(
        "{what} needs about {} of memory (parameters and their optimizer state {}, activations {}), more than {limit_why}; lower {knobs}",
        gib(estimate.total()),
        gib(estimate.parameters),
        gib(estimate.activations),
    ))
}

fn gib(bytes: f64) -> String {
    let g = bytes / GIB;
    if g >= 1e6 {
        format!("{g:.2e} GiB")
    } else {
        format!("{g:.1} GiB")
    }
}

/// Parameters and activation values per image of `arch`, as `f64` so that no size
/// overflows (the counts of [`Architecture::cost`] are integers, and they are only
/// computed once a network is known to fit).
fn counts(arch: &Architecture, net: &Nb201NetConfig) -> (f64, f64) {
    let [c, h, w] = net.input.map(|d| d as f64);
    let classes = net.classes as f64;
    match arch {
        Architecture::Nb201(ops) => nb201_counts(ops, net),
        Architecture::ChainCnn(a) => {
            let (reads, outputs) = a.shapes(net.input);
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
            (params + features * classes + classes, acts)
        }
        Architecture::Mlp(a) => {
            let mut features = c * h * w;
            let (mut params, mut acts) = (0.0, features);
            for &width in &a.widths {
                let width = width as f64;
                params += features * width + width;
                // Linear output, activation, dropout mask.
                acts += 3.0 * width;
                features = width;
            }
            (params + features * classes + classes, acts + classes)
        }
        Architecture::LeNet5 => {
            let (ph, pw) = ((h / 4.0).floor(), (w / 4.0).floor());
            let params = c * 6.0 * 25.0
                + 6.0
                + 6.0 * 16.0 * 25.0
                + 16.0
                + 16.0 * ph * pw * 120.0
                + 120.0
                + 120.0 * 84.0
                + 84.0
                + 84.0 * classes
                + classes;
            let acts = c * h * w + 3.0 * 6.0 * h * w + 3.0 * 16.0 * h * w / 4.0 + 400.0;
            (params, acts)
        }
    }
}

/// [`counts`] of the NB201 network: each convolution edge keeps its ReLU'd input copy,
/// the convolution's and the batch norm's outputs, a pooling edge its output, every node
/// its sum; a reduction block seven maps of its output size.
fn nb201_counts(ops: &[u32; 6], net: &Nb201NetConfig) -> (f64, f64) {
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
    (
        params + 2.0 * ch + ch * classes + classes,
        acts + 2.0 * ch * h * w,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nb201_parameters_match_the_structural_count() {
        // The estimate's parameters are the cost model's (which equals the table's).
        for ops in [[3; 6], [0; 6], [1, 2, 3, 4, 0, 3]] {
            for net in [
                Nb201NetConfig::default(),
                Nb201NetConfig {
                    channels: 8,
                    cells_per_stage: 1,
                    input: [1, 8, 8],
                    classes: 10,
                },
            ] {
                let (params, _) = nb201_counts(&ops, &net);
                let exact = nas_space::nb201_cost::cost(&ops, &net).params as f64;
                assert_eq!(params, exact, "{ops:?} {net:?}");
            }
        }
    }

    #[test]
    fn the_default_search_fits_and_a_million_channels_do_not() {
        let limit = (8.0 * GIB, "8 GiB".to_string());
        let net = Nb201NetConfig {
            channels: 8,
            cells_per_stage: 1,
            input: [1, 8, 8],
            classes: 10,
        };
        let arch = Architecture::Nb201(NB201_LARGEST_CELL);
        assert!(check_memory("x", training_memory(&arch, &net, 64), &limit, "").is_ok());
        // The benchmark's own network, CIFAR-sized, batch 256: about 6 GiB by this
        // (generous) count, within any machine that trains it.
        let bench = training_memory(&arch, &Nb201NetConfig::default(), 256);
        assert!(bench.total() < 8.0 * GIB, "{bench:?}");
        let huge = Nb201NetConfig {
            channels: 1_000_000,
            ..net
        };
        let e = check_memory(
            "a step",
            training_memory(&arch, &huge, 64),
            &limit,
            "`channels`",
        )
        .unwrap_err();
        assert!(
            e.contains("more than 8 GiB") && e.contains("`channels`"),
            "{e}"
        );
    }

    #[test]
    fn inputs_each_network_cannot_take_are_named() {
        assert!(check_input("nb201", [3, 32, 32]).is_ok());
        assert!(check_input("nb201", [1, 4, 4]).is_ok());
        for bad in [[3, 2, 2], [1, 1, 1], [1, 6, 6], [1, 28, 30]] {
            let e = check_input("nb201", bad).unwrap_err();
            assert!(e.contains("multiples of 4") && e.contains("4x4"), "{e}");
        }
        assert!(check_input("chain-cnn", [1, 1, 1]).is_ok());
        assert!(check_input("mlp", [1, 0, 3]).unwrap_err().contains("zero"));
        assert!(check_arch_input(&Architecture::LeNet5, [1, 3, 8]).is_err());
    }
}
