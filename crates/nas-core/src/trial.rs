//! Trials, their fidelity, their metrics and their outcome.

use crate::space::Genotype;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How much an evaluation costs: fewer epochs, less data, a narrower network.
/// `None` means "the evaluator's default".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fidelity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
}

/// A genotype proposed by a strategy, with the fidelity it should be evaluated at.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub genotype: Genotype,
    pub fidelity: Fidelity,
}

impl From<Genotype> for Proposal {
    fn from(genotype: Genotype) -> Self {
        Proposal {
            genotype,
            fidelity: Fidelity::default(),
        }
    }
}

/// One evaluation to run: a proposal with its id and its own seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Position in the experiment, from 0, in the order the strategy asked.
    pub id: u64,
    pub genotype: Genotype,
    #[serde(default)]
    pub fidelity: Fidelity,
    /// Derived from the experiment seed and `id`: every random choice of the evaluation
    /// (initialization, data order) comes from it.
    pub seed: u64,
}

/// A metric's name: static for the common ones so reporting them allocates nothing.
pub type MetricName = Cow<'static, str>;

/// Named numbers an evaluation reports: objectives (accuracy, loss) and costs (params,
/// FLOPs, latency, seconds). Kept as a short vector in report order: evaluators report a
/// handful of metrics and this is on the hot path of tabular benchmarks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics(pub Vec<(MetricName, f64)>);

/// Serialized as a map (`{"valid_acc": 91.6, ...}`) in report order.
impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Metrics;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of metric names to numbers")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Metrics, A::Error> {
                let mut m = Metrics::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((name, value)) = map.next_entry::<String, f64>()? {
                    m.0.push((name.into(), value));
                }
                Ok(m)
            }
        }
        d.deserialize_map(Visitor)
    }
}

impl Metrics {
    pub fn with_capacity(n: usize) -> Self {
        Metrics(Vec::with_capacity(n))
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: impl Into<MetricName>, value: f64) {
        let name = name.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), *v))
    }
}

/// How a trial ended. A failed trial is data for the strategy, not an error of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Outcome {
    Completed {
        metrics: Metrics,
    },
    /// Stopped early by a pruner after `step` intermediate reports.
    Pruned {
        step: u32,
        metrics: Metrics,
    },
    Failed {
        reason: String,
    },
}

impl Outcome {
    /// The metrics, for completed and pruned trials.
    pub fn metrics(&self) -> Option<&Metrics> {
        match self {
            Outcome::Completed { metrics } | Outcome::Pruned { metrics, .. } => Some(metrics),
            Outcome::Failed { .. } => None,
        }
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            Outcome::Completed { .. } => "completed",
            Outcome::Pruned { .. } => "pruned",
            Outcome::Failed { .. } => "failed",
        }
    }
}

/// A finished trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialResult {
    pub trial: Trial,
    pub outcome: Outcome,
    /// The intermediate reports (one per epoch, say), in step order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intermediate: Vec<Metrics>,
}

/// Whether a larger or a smaller value of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    Maximize,
    Minimize,
}

impl Goal {
    /// `true` when `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Goal::Maximize => a > b,
            Goal::Minimize => a < b,
        }
    }

    /// The value turned so that larger is better.
    pub fn as_maximized(self, v: f64) -> f64 {
        match self {
            Goal::Maximize => v,
            Goal::Minimize => -v,
        }
    }
}

/// What a metric an evaluator reports means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    pub name: MetricName,
    pub goal: Goal,
    /// `Objective` metrics may drive a search; `Report` metrics (a test split) are only
    /// recorded, so that searching on them is refused; `Cost` metrics may be objectives
    /// of a multi-objective search (minimize FLOPs) and are summed for budgets.
    pub role: MetricRole,
    pub description: Cow<'static, str>,
}

impl MetricSpec {
    /// A spec with a static name and description, as evaluators list their metrics.
    pub fn new(
        name: &'static str,
        goal: Goal,
        role: MetricRole,
        description: &'static str,
    ) -> Self {
        MetricSpec {
            name: name.into(),
            goal,
            role,
            description: description.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricRole {
    Objective,
    Report,
    Cost,
}

/// An objective of a search: a metric and its goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub metric: String,
    pub goal: Goal,
}

impl Objective {
    /// The objective's value in a result, turned so that larger is better.
    pub fn score(&self, outcome: &Outcome) -> Option<f64> {
        match outcome {
            Outcome::Completed { metrics } => metrics
                .get(&self.metric)
                .filter(|v| !v.is_nan())
                .map(|v| self.goal.as_maximized(v)),
            _ => None,
        }
    }

    /// The completed results in `finished` that report this objective, best first (ties
    /// in their given order): what `nas show`, the report and `nas export` rank by.
    pub fn ranked<'a>(&self, finished: &'a [TrialResult]) -> Vec<&'a TrialResult> {
        let mut scored: Vec<(&TrialResult, f64)> = finished
            .iter()
            .filter_map(|r| self.score(&r.outcome).map(|s| (r, s)))
            .collect();
        // A stable sort: equal scores keep their order.
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.into_iter().map(|(r, _)| r).collect()
    }
}
