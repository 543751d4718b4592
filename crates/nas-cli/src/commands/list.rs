//! `nas list`: what this binary can run.

use crate::out::outln;
use anyhow::Result;
use nas_core::pruner::PrunerConfig;
use nas_core::registry::{
    EvaluatorConfig, OneShotConfig, Plugin, PluginKind, SpaceConfig, StrategyConfig, plugins,
};
use serde_json::{Value, json};

fn entries<C>() -> Result<Vec<Value>>
where
    C: ?Sized + PluginKind + serde::Serialize,
    Plugin<C>: nas_core::inventory::Collect,
{
    plugins::<C>()?
        .into_iter()
        .map(|p| {
            let config = serde_json::to_value(&*(p.default_config)())?;
            Ok(json!({ "kind": C::KIND, "name": p.name, "summary": p.summary, "default_config": config }))
        })
        .collect()
}

pub fn run(as_json: bool) -> Result<()> {
    let mut all = entries::<dyn SpaceConfig>()?;
    all.extend(entries::<dyn StrategyConfig>()?);
    all.extend(entries::<dyn OneShotConfig>()?);
    all.extend(entries::<dyn EvaluatorConfig>()?);
    all.extend(entries::<dyn PrunerConfig>()?);
    all.extend(nas_nn::networks().into_iter().map(|space| {
        json!({ "kind": "network", "name": space, "summary": format!("the trainable network of the space `{space}` (what the train and zero-cost evaluators build)"), "default_config": {} })
    }));
    all.extend(nas_nn::supernets().into_iter().map(|space| {
        json!({ "kind": "supernet", "name": space, "summary": format!("the weight-sharing supernet of the space `{space}` (what one-shot methods train)"), "default_config": {} })
    }));
    all.extend(nas_nn::relaxed_supernets().into_iter().map(|space| {
        json!({ "kind": "relaxed supernet", "name": space, "summary": format!("the relaxed supernet of the space `{space}` (what gradient-based methods train)"), "default_config": {} })
    }));
    all.extend(nas_nn::backend_names().into_iter().map(|b| {
        json!({ "kind": "backend", "name": b.name, "summary": b.summary, "default_config": {} })
    }));
    all.extend(nas_control::environments().into_iter().map(|e| {
        json!({ "kind": "environment", "name": e.name, "summary": format!("{} ({}; the rl-policy evaluator's `env`)", e.summary, e.gym_id), "default_config": {} })
    }));
    all.extend(nas_core::storage::storages().into_iter().map(|s| {
        json!({ "kind": "storage", "name": format!("{}:", s.scheme), "summary": s.summary, "default_config": {} })
    }));
    if as_json {
        outln!("{}", serde_json::to_string_pretty(&all)?)?;
        return Ok(());
    }
    let mut kind = "";
    for e in &all {
        let this_kind = e["kind"].as_str().unwrap_or("");
        if this_kind != kind {
            kind = this_kind;
            outln!("{}:", plural(kind))?;
        }
        outln!(
            "  {:<22} {}",
            e["name"].as_str().unwrap_or(""),
            e["summary"].as_str().unwrap_or("")
        )?;
        let config = inline_toml(&e["default_config"]);
        if !config.is_empty() {
            outln!("  {:<22}   default: {config}", "")?;
        }
    }
    Ok(())
}

fn plural(kind: &str) -> String {
    match kind {
        "strategy" => "strategies".into(),
        "one-shot method" => "one-shot methods".into(),
        other => format!("{other}s"),
    }
}

/// `{ a = 1, b = "x" }` for a flat JSON object.
fn inline_toml(v: &Value) -> String {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        _ => String::new(),
    }
}
