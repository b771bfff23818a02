//! The response cache's settings: the in-memory layer's bounds and the optional Redis
//! layer under it.

use std::time::Duration;

/// The response cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Bound on the bytes held in memory (bodies plus keys).
    pub max_bytes: u64,
    /// How long an entry may live in memory. Keys change as the market moves, so this
    /// is only a backstop that frees entries no request will match again.
    pub ttl: Duration,
    /// The Redis layer, when `REDIS_URL` is set.
    pub redis: Option<RedisConfig>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 64 << 20,
            ttl: Duration::from_secs(10),
            redis: None,
        }
    }
}

/// Settings of the Redis layer.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        super::redact_url(&self.url)
    }
}
