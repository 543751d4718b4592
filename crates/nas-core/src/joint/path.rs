//! Dotted paths inside a plugin's JSON config (`data.fraction`), as `nas eval --set`
//! takes them: checked, set (creating missing tables), read back.

use serde_json::Value;

/// Checks that `path` can name a field: dot-separated names, none empty, no spaces or `=`
/// (the rendered architecture writes `path=value`, so a space or `=` would not read back).
///
/// # Errors
/// Why not.
pub fn check(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty: give the field of the evaluator's config, e.g. `learning_rate`".into());
    }
    if path.split('.').any(str::is_empty) {
        return Err(format!("`{path}` has an empty name between dots"));
    }
    if path.chars().any(|c| c.is_whitespace() || c == '=') {
        return Err(format!("`{path}` may not hold spaces or `=`"));
    }
    Ok(())
}

/// Whether two paths set the same field or one sets a table holding the other's.
pub fn overlaps(a: &str, b: &str) -> bool {
    let inside = |long: &str, short: &str| {
        long == short
            || long
                .strip_prefix(short)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    inside(a, b) || inside(b, a)
}

/// Sets the value at `path`, creating the tables on the way (as `--set` does).
///
/// # Errors
/// A path through a value that is not a table, naming that value's path.
pub fn set(config: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let keys: Vec<&str> = path.split('.').collect();
    let mut node = config;
    for (i, key) in keys.iter().enumerate() {
        if node.is_null() {
            *node = Value::Object(serde_json::Map::new());
        }
        let Value::Object(table) = node else {
            return Err(format!("`{}` is not a table", keys[..i].join(".")));
        };
        node = table.entry(key.to_string()).or_insert(Value::Null);
    }
    *node = value;
    Ok(())
}

/// The value at `path`, if there is one.
pub fn get<'a>(config: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(config, |node, key| node.as_object()?.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_creates_tables_and_get_reads_them() {
        let mut c = json!({"a": 1});
        assert!(set(&mut c, "b.c", json!(2)).is_ok());
        assert_eq!(get(&c, "b.c"), Some(&json!(2)));
        assert_eq!(get(&c, "b.d"), None);
        assert_eq!(
            set(&mut c, "a.x", json!(3)),
            Err("`a` is not a table".into())
        );
    }

    #[test]
    fn overlapping_paths() {
        assert!(overlaps("data", "data.fraction"));
        assert!(overlaps("lr", "lr"));
        assert!(!overlaps("data", "data_fraction"));
        assert!(check("a..b").is_err() && check("a b").is_err() && check("a.b").is_ok());
    }
}
