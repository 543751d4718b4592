//! The recurrent-cell space (registered `rnn-cell`): the decisions behind [`RnnCellArch`]
//! and its config.
//!
//! Decisions, for every node `k` in `1..=nodes`: `node k input` (one of the nodes
//! `0..k`) and `node k activation`. Every genotype is a valid cell and every node is live
//! (see [`crate::rnn_cell`]), so no decision is inert; the fingerprint hashes the
//! canonical tree, so cells equal up to the order of a node's children count once.

use crate::rnn_cell::{CellActivation, RnnCellArch, RnnCellParseError, RnnNode};
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::space::StableHasher;
use nas_core::{Decision, Fingerprint, Genotype, SearchSpace, SpaceError, Value};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Name under which the space is registered.
pub const NAME: &str = "rnn-cell";

/// The most nodes a config may ask for.
pub const MAX_NODES: usize = 24;

/// Config of the `rnn-cell` space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RnnCellSpaceConfig {
    /// Nodes after node 0 (ENAS and DARTS use 8).
    pub nodes: usize,
    /// Activations a node may choose (`tanh`, `relu`, `sigmoid`, `identity`).
    pub activations: Vec<CellActivation>,
}

impl Default for RnnCellSpaceConfig {
    fn default() -> Self {
        RnnCellSpaceConfig {
            nodes: 8,
            activations: CellActivation::ALL.to_vec(),
        }
    }
}

impl RnnCellSpaceConfig {
    /// # Errors
    /// The first field out of range, by name.
    pub fn check(&self) -> Result<(), ConfigError> {
        let field = |f: &str, why: String| Err(ConfigError::field(NAME, f, why));
        if !(1..=MAX_NODES).contains(&self.nodes) {
            return field("nodes", format!("must be in 1..={MAX_NODES}"));
        }
        if self.activations.is_empty() {
            return field("activations", "needs at least one choice".into());
        }
        if (1..self.activations.len()).any(|i| self.activations[..i].contains(&self.activations[i]))
        {
            return field("activations", "repeated choice".into());
        }
        Ok(())
    }
}

impl SpaceConfig for RnnCellSpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(RnnCellSpace::new(self.clone())?))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    RnnCellSpaceConfig,
    "rnn-cell",
    "Recurrent cells (ENAS/DARTS): per node an earlier node as input and an activation, highway gates, the mean of the loose ends."
);

/// The recurrent-cell space.
#[derive(Debug, Clone)]
pub struct RnnCellSpace {
    config: RnnCellSpaceConfig,
    decisions: Vec<Decision>,
}

impl RnnCellSpace {
    /// # Errors
    /// A config that fails [`RnnCellSpaceConfig::check`].
    pub fn new(config: RnnCellSpaceConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let activations: Vec<&str> = config.activations.iter().map(|a| a.name()).collect();
        let mut decisions = Vec::with_capacity(2 * config.nodes);
        for k in 1..=config.nodes {
            let inputs: Vec<String> = (0..k).map(|j| j.to_string()).collect();
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            decisions.push(Decision::categorical(format!("node {k} input"), &inputs));
            decisions.push(Decision::categorical(
                format!("node {k} activation"),
                &activations,
            ));
        }
        Ok(RnnCellSpace { config, decisions })
    }

    pub fn config(&self) -> &RnnCellSpaceConfig {
        &self.config
    }

    /// The cell of a valid genotype.
    ///
    /// # Errors
    /// A genotype that is not of this space.
    pub fn decode(&self, g: &Genotype) -> Result<RnnCellArch, SpaceError> {
        self.validate(g)?;
        let index = |k: usize| g.0[k].as_index().unwrap_or(0) as usize;
        let nodes = (0..self.config.nodes)
            .map(|i| RnnNode {
                input: index(2 * i),
                activation: self.config.activations[index(2 * i + 1)],
            })
            .collect();
        Ok(RnnCellArch { nodes })
    }

    /// The genotype of a cell.
    ///
    /// # Errors
    /// Another number of nodes, or an activation that is not one of this space's.
    pub fn encode_arch(&self, arch: &RnnCellArch) -> Result<Genotype, String> {
        if arch.nodes.len() != self.config.nodes {
            return Err(format!(
                "{} nodes; the space's cells have {}",
                arch.nodes.len(),
                self.config.nodes
            ));
        }
        let mut values = Vec::with_capacity(2 * arch.nodes.len());
        for (i, n) in arch.nodes.iter().enumerate() {
            let activation = self
                .config
                .activations
                .iter()
                .position(|a| *a == n.activation)
                .ok_or_else(|| {
                    format!(
                        "node {}: activation {} is not one of this space's",
                        i + 1,
                        n.activation
                    )
                })?;
            values.push(Value::Index(n.input as u32));
            values.push(Value::Index(activation as u32));
        }
        Ok(Genotype(values))
    }
}

impl SearchSpace for RnnCellSpace {
    fn name(&self) -> &str {
        NAME
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Hashes the canonical tree ([`RnnCellArch::canonical`]).
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let mut h = StableHasher::default();
        match self.decode(g) {
            Ok(a) => a.canonical().hash(&mut h),
            Err(_) => g.hash(&mut h),
        }
        Fingerprint(h.finish())
    }

    /// The string form of [`RnnCellArch`], e.g. `tanh<0|relu<1|...`.
    fn render(&self, g: &Genotype) -> String {
        match self.decode(g) {
            Ok(arch) => arch.to_string(),
            Err(e) => format!("<not an rnn-cell genotype: {e}>"),
        }
    }

    fn draw(&self, g: &Genotype) -> Vec<nas_core::drawing::ArchGraph> {
        self.decode(g)
            .map(|arch| vec![arch.graph()])
            .unwrap_or_default()
    }

    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        let err = |reason: String| SpaceError::Parse {
            input: s.to_string(),
            reason,
        };
        let arch: RnnCellArch = s.parse().map_err(|e: RnnCellParseError| err(e.0))?;
        self.encode_arch(&arch).map_err(err)
    }
}
