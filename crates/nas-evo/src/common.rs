//! What the evolutionary strategies share: scores that survive a checkpoint. The record
//! of proposed functions they all keep is [`nas_core::Seen`].

use nas_core::Genotype;
use serde::{Deserialize, Serialize};

/// A score as the strategies keep it: `None` for a failed or pruned trial or a missing
/// metric. JSON has no infinities, so a score of `-inf` is kept as `None` (it ranks the
/// same) and `+inf` as the largest finite number; a restored checkpoint then ranks every
/// member exactly as before.
pub(crate) fn clean(score: Option<f64>) -> Option<f64> {
    match score {
        Some(v) if v.is_nan() || v == f64::NEG_INFINITY => None,
        Some(v) if v == f64::INFINITY => Some(f64::MAX),
        other => other,
    }
}

/// The value a score is compared by: a failed trial is worse than any result.
pub(crate) fn rank(score: Option<f64>) -> f64 {
    score.unwrap_or(f64::NEG_INFINITY)
}

/// An evaluated genotype with its primary score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Member {
    pub genotype: Genotype,
    pub score: Option<f64>,
}
