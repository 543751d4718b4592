//! The DARTS cell space (registered `darts`): the decisions behind [`DartsArch`].
//!
//! Decisions, normal cell first, then the reduction cell, edge by edge in the original
//! genotype's order: `normal node 2 op 0` (one of the seven ops other than `none`), then
//! `normal node 2 input 0` (an earlier node), and so on: 32 decisions. Random samples give
//! each node two different inputs, as the NASNet and DARTS random baselines do; a genotype
//! read in may repeat one (published cells such as AmoebaNet's do).

use crate::darts::{CELL_EDGES, CellEdge, DartsArch, DartsCell, Op, PRIMITIVES};
use nas_core::drawing::ArchGraph;
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::space::StableHasher;
use nas_core::{Decision, Fingerprint, Genotype, Rng, SearchSpace, SpaceError, Value};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Name under which the space is registered.
pub const NAME: &str = "darts";

/// The DARTS cell space.
#[derive(Debug, Clone)]
pub struct DartsSpace {
    decisions: Vec<Decision>,
}

impl Default for DartsSpace {
    fn default() -> Self {
        let ops: Vec<&str> = PRIMITIVES[1..].to_vec();
        let mut decisions = Vec::with_capacity(4 * CELL_EDGES);
        for cell in ["normal", "reduce"] {
            for k in 0..CELL_EDGES {
                let (node, slot) = (2 + k / 2, k % 2);
                let inputs: Vec<String> = (0..node).map(|i| i.to_string()).collect();
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                decisions.push(Decision::categorical(
                    format!("{cell} node {node} op {slot}"),
                    &ops,
                ));
                decisions.push(Decision::categorical(
                    format!("{cell} node {node} input {slot}"),
                    &inputs,
                ));
            }
        }
        DartsSpace { decisions }
    }
}

impl DartsSpace {
    pub fn new() -> Self {
        Self::default()
    }

    /// The normal and reduction cell of a valid genotype.
    ///
    /// # Errors
    /// A genotype that is not of this space.
    pub fn arch(&self, g: &Genotype) -> Result<DartsArch, SpaceError> {
        self.validate(g)?;
        let index = |i: usize| g.0[i].as_index().unwrap_or(0) as usize;
        let cell = |offset: usize| {
            let mut edges = [CellEdge {
                op: Op::SKIP_CONNECT,
                input: 0,
            }; CELL_EDGES];
            for (k, e) in edges.iter_mut().enumerate() {
                let at = offset + 2 * k;
                *e = CellEdge {
                    op: Op(index(at) + 1),
                    input: index(at + 1),
                };
            }
            DartsCell { edges }
        };
        Ok(DartsArch {
            normal: cell(0),
            reduce: cell(2 * CELL_EDGES),
        })
    }

    /// The genotype of `arch`.
    pub fn genotype(arch: &DartsArch) -> Genotype {
        let values = [arch.normal, arch.reduce].into_iter().flat_map(|cell| {
            cell.edges.into_iter().flat_map(|e| {
                [
                    Value::Index(e.op.0.saturating_sub(1) as u32),
                    Value::Index(e.input as u32),
                ]
            })
        });
        Genotype(values.collect())
    }
}

impl SearchSpace for DartsSpace {
    fn name(&self) -> &str {
        NAME
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Ops uniformly; each node's two inputs a uniform pair of different earlier nodes.
    fn sample(&self, rng: &mut Rng) -> Genotype {
        let mut values = Vec::with_capacity(self.decisions.len());
        for _cell in 0..2 {
            for node in 2..2 + CELL_EDGES / 2 {
                let first = rng.index(node);
                let second = (first + 1 + rng.index(node - 1)) % node;
                for input in [first, second] {
                    values.push(Value::Index(rng.index(PRIMITIVES.len() - 1) as u32));
                    values.push(Value::Index(input as u32));
                }
            }
        }
        Genotype(values)
    }

    /// Hashes both cells with each node's two edges sorted: their sum does not care.
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let mut h = StableHasher::default();
        match self.arch(g) {
            Ok(arch) => {
                arch.normal.canonical().hash(&mut h);
                arch.reduce.canonical().hash(&mut h);
            }
            Err(_) => g.hash(&mut h),
        }
        Fingerprint(h.finish())
    }

    /// The original code's genotype string ([`DartsArch`]'s `Display`).
    fn render(&self, g: &Genotype) -> String {
        match self.arch(g) {
            Ok(arch) => arch.to_string(),
            Err(e) => format!("<not a darts genotype: {e}>"),
        }
    }

    /// The normal and the reduction cell.
    fn draw(&self, g: &Genotype) -> Vec<ArchGraph> {
        match self.arch(g) {
            Ok(arch) => vec![
                arch.normal.graph("normal cell"),
                arch.reduce.graph("reduction cell"),
            ],
            Err(_) => Vec::new(),
        }
    }

    /// Reads the original code's genotype string.
    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        Ok(Self::genotype(&DartsArch::parse(s)?))
    }
}

/// Config of the `darts` space: it has no options.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DartsSpaceConfig {}

impl SpaceConfig for DartsSpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(DartsSpace::new()))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    DartsSpaceConfig,
    NAME,
    "DARTS/NASNet cells (Liu et al. 2019): a normal and a reduction cell, 4 nodes of 2 edges over 7 ops each."
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::darts::DARTS_V2;

    #[test]
    fn genotypes_and_strings_round_trip() {
        let space = DartsSpace::new();
        assert_eq!(space.decisions().len(), 32);
        let g = space.parse(DARTS_V2).unwrap();
        space.validate(&g).unwrap();
        assert_eq!(space.render(&g), DARTS_V2);
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let g = space.sample(&mut rng);
            space.validate(&g).unwrap();
            let arch = space.arch(&g).unwrap();
            for pair in arch.normal.edges.chunks(2) {
                assert_ne!(pair[0].input, pair[1].input);
            }
            assert_eq!(space.parse(&space.render(&g)).unwrap(), g);
            let child = space.mutate(&g, &mut rng);
            space.validate(&child).unwrap();
        }
    }

    #[test]
    fn swapping_a_nodes_two_edges_keeps_the_fingerprint() {
        let space = DartsSpace::new();
        let g = space.parse(DARTS_V2).unwrap();
        let swapped = DARTS_V2.replacen(
            "('sep_conv_3x3', 0), ('sep_conv_3x3', 1)",
            "('sep_conv_3x3', 1), ('sep_conv_3x3', 0)",
            1,
        );
        let h = space.parse(&swapped).unwrap();
        assert_ne!(g, h);
        assert_eq!(space.fingerprint(&g), space.fingerprint(&h));
        let other = space.parse(&DARTS_V2.replacen("dil_conv_3x3", "dil_conv_5x5", 1));
        assert_ne!(space.fingerprint(&g), space.fingerprint(&other.unwrap()));
    }
}
