//! Redis as the shared second cache layer (`REDIS_URL`), under the in-memory response
//! cache: memory → Redis → compute.
//!
//! Redis is a cache here, never a dependency. Every operation has a short deadline; a
//! failure marks Redis *unavailable* (one warning, `redis_connected` 0, an error
//! counted), and requests skip it until a retry a moment later, so a dead Redis costs
//! nothing but the misses. The connection manager reconnects by itself; a Redis that
//! was down at start is connected in the background. Keys are namespaced by a *scope*
//! chosen by the caller (see `api::cache` for why live-market answers use one scope per
//! process) and expire after a TTL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use tokio::time::Instant;

pub use crate::config::RedisConfig;

/// How long to skip Redis after a failure before trying it again.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// The URL is not a Redis URL (a startup error; an unreachable Redis is not one).
#[derive(Debug, thiserror::Error)]
#[error("REDIS_URL {url:?} is not a usable Redis URL: {source}")]
pub struct BadRedisUrl {
    url: String,
    #[source]
    source: redis::RedisError,
}

/// `/health`'s view of the Redis layer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RedisHealth {
    /// `connected` or `unavailable` (answers are then computed or served from memory).
    pub state: &'static str,
    pub hits: u64,
    pub misses: u64,
    /// Failed operations since start.
    pub errors: u64,
}

struct Link {
    connection: Option<ConnectionManager>,
    up: bool,
    /// While down, Redis is skipped until then.
    retry_at: Instant,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("opened", &self.connection.is_some())
            .field("up", &self.up)
            .finish_non_exhaustive()
    }
}

/// The Redis layer. Cheap to share (`Arc` inside).
#[derive(Debug, Clone)]
pub struct SharedCache {
    inner: Arc<Inner>,
}

/// `Debug` leaves out the client: its connection info holds the password.
struct Inner {
    client: redis::Client,
    config: RedisConfig,
    prefix: String,
    link: Mutex<Link>,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("config", &self.config)
            .field("prefix", &self.prefix)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl SharedCache {
    /// Connects (once, within the deadline) under `scope`. An unreachable Redis is not
    /// an error: the layer starts unavailable and keeps trying in the background.
    pub async fn connect(config: RedisConfig, scope: &str) -> Result<Self, BadRedisUrl> {
        let client = redis::Client::open(config.url.as_str()).map_err(|source| BadRedisUrl {
            url: config.redacted_url(),
            source,
        })?;
        let cache = Self {
            inner: Arc::new(Inner {
                client,
                prefix: format!("optionhub:{scope}:"),
                link: Mutex::new(Link {
                    connection: None,
                    up: false,
                    retry_at: Instant::now(),
                }),
                config,
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                errors: AtomicU64::new(0),
            }),
        };
        metrics::gauge!("redis_connected").set(0.0);
        if !cache.inner.open().await {
            tracing::warn!(
                url = %cache.inner.config.redacted_url(),
                "Redis is unavailable; serving from memory and retrying in the background"
            );
            let inner = Arc::downgrade(&cache.inner);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(RETRY_AFTER).await;
                    let Some(inner) = inner.upgrade() else { return };
                    if inner.open().await {
                        return;
                    }
                }
            });
        }
        Ok(cache)
    }

    /// The value under `key`, if Redis has it and answers in time.
    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let mut connection = self.inner.usable()?;
        let key = self.inner.key(key);
        let found: Option<Vec<u8>> = self.inner.outcome(connection.get(key)).await.flatten();
        let counter = if found.is_some() {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found.map(Bytes::from)
    }

    /// Stores `value` under `key` for the TTL (best effort).
    pub async fn set(&self, key: &str, value: &[u8]) {
        let Some(mut connection) = self.inner.usable() else {
            return;
        };
        let key = self.inner.key(key);
        let ttl_ms = u64::try_from(self.inner.config.ttl.as_millis()).unwrap_or(u64::MAX);
        let _: Option<()> = self
            .inner
            .outcome(connection.pset_ex(key, value, ttl_ms))
            .await;
    }

    pub fn health(&self) -> RedisHealth {
        RedisHealth {
            state: if self.inner.link.lock().up {
                "connected"
            } else {
                "unavailable"
            },
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            errors: self.inner.errors.load(Ordering::Relaxed),
        }
    }
}

impl Inner {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Opens the connection manager; whether it worked.
    async fn open(&self) -> bool {
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(self.config.op_timeout)
            .set_response_timeout(self.config.op_timeout)
            .set_number_of_retries(1);
        let opened = tokio::time::timeout(
            self.config.op_timeout.saturating_mul(4),
            ConnectionManager::new_with_config(self.client.clone(), settings),
        )
        .await;
        match opened {
            Ok(Ok(connection)) => {
                let mut link = self.link.lock();
                link.connection = Some(connection);
                self.mark_up(&mut link);
                true
            }
            _ => false,
        }
    }

    /// The connection, unless Redis is down and not yet due for a retry.
    fn usable(&self) -> Option<ConnectionManager> {
        let link = self.link.lock();
        let connection = link.connection.clone()?;
        (link.up || Instant::now() >= link.retry_at).then_some(connection)
    }

    /// Runs one operation under the deadline and records how it went.
    async fn outcome<T>(
        &self,
        operation: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.config.op_timeout, operation).await {
            Ok(Ok(value)) => {
                let mut link = self.link.lock();
                if !link.up {
                    self.mark_up(&mut link);
                }
                Some(value)
            }
            Ok(Err(error)) => {
                self.mark_down(&error.to_string());
                None
            }
            Err(_) => {
                self.mark_down("timed out");
                None
            }
        }
    }

    fn mark_up(&self, link: &mut Link) {
        link.up = true;
        metrics::gauge!("redis_connected").set(1.0);
        tracing::info!(url = %self.config.redacted_url(), "Redis connected");
    }

    fn mark_down(&self, error: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("redis_errors_total").increment(1);
        let mut link = self.link.lock();
        link.retry_at = Instant::now() + RETRY_AFTER;
        if link.up {
            link.up = false;
            metrics::gauge!("redis_connected").set(0.0);
            tracing::warn!(
                url = %self.config.redacted_url(),
                %error,
                "Redis is unavailable; serving from memory until it returns"
            );
        }
    }
}

/// Test support: the Redis the tests may use.
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    /// `OPTIONHUB_TEST_REDIS_URL`, or `None` (the test then says it is skipped).
    pub fn redis_url() -> Option<String> {
        std::env::var("OPTIONHUB_TEST_REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::redis_url;
    use super::*;
    use crate::testing::{Relay, host_port};

    fn scope() -> String {
        format!("test-{}", rand::random::<u64>())
    }

    #[tokio::test]
    async fn values_are_shared_within_a_scope_and_not_across() {
        let Some(url) = redis_url() else {
            eprintln!("skipped: OPTIONHUB_TEST_REDIS_URL is not set");
            return;
        };
        let shared_scope = scope();
        let writer = SharedCache::connect(RedisConfig::new(&url), &shared_scope)
            .await
            .unwrap();
        assert_eq!(writer.health().state, "connected");
        writer.set("/fo/summary?u=NIFTY#1", b"{\"pcr\":1.1}").await;
        let reader = SharedCache::connect(RedisConfig::new(&url), &shared_scope)
            .await
            .unwrap();
        assert_eq!(
            reader.get("/fo/summary?u=NIFTY#1").await.as_deref(),
            Some(&b"{\"pcr\":1.1}"[..])
        );
        assert_eq!(reader.get("/fo/summary?u=NIFTY#2").await, None);
        let other = SharedCache::connect(RedisConfig::new(&url), &scope())
            .await
            .unwrap();
        assert_eq!(other.get("/fo/summary?u=NIFTY#1").await, None);
        let health = reader.health();
        assert_eq!((health.hits, health.misses, health.errors), (1, 1, 0));
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_skipped_not_an_error() {
        // Port 1 on loopback: nothing listens there.
        let mut config = RedisConfig::new("redis://127.0.0.1:1");
        config.op_timeout = Duration::from_millis(50);
        let cache = SharedCache::connect(config, &scope()).await.unwrap();
        assert_eq!(cache.health().state, "unavailable");
        cache.set("k", b"v").await;
        assert_eq!(cache.get("k").await, None);
        assert!(
            SharedCache::connect(RedisConfig::new("mysql://x"), "s")
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn debug_output_never_shows_the_redis_password() {
        let mut config = RedisConfig::new("redis://:hunter2-secret@127.0.0.1:1/0");
        config.op_timeout = Duration::from_millis(50);
        let cache = SharedCache::connect(config, &scope()).await.unwrap();
        let shown = format!("{cache:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
    }

    #[tokio::test]
    async fn redis_going_away_degrades_and_its_return_is_picked_up() {
        let Some(url) = redis_url() else {
            eprintln!("skipped: OPTIONHUB_TEST_REDIS_URL is not set");
            return;
        };
        let relay = Relay::start(&host_port(&url), 0).await;
        let mut config = RedisConfig::new(format!("redis://127.0.0.1:{}", relay.port));
        config.op_timeout = Duration::from_millis(200);
        let cache = SharedCache::connect(config, &scope()).await.unwrap();
        cache.set("k", b"v").await;
        assert_eq!(cache.get("k").await.as_deref(), Some(&b"v"[..]));

        let (target, port) = relay.cut().await;
        assert_eq!(cache.get("k").await, None, "a dead Redis is a miss");
        assert_eq!(cache.health().state, "unavailable");
        assert!(cache.health().errors >= 1);
        // Skipped while down: answered at once, no new error.
        let errors = cache.health().errors;
        assert_eq!(cache.get("k").await, None);
        assert_eq!(cache.health().errors, errors);

        let _relay = Relay::start(&target, port).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if cache.get("k").await.is_some() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Redis came back: {:?}",
                cache.health()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(cache.health().state, "connected");
    }

    #[test]
    fn passwords_stay_out_of_logs() {
        let config = RedisConfig::new("redis://user:hunter2@cache:6379/0");
        assert_eq!(config.redacted_url(), "redis://<redacted>@cache:6379/0");
        let tricky = RedisConfig::new("redis://user:p@ss@cache:6379");
        assert_eq!(tricky.redacted_url(), "redis://<redacted>@cache:6379");
        assert_eq!(
            host_port("redis://user:pw@10.0.0.1:6380/2"),
            "10.0.0.1:6380"
        );
    }
}
