//! The command line: `optionhub [serve]`, `optionhub sim`, `optionhub plugin check FILE`,
//! `optionhub plugin list`, `optionhub user …`, `optionhub migrate`. This is the one place configuration is read from flags and
//! the environment (every flag has an `OPTIONHUB_*` variable; `.env` is read first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::{Role, Tier};
use crate::config::{
    AuthConfig, CacheConfig, ChainsConfig, Config, DataConfig, DhanCredentials, DhanEndpoints,
    ExpiryWeekdays, FeedConfig, FeedSourceConfig, HistoryConfig, JwtKeys, LogFormat, PluginConfig,
    PortfolioConfig, RateLimitConfig, RedisConfig, RunMode, SandboxLimits, ServerConfig,
    StoreConfig, TierConfig, TierLimits, WsConfig, parse_route_limits,
};
use crate::feed::record::ReplaySpeed;

#[derive(Debug, Parser)]
#[command(
    name = "optionhub",
    version,
    about = "Indian F&O market data with hot-swappable Wasm analytics"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log format.
    #[arg(
        long,
        env = "OPTIONHUB_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Run the DhanHQ simulator on its own (feed WebSocket, REST API, scrip master).
    Sim(SimArgs),
    /// Inspect plugins without running the server.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Manage API users and print access tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// Apply pending database migrations and exit (the server also applies them at start).
    Migrate(MigrateArgs),
}

/// What `optionhub migrate` needs: the database, as `serve` sees it.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl MigrateArgs {
    pub fn config(&self) -> StoreConfig {
        self.store.config(&DataConfig {
            dir: self.data.dir.clone(),
        })
    }
}

/// Saved strategies and accounts.
#[derive(Debug, Clone, Args)]
pub struct PortfolioArgs {
    /// Seconds between M2M valuations of every open saved strategy.
    #[arg(long, env = "OPTIONHUB_M2M_INTERVAL_SECS", default_value_t = 5)]
    pub m2m_interval_secs: u64,
    /// 64 hex digits: the key that encrypts broker credentials at rest (development
    /// generates one in the data directory when unset; production then refuses
    /// credentials).
    #[arg(long, env = "OPTIONHUB_CREDENTIALS_KEY", hide_env_values = true)]
    pub credentials_key: Option<String>,
}

impl PortfolioArgs {
    fn config(&self) -> PortfolioConfig {
        PortfolioConfig {
            m2m_interval: Duration::from_secs(self.m2m_interval_secs.max(1)),
            credentials_key: self.credentials_key.clone().filter(|k| !k.is_empty()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, or change an existing one's role and tier (`--update`).
    Add {
        name: String,
        /// Role of a new user (default viewer); with `--update`, unchanged when omitted.
        #[arg(long, value_enum)]
        role: Option<Role>,
        /// Tier of a new user (default free); with `--update`, unchanged when omitted.
        #[arg(long, value_enum)]
        tier: Option<Tier>,
        /// Read the password from the first line of stdin (without it the user can only
        /// get tokens from `optionhub user token`).
        #[arg(long)]
        password_stdin: bool,
        /// Change the user if it exists instead of failing.
        #[arg(long)]
        update: bool,
        #[command(flatten)]
        common: UserStoreArgs,
    },
    /// Print a fresh access token for a user.
    Token {
        name: String,
        #[command(flatten)]
        common: UserStoreArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        common: UserStoreArgs,
    },
}

/// What the user commands need: the database and the token keys, as `serve` sees them.
#[derive(Debug, Clone, Args)]
pub struct UserStoreArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
}

impl UserStoreArgs {
    pub fn configs(&self) -> (DataConfig, StoreConfig, AuthConfig) {
        let data = DataConfig {
            dir: self.data.dir.clone(),
        };
        let store = self.store.config(&data);
        (data, store, self.auth.config())
    }
}

/// The database.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// `sqlite://FILE` or `postgres://…`; default: `optionhub.db` in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database connection pool size.
    #[arg(long, env = "OPTIONHUB_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,
    /// Seconds to keep retrying an unreachable database at start (0: exit at once).
    #[arg(long, env = "OPTIONHUB_DB_WAIT_SECS", default_value_t = 0)]
    pub db_wait_secs: u64,
}

impl StoreArgs {
    fn config(&self, data: &DataConfig) -> StoreConfig {
        let mut config = match &self.database_url {
            Some(url) if !url.is_empty() => StoreConfig::new(url.as_str()),
            _ => StoreConfig::sqlite_in(&data.dir),
        };
        config.max_connections = self.db_pool.max(1);
        config.connect_wait = Duration::from_secs(self.db_wait_secs);
        config
    }
}

/// Access tokens.
#[derive(Debug, Clone, Args)]
pub struct AuthArgs {
    /// `development` generates a JWT secret when none is set (with a warning) and prints
    /// a token for the dev user; `production` refuses to start without real keys.
    #[arg(
        long,
        env = "OPTIONHUB_MODE",
        value_enum,
        default_value = "development"
    )]
    pub mode: RunMode,
    /// HS256 secret (at least 32 bytes in production).
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
}

impl AuthArgs {
    fn config(&self) -> AuthConfig {
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
            mode: self.mode,
            keys,
            issuer: self.jwt_issuer.clone(),
            audience: self.jwt_audience.clone(),
            token_ttl: Duration::from_secs(self.jwt_ttl_secs.max(60)),
            leeway: Duration::from_secs(30),
            dev_user: None,
        }
    }
}

/// Request budgets.
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
}

/// Parsed `--rate-routes`.
#[derive(Debug, Clone, Default)]
pub struct RouteLimits(pub Vec<(String, TierLimits)>);

fn parse_routes(text: &str) -> Result<RouteLimits, String> {
    parse_route_limits(text).map(RouteLimits)
}

impl LimitArgs {
    fn config(&self) -> RateLimitConfig {
        RateLimitConfig {
            default: TierLimits {
                free_per_minute: self.rate_free.max(1),
                pro_per_minute: self.rate_pro.max(1),
            },
            routes: self.rate_routes.0.clone(),
            login_per_minute: self.rate_login.max(1),
            ws_channels_free: self.ws_channels_free,
            ws_channels_pro: self.ws_channels_pro,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, env = "OPTIONHUB_SIM_LISTEN", default_value = "127.0.0.1:8001")]
    pub listen: SocketAddr,
    /// Seed of the simulated market (same seed, same market).
    #[arg(long, env = "OPTIONHUB_SIM_SEED", default_value_t = 42)]
    pub seed: u64,
    /// Milliseconds between market ticks.
    #[arg(long, env = "OPTIONHUB_SIM_TICK_MS", default_value_t = 250)]
    pub tick_ms: u64,
    /// The client id clients must present.
    #[arg(long, env = "OPTIONHUB_SIM_CLIENT_ID", default_value = "SIMULATOR")]
    pub client_id: String,
    /// The access token clients must present.
    #[arg(
        long,
        env = "OPTIONHUB_SIM_ACCESS_TOKEN",
        default_value = "simulator-token"
    )]
    pub access_token: String,
    /// Stack several packets per WebSocket message (the official SDK expects one).
    #[arg(long, env = "OPTIONHUB_SIM_STACK")]
    pub stack: bool,
    #[command(flatten)]
    pub expiries: SimExpiryArgs,
}

/// The simulator's expiry weekdays.
#[derive(Debug, Clone, Args)]
pub struct SimExpiryArgs {
    /// Weekday NSE index options expire on (weekly, and the month's last for monthly).
    #[arg(long, env = "OPTIONHUB_SIM_NSE_EXPIRY", default_value = "tuesday", value_parser = parse_weekday)]
    pub sim_nse_expiry: time::Weekday,
    /// Weekday BSE index options (SENSEX) expire on.
    #[arg(long, env = "OPTIONHUB_SIM_BSE_EXPIRY", default_value = "thursday", value_parser = parse_weekday)]
    pub sim_bse_expiry: time::Weekday,
}

impl SimExpiryArgs {
    fn weekdays(&self) -> ExpiryWeekdays {
        ExpiryWeekdays {
            nse: self.sim_nse_expiry,
            bse: self.sim_bse_expiry,
        }
    }
}

/// `tue`, `Tuesday`, …
fn parse_weekday(text: &str) -> Result<time::Weekday, String> {
    use time::Weekday::{Friday, Monday, Saturday, Sunday, Thursday, Tuesday, Wednesday};
    let lower = text.trim().to_ascii_lowercase();
    [
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ]
    .into_iter()
    .find(|day| {
        let name = day.to_string().to_ascii_lowercase();
        lower.len() >= 3 && name.starts_with(&lower)
    })
    .ok_or_else(|| format!("{text:?} is not a weekday (mon, tue, … or monday, tuesday, …)"))
}

impl SimArgs {
    pub fn into_config(self) -> crate::feed::sim::SimConfig {
        let mut config = crate::feed::sim::SimConfig::new(
            self.seed,
            DhanCredentials::new(self.client_id, self.access_token),
        );
        config.tick = Duration::from_millis(self.tick_ms.max(1));
        config.stack_packets = self.stack;
        let days = self.expiries.weekdays();
        config.universe = config.universe.with_expiry_weekdays(days.nse, days.bse);
        config
    }
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate a component against the contract and run its self-test.
    Check {
        /// The `.wasm` component.
        file: PathBuf,
    },
    /// Load every plugin in a directory and list what would serve.
    List {
        /// The plugin directory.
        #[arg(long, env = "OPTIONHUB_PLUGINS")]
        plugins: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory for everything written at run time (database, caches, compiled plugins).
    #[arg(long = "data", env = "OPTIONHUB_DATA", default_value = "./data")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OPTIONHUB_LISTEN", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// The watched plugin directory (created if missing).
    #[arg(long, env = "OPTIONHUB_PLUGINS")]
    pub plugins: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Memory cap of one plugin call, MiB.
    #[arg(long, env = "OPTIONHUB_PLUGIN_MEMORY_MIB", default_value_t = 64)]
    pub plugin_memory_mib: usize,
    /// CPU deadline of one plugin call, milliseconds.
    #[arg(long, env = "OPTIONHUB_PLUGIN_DEADLINE_MS", default_value_t = 100)]
    pub plugin_deadline_ms: u64,
    /// Cap on what one plugin call may return, MiB.
    #[arg(long, env = "OPTIONHUB_PLUGIN_MAX_RESULT_MIB", default_value_t = 16)]
    pub plugin_max_result_mib: usize,
    /// Serve `/metrics` on this address instead of the public one.
    #[arg(long, env = "OPTIONHUB_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Largest request body accepted, KiB (plugin uploads have their own cap).
    #[arg(long, env = "OPTIONHUB_MAX_BODY_KIB", default_value_t = 256)]
    pub max_body_kib: usize,
    /// In development mode: make sure this user exists (admin, pro) and print a token.
    #[arg(long, env = "OPTIONHUB_DEV_USER", default_value = "dev")]
    pub dev_user: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub dhan: DhanArgs,
    #[command(flatten)]
    pub feed: FeedArgs,
    #[command(flatten)]
    pub ws: WsArgs,
    #[command(flatten)]
    pub history: HistoryArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
}

/// The response cache: memory, and Redis under it when `REDIS_URL` is set.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// In-memory response cache bound, MiB.
    #[arg(long, env = "OPTIONHUB_CACHE_MIB", default_value_t = 64)]
    pub cache_mib: u64,
    /// `redis://host:port/db`: a second, shared cache layer (optional).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// How long an answer lives in Redis, seconds.
    #[arg(long, env = "OPTIONHUB_REDIS_TTL_SECS", default_value_t = 30)]
    pub redis_ttl_secs: u64,
}

impl CacheArgs {
    fn config(&self) -> CacheConfig {
        let redis = self
            .redis_url
            .as_ref()
            .filter(|url| !url.is_empty())
            .map(|url| RedisConfig {
                ttl: Duration::from_secs(self.redis_ttl_secs.max(1)),
                ..RedisConfig::new(url.as_str())
            });
        CacheConfig {
            max_bytes: self.cache_mib.max(1) << 20,
            redis,
            ..CacheConfig::default()
        }
    }
}

/// Chain history: snapshots of every live chain, kept for the history endpoints.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Seconds between snapshots of every live chain (0 turns history off).
    #[arg(long, env = "OPTIONHUB_HISTORY_INTERVAL_SECS", default_value_t = 60)]
    pub history_interval_secs: u64,
    /// Snapshot rows that may wait for the database; beyond it the oldest are dropped.
    #[arg(long, env = "OPTIONHUB_HISTORY_QUEUE_ROWS", default_value_t = 500_000)]
    pub history_queue_rows: usize,
    /// Snapshot rows older than this many days are deleted.
    #[arg(long, env = "OPTIONHUB_HISTORY_RETENTION_DAYS", default_value_t = 30)]
    pub history_retention_days: u64,
    /// Simulator mode: backfill at most this many minutes of the current session on a
    /// first start (0: no backfill).
    #[arg(
        long,
        env = "OPTIONHUB_HISTORY_BACKFILL_MINUTES",
        default_value_t = 375
    )]
    pub history_backfill_minutes: u64,
}

impl HistoryArgs {
    fn config(&self) -> HistoryConfig {
        HistoryConfig {
            interval: Duration::from_secs(self.history_interval_secs),
            queue_rows: self.history_queue_rows.max(1),
            retention: Duration::from_secs(self.history_retention_days.max(1) * 24 * 3600),
            backfill: (self.history_backfill_minutes > 0)
                .then(|| Duration::from_secs(self.history_backfill_minutes * 60)),
            ..HistoryConfig::default()
        }
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
    /// Read buffer per WebSocket connection, bytes.
    #[arg(long, env = "OPTIONHUB_WS_READ_BUFFER_BYTES", default_value_t = 4096)]
    pub ws_read_buffer_bytes: usize,
}

impl WsArgs {
    fn config(&self) -> WsConfig {
        WsConfig {
            queue_bytes: self.ws_queue_bytes.max(1024),
            write_deadline: Duration::from_millis(self.ws_write_deadline_ms.max(10)),
            heartbeat: Duration::from_secs(self.ws_heartbeat_secs.max(1)),
            publish_interval: Duration::from_millis(self.ws_publish_ms),
            read_buffer_bytes: self.ws_read_buffer_bytes.max(256),
        }
    }
}

/// Dhan credentials and addresses. With no credentials the server runs on its built-in
/// simulator.
#[derive(Debug, Clone, Args)]
pub struct DhanArgs {
    #[arg(long, env = "DHAN_CLIENT_ID", hide_env_values = true)]
    pub dhan_client_id: Option<String>,
    #[arg(long, env = "DHAN_ACCESS_TOKEN", hide_env_values = true)]
    pub dhan_access_token: Option<String>,
    #[arg(long, env = "DHAN_FEED_URL", default_value = "wss://api-feed.dhan.co")]
    pub dhan_feed_url: String,
    #[arg(long, env = "DHAN_API_URL", default_value = "https://api.dhan.co")]
    pub dhan_api_url: String,
    #[arg(
        long,
        env = "DHAN_SCRIP_MASTER_URL",
        default_value = "https://images.dhan.co/api-data/api-scrip-master-detailed.csv"
    )]
    pub dhan_scrip_master_url: String,
}

/// Where the feed comes from and how it is shaped.
#[derive(Debug, Clone, Args)]
pub struct FeedArgs {
    /// Record every raw feed frame (with its arrival time) to this file.
    #[arg(long, env = "OPTIONHUB_RECORD", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Use a recording as the feed instead of Dhan or the simulator.
    #[arg(long, env = "OPTIONHUB_REPLAY")]
    pub replay: Option<PathBuf>,
    /// Replay speed: a factor (1 = as recorded) or `max`.
    #[arg(long, env = "OPTIONHUB_REPLAY_SPEED", default_value = "1")]
    pub speed: ReplaySpeed,
    /// Seed of the built-in simulator.
    #[arg(long, env = "OPTIONHUB_SIM_SEED", default_value_t = 42)]
    pub sim_seed: u64,
    /// Milliseconds between the built-in simulator's ticks.
    #[arg(long, env = "OPTIONHUB_SIM_TICK_MS", default_value_t = 250)]
    pub sim_tick_ms: u64,
    #[command(flatten)]
    pub sim_expiries: SimExpiryArgs,
    /// Underlyings to track, comma-separated.
    #[arg(
        long,
        env = "OPTIONHUB_UNDERLYINGS",
        value_delimiter = ',',
        default_value = "NIFTY,BANKNIFTY,FINNIFTY,MIDCPNIFTY,SENSEX"
    )]
    pub underlyings: Vec<String>,
    /// Nearest expiries subscribed per underlying.
    #[arg(long, env = "OPTIONHUB_TIER_EXPIRIES", default_value_t = 2)]
    pub tier_expiries: usize,
    /// ATM ± this many strikes in Full mode (depth).
    #[arg(long, env = "OPTIONHUB_TIER_FULL", default_value_t = 5)]
    pub tier_full: usize,
    /// ATM ± this many strikes in Quote mode.
    #[arg(long, env = "OPTIONHUB_TIER_QUOTE", default_value_t = 15)]
    pub tier_quote: usize,
    /// ATM ± this many strikes subscribed in all (the rest in Ticker mode).
    #[arg(long, env = "OPTIONHUB_TIER_RANGE", default_value_t = 40)]
    pub tier_range: usize,
    /// Seconds without any feed message before the connection counts as stalled.
    #[arg(long, env = "OPTIONHUB_FEED_STALL_SECS", default_value_t = 30)]
    pub feed_stall_secs: u64,
    /// A chain's Greeks are recomputed at most once per this many milliseconds.
    #[arg(long, env = "OPTIONHUB_GREEKS_WINDOW_MS", default_value_t = 250)]
    pub greeks_window_ms: u64,
    /// Risk-free rate for the Greeks model (continuously compounded, decimal).
    #[arg(long, env = "OPTIONHUB_RISK_FREE_RATE", default_value_t = 0.065)]
    pub risk_free_rate: f64,
}

impl DhanArgs {
    fn credentials(&self) -> Option<DhanCredentials> {
        match (&self.dhan_client_id, &self.dhan_access_token) {
            (Some(id), Some(token)) if !id.is_empty() && !token.is_empty() => {
                Some(DhanCredentials::new(id.clone(), token.clone()))
            }
            _ => None,
        }
    }
}

/// `optionhub` with no subcommand: `serve` with flags from the environment and defaults.
#[derive(Debug, Parser)]
struct ServeDefaults {
    #[command(flatten)]
    args: ServeArgs,
}

impl ServeArgs {
    pub fn from_env() -> Self {
        ServeDefaults::parse_from(["optionhub"]).args
    }

    pub fn into_config(self) -> Config {
        let data = DataConfig { dir: self.data.dir };
        let mut plugins = PluginConfig::new(self.plugins, &data);
        plugins.limits = SandboxLimits {
            memory_bytes: self.plugin_memory_mib << 20,
            deadline: Duration::from_millis(self.plugin_deadline_ms),
            max_result_bytes: self.plugin_max_result_mib << 20,
            ..SandboxLimits::default()
        };
        let feed_args = self.feed;
        let source = if let Some(file) = feed_args.replay.clone() {
            FeedSourceConfig::Replay {
                file,
                speed_factor: match feed_args.speed {
                    ReplaySpeed::Max => None,
                    ReplaySpeed::Factor(f) => Some(f),
                },
            }
        } else if let Some(credentials) = self.dhan.credentials() {
            FeedSourceConfig::Dhan {
                credentials,
                endpoints: DhanEndpoints {
                    feed_url: self.dhan.dhan_feed_url,
                    api_url: self.dhan.dhan_api_url,
                    scrip_master_url: self.dhan.dhan_scrip_master_url,
                },
            }
        } else {
            FeedSourceConfig::Simulator {
                seed: feed_args.sim_seed,
                tick: Duration::from_millis(feed_args.sim_tick_ms.max(1)),
                expiry_weekdays: feed_args.sim_expiries.weekdays(),
            }
        };
        let mut feed = FeedConfig::new(source);
        feed.record = feed_args.record;
        feed.underlyings = feed_args
            .underlyings
            .iter()
            .map(|u| u.trim().to_ascii_uppercase())
            .filter(|u| !u.is_empty())
            .collect();
        feed.tiers = TierConfig {
            expiries: feed_args.tier_expiries.max(1),
            full_strikes: feed_args.tier_full,
            quote_strikes: feed_args.tier_quote.max(feed_args.tier_full),
            range_strikes: feed_args.tier_range.max(feed_args.tier_quote),
        };
        feed.inactivity_timeout = Duration::from_secs(feed_args.feed_stall_secs.max(1));
        let mut auth = self.auth.config();
        auth.dev_user = Some(self.dev_user).filter(|u| !u.is_empty());
        Config {
            server: ServerConfig {
                metrics_listen: self.metrics_listen,
                max_body_bytes: self.max_body_kib.max(1) << 10,
                ..ServerConfig::new(self.listen)
            },
            store: self.store.config(&data),
            auth,
            limits: self.limits.config(),
            ws: self.ws.config(),
            history: self.history.config(),
            cache: self.cache.config(),
            portfolio: self.portfolio.config(),
            data,
            plugins,
            feed,
            chains: ChainsConfig {
                greeks_window: Duration::from_millis(feed_args.greeks_window_ms),
                rate: feed_args.risk_free_rate,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{ServeDefaults, parse_weekday};

    #[test]
    fn websocket_flags_reach_the_config() {
        let args = ServeDefaults::parse_from([
            "optionhub",
            "--ws-queue-bytes",
            "65536",
            "--ws-write-deadline-ms",
            "1500",
            "--ws-heartbeat-secs",
            "4",
            "--ws-publish-ms",
            "150",
        ])
        .args;
        let ws = args.into_config().ws;
        assert_eq!(ws.queue_bytes, 65_536);
        assert_eq!(ws.write_deadline, std::time::Duration::from_millis(1_500));
        assert_eq!(ws.idle_timeout(), std::time::Duration::from_secs(10));
        assert_eq!(ws.publish_interval, std::time::Duration::from_millis(150));
        assert_eq!(ws.read_buffer_bytes, 4_096);
    }

    #[test]
    fn history_flags_reach_the_config() {
        let args = ServeDefaults::parse_from([
            "optionhub",
            "--history-interval-secs",
            "15",
            "--history-queue-rows",
            "1000",
            "--history-retention-days",
            "7",
            "--history-backfill-minutes",
            "0",
        ])
        .args;
        let history = args.into_config().history;
        assert_eq!(history.interval, std::time::Duration::from_secs(15));
        assert_eq!(history.queue_rows, 1_000);
        assert_eq!(
            history.retention,
            std::time::Duration::from_secs(7 * 86_400)
        );
        assert_eq!(history.backfill, None);
        let defaults = ServeDefaults::parse_from(["optionhub"]).args.into_config();
        assert_eq!(defaults.history, crate::config::HistoryConfig::default());
    }

    #[test]
    fn weekdays_parse_short_and_long() {
        assert_eq!(parse_weekday("tue"), Ok(time::Weekday::Tuesday));
        assert_eq!(parse_weekday("Thursday"), Ok(time::Weekday::Thursday));
        assert!(parse_weekday("t").is_err());
        assert!(parse_weekday("funday").is_err());
    }
}
