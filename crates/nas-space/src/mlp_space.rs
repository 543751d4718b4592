//! The MLP space (registered `mlp`): the decisions behind [`MlpArch`] and its config.
//!
//! Decisions: `depth` (an integer in `1..=max_layers`), `layer i width` for every possible
//! layer `i < max_layers`, `activation`, `dropout`.
//!
//! # Inert decisions
//! The widths of layers at or beyond the chosen depth do not exist in the network. They
//! stay in the genotype (a flat list of decisions cannot grow and shrink), so a later
//! mutation of the depth can bring them back to life. Genotypes that differ only in them
//! are the same network: [`SearchSpace::fingerprint`] hashes the decoded architecture, so
//! strategies that deduplicate by fingerprint do not train it twice, and `render` writes
//! only the live widths. `parse` sets the inert widths to the first choice, so
//! `parse(render(g))` is the canonical genotype of `g`, with the same fingerprint.

use crate::mlp::{Activation, MlpArch, MlpParseError};
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::space::StableHasher;
use nas_core::{Decision, DecisionKind, Fingerprint, Genotype, SearchSpace, SpaceError, Value};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Name under which the space is registered.
pub const NAME: &str = "mlp";

/// The most hidden layers a config may ask for.
pub const MAX_LAYERS: usize = 32;

/// Config of the `mlp` space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MlpSpaceConfig {
    /// The deepest network: depth is chosen in `1..=max_layers`.
    pub max_layers: usize,
    /// Widths a hidden layer may choose.
    pub widths: Vec<usize>,
    /// Activations to choose from (`relu`, `tanh`, `gelu`, `sigmoid`).
    pub activations: Vec<Activation>,
    /// Dropout rates to choose from, each in `[0, 1)`.
    pub dropouts: Vec<f64>,
}

impl Default for MlpSpaceConfig {
    fn default() -> Self {
        MlpSpaceConfig {
            max_layers: 4,
            widths: vec![16, 32, 64, 128],
            activations: Activation::ALL.to_vec(),
            dropouts: vec![0.0, 0.1, 0.25],
        }
    }
}

impl MlpSpaceConfig {
    /// # Errors
    /// The first field out of range, by name.
    pub fn check(&self) -> Result<(), ConfigError> {
        let field = |f: &str, why: String| Err(ConfigError::field(NAME, f, why));
        if !(1..=MAX_LAYERS).contains(&self.max_layers) {
            return field("max_layers", format!("must be in 1..={MAX_LAYERS}"));
        }
        if self.widths.is_empty() || self.widths.contains(&0) {
            return field(
                "widths",
                "needs at least one choice, each at least 1".into(),
            );
        }
        let mut w = self.widths.clone();
        w.sort_unstable();
        w.dedup();
        if w.len() != self.widths.len() {
            return field("widths", format!("repeated choice in {:?}", self.widths));
        }
        if self.activations.is_empty() {
            return field("activations", "needs at least one choice".into());
        }
        if (1..self.activations.len()).any(|i| self.activations[..i].contains(&self.activations[i]))
        {
            return field("activations", "repeated choice".into());
        }
        if self.dropouts.is_empty() {
            return field("dropouts", "needs at least one choice".into());
        }
        if let Some(p) = self.dropouts.iter().find(|p| !(0.0..1.0).contains(*p)) {
            return field("dropouts", format!("{p} is not in [0, 1)"));
        }
        if (1..self.dropouts.len()).any(|i| self.dropouts[..i].contains(&self.dropouts[i])) {
            return field("dropouts", "repeated choice".into());
        }
        Ok(())
    }
}

impl SpaceConfig for MlpSpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(MlpSpace::new(self.clone())?))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    MlpSpaceConfig,
    "mlp",
    "Multilayer perceptrons: depth, a width per layer, activation, dropout."
);

/// The MLP space.
#[derive(Debug, Clone)]
pub struct MlpSpace {
    config: MlpSpaceConfig,
    decisions: Vec<Decision>,
}

/// Index of the first width decision (after `depth`).
const FIRST_WIDTH: usize = 1;

impl MlpSpace {
    /// # Errors
    /// A config that fails [`MlpSpaceConfig::check`].
    pub fn new(config: MlpSpaceConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let widths: Vec<String> = config.widths.iter().map(usize::to_string).collect();
        let widths: Vec<&str> = widths.iter().map(String::as_str).collect();
        let activations: Vec<&str> = config.activations.iter().map(|a| a.name()).collect();
        let dropouts: Vec<String> = config.dropouts.iter().map(f64::to_string).collect();
        let dropouts: Vec<&str> = dropouts.iter().map(String::as_str).collect();
        let mut decisions = vec![Decision {
            name: "depth".into(),
            kind: DecisionKind::Integer {
                low: 1,
                high: config.max_layers as i64,
            },
        }];
        for i in 0..config.max_layers {
            decisions.push(Decision::categorical(format!("layer {i} width"), &widths));
        }
        decisions.push(Decision::categorical("activation", &activations));
        decisions.push(Decision::categorical("dropout", &dropouts));
        Ok(MlpSpace { config, decisions })
    }

    pub fn config(&self) -> &MlpSpaceConfig {
        &self.config
    }

    /// The architecture of a valid genotype: only the live widths.
    ///
    /// # Errors
    /// A genotype that is not of this space.
    pub fn decode(&self, g: &Genotype) -> Result<MlpArch, SpaceError> {
        self.validate(g)?;
        let c = &self.config;
        let index = |k: usize| g.0[k].as_index().unwrap_or(0) as usize;
        let depth = match g.0[0] {
            Value::Int(d) => d as usize,
            _ => 1,
        };
        let widths = (0..depth)
            .map(|i| c.widths[index(FIRST_WIDTH + i)])
            .collect();
        let after = FIRST_WIDTH + c.max_layers;
        Ok(MlpArch {
            widths,
            activation: c.activations[index(after)],
            dropout: c.dropouts[index(after + 1)],
        })
    }

    /// The canonical genotype of an architecture (inert widths at the first choice).
    ///
    /// # Errors
    /// A depth or a value that is not one of this space's choices.
    pub fn encode_arch(&self, arch: &MlpArch) -> Result<Genotype, String> {
        let c = &self.config;
        if arch.widths.is_empty() || arch.widths.len() > c.max_layers {
            return Err(format!(
                "{} hidden layers; the space has 1..={}",
                arch.widths.len(),
                c.max_layers
            ));
        }
        let mut values = vec![Value::Int(arch.widths.len() as i64)];
        for i in 0..c.max_layers {
            let index =
                match arch.widths.get(i) {
                    Some(w) => c.widths.iter().position(|x| x == w).ok_or_else(|| {
                        format!("layer {i}: width {w} is not one of {:?}", c.widths)
                    })?,
                    None => 0,
                };
            values.push(Value::Index(index as u32));
        }
        let activation = c
            .activations
            .iter()
            .position(|a| *a == arch.activation)
            .ok_or_else(|| format!("activation {} is not one of this space's", arch.activation))?;
        let dropout = c
            .dropouts
            .iter()
            .position(|p| *p == arch.dropout)
            .ok_or_else(|| format!("dropout {} is not one of {:?}", arch.dropout, c.dropouts))?;
        values.push(Value::Index(activation as u32));
        values.push(Value::Index(dropout as u32));
        Ok(Genotype(values))
    }
}

impl SearchSpace for MlpSpace {
    fn name(&self) -> &str {
        NAME
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Hashes the decoded architecture, so inert widths do not count.
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let mut h = StableHasher::default();
        match self.decode(g) {
            Ok(a) => {
                let widths: Vec<u64> = a.widths.iter().map(|&w| w as u64).collect();
                widths.hash(&mut h);
                a.activation.name().hash(&mut h);
                a.dropout.to_bits().hash(&mut h);
            }
            Err(_) => g.hash(&mut h),
        }
        Fingerprint(h.finish())
    }

    /// The string form of [`MlpArch`], e.g. `64-32:relu:0.1`; inert widths are not written.
    fn render(&self, g: &Genotype) -> String {
        match self.decode(g) {
            Ok(arch) => arch.to_string(),
            Err(e) => format!("<not an mlp genotype: {e}>"),
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
        let arch: MlpArch = s.parse().map_err(|e: MlpParseError| err(e.0))?;
        self.encode_arch(&arch).map_err(err)
    }
}
