//! The configured database: `sqlite://PATH` (or a bare path: the embedded default) or
//! `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (a fleet), and opening the store it names.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{JobStore, PgStore, SqliteStore, StoreError};

/// Where the job store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An embedded SQLite file (one machine).
    Sqlite(PathBuf),
    /// A PostgreSQL server (the connection URL, which may hold a password).
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Why a database URL was refused.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseUrlError {
    /// Nothing but whitespace.
    #[error("the database URL is empty")]
    Empty,
    /// `sqlite://` without a path.
    #[error("sqlite:// needs a file path (sqlite://relayer.db)")]
    SqliteWithoutPath,
    /// A PostgreSQL URL the driver does not accept.
    #[error("database URL {url}: {source}")]
    Postgres {
        /// The URL without its password.
        url: String,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },
    /// Another scheme.
    #[error("database URL scheme {scheme:?} is not supported (sqlite:// or postgres://)")]
    UnsupportedScheme {
        /// The scheme.
        scheme: String,
    },
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `postgres://...`, `postgresql://...`, or a bare file path (SQLite).
    pub fn parse(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DatabaseUrlError::SqliteWithoutPath);
            }
            return Ok(Self::Sqlite(path.into()));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            text.parse::<postgres::Config>()
                .map_err(|source| DatabaseUrlError::Postgres { url: redact(text), source })?;
            return Ok(Self::Postgres(text.into()));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(DatabaseUrlError::UnsupportedScheme { scheme: scheme.into() });
        }
        Ok(Self::Sqlite(text.into()))
    }

    /// Makes a relative SQLite path relative to `base` (the config file's directory).
    pub fn resolve(&mut self, base: &Path) {
        if let Self::Sqlite(p) = self {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The URL without its password (for logs and errors).
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("sqlite://{}", p.display()),
            Self::Postgres(url) => redact(url),
        }
    }

    /// True for PostgreSQL (a store several processes may share).
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.into() };
    let Some((auth, host)) = rest.rsplit_once('@') else { return url.into() };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.into(),
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;
    fn from_str(s: &str) -> Result<Self, DatabaseUrlError> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Opens (and migrates) the store `url` names; refuses a schema newer than this binary's before
/// writing anything.
pub fn open(url: &DatabaseUrl) -> Result<Arc<dyn JobStore>, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
        DatabaseUrl::Postgres(url) => Arc::new(PgStore::connect(url)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(DatabaseUrl::parse("jobs.db").unwrap(), DatabaseUrl::Sqlite("jobs.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:///var/z.db").unwrap(), DatabaseUrl::Sqlite("/var/z.db".into()));
        let pg = DatabaseUrl::parse("postgres://zk:hunter2@db.internal:5433/zkguard").unwrap();
        assert!(pg.is_shared());
        assert_eq!(pg.redacted(), "postgres://zk:***@db.internal:5433/zkguard");
        assert!(!format!("{pg:?}").contains("hunter2"));
        for (bad, says) in [("", "empty"), ("sqlite://", "file path"), ("mysql://x/y", "\"mysql\" is not supported")] {
            let e = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(matches!(DatabaseUrl::parse("  "), Err(DatabaseUrlError::Empty)));
        assert!(matches!(
            "mysql://x/y".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::UnsupportedScheme { ref scheme }) if scheme == "mysql"
        ));
        // A URL the driver refuses keeps the driver's error as its source, and no password.
        let e = DatabaseUrl::parse("postgres://zk:hunter2@db:notaport/zkguard").unwrap_err();
        assert!(matches!(e, DatabaseUrlError::Postgres { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        let text = e.to_string();
        assert!(text.starts_with("database URL postgres://zk:***@db:notaport/zkguard: "), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let mut rel = DatabaseUrl::parse("sqlite://jobs.db").unwrap();
        rel.resolve(Path::new("/etc/zk"));
        assert_eq!(rel, DatabaseUrl::Sqlite("/etc/zk/jobs.db".into()));
    }
}
