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
use crate::config::{Config, DhanCredentials, FeedSourceConfig};
use crate::feed::dhan::live::{Backoff, FeedLimits, LiveFeed, LiveFeedConfig};
use crate::feed::dhan::rest::DhanRestClient;
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
    pub async fn start(config: &Config, plugins: Arc<PluginHost>) -> anyhow::Result<Self> {
        let feed = &config.feed;
        let (events, events_rx) = mpsc::channel(INGEST_QUEUE);
        let plan = Arc::new(RwLock::new(PlanSummary::default()));
        let rest = Arc::new(Mutex::new(RestStatus::default()));
        let scrip_master = Arc::new(Mutex::new(ScripMasterStatus::default()));
        let mut tasks = Vec::new();

        if let FeedSourceConfig::Replay { file, speed_factor } = &feed.source {
            let reader = RecordingReader::open(file)
                .with_context(|| format!("cannot open the recording {}", file.display()))?;
            let registry = build_registry(reader.instruments().to_vec(), &feed.underlyings, &[])?;
            let status = Arc::new(FeedStatus::new(FeedSource::Replay));
            let market = Arc::new(
                MarketState::new(registry, status, feed.ltt_shift_secs)
                    .with_calendar(calendar(config)),
            );
            tasks.push(tokio::spawn(ingest::run(market.clone(), events_rx, None)));
            let speed = speed_factor.map_or(ReplaySpeed::Max, ReplaySpeed::Factor);
            tasks.push(tokio::spawn(async move {
                match replay(reader, speed, events).await {
                    Ok(played) => tracing::info!(played, "replay finished"),
                    Err(error) => tracing::error!(%error, "replay stopped"),
                }
            }));
            let greeks = LiveGreeks::spawn(market.clone(), plugins, greeks_config(config));
            *scrip_master.lock() = ScripMasterStatus {
                source: "recording",
                instruments: market.registry().len(),
                ..ScripMasterStatus::default()
            };
            return Ok(Self {
                market,
                greeks,
                plan,
                rest,
                scrip_master,
                sim: None,
                live: None,
                tasks,
            });
        }

        let (sim, credentials, endpoints, source, cache_name, max_age) = match &feed.source {
            FeedSourceConfig::Dhan {
                credentials,
                endpoints,
            } => (
                None,
                credentials.clone(),
                endpoints.as_ref().clone(),
                FeedSource::Dhan,
                "scrip-master.csv",
                feed.scrip_master_max_age,
            ),
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
                // The simulator's universe is built at its start: never reuse a copy.
                (
                    Some(sim),
                    credentials,
                    endpoints,
                    FeedSource::Simulator,
                    "scrip-master-sim.csv",
                    Duration::ZERO,
                )
            }
            FeedSourceConfig::Replay { .. } => unreachable_replay()?,
        };

        let cache_file = config.data.dir.join(cache_name);
        let filter = Filter::new(&feed.underlyings);
        let loaded = scrip_master::load_or_fetch(
            endpoints.scrip_master_url.as_str(),
            &cache_file,
            max_age,
            &filter,
        )
        .await
        .context("cannot load Dhan's scrip master")?;
        *scrip_master.lock() = ScripMasterStatus::of(&loaded);
        if let Some(rows) = loaded.master.bad_rows_summary() {
            tracing::warn!(
                rejected = loaded.master.bad_row_count,
                %rows,
                "scrip master rows rejected"
            );
        }
        let rejected = loaded.master.bad_rows;
        let instruments = loaded.master.instruments;
        let recorder = match &feed.record {
            Some(path) => Some(
                Recorder::create(path, &instruments)
                    .with_context(|| format!("cannot create the recording {}", path.display()))?,
            ),
            None => None,
        };
        let registry = build_registry(instruments, &feed.underlyings, &rejected)?;
        let status = Arc::new(FeedStatus::new(source).with_quiet_after(feed.inactivity_timeout));
        if max_age > Duration::ZERO {
            tasks.push(tokio::spawn(keep_fresh(
                RefreshPlan {
                    url: endpoints.scrip_master_url.to_string(),
                    cache_file: cache_file.clone(),
                    every: max_age,
                    filter: filter.clone(),
                },
                registry.clone(),
                scrip_master.clone(),
            )));
        }
        let market = Arc::new(
            MarketState::new(registry, status.clone(), feed.ltt_shift_secs)
                .with_calendar(calendar(config))
                .with_demand_idle(feed.on_demand.idle),
        );
        tasks.push(tokio::spawn(ingest::run(
            market.clone(),
            events_rx,
            recorder,
        )));

        let client = Arc::new(
            DhanRestClient::new(&endpoints.api_url, credentials.clone())
                .map_err(|e| anyhow::anyhow!("cannot build the Dhan REST client: {e}"))?,
        );
        let seeder = Arc::new(ChainSeeder {
            client,
            events: events.clone(),
            status: rest.clone(),
            rate_limit_pause: RATE_LIMIT_PAUSE,
        });
        let tier_expiries = feed.tiers.expiries;
        let targets = chain_targets(&market, tier_expiries);
        let seeded = seeder.seed(&targets).await;
        tracing::info!(
            seeded,
            chains = targets.len(),
            "option chains seeded from REST"
        );
        tasks.push(tokio::spawn({
            let every = feed.rest_refresh_every;
            let (seeder, market) = (seeder.clone(), market.clone());
            async move {
                let targets = || chain_targets(&market, tier_expiries);
                seeder.refresh_forever(targets, every).await;
            }
        }));
        tasks.push(tokio::spawn(serve_wanted(
            seeder,
            market.clone(),
            tier_expiries,
        )));

        let limits = FeedLimits::default();
        let live = Arc::new(LiveFeed::spawn(
            LiveFeedConfig {
                feed_url: endpoints.feed_url.clone(),
                credentials,
                limits,
                inactivity_timeout: feed.inactivity_timeout,
                backoff: Backoff {
                    initial: feed.backoff_initial,
                    max: feed.backoff_max,
                },
            },
            status,
            events,
        ));
        tasks.push(tokio::spawn(run_planner(
            market.clone(),
            live.clone(),
            (feed.tiers, feed.on_demand),
            limits,
            plan.clone(),
            PLANNER_EVERY,
        )));
        let greeks = LiveGreeks::spawn(market.clone(), plugins, greeks_config(config));
        Ok(Self {
            market,
            greeks,
            plan,
            rest,
            scrip_master,
            sim,
            live: Some(live),
            tasks,
        })
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

fn unreachable_replay<T>() -> anyhow::Result<T> {
    anyhow::bail!("replay is handled before the live sources")
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
