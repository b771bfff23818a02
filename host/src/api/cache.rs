//! The response cache: serialized JSON answers of the computed routes (the F&O
//! analytics, custom analytics, the live chain), keyed so that a cached answer can never
//! be stale.
//!
//! A key is the route, its normalised parameters, and the *version of the inputs*: the
//! chain's sequence number, the sequence and plugin hash of the Greeks computation the
//! answer used, and the hash of the plugin that computed it. The market moving, the
//! Greeks being recomputed, or a plugin being hot-swapped or rolled back all change the
//! key, so an entry is only ever found by a request that would compute exactly the same
//! bytes. Values are the serialized body with its entity tag and compressed forms
//! ([`Representation`]), so a hit costs a hash lookup and a reference-count bump, no
//! serialization, and each entry is compressed at most once per coding. The cache is bounded by weight (bytes) and
//! entries expire after a short TTL, a backstop for keys that will never be asked again
//! once the chain has moved on. Hits and misses are counted for `/health` and the
//! metrics recorder.
//!
//! With `REDIS_URL` set, Redis is a second layer ([`SharedCache`]): memory → Redis →
//! compute, a Redis hit also filling memory, a computed answer written to both (to
//! Redis in the background, so a slow Redis never delays an answer). The version in
//! a key (chain `seq`, Greeks `seq`) counts changes *in this process*: another process,
//! or this one after a restart, reuses the same numbers for different states. So the
//! Redis scope of these keys is the process's own ([`ResponseCache::process_scope`]),
//! which keeps every Redis hit exactly as fresh as a memory hit; entries of a finished
//! process simply expire.
//!
//! The entity tag of an answer is its key's: the input version (chain and Greeks
//! sequence numbers, plugin hashes) with the route and parameters, and this process's
//! random epoch, as sequence numbers restart with the process. So `If-None-Match` is
//! answered 304 exactly when the cache would give the same bytes.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;

use super::representation::{Representation, Represented};
use crate::api::error::{AppError, ErrorCode};
use crate::config::CacheConfig;
use crate::store::shared_cache::{RedisHealth, SharedCache};

/// The header telling a client (and the tests) whether the answer came from the cache.
pub const CACHE_HEADER: &str = "x-cache";

/// What an answer was computed from, besides its route and parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct InputVersion {
    /// The chain's sequence number the answer saw.
    pub seq: u64,
    /// The chain sequence of the Greeks computation used, if any.
    pub greeks_seq: Option<u64>,
    /// Content hash of the Greeks plugin that computed them.
    pub greeks_plugin: Option<String>,
    /// Content hash of the plugin that computed the answer, if one did.
    pub plugin: Option<String>,
}

/// A cache key: route, normalised parameters, input version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    route: &'static str,
    params: String,
    version: InputVersion,
}

impl CacheKey {
    /// The key as text, for the Redis layer: every part, unambiguously separated
    /// (parameters are escaped, hashes are hex).
    fn text(&self) -> String {
        let v = &self.version;
        format!(
            "{}?{}#{}.{}.{}.{}",
            self.route,
            self.params,
            v.seq,
            v.greeks_seq.map_or_else(|| "-".into(), |s| s.to_string()),
            v.greeks_plugin.as_deref().unwrap_or("-"),
            v.plugin.as_deref().unwrap_or("-"),
        )
    }

    /// The entity tag of the answer stored under this key, in the process `epoch`.
    ///
    /// Weak (`W/`), because one tag covers the identity and every compressed form of
    /// the answer: they are the same JSON, not the same bytes, and a strong tag would
    /// promise byte equality (RFC 9110 §8.8.1). `If-None-Match` uses weak comparison
    /// anyway, so a client loses nothing.
    fn etag(&self, epoch: u64) -> HeaderValue {
        let v = &self.version;
        // The route, parameters and plugin hashes, digested: the sequence numbers are
        // kept readable, the rest only needs to differ when they do.
        let mut digest = std::hash::DefaultHasher::new();
        (self.route, &self.params, &v.greeks_plugin, &v.plugin).hash(&mut digest);
        let greeks = v.greeks_seq.map_or_else(|| "n".into(), |s| s.to_string());
        let tag = format!(
            "W/\"{epoch:016x}.{}.{greeks}.{:016x}\"",
            v.seq,
            digest.finish()
        );
        // Hex, digits, dots and quotes: always a valid header value.
        HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("W/\"\""))
    }

    fn weight(&self) -> usize {
        self.params.len()
            + self.version.greeks_plugin.as_ref().map_or(0, String::len)
            + self.version.plugin.as_ref().map_or(0, String::len)
            + 64
    }
}

/// Builds keys for one request: parameters are kept sorted by name and escaped, so the
/// same request spelt in any order gives the same key and no two different parameter
/// sets collide.
#[derive(Debug, Clone)]
pub struct KeyBuilder {
    route: &'static str,
    params: BTreeMap<String, String>,
}

impl KeyBuilder {
    pub fn new(route: &'static str) -> Self {
        Self {
            route,
            params: BTreeMap::new(),
        }
    }

    /// Adds a parameter, already normalised by the caller (canonical names, parsed
    /// numbers and dates, defaults filled in).
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Display) -> Self {
        self.params.insert(name.into(), value.to_string());
        self
    }

    /// The key for these parameters at one input version.
    pub fn key(&self, version: InputVersion) -> CacheKey {
        let mut params = String::new();
        for (i, (name, value)) in self.params.iter().enumerate() {
            if i > 0 {
                params.push('&');
            }
            escape_into(&mut params, name);
            params.push('=');
            escape_into(&mut params, value);
        }
        CacheKey {
            route: self.route,
            params,
            version,
        }
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '&' => out.push_str("%26"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
}

/// Counters as `/health` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CacheStats {
    /// Answers served from a cache layer (memory or Redis).
    pub hits: u64,
    /// Answers computed.
    pub misses: u64,
    /// hits / (hits + misses); 0 before the first lookup.
    pub hit_rate: f64,
    /// Answers served from memory (the rest of `hits` came from Redis).
    pub memory_hits: u64,
    /// The Redis layer; null when `REDIS_URL` is not set.
    pub redis: Option<RedisHealth>,
    /// Entries held (approximate: evictions are applied lazily).
    pub entries: u64,
    /// Bytes held, as weighed (approximate like `entries`).
    pub weighted_bytes: u64,
    /// Compressed forms built for cached answers (at most one per entry and coding).
    pub compressions: u64,
}

/// The cache of serialized responses.
#[derive(Debug)]
pub struct ResponseCache {
    entries: moka::future::Cache<CacheKey, Arc<Representation>>,
    shared: Option<SharedCache>,
    /// Random per cache (so per process): part of every entity tag.
    epoch: u64,
    /// Compressions of cached answers, counted by [`Representation::encoded`].
    compressions: Arc<AtomicU64>,
    memory_hits: AtomicU64,
    shared_hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for ResponseCache {
    fn default() -> Self {
        let config = CacheConfig::default();
        Self::new(config.max_bytes, config.ttl)
    }
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` (bodies plus keys), each entry for at most `ttl`.
    pub fn new(max_bytes: u64, ttl: Duration) -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(max_bytes)
            // The compressed forms, built later, are weighed in advance: JSON compresses
            // to a tenth or less, so a quarter more covers all three codings.
            .weigher(|key: &CacheKey, answer: &Arc<Representation>| {
                let body = answer.body().len();
                u32::try_from(key.weight().saturating_add(body + body / 4)).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        Self {
            entries,
            shared: None,
            epoch: rand::random(),
            compressions: Arc::new(AtomicU64::new(0)),
            memory_hits: AtomicU64::new(0),
            shared_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Adds Redis as the second layer.
    #[must_use]
    pub fn with_shared(mut self, shared: Option<SharedCache>) -> Self {
        self.shared = shared;
        self
    }

    /// The Redis scope of this process's keys: unique per process (see the module
    /// docs), readable in `redis-cli` (`optionhub:<pid>-<random>:...`).
    pub fn process_scope() -> String {
        format!("{}-{:016x}", std::process::id(), rand::random::<u64>())
    }

    /// The counter of compressions, for the middleware that compresses cached answers.
    pub fn compressions(&self) -> Arc<AtomicU64> {
        self.compressions.clone()
    }

    fn represent(&self, key: &CacheKey, body: Bytes) -> Arc<Representation> {
        Arc::new(Representation::new(body, key.etag(self.epoch)))
    }

    /// Looks a key up in memory, then in Redis; counts the hit (by layer) or the miss.
    pub async fn get(&self, key: &CacheKey) -> Option<(Arc<Representation>, CacheSource)> {
        if let Some(body) = self.entries.get(key).await {
            self.memory_hits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("cache_hits_total", "cache" => "responses", "layer" => "memory")
                .increment(1);
            return Some((body, CacheSource::Memory));
        }
        if let Some(shared) = &self.shared
            && let Some(body) = shared.get(&key.text()).await
        {
            self.shared_hits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("cache_hits_total", "cache" => "responses", "layer" => "redis")
                .increment(1);
            let answer = self.represent(key, body);
            self.entries.insert(key.clone(), answer.clone()).await;
            return Some((answer, CacheSource::Redis));
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("cache_misses_total", "cache" => "responses").increment(1);
        None
    }

    /// Stores a computed answer in memory, and in Redis in the background.
    pub async fn insert(&self, key: CacheKey, body: Bytes) -> Arc<Representation> {
        if let Some(shared) = &self.shared {
            let (shared, text, value) = (shared.clone(), key.text(), body.clone());
            tokio::spawn(async move { shared.set(&text, &value).await });
        }
        let answer = self.represent(&key, body);
        self.entries.insert(key, answer.clone()).await;
        answer
    }

    /// The cached answer for `lookup`, or the one `compute` produces. `compute` returns
    /// the key of what it actually used (the chain may have moved since `lookup` was
    /// built) and the body is stored under that key; an error is never cached.
    pub async fn respond<F, Fut>(
        &self,
        lookup: CacheKey,
        compute: F,
    ) -> Result<CachedJson, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(CacheKey, Bytes), AppError>>,
    {
        if let Some((answer, source)) = self.get(&lookup).await {
            return Ok(CachedJson { answer, source });
        }
        let (key, body) = compute().await?;
        let answer = self.insert(key, body).await;
        Ok(CachedJson {
            answer,
            source: CacheSource::Computed,
        })
    }

    pub fn stats(&self) -> CacheStats {
        let memory_hits = self.memory_hits.load(Ordering::Relaxed);
        let hits = memory_hits.saturating_add(self.shared_hits.load(Ordering::Relaxed));
        let misses = self.misses.load(Ordering::Relaxed);
        let lookups = hits.saturating_add(misses);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a ratio of counters; precision beyond 2^53 lookups is irrelevant"
        )]
        let hit_rate = if lookups == 0 {
            0.0
        } else {
            hits as f64 / lookups as f64
        };
        CacheStats {
            hits,
            misses,
            hit_rate,
            memory_hits,
            redis: self.shared.as_ref().map(SharedCache::health),
            entries: self.entries.entry_count(),
            weighted_bytes: self.entries.weighted_size(),
            compressions: self.compressions.load(Ordering::Relaxed),
        }
    }

    /// Applies pending evictions and expirations now (tests, and `stats` that must be
    /// exact).
    pub async fn sync(&self) {
        self.entries.run_pending_tasks().await;
    }
}

/// Serializes a response body once, for the cache and the client alike.
pub fn to_json<T: Serialize>(value: &T) -> Result<Bytes, AppError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|error| AppError::Unavailable {
            code: ErrorCode::EncodingFailed,
            message: format!("the response could not be encoded: {error}"),
        })
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSource {
    Memory,
    Redis,
    Computed,
}

/// A JSON answer, from a cache layer or freshly computed; says which in
/// [`CACHE_HEADER`]: `hit` (memory), `hit-redis`, or `miss`. As a response it carries
/// its representation for [`super::representation::negotiate`] to finish (304, or the
/// body in the coding the client accepts).
#[derive(Debug, Clone)]
pub struct CachedJson {
    pub answer: Arc<Representation>,
    pub source: CacheSource,
}

impl CachedJson {
    pub fn hit(&self) -> bool {
        self.source != CacheSource::Computed
    }

    /// The JSON as serialized.
    pub fn body(&self) -> &Bytes {
        self.answer.body()
    }
}

impl IntoResponse for CachedJson {
    fn into_response(self) -> Response {
        let state = HeaderValue::from_static(match self.source {
            CacheSource::Memory => "hit",
            CacheSource::Redis => "hit-redis",
            CacheSource::Computed => "miss",
        });
        (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::HeaderName::from_static(CACHE_HEADER), state),
                (header::ETAG, self.answer.etag().clone()),
            ],
            axum::Extension(Represented(self.answer.clone())),
            self.answer.body().clone(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests;
