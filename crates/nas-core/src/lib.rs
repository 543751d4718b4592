//! The core of the NAS framework: the traits every plugin implements and the machinery
//! that runs them. No tensors here: strategies, spaces and tabular benchmarks build and
//! test in seconds, and `burn` stays in the crates that train networks.
//!
//! - [`space`]: decisions, genotypes and the [`SearchSpace`](space::SearchSpace) trait.
//! - [`strategy`]: ask/tell [`Strategy`](strategy::Strategy) with checkpoints.
//! - [`evaluator`]: [`Evaluator`](evaluator::Evaluator) with intermediate reports.
//! - [`runner`]: the black-box search with N trials in flight, reproducible by design.
//! - [`journal`]: every trial event, with the strategy checkpoint; resume is exact.
//! - [`joint`]: hyperparameters searched as decisions next to a space's.
//! - [`storage`]: where journals live, a plugin kind chosen by URL (`sqlite:runs/x.sqlite`).
//! - [`queue`], [`worker`]: one experiment shared by worker processes on many machines.
//! - [`registry`]: plugins registered with `inventory`, configs with `erased-serde`.
//! - [`drawing`]: architectures as graphs (the report's drawings, Graphviz DOT).
//! - [`transfer`]: tabular benchmarks that score an architecture on other datasets.
//! - [`pareto`]: non-dominated sorting, crowding, hypervolume.
//! - [`seen`]: the record of proposed functions every strategy keeps.
//! - [`testkit`]: the conformance tests a strategy crate runs in one line.

pub mod config;
pub mod cost;
pub mod drawing;
pub mod evaluator;
pub mod experiment;
pub mod joint;
pub mod journal;
pub mod pareto;
pub mod pruner;
pub mod queue;
pub mod registry;
pub mod rng;
pub mod runner;
pub mod search;
pub mod seen;
pub mod space;
pub mod stats;
pub mod storage;
pub mod strategy;
pub mod testkit;
pub mod text;
pub mod transfer;
pub mod trial;
pub mod worker;

pub use inventory;

pub use config::{Budget, ExperimentConfig};
pub use cost::Cost;
pub use evaluator::{Control, EvalError, Evaluator, Reporter};
pub use experiment::{Experiment, build_space};
pub use registry::{ConfigError, EvaluatorConfig, SpaceConfig, StrategyConfig};
pub use rng::Rng;
pub use search::{Search, SearchReport};
pub use seen::Seen;
pub use space::{Decision, DecisionKind, Fingerprint, Genotype, SearchSpace, SpaceError, Value};
pub use strategy::{Checkpoint, Strategy, StrategyContext, StrategyError};
pub use trial::{
    Fidelity, Goal, MetricRole, MetricSpec, Metrics, Objective, Outcome, Proposal, Trial,
    TrialResult,
};
