//! Typed configuration, one struct per concern, read from the command line and the
//! environment in exactly one place ([`crate::cli`]).
//!
//! Every option is also an environment variable (`.env` is read when present), and every
//! default lives here so that `optionhub serve` with nothing set runs the embedded setup.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

mod cache;
mod history;
mod portfolio;

pub use auth::{AuthConfig, JwtKeys, RunMode};
pub use cache::{CacheConfig, RedisConfig};
pub use history::HistoryConfig;
pub use portfolio::{PortfolioConfig, Quotas};
pub use store::{StoreConfig, redact_url};
pub use ws::WsConfig;
// Each layer owns its configuration; this module composes them.
pub use dhan::{DhanCredentials, DhanEndpoints};
pub use edge::{CorsOrigins, RateLimitConfig, TierLimits, TrustedProxies, parse_route_limits};
pub use market::{OnDemandConfig, TierConfig};
pub use plugin_host::config::{
    DEFAULT_CALL_SLOTS, DEFAULT_SLOT_WAIT, DEFAULT_SLOT_WAIT_MS, PluginConfig, SandboxLimits,
};
/// How `Debug` shows an optional secret: whether one is set, never its value.
pub(crate) fn redacted(secret: Option<&String>) -> Option<&'static str> {
    secret.map(|_| "<redacted>")
}

/// Where the HTTP server listens.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// When set, `/metrics` is served here instead of on the public address.
    pub metrics_listen: Option<SocketAddr>,
    /// Largest request body accepted, bytes (plugin uploads have their own cap).
    pub max_body_bytes: usize,
    /// Development mode relaxes the keys (a generated JWT secret, a printed admin token):
    /// safe on loopback only, so a non-loopback `listen` in development is refused unless
    /// this is set.
    pub allow_dev_on_network: bool,
    /// Proxies whose `X-Forwarded-For` is believed (none by default).
    pub trusted_proxies: TrustedProxies,
    /// A request not answered within this is answered 503 `request_timeout`.
    pub request_timeout: Duration,
    /// The same for plugin uploads (up to 32 MiB over a slow link).
    pub upload_timeout: Duration,
    /// Other origins whose pages may call the API (CORS, WebSocket `Origin`).
    pub cors_origins: CorsOrigins,
    /// Compress answers (gzip, br, zstd) for clients that accept it.
    pub compression: bool,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr) -> Self {
        Self {
            listen,
            metrics_listen: None,
            max_body_bytes: 256 << 10,
            allow_dev_on_network: false,
            trusted_proxies: TrustedProxies::default(),
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(120),
            cors_origins: CorsOrigins::None,
            compression: true,
        }
    }
}

/// Where everything written at run time goes (database, caches, compiled plugins).
#[derive(Debug, Clone)]
pub struct DataConfig {
    pub dir: PathBuf,
}

impl DataConfig {
    /// Precompiled plugin artifacts, keyed by content and engine.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.dir.join("plugin-cache")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Everything `optionhub serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub data: DataConfig,
    pub plugins: PluginConfig,
    pub feed: FeedConfig,
    pub chains: ChainsConfig,
    pub auth: AuthConfig,
    pub limits: RateLimitConfig,
    pub store: StoreConfig,
    pub ws: WsConfig,
    pub history: HistoryConfig,
    pub cache: CacheConfig,
    pub portfolio: PortfolioConfig,
}

/// Dhan's live feed, as Dhan documents it (no path: the client adds `/`).
pub const DEFAULT_DHAN_FEED_URL: &str = "wss://api-feed.dhan.co";
/// Dhan's REST API; endpoint paths (`/v2/…`) are appended to it.
pub const DEFAULT_DHAN_API_URL: &str = "https://api.dhan.co";
/// Dhan's detailed scrip master.
pub const DEFAULT_DHAN_SCRIP_MASTER_URL: &str =
    "https://images.dhan.co/api-data/api-scrip-master-detailed.csv";

/// Where market data comes from.
#[derive(Debug, Clone)]
pub enum FeedSourceConfig {
    /// Dhan itself, with credentials.
    Dhan {
        credentials: DhanCredentials,
        /// Boxed: three parsed URLs would make every variant this large.
        endpoints: Box<DhanEndpoints>,
    },
    /// The built-in simulator, started in-process on a free loopback port.
    Simulator {
        seed: u64,
        tick: Duration,
        expiry_weekdays: ExpiryWeekdays,
    },
    /// A recording, played back.
    Replay {
        file: PathBuf,
        speed_factor: Option<f64>,
    },
}

/// The weekdays index options expire on, per exchange (weekly series on that day,
/// monthly on the last such day of the month). Exchanges move these by circular; the
/// simulator follows whatever is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiryWeekdays {
    pub nse: time::Weekday,
    pub bse: time::Weekday,
}

impl Default for ExpiryWeekdays {
    fn default() -> Self {
        Self {
            nse: time::Weekday::Tuesday,
            bse: time::Weekday::Thursday,
        }
    }
}

/// The feed: source, recording, underlyings, subscription tiers and timings.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    pub source: FeedSourceConfig,
    /// Write every raw frame to this file.
    pub record: Option<PathBuf>,
    pub underlyings: Vec<String>,
    pub tiers: TierConfig,
    /// Seconds to subtract from the feed's trade times to get UTC (Dhan sends IST
    /// wall-clock time as epoch seconds).
    pub ltt_shift_secs: i64,
    /// No message for this long means the feed has stalled.
    pub inactivity_timeout: Duration,
    /// First reconnect delay; doubles up to `backoff_max`.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Gap between two option-chain refreshes (they cycle through the chains).
    pub rest_refresh_every: Duration,
    /// A cached scrip master younger than this is used without fetching.
    pub scrip_master_max_age: Duration,
    /// Trading days and hours (IST), and whether the simulator ignores them.
    pub session: crate::calendar::SessionRules,
    /// Where "now" comes from: the system clock, or a test's.
    pub clock: crate::calendar::SharedClock,
    /// Chains beyond the tier expiries, brought live while clients ask for them.
    pub on_demand: OnDemandConfig,
}

impl FeedConfig {
    /// The default underlyings.
    pub fn default_underlyings() -> Vec<String> {
        market::DEFAULT_UNDERLYINGS.map(String::from).to_vec()
    }

    /// Defaults around a source.
    pub fn new(source: FeedSourceConfig) -> Self {
        Self {
            source,
            record: None,
            underlyings: Self::default_underlyings(),
            tiers: TierConfig::default(),
            ltt_shift_secs: 19_800,
            inactivity_timeout: Duration::from_secs(30),
            backoff_initial: Duration::from_secs(5),
            backoff_max: Duration::from_secs(120),
            rest_refresh_every: Duration::from_secs(3),
            scrip_master_max_age: Duration::from_secs(24 * 3600),
            session: crate::calendar::SessionRules::default(),
            clock: crate::calendar::clock::system(),
            on_demand: OnDemandConfig::default(),
        }
    }
}

/// Live chains and their Greeks.
#[derive(Debug, Clone, Copy)]
pub struct ChainsConfig {
    /// A chain's Greeks are recomputed at most once per window.
    pub greeks_window: Duration,
    /// Risk-free rate for the Greeks model.
    pub rate: f64,
}

impl Default for ChainsConfig {
    fn default() -> Self {
        Self {
            greeks_window: Duration::from_millis(250),
            rate: 0.065,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_never_show_in_debug() {
        use super::{JwtKeys, StoreConfig};

        let keys = JwtKeys::Hs256 {
            secret: Some("super-secret-value".into()),
        };
        assert!(!format!("{keys:?}").contains("super-secret"));
        let store = StoreConfig::new("postgres://user:hunter2@db:5432/x");
        assert!(!format!("{store:?}").contains("hunter2"));
    }
}
