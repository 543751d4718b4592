//! The journal's hardening (issue #14): blobs, one writer per journal, foreign files,
//! read-only copies, renamed journals, error messages.

use nas_core::journal::{Journal, NullJournal, SqliteJournal};

fn config() -> serde_json::Value {
    serde_json::json!({"name": "j", "x": 1})
}

fn open(path: &std::path::Path) -> SqliteJournal {
    SqliteJournal::open(path, &config(), Box::new(|_| String::new()))
        .unwrap()
        .0
}

#[test]
fn blobs_replace_the_last_value_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    {
        let mut j = open(&path);
        assert_eq!(j.load_blob("supernet").unwrap(), None);
        j.save_blob("supernet", &[1, 2, 3]).unwrap();
        j.save_blob("supernet", &[4, 5]).unwrap();
        j.save_blob("other", &[]).unwrap();
        assert_eq!(j.load_blob("supernet").unwrap(), Some(vec![4, 5]));
    }
    let mut j = open(&path);
    assert_eq!(j.load_blob("supernet").unwrap(), Some(vec![4, 5]));
    assert_eq!(j.load_blob("other").unwrap(), Some(vec![]));
    let mut null = NullJournal;
    null.save_blob("supernet", &[1]).unwrap();
    assert_eq!(null.load_blob("supernet").unwrap(), None);
}
