//! Typed configuration, one struct per concern, read from the command line and the
//! environment in exactly one place ([`crate::cli`]).
//!
//! Every option is also an environment variable (`.env` is read when present), and every
//! default lives here so that `optionhub serve` with nothing set runs the embedded setup.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod api;
mod cache;
mod history;
mod http;
mod portfolio;
mod ws;

pub use api::TrustedProxies;
pub use api::{
    AuthConfig, JwtKeys, RateLimitConfig, RunMode, StoreConfig, TierLimits, parse_route_limits,
};
pub use cache::{CacheConfig, RedisConfig};
pub use history::HistoryConfig;
pub use http::CorsOrigins;
pub use portfolio::{PortfolioConfig, Quotas};
pub use ws::WsConfig;

/// A database or Redis URL with its credentials hidden, for logs and errors. The host
/// follows the *last* `@`, so a password containing `@` is hidden whole.
pub(crate) fn redact_url(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((credentials, host)) => {
            let scheme = credentials
                .split_once("://")
                .map_or("db", |(scheme, _)| scheme);
            format!("{scheme}://<redacted>@{host}")
        }
        None => url.to_string(),
    }
}

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

/// The per-call sandbox of every plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Cap on a plugin instance's linear memory; growing past it traps.
    pub memory_bytes: usize,
    /// Wall-clock budget of one call, enforced by epoch interruption.
    pub deadline: Duration,
    /// Cap on the size of what one call returns (bytes of list and string payload).
    pub max_result_bytes: usize,
    /// Cap on the stdout + stderr kept from one call; the rest is dropped, not an error.
    pub max_log_bytes: usize,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_millis(100),
            max_result_bytes: 16 << 20,
            max_log_bytes: 16 << 10,
        }
    }
}

/// Default [`PluginConfig::call_slots`]: far more than a few cores can keep busy, and
/// only address space (about 8 GiB of reservation per slot), not memory, until used.
pub const DEFAULT_CALL_SLOTS: usize = 64;

/// Default [`PluginConfig::slot_wait`]: ten generations of calls at the default 100 ms
/// deadline; a host still saturated after that is better answered "busy" than queued.
pub const DEFAULT_SLOT_WAIT: Duration = Duration::from_millis(DEFAULT_SLOT_WAIT_MS);
/// [`DEFAULT_SLOT_WAIT`] in milliseconds, as the command line takes it.
pub const DEFAULT_SLOT_WAIT_MS: u64 = 1000;

/// The plugin runtime: where plugins come from and how they are policed.
#[derive(Debug, Clone)]
pub struct PluginConfig {
    /// The watched directory; `None` runs with no directory (plugins arrive by API).
    pub dir: Option<PathBuf>,
    /// Where precompiled artifacts are cached; `None` compiles in memory every time.
    pub cache_dir: Option<PathBuf>,
    pub limits: SandboxLimits,
    /// Limits for the load-time self-test.
    pub self_test_limits: SandboxLimits,
    /// Consecutive failed calls (traps, timeouts, limit breaches) after which a version is
    /// quarantined and the previous good version serves again.
    pub quarantine_after: u32,
    /// Previous good versions kept per plugin for rollback.
    pub keep_versions: usize,
    /// Plugin calls (and load-time trial calls) that may run at once, each in an instance
    /// slot reserved up front; more wait for a free slot. 0 allocates every instance on
    /// demand instead (slower per call; no bound).
    pub call_slots: usize,
    /// Longest a call waits for a free call slot before it fails with `plugins_busy`.
    pub slot_wait: Duration,
}

impl PluginConfig {
    /// Defaults for a plugin directory and data directory.
    pub fn new(dir: Option<PathBuf>, data: &DataConfig) -> Self {
        Self {
            dir,
            cache_dir: Some(data.plugin_cache_dir()),
            ..Self::in_memory()
        }
    }

    /// A configuration for tests and tools: no directory, no disk cache, default limits.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            cache_dir: None,
            limits: SandboxLimits::default(),
            // The golden inputs are small, but a hostile plugin must not stall a load; a
            // roomier deadline keeps a slow-but-honest plugin from failing its self-test
            // on a busy machine.
            self_test_limits: SandboxLimits {
                deadline: Duration::from_secs(1),
                ..SandboxLimits::default()
            },
            quarantine_after: 5,
            keep_versions: 5,
            call_slots: DEFAULT_CALL_SLOTS,
            slot_wait: DEFAULT_SLOT_WAIT,
        }
    }

    pub fn plugin_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
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

/// Dhan's addresses; every one configurable so tests and the simulator can stand in.
/// Parsed URLs, so nothing downstream builds a request by gluing text together
/// (`feed::dhan::endpoint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhanEndpoints {
    pub feed_url: url::Url,
    pub api_url: url::Url,
    pub scrip_master_url: url::Url,
}

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

/// Subscription tiers around the money (see `market::subscriptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierConfig {
    /// Nearest expiries subscribed per underlying.
    pub expiries: usize,
    /// ATM ± this many strikes in Full mode.
    pub full_strikes: usize,
    /// ATM ± this many in Quote mode (beyond the Full ones).
    pub quote_strikes: usize,
    /// ATM ± this many in all; the rest of them in Ticker mode.
    pub range_strikes: usize,
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            expiries: 2,
            full_strikes: 5,
            quote_strikes: 15,
            range_strikes: 40,
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

/// Chains a client asks for beyond the nearest `tiers.expiries`: subscribed in Quote
/// mode around the money while asked for, and released when nobody has asked for a
/// while; served from Dhan's REST option chain until the feed has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDemandConfig {
    /// ATM ± this many strikes subscribed (fewer when the budget is short).
    pub strikes: usize,
    /// A chain nobody asked for in this long is unsubscribed.
    pub idle: Duration,
}

impl Default for OnDemandConfig {
    fn default() -> Self {
        Self {
            strikes: 15,
            idle: Duration::from_secs(300),
        }
    }
}

impl FeedConfig {
    /// The default underlyings.
    pub fn default_underlyings() -> Vec<String> {
        ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"]
            .map(String::from)
            .to_vec()
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

/// Dhan credentials. `Debug` never shows the token; nothing logs it.
#[derive(Clone, PartialEq, Eq)]
pub struct DhanCredentials {
    client_id: String,
    access_token: String,
}

impl DhanCredentials {
    pub fn new(client_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            access_token: access_token.into(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

impl std::fmt::Debug for DhanCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhanCredentials")
            .field("client_id", &self.client_id)
            .field("access_token", &"<redacted>")
            .finish()
    }
}
