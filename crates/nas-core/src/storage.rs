//! Storages as plugins: where journals live, chosen by a URL's scheme.
//!
//! A storage crate registers a [`StoragePlugin`] under a scheme (`sqlite` for
//! `sqlite:runs/x.sqlite`, a PostgreSQL crate `postgresql` for `postgresql://host/db`),
//! through `inventory` like every other plugin kind, and links the database it needs:
//! this crate defines the [`Journal`] trait and its errors and compiles no database, so a
//! strategy crate that depends on `nas-core` alone builds no SQLite.
//!
//! The SQLite storage (`nas-storage-sqlite`) is the default: [`default_url`] is where
//! `Experiment::run_in` and the CLI put an experiment when no URL is given. A program that
//! runs searches links it (the `nas` binary does), or the search stops with an error
//! listing the storages that are linked.

use crate::journal::{Journal, JournalError, JournalState};
use crate::queue::{TrialQueue, WorkerIdentity};
use crate::trial::{Objective, Trial};
use std::fmt;
use std::path::Path;

/// The scheme of the default storage: one SQLite file per experiment.
pub const DEFAULT_SCHEME: &str = "sqlite";

/// What a storage needs to open the journal of an experiment for writing.
pub struct JournalRequest<'a> {
    /// The experiment config as JSON: stored with a new journal, and compared with the
    /// stored one when the journal exists (only the budget and the name may differ, see
    /// [`crate::journal::check_continuation`]; a continued journal stores the new one).
    pub config: &'a serde_json::Value,
    /// The objectives the experiment resolved, stored so that showing the journal needs
    /// no evaluator (building one may load data sets).
    pub objectives: &'a [Objective],
    /// A trial's genotype in the space's words, stored beside it for people who read
    /// the storage with its own tools.
    pub render: Render,
}

/// A trial's genotype in its space's words.
pub type Render = Box<dyn Fn(&Trial) -> String + Send>;

impl fmt::Debug for JournalRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalRequest")
            .field("config", &self.config)
            .field("objectives", &self.objectives)
            .finish_non_exhaustive()
    }
}

/// A journal open for writing, and the state of the experiment it already held (`None`
/// for a new journal).
pub type OpenedJournal = (Box<dyn Journal + Send>, Option<JournalState>);

/// A registered storage: a scheme and what it does with a URL of that scheme.
#[derive(Debug)]
pub struct StoragePlugin {
    /// The URL scheme, lowercase (`sqlite`).
    pub scheme: &'static str,
    /// One line for people: what the storage is and the form of its URLs.
    pub summary: &'static str,
    /// Opens (or creates) the journal at `url` as its only writer.
    ///
    /// Must refuse, before writing anything: another writer
    /// ([`JournalError::Locked`]), something there that is not a journal, a journal whose
    /// config differs in more than its budget and name.
    pub open: fn(&StorageUrl, JournalRequest<'_>) -> Result<OpenedJournal, JournalError>,
    /// Reads the journal at `url` without writing anything (`nas show`, `--resume`), also
    /// while a search writes it.
    pub read: fn(&StorageUrl) -> Result<JournalState, JournalError>,
    /// Who writes the journal at `url` now, if a search does: its unfinished trials are
    /// then in flight, not waiting for a resume. Never fails: unknown means nobody.
    pub writer: fn(&StorageUrl) -> Option<String>,
    /// Connects a worker to the experiment named by the argument (or by the URL, if the
    /// storage reads a name there), for many processes to share ([`crate::queue`]);
    /// `None` for a storage that one process writes at a time.
    pub queue: Option<QueueOpener>,
}

/// Connects a worker to an experiment: see [`StoragePlugin::queue`].
pub type QueueOpener =
    fn(&StorageUrl, Option<&str>, WorkerIdentity) -> Result<Box<dyn TrialQueue>, JournalError>;

inventory::collect!(StoragePlugin);

/// A storage URL: `scheme:location`, the scheme lowercase ASCII.
///
/// Displayed without its password (`postgresql://ada:***@host/db`), so that errors and
/// logs never show one; [`StorageUrl::as_str`] has the whole text, for connecting.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageUrl {
    text: String,
    /// Where the scheme ends (the `:`).
    colon: usize,
}

impl StorageUrl {
    /// Reads `scheme:location`. The scheme is what URLs allow (a letter, then letters,
    /// digits, `+`, `-`, `.`) and at least two characters, so that a Windows drive
    /// (`C:\runs`) is never taken for one; it is compared in lowercase.
    ///
    /// # Errors
    /// [`JournalError::Url`] for text without a scheme, or with nothing after it.
    pub fn parse(text: &str) -> Result<Self, JournalError> {
        let bad = |reason: String| JournalError::Url {
            url: redact(text),
            reason,
        };
        let colon = scheme_end(text).ok_or_else(|| {
            bad(format!(
                "not a storage URL: it has no scheme (write `{DEFAULT_SCHEME}:PATH`, e.g. \
                 `{DEFAULT_SCHEME}:runs/x.sqlite`)"
            ))
        })?;
        if text.len() == colon + 1 {
            return Err(bad("nothing follows the scheme".into()));
        }
        let mut text = text.to_string();
        text[..colon].make_ascii_lowercase();
        Ok(StorageUrl { text, colon })
    }

    /// The scheme, lowercase, without its `:`.
    pub fn scheme(&self) -> &str {
        &self.text[..self.colon]
    }

    /// Everything after `scheme:` (a file path for SQLite), as written.
    pub fn location(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole URL, password included: for connecting, never for messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Shown without a password.
impl fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.text))
    }
}

/// Like `Display`: a URL's password must not reach a log through `{:?}` either.
impl fmt::Debug for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageUrl({})", redact(&self.text))
    }
}

/// The byte index of the `:` that ends a URL scheme at the start of `text`, if one does.
fn scheme_end(text: &str) -> Option<usize> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_is_letter && rest_ok && scheme.len() >= 2).then_some(colon)
}

/// `text` with the password of a `scheme://user:password@host` authority replaced by
/// `***`; anything else unchanged.
fn redact(text: &str) -> String {
    let Some(colon) = scheme_end(text) else {
        return text.to_string();
    };
    let Some(rest) = text[colon + 1..].strip_prefix("//") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    // The userinfo ends at the last `@` of the authority (a password may hold `@`s
    // written unescaped); its password starts at the first `:` inside it.
    let Some(at) = authority.rfind('@') else {
        return text.to_string();
    };
    let Some(password_at) = authority[..at].find(':') else {
        return text.to_string();
    };
    let start = colon + 3 + password_at + 1;
    let end = colon + 3 + at;
    format!("{}***{}", &text[..start], &text[end..])
}

/// Who this process is, as a storage's refusal to a second writer names it: `process 123
/// (nas) on host`.
pub fn this_process() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".into());
    let program = std::env::args()
        .next()
        .map(|p| {
            Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or(p)
        })
        .unwrap_or_else(|| "?".into());
    format!("process {} ({program}) on {host}", std::process::id())
}

/// Whether `text` starts with a URL scheme (`scheme:`), registered or not: the CLI
/// takes such text for a storage URL rather than an experiment name.
pub fn has_scheme(text: &str) -> bool {
    scheme_end(text).is_some()
}

/// Every registered storage, by scheme.
pub fn storages() -> Vec<&'static StoragePlugin> {
    let mut all: Vec<&'static StoragePlugin> =
        inventory::iter::<StoragePlugin>.into_iter().collect();
    all.sort_by_key(|s| s.scheme);
    all
}

/// The storage registered under `url`'s scheme.
///
/// # Errors
/// [`JournalError::Url`] when none is (listing those that are, or saying that none is
/// linked), or when two are.
pub fn find(url: &StorageUrl) -> Result<&'static StoragePlugin, JournalError> {
    let all = storages();
    let mut found = all.iter().filter(|s| s.scheme == url.scheme());
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        (Some(_), Some(_)) => Err(JournalError::Url {
            url: url.to_string(),
            reason: format!(
                "two storages are registered under the scheme `{}`",
                url.scheme()
            ),
        }),
        (None, _) => Err(JournalError::Url {
            url: url.to_string(),
            reason: unknown_scheme(url.scheme(), &all),
        }),
    }
}

/// Why `scheme` names no storage, with the registered ones.
fn unknown_scheme(scheme: &str, all: &[&'static StoragePlugin]) -> String {
    if all.is_empty() {
        return format!(
            "no storage is registered under `{scheme}`, and none is linked into this \
             program: link a storage crate and name it (`use nas_storage_sqlite as _;`)"
        );
    }
    let known: Vec<String> = all
        .iter()
        .map(|s| format!("`{}` ({})", s.scheme, s.summary))
        .collect();
    format!(
        "no storage is registered under `{scheme}`; registered: {}",
        known.join(", ")
    )
}

/// Opens (or creates) the journal at the storage URL `url` as its only writer, through the
/// storage registered under its scheme.
///
/// # Errors
/// A URL that names no registered storage; whatever the storage refuses (see
/// [`StoragePlugin::open`]).
pub fn open(url: &str, request: JournalRequest<'_>) -> Result<OpenedJournal, JournalError> {
    let url = StorageUrl::parse(url)?;
    (find(&url)?.open)(&url, request)
}

/// Reads the journal at `url` without writing anything.
///
/// # Errors
/// A URL that names no registered storage; no journal there; one that cannot be read.
pub fn read(url: &str) -> Result<JournalState, JournalError> {
    let url = StorageUrl::parse(url)?;
    (find(&url)?.read)(&url)
}

/// Who writes the journal at `url` now, if a search does.
///
/// # Errors
/// A URL that names no registered storage.
pub fn writer(url: &str) -> Result<Option<String>, JournalError> {
    let url = StorageUrl::parse(url)?;
    Ok((find(&url)?.writer)(&url))
}

/// Whether the storage at `url` lets worker processes share an experiment.
///
/// # Errors
/// A URL that names no registered storage.
pub fn shares_experiments(url: &str) -> Result<bool, JournalError> {
    let url = StorageUrl::parse(url)?;
    Ok(find(&url)?.queue.is_some())
}

/// Connects the worker `identity` to the experiment `name` (or the one the URL names) at
/// `url`.
///
/// # Errors
/// A URL that names no registered storage, or a storage that one process writes at a
/// time; whatever the storage refuses.
pub fn queue(
    url: &str,
    name: Option<&str>,
    identity: WorkerIdentity,
) -> Result<Box<dyn TrialQueue>, JournalError> {
    let url = StorageUrl::parse(url)?;
    let storage = find(&url)?;
    let Some(open) = storage.queue else {
        let shared: Vec<String> = storages()
            .iter()
            .filter(|s| s.queue.is_some())
            .map(|s| format!("`{}:`", s.scheme))
            .collect();
        return Err(JournalError::Url {
            url: url.to_string(),
            reason: format!(
                "the `{}` storage keeps an experiment for one process; workers share one \
                 through a storage that many processes reach ({})",
                storage.scheme,
                if shared.is_empty() {
                    "none is linked".to_string()
                } else {
                    shared.join(", ")
                }
            ),
        });
    };
    open(&url, name, identity)
}

/// The default storage URL of the experiment `name` in the folder `dir`:
/// `sqlite:<dir>/<name>.sqlite`.
///
/// # Errors
/// [`JournalError::Url`] for a folder whose path is not UTF-8: a URL is text, and a path
/// changed to fit would put the journal somewhere else.
pub fn default_url(dir: &Path, name: &str) -> Result<String, JournalError> {
    let path = dir.join(format!("{name}.sqlite"));
    match path.to_str() {
        Some(text) => Ok(format!("{DEFAULT_SCHEME}:{text}")),
        None => Err(JournalError::Url {
            url: path.display().to_string(),
            reason: "the journal's path is not UTF-8, so no storage URL can name it; \
                     choose another folder"
                .into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, String) {
        match StorageUrl::parse(text) {
            Ok(url) => (url.scheme().to_string(), url.location().to_string()),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn a_url_is_a_scheme_and_a_location() {
        assert_eq!(
            parsed("sqlite:runs/x.sqlite"),
            ("sqlite".into(), "runs/x.sqlite".into())
        );
        assert_eq!(parsed("SQLite:/a:b"), ("sqlite".into(), "/a:b".into()));
        assert_eq!(
            parsed("postgresql://u@h/db"),
            ("postgresql".into(), "//u@h/db".into())
        );
        for bad in [
            "runs/x.sqlite",
            "C:\\runs\\x.sqlite",
            "sqlite:",
            ":x",
            "1x:y",
            "",
        ] {
            let err = StorageUrl::parse(bad).err().map(|e| e.to_string());
            assert!(err.is_some_and(|e| e.starts_with("storage `")), "{bad}");
        }
        assert!(has_scheme("sqlite:x") && !has_scheme("x.sqlite") && !has_scheme("C:\\x"));
    }

    #[test]
    fn a_password_is_never_shown() {
        let url = StorageUrl::parse("postgresql://ada:s3cr@t@db.example:5432/nas?x=1")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.to_string(),
            "postgresql://ada:***@db.example:5432/nas?x=1"
        );
        assert!(!format!("{url:?}").contains("s3cr"));
        assert!(url.as_str().contains("s3cr@t"));
        assert_eq!(redact("postgresql://ada@h/db"), "postgresql://ada@h/db");
        assert_eq!(redact("sqlite:/tmp/a:b@c"), "sqlite:/tmp/a:b@c");
        let err = StorageUrl::parse("pg://ada:hunter2@h/")
            .map(|u| find(&u).err().map(|e| e.to_string()).unwrap_or_default())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            !err.contains("hunter2") && err.contains("pg://ada:***@h/"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_scheme_says_what_is_registered() {
        // No storage crate is linked into this crate's unit tests.
        let err = read("mysql://h/db")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("no storage is registered under `mysql`"),
            "{err}"
        );
        assert!(err.contains("use nas_storage_sqlite as _;"), "{err}");
    }

    #[test]
    fn the_default_url_is_an_sqlite_file_in_the_folder() {
        let url = default_url(Path::new("runs"), "x").unwrap_or_default();
        assert_eq!(
            url,
            format!("sqlite:{}", Path::new("runs").join("x.sqlite").display())
        );
    }
}
