//! ENAS end to end: the search phase on the embedded digits, and its checkpoints; ENAS on
//! the recurrent-cell space.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

// The registry only sees plugin crates that are named.
use nas_backend_flex as _;
use nas_enas as _;
use nas_eval as _;
use nas_space as _;

mod other_space;
mod resume;
mod rnn_cell;
mod search;
mod sgd;
