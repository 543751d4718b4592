//! `cargo xtask tidy`: the rules of ARCHITECTURE.md, checked by code instead of memory
//! (rust-analyzer's `xtask/src/tidy.rs` is the model).
//!
//! The dependency rules read `cargo metadata` (the resolved graph, normal dependencies
//! only: a test may link anything); the source rules walk the `.rs` files. Each rule is a
//! plain function from its input to a list of violations, so the tests feed them a small
//! made-up graph or file and see them fail.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared vocabulary: traits and data types (`nas-core`), data readers (`nas-data`),
/// the network registry, training loop and backend registry (`nas-nn`), spaces and their
/// networks (`nas-space`), CPU kernels (`nas-kernels`), control environments
/// (`nas-control`). Any crate may depend on these.
const VOCABULARY: &[&str] = &[
    "nas-core",
    "nas-control",
    "nas-data",
    "nas-nn",
    "nas-space",
    "nas-kernels",
];

/// Crates that put plugins together: binaries, benchmarks, tasks and examples. They may
/// depend on anything, and they alone may use `anyhow`.
const COMPOSERS: &[&str] = &[
    "nas-cli",
    "nas-builtins",
    "nas-bench",
    "nas-bench-train",
    "xtask",
    "custom-strategy",
    "custom-evaluator",
    "custom-space",
    "library-use",
];

/// Crates whose users must not compile burn: the core and the tensor-free strategies.
const TENSOR_FREE: &[&str] = &[
    "nas-control",
    "nas-core",
    "nas-data",
    "nas-evo",
    "nas-prune",
    "nas-kernels",
    "nas-report",
    "nas-rl",
    "nas-storage-postgres",
    "nas-storage-sqlite",
];

/// Tensor libraries that the tensor-free crates must not reach.
const TENSOR_CRATES: &[&str] = &["burn", "burn-core", "burn-tensor", "cubecl", "wgpu"];

/// Plugin-to-plugin edges that exist today, each with the reason and the way out. A new
/// edge fails tidy; removing one of these and forgetting the entry fails it too.
const ALLOWED_PLUGIN_EDGES: &[(&str, &str, &str)] = &[(
    "nas-enas",
    "nas-rl",
    "ENAS's controller is the REINFORCE strategy's LSTM",
)];

/// The workspace as tidy needs it: member names and each package's normal dependencies.
#[derive(Debug, Default)]
pub struct Graph {
    pub members: BTreeSet<String>,
    /// Package name to the names of its normal (not dev, not build) dependencies.
    pub normal: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Reads the output of `cargo metadata --format-version 1`.
    pub fn from_metadata(metadata: &Value) -> Result<Self> {
        let name_of: BTreeMap<&str, &str> = metadata["packages"]
            .as_array()
            .context("metadata: no packages")?
            .iter()
            .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
            .collect();
        let name = |id: &Value| -> Result<String> {
            let id = id.as_str().context("metadata: an id is not a string")?;
            Ok(name_of
                .get(id)
                .with_context(|| format!("metadata: unknown package {id}"))?
                .to_string())
        };
        let mut graph = Graph::default();
        for id in metadata["workspace_members"]
            .as_array()
            .context("metadata: no workspace_members")?
        {
            graph.members.insert(name(id)?);
        }
        for node in metadata["resolve"]["nodes"]
            .as_array()
            .context("metadata: no resolve graph (run without --no-deps)")?
        {
            let mut deps = BTreeSet::new();
            for dep in node["deps"].as_array().into_iter().flatten() {
                let normal = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null());
                if normal {
                    deps.insert(name(&dep["pkg"])?);
                }
            }
            graph
                .normal
                .entry(name(&node["id"])?)
                .or_default()
                .extend(deps);
        }
        Ok(graph)
    }

    /// Every package `from` reaches through normal dependencies, with the path to it.
    fn reach(&self, from: &str) -> BTreeMap<String, Vec<String>> {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut stack = vec![vec![from.to_string()]];
        while let Some(path) = stack.pop() {
            let last = path.last().cloned().unwrap_or_default();
            for dep in self.normal.get(&last).into_iter().flatten() {
                if !paths.contains_key(dep) && dep != from {
                    let mut next = path.clone();
                    next.push(dep.clone());
                    paths.insert(dep.clone(), next.clone());
                    stack.push(next);
                }
            }
        }
        paths
    }
}

/// The tensor-free crates reach no tensor library.
pub fn check_tensor_free(graph: &Graph) -> Vec<String> {
    let mut errors = Vec::new();
    for krate in TENSOR_FREE {
        for (dep, path) in graph.reach(krate) {
            if TENSOR_CRATES.contains(&dep.as_str()) {
                errors.push(format!(
                    "{krate} must build without tensors, but depends on {dep}: {}",
                    path.join(" -> ")
                ));
                break;
            }
        }
    }
    errors
}

/// A plugin crate depends on the vocabulary, not on another plugin crate.
pub fn check_plugin_edges(graph: &Graph) -> Vec<String> {
    let mut errors = Vec::new();
    let is_plugin = |name: &str| !VOCABULARY.contains(&name) && !COMPOSERS.contains(&name);
    let mut used_exceptions = BTreeSet::new();
    for krate in graph.members.iter().filter(|m| is_plugin(m)) {
        for dep in graph.normal.get(krate).into_iter().flatten() {
            if !graph.members.contains(dep) || !is_plugin(dep) {
                continue;
            }
            match ALLOWED_PLUGIN_EDGES
                .iter()
                .find(|(from, to, _)| from == krate && to == dep)
            {
                Some(edge) => {
                    used_exceptions.insert((edge.0, edge.1));
                }
                None => errors.push(format!(
                    "plugin crate {krate} depends on plugin crate {dep}: plugins depend only \
                     on {} (move what they share there)",
                    VOCABULARY.join(", ")
                )),
            }
        }
    }
    for (from, to, _) in ALLOWED_PLUGIN_EDGES {
        if !used_exceptions.contains(&(*from, *to)) {
            errors.push(format!(
                "{from} no longer depends on {to}: remove the edge from ALLOWED_PLUGIN_EDGES \
                 in xtask/src/tidy.rs and from ARCHITECTURE.md"
            ));
        }
    }
    errors
}

/// Libraries report errors with `thiserror`; `anyhow` is for the composers.
pub fn check_anyhow(graph: &Graph) -> Vec<String> {
    graph
        .members
        .iter()
        .filter(|m| !COMPOSERS.contains(&m.as_str()))
        .filter(|m| graph.normal.get(*m).is_some_and(|d| d.contains("anyhow")))
        .map(|m| format!("library crate {m} depends on anyhow: use thiserror"))
        .collect()
}

/// Every workspace member is named in ARCHITECTURE.md.
pub fn check_documented(graph: &Graph, architecture: &str) -> Vec<String> {
    graph
        .members
        .iter()
        .filter(|m| !architecture.contains(m.as_str()))
        .map(|m| format!("ARCHITECTURE.md does not name the workspace crate {m}"))
        .collect()
}

/// No randomness outside the experiment seed: no thread-local or OS generator.
pub fn check_sources(files: &[(PathBuf, String)]) -> Vec<String> {
    // Spelled in pieces so that this file does not match itself.
    let forbidden = [
        concat!("thread", "_rng"),
        concat!("rand", "::rng()"),
        concat!("from_", "entropy"),
        concat!("Os", "Rng"),
    ];
    let mut errors = Vec::new();
    for (path, text) in files {
        for (i, line) in text.lines().enumerate() {
            if let Some(word) = forbidden.iter().find(|w| line.contains(**w)) {
                errors.push(format!(
                    "{}:{}: `{word}`: every random choice derives from the experiment seed \
                     (nas_core::Rng)",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    errors
}

fn rust_files(dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            out.push((path, text));
        }
    }
    Ok(())
}

/// Runs every rule on the workspace at `root`.
pub fn run(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .with_context(|| format!("cannot run {cargo} metadata"))?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("cargo metadata printed no JSON")?;
    let graph = Graph::from_metadata(&metadata)?;
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md"))
        .context("cannot read ARCHITECTURE.md")?;
    let mut files = Vec::new();
    for dir in ["crates", "examples", "xtask"] {
        rust_files(&root.join(dir), &mut files)?;
    }
    let mut errors = check_tensor_free(&graph);
    errors.extend(check_plugin_edges(&graph));
    errors.extend(check_anyhow(&graph));
    errors.extend(check_documented(&graph, &architecture));
    errors.extend(check_sources(&files));
    if errors.is_empty() {
        eprintln!(
            "tidy: {} crates and {} source files keep the rules of ARCHITECTURE.md",
            graph.members.len(),
            files.len()
        );
        return Ok(());
    }
    for e in &errors {
        eprintln!("tidy: {e}");
    }
    bail!("{} rule(s) of ARCHITECTURE.md broken", errors.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn graph(members: &[&str], edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph {
            members: members.iter().map(|m| m.to_string()).collect(),
            ..Graph::default()
        };
        for (from, to) in edges {
            g.normal
                .entry(from.to_string())
                .or_default()
                .insert(to.to_string());
        }
        g
    }

    /// Today's allowed edges, so that the exception list is in use.
    const TODAY: [(&str, &str); 1] = [("nas-enas", "nas-rl")];

    #[test]
    fn a_forbidden_plugin_edge_fails() {
        let members = [
            "nas-core",
            "nas-space",
            "nas-evo",
            "nas-eval",
            "nas-rl",
            "nas-enas",
        ];
        let ok = graph(&members, &[&[("nas-evo", "nas-core")][..], &TODAY].concat());
        assert_eq!(check_plugin_edges(&ok), Vec::<String>::new());
        let bad = graph(&members, &[&[("nas-evo", "nas-eval")][..], &TODAY].concat());
        let errors = check_plugin_edges(&bad);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("nas-evo depends on plugin crate nas-eval"));
        let gone = check_plugin_edges(&graph(&members, &[]));
        assert_eq!(gone.len(), 1, "{gone:?}");
        assert!(
            gone[0].contains("nas-enas no longer depends on nas-rl"),
            "{gone:?}"
        );
    }

    #[test]
    fn burn_below_a_tensor_free_crate_fails_with_its_path() {
        let g = graph(
            &["nas-core", "nas-evo", "nas-kernels"],
            &[
                ("nas-evo", "nas-core"),
                ("nas-core", "helper"),
                ("helper", "burn"),
            ],
        );
        let errors = check_tensor_free(&g);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("nas-core -> helper -> burn"))
        );
        assert!(check_tensor_free(&graph(&["nas-core"], &[])).is_empty());
    }

    #[test]
    fn anyhow_in_a_library_fails() {
        let g = graph(
            &["nas-cli", "nas-evo"],
            &[("nas-cli", "anyhow"), ("nas-evo", "anyhow")],
        );
        assert_eq!(
            check_anyhow(&g),
            vec!["library crate nas-evo depends on anyhow: use thiserror".to_string()]
        );
    }

    #[test]
    fn undocumented_crates_and_unseeded_randomness_fail() {
        let g = graph(&["nas-core", "nas-new"], &[]);
        assert_eq!(check_documented(&g, "nas-core does this").len(), 1);
        let files = vec![(
            PathBuf::from("a.rs"),
            format!(
                "fn f() {{\n let r = rand::{}();\n}}",
                concat!("thread", "_rng")
            ),
        )];
        let errors = check_sources(&files);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("a.rs:2:"), "{errors:?}");
    }

    #[test]
    fn graph_reads_cargo_metadata() {
        let metadata = serde_json::json!({
            "packages": [
                { "id": "a 0.1", "name": "a" },
                { "id": "b 0.1", "name": "b" },
                { "id": "c 0.1", "name": "c" },
            ],
            "workspace_members": ["a 0.1"],
            "resolve": { "nodes": [
                { "id": "a 0.1", "deps": [
                    { "pkg": "b 0.1", "dep_kinds": [{ "kind": null }] },
                    { "pkg": "c 0.1", "dep_kinds": [{ "kind": "dev" }] },
                ] },
            ] },
        });
        let g = Graph::from_metadata(&metadata).unwrap();
        assert_eq!(g.members.len(), 1);
        assert_eq!(g.normal["a"], BTreeSet::from(["b".to_string()]));
    }
}
