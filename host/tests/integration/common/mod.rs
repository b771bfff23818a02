//! Shared by the integration tests: builds the plugin components (first-party plugins,
//! the example, and the hostile fixtures) for `wasm32-wasip2` once per test binary, and
//! hands out their bytes; and [`TestApp`], the one way a test starts a server.
//!
//! The tests build what they load, so `cargo test` needs nothing prepared; `make test`
//! builds the same crates first, which makes this a no-op.

pub(crate) mod test_app;

pub(crate) use test_app::TestApp;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use optionhub::config::PluginConfig;
use optionhub::plugins::PluginHost;

/// Every component crate the tests load.
const CRATES: &[&str] = &[
    "greeks-black76",
    "oi-analytics",
    "strategy-valuation",
    "gamma-exposure",
    "probe",
    "hostile",
    "wrong-world",
    "bad-selftest",
    "overreach",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo_build(target_dir: &Path, crates: &[&str], features: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace())
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    for name in crates {
        command.args(["-p", name]);
    }
    for feature in features {
        command.args(["--features", feature]);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(
        status.success(),
        "building the test plugins failed: {status}"
    );
}

fn built() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = workspace().join("target");
        cargo_build(&target, CRATES, &[]);
        // The second build of the probe, distinguishable in every answer, for hot swaps.
        let v2 = target.join("probe-v2");
        cargo_build(&v2, &["probe"], &["probe/v2"]);
        (
            target.join("wasm32-wasip2/release"),
            v2.join("wasm32-wasip2/release"),
        )
    })
}

/// Path of the built component of `crate_name` (dashes become underscores).
pub(crate) fn wasm_path(crate_name: &str) -> PathBuf {
    built()
        .0
        .join(format!("{}.wasm", crate_name.replace('-', "_")))
}

pub(crate) fn wasm(crate_name: &str) -> Vec<u8> {
    let path = wasm_path(crate_name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The probe built with feature `v2` (answers `build = 2`).
pub(crate) fn probe_v2() -> Vec<u8> {
    let path = built().1.join("probe.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The `overreach` fixture built with feature `long-name` (its `info()` reports a 1 MiB
/// name), built on first use only.
pub(crate) fn overreach_long_name() -> Vec<u8> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = workspace().join("target/overreach-long-name");
        cargo_build(&target, &["overreach"], &["overreach/long-name"]);
        target.join("wasm32-wasip2/release")
    });
    let path = dir.join("overreach.wasm");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A host with no directory and no disk cache.
pub(crate) fn host() -> Arc<PluginHost> {
    PluginHost::new(PluginConfig::in_memory()).expect("engine starts")
}

/// A host with the given plugins loaded from bytes.
pub(crate) fn host_with(crates: &[&str]) -> Arc<PluginHost> {
    let host = host();
    for name in crates {
        host.load_bytes(&wasm(name), optionhub::plugins::PluginSource::Bytes)
            .unwrap_or_else(|e| panic!("{name} should load: {e}"));
    }
    host
}

/// Value of a named scalar in a custom-analytics answer.
pub(crate) fn scalar(
    result: &optionhub::plugins::custom::AnalyticsResult,
    name: &str,
) -> Option<f64> {
    result
        .scalars
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.value)
}

/// A server configuration for tests: any free port, the given data and plugin
/// directories, the built-in simulator ticking fast, Greeks recomputed often.
pub(crate) fn server_config(
    data: &std::path::Path,
    plugins: Option<&std::path::Path>,
) -> optionhub::config::Config {
    use optionhub::config::{
        ChainsConfig, Config, DataConfig, FeedConfig, FeedSourceConfig, PluginConfig, ServerConfig,
    };
    let data = DataConfig {
        dir: data.to_path_buf(),
    };
    let mut feed = FeedConfig::new(FeedSourceConfig::Simulator {
        seed: 7,
        tick: std::time::Duration::from_millis(50),
        expiry_weekdays: optionhub::config::ExpiryWeekdays::default(),
    });
    feed.backoff_initial = std::time::Duration::from_millis(100);
    feed.backoff_max = std::time::Duration::from_millis(400);
    // Tests run at any wall-clock hour: the simulator trades around the clock (what
    // `--sim-always-open` does); the market-hours tests turn this off.
    feed.session.always_open = true;
    Config {
        server: ServerConfig::new("127.0.0.1:0".parse().expect("addr")),
        plugins: PluginConfig::new(
            plugins.map(std::path::Path::to_path_buf),
            data.plugin_cache_dir(),
        ),
        store: optionhub::config::StoreConfig::sqlite_in(&data.dir),
        cache: optionhub::config::CacheConfig::default(),
        data,
        feed,
        chains: ChainsConfig {
            greeks_window: std::time::Duration::from_millis(100),
            ..ChainsConfig::default()
        },
        auth: optionhub::config::AuthConfig::development(Some(TEST_JWT_SECRET.into())),
        // Generous: tests that are about limits set their own.
        limits: optionhub::config::RateLimitConfig {
            default: optionhub::config::TierLimits {
                free_per_minute: 100_000,
                pro_per_minute: 100_000,
            },
            ..optionhub::config::RateLimitConfig::default()
        },
        ws: optionhub::config::WsConfig::default(),
        // Recording on (default interval) but no backfill: replaying a session costs
        // CPU every other test would pay for; the history tests turn it on.
        history: optionhub::config::HistoryConfig {
            backfill: None,
            ..optionhub::config::HistoryConfig::default()
        },
        portfolio: optionhub::config::PortfolioConfig::default(),
    }
}

/// The JWT secret of [`server_config`].
pub(crate) const TEST_JWT_SECRET: &str = "integration-tests-secret-of-enough-bytes";

/// Issues the tokens the servers of [`server_config`] accept.
pub(crate) fn token_service() -> optionhub::auth::TokenService {
    let config = optionhub::config::AuthConfig::development(None);
    optionhub::auth::TokenService::hs256(
        TEST_JWT_SECRET.as_bytes(),
        optionhub::auth::TokenSettings {
            issuer: config.issuer,
            audience: config.audience,
            ttl: config.token_ttl,
            leeway: config.leeway,
        },
    )
}

/// An access token the servers of [`server_config`] accept.
pub(crate) fn token(
    user: &str,
    role: optionhub::auth::Role,
    tier: optionhub::auth::Tier,
) -> String {
    token_service()
        .issue(&optionhub::auth::Principal {
            user: user.into(),
            role,
            tier,
        })
        .expect("issue token")
}

/// An admin token (pro tier), for tests that are not about access control.
pub(crate) fn admin_token() -> String {
    token(
        "test-admin",
        optionhub::auth::Role::Admin,
        optionhub::auth::Tier::Pro,
    )
}

/// `GET url` as the test admin.
pub(crate) async fn authed_get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(admin_token())
        .send()
        .await
}

/// A database of its own on the PostgreSQL of `OPTIONHUB_TEST_POSTGRES_URL` (`None`
/// when that is not set), for tests that take the database away.
pub(crate) struct ScratchPostgres {
    /// A connection to the server's maintenance database, to alter or drop this one.
    pub admin: sqlx::AnyPool,
    pub name: String,
    /// The URL of the new database.
    pub url: String,
}

impl ScratchPostgres {
    pub(crate) async fn create(prefix: &str) -> Option<Self> {
        let base = std::env::var("OPTIONHUB_TEST_POSTGRES_URL").ok()?;
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&base).await.expect("admin");
        let name = format!("{prefix}_{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        let (head, query) = base.split_once('?').unwrap_or((base.as_str(), ""));
        let root = head.rsplit_once('/').map_or(head, |(root, _)| root);
        let url = if query.is_empty() {
            format!("{root}/{name}")
        } else {
            format!("{root}/{name}?{query}")
        };
        Some(Self { admin, name, url })
    }

    /// Refuses new connections and cuts the open ones (`false`), or lets them in again.
    pub(crate) async fn allow_connections(&self, allow: bool) {
        sqlx::query(&format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS {allow}",
            self.name
        ))
        .execute(&self.admin)
        .await
        .expect("alter database");
        if !allow {
            sqlx::query(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ))
            .execute(&self.admin)
            .await
            .expect("terminate");
        }
    }

    pub(crate) async fn drop(self) {
        let _ = sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&self.admin)
            .await;
    }
}
