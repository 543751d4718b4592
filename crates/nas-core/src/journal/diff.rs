//! Whether a stored config may be continued by a new one, and if not, where they differ.
//!
//! Storage-neutral, so that every storage refuses the same configs with the same words.

use super::JournalError;
use serde_json::Value;

/// Top-level fields that may change between runs of one experiment: the budget (a search
/// is extended or shortened) and the name (a journal copied or renamed to another name).
const MAY_CHANGE: [&str; 2] = ["budget", "name"];

/// Values longer than this are cut in messages.
const SHOWN_CHARS: usize = 60;

/// The config without the fields a continued experiment may change.
fn comparable(config: &Value) -> Value {
    let mut c = config.clone();
    if let Some(table) = c.as_object_mut() {
        for field in MAY_CHANGE {
            table.remove(field);
        }
    }
    c
}

/// Whether the experiment stored at `location` may be continued with the config `wanted`:
/// everything but the budget and the name must be equal (a search extended, a journal
/// copied or renamed).
///
/// # Errors
/// [`JournalError::Invalid`] naming the first differing field with both values.
pub fn check_continuation(
    location: &str,
    stored: &Value,
    wanted: &Value,
) -> Result<(), JournalError> {
    match first_difference(stored, wanted) {
        None => Ok(()),
        Some((field, there, here)) => Err(JournalError::Invalid {
            location: location.to_string(),
            reason: format!(
                "holds an experiment with another config: `{field}` is {there} there and \
                 {here} here (only the budget and the name may differ); choose another \
                 name, or delete the journal to start over"
            ),
        }),
    }
}

/// Whether a worker may join the experiment stored at `location` with the config
/// `wanted`: as [`check_continuation`], and `workers` may differ too (each worker process
/// runs one trial at a time, whatever the config says).
///
/// # Errors
/// [`JournalError::Invalid`] naming the first differing field with both values.
pub fn check_joining(location: &str, stored: &Value, wanted: &Value) -> Result<(), JournalError> {
    let without_workers = |config: &Value| {
        let mut c = config.clone();
        if let Some(table) = c.as_object_mut() {
            table.remove("workers");
        }
        c
    };
    check_continuation(location, &without_workers(stored), &without_workers(wanted))
}

/// The first field where `stored` and `wanted` differ (fields in name order), as
/// `(path, stored value, wanted value)` with long values shortened; `None` when the
/// experiment may continue: everything but the budget and the name is equal.
pub fn first_difference(stored: &Value, wanted: &Value) -> Option<(String, String, String)> {
    difference(&comparable(stored), &comparable(wanted), String::new())
}

fn difference(a: &Value, b: &Value, path: String) -> Option<(String, String, String)> {
    if a == b {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let (u, v) = (x.get(k), y.get(k));
                let at = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (u, v) {
                    (Some(u), Some(v)) => difference(u, v, at),
                    _ => (u != v).then(|| (at, shown(u), shown(v))),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) => (0..x.len().max(y.len())).find_map(|i| {
            let at = format!("{path}[{i}]");
            match (x.get(i), y.get(i)) {
                (Some(u), Some(v)) => difference(u, v, at),
                (u, v) => Some((at, shown(u), shown(v))),
            }
        }),
        _ => Some((
            if path.is_empty() {
                "(the whole config)".into()
            } else {
                path
            },
            shown(Some(a)),
            shown(Some(b)),
        )),
    }
}

/// A value as JSON, cut to [`SHOWN_CHARS`] characters; `(absent)` for a missing field.
fn shown(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(absent)".into();
    };
    let text = value.to_string();
    if text.chars().count() <= SHOWN_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SHOWN_CHARS - 3).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_name_and_the_budget_may_change() {
        let a = json!({"name": "a", "budget": {"trials": 3}, "seed": 1});
        let b = json!({"name": "b", "budget": {"trials": 9}, "seed": 1});
        assert_eq!(first_difference(&a, &b), None);
    }

    #[test]
    fn the_first_differing_field_is_named_with_both_values() {
        let a = json!({"name": "a", "seed": 1, "evaluator": {"type": "t", "dataset": "cifar10"}});
        let b = json!({"name": "b", "seed": 1, "evaluator": {"type": "t", "dataset": "cifar100"}});
        assert_eq!(
            first_difference(&a, &b),
            Some((
                "evaluator.dataset".into(),
                "\"cifar10\"".into(),
                "\"cifar100\"".into()
            ))
        );
        let c = json!({"seed": 1, "objectives": ["x"]});
        let d = json!({"seed": 1, "objectives": ["x", "y"], "workers": 2});
        assert_eq!(
            first_difference(&c, &d),
            Some(("objectives[1]".into(), "(absent)".into(), "\"y\"".into()))
        );
    }

    #[test]
    fn a_refusal_names_the_location_and_the_field() {
        let a = json!({"name": "a", "seed": 1});
        let b = json!({"name": "b", "seed": 2});
        assert!(check_continuation("x.sqlite", &a, &b.clone()).is_err());
        let text = check_continuation("x.sqlite", &a, &b)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(text.starts_with("journal x.sqlite: "), "{text}");
        assert!(text.contains("`seed` is 1 there and 2 here"), "{text}");
        assert!(check_continuation("x.sqlite", &a, &json!({"name": "c", "seed": 1})).is_ok());
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(500);
        let (_, there, here) =
            first_difference(&json!({"s": long}), &json!({"s": 1})).unwrap_or_default();
        assert_eq!(there.chars().count(), SHOWN_CHARS);
        assert!(there.ends_with("..."));
        assert_eq!(here, "1");
    }
}
