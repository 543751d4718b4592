//! Every decision as a finite list of values, so a softmax can choose among them.
//!
//! - Categorical: its choices.
//! - Integer: every integer of `low..=high` while there are at most `max_choices` of them;
//!   a wider range becomes `real_bins` evenly spaced integers (ends included), because a
//!   softmax over millions of values could neither be learned from a few hundred trials
//!   nor be stored.
//! - Real: `real_bins` evenly spaced values from `low` to `high`, ends included (evenly
//!   spaced in log space for a log-scaled decision). The controller then searches this
//!   grid, never values between its points.
//!
//! The only decisions refused are those with no value at all (no choices, `low > high`,
//! or non-finite or, on a log scale, non-positive bounds).

use nas_core::{Decision, DecisionKind, Genotype, Value};

/// The values of every decision, in the space's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub values: Vec<Vec<Value>>,
}

impl Grid {
    /// # Errors
    /// The name of a decision that has no value, and why.
    pub fn new(decisions: &[Decision], max_choices: u64, real_bins: usize) -> Result<Self, String> {
        let values = decisions
            .iter()
            .map(|d| {
                values_of(d, max_choices, real_bins)
                    .map_err(|e| format!("decision `{}`: {e}", d.name))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err("the space has no decisions".into());
        }
        Ok(Grid { values })
    }

    /// The number of choices of each decision.
    pub fn choices(&self) -> Vec<usize> {
        self.values.iter().map(Vec::len).collect()
    }

    /// How many genotypes the grid holds (saturating).
    pub fn size(&self) -> u128 {
        self.values
            .iter()
            .fold(1u128, |acc, v| acc.saturating_mul(v.len() as u128))
    }

    /// The genotype of a list of choices.
    pub fn genotype(&self, actions: &[u32]) -> Genotype {
        Genotype(
            self.values
                .iter()
                .zip(actions)
                .map(|(v, &a)| v[a as usize].clone())
                .collect(),
        )
    }

    /// The choices of a genotype: exact where its value is on the grid, the nearest grid
    /// value otherwise (a genotype the controller did not propose). `None` if a value
    /// does not fit its decision's kind.
    pub fn actions(&self, g: &Genotype) -> Option<Vec<u32>> {
        if g.0.len() != self.values.len() {
            return None;
        }
        self.values
            .iter()
            .zip(&g.0)
            .map(|(vals, v)| {
                if let Some(i) = vals.iter().position(|x| x == v) {
                    return Some(i as u32);
                }
                let target = match v {
                    Value::Int(i) => *i as f64,
                    Value::Real(r) => *r,
                    Value::Index(_) => return None,
                };
                let mut best: Option<(usize, f64)> = None;
                for (i, x) in vals.iter().enumerate() {
                    let x = match x {
                        Value::Int(i) => *i as f64,
                        Value::Real(r) => *r,
                        Value::Index(_) => return None,
                    };
                    let dist = (x - target).abs();
                    if best.is_none_or(|(_, b)| dist < b) {
                        best = Some((i, dist));
                    }
                }
                best.map(|(i, _)| i as u32)
            })
            .collect()
    }
}

fn values_of(d: &Decision, max_choices: u64, real_bins: usize) -> Result<Vec<Value>, String> {
    match &d.kind {
        DecisionKind::Categorical { choices } => {
            if choices.is_empty() {
                return Err("no choices".into());
            }
            Ok((0..choices.len() as u32).map(Value::Index).collect())
        }
        DecisionKind::Integer { low, high } => {
            if low > high {
                return Err(format!("empty range {low}..={high}"));
            }
            let count = (*high as i128 - *low as i128 + 1) as u128;
            if count <= u128::from(max_choices) {
                return Ok((*low..=*high).map(Value::Int).collect());
            }
            let mut out: Vec<Value> = even(*low as f64, *high as f64, real_bins)
                .into_iter()
                .map(|x| Value::Int((x.round() as i64).clamp(*low, *high)))
                .collect();
            out.dedup();
            Ok(out)
        }
        DecisionKind::Real { low, high, log } => {
            if !(low.is_finite() && high.is_finite()) || low > high {
                return Err(format!("no real values in {low}..={high}"));
            }
            if *log {
                if *low <= 0.0 {
                    return Err(format!("a log scale needs positive bounds, got {low}"));
                }
                let mut out: Vec<Value> = even(low.ln(), high.ln(), real_bins)
                    .into_iter()
                    .map(|x| Value::Real(x.exp().clamp(*low, *high)))
                    .collect();
                out.dedup();
                Ok(out)
            } else {
                let mut out: Vec<Value> = even(*low, *high, real_bins)
                    .into_iter()
                    .map(|x| Value::Real(x.clamp(*low, *high)))
                    .collect();
                out.dedup();
                Ok(out)
            }
        }
    }
}

/// `n` evenly spaced points from `a` to `b`, ends included (`n = 1`: the midpoint).
fn even(a: f64, b: f64, n: usize) -> Vec<f64> {
    match n {
        0 | 1 => vec![a + 0.5 * (b - a)],
        _ => (0..n)
            .map(|i| {
                if i + 1 == n {
                    b
                } else {
                    a + (b - a) * i as f64 / (n - 1) as f64
                }
            })
            .collect(),
    }
}
