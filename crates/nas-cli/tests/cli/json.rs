//! `--json` on every command that prints results (issue #17): the top-level keys each
//! prints are exactly those `docs/json.md` documents, so the document stays true.

use super::{TABLE, nas, text};
use serde_json::Value;
use std::collections::BTreeSet;

/// The keys `docs/json.md` lists for `nas <command> --json`: the first column of the
/// table under its heading.
pub(crate) fn documented_keys(command: &str) -> BTreeSet<String> {
    let doc = include_str!("../../../../docs/json.md");
    let heading = format!("## `nas {command} --json`");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("docs/json.md has no {heading}"));
    let section = &doc[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let keys: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    assert!(!keys.is_empty(), "{heading} lists no keys");
    keys
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn json_of(args: &[&str]) -> Value {
    let o = nas(args);
    assert!(o.status.success(), "{args:?}: {}", text(&o).1);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn json_shapes_are_the_documented_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let list = json_of(&["list", "--json"]);
    for entry in list.as_array().unwrap() {
        assert_eq!(keys(entry), documented_keys("list"), "{entry}");
    }
    let search = json_of(
        &[
            &["search", "--name", "j", "--trials", "20", "--dir", d][..],
            &TABLE,
            &["--json"],
        ]
        .concat(),
    );
    assert_eq!(keys(&search), documented_keys("search"));
    let show = json_of(&["show", "j", "--dir", d, "--json"]);
    assert_eq!(keys(&show), documented_keys("show"));
    let eval = json_of(&["eval", "333132", "--json"]);
    assert_eq!(keys(&eval), documented_keys("eval"));
    let export = json_of(&["export", "j", "--dir", d, "--json"]);
    assert_eq!(keys(&export), documented_keys("export"));
    let report = json_of(&["report", "j", "--dir", d, "--json"]);
    assert_eq!(keys(&report), documented_keys("report"));
}
