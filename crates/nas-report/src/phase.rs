//! A one-shot method's search phase, where its journal has it: what the phase cost and
//! how its architecture weights moved, epoch by epoch.
//!
//! The report names no method. It reads the convention a one-shot method's final-phase
//! strategy follows in its checkpoint: a `phase` object with `cost.wall_seconds`, and
//! where the method learns a distribution over architectures, `shape` (`[choices,
//! candidates]`), `candidates` (their names) and `trajectory`, a list of `{"epoch",
//! "probabilities"}` with the distribution row-major: in `phase` itself for architecture
//! weights (DARTS, GDAS, beta-DARTS), in `phase.controller` for a controller's
//! probabilities (ENAS, along its greedy cell).

use crate::Run;
use serde::Deserialize;

/// The search phase as the report reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phase {
    /// Seconds the phase ran (supernet training and the architecture's search).
    pub wall_seconds: Option<f64>,
    /// The architecture weights over the epochs, where the method has them.
    pub weights: Option<Weights>,
}

/// The architecture weights, epoch by epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub candidates: Vec<String>,
    /// Rows: the choices (an edge of a cell) the weights decide.
    pub rows: usize,
    /// A controller's probabilities (`phase.controller`), not architecture weights.
    pub controller: bool,
    /// Per epoch: its number and the probabilities, `rows x candidates` row-major.
    pub epochs: Vec<(u32, Vec<f32>)>,
}

impl Weights {
    /// Each candidate's probability averaged over the rows, per epoch: `[candidate]` of
    /// `(epoch, mean)` points (how a collapse to one operation shows).
    pub fn mean_by_candidate(&self) -> Vec<Vec<(f64, f64)>> {
        let k = self.candidates.len();
        (0..k)
            .map(|c| {
                self.epochs
                    .iter()
                    .map(|(epoch, p)| {
                        let sum: f64 = p.iter().skip(c).step_by(k).map(|&v| f64::from(v)).sum();
                        (f64::from(*epoch), sum / self.rows.max(1) as f64)
                    })
                    .collect()
            })
            .collect()
    }
}

#[derive(Deserialize)]
struct Cost {
    wall_seconds: f64,
}

#[derive(Deserialize)]
struct Epoch {
    epoch: u32,
    probabilities: Vec<f32>,
}

/// The distribution over architectures by epoch in `at`, if it holds one in the
/// convention's shape.
fn weights(at: &serde_json::Value, controller: bool) -> Option<Weights> {
    let shape: [usize; 2] = Deserialize::deserialize(at.get("shape")?).ok()?;
    let candidates: Vec<String> = Deserialize::deserialize(at.get("candidates")?).ok()?;
    let epochs: Vec<Epoch> = Deserialize::deserialize(at.get("trajectory")?).ok()?;
    let cells = shape[0] * shape[1];
    (candidates.len() == shape[1]
        && !epochs.is_empty()
        && epochs.iter().all(|e| e.probabilities.len() == cells))
    .then(|| Weights {
        candidates,
        rows: shape[0],
        controller,
        epochs: epochs
            .into_iter()
            .map(|e| (e.epoch, e.probabilities))
            .collect(),
    })
}

/// The run's search phase, `None` when its checkpoint has none (a black-box search).
pub fn phase(run: &Run) -> Option<Phase> {
    let phase = run.state.checkpoint.as_ref()?.get("phase")?;
    let wall_seconds = phase
        .get("cost")
        .and_then(|c| Cost::deserialize(c).ok())
        .map(|c| c.wall_seconds);
    let weights = weights(phase, false).or_else(|| weights(phase.get("controller")?, true));
    (wall_seconds.is_some() || weights.is_some()).then_some(Phase {
        wall_seconds,
        weights,
    })
}
