//! Editing an experiment config as JSON: `--set PATH=VALUE`, the flags that plugins
//! declare (`--dataset`, `--backend`), and saying which flag or line set a bad field.
//!
//! The CLI knows no plugin by name or by field: a flag goes to every plugin of the
//! experiment that declares it as a [`Knob`], at the path the plugin gives.

use anyhow::{Context, Result, bail};
use nas_core::config::{FieldError, PLUGIN_PARTS, StrategyChoice};
use nas_core::registry::{
    EvaluatorConfig, Knob, OneShotConfig, PluginConfig, SpaceConfig, StrategyConfig, plugins,
};
use serde_json::{Value, json};

pub use nas_core::text::shorten;

/// Applies `a.b.c=value` to a JSON tree, creating tables that are missing. The value is
/// read as JSON when it parses, else taken as a string.
///
/// # Errors
/// No `=`, an empty name in the path, or a path through a value that is not a table.
pub fn apply_set(config: &mut Value, assignment: &str) -> Result<()> {
    let shown = shorten(assignment);
    let (path, raw) = assignment
        .split_once('=')
        .with_context(|| format!("--set {shown:?}: expected PATH=VALUE"))?;
    let value: Value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.into()));
    set_path(config, path, value).with_context(|| format!("--set {shown:?}"))
}

/// Sets the value at a dotted path, creating the tables on the way.
fn set_path(config: &mut Value, path: &str, value: Value) -> Result<()> {
    let keys: Vec<&str> = path.split('.').collect();
    let mut node = config;
    for (i, key) in keys.iter().enumerate() {
        if key.is_empty() {
            bail!("empty name in the path `{path}`");
        }
        if node.is_null() {
            *node = json!({});
        }
        let Value::Object(table) = node else {
            bail!("`{}` is not a table", keys[..i].join("."));
        };
        node = table.entry(key.to_string()).or_insert(Value::Null);
    }
    *node = value;
    Ok(())
}

/// Turns a plugin given by name alone (`space = "nb201"`) into a table with its `type`,
/// so that flags can set fields in it.
pub fn plugin_tables(config: &mut Value) {
    for part in PLUGIN_PARTS {
        if let Value::String(name) = &config[part] {
            config[part] = json!({ "type": name.clone() });
        }
    }
}

/// The knobs of the plugin named in `config[part]`.
fn knobs_of(part: &str, name: &str) -> Result<&'static [Knob]> {
    Ok(match part {
        "space" => PluginConfig::<dyn SpaceConfig>::default_for(name)?
            .config
            .knobs(),
        "strategy" => StrategyChoice::default_for(name)?.knobs(),
        _ => PluginConfig::<dyn EvaluatorConfig>::default_for(name)?
            .config
            .knobs(),
    })
}

/// Every registered plugin that declares `flag`, as `kind name`.
fn plugins_taking(flag: &str) -> Result<Vec<String>> {
    let mut takers = Vec::new();
    let mut add = |kind: &str, name: &str, knobs: &[Knob]| {
        if knobs.iter().any(|k| k.flag == flag) {
            takers.push(format!("{kind} {name}"));
        }
    };
    for p in plugins::<dyn SpaceConfig>()? {
        add("space", p.name, (p.default_config)().knobs());
    }
    for p in plugins::<dyn StrategyConfig>()? {
        add("strategy", p.name, (p.default_config)().knobs());
    }
    for p in plugins::<dyn OneShotConfig>()? {
        add("one-shot method", p.name, (p.default_config)().knobs());
    }
    for p in plugins::<dyn EvaluatorConfig>()? {
        add("evaluator", p.name, (p.default_config)().knobs());
    }
    Ok(takers)
}

/// Applies `--flag value` to every plugin of the experiment that declares the flag.
///
/// # Errors
/// An unknown plugin name in the config, or a flag that no plugin of this experiment
/// takes (the message names the plugins that would).
pub fn apply_knob(config: &mut Value, flag: &str, value: &Value) -> Result<()> {
    plugin_tables(config);
    let mut taken = false;
    for part in PLUGIN_PARTS {
        let Some(name) = config[part]["type"].as_str().map(str::to_string) else {
            continue;
        };
        for knob in knobs_of(part, &name)?.iter().filter(|k| k.flag == flag) {
            set_path(&mut config[part], knob.path, value.clone())?;
            taken = true;
        }
    }
    if !taken {
        let used: Vec<String> = PLUGIN_PARTS
            .iter()
            .filter_map(|p| config[*p]["type"].as_str().map(|n| format!("{p} {n}")))
            .collect();
        let takers = plugins_taking(flag)?;
        bail!(
            "--{flag}: no plugin of this experiment takes it ({}); plugins that do: {}",
            used.join(", "),
            if takers.is_empty() {
                "none".to_string()
            } else {
                takers.join(", ")
            }
        );
    }
    Ok(())
}

/// Where a bad field came from, for the error message: the `--set` that wrote it, or its
/// line in the config file, or nothing found.
pub fn blame(error: &FieldError, sets: &[String], file: Option<(&str, &str)>) -> String {
    let field = &error.path;
    if field.is_empty() {
        return match file {
            Some((name, _)) => format!("{name}: {error}"),
            None => error.to_string(),
        };
    }
    // A plugin's error names the field inside its table: `field `epochs`: ...`.
    let inner = PLUGIN_PARTS
        .contains(&field.as_str())
        .then(|| {
            error
                .reason
                .split("field `")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
        })
        .flatten();
    let full = match inner {
        Some(inner) => format!("{field}.{inner}"),
        None => field.clone(),
    };
    if let Some(set) = sets.iter().rev().find(|s| {
        s.split_once('=')
            .is_some_and(|(p, _)| p == full || full.starts_with(&format!("{p}.")))
    }) {
        return format!("--set {}: {error}", shorten(set));
    }
    if let Some((name, text)) = file {
        return match line_of(text, &full) {
            Some(line) => format!("{name}: line {line}: {error}"),
            None => format!("{name}: {error}"),
        };
    }
    error.to_string()
}

/// The line (1-based) of `key = ...` for a dotted path `a.b.key` in a TOML text: the key
/// under the table header `[a.b]`, or at the top for a plain key. `None` when the field
/// is written some other way (an inline table, a dotted key).
fn line_of(text: &str, path: &str) -> Option<usize> {
    let (table, key) = match path.rsplit_once('.') {
        Some((table, key)) => (table, key),
        None => ("", path),
    };
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = header.trim().to_string();
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        if current == table && k.trim().trim_matches('"') == key {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn set_paths_create_missing_tables() {
        let mut v = json!({"evaluator": {"type": "x"}});
        apply_set(&mut v, "evaluator.dataset=cifar100").unwrap();
        apply_set(&mut v, "evaluator.epochs=12").unwrap();
        apply_set(&mut v, "evaluator.data.dataset=mnist").unwrap();
        assert_eq!(v["evaluator"]["dataset"], "cifar100");
        assert_eq!(v["evaluator"]["epochs"], 12);
        assert_eq!(v["evaluator"]["data"]["dataset"], "mnist");
        assert!(apply_set(&mut v, "novalue").is_err());
        assert!(apply_set(&mut v, "evaluator.type.x=1").is_err());
        assert!(apply_set(&mut v, "evaluator..x=1").is_err());
    }

    #[test]
    fn lines_of_fields() {
        let text =
            "name = \"a\"\nseed = \"zero\"\n\n[evaluator]\ntype = \"train\"\nepochs = \"x\"\n";
        assert_eq!(line_of(text, "seed"), Some(2));
        assert_eq!(line_of(text, "evaluator.epochs"), Some(6));
        assert_eq!(line_of(text, "evaluator.missing"), None);
        let error = FieldError {
            path: "seed".into(),
            reason: "invalid type".into(),
        };
        assert_eq!(
            blame(&error, &[], Some(("x.toml", text))),
            "x.toml: line 2: field `seed`: invalid type"
        );
        assert_eq!(
            blame(&error, &["seed=abc".into()], Some(("x.toml", text))),
            "--set seed=abc: field `seed`: invalid type"
        );
    }
}
