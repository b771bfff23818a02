//! What a browser app on another origin, polling over a real network, sees of the API,
//! with a real HTTP client (reqwest) against the real server: CORS preflights on routes
//! and WebSocket routes, the WebSocket `Origin` check, `*` refused in production,
//! gzip/br/zstd answers that decode to the identity body, a cached answer compressed
//! once, and conditional GETs (`ETag`, `If-None-Match` → 304).

use std::collections::HashSet;
use std::io::Read;
use std::time::Duration;

use optionhub::config::{Config, CorsOrigins, FeedSourceConfig, RunMode};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::TestApp;
use crate::common::{admin_token, server_config};
use crate::ws::{WsApp, refused_status, start};

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.com";

/// A server whose market moves slowly (a tick every 1.5 s), so that consecutive
/// requests usually see the same chain, allowing `APP` as an origin.
async fn slow_server(tweak: impl FnOnce(&mut Config) + 'static) -> TestApp {
    start(move |config| {
        config.feed.source = FeedSourceConfig::Simulator {
            seed: 7,
            tick: Duration::from_millis(1_500),
            expiry_weekdays: optionhub::config::ExpiryWeekdays::default(),
        };
        config.server.cors_origins = CorsOrigins::parse(APP).expect("origin");
        tweak(config);
    })
    .await
}

async fn get(url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url).bearer_auth(admin_token());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request")
}

/// The live chain URL of the first underlying's nearest expiry.
async fn chain_url(server: &TestApp) -> String {
    let chains = server.chains().await;
    let (underlying, expiry) = chains[0].split_once(':').expect("chain");
    format!(
        "http://{}/api/v2/options/live?underlying={underlying}&expiry={expiry}",
        server.addr
    )
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip decodes");
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("br decodes");
        }
        "zstd" => out = zstd::stream::decode_all(body).expect("zstd decodes"),
        other => panic!("unexpected coding {other}"),
    }
    out
}

fn value_of(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_and_origins_checked_on_routes_and_websockets() {
    let server = slow_server(|_| {}).await;
    let addr = server.addr;
    let client = reqwest::Client::new();
    for path in ["/api/v2/options/live", "/ws/live", "/fo/summary"] {
        let preflight = client
            .request(reqwest::Method::OPTIONS, format!("http://{addr}{path}"))
            .header("origin", APP)
            .header("access-control-request-method", "GET")
            .header(
                "access-control-request-headers",
                "authorization, if-none-match",
            )
            .send()
            .await
            .expect("preflight");
        assert_eq!(preflight.status(), StatusCode::OK, "{path}");
        let headers = preflight.headers();
        assert_eq!(value_of(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN), APP);
        let allowed = value_of(headers, header::ACCESS_CONTROL_ALLOW_HEADERS).to_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("if-none-match"));
        assert!(value_of(headers, header::ACCESS_CONTROL_ALLOW_METHODS).contains("GET"));
        assert!(
            headers
                .get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
                .is_none()
        );

        let refused = client
            .request(reqwest::Method::OPTIONS, format!("http://{addr}{path}"))
            .header("origin", EVIL)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect("preflight");
        assert!(
            refused
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none(),
            "{path}: {EVIL} is not allowed"
        );
    }
    // An actual cross-origin call: allowed, and the page may read the ETag.
    let answer = get(
        &format!("http://{addr}/api/v2/market/underlyings"),
        &[("origin", APP)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        value_of(answer.headers(), header::ACCESS_CONTROL_ALLOW_ORIGIN),
        APP
    );
    assert!(
        value_of(answer.headers(), header::ACCESS_CONTROL_EXPOSE_HEADERS)
            .to_lowercase()
            .contains("etag")
    );

    // WebSockets: a page from another origin is refused before the upgrade; the
    // allowed origin and a client without `Origin` connect.
    let url = server.ws_url("/ws/live", &admin_token());
    let with_origin = |origin: &str| {
        let mut request = url.clone().into_client_request().expect("request");
        request
            .headers_mut()
            .insert("origin", origin.parse().expect("header"));
        request
    };
    let (status, body) = refused_status(tokio_tungstenite::connect_async(with_origin(EVIL)).await);
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    let mut allowed = tokio_tungstenite::connect_async(with_origin(APP))
        .await
        .expect("the allowed origin connects")
        .0;
    assert_eq!(crate::ws::next_json(&mut allowed).await["type"], "welcome");
    let mut plain = crate::ws::connect(&url).await;
    assert_eq!(crate::ws::next_json(&mut plain).await["type"], "welcome");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_origin_is_refused_in_production_at_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut config = server_config(data.path(), None);
    config.auth.mode = RunMode::Production;
    config.server.cors_origins = CorsOrigins::Any;
    let error = optionhub::server::start(config)
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("OPTIONHUB_CORS_ORIGINS=*") && error.contains("production"),
        "{error}"
    );
}

/// Identity and compressed answers of `url` with the same ETag, for each coding.
async fn same_entity_in_each_coding(url: &str) {
    for coding in ["gzip", "br", "zstd"] {
        let mut tries = 0;
        loop {
            let plain = get(url, &[]).await;
            let tag = value_of(plain.headers(), header::ETAG).to_string();
            let identity = plain.bytes().await.expect("body");
            let packed = get(url, &[("accept-encoding", coding)]).await;
            assert_eq!(packed.status(), StatusCode::OK);
            let headers = packed.headers().clone();
            assert_eq!(value_of(&headers, header::CONTENT_ENCODING), coding);
            assert!(
                value_of(&headers, header::VARY)
                    .to_lowercase()
                    .contains("accept-encoding")
            );
            let body = packed.bytes().await.expect("body");
            assert!(body.len() * 3 < identity.len(), "{coding} compresses");
            if value_of(&headers, header::ETAG) == tag {
                assert_eq!(decode(coding, &body), identity, "{coding}");
                break;
            }
            tries += 1;
            assert!(tries < 20, "the chain never held still for two requests");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_coding_decodes_to_the_identity_body_and_cached_answers_compress_once() {
    let server = slow_server(|_| {}).await;
    let url = chain_url(&server).await;
    same_entity_in_each_coding(&url).await;

    // An uncached answer (compressed per request by the layer) decodes too.
    let docs = format!("http://{}/openapi.json", server.addr);
    let identity = get(&docs, &[]).await.bytes().await.expect("body");
    for coding in ["gzip", "br", "zstd"] {
        let packed = get(
            &docs,
            &[("accept-encoding", &format!("identity;q=0.5, {coding}"))],
        )
        .await;
        assert_eq!(value_of(packed.headers(), header::CONTENT_ENCODING), coding);
        let body = packed.bytes().await.expect("body");
        assert_eq!(decode(coding, &body), identity, "{coding}");
    }
    // q-values decide; a client that accepts nothing compressed gets identity.
    let preferred = get(
        &url,
        &[("accept-encoding", "gzip;q=0.2, zstd;q=0.9, br;q=0")],
    )
    .await;
    assert_eq!(
        value_of(preferred.headers(), header::CONTENT_ENCODING),
        "zstd"
    );
    let refusing = get(&url, &[("accept-encoding", "gzip;q=0, identity")]).await;
    assert!(refusing.headers().get(header::CONTENT_ENCODING).is_none());
    let small = get(
        &format!("http://{}/no/such/route", server.addr),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert!(
        small.headers().get(header::CONTENT_ENCODING).is_none(),
        "tiny bodies stay as they are"
    );

    // Compressed once per cache entry and coding, however many clients ask.
    let cache = &server.state.cache;
    let before = cache.stats().compressions;
    let mut entities = HashSet::new();
    let mut answers = 0;
    for _ in 0..6 {
        for coding in ["gzip", "br"] {
            let response = get(&url, &[("accept-encoding", coding)]).await;
            assert_eq!(
                value_of(response.headers(), header::CONTENT_ENCODING),
                coding
            );
            entities.insert((
                value_of(response.headers(), header::ETAG).to_string(),
                coding,
            ));
            answers += 1;
        }
    }
    let built = cache.stats().compressions - before;
    assert!(
        built <= entities.len() as u64,
        "{built} compressions for {} distinct entity/coding pairs",
        entities.len()
    );
    assert!(
        entities.len() < answers,
        "the chain changed on every request; nothing was reused"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_can_be_turned_off() {
    let server = slow_server(|config| config.server.compression = false).await;
    let url = chain_url(&server).await;
    let answer = get(&url, &[("accept-encoding", "gzip, br, zstd")]).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.headers().get(header::CONTENT_ENCODING).is_none());
    let docs = format!("http://{}/openapi.json", server.addr);
    let answer = get(&docs, &[("accept-encoding", "gzip")]).await;
    assert!(answer.headers().get(header::CONTENT_ENCODING).is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_is_answered_304_until_the_chain_changes() {
    let server = slow_server(|_| {}).await;
    let url = chain_url(&server).await;
    let mut tries = 0;
    let tag = loop {
        let first = get(&url, &[]).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = value_of(first.headers(), header::ETAG).to_string();
        assert!(tag.starts_with("W/\""), "a weak tag: {tag}");
        let again = get(
            &url,
            &[("if-none-match", &tag), ("accept-encoding", "gzip")],
        )
        .await;
        if again.status() == StatusCode::NOT_MODIFIED {
            assert_eq!(value_of(again.headers(), header::ETAG), tag);
            assert!(again.bytes().await.expect("body").is_empty());
            break tag;
        }
        tries += 1;
        assert!(tries < 20, "the chain never held still for two requests");
    };
    // `*` and lists match by weak comparison.
    let star = get(&url, &[("if-none-match", "*")]).await;
    assert_eq!(star.status(), StatusCode::NOT_MODIFIED);
    let strong = tag.trim_start_matches("W/");
    let listed = format!("\"nope\", {strong}");
    let list = get(&url, &[("if-none-match", &listed)]).await;
    assert!(
        list.status() == StatusCode::NOT_MODIFIED || value_of(list.headers(), header::ETAG) != tag,
        "a listed tag matches unless the chain moved"
    );
    // The market moves: a new tag and the body.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let polled = get(&url, &[("if-none-match", &tag)]).await;
        if polled.status() == StatusCode::OK {
            let new_tag = value_of(polled.headers(), header::ETAG).to_string();
            assert_ne!(new_tag, tag);
            let chain: serde_json::Value = polled.json().await.expect("json");
            assert!(chain["strikes"].as_array().is_some_and(|s| !s.is_empty()));
            break;
        }
        assert_eq!(polled.status(), StatusCode::NOT_MODIFIED);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the chain never changed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_answers_are_tagged_and_answered_304_too() {
    let server = TestApp::builder()
        .plugins(&["greeks-black76", "oi-analytics"])
        .configure(|config| {
            config.feed.underlyings = vec!["NIFTY".into()];
            if let FeedSourceConfig::Simulator { tick, .. } = &mut config.feed.source {
                *tick = Duration::from_millis(1_500);
            }
        })
        .start()
        .await;
    let chain = chain_url(&server).await;
    let summary = chain.replace("/api/v2/options/live", "/fo/summary");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = get(&summary, &[]).await;
        let status = answer.status();
        let tag = value_of(answer.headers(), header::ETAG).to_string();
        if status == StatusCode::OK {
            assert!(tag.starts_with("W/\""), "{tag}");
            let chain_tag = value_of(get(&chain, &[]).await.headers(), header::ETAG).to_string();
            assert_ne!(tag, chain_tag, "another route, another tag");
            let again = get(&summary, &[("if-none-match", &tag)]).await;
            if again.status() == StatusCode::NOT_MODIFIED {
                assert_eq!(value_of(again.headers(), header::ETAG), tag);
                break;
            }
        } else {
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "Greeks not ready yet"
            );
        }
        assert!(tokio::time::Instant::now() < deadline, "no 304 within 30 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    server.stop().await;
}

/// The document's list of conditional routes is what the server does: each of them tags
/// its 200 with a weak `ETag`, and a route outside the list does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_documented_conditional_routes_send_etags() {
    let server = TestApp::builder()
        .plugins(&["greeks-black76", "oi-analytics", "gamma-exposure"])
        .configure(|config| {
            config.feed.underlyings = vec!["NIFTY".into()];
        })
        .start()
        .await;
    let chain_url = chain_url(&server).await;
    let query = chain_url
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    // A contract at the money, subscribed in Full mode, for the depth route.
    let chain: serde_json::Value = get(&chain_url, &[]).await.json().await.expect("chain");
    let spot = chain["spot"].as_f64().unwrap_or(0.0);
    let atm_call = chain["strikes"]
        .as_array()
        .and_then(|rows| {
            rows.iter().min_by(|a, b| {
                let distance = |row: &serde_json::Value| {
                    (row["strike"].as_f64().unwrap_or(f64::MAX) - spot).abs()
                };
                distance(a).total_cmp(&distance(b))
            })
        })
        .and_then(|row| row["call"]["security_id"].as_u64())
        .expect("an at-the-money call");
    let base = server.base().to_owned();
    for path in optionhub::api::contract::CONDITIONAL {
        let url = match path {
            "/fo/depth" => format!("{base}{path}?security_id={atm_call}"),
            _ => format!(
                "{base}{}?{query}",
                path.replace("{plugin}", "gamma-exposure")
            ),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let answer = loop {
            let answer = get(&url, &[]).await;
            if answer.status() == StatusCode::OK {
                break answer;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{url}: {} for 30 s",
                answer.status()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let tag = value_of(answer.headers(), header::ETAG);
        assert!(tag.starts_with("W/\""), "{path}: ETag {tag:?}");
    }
    let underlyings = get(&format!("{base}/api/v2/market/underlyings"), &[]).await;
    assert_eq!(underlyings.status(), StatusCode::OK);
    assert!(underlyings.headers().get(header::ETAG).is_none());
    server.stop().await;
}
