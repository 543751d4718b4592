//! What a network needs before it is built: memory this machine has. It is checked when an
//! evaluator is built (on the space's largest network, where it has one) and again per
//! trial, so a configuration that cannot run is an error that says why, not an abort on an
//! allocation of terabytes or hours of swapping.
//!
//! No tensors here: the estimates read the network's [`Counts`] only.

use crate::network::Counts;

/// Bytes per `f32`, the training dtype.
const F32: f64 = 4.0;

pub const GIB: f64 = (1u64 << 30) as f64;

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

/// The memory of one training step of a network of `counts` on a batch of `batch` images: four copies of
/// the parameters (weights, gradients, two optimizer moments: Adam's worst case) and two of
/// every activation the network keeps (the value and its gradient), in `f32`.
///
/// An estimate, not a measure: it counts the tensors the networks create, not the
/// allocator's slack or burn's temporaries, and it is what tells 1 GB from 4 TB.
pub fn training_memory(counts: Counts, batch: usize) -> MemoryEstimate {
    MemoryEstimate {
        parameters: 4.0 * counts.params * F32,
        activations: 2.0 * counts.activations * batch as f64 * F32,
    }
}

/// The memory of scoring a network of `counts` once, as the zero-cost proxies do: the
/// weights (also in `f64` for synflow, which runs on a copy in double precision), their
/// gradients, and the activations of `batch` images with their gradients, in `bytes` per
/// value; `jacobian` adds the input gradients and their correlation matrix (jacob_cov).
pub fn scoring_memory(
    counts: Counts,
    input: [usize; 3],
    batch: usize,
    bytes: f64,
    jacobian: bool,
) -> MemoryEstimate {
    let Counts {
        params,
        activations,
    } = counts;
    let b = batch as f64;
    let [c, h, w] = input.map(|d| d as f64);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_estimate_over_the_limit_names_both_and_the_knobs() {
        let limit = (8.0 * GIB, "8 GiB".to_string());
        let small = Counts {
            params: 1e5,
            activations: 1e4,
        };
        assert!(check_memory("x", training_memory(small, 64), &limit, "").is_ok());
        let huge = Counts {
            params: 1e12,
            activations: 1e4,
        };
        let e =
            check_memory("a step", training_memory(huge, 64), &limit, "`channels`").unwrap_err();
        assert!(
            e.contains("more than 8 GiB") && e.contains("`channels`"),
            "{e}"
        );
        let infinite = Counts {
            params: f64::INFINITY,
            activations: 0.0,
        };
        assert!(check_memory("x", training_memory(infinite, 1), &limit, "").is_err());
    }
}
