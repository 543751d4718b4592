//! DARTS on the embedded digits: the search phase and its checkpoints, the architecture
//! gradient against finite differences, and an experiment's final evaluation and resume.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

// The registry only sees plugin crates that are named.
use nas_backend_flex as _;
use nas_darts as _;
use nas_eval as _;
use nas_space as _;

mod cell_space;
mod gradient;
mod hessian;
mod resume;
mod rnn_cell;
mod search;
mod second_order;
mod variants;

/// `darts` and the same config with GDAS's Gumbel relaxation (temperature 10 to 0.1).
fn with_gdas(darts: nas_darts::DartsConfig) -> [(&'static str, nas_darts::DartsConfig); 2] {
    let gdas = nas_darts::DartsConfig {
        relaxation: nas_darts::Relaxation::Gumbel {
            tau_max: 10.0,
            tau_min: 0.1,
        },
        ..darts.clone()
    };
    [("darts", darts), ("gdas", gdas)]
}
