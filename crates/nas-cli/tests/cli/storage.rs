//! Storage URLs through the CLI (issue #13): `nas search --storage URL`, `nas show URL`,
//! `--resume` from a URL, and URLs that name no storage.

use super::{TABLE, assert_clean_failure, nas, text};

#[test]
fn a_search_at_a_storage_url_is_shown_and_resumed_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("elsewhere").join("x.sqlite");
    let url = format!("sqlite:{}", path.display());
    let o = nas(&[
        &["search", "--name", "x", "--trials", "12", "--storage", &url][..],
        &["--no-progress"],
        &TABLE,
    ]
    .concat());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(path.is_file(), "the journal is at the URL's path");
    assert!(out.contains(&format!("(nas show {url})")), "{out}");
    // Not in --dir (`runs` by default, relative to the test's folder).
    assert!(!std::path::Path::new("runs/x.sqlite").exists());

    let show = nas(&["show", &url, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(json["finished"], 12, "{}", text(&show).1);
    assert_eq!(json["journal"], url);
    // The same journal by its path, as before storages were plugins.
    let by_path = nas(&["show", path.to_str().unwrap(), "--json"]);
    let by_path: serde_json::Value = serde_json::from_slice(&by_path.stdout).unwrap();
    assert_eq!(by_path["best"], json["best"]);

    let more = nas(&[
        &["search", "--resume", "--storage", &url, "--trials", "20"][..],
        &["--no-progress", "--json"],
    ]
    .concat());
    let (out, err) = text(&more);
    assert!(more.status.success(), "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["report"]["resumed"], 12);
    assert_eq!(report["report"]["progress"]["finished"], 20);
    assert_eq!(report["name"], "x");
}

#[test]
fn a_url_that_names_no_storage_is_one_clear_line_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let url = "mysql://ada:hunter2@db.example/nas";
    let search = nas(&[&["search", "--storage", url, "--trials", "3"][..], &TABLE].concat());
    assert_clean_failure(
        &search,
        "no storage is registered under `mysql`; registered: `postgres`",
    );
    assert!(text(&search).1.contains("`sqlite` (one SQLite file"));
    assert!(!text(&search).1.contains("hunter2"));
    let show = nas(&["show", url, "--dir", d]);
    assert_clean_failure(&show, "mysql://ada:***@db.example/nas");
    assert!(!text(&show).1.contains("hunter2"));
    // A PostgreSQL server that cannot be reached: the storage's own clear line.
    let url = "postgresql://ada:hunter2@db.invalid/nas";
    let search = nas(&[&["search", "--storage", url, "--trials", "3"][..], &TABLE].concat());
    assert_clean_failure(&search, "postgresql://ada:***@db.invalid/nas");
    assert!(text(&search).1.contains("cannot connect") && !text(&search).1.contains("hunter2"));
    let show = nas(&["show", url, "--dir", d]);
    assert_clean_failure(&show, "add `?experiment=NAME` to the URL");
    assert!(!text(&show).1.contains("hunter2"));
    // A path is not a URL: `--storage` says how to write one.
    let bare = nas(&[
        &["search", "--storage", "x.sqlite", "--trials", "3"][..],
        &TABLE,
    ]
    .concat());
    assert_clean_failure(&bare, "`sqlite:runs/x.sqlite`");
    assert!(!std::path::Path::new("x.sqlite").exists());
}
