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
mod search;
mod second_order;
mod variants;
