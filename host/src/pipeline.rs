//! Wiring the market-data pipeline at start-up: where data comes from (Dhan, the
//! built-in simulator, or a recording), the instrument registry, the market, the ingest
//! task, REST seeding, the live client with its subscription planner, and the Greeks
//! workers. `anyhow` is fine here: this runs once, at start, and a failure stops it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use parking_lot::{Mutex, RwLock};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::calendar::MarketCalendar;
use crate::config::{Config, DhanCredentials, DhanEndpoints, FeedSourceConfig};
use crate::feed::dhan::live::{Backoff, FeedLimits, LiveFeed, LiveFeedConfig};
use crate::feed::dhan::rest::DhanRestClient;
use crate::feed::event::FeedEvent;
use crate::feed::record::{Recorder, RecordingReader, ReplaySpeed, replay};
use crate::feed::sim::{SimConfig, SimHandle};
use crate::feed::status::{FeedSource, FeedStatus};
use crate::instruments::Instrument;
use crate::instruments::registry::InstrumentRegistry;
use crate::instruments::scrip_master::{
    self, BadRow, Filter, RefreshPlan, ScripMasterStatus, keep_fresh,
};
use crate::market::MarketState;
use crate::market::ingest::{self, INGEST_QUEUE};
use crate::market::on_demand_rest::serve_wanted;
use crate::market::seed::{ChainSeeder, ChainTarget, RestStatus};
use crate::market::subscriptions::{PlanSummary, run_planner};
use crate::plugins::PluginHost;
use crate::plugins::live_greeks::{LiveGreeks, LiveGreeksConfig};

/// How long to wait after a rate-limit answer before the next REST call.
const RATE_LIMIT_PAUSE: Duration = Duration::from_secs(30);
/// How often the planner looks at the spots.
const PLANNER_EVERY: Duration = Duration::from_secs(1);

/// The running pipeline.
#[derive(Debug)]
pub struct MarketPipeline {
    pub market: Arc<MarketState>,
    pub greeks: Arc<LiveGreeks>,
    pub plan: Arc<RwLock<PlanSummary>>,
    pub rest: Arc<Mutex<RestStatus>>,
    /// Where the instruments came from, and how fresh the local copy is.
    pub scrip_master: Arc<Mutex<ScripMasterStatus>>,
    /// The in-process simulator, when running without credentials.
    pub sim: Option<SimHandle>,
    live: Option<Arc<LiveFeed>>,
    tasks: Vec<JoinHandle<()>>,
}

impl MarketPipeline {
    /// A pipeline with no source and no tasks around an existing market: the market
    /// changes only when its owner changes it. For serving tests that need no feed.
    pub fn at_rest(market: Arc<MarketState>, greeks: Arc<LiveGreeks>) -> Self {
        Self {
            market,
            greeks,
            plan: Arc::default(),
            rest: Arc::default(),
            scrip_master: Arc::default(),
            sim: None,
            live: None,
            tasks: Vec::new(),
        }
    }

    /// Starts every part in order: the source, the instruments and the market, the
    /// ingest task, REST seeding and refreshing, the live feed with its planner, and
    /// the Greeks workers. A recording replaces the first and the live parts.
    pub async fn start(config: &Config, plugins: Arc<PluginHost>) -> anyhow::Result<Self> {
        let (events, events_rx) = mpsc::channel(INGEST_QUEUE);
        let mut parts = Parts::default();
        if let FeedSourceConfig::Replay { file, speed_factor } = &config.feed.source {
            let market = parts.start_replay(config, file, *speed_factor, events, events_rx)?;
            return Ok(parts.finish(config, market, plugins, None, None));
        }
        let source = LiveSource::start(config).await?;
        let (market, recorder) = parts.load_market(config, &source).await?;
        parts.tasks.push(tokio::spawn(ingest::run(
            market.clone(),
            events_rx,
            recorder,
        )));
        parts
            .start_rest(config, &source, &market, events.clone())
            .await?;
        let live = parts.start_live(config, &source, &market, events);
        Ok(parts.finish(config, market, plugins, source.sim, Some(live)))
    }

    /// Stops the feed (politely), the tasks and the simulator.
    pub async fn stop(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Wait for the aborts to land, so the market is final when this returns.
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        if let Some(live) = self.live.take() {
            match Arc::try_unwrap(live) {
                Ok(live) => live.shutdown().await,
                Err(live) => drop(live),
            }
        }
        if let Some(sim) = self.sim.take() {
            sim.stop().await;
        }
    }
}

/// Where live data comes from: Dhan itself, or the in-process simulator speaking
/// Dhan's protocol on loopback.
struct LiveSource {
    sim: Option<SimHandle>,
    credentials: DhanCredentials,
    endpoints: DhanEndpoints,
    kind: FeedSource,
    /// The scrip master's local copy in the data directory…
    cache_name: &'static str,
    /// … and how long it stays fresh (zero: fetched at every start).
    max_age: Duration,
}

impl LiveSource {
    async fn start(config: &Config) -> anyhow::Result<Self> {
        match &config.feed.source {
            FeedSourceConfig::Dhan {
                credentials,
                endpoints,
            } => Ok(Self {
                sim: None,
                credentials: credentials.clone(),
                endpoints: endpoints.as_ref().clone(),
                kind: FeedSource::Dhan,
                cache_name: "scrip-master.csv",
                max_age: config.feed.scrip_master_max_age,
            }),
            FeedSourceConfig::Simulator {
                seed,
                tick,
                expiry_weekdays,
            } => {
                let credentials = DhanCredentials::new("SIMULATOR", random_token());
                let mut sim_config = SimConfig::new(*seed, credentials.clone());
                sim_config.tick = *tick;
                sim_config.calendar = calendar(config);
                sim_config.universe = sim_config
                    .universe
                    .with_expiry_weekdays(expiry_weekdays.nse, expiry_weekdays.bse);
                let sim = SimHandle::start(([127, 0, 0, 1], 0).into(), sim_config)
                    .await
                    .context("cannot start the DhanHQ simulator")?;
                let endpoints = sim
                    .endpoints()
                    .context("the DhanHQ simulator's addresses do not parse")?;
                Ok(Self {
                    sim: Some(sim),
                    credentials,
                    endpoints,
                    kind: FeedSource::Simulator,
                    cache_name: "scrip-master-sim.csv",
                    // The simulator's universe is built at its start: never reuse a copy.
                    max_age: Duration::ZERO,
                })
            }
            FeedSourceConfig::Replay { .. } => {
                anyhow::bail!("replay is handled before the live sources")
            }
        }
    }
}

/// What the start-up steps build up: the status handles the pipeline hands out, and
/// the tasks it owns.
#[derive(Default)]
struct Parts {
    plan: Arc<RwLock<PlanSummary>>,
    rest: Arc<Mutex<RestStatus>>,
    scrip_master: Arc<Mutex<ScripMasterStatus>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Parts {
    /// A recording's instruments and market, its ingest task, and the replay itself.
    fn start_replay(
        &mut self,
        config: &Config,
        file: &std::path::Path,
        speed_factor: Option<f64>,
        events: mpsc::Sender<FeedEvent>,
        events_rx: mpsc::Receiver<FeedEvent>,
    ) -> anyhow::Result<Arc<MarketState>> {
        let reader = RecordingReader::open(file)
            .with_context(|| format!("cannot open the recording {}", file.display()))?;
        let registry =
            build_registry(reader.instruments().to_vec(), &config.feed.underlyings, &[])?;
        let status = Arc::new(FeedStatus::new(FeedSource::Replay));
        let market = Arc::new(
            MarketState::new(registry, status, config.feed.ltt_shift_secs)
                .with_calendar(calendar(config)),
        );
        self.tasks
            .push(tokio::spawn(ingest::run(market.clone(), events_rx, None)));
        let speed = speed_factor.map_or(ReplaySpeed::Max, ReplaySpeed::Factor);
        self.tasks.push(tokio::spawn(async move {
            match replay(reader, speed, events).await {
                Ok(played) => tracing::info!(played, "replay finished"),
                Err(error) => tracing::error!(%error, "replay stopped"),
            }
        }));
        *self.scrip_master.lock() = ScripMasterStatus {
            source: "recording",
            instruments: market.registry().len(),
            ..ScripMasterStatus::default()
        };
        Ok(market)
    }

    /// The scrip master (cached copy or download, kept fresh when it may go stale),
    /// the registry built from it, the market over that, and the recorder if asked for.
    async fn load_market(
        &mut self,
        config: &Config,
        source: &LiveSource,
    ) -> anyhow::Result<(Arc<MarketState>, Option<Recorder>)> {
        let feed = &config.feed;
        let cache_file = config.data.dir.join(source.cache_name);
        let filter = Filter::new(&feed.underlyings);
        let url = &source.endpoints.scrip_master_url;
        let loaded =
            scrip_master::load_or_fetch(url.as_str(), &cache_file, source.max_age, &filter)
                .await
                .context("cannot load Dhan's scrip master")?;
        *self.scrip_master.lock() = ScripMasterStatus::of(&loaded);
        if let Some(rows) = loaded.master.bad_rows_summary() {
            tracing::warn!(
                rejected = loaded.master.bad_row_count,
                %rows,
                "scrip master rows rejected"
            );
        }
        let instruments = loaded.master.instruments;
        let recorder = match &feed.record {
            Some(path) => Some(
                Recorder::create(path, &instruments)
                    .with_context(|| format!("cannot create the recording {}", path.display()))?,
            ),
            None => None,
        };
        let registry = build_registry(instruments, &feed.underlyings, &loaded.master.bad_rows)?;
        if source.max_age > Duration::ZERO {
            self.tasks.push(tokio::spawn(keep_fresh(
                RefreshPlan {
                    url: url.to_string(),
                    cache_file,
                    every: source.max_age,
                    filter,
                },
                registry.clone(),
                self.scrip_master.clone(),
            )));
        }
        let status = Arc::new(
            FeedStatus::new(source.kind.clone()).with_quiet_after(feed.inactivity_timeout),
        );
        let market = MarketState::new(registry, status, feed.ltt_shift_secs)
            .with_calendar(calendar(config))
            .with_demand_idle(feed.on_demand.idle);
        Ok((Arc::new(market), recorder))
    }

    /// Seeds the tier chains from Dhan's REST option chain, then keeps refreshing them,
    /// and serves chains asked for beyond the tiers from REST until the feed has them.
    /// One client, so Dhan's limits hold across all three.
    async fn start_rest(
        &mut self,
        config: &Config,
        source: &LiveSource,
        market: &Arc<MarketState>,
        events: mpsc::Sender<FeedEvent>,
    ) -> anyhow::Result<()> {
        let client = DhanRestClient::new(&source.endpoints.api_url, source.credentials.clone())
            .map_err(|e| anyhow::anyhow!("cannot build the Dhan REST client: {e}"))?;
        let seeder = Arc::new(ChainSeeder {
            client: Arc::new(client),
            events,
            status: self.rest.clone(),
            rate_limit_pause: RATE_LIMIT_PAUSE,
        });
        let tier_expiries = config.feed.tiers.expiries;
        let targets = chain_targets(market, tier_expiries);
        let seeded = seeder.seed(&targets).await;
        tracing::info!(
            seeded,
            chains = targets.len(),
            "option chains seeded from REST"
        );
        self.tasks.push(tokio::spawn({
            let every = config.feed.rest_refresh_every;
            let (seeder, market) = (seeder.clone(), market.clone());
            async move {
                let targets = || chain_targets(&market, tier_expiries);
                seeder.refresh_forever(targets, every).await;
            }
        }));
        self.tasks.push(tokio::spawn(serve_wanted(
            seeder,
            market.clone(),
            tier_expiries,
        )));
        Ok(())
    }

    /// The live feed connections and the planner that tells them what to subscribe.
    fn start_live(
        &mut self,
        config: &Config,
        source: &LiveSource,
        market: &Arc<MarketState>,
        events: mpsc::Sender<FeedEvent>,
    ) -> Arc<LiveFeed> {
        let feed = &config.feed;
        let limits = FeedLimits::default();
        let live = Arc::new(LiveFeed::spawn(
            LiveFeedConfig {
                feed_url: source.endpoints.feed_url.clone(),
                credentials: source.credentials.clone(),
                limits,
                inactivity_timeout: feed.inactivity_timeout,
                backoff: Backoff {
                    initial: feed.backoff_initial,
                    max: feed.backoff_max,
                },
            },
            market.status().clone(),
            events,
        ));
        self.tasks.push(tokio::spawn(run_planner(
            market.clone(),
            live.clone(),
            (feed.tiers, feed.on_demand),
            limits,
            self.plan.clone(),
            PLANNER_EVERY,
        )));
        live
    }

    /// The Greeks workers over the market, and the pipeline itself.
    fn finish(
        self,
        config: &Config,
        market: Arc<MarketState>,
        plugins: Arc<PluginHost>,
        sim: Option<SimHandle>,
        live: Option<Arc<LiveFeed>>,
    ) -> MarketPipeline {
        let greeks = LiveGreeks::spawn(market.clone(), plugins, greeks_config(config));
        MarketPipeline {
            market,
            greeks,
            plan: self.plan,
            rest: self.rest,
            scrip_master: self.scrip_master,
            sim,
            live,
            tasks: self.tasks,
        }
    }
}

/// The configured clock and session rules.
fn calendar(config: &Config) -> MarketCalendar {
    MarketCalendar::new(config.feed.clock.clone(), config.feed.session.clone())
}

fn greeks_config(config: &Config) -> LiveGreeksConfig {
    LiveGreeksConfig {
        window: config.chains.greeks_window,
        rate: config.chains.rate,
    }
}

fn build_registry(
    instruments: Vec<Instrument>,
    underlyings: &[String],
    rejected: &[BadRow],
) -> anyhow::Result<Arc<InstrumentRegistry>> {
    let registry = InstrumentRegistry::build_from_master(instruments, underlyings, rejected)
        .context("the scrip master does not cover the configured underlyings")?;
    Ok(Arc::new(registry))
}

/// The nearest `expiries` live chains of every underlying (by the IST calendar: an
/// expiry leaves at 15:30 IST on its day).
fn chain_targets(market: &MarketState, expiries: usize) -> Vec<ChainTarget> {
    let today = market.calendar().live_from();
    market
        .registry()
        .underlyings()
        .flat_map(|info| {
            info.expiries
                .iter()
                .filter(|e| e.expiry >= today)
                .take(expiries)
                .map(|e| ChainTarget {
                    underlying: info.index,
                    expiry: e.expiry,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A fresh token for the in-process simulator: nothing outside this process knows it.
fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}
