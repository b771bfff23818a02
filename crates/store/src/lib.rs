//! Durable state in a SQL database: a SQLite file by default, PostgreSQL when the URL
//! says `postgres://`. One pool (`sqlx::AnyPool`) and one set of SQL statements serve
//! both backends, so they behave the same; only the migrations differ per backend
//! (`migrations/sqlite`, `migrations/postgres`), because DDL does.
//!
//! Statements use `$1`-style placeholders, which both SQLite and PostgreSQL accept, and
//! only types both map the same way (integers, text, floats).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateError, Migrator};

pub mod accounts;
pub mod audit;
mod config;
pub mod history;
pub mod m2m;
pub mod quota;
pub mod shared_cache;
pub mod strategies;
pub mod users;

pub use config::{RedisConfig, StoreConfig, redact_url};
pub use users::{NewUser, User};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Set on every SQLite connection. M2M points are keyed by (strategy, time), so each
/// cycle's 1,000 appends land on 1,000 different index pages: with SQLite's defaults
/// (a 2 MiB page cache, a checkpoint every 1,000 WAL pages) each cycle re-read those
/// pages and checkpointed all of them. A 32 MiB cache holds the pages being appended
/// to, and a checkpoint every 10,000 pages writes each page back once for several
/// cycles, which the M2M bench measures (BENCHMARKS.md). Both trade only memory and WAL file size (up to
/// ~40 MiB); durability is unchanged (`synchronous` stays FULL). The cache is
/// allocated as used, per connection.
const SQLITE_CONNECTION_PRAGMAS: [&str; 2] = [
    "PRAGMA cache_size = -32768",
    "PRAGMA wal_autocheckpoint = 10000",
];

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the URL {0:?} names no supported database (sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error(
        "the database schema is newer than this binary knows (migration {0} is applied but \
         unknown here); run a newer optionhub or restore a matching database"
    )]
    SchemaTooNew(i64),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] MigrateError),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The owner already has as many as their quota allows; nothing was written.
    #[error(
        "you already have {limit} {}, the most your quota allows; delete one to make room",
        .what.label()
    )]
    QuotaExceeded { what: quota::Owned, limit: u32 },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error)
    }
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// PostgreSQL only: a native pool beside the `Any` one, for `COPY` (chain history's
    /// bulk writes), which the `Any` driver cannot issue.
    copy: Option<sqlx::PgPool>,
    /// The open strategies, held between the M2M worker's reads.
    open_strategies: Arc<strategies::OpenSet>,
}

impl Store {
    /// Connects (creating a SQLite file if needed) and applies pending migrations.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if config.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if config.url.starts_with("postgres:") || config.url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(config.redacted_url()));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5));
        if backend == Backend::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    for pragma in SQLITE_CONNECTION_PRAGMAS {
                        sqlx::query(pragma).execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(&config.url).await?;
        if backend == Backend::Sqlite {
            // WAL lets readers run while the writer writes; it is a property of the file,
            // so setting it once per open is enough.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let copy = match backend {
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&config.url)
                    .await?,
            ),
            Backend::Sqlite => None,
        };
        let store = Self {
            pool,
            backend,
            copy,
            open_strategies: Arc::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// [`Store::open`], retrying while the database is unreachable, for up to
    /// `config.connect_wait` (a server started before its database, as in a compose
    /// file). Any other error, and an unreachable database past the wait, is returned.
    pub async fn open_waiting(config: &StoreConfig) -> Result<Self, StoreError> {
        let deadline = tokio::time::Instant::now() + config.connect_wait;
        let mut told = false;
        loop {
            match Self::open(config).await {
                Err(StoreError::Unavailable(error)) if tokio::time::Instant::now() < deadline => {
                    if !told {
                        tracing::warn!(
                            url = %config.redacted_url(),
                            %error,
                            wait_secs = config.connect_wait.as_secs(),
                            "the database is unavailable; waiting for it"
                        );
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    }

    /// Applies pending migrations; refuses a schema newer than this binary.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.map_err(|error| match error {
            MigrateError::VersionMissing(version) => StoreError::SchemaTooNew(version),
            other => StoreError::Migrate(other),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn users(&self) -> users::Users<'_> {
        users::Users::new(&self.pool)
    }

    pub fn history(&self) -> history::History<'_> {
        history::History::new(&self.pool, self.copy.as_ref())
    }

    pub fn audit(&self) -> audit::AdminAudit<'_> {
        audit::AdminAudit::new(&self.pool)
    }

    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts::new(&self.pool)
    }

    pub fn strategies(&self) -> strategies::Strategies<'_> {
        strategies::Strategies::new(&self.pool, &self.open_strategies)
    }

    pub fn m2m(&self) -> m2m::M2mPoints<'_> {
        m2m::M2mPoints::new(&self.pool, self.backend)
    }

    /// Whether the database answers, within a second, and the pool's figures.
    pub async fn health(&self) -> StoreHealth {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        let reachable = matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Ok(_))
        );
        StoreHealth {
            backend: self.backend,
            status: if reachable { "ok" } else { "unavailable" },
            pool_size: self.pool.size(),
            pool_idle: self.pool.num_idle(),
        }
    }

    pub async fn close(&self) {
        if let Some(copy) = &self.copy {
            copy.close().await;
        }
        self.pool.close().await;
    }
}

/// `/health`'s database section.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StoreHealth {
    #[schema(value_type = String)]
    pub backend: Backend,
    /// `ok` or `unavailable`.
    pub status: &'static str,
    pub pool_size: u32,
    pub pool_idle: usize,
}

/// Milliseconds since the Unix epoch, now.
/// The bind parameters of a multi-row `VALUES` list: `rows` tuples of `columns`.
/// SQLite gets `?`: it reads `$N` as a *named* parameter and looks each one up among
/// those already seen, which is quadratic in a large statement (a 20,000-row batch took
/// 50 s). PostgreSQL has no `?`, so it gets `$1, $2, …`.
pub(crate) fn values_list(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 6);
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * columns + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

#[cfg(any(test, feature = "testing"))]
pub mod testing {
    //! Test support, for this crate's tests and (with the `testing` feature) its users':
    //! stores for tests: a fresh SQLite file always, and a fresh PostgreSQL schema when
    //! `OPTIONHUB_TEST_POSTGRES_URL` is set; and a TCP relay a test can cut and
    //! restore, to make a database or Redis go away and come back.
    #![expect(
        clippy::unwrap_used,
        reason = "test support: a failed setup fails the test that asked for it"
    )]

    use super::*;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinSet;

    /// A relay on a local port to the Redis at `target` (`host:port`).
    #[derive(Debug)]
    pub struct Relay {
        pub port: u16,
        target: String,
        tasks: JoinSet<()>,
    }

    impl Relay {
        pub async fn start(target: &str, port: u16) -> Self {
            let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let mut tasks = JoinSet::new();
            let to = target.to_string();
            tasks.spawn(async move {
                let mut connections = JoinSet::new();
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let to = to.clone();
                    connections.spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&to).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            });
            Self {
                port,
                target: target.to_string(),
                tasks,
            }
        }

        /// Cuts every connection and stops listening.
        pub async fn cut(mut self) -> (String, u16) {
            self.tasks.shutdown().await;
            (self.target, self.port)
        }
    }

    /// `host:port` of a `redis://host:port[/db]` URL.
    pub fn host_port(url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        rest.split('/').next().unwrap_or(rest).to_string()
    }

    /// Every backend available to this test run, each empty.
    pub async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
        let mut out = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(&StoreConfig::sqlite_in(dir.path()))
            .await
            .unwrap();
        out.push((sqlite, Some(dir)));
        if let Ok(url) = std::env::var("OPTIONHUB_TEST_POSTGRES_URL") {
            out.push((fresh_postgres(&url).await, None));
        }
        out
    }

    /// A PostgreSQL store in a schema of its own, so parallel tests never meet.
    async fn fresh_postgres(url: &str) -> Store {
        sqlx::any::install_default_drivers();
        let schema = format!("t_{}", hex::encode(rand::random::<[u8; 6]>()));
        let admin = sqlx::AnyPool::connect(url).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let separator = if url.contains('?') { '&' } else { '?' };
        let config = StoreConfig {
            max_connections: 4,
            ..StoreConfig::new(format!("{url}{separator}options=-csearch_path%3D{schema}"))
        };
        Store::open(&config).await.unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Relay, host_port};
    use super::*;

    #[tokio::test]
    async fn an_unreachable_database_is_an_error_at_once_unless_waited_for() {
        // Nothing listens on port 1.
        let refused = Store::open_waiting(&StoreConfig::new("postgres://postgres@127.0.0.1:1/x"))
            .await
            .map(|_| ());
        assert!(
            matches!(refused, Err(StoreError::Unavailable(_))),
            "{refused:?}"
        );
        let Some(url) = std::env::var("OPTIONHUB_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipped the waiting half: OPTIONHUB_TEST_POSTGRES_URL is not set");
            return;
        };
        // The database "comes up" (a relay to it starts listening) a second after the
        // server began waiting for it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = host_port(&url);
        let mut config = StoreConfig::new(url.replace(&target, &format!("127.0.0.1:{port}")));
        config.connect_wait = Duration::from_secs(30);
        let relay = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Relay::start(&target, port).await
        });
        let store = Store::open_waiting(&config)
            .await
            .expect("waited for the database");
        assert_eq!(store.health().await.status, "ok");
        store.close().await;
        relay.await.unwrap().cut().await;
    }

    #[tokio::test]
    async fn every_sqlite_connection_gets_the_append_friendly_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&StoreConfig::sqlite_in(dir.path()))
            .await
            .unwrap();
        // Hold several connections at once, so more than one is opened and checked.
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut connection = store.pool().acquire().await.unwrap();
            for (pragma, expected) in [("cache_size", -32_768), ("wal_autocheckpoint", 10_000)] {
                let row = sqlx::query(&format!("PRAGMA {pragma}"))
                    .fetch_one(&mut *connection)
                    .await
                    .unwrap();
                let value: i64 = sqlx::Row::try_get(&row, 0).unwrap();
                assert_eq!(value, expected, "{pragma}");
            }
            held.push(connection);
        }
    }

    #[test]
    fn values_lists_number_parameters_only_for_postgres() {
        assert_eq!(values_list(Backend::Sqlite, 2, 3), "(?,?,?),(?,?,?)");
        assert_eq!(
            values_list(Backend::Postgres, 2, 3),
            "($1,$2,$3),($4,$5,$6)"
        );
        assert_eq!(values_list(Backend::Postgres, 0, 3), "");
    }
}
