//! The `[[hyperparameters]]` of an experiment config, and their checked form: one
//! [`Decision`] each, named `hp.<path>`, with the JSON value each of its values sets.

use super::path;
use crate::registry::ConfigError;
use crate::space::{Decision, DecisionKind, Value};
use serde::{Deserialize, Serialize};

/// One hyperparameter as the config writes it: a path inside the evaluator's config and a
/// domain, either `choices` (categorical) or `low` and `high` (integers: an integer
/// range; otherwise a real range, log-scaled with `log = true`).
///
/// The bounds and choices are kept as written (JSON numbers and values), so a config read
/// back from a journal compares equal to the one given and an integer `1` is not confused
/// with a real `1.0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperParameter {
    /// A dotted path inside the evaluator's config, as `nas eval --set` takes it
    /// (`learning_rate`, `data.fraction`).
    pub path: String,
    /// The values to choose from: strings, numbers or booleans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<serde_json::Number>,
    /// Sample a real range on a log scale (learning rates, weight decay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
}

impl HyperParameter {
    /// A real range (log-scaled with `log`), for configs written in code.
    pub fn real(path: &str, low: f64, high: f64, log: bool) -> Self {
        HyperParameter {
            path: path.into(),
            choices: None,
            low: serde_json::Number::from_f64(low),
            high: serde_json::Number::from_f64(high),
            log: log.then_some(true),
        }
    }

    /// An integer range.
    pub fn integer(path: &str, low: i64, high: i64) -> Self {
        HyperParameter {
            path: path.into(),
            choices: None,
            low: Some(low.into()),
            high: Some(high.into()),
            log: None,
        }
    }

    /// A list of choices.
    pub fn choices(path: &str, choices: Vec<serde_json::Value>) -> Self {
        HyperParameter {
            path: path.into(),
            choices: Some(choices),
            low: None,
            high: None,
            log: None,
        }
    }
}

/// The checked hyperparameters of an experiment, in config order.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyperparameters {
    paths: Vec<String>,
    decisions: Vec<Decision>,
    /// Per hyperparameter, the JSON value of each choice (empty for ranges).
    choices: Vec<Vec<serde_json::Value>>,
}

/// `field `hyperparameters[i].<field>`: reason`.
fn field_error(i: usize, field: &str, reason: impl std::fmt::Display) -> ConfigError {
    let at = if field.is_empty() {
        format!("hyperparameters[{i}]")
    } else {
        format!("hyperparameters[{i}].{field}")
    };
    ConfigError(format!("field `{at}`: {reason}"))
}

/// A choice as written in the rendered architecture: strings bare, other values as JSON.
fn choice_name(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Hyperparameters {
    /// Checks every entry: a path that can name a field, unique and not inside another
    /// entry's; a domain of exactly one kind, not empty, with finite bounds (positive
    /// ones for a log scale). Whether the evaluator takes the path and the values is
    /// checked by building it ([`JointEvaluator::build`](super::JointEvaluator::build)).
    ///
    /// # Errors
    /// The first problem, naming `hyperparameters[i]` and its field.
    pub fn check(list: &[HyperParameter]) -> Result<Self, ConfigError> {
        let mut checked = Hyperparameters {
            paths: Vec::new(),
            decisions: Vec::new(),
            choices: Vec::new(),
        };
        for (i, hp) in list.iter().enumerate() {
            path::check(&hp.path).map_err(|why| field_error(i, "path", why))?;
            if let Some(j) = checked
                .paths
                .iter()
                .position(|p| path::overlaps(p, &hp.path))
            {
                return Err(field_error(
                    i,
                    "path",
                    format!(
                        "`{}` overlaps `{}` of hyperparameters[{j}]: each field is set by one hyperparameter",
                        hp.path, checked.paths[j]
                    ),
                ));
            }
            let (kind, choices) = domain(i, hp)?;
            checked.paths.push(hp.path.clone());
            checked.decisions.push(Decision {
                name: format!("hp.{}", hp.path),
                kind,
            });
            checked.choices.push(choices);
        }
        Ok(checked)
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// The dotted path of hyperparameter `i` in the evaluator's config.
    pub fn path(&self, i: usize) -> &str {
        &self.paths[i]
    }

    /// One decision per hyperparameter, named `hp.<path>`.
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// The JSON value that `value` of hyperparameter `i` sets in the evaluator's config;
    /// `None` for a value outside its domain's kind (a genotype that was not validated).
    pub fn json(&self, i: usize, value: &Value) -> Option<serde_json::Value> {
        match value {
            Value::Index(c) => self.choices[i].get(*c as usize).cloned(),
            Value::Int(x) => Some((*x).into()),
            Value::Real(x) => serde_json::Number::from_f64(*x).map(serde_json::Value::Number),
        }
    }

    /// The values that exercise hyperparameter `i`'s domain: every choice, or both ends
    /// of a range. Building the evaluator with each catches a path or a value it refuses
    /// before the search starts.
    pub fn probes(&self, i: usize) -> Vec<Value> {
        match &self.decisions[i].kind {
            DecisionKind::Categorical { choices } => {
                (0..choices.len() as u32).map(Value::Index).collect()
            }
            DecisionKind::Integer { low, high } => vec![Value::Int(*low), Value::Int(*high)],
            DecisionKind::Real { low, high, .. } => vec![Value::Real(*low), Value::Real(*high)],
        }
    }

    /// `value` as the rendered architecture writes it: a choice by name, a real in its
    /// shortest exact form.
    pub fn shown(&self, i: usize, value: &Value) -> String {
        match (&self.decisions[i].kind, value) {
            (DecisionKind::Categorical { choices }, Value::Index(c)) => choices
                .get(*c as usize)
                .cloned()
                .unwrap_or_else(|| format!("#{c}")),
            (_, Value::Int(x)) => x.to_string(),
            (_, Value::Real(x)) => format!("{x:?}"),
            (_, Value::Index(c)) => format!("#{c}"),
        }
    }

    /// Reads a value [`shown`](Hyperparameters::shown) wrote back.
    ///
    /// # Errors
    /// Text that is no value of the domain's kind (the range is checked by validation).
    pub fn read(&self, i: usize, text: &str) -> Result<Value, String> {
        let name = &self.decisions[i].name;
        match &self.decisions[i].kind {
            DecisionKind::Categorical { choices } => choices
                .iter()
                .position(|c| c == text)
                .map(|c| Value::Index(c as u32))
                .ok_or_else(|| format!("{text:?} is not one of {choices:?} for {name}")),
            DecisionKind::Integer { .. } => text
                .parse()
                .map(Value::Int)
                .map_err(|_| format!("{text:?} is not an integer for {name}")),
            DecisionKind::Real { .. } => text
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Value::Real)
                .ok_or_else(|| format!("{text:?} is not a number for {name}")),
        }
    }
}

/// The decision kind of entry `i`, and its choices' JSON values.
fn domain(
    i: usize,
    hp: &HyperParameter,
) -> Result<(DecisionKind, Vec<serde_json::Value>), ConfigError> {
    match (&hp.choices, &hp.low, &hp.high) {
        (Some(choices), None, None) => {
            if hp.log.is_some() {
                return Err(field_error(
                    i,
                    "log",
                    "applies to a `low`..`high` range, not to `choices`",
                ));
            }
            choices_domain(i, choices)
        }
        (Some(_), _, _) => Err(field_error(
            i,
            "",
            "give either `choices` or `low` and `high`, not both",
        )),
        (None, Some(low), Some(high)) => Ok((
            range_domain(i, low, high, hp.log == Some(true))?,
            Vec::new(),
        )),
        (None, None, None) => Err(field_error(
            i,
            "",
            "no domain: give `choices = [...]`, or `low` and `high` (integers for an integer range, reals for a real one, `log = true` for a log scale)",
        )),
        (None, None, Some(_)) => Err(field_error(
            i,
            "low",
            "missing: a range needs `low` and `high`",
        )),
        (None, Some(_), None) => Err(field_error(
            i,
            "high",
            "missing: a range needs `low` and `high`",
        )),
    }
}

fn choices_domain(
    i: usize,
    choices: &[serde_json::Value],
) -> Result<(DecisionKind, Vec<serde_json::Value>), ConfigError> {
    if choices.is_empty() {
        return Err(field_error(i, "choices", "empty: list at least one value"));
    }
    let mut names: Vec<String> = Vec::with_capacity(choices.len());
    for (j, c) in choices.iter().enumerate() {
        if !(c.is_string() || c.is_number() || c.is_boolean()) {
            return Err(field_error(
                i,
                &format!("choices[{j}]"),
                format!("{c} is not a string, a number or a boolean"),
            ));
        }
        let name = choice_name(c);
        if name.is_empty() || name.trim() != name {
            return Err(field_error(
                i,
                &format!("choices[{j}]"),
                format!("{c:?}: a choice may not be empty nor start or end with a space"),
            ));
        }
        if names.contains(&name) {
            return Err(field_error(
                i,
                &format!("choices[{j}]"),
                format!("{c} is listed twice"),
            ));
        }
        names.push(name);
    }
    Ok((
        DecisionKind::Categorical { choices: names },
        choices.to_vec(),
    ))
}

fn range_domain(
    i: usize,
    low: &serde_json::Number,
    high: &serde_json::Number,
    log: bool,
) -> Result<DecisionKind, ConfigError> {
    if let (Some(lo), Some(hi)) = (low.as_i64(), high.as_i64()) {
        if log {
            return Err(field_error(
                i,
                "log",
                "applies to a real range: write the bounds as reals (`low = 1.0`), or list the values as `choices`",
            ));
        }
        if lo >= hi {
            return Err(field_error(
                i,
                "high",
                format!("must be above `low` ({lo}), got {hi}"),
            ));
        }
        return Ok(DecisionKind::Integer { low: lo, high: hi });
    }
    let number = |field: &str, n: &serde_json::Number| {
        n.as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| field_error(i, field, format!("{n} is not a finite number")))
    };
    let (lo, hi) = (number("low", low)?, number("high", high)?);
    if lo >= hi {
        return Err(field_error(
            i,
            "high",
            format!("must be above `low` ({lo}), got {hi}"),
        ));
    }
    if log && lo <= 0.0 {
        return Err(field_error(
            i,
            "low",
            format!("must be positive on a log scale, got {lo}"),
        ));
    }
    Ok(DecisionKind::Real {
        low: lo,
        high: hi,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(hp: HyperParameter) -> Result<Hyperparameters, String> {
        Hyperparameters::check(&[hp]).map_err(|e| e.to_string())
    }

    #[test]
    fn each_domain_becomes_its_decision_kind() {
        let hps = Hyperparameters::check(&[
            HyperParameter::real("learning_rate", 1e-4, 0.1, true),
            HyperParameter::integer("epochs", 1, 3),
            HyperParameter::choices("optimizer", vec![json!("sgd"), json!("adam")]),
            HyperParameter::choices("batch_size", vec![json!(32), json!(64)]),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&DecisionKind> = hps.decisions().iter().map(|d| &d.kind).collect();
        assert!(matches!(kinds[0], DecisionKind::Real { log: true, .. }));
        assert_eq!(kinds[1], &DecisionKind::Integer { low: 1, high: 3 });
        assert_eq!(hps.decisions()[2].name, "hp.optimizer");
        assert_eq!(hps.json(3, &Value::Index(1)), Some(json!(64)));
        assert_eq!(hps.shown(3, &Value::Index(1)), "64");
        assert_eq!(hps.read(2, "adam"), Ok(Value::Index(1)));
    }

    #[test]
    fn bad_entries_name_their_field() {
        let mut both = HyperParameter::integer("epochs", 1, 3);
        both.choices = Some(vec![json!(1)]);
        let cases = [
            (both, "`hyperparameters[0]`: give either"),
            (
                HyperParameter::integer("", 1, 3),
                "`hyperparameters[0].path`",
            ),
            (
                HyperParameter::integer("epochs", 3, 3),
                "`hyperparameters[0].high`",
            ),
            (
                HyperParameter::real("lr", 0.0, 1.0, true),
                "`hyperparameters[0].low`",
            ),
            (
                HyperParameter::choices("o", vec![]),
                "`hyperparameters[0].choices`",
            ),
            (
                HyperParameter::choices("o", vec![json!("a"), json!("a")]),
                "choices[1]",
            ),
            (
                HyperParameter::choices("o", vec![json!({"a": 1})]),
                "choices[0]",
            ),
        ];
        for (hp, wanted) in cases {
            let err = check(hp).err().unwrap_or_default();
            assert!(err.contains(wanted), "{err} lacks {wanted}");
        }
        let mut log_int = HyperParameter::integer("batch_size", 16, 256);
        log_int.log = Some(true);
        assert!(
            check(log_int)
                .err()
                .unwrap_or_default()
                .contains("`hyperparameters[0].log`")
        );
        let overlap = Hyperparameters::check(&[
            HyperParameter::integer("data.fraction", 1, 2),
            HyperParameter::integer("data", 1, 2),
        ]);
        let err = overlap.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("`hyperparameters[1].path`") && err.contains("overlaps"),
            "{err}"
        );
    }
}
