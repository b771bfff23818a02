//! The response cache's settings: the in-memory layer's bounds and the optional Redis
//! layer under it.

use std::time::Duration;

pub use store::RedisConfig;

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
