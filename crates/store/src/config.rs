//! Where durable state lives: the database (SQLite or PostgreSQL) and the optional
//! Redis layer of the response cache. Both URLs may carry a password, so neither's
//! `Debug` shows it.

use std::time::Duration;

/// The database: a SQLite file by default, PostgreSQL when the URL says so.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long to keep retrying an unreachable database at start before giving up
    /// (zero: fail at once, with a clear message and a non-zero exit).
    pub connect_wait: Duration,
}

impl StoreConfig {
    /// The embedded default: `optionhub.db` in the data directory.
    /// A database at `url` with the default pool (8) and no wait at start.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            connect_wait: Duration::ZERO,
        }
    }

    pub fn sqlite_in(data_dir: &std::path::Path) -> Self {
        Self::new(format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("optionhub.db").display()
        ))
    }
}

impl StoreConfig {
    /// The URL with any credentials hidden (a PostgreSQL URL may carry a password), for
    /// logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &self.redacted_url())
            .field("max_connections", &self.max_connections)
            .field("connect_wait", &self.connect_wait)
            .finish()
    }
}

/// Settings of the Redis layer. `Debug` hides the URL's password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port/db`.
    pub url: String,
    /// How long an entry lives in Redis.
    pub ttl: Duration,
    /// Deadline of one operation (and of one connection attempt).
    pub op_timeout: Duration,
}

impl RedisConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ttl: Duration::from_secs(30),
            op_timeout: Duration::from_millis(250),
        }
    }

    /// The URL without its password, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("ttl", &self.ttl)
            .field("op_timeout", &self.op_timeout)
            .finish()
    }
}

/// A database or Redis URL with its credentials hidden, for logs and errors. The host
/// follows the *last* `@`, so a password containing `@` is hidden whole.
pub fn redact_url(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((credentials, host)) => {
            let scheme = credentials
                .split_once("://")
                .map_or("db", |(scheme, _)| scheme);
            format!("{scheme}://<redacted>@{host}")
        }
        None => url.to_string(),
    }
}
