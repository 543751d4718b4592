//! A storage URL as this crate reads it: the connection (the URL without our
//! `experiment` parameter) and the experiment it names.

use nas_core::journal::JournalError;
use nas_core::storage::StorageUrl;
use postgres::{Client, NoTls};
use std::time::Duration;

/// Seconds a connection attempt may take before it is an error.
pub const CONNECT_TIMEOUT_S: u64 = 5;

/// Where an experiment's journal is: the database and the experiment's name.
#[derive(Debug, Clone)]
pub struct Target {
    /// The URL as the user wrote it, displayed without its password.
    pub url: StorageUrl,
    pub experiment: String,
    config: postgres::Config,
}

impl Target {
    /// The experiment named by `?experiment=`, or else by the config's `name`.
    ///
    /// # Errors
    /// A URL PostgreSQL cannot read, or no name in either place.
    pub fn for_writing(url: &StorageUrl, config: &serde_json::Value) -> Result<Self, JournalError> {
        let (config_of, named) = split(url)?;
        let experiment = match named {
            Some(name) => name,
            None => config
                .get("name")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(url, "the experiment has no name: give it one (`--name`)"))?,
        };
        Ok(Target {
            url: url.clone(),
            experiment,
            config: config_of,
        })
    }

    /// The experiment `name`, or the one `?experiment=` names.
    ///
    /// # Errors
    /// A URL PostgreSQL cannot read; no name in either place, or two different ones.
    pub fn named(url: &StorageUrl, name: Option<&str>) -> Result<Self, JournalError> {
        let (config, named) = split(url)?;
        let experiment = match (name, named) {
            (Some(a), Some(b)) if a != b => {
                return Err(bad(
                    url,
                    format!("the URL names the experiment `{b}`, but `{a}` was asked for"),
                ));
            }
            (Some(a), _) => a.to_string(),
            (None, Some(b)) => b,
            (None, None) => {
                return Err(bad(
                    url,
                    "name the experiment: `--name NAME`, or `?experiment=NAME` in the URL",
                ));
            }
        };
        Ok(Target {
            url: url.clone(),
            experiment,
            config,
        })
    }

    /// The experiment named by `?experiment=`.
    ///
    /// # Errors
    /// A URL PostgreSQL cannot read, or one that names no experiment.
    pub fn for_reading(url: &StorageUrl) -> Result<Self, JournalError> {
        let (config, named) = split(url)?;
        let experiment = named.ok_or_else(|| {
            bad(
                url,
                "name the experiment to read: add `?experiment=NAME` to the URL",
            )
        })?;
        Ok(Target {
            url: url.clone(),
            experiment,
            config,
        })
    }

    /// Where messages say the journal is: the URL without its password, and the
    /// experiment.
    pub fn location(&self) -> String {
        format!("{} (experiment `{}`)", self.url, self.experiment)
    }

    /// A connection to the database.
    ///
    /// # Errors
    /// [`JournalError::Storage`] with the server's reason (unreachable, refused
    /// credentials, no such database), never the password.
    pub fn connect(&self) -> Result<Client, JournalError> {
        self.config
            .connect(NoTls)
            .map_err(|e| JournalError::Storage {
                location: self.location(),
                reason: format!("cannot connect: {}", describe(&e)),
            })
    }
}

/// The server's own words for a database error (`password authentication failed for
/// user "ada"`), else the client's.
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let text = e.to_string();
            match std::error::Error::source(e) {
                Some(source) if !text.contains(&source.to_string()) => format!("{text}: {source}"),
                _ => text,
            }
        }
    }
}

fn bad(url: &StorageUrl, reason: impl Into<String>) -> JournalError {
    JournalError::Url {
        url: url.to_string(),
        reason: reason.into(),
    }
}

/// The connection config of `url` without its `experiment` parameter, and that parameter.
fn split(url: &StorageUrl) -> Result<(postgres::Config, Option<String>), JournalError> {
    let text = url.as_str();
    let (base, query) = match text.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (text, None),
    };
    let mut kept = Vec::new();
    let mut experiment = None;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("experiment", name)) if !name.is_empty() => experiment = Some(name.to_string()),
            Some(("experiment", _)) => return Err(bad(url, "`experiment=` names no experiment")),
            _ => kept.push(pair),
        }
    }
    let connection = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config: postgres::Config = connection.parse().map_err(|e: postgres::Error| {
        bad(url, format!("not a PostgreSQL URL: {}", describe(&e)))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_S));
    }
    if config.get_application_name().is_none() {
        config.application_name("nas");
    }
    Ok((config, experiment))
}
