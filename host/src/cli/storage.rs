//! Command-line arguments of what the server keeps: the database, the response cache
//! (memory and Redis), chain history and saved strategies.

use std::time::Duration;

use super::env_aliases::{EnvAliasError, EnvMap, Resolved, Wanted, resolve};
use super::{AuthArgs, DataArgs};
use crate::config::{
    AuthConfig, CacheConfig, DataConfig, HistoryConfig, PortfolioConfig, Quotas, RedisConfig,
    StoreConfig,
};
use clap::Args;

const DAY_SECS: u64 = 24 * 3600;

/// Saved strategies and accounts.
#[derive(Clone, Args)]
pub struct PortfolioArgs {
    /// Seconds between M2M valuations of every open saved strategy.
    #[arg(long, env = "OPTIONHUB_M2M_INTERVAL_SECS", default_value_t = 5)]
    pub m2m_interval_secs: u64,
    /// 64 hex digits: the key that encrypts broker credentials at rest (development
    /// generates one in the data directory when unset; production then refuses
    /// credentials).
    #[arg(long, env = "OPTIONHUB_CREDENTIALS_KEY", hide_env_values = true)]
    pub credentials_key: Option<String>,
    /// Saved strategies one free-tier user may keep.
    #[arg(long, env = "OPTIONHUB_QUOTA_STRATEGIES_FREE", default_value_t = 50)]
    pub quota_strategies_free: u32,
    /// Saved strategies one pro-tier user may keep.
    #[arg(long, env = "OPTIONHUB_QUOTA_STRATEGIES_PRO", default_value_t = 1_000)]
    pub quota_strategies_pro: u32,
    /// Trading accounts one user may keep.
    #[arg(long, env = "OPTIONHUB_QUOTA_ACCOUNTS", default_value_t = 10)]
    pub quota_accounts: u32,
    /// M2M points older than this many days are deleted (hourly).
    #[arg(long, env = "OPTIONHUB_M2M_RETENTION_DAYS", default_value_t = 90)]
    pub m2m_retention_days: u64,
    /// M2M points older than this many days are thinned to one per bucket (0: never).
    #[arg(long, env = "OPTIONHUB_M2M_DOWNSAMPLE_AFTER_DAYS", default_value_t = 7)]
    pub m2m_downsample_after_days: u64,
    /// The bucket, seconds, that thinned M2M points keep one (the last) point of.
    #[arg(long, env = "OPTIONHUB_M2M_DOWNSAMPLE_SECS", default_value_t = 300)]
    pub m2m_downsample_secs: u64,
}

impl std::fmt::Debug for PortfolioArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortfolioArgs")
            .field("m2m_interval_secs", &self.m2m_interval_secs)
            .field(
                "credentials_key",
                &crate::config::redacted(self.credentials_key.as_ref()),
            )
            .finish()
    }
}

impl PortfolioArgs {
    pub(super) fn config(&self) -> PortfolioConfig {
        PortfolioConfig {
            m2m_interval: Duration::from_secs(self.m2m_interval_secs.max(1)),
            credentials_key: self.credentials_key.clone().filter(|k| !k.is_empty()),
            quotas: Quotas {
                strategies_free: self.quota_strategies_free,
                strategies_pro: self.quota_strategies_pro,
                accounts: self.quota_accounts,
            },
            m2m_retention: Duration::from_secs(
                self.m2m_retention_days.max(1).saturating_mul(DAY_SECS),
            ),
            m2m_downsample_after: (self.m2m_downsample_after_days > 0).then(|| {
                Duration::from_secs(self.m2m_downsample_after_days.saturating_mul(DAY_SECS))
            }),
            m2m_downsample_bucket: Duration::from_secs(self.m2m_downsample_secs.max(1)),
        }
    }
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
    /// Fills what is not given from the old variable names in `env`.
    pub fn apply_env_aliases(&mut self, env: &EnvMap) -> Result<Resolved, EnvAliasError> {
        let (store, auth) = (self.store.wanted(), self.auth.wanted());
        let wanted = Wanted {
            database_url: store.database_url,
            ..auth
        };
        let mut resolved = resolve(env, wanted)?;
        self.store.take(&mut resolved);
        self.auth.take(&mut resolved);
        Ok(resolved)
    }

    pub fn configs(&self) -> (DataConfig, StoreConfig, AuthConfig) {
        let data = DataConfig {
            dir: self.data.dir.clone(),
        };
        let store = self.store.config(&data);
        (data, store, self.auth.config())
    }
}

/// The database.
#[derive(Clone, Args)]
pub struct StoreArgs {
    /// `sqlite://FILE` or `postgres://…`; default: built from `DB_HOST`, `DB_PORT`,
    /// `DB_NAME`, `DB_USER` and `DB_PASSWORD` when those are set, else `optionhub.db` in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Database connection pool size.
    #[arg(long, env = "OPTIONHUB_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,
    /// Seconds to keep retrying an unreachable database at start (0: exit at once).
    #[arg(long, env = "OPTIONHUB_DB_WAIT_SECS", default_value_t = 0)]
    pub db_wait_secs: u64,
}

impl std::fmt::Debug for StoreArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreArgs")
            .field(
                "database_url",
                &self.database_url.as_deref().map(crate::config::redact_url),
            )
            .field("db_pool", &self.db_pool)
            .field("db_wait_secs", &self.db_wait_secs)
            .finish()
    }
}

impl StoreArgs {
    /// Whether the old `DB_*` names may supply the database (no URL given).
    pub(super) fn wanted(&self) -> Wanted {
        Wanted {
            database_url: self.database_url.as_deref().is_none_or(str::is_empty),
            ..Wanted::default()
        }
    }

    /// Takes the database URL the old names built, if any.
    pub(super) fn take(&mut self, resolved: &mut Resolved) {
        if let Some(url) = resolved.database_url.take() {
            self.database_url = Some(url);
        }
    }

    pub(super) fn config(&self, data: &DataConfig) -> StoreConfig {
        let mut config = match &self.database_url {
            Some(url) if !url.is_empty() => StoreConfig::new(url.as_str()),
            _ => StoreConfig::sqlite_in(&data.dir),
        };
        config.max_connections = self.db_pool.max(1);
        config.connect_wait = Duration::from_secs(self.db_wait_secs);
        config
    }
}

/// The response cache: memory, and Redis under it when `REDIS_URL` is set.
#[derive(Clone, Args)]
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

impl std::fmt::Debug for CacheArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheArgs")
            .field("cache_mib", &self.cache_mib)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(crate::config::redact_url),
            )
            .field("redis_ttl_secs", &self.redis_ttl_secs)
            .finish()
    }
}

impl CacheArgs {
    pub(super) fn config(&self) -> CacheConfig {
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
    /// The most snapshot rows one `/fo/moneyness-series` request may read; longer
    /// ranges or shorter intervals are refused with the ones that fit.
    #[arg(
        long,
        env = "OPTIONHUB_HISTORY_MAX_SERIES_ROWS",
        default_value_t = 200_000
    )]
    pub history_max_series_rows: u32,
}

impl HistoryArgs {
    pub(super) fn config(&self) -> HistoryConfig {
        HistoryConfig {
            interval: Duration::from_secs(self.history_interval_secs),
            queue_rows: self.history_queue_rows.max(1),
            retention: Duration::from_secs(self.history_retention_days.max(1) * 24 * 3600),
            backfill: (self.history_backfill_minutes > 0)
                .then(|| Duration::from_secs(self.history_backfill_minutes * 60)),
            max_series_rows: self.history_max_series_rows.max(1),
            ..HistoryConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        portfolio: PortfolioArgs,
        #[command(flatten)]
        history: HistoryArgs,
    }

    #[test]
    fn quota_retention_and_series_flags_reach_the_config() {
        let flags = Flags::parse_from([
            "optionhub",
            "--quota-strategies-free",
            "3",
            "--quota-strategies-pro",
            "30",
            "--quota-accounts",
            "2",
            "--m2m-retention-days",
            "10",
            "--m2m-downsample-after-days",
            "0",
            "--m2m-downsample-secs",
            "60",
            "--history-max-series-rows",
            "500",
        ]);
        let portfolio = flags.portfolio.config();
        assert_eq!(
            portfolio.quotas,
            Quotas {
                strategies_free: 3,
                strategies_pro: 30,
                accounts: 2
            }
        );
        assert_eq!(portfolio.m2m_retention, Duration::from_secs(10 * DAY_SECS));
        assert_eq!(portfolio.m2m_downsample_after, None);
        assert_eq!(portfolio.m2m_downsample_bucket, Duration::from_secs(60));
        assert_eq!(flags.history.config().max_series_rows, 500);

        let defaults = Flags::parse_from(["optionhub"]);
        let portfolio = defaults.portfolio.config();
        let expected = PortfolioConfig::default();
        assert_eq!(portfolio.quotas, expected.quotas);
        assert_eq!(portfolio.m2m_retention, expected.m2m_retention);
        assert_eq!(
            portfolio.m2m_downsample_after,
            expected.m2m_downsample_after
        );
        assert_eq!(
            portfolio.m2m_downsample_bucket,
            expected.m2m_downsample_bucket
        );
    }
}
