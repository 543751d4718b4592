//! Generated bad input through the whole CLI: config files, `--set`, architecture
//! strings and data files. Whatever the input, `nas` must not panic or abort, must exit
//! non-zero with one `error:` line naming the offending field or file, and must leave an
//! existing journal byte-identical.

use super::{TABLE, nas, text};
use proptest::prelude::*;
use std::path::Path;

/// A field of the experiment config with values of the wrong type or out of range.
fn bad_field() -> impl Strategy<Value = (&'static str, &'static str, String)> {
    // (path, name the message must contain, bad JSON/TOML value)
    let values = prop_oneof![
        Just("\"text\"".to_string()),
        Just("-1".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
    ];
    (
        prop_oneof![
            Just(("seed", "seed")),
            Just(("workers", "workers")),
            Just(("budget.trials", "trials")),
            Just(("evaluator.epochs", "epochs")),
            Just(("strategy.unique", "unique")),
        ],
        values,
    )
        .prop_filter("a value that is valid for the field", |((path, _), v)| {
            // 1.5 and -1 are bad for every integer field; `true` is a valid `unique`.
            !(*path == "strategy.unique" && v == "true")
        })
        .prop_map(|((path, name), v)| (path, name, v))
}

/// A config file in which one field has a bad value, and the journal's name.
fn config_with(path: &str, value: &str) -> String {
    let mut tables: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "",
            vec![
                ("name".into(), "\"j\"".into()),
                ("seed".into(), "0".into()),
                ("workers".into(), "1".into()),
            ],
        ),
        ("budget", vec![("trials".into(), "5".into())]),
        ("space", vec![("type".into(), "\"nb201\"".into())]),
        ("strategy", vec![("type".into(), "\"random\"".into())]),
        ("evaluator", vec![("type".into(), "\"nb201-table\"".into())]),
    ];
    let (table, key) = path.rsplit_once('.').unwrap_or(("", path));
    let entries = &mut tables.iter_mut().find(|(t, _)| *t == table).unwrap().1;
    match entries.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_string(),
        None => entries.push((key.to_string(), value.to_string())),
    }
    let mut text = String::new();
    for (table, entries) in tables {
        if !table.is_empty() {
            text += &format!("[{table}]\n");
        }
        for (k, v) in entries {
            text += &format!("{k} = {v}\n");
        }
    }
    text
}

/// A journal `j` in `dir`, made by a good search; its bytes.
fn journal(dir: &Path) -> Vec<u8> {
    let d = dir.to_str().unwrap();
    let o = nas(&[
        &[
            "search",
            "--name",
            "j",
            "--trials",
            "5",
            "--dir",
            d,
            "--no-progress",
        ][..],
        &TABLE,
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o).1);
    std::fs::read(dir.join("j.sqlite")).unwrap()
}

/// Fails unless the command failed cleanly with a message containing each needle.
fn assert_refused(o: &std::process::Output, needles: &[&str]) -> Result<(), TestCaseError> {
    let (out, err) = text(o);
    prop_assert!(!o.status.success(), "should fail: {out}{err}");
    prop_assert!(!err.contains("panicked"), "{err}");
    prop_assert_eq!(err.lines().count(), 1, "one line: {}", err);
    prop_assert!(err.starts_with("error: "), "{err}");
    for needle in needles {
        prop_assert!(err.contains(needle), "expected {needle:?} in {err}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn bad_config_files_are_refused_and_the_journal_is_untouched((path, name, value) in bad_field()) {
        let dir = tempfile::tempdir().unwrap();
        let before = journal(dir.path());
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, config_with(path, &value)).unwrap();
        let o = nas(&["search", "--config", file.to_str().unwrap(), "--dir", dir.path().to_str().unwrap(), "--no-progress"]);
        assert_refused(&o, &["bad.toml", name])?;
        prop_assert_eq!(std::fs::read(dir.path().join("j.sqlite")).unwrap(), before);
    }

    #[test]
    fn bad_sets_are_refused_and_the_journal_is_untouched((path, name, value) in bad_field()) {
        let dir = tempfile::tempdir().unwrap();
        let before = journal(dir.path());
        let value = value.replace(" = ", ":").replace("{ a", "{\"a\"");
        let set = format!("{path}={value}");
        let o = nas(&[&["search", "--name", "j", "--dir", dir.path().to_str().unwrap(), "--no-progress", "--set", &set][..], &TABLE].concat());
        assert_refused(&o, &["--set", name])?;
        prop_assert_eq!(std::fs::read(dir.path().join("j.sqlite")).unwrap(), before);
    }

    #[test]
    fn bad_architecture_strings_are_refused(arch in "[|+~a-z0-9_ ]{1,300}") {
        prop_assume!(!(arch.trim().len() == 6 && arch.trim().bytes().all(|b| b.is_ascii_digit())));
        let o = nas(&["eval", &arch]);
        assert_refused(&o, &["cannot parse"])?;
    }

    #[test]
    fn bad_data_files_are_refused_naming_the_file(bytes in proptest::collection::vec(any::<u8>(), 0..400), header in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.csv");
        let mut content = if header { b"label,p0,p1\n".to_vec() } else { Vec::new() };
        content.extend(bytes);
        std::fs::write(&file, &content).unwrap();
        let csv = format!("data.csv={}", file.display());
        let o = nas(&["eval", "333132", "--evaluator", "train", "--set", "data.dataset=csv", "--set", &csv, "--epochs", "1"]);
        assert_refused(&o, &["data.csv"])?;
    }
}
