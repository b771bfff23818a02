//! [`RouteFixture`]: the whole API router over a market at rest. NIFTY's simulated
//! universe with empty books (so chains exist but nothing is priced), a plugin host with
//! no plugins, a fresh SQLite database, development tokens, recording off.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::api::{self, ApiServices, ApiSettings, AppState, RateLimits};
use crate::auth::{Principal, Role, Tier};
use crate::config::{AuthConfig, HistoryConfig, PluginConfig, RateLimitConfig, WsConfig};
use crate::feed::sim::universe::{SimUniverseConfig, build_universe};
use crate::feed::status::{FeedSource, FeedStatus};
use crate::history::{self, ChainHistory};
use crate::instruments::registry::InstrumentRegistry;
use crate::market::MarketState;
use crate::pipeline::MarketPipeline;
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::LiveGreeks;
use crate::portfolio::M2mHub;
use crate::store::{Store, StoreConfig};

const JWT_SECRET: &str = "in-process-route-tests-secret-of-32+-bytes";

/// The router and the state behind it; the data directory lives as long as it does.
pub(super) struct RouteFixture {
    pub router: Router,
    pub state: AppState,
    _data: tempfile::TempDir,
}

/// One answer: status, headers and the body parsed as JSON (`Null` when empty).
pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl RouteFixture {
    pub(super) async fn new() -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let today = crate::calendar::ist_date(time::OffsetDateTime::now_utc());
        let universe = build_universe(&SimUniverseConfig::default(), today);
        let registry = InstrumentRegistry::build(universe.instruments, &["NIFTY".to_string()])
            .expect("NIFTY's universe builds a registry");
        let market = Arc::new(MarketState::new(
            Arc::new(registry),
            Arc::new(FeedStatus::new(FeedSource::Simulator)),
            19_800,
        ));
        let plugins = PluginHost::new(PluginConfig::in_memory()).expect("plugin host");
        let pipeline = MarketPipeline::at_rest(market, Arc::new(LiveGreeks::default()));
        let store = Store::open(&StoreConfig::sqlite_in(data.path()))
            .await
            .expect("store");
        let auth = AuthConfig::development(Some(JWT_SECRET.into()));
        let tokens = crate::auth::token_service(&auth, data.path()).expect("tokens");
        let sources = history::Sources {
            market: &pipeline.market,
            greeks: &pipeline.greeks,
            plugins: &plugins,
            sim: None,
        };
        let recording_off = HistoryConfig {
            interval: std::time::Duration::ZERO,
            backfill: None,
            ..HistoryConfig::default()
        };
        let services = ApiServices {
            tokens: Arc::new(tokens),
            cache: Arc::new(api::cache::ResponseCache::default()),
            limits: Arc::new(RateLimits::new(&RateLimitConfig::default())),
            history: ChainHistory::start(recording_off, store.clone(), sources),
            store,
            settings: Arc::new(settings()),
            ws: WsConfig::default(),
            m2m: Arc::new(M2mHub::default()),
            sealer: None,
        };
        let state = AppState::new(plugins, &pipeline, services);
        Self {
            router: api::router(state.clone()),
            state,
            _data: data,
        }
    }

    /// A token for `role` (pro tier) that this API accepts.
    pub(super) fn token(&self, role: Role) -> String {
        let principal = Principal {
            user: format!("{role:?}").to_lowercase(),
            role,
            tier: Tier::Pro,
        };
        self.state.tokens.issue(&principal).expect("token")
    }

    /// Sends `request` through the whole router (middleware included).
    pub(super) async fn send(&self, request: Request<Body>) -> Answer {
        let response: Response<Body> = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{status}: not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET path`, with `token` as the bearer when given.
    pub(super) async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }
}

impl Answer {
    /// Asserts the one error shape, `{"error": {"code", "message"}}` and nothing else,
    /// with this status and code; returns the message.
    pub(super) fn error(&self, status: StatusCode, code: &str) -> &str {
        assert_eq!(self.status, status, "{}", self.body);
        let error = self.body["error"]
            .as_object()
            .unwrap_or_else(|| panic!("no error object: {}", self.body));
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(1),
            "{}",
            self.body
        );
        assert_eq!(error.len(), 2, "code and message only: {}", self.body);
        assert_eq!(error["code"], code, "{}", self.body);
        let message = error["message"].as_str().expect("a message");
        assert!(!message.is_empty());
        message
    }
}

/// The server's defaults, as the API sees them.
fn settings() -> ApiSettings {
    let server = crate::config::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    ApiSettings::new(&server, crate::config::Quotas::default(), false)
}
