use super::*;
use crate::api::error::ErrorCode;

fn version(seq: u64, plugin: &str) -> InputVersion {
    InputVersion {
        seq,
        greeks_seq: Some(seq),
        greeks_plugin: Some("g1".into()),
        plugin: Some(plugin.into()),
    }
}

fn builder() -> KeyBuilder {
    KeyBuilder::new("/fo/summary")
        .param("underlying", "NIFTY")
        .param("expiry", "2026-11-24")
}

#[test]
fn parameter_order_does_not_change_the_key() {
    let other = KeyBuilder::new("/fo/summary")
        .param("expiry", "2026-11-24")
        .param("underlying", "NIFTY");
    assert_eq!(builder().key(version(1, "p")), other.key(version(1, "p")));
}

#[test]
fn seq_greeks_plugin_route_and_params_each_change_the_key() {
    let base = builder().key(version(1, "p"));
    assert_ne!(base, builder().key(version(2, "p")), "chain moved");
    assert_ne!(base, builder().key(version(1, "q")), "plugin swapped");
    let mut regreeked = version(1, "p");
    regreeked.greeks_plugin = Some("g2".into());
    assert_ne!(base, builder().key(regreeked), "greeks model swapped");
    let mut recomputed = version(1, "p");
    recomputed.greeks_seq = Some(0);
    assert_ne!(base, builder().key(recomputed), "greeks of another seq");
    assert_ne!(
        base,
        KeyBuilder::new("/fo/oi-change")
            .param("underlying", "NIFTY")
            .param("expiry", "2026-11-24")
            .key(version(1, "p"))
    );
    assert_ne!(base, builder().param("strikes", 10).key(version(1, "p")));
}

#[test]
fn escaping_keeps_different_parameter_sets_apart() {
    let one = KeyBuilder::new("r")
        .param("a", "1&b=2")
        .key(InputVersion::default());
    let two = KeyBuilder::new("r")
        .param("a", "1")
        .param("b", "2")
        .key(InputVersion::default());
    assert_ne!(one, two);
    let three = KeyBuilder::new("r")
        .param("a", "1%26b%3D2")
        .key(InputVersion::default());
    assert_ne!(one, three);
}

#[tokio::test]
async fn same_inputs_hit_and_a_changed_version_misses() {
    let cache = ResponseCache::default();
    let computed = std::sync::atomic::AtomicUsize::new(0);
    let compute = |seq: u64| {
        let computed = &computed;
        move || async move {
            computed.fetch_add(1, Ordering::Relaxed);
            Ok((
                builder().key(version(seq, "p")),
                Bytes::from(format!("{{\"seq\":{seq}}}")),
            ))
        }
    };
    let first = cache
        .respond(builder().key(version(1, "p")), compute(1))
        .await
        .expect("computes");
    assert!(!first.hit());
    let again = cache
        .respond(builder().key(version(1, "p")), compute(1))
        .await
        .expect("cached");
    assert!(again.hit());
    assert_eq!(again.body(), first.body());
    assert_eq!(again.answer.etag(), first.answer.etag());
    let moved = cache
        .respond(builder().key(version(2, "p")), compute(2))
        .await
        .expect("computes");
    assert!(!moved.hit());
    assert_eq!(&moved.body()[..], b"{\"seq\":2}");
    assert_ne!(
        moved.answer.etag(),
        first.answer.etag(),
        "a new seq, a new tag"
    );
    let swapped = cache
        .respond(builder().key(version(2, "q")), compute(2))
        .await
        .expect("computes");
    assert!(!swapped.hit(), "a plugin swap misses");
    assert_eq!(computed.load(Ordering::Relaxed), 3);
    cache.sync().await;
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (1, 3));
    assert!((stats.hit_rate - 0.25).abs() < 1e-12);
    assert_eq!(
        stats.entries, 2,
        "the swapped lookup stored under the key it computed"
    );
}

#[tokio::test]
async fn an_error_is_not_cached() {
    let cache = ResponseCache::default();
    let key = builder().key(version(1, "p"));
    let failed = cache
        .respond(key.clone(), || async {
            Err(AppError::Unavailable {
                code: ErrorCode::Internal,
                message: "not yet".into(),
            })
        })
        .await;
    assert!(failed.is_err());
    assert!(cache.get(&key).await.is_none());
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_bound() {
    let cache = ResponseCache::new(10_000, CacheConfig::default().ttl);
    for seq in 0..50 {
        cache
            .insert(
                builder().key(version(seq, "p")),
                Bytes::from(vec![b' '; 1_000]),
            )
            .await;
    }
    cache.sync().await;
    let stats = cache.stats();
    assert!(stats.weighted_bytes <= 10_000, "{stats:?}");
    assert!(stats.entries < 50, "{stats:?}");
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let cache = ResponseCache::new(CacheConfig::default().max_bytes, Duration::from_millis(50));
    let key = builder().key(version(1, "p"));
    cache.insert(key.clone(), Bytes::from_static(b"{}")).await;
    assert!(cache.get(&key).await.is_some());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(cache.get(&key).await.is_none());
}

#[tokio::test]
async fn memory_then_redis_then_compute() {
    use crate::config::RedisConfig;
    use crate::store::shared_cache::testing::redis_url;
    let Some(url) = redis_url() else {
        eprintln!("skipped: OPTIONHUB_TEST_REDIS_URL is not set");
        return;
    };
    let scope = ResponseCache::process_scope();
    let layer = || async {
        SharedCache::connect(RedisConfig::new(url.as_str()), &scope)
            .await
            .ok()
    };
    let key = builder().key(version(7, "p"));
    let first = ResponseCache::default().with_shared(layer().await);
    let computed = first
        .respond(key.clone(), || async {
            Ok((
                builder().key(version(7, "p")),
                Bytes::from_static(b"{\"n\":7}"),
            ))
        })
        .await
        .expect("computes");
    assert_eq!(computed.source, CacheSource::Computed);

    // Another process's memory is empty; Redis has the answer (written in the
    // background, so give it a moment).
    let second = ResponseCache::default().with_shared(layer().await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let (answer, source) = loop {
        if let Some(found) = second.get(&key).await {
            break found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Redis has the entry"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        (&answer.body()[..], source),
        (&b"{\"n\":7}"[..], CacheSource::Redis)
    );
    // The Redis hit filled memory.
    assert_eq!(
        second.get(&key).await.map(|(_, s)| s),
        Some(CacheSource::Memory)
    );
    let stats = second.stats();
    assert_eq!(stats.memory_hits, 1);
    assert_eq!(stats.hits, 2);
    assert_eq!(stats.redis.map(|r| r.state), Some("connected"));
    // A different version is not in any layer.
    assert!(second.get(&builder().key(version(8, "p"))).await.is_none());
}
