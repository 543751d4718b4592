//! The trade-off report: what a search found, what it cost and how well it generalizes,
//! as one self-contained HTML page (inline SVG, no scripts, nothing fetched), computed
//! from the experiments' journals alone.
//!
//! - `analysis.rs`: the figures' numbers (anytime curves, Pareto fronts, validation
//!   against test, operation frequencies), from [`Run`]s.
//! - `chart.rs`: line, band and scatter charts as SVG, drawn by plotters; the line and
//!   band charts are public, so other crates' plots (the benchmarks') look the same and
//!   need no SVG of their own.
//! - `graph.rs`: an architecture's graphs (cells, layer chains) as SVG.
//! - `transfer.rs`: the best trials on the other datasets of the space's tabular
//!   benchmark.
//! - `phase.rs`: a one-shot method's search phase (its cost, its architecture weights
//!   over the epochs) from its checkpoint.
//! - `published.rs`: published search costs and results to place runs beside.
//! - `page.rs`: the HTML page.

mod analysis;
mod chart;
mod graph;
mod page;
mod phase;
mod published;
mod transfer;

pub use analysis::{
    DecisionFrequencies, Points, anytime_by_flops, anytime_by_seconds, anytime_by_trial,
    generalization, operation_frequencies, pareto, ranked,
};
pub use chart::{Band, Series, bands, lines};
pub use page::html;
pub use phase::{Phase, Weights, phase};
pub use transfer::{Transfer, transfer};

use nas_core::journal::JournalState;
use nas_core::{Objective, SearchSpace};
use std::sync::Arc;

/// One experiment as the report reads it.
#[derive(Debug, Clone)]
pub struct Run {
    /// The experiment's name, shown in titles and legends.
    pub name: String,
    /// Its journal: finished trials in id order.
    pub state: JournalState,
    /// Its space, for rendering genotypes and naming decisions.
    pub space: Arc<dyn SearchSpace>,
    /// Its objectives; the first steers the figures.
    pub objectives: Vec<Objective>,
}

/// A report that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no experiment to report")]
    Empty,
    #[error("experiment `{0}` has no objective")]
    NoObjective(String),
    #[error("figure `{figure}`: {reason}")]
    Draw { figure: String, reason: String },
}
