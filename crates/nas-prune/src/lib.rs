//! Pruners, registered as the plugin kind [`nas_core::pruner`]: median stopping
//! ([`median`]), successive halving ([`halving`], asynchronous as in ASHA) and Hyperband
//! ([`hyperband`]), after Optuna's `MedianPruner`, `SuccessiveHalvingPruner` and
//! `HyperbandPruner`. A step is whatever the evaluator reports by: an epoch of training,
//! or the tabular evaluator's 12 epochs before its 200.

pub mod halving;
pub mod hyperband;
pub mod median;

pub use halving::SuccessiveHalvingConfig;
pub use hyperband::HyperbandConfig;
pub use median::MedianConfig;
