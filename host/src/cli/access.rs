//! Command-line arguments of who may do what, and how much: tokens, rate limits (with
//! the client address behind trusted proxies and the request deadlines), and the
//! WebSocket API's limits.

use std::time::Duration;

use super::env_aliases::{Resolved, Wanted};
use crate::config::{
    AuthConfig, JwtKeys, RateLimitConfig, RunMode, TierLimits, TrustedProxies, WsConfig,
    parse_route_limits,
};
use clap::Args;
use std::path::PathBuf;

/// Access tokens.
#[derive(Clone, Args)]
pub struct AuthArgs {
    /// `development` generates a JWT secret when none is set (with a warning) and prints
    /// a token for the dev user; `production` refuses to start without real keys.
    /// Default: `ENVIRONMENT` (`production`/`development`) when set, else development.
    #[arg(long, env = "OPTIONHUB_MODE", value_enum)]
    pub mode: Option<RunMode>,
    /// HS256 secret (at least 32 bytes in production); `JWT_SECRET_KEY` is read when
    /// this is unset.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// RS256 instead of HS256: the public key (PEM) that checks tokens.
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE")]
    pub jwt_public_key: Option<PathBuf>,
    /// RS256: the private key (PEM) that signs them (without it, login is unavailable).
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE", requires = "jwt_public_key")]
    pub jwt_private_key: Option<PathBuf>,
    #[arg(long, env = "JWT_ISSUER", default_value = "optionhub")]
    pub jwt_issuer: String,
    #[arg(long, env = "JWT_AUDIENCE", default_value = "optionhub-api")]
    pub jwt_audience: String,
    /// Lifetime of issued access tokens, seconds.
    #[arg(long, env = "JWT_TTL_SECS", default_value_t = 12 * 3600)]
    pub jwt_ttl_secs: u64,
    /// Serve market data (underlyings, chains, analytics, `/ws/live` chain channels)
    /// without a token, rate limited by client address. Strategies, accounts and admin
    /// always need one.
    #[arg(long, env = "OPTIONHUB_PUBLIC_MARKET_DATA")]
    pub public_market_data: bool,
}

impl std::fmt::Debug for AuthArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthArgs")
            .field("mode", &self.mode)
            .field(
                "jwt_secret",
                &crate::config::redacted(self.jwt_secret.as_ref()),
            )
            .field("jwt_public_key", &self.jwt_public_key)
            .field("jwt_private_key", &self.jwt_private_key)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("jwt_ttl_secs", &self.jwt_ttl_secs)
            .field("public_market_data", &self.public_market_data)
            .finish()
    }
}

impl AuthArgs {
    /// Which settings of these the old names may supply (the ones not given).
    pub(super) fn wanted(&self) -> Wanted {
        Wanted {
            // RS256 keys need no shared secret.
            jwt_secret: self.jwt_public_key.is_none()
                && self.jwt_secret.as_deref().is_none_or(str::is_empty),
            mode: self.mode.is_none(),
            ..Wanted::default()
        }
    }

    /// Takes what the old names supplied.
    pub(super) fn take(&mut self, resolved: &mut Resolved) {
        if let Some(secret) = resolved.jwt_secret.take() {
            self.jwt_secret = Some(secret);
        }
        if let Some(mode) = resolved.mode.take() {
            self.mode = Some(mode);
        }
    }

    pub(super) fn config(&self) -> AuthConfig {
        let keys = match &self.jwt_public_key {
            Some(public_pem) => JwtKeys::Rs256 {
                public_pem: public_pem.clone(),
                private_pem: self.jwt_private_key.clone(),
            },
            None => JwtKeys::Hs256 {
                secret: self.jwt_secret.clone().filter(|s| !s.is_empty()),
            },
        };
        AuthConfig {
            mode: self.mode.unwrap_or(RunMode::Development),
            keys,
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            token_ttl: Duration::from_secs(self.jwt_ttl_secs.max(60)),
            leeway: Duration::from_secs(30),
            dev_user: None,
            public_market_data: self.public_market_data,
        }
    }
}

/// Request budgets, connection caps, password-hash concurrency, trusted proxies and
/// request deadlines.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Requests per minute per free-tier user (or anonymous address).
    #[arg(long, env = "OPTIONHUB_RATE_FREE", default_value_t = 100)]
    pub rate_free: u32,
    /// Requests per minute per pro-tier user.
    #[arg(long, env = "OPTIONHUB_RATE_PRO", default_value_t = 1000)]
    pub rate_pro: u32,
    /// Per-route overrides: `PREFIX=FREE:PRO,…` (e.g. `/fo=60:600`).
    #[arg(long, env = "OPTIONHUB_RATE_ROUTES", default_value = "", value_parser = parse_routes)]
    pub rate_routes: RouteLimits,
    /// Login attempts per minute per client address.
    #[arg(long, env = "OPTIONHUB_RATE_LOGIN", default_value_t = 10)]
    pub rate_login: u32,
    /// WebSocket channels per connection, free tier.
    #[arg(long, env = "OPTIONHUB_WS_CHANNELS_FREE", default_value_t = 20)]
    pub ws_channels_free: usize,
    /// WebSocket channels per connection, pro tier.
    #[arg(long, env = "OPTIONHUB_WS_CHANNELS_PRO", default_value_t = 200)]
    pub ws_channels_pro: usize,
    /// Login attempts per minute per user name, from any address.
    #[arg(long, env = "OPTIONHUB_RATE_LOGIN_USER", default_value_t = 10)]
    pub rate_login_user: u32,
    /// WebSocket connections one free-tier user may hold at once.
    #[arg(long, env = "OPTIONHUB_WS_CONNECTIONS_FREE", default_value_t = 5)]
    pub ws_connections_free: usize,
    /// WebSocket connections one pro-tier user may hold at once.
    #[arg(long, env = "OPTIONHUB_WS_CONNECTIONS_PRO", default_value_t = 50)]
    pub ws_connections_pro: usize,
    /// Password hashes computed at once (logins beyond wait); 0: one per core.
    #[arg(long, env = "OPTIONHUB_PASSWORD_HASH_CONCURRENCY", default_value_t = 0)]
    pub password_hash_concurrency: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: `CIDR,...` (none by default).
    #[arg(long, env = "OPTIONHUB_TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,
    /// A request not answered within this many seconds gets 503 `request_timeout`.
    #[arg(long, env = "OPTIONHUB_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// The same for plugin uploads.
    #[arg(long, env = "OPTIONHUB_UPLOAD_TIMEOUT_SECS", default_value_t = 120)]
    pub upload_timeout_secs: u64,
}

/// Parsed `--rate-routes`.
#[derive(Debug, Clone, Default)]
pub struct RouteLimits(pub Vec<(String, TierLimits)>);

fn parse_routes(text: &str) -> Result<RouteLimits, String> {
    parse_route_limits(text).map(RouteLimits)
}

impl LimitArgs {
    pub(super) fn config(&self) -> RateLimitConfig {
        RateLimitConfig {
            default: TierLimits {
                free_per_minute: self.rate_free.max(1),
                pro_per_minute: self.rate_pro.max(1),
            },
            routes: self.rate_routes.0.clone(),
            login_per_minute: self.rate_login.max(1),
            ws_channels_free: self.ws_channels_free,
            ws_channels_pro: self.ws_channels_pro,
            login_per_user_per_minute: self.rate_login_user.max(1),
            ws_connections_free: self.ws_connections_free.max(1),
            ws_connections_pro: self.ws_connections_pro.max(1),
            password_hash_concurrency: self.password_hash_concurrency,
        }
    }

    /// The request deadline, seconds (at least one).
    pub(super) fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs.max(1))
    }

    /// The plugin-upload deadline, never shorter than the request deadline.
    pub(super) fn upload_timeout(&self) -> Duration {
        Duration::from_secs(self.upload_timeout_secs).max(self.request_timeout())
    }
}

/// The WebSocket API (`/ws/live`, `/ws/fo/stream`).
#[derive(Debug, Clone, Args)]
pub struct WsArgs {
    /// Bytes one WebSocket client may have queued before it counts as a slow consumer.
    #[arg(long, env = "OPTIONHUB_WS_QUEUE_BYTES", default_value_t = 1 << 20)]
    pub ws_queue_bytes: usize,
    /// A WebSocket write stalled this long (ms) disconnects the client (close 4008).
    #[arg(long, env = "OPTIONHUB_WS_WRITE_DEADLINE_MS", default_value_t = 5000)]
    pub ws_write_deadline_ms: u64,
    /// Seconds between server pings; 2.5 times this without a frame closes (4012).
    #[arg(long, env = "OPTIONHUB_WS_HEARTBEAT_SECS", default_value_t = 20)]
    pub ws_heartbeat_secs: u64,
    /// A channel publishes at most once per this many milliseconds (latest wins).
    #[arg(long, env = "OPTIONHUB_WS_PUBLISH_MS", default_value_t = 200)]
    pub ws_publish_ms: u64,
    /// Bytes read from a WebSocket client at a time (held only while reading).
    #[arg(long, env = "OPTIONHUB_WS_READ_BUFFER_BYTES", default_value_t = 4096)]
    pub ws_read_buffer_bytes: usize,
    /// Messages per second one WebSocket client may send, on average.
    #[arg(long, env = "OPTIONHUB_WS_CLIENT_RATE", default_value_t = 20)]
    pub ws_client_rate: u32,
    /// Messages one WebSocket client may send at once above the average (and refusals
    /// it may collect before it is closed with 1008).
    #[arg(long, env = "OPTIONHUB_WS_CLIENT_BURST", default_value_t = 40)]
    pub ws_client_burst: u32,
    /// Compress WebSocket messages (permessage-deflate) for clients that offer it; each
    /// publication is compressed once for all its subscribers. `false` turns it off.
    #[arg(long, env = "OPTIONHUB_WS_DEFLATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub ws_deflate: bool,
    /// Writer shards: the tasks that write to every WebSocket connection. 0 means one
    /// per core.
    #[arg(long, env = "OPTIONHUB_WS_WRITERS", default_value_t = 0)]
    pub ws_writers: usize,
}

impl WsArgs {
    pub(super) fn config(&self) -> WsConfig {
        WsConfig {
            queue_bytes: self.ws_queue_bytes.max(1024),
            write_deadline: Duration::from_millis(self.ws_write_deadline_ms.max(10)),
            heartbeat: Duration::from_secs(self.ws_heartbeat_secs.max(1)),
            publish_interval: Duration::from_millis(self.ws_publish_ms),
            read_buffer_bytes: self.ws_read_buffer_bytes.max(256),
            client_messages_per_sec: self.ws_client_rate.max(1),
            client_message_burst: self.ws_client_burst.max(1),
            deflate: self.ws_deflate,
            writers: self.ws_writers,
        }
    }
}
