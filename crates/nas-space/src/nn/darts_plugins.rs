//! The DARTS space's network and relaxed supernet, registered by space name: what lets the
//! `train` and `zero-cost` evaluators build a derived cell's network and the gradient-based
//! methods search the space, without knowing it.
//!
//! `width` is `C`, the channels of a cell's nodes before the first reduction; `depth` is
//! `N`, the normal cells of each of the three stages, so a network has `3N + 2` cells (the
//! paper's search network of 8 cells is `N = 2`, its CIFAR-10 network of 20 is `N = 6`).

use super::counts;
use super::darts_net::DartsNet;
use super::darts_supernet::{CANDIDATES, DartsSupernet};
use crate::darts::{CellEdge, DartsArch, DartsCell, NONE, Op, PRIMITIVES, SEARCH_EDGES, STEPS};
use crate::darts_cost::{self, DartsNetConfig};
use crate::darts_space::{DartsSpace, NAME};
use burn::tensor::{Device, Tensor};
use nas_core::{Cost, Genotype, SearchSpace, SpaceError};
use nas_nn::{Classifier, Counts, NetSpec, NetworkBuilder, RelaxedBuilder, RelaxedSupernet, Task};

/// The network's shape for `spec`: `C = width`, `3 * depth + 2` cells.
pub fn darts_net_config(spec: &NetSpec) -> DartsNetConfig {
    DartsNetConfig {
        channels: spec.width,
        cells: 3 * spec.depth + 2,
        input: spec.task.input,
        classes: spec.task.classes,
    }
}

/// The check every depth shares: `3N + 2` cells always have two reductions.
fn check_task(task: &Task) -> Result<(), String> {
    nas_nn::nonzero(task)?;
    let net = DartsNetConfig {
        cells: 2,
        channels: 1,
        input: task.input,
        classes: task.classes,
    };
    net.check_input()
}

impl Classifier for DartsNet {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        DartsNet::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        DartsNet::trainable_params(self)
    }
}

/// The network of a derived DARTS cell (the original `NetworkCIFAR`, no auxiliary head).
#[derive(Debug)]
pub struct DartsNetwork;

impl NetworkBuilder for DartsNetwork {
    type Arch = DartsArch;
    type Net = DartsNet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<DartsArch, SpaceError> {
        space.validate(g)?;
        DartsSpace::new().arch(g)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        check_task(task)
    }

    /// Every edge a `sep_conv_5x5`: the most parameters and activations of any cell.
    fn largest(&self, _space: &dyn SearchSpace) -> Option<Genotype> {
        let edge = |k: usize| CellEdge {
            op: Op::SEP_CONV_5X5,
            input: k % 2,
        };
        let cell = DartsCell {
            edges: std::array::from_fn(edge),
        };
        Some(DartsSpace::genotype(&DartsArch {
            normal: cell,
            reduce: cell,
        }))
    }

    fn counts(&self, arch: &DartsArch, spec: &NetSpec) -> Counts {
        counts::darts(arch, &darts_net_config(spec))
    }

    fn cost(&self, arch: &DartsArch, spec: &NetSpec) -> Cost {
        darts_cost::cost(arch, &darts_net_config(spec))
    }

    fn build(&self, arch: &DartsArch, spec: &NetSpec, device: &Device, seed: u64) -> DartsNet {
        DartsNet::new(arch, &darts_net_config(spec), device, seed)
    }
}

nas_nn::register_network!(NAME, DartsNetwork);

impl RelaxedSupernet for DartsSupernet {
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        DartsSupernet::forward_mixed(self, x, weights)
    }
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2> {
        DartsSupernet::forward_sampled(self, x, weights, choices)
    }
    fn trainable_params(&self) -> usize {
        DartsSupernet::trainable_params(self)
    }
}

/// The DARTS supernet relaxed: architecture weights `[28 edges, 8 ops]` (see
/// [`super::darts_supernet`]); the derivation is the original code's.
#[derive(Debug)]
pub struct DartsRelaxed;

impl RelaxedBuilder for DartsRelaxed {
    type Net = DartsSupernet;

    fn alpha_shape(&self, _space: &dyn SearchSpace) -> [usize; 2] {
        [2 * SEARCH_EDGES, CANDIDATES]
    }

    fn candidate_names(&self, _space: &dyn SearchSpace) -> Vec<String> {
        PRIMITIVES.iter().map(ToString::to_string).collect()
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        check_task(task)
    }

    fn build(
        &self,
        _space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> DartsSupernet {
        DartsSupernet::new(&darts_net_config(spec), device, seed)
    }

    /// Each row's softmax, then per intermediate node the two incoming edges whose
    /// strongest op other than `none` is strongest, each with that op (`genotype()` of
    /// the original `model_search.py`; ties go to the lower node and op).
    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError> {
        if alpha.len() != 2 * SEARCH_EDGES * CANDIDATES {
            return Err(SpaceError::Parse {
                input: format!("{} architecture weights", alpha.len()),
                reason: format!(
                    "expected {} ({} edges x {CANDIDATES} ops)",
                    2 * SEARCH_EDGES * CANDIDATES,
                    2 * SEARCH_EDGES
                ),
            });
        }
        let rows: Vec<Vec<f64>> = alpha.chunks(CANDIDATES).map(softmax).collect();
        let arch = DartsArch {
            normal: derive_cell(&rows[..SEARCH_EDGES]),
            reduce: derive_cell(&rows[SEARCH_EDGES..]),
        };
        let g = DartsSpace::genotype(&arch);
        space.validate(&g)?;
        Ok(g)
    }
}

nas_nn::register_relaxed!(NAME, DartsRelaxed);

fn softmax(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &a| m.max(a as f64));
    let exp: Vec<f64> = row.iter().map(|&a| (a as f64 - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// The strongest op of a row other than `none`, and its weight.
fn best_op(row: &[f64]) -> (usize, f64) {
    (0..row.len())
        .filter(|&k| k != NONE)
        .fold((NONE, f64::NEG_INFINITY), |best, k| {
            if row[k] > best.1 { (k, row[k]) } else { best }
        })
}

/// One cell from its 14 rows of probabilities.
fn derive_cell(rows: &[Vec<f64>]) -> DartsCell {
    let mut edges = Vec::with_capacity(2 * STEPS);
    let mut start = 0;
    for node in 2..2 + STEPS {
        let incoming = &rows[start..start + node];
        let mut sources: Vec<usize> = (0..node).collect();
        // Stable: equal strengths keep the lower source first.
        sources.sort_by(|&a, &b| best_op(&incoming[b]).1.total_cmp(&best_op(&incoming[a]).1));
        for &from in &sources[..2] {
            edges.push(CellEdge {
                op: Op(best_op(&incoming[from]).0),
                input: from,
            });
        }
        start += node;
    }
    let mut cell = [CellEdge {
        op: Op::SKIP_CONNECT,
        input: 0,
    }; 2 * STEPS];
    cell.copy_from_slice(&edges);
    DartsCell { edges: cell }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_takes_the_two_strongest_edges_without_none() {
        // Every row favours `none` most; edge strengths otherwise rise with the row, and
        // each row's best real op is `(row % 7) + 1`.
        let mut alpha = vec![0.0f32; 2 * SEARCH_EDGES * CANDIDATES];
        for (r, row) in alpha.chunks_mut(CANDIDATES).enumerate() {
            row[NONE] = 10.0;
            row[r % 7 + 1] = 1.0 + r as f32 * 0.01;
        }
        let space = DartsSpace::new();
        let g = DartsRelaxed.derive(&space, &alpha).unwrap();
        let arch = space.arch(&g).unwrap();
        // Node 2 reads 0 and 1 (rows 0, 1); node 3 its two strongest of rows 2..5 (from
        // 2 and 1); node 5 rows 9..14 (from 4 and 3).
        let pairs: Vec<(usize, usize)> = arch
            .normal
            .edges
            .iter()
            .map(|e| (e.op.0, e.input))
            .collect();
        assert_eq!(pairs[..2], [(2, 1), (1, 0)]);
        assert_eq!(pairs[2..4], [(5, 2), (4, 1)]);
        assert_eq!(pairs[6..], [(7, 4), (6, 3)]);
        assert!(DartsRelaxed.derive(&space, &alpha[1..]).is_err());
    }
}
