//! The F&O analytics routes on the real server: the simulator feeding two underlyings,
//! the bundled plugins loaded from a directory, a real HTTP client. Every answer is
//! checked against what another route (usually the live chain at the same sequence
//! number) says independently ([`chain`], [`trading`]), the response cache is seen to
//! hit while the chain stands still, and malformed input everywhere is a JSON 4xx, never
//! a 500 ([`malformed`]). This file is the harness the three share.

mod chain;
mod malformed;
mod trading;

use std::time::{Duration, Instant};

use optionhub::config::FeedSourceConfig;
use serde_json::Value;

use crate::common::TestApp;

const BUNDLED: [&str; 4] = [
    "greeks-black76",
    "oi-analytics",
    "strategy-valuation",
    "gamma-exposure",
];

/// A response: status, `x-cache` header, JSON body.
struct Answer {
    status: u16,
    cache: String,
    body: Value,
}

/// NIFTY and BANKNIFTY with the bundled plugins. Slow ticks leave the chains standing
/// still between bursts, so answers taken one after another can be compared at one
/// sequence number.
async fn start() -> TestApp {
    TestApp::builder()
        .plugins(&BUNDLED)
        .configure(|config| {
            config.feed.underlyings = vec!["NIFTY".into(), "BANKNIFTY".into()];
            if let FeedSourceConfig::Simulator { tick, .. } = &mut config.feed.source {
                *tick = Duration::from_millis(700);
            }
        })
        .start()
        .await
}

/// The F&O tests' requests: answers with their `x-cache` header.
trait FoApp {
    async fn get(&self, path: &str) -> Answer;
    async fn post(&self, path: &str, body: &str, json_type: bool) -> Answer;
    async fn evaluate(&self, body: &Value) -> Answer;
    async fn ready_chain(&self, underlying: &str) -> String;
}

impl FoApp for TestApp {
    async fn get(&self, path: &str) -> Answer {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(crate::common::admin_token())
            .send()
            .await
            .expect("request");
        answer(response).await
    }

    async fn post(&self, path: &str, body: &str, json_type: bool) -> Answer {
        let mut request = reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(crate::common::admin_token())
            .body(body.to_string());
        if json_type {
            request = request.header("content-type", "application/json");
        }
        answer(request.send().await.expect("request")).await
    }

    async fn evaluate(&self, body: &Value) -> Answer {
        self.post("/api/v2/strategies/evaluate", &body.to_string(), true)
            .await
    }

    /// The first expiry of `underlying` that is not today (so nothing has expired),
    /// once its chain has Greeks and the OI plugin answers.
    async fn ready_chain(&self, underlying: &str) -> String {
        let expiries = self
            .get(&format!("/api/v2/options/expiries?underlying={underlying}"))
            .await
            .body;
        let today = time::OffsetDateTime::now_utc().date().to_string();
        let expiry = expiries["expiries"]
            .as_array()
            .expect("expiries")
            .iter()
            .filter_map(|e| e["date"].as_str())
            .find(|d| *d != today)
            .expect("a future expiry")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let summary = self
                .get(&format!(
                    "/fo/summary?underlying={underlying}&expiry={expiry}"
                ))
                .await;
            if summary.status == 200 {
                return expiry;
            }
            assert_eq!(summary.status, 503, "{}", summary.body);
            assert!(
                Instant::now() < deadline,
                "no Greeks for {underlying} {expiry}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text}"));
    Answer {
        status,
        cache,
        body,
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}
