//! Starting and stopping the server: build the plugin runtime, load the plugin
//! directory, watch it, start the market-data pipeline, bind, serve until asked to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

use crate::api::cache::ResponseCache;
use crate::api::{self, ApiServices, ApiSettings, AppState, RateLimits};
use crate::auth::{Role, Tier};
use crate::config::{Config, RunMode};
use crate::history::{self, ChainHistory};
use crate::pipeline::MarketPipeline;
use crate::plugins::{PluginHost, watcher};
use crate::portfolio::{CredentialSealer, M2mHub, worker};
use crate::store::shared_cache::SharedCache;
use crate::store::{NewUser, Store};

/// A server that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when it has an address of its own.
    pub metrics_addr: Option<SocketAddr>,
    /// In development with a dev user configured: a ready access token for it.
    pub dev_token: Option<String>,
    pub state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
    pipeline: MarketPipeline,
    _watcher: Option<watcher::DirectoryWatcher>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let served = self.task.await;
        for task in &self.background {
            task.abort();
        }
        // Snapshots stop before the market does; what is queued is written first.
        self.state.history.stop().await;
        self.pipeline.stop().await;
        self.state.store.close().await;
        served
            .context("server task panicked")?
            .context("server failed")
    }

    /// The in-process simulator, when the server runs on one.
    pub fn simulator(&self) -> Option<&crate::feed::sim::SimHandle> {
        self.pipeline.sim.as_ref()
    }
}

/// Builds everything and starts serving on `config.server.listen` (port 0 picks one).
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    refuse_development_on_network(&config)?;
    refuse_any_origin_in_production(&config)?;
    std::fs::create_dir_all(&config.data.dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data.dir.display()
        )
    })?;
    let host = PluginHost::new(config.plugins.clone())?;
    let watcher = load_and_watch_plugins(&config, &host).await?;
    let accounts = open_accounts(&config).await?;
    // Installed before anything records, so early counts are kept.
    let _ = crate::telemetry::metrics::handle();
    let limits = Arc::new(RateLimits::new(&config.limits));
    let cache = answer_cache(&config).await?;
    let pipeline = MarketPipeline::start(&config, host.clone()).await?;
    let sources = history::Sources {
        market: &pipeline.market,
        greeks: &pipeline.greeks,
        plugins: &host,
        sim: pipeline.sim.as_ref(),
    };
    let history = ChainHistory::start(config.history, accounts.store.clone(), sources);
    let services = ApiServices {
        cache: Arc::new(cache),
        tokens: accounts.tokens,
        limits: limits.clone(),
        store: accounts.store,
        history,
        settings: Arc::new(ApiSettings::new(
            &config.server,
            config.portfolio.quotas,
            config.auth.public_market_data,
        )),
        ws: config.ws,
        m2m: Arc::new(M2mHub::default()),
        sealer: accounts.sealer,
    };
    let state = AppState::new(host, &pipeline, services);
    let serving = serve(&config, &state, limits).await?;
    tracing::info!(addr = %serving.addr, "optionhub listening");
    Ok(RunningServer {
        addr: serving.addr,
        metrics_addr: serving.metrics_addr,
        dev_token: accounts.dev_token,
        state,
        shutdown: serving.shutdown,
        task: serving.task,
        background: serving.background,
        pipeline,
        _watcher: watcher,
    })
}

/// The database and the keys users and accounts are checked with.
struct Accounts {
    store: Store,
    tokens: Arc<crate::auth::TokenService>,
    sealer: Option<Arc<CredentialSealer>>,
    dev_token: Option<String>,
}

/// Opens the database and reads the token and credential keys, before anything starts:
/// a bad key stops the start here.
async fn open_accounts(config: &Config) -> anyhow::Result<Accounts> {
    let store = Store::open_waiting(&config.store)
        .await
        .context("cannot open the database")?;
    let tokens = Arc::new(crate::auth::token_service(&config.auth, &config.data.dir)?);
    let sealer =
        CredentialSealer::from_config(&config.portfolio, config.auth.mode, &config.data.dir)?
            .map(Arc::new);
    let dev_token = match (&config.auth.dev_user, config.auth.mode) {
        (Some(name), RunMode::Development) => Some(dev_user_token(&store, &tokens, name).await?),
        _ => None,
    };
    Ok(Accounts {
        store,
        tokens,
        sealer,
        dev_token,
    })
}

/// The listeners, the tasks serving them and the server's periodic work.
struct Serving {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds the API's address (and the metrics address, when it has its own) and serves
/// `state` until shutdown is signalled.
async fn serve(
    config: &Config,
    state: &AppState,
    limits: Arc<RateLimits>,
) -> anyhow::Result<Serving> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = move |mut signal: tokio::sync::watch::Receiver<bool>| async move {
        crate::shutdown::stopped(&mut signal).await;
    };
    let mut background = background_tasks(config, state, limits);
    let metrics_addr = match config.server.metrics_listen {
        Some(metrics_listen) => {
            let (addr, task) =
                serve_metrics(metrics_listen, state, until_stopped(stopped.clone())).await?;
            background.push(task);
            Some(addr)
        }
        None => None,
    };
    let task = serve_api(listener, state, until_stopped(stopped));
    Ok(Serving {
        addr,
        metrics_addr,
        shutdown,
        task,
        background,
    })
}

/// Loads every plugin in the configured directory (creating it if needed) and watches
/// it for hot reloads; `None` without a plugin directory.
async fn load_and_watch_plugins(
    config: &Config,
    host: &Arc<PluginHost>,
) -> anyhow::Result<Option<watcher::DirectoryWatcher>> {
    let Some(dir) = config.plugins.plugin_dir() else {
        return Ok(None);
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the plugin directory {}", dir.display()))?;
    let dir = dir.to_path_buf();
    let loaded = {
        let dir = dir.clone();
        host.blocking(move |h| h.load_dir(&dir)).await?
    }
    .with_context(|| format!("cannot read the plugin directory {}", dir.display()))?;
    let ok = loaded.iter().filter(|(_, r)| r.is_ok()).count();
    tracing::info!(dir = %dir.display(), loaded = ok, refused = loaded.len() - ok, "plugin directory loaded");
    let watcher =
        watcher::watch(Arc::clone(host), &dir).context("cannot watch the plugin directory")?;
    Ok(Some(watcher))
}

/// The answer cache: in memory, with Redis behind it when `REDIS_URL` is set.
async fn answer_cache(config: &Config) -> anyhow::Result<ResponseCache> {
    let shared_cache = match &config.cache.redis {
        Some(redis) => Some(
            SharedCache::connect(redis.clone(), &ResponseCache::process_scope())
                .await
                .context("cannot use Redis")?,
        ),
        None => None,
    };
    Ok(ResponseCache::new(config.cache.max_bytes, config.cache.ttl).with_shared(shared_cache))
}

/// The API's settings, from the server's and the access configuration.
/// The server's own periodic work: forgetting idle callers' rate-limit state, the M2M
/// worker, and the M2M series' retention.
fn background_tasks(
    config: &Config,
    state: &AppState,
    limits: Arc<RateLimits>,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(forget_idle_callers(limits)),
        worker::spawn(
            state.store.clone(),
            state.m2m.clone(),
            Arc::new(::strategy::MarketValuer::new(state.live_market())),
            config.portfolio.m2m_interval,
        ),
        crate::portfolio::retention::spawn(
            state.store.clone(),
            crate::portfolio::retention::M2mRetention::from_config(&config.portfolio),
        ),
    ]
}

/// Serves the API on `listener` until `stop` resolves, with each caller's address.
fn serve_api(
    listener: TcpListener,
    state: &AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let app = api::router(state.clone());
    tokio::spawn(async move {
        axum::serve(
            without_nagle(listener),
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await
    })
}

/// `listener`, with `TCP_NODELAY` set on every connection it accepts (WebSocket
/// connections included: they are upgraded HTTP connections). Answers and frames are
/// written whole; Nagle's algorithm would hold a small write back until the previous
/// one is acknowledged, which the client's delayed ACK can stretch to tens of ms.
fn without_nagle(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    listener.tap_io(set_nodelay)
}

fn set_nodelay(stream: &mut TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
    }
}

/// Serves `/metrics` on its own address until `stop` resolves.
async fn serve_metrics(
    listen: SocketAddr,
    state: &AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} for metrics"))?;
    let addr = listener.local_addr()?;
    let app = api::metrics_router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(without_nagle(listener), app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(%error, "metrics listener failed");
        }
    });
    tracing::info!(%addr, "metrics listening");
    Ok((addr, task))
}

/// Development mode signs tokens with a generated secret and prints an admin token: fine
/// on loopback, an open door on any other address. Refused there unless asked for.
fn refuse_development_on_network(config: &Config) -> anyhow::Result<()> {
    let listen = config.server.listen;
    if config.auth.mode == RunMode::Development
        && !listen.ip().is_loopback()
        && !config.server.allow_dev_on_network
    {
        anyhow::bail!(
            "refusing development mode on {listen}, which is not a loopback address: \
             development mode generates its JWT secret and hands out an admin token. Set \
             OPTIONHUB_MODE=production (with JWT_SECRET), listen on 127.0.0.1, or pass \
             --allow-dev-on-network (OPTIONHUB_ALLOW_DEV_ON_NETWORK=true) if you mean it"
        );
    }
    Ok(())
}

/// `*` lets any web page call the API with a token it holds: convenient while
/// developing a frontend, never what a deployment means.
fn refuse_any_origin_in_production(config: &Config) -> anyhow::Result<()> {
    if config.auth.mode == RunMode::Production && config.server.cors_origins.is_any() {
        anyhow::bail!(
            "refusing OPTIONHUB_CORS_ORIGINS=* in production mode: list the origins of the \
             web apps that call the API (e.g. --cors-origins https://app.example.com)"
        );
    }
    Ok(())
}

/// Makes sure the development user exists (admin, pro) and issues a token for it.
async fn dev_user_token(
    store: &Store,
    tokens: &crate::auth::TokenService,
    name: &str,
) -> anyhow::Result<String> {
    let users = store.users();
    let principal = match users.get(name).await? {
        Some(user) => user.principal(),
        None => users
            .add(NewUser {
                username: name,
                role: Role::Admin,
                tier: Tier::Pro,
                password_hash: None,
            })
            .await?
            .principal(),
    };
    Ok(tokens.issue(&principal)?)
}

/// Rate-limit state is per caller; drop callers idle long enough to be full again.
async fn forget_idle_callers(limits: Arc<RateLimits>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        limits.forget_idle();
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let server = start(config).await?;
    if let Some(token) = &server.dev_token {
        // stdout, not the log: this is for the person who ran `make run`.
        println!(
            "\nDevelopment access token (admin, pro), valid {} h:\n\n  {token}\n\n\
             Try: curl -H 'Authorization: Bearer {token}' http://{}/api/v2/market/underlyings\n",
            server.state.tokens.ttl().as_secs() / 3600,
            server.addr,
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener;

    use super::*;

    /// The socket the server side of a fresh loopback connection gets from `listener`.
    async fn accepted<L: Listener<Io = TcpStream>>(mut listener: L, addr: SocketAddr) -> TcpStream {
        let (client, (server, _)) = tokio::join!(TcpStream::connect(addr), listener.accept());
        drop(client.expect("connects"));
        server
    }

    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let plain = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = plain.local_addr().expect("has an address");
        // What the kernel gives by default, so the check below can fail.
        assert!(!accepted(plain, addr).await.nodelay().expect("readable"));

        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let stream = accepted(without_nagle(listener), addr).await;
        assert!(stream.nodelay().expect("readable"));
    }
}
