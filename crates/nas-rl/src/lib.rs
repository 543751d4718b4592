//! Reinforcement-learning strategies: the REINFORCE controller of Zoph & Le (2016), with
//! the refinements ENAS (Pham et al. 2018) used: an exponential-moving-average baseline,
//! an entropy bonus, a sampling temperature and tanh logit clipping, and Adam.
//!
//! The controller is an LSTM that emits one decision per step ([`policy`]); every
//! decision of any space is first made a finite list of values ([`grid`]: real decisions
//! and very wide integer ranges are discretized). The gradient comes from burn's autodiff
//! on the flex CPU backend; the weights, Adam's moments and the baseline are plain
//! vectors and numbers, so a checkpoint is JSON and a resumed search continues the same
//! policy. Strategies never see tensors: burn stays inside this crate.

pub mod grid;
pub mod policy;
pub mod reinforce;

pub use reinforce::{Reinforce, ReinforceConfig};
