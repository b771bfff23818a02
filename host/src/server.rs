//! Starting and stopping the server: build the plugin runtime, load the plugin
//! directory, watch it, start the market-data pipeline, bind, serve until asked to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::pipeline::MarketPipeline;
use crate::plugins::{PluginHost, watcher};

/// A server that is accepting connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    pipeline: MarketPipeline,
    _watcher: Option<watcher::DirectoryWatcher>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let served = self.task.await;
        self.pipeline.stop().await;
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
    std::fs::create_dir_all(&config.data.dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data.dir.display()
        )
    })?;
    let host = PluginHost::new(config.plugins.clone())?;
    let watcher = match config.plugins.plugin_dir() {
        Some(dir) => {
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
            Some(
                watcher::watch(Arc::clone(&host), &dir)
                    .context("cannot watch the plugin directory")?,
            )
        }
        None => None,
    };

    let pipeline = MarketPipeline::start(&config, host.clone()).await?;
    let state = AppState::new(host, &pipeline);
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = api::router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "optionhub listening");
    Ok(RunningServer {
        addr,
        state,
        shutdown,
        task,
        pipeline,
        _watcher: watcher,
    })
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let server = start(config).await?;
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
