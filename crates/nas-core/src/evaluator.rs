//! Evaluators: what a trial is worth.

use crate::trial::{MetricSpec, Metrics, Trial};
use std::fmt;

/// The runner's answer to an intermediate report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Continue,
    /// A pruner decided the trial is not worth finishing: end it with
    /// [`EvalError::Pruned`].
    Stop,
}

/// Receives intermediate results (one per epoch, say) while a trial runs.
pub trait Reporter {
    fn report(&mut self, step: u32, metrics: &Metrics) -> Control;
}

/// A reporter that keeps every report and never stops a trial.
#[derive(Debug, Default)]
pub struct CollectingReporter {
    pub reports: Vec<Metrics>,
}

impl Reporter for CollectingReporter {
    fn report(&mut self, _step: u32, metrics: &Metrics) -> Control {
        self.reports.push(metrics.clone());
        Control::Continue
    }
}

/// Why an evaluation did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// The trial itself failed (diverged, out of memory, a cell with no path to its
    /// output...). Recorded as a failed trial; the search goes on.
    #[error("trial failed: {0}")]
    Failed(String),
    /// Stopped by the reporter's [`Control::Stop`] after `step` reports.
    #[error("trial pruned at step {step}")]
    Pruned { step: u32, metrics: Metrics },
    /// Something that will fail every trial (a data file vanished): ends the search,
    /// which can be resumed once it is fixed.
    #[error("{0}")]
    Fatal(String),
}

/// Evaluates trials. Shared by the runner's worker threads, hence `Sync`.
pub trait Evaluator: Send + Sync + fmt::Debug {
    /// Every metric `evaluate` reports, so that objectives can be checked before a
    /// search starts.
    fn metrics(&self) -> Vec<MetricSpec>;

    /// Evaluates one trial. All randomness comes from `trial.seed`.
    ///
    /// # Errors
    /// See [`EvalError`]: a failed trial is an `Err` but not the end of the search.
    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError>;
}

/// The metric every evaluator with a notion of training time reports, in seconds of
/// (real or simulated) training; a search budget can be stated in it.
pub const SIMULATED_SECONDS: &str = "simulated_seconds";

/// The config field in which an evaluator that trains is told a folder to keep each
/// trial's trained weights in (as [`weights_file`]); `nas export` copies the exported
/// trial's from there.
pub const WEIGHTS_DIR: &str = "weights_dir";

/// The file in an evaluator's [`WEIGHTS_DIR`] that holds trial `id`'s trained weights.
pub fn weights_file(id: u64) -> String {
    format!("trial-{id}.record")
}

/// The metric of the compute a trial's training spent, in teraFLOPs: the report's
/// anytime curve by training FLOPs reads it.
pub const TRAIN_TFLOPS: &str = "train_tflops";

/// What [`TRAIN_TFLOPS`] means, for an evaluator's `MetricSpec`.
pub const TRAIN_TFLOPS_MEANS: &str =
    "training compute, teraFLOPs: 3 x forward FLOPs x images x epochs";

/// Training compute in teraFLOPs by the usual estimate: the backward pass costs two
/// forward passes, so a step costs three times the forward FLOPs (`flops_m`, millions
/// per image) of each of the `images` an epoch sees, for `epochs` epochs.
pub fn training_tflops(flops_m: f64, images: f64, epochs: u32) -> f64 {
    3.0 * flops_m * 1e6 * images * f64::from(epochs) / 1e12
}
