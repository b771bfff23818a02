//! The command line: `optionhub [serve]`, `optionhub sim`, `optionhub plugin check FILE`,
//! `optionhub plugin list`, `optionhub user …`, `optionhub migrate`. This is the one place configuration is read from flags and
//! the environment (every flag has an `OPTIONHUB_*` variable; `.env` is read first).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::{Role, Tier};
use crate::config::{
    ChainsConfig, Config, DataConfig, LogFormat, PluginConfig, SandboxLimits, ServerConfig,
    StoreConfig,
};

mod access;
pub mod env_aliases;
mod feed;
mod http;
mod storage;

pub use access::{AuthArgs, LimitArgs, RouteLimits, WsArgs};
use env_aliases::{EnvAliasError, EnvMap, Resolved, Wanted, resolve};
pub use feed::{DhanArgs, FeedArgs, SimArgs, SimExpiryArgs};
pub use http::HttpArgs;
pub use storage::{CacheArgs, HistoryArgs, PortfolioArgs, StoreArgs, UserStoreArgs};

/// Where the server listens when nothing says otherwise.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8000);

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
    /// Fills the database from the old `DB_*` names in `env` when no URL is given.
    pub fn apply_env_aliases(&mut self, env: &EnvMap) -> Result<Resolved, EnvAliasError> {
        let mut resolved = resolve(env, self.store.wanted())?;
        self.store.take(&mut resolved);
        Ok(resolved)
    }

    pub fn config(&self) -> StoreConfig {
        self.store.config(&DataConfig {
            dir: self.data.dir.clone(),
        })
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
    /// Address to listen on. Default: `API_HOST`:`API_PORT` when those are set, else
    /// 127.0.0.1:8000.
    #[arg(long, env = "OPTIONHUB_LISTEN")]
    pub listen: Option<SocketAddr>,
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
    /// Plugin calls that may run at once (instance slots reserved at start; further
    /// calls wait). 0 allocates instances on demand.
    #[arg(long, env = "OPTIONHUB_PLUGIN_CALL_SLOTS", default_value_t = crate::config::DEFAULT_CALL_SLOTS)]
    pub plugin_call_slots: usize,
    /// Longest a plugin call waits for a free call slot before it fails with
    /// `plugins_busy`, milliseconds.
    #[arg(long, env = "OPTIONHUB_PLUGIN_SLOT_WAIT_MS", default_value_t = crate::config::DEFAULT_SLOT_WAIT_MS)]
    pub plugin_slot_wait_ms: u64,
    /// Serve `/metrics` on this address instead of the public one.
    #[arg(long, env = "OPTIONHUB_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Largest request body accepted, KiB (plugin uploads have their own cap).
    #[arg(long, env = "OPTIONHUB_MAX_BODY_KIB", default_value_t = 256)]
    pub max_body_kib: usize,
    /// In development mode: make sure this user exists (admin, pro) and print a token.
    #[arg(long, env = "OPTIONHUB_DEV_USER", default_value = "dev")]
    pub dev_user: String,
    /// Allow development mode on a non-loopback address (refused without it: development
    /// signs tokens with a generated secret and hands out an admin token).
    #[arg(long, env = "OPTIONHUB_ALLOW_DEV_ON_NETWORK")]
    pub allow_dev_on_network: bool,
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
    pub http: HttpArgs,
    #[command(flatten)]
    pub ws: WsArgs,
    #[command(flatten)]
    pub history: HistoryArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub portfolio: PortfolioArgs,
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

    /// Fills what is not given (by a flag or optionhub's own variable) from the old
    /// variable names in `env`: the listen address, the database, the JWT secret and
    /// the mode.
    pub fn apply_env_aliases(&mut self, env: &EnvMap) -> Result<Resolved, EnvAliasError> {
        let (store, auth) = (self.store.wanted(), self.auth.wanted());
        let wanted = Wanted {
            listen: self.listen.is_none(),
            database_url: store.database_url,
            ..auth
        };
        let mut resolved = resolve(env, wanted)?;
        if let Some(listen) = resolved.listen.take() {
            self.listen = Some(listen);
        }
        self.store.take(&mut resolved);
        self.auth.take(&mut resolved);
        Ok(resolved)
    }

    pub fn into_config(self) -> Config {
        let data = DataConfig {
            dir: self.data.dir.clone(),
        };
        let plugins = self.plugin_config(&data);
        let chains = ChainsConfig {
            greeks_window: Duration::from_millis(self.feed.greeks_window_ms),
            rate: self.feed.risk_free_rate,
        };
        let source = self.feed.source(&self.dhan);
        let feed = self.feed.into_config(source);
        let mut auth = self.auth.config();
        auth.dev_user = Some(self.dev_user).filter(|u| !u.is_empty());
        Config {
            server: ServerConfig {
                metrics_listen: self.metrics_listen,
                max_body_bytes: self.max_body_kib.max(1) << 10,
                allow_dev_on_network: self.allow_dev_on_network,
                trusted_proxies: self.limits.trusted_proxies.clone(),
                request_timeout: self.limits.request_timeout(),
                upload_timeout: self.limits.upload_timeout(),
                cors_origins: self.http.cors_origins,
                compression: self.http.http_compression,
                ..ServerConfig::new(self.listen.unwrap_or(DEFAULT_LISTEN))
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
            chains,
        }
    }

    /// The plugin runtime: the directory, the artifact cache under `data`, the sandbox.
    fn plugin_config(&self, data: &DataConfig) -> PluginConfig {
        let mut plugins = PluginConfig::new(self.plugins.clone(), data.plugin_cache_dir());
        plugins.limits = SandboxLimits {
            memory_bytes: self.plugin_memory_mib << 20,
            deadline: Duration::from_millis(self.plugin_deadline_ms),
            max_result_bytes: self.plugin_max_result_mib << 20,
            ..SandboxLimits::default()
        };
        plugins.call_slots = self.plugin_call_slots;
        plugins.slot_wait = Duration::from_millis(self.plugin_slot_wait_ms);
        plugins
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ServeDefaults;

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
    fn debug_output_of_the_arguments_and_config_shows_no_secret() {
        let args = ServeDefaults::parse_from([
            "optionhub",
            "--dhan-client-id",
            "1000",
            "--dhan-access-token",
            "secret-dhan-token",
            "--jwt-secret",
            "secret-jwt-of-enough-bytes-0123456789",
            "--database-url",
            "postgres://ops:secret-db-password@db:5432/optionhub",
            "--redis-url",
            "redis://:secret-redis-password@cache:6379/0",
            "--credentials-key",
            &"5e".repeat(32),
        ])
        .args;
        let shown = format!("{args:?}\n{:?}", args.clone().into_config());
        for secret in [
            "secret-dhan-token",
            "secret-jwt",
            "secret-db-password",
            "secret-redis-password",
            &"5e".repeat(32),
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("db:5432") && shown.contains("cache:6379"));
    }

    #[test]
    fn migration_names_fill_only_what_flags_leave_unset() {
        let env: super::EnvMap = [
            ("API_HOST", "0.0.0.0"),
            ("API_PORT", "9100"),
            ("JWT_SECRET_KEY", "legacy-secret-of-enough-bytes-0123456789"),
            ("ENVIRONMENT", "production"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut args = ServeDefaults::parse_from(["optionhub"]).args;
        let resolved = args.apply_env_aliases(&env).unwrap();
        assert_eq!(resolved.read.len(), 4);
        let config = args.into_config();
        assert_eq!(config.server.listen, "0.0.0.0:9100".parse().unwrap());
        assert_eq!(config.auth.mode, crate::config::RunMode::Production);
        assert!(matches!(
            config.auth.keys,
            crate::config::JwtKeys::Hs256 { secret: Some(ref s) } if s.starts_with("legacy-secret")
        ));

        let mut args = ServeDefaults::parse_from([
            "optionhub",
            "--listen",
            "127.0.0.1:9200",
            "--mode",
            "development",
        ])
        .args;
        let resolved = args.apply_env_aliases(&env).unwrap();
        assert_eq!(resolved.ignored, ["API_HOST", "API_PORT", "ENVIRONMENT"]);
        let config = args.into_config();
        assert_eq!(config.server.listen, "127.0.0.1:9200".parse().unwrap());
        assert_eq!(config.auth.mode, crate::config::RunMode::Development);
    }

    #[test]
    fn the_network_flag_for_development_reaches_the_config() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["optionhub"];
            argv.extend_from_slice(extra);
            ServeDefaults::parse_from(argv).args.into_config().server
        };
        assert!(!parse(&[]).allow_dev_on_network);
        assert!(parse(&["--allow-dev-on-network"]).allow_dev_on_network);
    }

    #[test]
    fn fair_use_flags_reach_the_config() {
        let args = ServeDefaults::parse_from([
            "optionhub",
            "--trusted-proxies",
            "10.0.0.0/8,192.168.1.7",
            "--request-timeout-secs",
            "5",
            "--upload-timeout-secs",
            "2",
            "--rate-login-user",
            "4",
            "--ws-connections-free",
            "2",
            "--ws-connections-pro",
            "9",
            "--ws-client-rate",
            "7",
            "--ws-client-burst",
            "11",
            "--password-hash-concurrency",
            "3",
        ])
        .args;
        let config = args.into_config();
        assert!(
            config
                .server
                .trusted_proxies
                .contains("10.9.8.7".parse().unwrap())
        );
        assert!(
            !config
                .server
                .trusted_proxies
                .contains("192.168.1.8".parse().unwrap())
        );
        assert_eq!(
            config.server.request_timeout,
            std::time::Duration::from_secs(5)
        );
        // An upload deadline is never shorter than the request deadline.
        assert_eq!(
            config.server.upload_timeout,
            std::time::Duration::from_secs(5)
        );
        assert_eq!(config.limits.login_per_user_per_minute, 4);
        assert_eq!(
            (
                config.limits.ws_connections_free,
                config.limits.ws_connections_pro
            ),
            (2, 9)
        );
        assert_eq!(config.limits.password_hash_slots(), 3);
        assert_eq!(
            (
                config.ws.client_messages_per_sec,
                config.ws.client_message_burst
            ),
            (7, 11)
        );
        assert!(
            ServeDefaults::try_parse_from(["optionhub", "--trusted-proxies", "proxy.local"])
                .is_err()
        );
        let defaults = ServeDefaults::parse_from(["optionhub"]).args.into_config();
        assert!(defaults.server.trusted_proxies.is_empty());
        assert_eq!(
            defaults.server.upload_timeout,
            std::time::Duration::from_secs(120)
        );
        assert!(defaults.limits.password_hash_slots() >= 1);
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
}
