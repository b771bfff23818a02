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
        super::redact_url(&self.url)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_redis_password() {
        let config = CacheConfig {
            redis: Some(RedisConfig::new("redis://:hunter2@cache:6379/0")),
            ..CacheConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cache:6379"), "{shown}");
    }
}
