//! The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020).
//!
//! A cell is a DAG of four nodes; each of the six edges `i -> j` (`i < j`) carries one of
//! five operations. The genotype holds the six op indices in the official string's edge
//! order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), and an op's index is its digit in the
//! benchmark table's `ops` column, so a genotype reads as the table's 6-digit code.

use nas_core::drawing::ArchGraph;
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::space::StableHasher;
use nas_core::{Decision, Fingerprint, Genotype, Rng, SearchSpace, SpaceError};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The five operations, in table-digit order.
pub const OPS: [&str; 5] = [
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
];

/// Op index of `none`: the edge is absent.
pub const NONE: u32 = 0;

/// The edges `(from, to)` in genotype order.
pub const EDGES: [(usize, usize); 6] = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)];

/// Number of cells in the space: 5^6.
pub const SIZE: usize = 15_625;

/// The NAS-Bench-201 cell space.
#[derive(Debug, Clone)]
pub struct Nb201Space {
    decisions: Vec<Decision>,
    sampling: Sampling,
}

/// What [`SearchSpace::sample`] draws uniformly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampling {
    /// Every cell equally often: a function computed by `m` cells (isomorphic cells,
    /// dead edges holding any op) is drawn `m` times as often. The classic baseline, as
    /// the published NB201 random search samples.
    #[default]
    Genotypes,
    /// Every one of the 8,765 functions equally often, each as its canonical cell.
    Functions,
}

impl Default for Nb201Space {
    fn default() -> Self {
        Nb201Space {
            decisions: EDGES
                .iter()
                .map(|(i, j)| Decision::categorical(format!("edge {j}<-{i}"), &OPS))
                .collect(),
            sampling: Sampling::Genotypes,
        }
    }
}

/// The canonical cells, one per function, in code-number order: what uniform sampling
/// over functions draws from. Computed once, from the 15,625 cells.
fn canonical_cells() -> &'static [[u32; 6]] {
    static CELLS: std::sync::OnceLock<Vec<[u32; 6]>> = std::sync::OnceLock::new();
    CELLS.get_or_init(|| {
        let ops_of = |n: usize| {
            let mut cell = [0u32; 6];
            let ops = Nb201Space::from_code_number(n)
                .indices()
                .unwrap_or_default();
            for (slot, op) in cell.iter_mut().zip(ops) {
                *slot = op;
            }
            cell
        };
        let codes: std::collections::BTreeSet<usize> = (0..SIZE)
            .map(|n| Nb201Space::code_number(&Nb201Space::canonical(ops_of(n))))
            .collect();
        codes.into_iter().map(ops_of).collect()
    })
}

impl Nb201Space {
    pub fn new() -> Self {
        Self::default()
    }

    /// The space whose [`sample`](SearchSpace::sample) draws as `sampling` says.
    pub fn with_sampling(sampling: Sampling) -> Self {
        Nb201Space {
            sampling,
            ..Self::default()
        }
    }

    /// The six op indices of a valid genotype.
    ///
    /// # Errors
    /// A genotype that is not of this space.
    pub fn ops(&self, g: &Genotype) -> Result<[u32; 6], SpaceError> {
        self.validate(g)?;
        let mut ops = [0u32; 6];
        for (slot, v) in ops.iter_mut().zip(&g.0) {
            *slot = v.as_index().unwrap_or(0);
        }
        Ok(ops)
    }

    /// The table's 6-digit code, e.g. `333132`.
    pub fn op_code(&self, g: &Genotype) -> String {
        g.0.iter()
            .map(|v| char::from(b'0' + v.as_index().unwrap_or(9) as u8))
            .collect()
    }

    /// Reads a 6-digit code.
    ///
    /// # Errors
    /// Not six digits in `0..=4`.
    pub fn from_op_code(&self, code: &str) -> Result<Genotype, SpaceError> {
        let err = |reason: &str| SpaceError::Parse {
            input: code.to_string(),
            reason: reason.to_string(),
        };
        if code.len() != 6 {
            return Err(err("an op code has six digits 0-4"));
        }
        code.bytes()
            .map(|b| match b {
                b'0'..=b'4' => Ok((b - b'0') as u32),
                _ => Err(err("an op code has six digits 0-4")),
            })
            .collect::<Result<Vec<u32>, _>>()
            .map(Genotype::from_indices)
    }

    /// The code read as a base-5 number, most significant digit first: `0..15625`, a dense
    /// key for tables (it is not the benchmark's own `index`).
    pub fn code_number(ops: &[u32; 6]) -> usize {
        ops.iter().fold(0usize, |acc, &d| acc * 5 + d as usize)
    }

    /// The genotype with a given code number.
    pub fn from_code_number(mut n: usize) -> Genotype {
        let mut ops = [0u32; 6];
        for slot in ops.iter_mut().rev() {
            *slot = (n % 5) as u32;
            n /= 5;
        }
        Genotype::from_indices(ops)
    }

    /// The cell with what cannot change its output removed: `none` edges, and edges that
    /// lie on no path from the input (node 0) to the output (node 3). A cell with no such
    /// path at all becomes all-`none` (its output is zero).
    pub fn prune(ops: [u32; 6]) -> [u32; 6] {
        let live = |k: usize| ops[k] != NONE;
        // Nodes reachable from the input, in topological order.
        let mut from_input = [true, false, false, false];
        for j in 1..4 {
            from_input[j] = EDGES
                .iter()
                .enumerate()
                .any(|(k, &(a, b))| b == j && live(k) && from_input[a]);
        }
        // Nodes that reach the output, in reverse order.
        let mut to_output = [false, false, false, true];
        for i in (0..3).rev() {
            to_output[i] = EDGES
                .iter()
                .enumerate()
                .any(|(k, &(a, b))| a == i && live(k) && to_output[b]);
        }
        let mut pruned = ops;
        for (k, &(a, b)) in EDGES.iter().enumerate() {
            if !(from_input[a] && to_output[b]) {
                pruned[k] = NONE;
            }
        }
        pruned
    }

    /// The canonical form of a cell: pruned, then the smaller of itself and its relabelling
    /// with the two intermediate nodes swapped (possible only without an edge 1 -> 2, since
    /// a swap must keep the node order). Cells with equal canonical forms compute the same
    /// function; there are 8,765 canonical forms.
    pub fn canonical(ops: [u32; 6]) -> [u32; 6] {
        let p = Self::prune(ops);
        if p[2] != NONE {
            return p;
        }
        // Swapping nodes 1 and 2 maps edge 1<-0 to 2<-0, 3<-1 to 3<-2, and back.
        let swapped = [p[1], p[0], NONE, p[3], p[5], p[4]];
        p.min(swapped)
    }
}

impl SearchSpace for Nb201Space {
    fn name(&self) -> &str {
        "nb201"
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// 8,765 of the 15,625 cells compute distinct functions (counted over every cell by
    /// the test `the_space_has_8765_distinct_cells`), so a strategy that never repeats a
    /// function knows exactly when it has tried them all.
    fn distinct_functions(&self) -> Option<u128> {
        Some(8_765)
    }

    /// Uniform over cells, or over functions (their canonical cells) with
    /// [`Sampling::Functions`].
    fn sample(&self, rng: &mut Rng) -> Genotype {
        match self.sampling {
            Sampling::Genotypes => {
                Genotype(self.decisions().iter().map(|d| d.sample(rng)).collect())
            }
            Sampling::Functions => {
                let cells = canonical_cells();
                Genotype::from_indices(cells[rng.index(cells.len())])
            }
        }
    }

    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        match self.ops(g) {
            Ok(ops) => {
                let mut h = StableHasher::default();
                Self::canonical(ops).hash(&mut h);
                Fingerprint(h.finish())
            }
            // Not a cell of this space: fall back to hashing the values.
            Err(_) => {
                let mut h = StableHasher::default();
                g.hash(&mut h);
                Fingerprint(h.finish())
            }
        }
    }

    /// The official string, e.g.
    /// `|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|`.
    fn render(&self, g: &Genotype) -> String {
        let name = |k: usize| {
            g.0.get(k)
                .and_then(|v| v.as_index())
                .and_then(|i| OPS.get(i as usize))
                .copied()
                .unwrap_or("?")
        };
        format!(
            "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|",
            name(0),
            name(1),
            name(2),
            name(3),
            name(4),
            name(5)
        )
    }

    /// The cell's four nodes and an edge per operation that is not `none` (the absent
    /// edges are left out, as in the paper's figures).
    fn draw(&self, g: &Genotype) -> Vec<ArchGraph> {
        let Ok(ops) = self.ops(g) else {
            return Vec::new();
        };
        let labels = ["input", "node 1", "node 2", "output"].map(str::to_string);
        let mut cell = ArchGraph::new("cell", labels);
        for (&(from, to), &op) in EDGES.iter().zip(&ops) {
            if op != NONE {
                cell.edge(from, to, OPS[op as usize]);
            }
        }
        vec![cell]
    }

    /// Reads the official string; a 6-digit op code (`333132`) is accepted too.
    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        let s = s.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            return self.from_op_code(s);
        }
        let err = |reason: String| SpaceError::Parse {
            input: s.to_string(),
            reason,
        };
        let body = s
            .strip_prefix('|')
            .and_then(|b| b.strip_suffix('|'))
            .ok_or_else(|| err("an NB201 string starts and ends with '|'".into()))?;
        let nodes: Vec<&str> = body.split("|+|").collect();
        if nodes.len() != 3 {
            return Err(err(format!(
                "expected 3 nodes separated by '|+|', found {}",
                nodes.len()
            )));
        }
        let mut ops = Vec::with_capacity(6);
        for (n, node) in nodes.iter().enumerate() {
            let target = n + 1;
            let edges: Vec<&str> = node.split('|').collect();
            if edges.len() != target {
                return Err(err(format!(
                    "node {target} needs {target} incoming edges, found {}",
                    edges.len()
                )));
            }
            for (source, edge) in edges.iter().enumerate() {
                let (op, from) = edge
                    .split_once('~')
                    .ok_or_else(|| err(format!("edge {edge:?} is not `op~source`")))?;
                if from != source.to_string() {
                    return Err(err(format!(
                        "edge {edge:?} into node {target}: expected source {source}"
                    )));
                }
                let index = OPS
                    .iter()
                    .position(|o| *o == op)
                    .ok_or_else(|| err(format!("unknown op {op:?}; ops are {}", OPS.join(", "))))?;
                ops.push(index as u32);
            }
        }
        Ok(Genotype::from_indices(ops))
    }
}

/// Config of the `nb201` space.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nb201SpaceConfig {
    /// What random samples are uniform over: `genotypes` (the default, written nowhere, so
    /// configs and journals from before this field read the same) or `functions`.
    #[serde(default, skip_serializing_if = "is_genotypes")]
    pub sampling: Sampling,
}

fn is_genotypes(s: &Sampling) -> bool {
    *s == Sampling::Genotypes
}

impl SpaceConfig for Nb201SpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(Nb201Space::with_sampling(self.sampling)))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    Nb201SpaceConfig,
    "nb201",
    "NAS-Bench-201 cells: 6 edges x 5 ops, 15,625 cells (8,765 distinct functions)."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_functions_draws_each_function_about_equally() {
        assert_eq!(canonical_cells().len(), 8_765);
        let zero = Nb201Space::new().fingerprint(&Genotype::from_indices([0u32; 6]));
        let draws = 50_000;
        let share = |space: Nb201Space| {
            let mut rng = Rng::new(4);
            let hits = (0..draws)
                .filter(|_| {
                    let g = space.sample(&mut rng);
                    space.fingerprint(&g) == zero
                })
                .count();
            hits as f64 / draws as f64
        };
        // The function "output cut off" has hundreds of cells: about one draw in 45
        // uniform over cells (2.2% here), one in 8,765 uniform over functions.
        let by_cells = share(Nb201Space::new());
        let by_functions = share(Nb201Space::with_sampling(Sampling::Functions));
        assert!(by_cells > 0.01, "{by_cells}");
        assert!(by_functions < 5.0 / 8_765.0, "{by_functions}");
        // A function draw is its own canonical cell.
        let space = Nb201Space::with_sampling(Sampling::Functions);
        let mut rng = Rng::new(5);
        for _ in 0..100 {
            let ops = space.ops(&space.sample(&mut rng)).unwrap();
            assert_eq!(Nb201Space::canonical(ops), ops);
        }
    }

    #[test]
    fn render_matches_the_official_form() {
        let s = Nb201Space::new();
        let g = s.from_op_code("333132").unwrap();
        assert_eq!(
            s.render(&g),
            "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
        );
        assert_eq!(s.op_code(&g), "333132");
    }

    #[test]
    fn code_numbers_round_trip() {
        for n in [0, 1, 4, 5, 15_624, 7_777] {
            let g = Nb201Space::from_code_number(n);
            let ops = Nb201Space::new().ops(&g).unwrap();
            assert_eq!(Nb201Space::code_number(&ops), n);
        }
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        let s = Nb201Space::new();
        for (input, needle) in [
            ("", "starts and ends"),
            ("|nor_conv_3x3~0|", "3 nodes"),
            (
                "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                "unknown op",
            ),
            (
                "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
                "expected source 0",
            ),
            (
                "|none~0|+|none~0|+|none~0|none~1|none~2|",
                "needs 2 incoming",
            ),
            (
                "|none0|+|none~0|none~1|+|none~0|none~1|none~2|",
                "op~source",
            ),
            ("335132", "six digits"),
        ] {
            let e = s.parse(input).unwrap_err().to_string();
            assert!(e.contains(needle), "{input:?}: {e}");
        }
    }

    #[test]
    fn pruning_removes_dead_edges() {
        // Output cut off: everything goes.
        assert_eq!(Nb201Space::prune([3, 3, 3, 0, 0, 0]), [0; 6]);
        // Node 2 has no input: edge 3<-2 is dead.
        assert_eq!(Nb201Space::prune([3, 0, 0, 1, 0, 2]), [0, 0, 0, 1, 0, 0]);
        // Node 1 does not reach the output: edge 1<-0 is dead.
        assert_eq!(Nb201Space::prune([3, 0, 0, 1, 0, 0]), [0, 0, 0, 1, 0, 0]);
    }
}
