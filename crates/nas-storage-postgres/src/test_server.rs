//! The PostgreSQL server that tests of this crate and of others (the CLI's workers) run
//! against: the one `NAS_TEST_POSTGRES_URL` names, a superuser's URL. `cargo xtask test`
//! starts a throwaway one (`scripts/postgres-throwaway.sh`). Each test makes its own
//! database, so tests run in parallel without touching each other.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The test server's superuser URL; `Ok(None)` outside CI when there is none (the caller
/// says so and skips); an error under CI (`CI` set), where a missing server must fail.
///
/// # Errors
/// `CI` is set and `NAS_TEST_POSTGRES_URL` is not.
pub fn server() -> Result<Option<String>, String> {
    match std::env::var("NAS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Ok(Some(url)),
        _ if std::env::var_os("CI").is_some() => Err(
            "CI is set but NAS_TEST_POSTGRES_URL is not: `cargo xtask test` starts a \
             throwaway server with scripts/postgres-throwaway.sh"
                .into(),
        ),
        _ => {
            eprintln!("no PostgreSQL server (NAS_TEST_POSTGRES_URL): skipped");
            Ok(None)
        }
    }
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{db}")
}

/// A new empty database on the server at `admin` (a superuser's URL); its URL.
///
/// # Errors
/// The server refused.
pub fn fresh_database(admin: &str) -> Result<String, postgres::Error> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let db = format!(
        "nas_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let mut client = postgres::Client::connect(admin, postgres::NoTls)?;
    // One statement each: several in one string run as one transaction, which these
    // statements refuse.
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))?;
    client.batch_execute(&format!("CREATE DATABASE {db}"))?;
    Ok(with_database(admin, &db))
}

/// The password in `url`'s `user:password@` part, if it has one: what tests look for in
/// output that must never show it.
pub fn password_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (user, _) = rest.rsplit_once('@')?;
    let (_, password) = user.split_once(':')?;
    Some(password.to_string())
}
