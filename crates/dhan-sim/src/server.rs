//! The simulator's loopback server: Dhan's v2 feed WebSocket at `/`, its option-chain
//! REST API under `/v2/`, and a scrip master CSV, all on one address, all driven by one
//! [`SimMarket`].
//!
//! It behaves like Dhan where a client can tell: a request-target that is not
//! origin-form, or a feed handshake whose query is not exactly Dhan's, is answered 400
//! (`handshake`); a wrong token gets a code-50 packet (809/810) and a close; a sixth connection knocks out the oldest (805); more than 5,000
//! instruments on a connection is refused (804); option chains are limited to one
//! request per 3 s per distinct request (HTTP 429 with DH-904); trade times are IST
//! wall-clock seconds as Dhan sends them. Tests can expire the token or make the REST
//! API fail on purpose through [`SimHandle`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use url::Url;

use super::connections::ConnectionBook;
use super::model::SimMarket;
use super::universe::{SimUniverseConfig, build_universe};
use super::{feed_socket, handshake, rest_api};
use calendar::{MarketCalendar, SessionRules};
use dhan::{DhanCredentials, DhanEndpoints};

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// How often the market moves and packets go out.
    pub tick: Duration,
    /// The credentials clients must present.
    pub credentials: DhanCredentials,
    /// Send each tick's packets for a connection stacked into few WebSocket messages
    /// instead of one packet per message (the official SDK expects one per message).
    pub stack_packets: bool,
    /// Dhan's per-request option-chain cadence.
    pub option_chain_period: Duration,
    pub universe: SimUniverseConfig,
    /// The clock and trading hours: outside the session the market stands still and
    /// no packets go out (Dhan's feed is quiet then too), unless `always_open`.
    pub calendar: MarketCalendar,
}

impl SimConfig {
    /// Defaults with the given seed and credentials, trading around the clock.
    pub fn new(seed: u64, credentials: DhanCredentials) -> Self {
        Self {
            seed,
            tick: Duration::from_millis(250),
            credentials,
            stack_packets: false,
            option_chain_period: Duration::from_secs(3),
            universe: SimUniverseConfig::default(),
            // A library default for tests that drive the simulator directly; the
            // command line and the pipeline set the configured calendar.
            calendar: MarketCalendar::new(
                calendar::clock::system(),
                SessionRules {
                    always_open: true,
                    ..SessionRules::default()
                },
            ),
        }
    }
}

/// A REST failure the simulator is told to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestFault {
    /// HTTP 429 with Dhan's DH-904 body.
    RateLimited,
    /// HTTP 500 with DH-908.
    InternalError,
}

/// What every part of the server shares.
pub(super) struct SimShared {
    pub config: SimConfig,
    pub market: Mutex<SimMarket>,
    /// Each tick's changed instruments, already encoded per mode.
    pub ticks: broadcast::Sender<Arc<super::tick::TickBatch>>,
    pub connections: ConnectionBook,
    pub token_expired: AtomicBool,
    pub rest_fault: Mutex<Option<RestFault>>,
    pub rest_limiter: governor::DefaultKeyedRateLimiter<String>,
    pub scrip_master_csv: Arc<Vec<u8>>,
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<SimShared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimShared")
            .field("seed", &self.config.seed)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// Starts the simulator on `listen` (port 0 for any free port).
    pub async fn start(listen: SocketAddr, config: SimConfig) -> std::io::Result<Self> {
        let now = config.calendar.now();
        let universe = build_universe(&config.universe, calendar::ist_date(now));
        let mut csv = Vec::new();
        instruments::scrip_master::write_detailed(&universe.instruments, &mut csv)
            .map_err(std::io::Error::other)?;
        let period = governor::Quota::with_period(config.option_chain_period)
            .ok_or_else(|| std::io::Error::other("option-chain period must be positive"))?;
        let market = SimMarket::new(universe, config.seed, now);
        let (ticks, _) = broadcast::channel(64);
        let shared = Arc::new(SimShared {
            market: Mutex::new(market),
            ticks,
            connections: ConnectionBook::default(),
            token_expired: AtomicBool::new(false),
            rest_fault: Mutex::new(None),
            rest_limiter: governor::RateLimiter::keyed(period),
            scrip_master_csv: Arc::new(csv),
            config,
        });
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let app = Router::new()
            .route("/", get(feed_socket::upgrade))
            .route("/v2/optionchain", post(rest_api::option_chain))
            .route("/v2/optionchain/expirylist", post(rest_api::expiry_list))
            .route(
                "/api-scrip-master-detailed.csv",
                get(rest_api::scrip_master),
            )
            .with_state(shared.clone())
            .layer(axum::middleware::from_fn(handshake::origin_form_only));
        let mut serve_shutdown = shutdown_rx.clone();
        let server = tokio::spawn(async move {
            let stop = async move {
                let _ = serve_shutdown.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(%error, "simulator server failed");
            }
        });
        let ticker = tokio::spawn(super::tick::run(shared.clone(), shutdown_rx));
        tracing::info!(%addr, seed = shared.config.seed, "DhanHQ simulator listening");
        Ok(Self {
            addr,
            shared,
            shutdown,
            tasks: vec![server, ticker],
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The feed URL to give a client: `ws://…`, with no path, the way Dhan documents
    /// its own (`wss://api-feed.dhan.co`), so every client of the simulator proves it
    /// turns that form into an origin-form request-target.
    pub fn feed_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The REST base URL (`http://…`).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn scrip_master_url(&self) -> String {
        format!("http://{}/api-scrip-master-detailed.csv", self.addr)
    }

    /// The three addresses, parsed, as the server's configuration holds Dhan's.
    pub fn endpoints(&self) -> Result<DhanEndpoints, url::ParseError> {
        Ok(DhanEndpoints {
            feed_url: Url::parse(&self.feed_url())?,
            api_url: Url::parse(&self.api_url())?,
            scrip_master_url: Url::parse(&self.scrip_master_url())?,
        })
    }

    pub fn credentials(&self) -> &DhanCredentials {
        &self.shared.config.credentials
    }

    /// A separate market over the same universe and seed, starting at `start`: for
    /// replaying a stretch of the past (the history backfill) without touching the
    /// live one.
    pub fn replay_market(&self, start: time::OffsetDateTime) -> SimMarket {
        let universe = self.shared.market.lock().universe().clone();
        SimMarket::new(universe, self.shared.config.seed, start)
    }

    /// From now on the token counts as expired: live connections get Dhan's 807
    /// disconnect and new ones are refused the same way.
    pub fn expire_token(&self) {
        self.shared.token_expired.store(true, Ordering::SeqCst);
        self.shared.connections.disconnect_all(807);
    }

    /// Drops every feed connection abruptly (no close frame), as a network fault would.
    pub fn drop_connections(&self) {
        self.shared.connections.abort_all();
    }

    /// Makes every REST call fail this way (or succeed again with `None`).
    pub fn set_rest_fault(&self, fault: Option<RestFault>) {
        *self.shared.rest_fault.lock() = fault;
    }

    /// Feed connections open right now.
    pub fn open_connections(&self) -> usize {
        self.shared.connections.open_count()
    }

    /// Connection attempts seen so far (accepted or refused).
    pub fn connection_attempts(&self) -> u64 {
        self.shared.connections.attempts()
    }

    /// Stops the simulator.
    pub async fn stop(mut self) {
        self.shutdown.send_replace(true);
        self.shared.connections.abort_all();
        for task in self.tasks.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        self.shared.connections.abort_all();
    }
}
