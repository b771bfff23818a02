//! Greeks and implied volatilities for every live chain, computed by the active
//! `greeks-model` plugin whenever the chain changes.
//!
//! One worker per chain waits for the chain's sequence to move, then waits out the rest
//! of the coalescing window since its last computation, so a chain ticking a hundred
//! times a second is still computed at most once per window. The plugin runs on the
//! blocking pool, off the ingest path; a failure keeps the previous result (marked with
//! the error) rather than blanking the chain.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use optionhub_pricing::chain as plain;
use parking_lot::RwLock;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use dhan::event::now_ns;
use market::{ChainId, ChainView, MarketState};
use plugin_host::types;
use plugin_host::{PluginHost, PluginStamp, World};

/// One contract's model output.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContractGreeks {
    pub price: f64,
    /// Implied volatility, decimal (0.12 = 12 %).
    pub iv: f64,
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
    pub rho: f64,
    pub iv_status: &'static str,
}

/// The latest computation for one chain.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainGreeks {
    /// The chain sequence the computation saw.
    pub seq: u64,
    pub computed_at_ns: i64,
    pub plugin: PluginStamp,
    pub model: String,
    pub forward: f64,
    pub forward_source: &'static str,
    pub time_to_expiry_years: f64,
    #[serde(skip)]
    pub contracts: HashMap<u32, ContractGreeks>,
    /// The last computation failed with this; the numbers are from the one before.
    pub last_error: Option<String>,
}

/// How the workers run.
#[derive(Debug, Clone, Copy)]
pub struct LiveGreeksConfig {
    /// A chain is recomputed at most once per window.
    pub window: Duration,
    /// Risk-free rate handed to the model (continuously compounded).
    pub rate: f64,
}

/// Every chain's latest Greeks.
#[derive(Debug, Default)]
pub struct LiveGreeks {
    results: RwLock<HashMap<ChainId, Arc<ChainGreeks>>>,
    updates: HashMap<ChainId, watch::Sender<u64>>,
    /// The rate the model is given, so analytics on the same chains use the same one.
    rate: f64,
}

impl LiveGreeks {
    /// Starts one worker per chain of `market`.
    pub fn spawn(
        market: Arc<MarketState>,
        plugins: Arc<PluginHost>,
        config: LiveGreeksConfig,
    ) -> Arc<Self> {
        let ids = market.chain_ids();
        let updates = ids
            .iter()
            .map(|id| (id.clone(), watch::channel(0).0))
            .collect();
        let live = Arc::new(Self {
            results: RwLock::new(HashMap::new()),
            updates,
            rate: config.rate,
        });
        for id in ids {
            if let Some(changes) = market.watch_chain(&id) {
                let worker = Worker {
                    id,
                    market: market.clone(),
                    plugins: plugins.clone(),
                    live: Arc::downgrade(&live),
                    config,
                };
                tokio::spawn(worker.run(changes));
            }
        }
        live
    }

    /// The risk-free rate the Greeks were computed with (continuously compounded).
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The latest result for a chain.
    pub fn get(&self, id: &ChainId) -> Option<Arc<ChainGreeks>> {
        self.results.read().get(id).cloned()
    }

    /// A receiver that sees the chain's Greeks recomputed (the value is the chain seq).
    pub fn watch(&self, id: &ChainId) -> Option<watch::Receiver<u64>> {
        self.updates.get(id).map(watch::Sender::subscribe)
    }

    fn store(&self, id: &ChainId, result: ChainGreeks) {
        let seq = result.seq;
        self.results.write().insert(id.clone(), Arc::new(result));
        if let Some(sender) = self.updates.get(id) {
            sender.send_replace(seq);
        }
    }

    fn store_error(&self, id: &ChainId, error: String) {
        let mut results = self.results.write();
        if let Some(previous) = results.get(id) {
            let mut kept = (**previous).clone();
            kept.last_error = Some(error);
            results.insert(id.clone(), Arc::new(kept));
        }
    }
}

struct Worker {
    id: ChainId,
    market: Arc<MarketState>,
    plugins: Arc<PluginHost>,
    live: std::sync::Weak<LiveGreeks>,
    config: LiveGreeksConfig,
}

impl Worker {
    async fn run(self, mut changes: watch::Receiver<u64>) {
        let mut last_run: Option<Instant> = None;
        while changes.changed().await.is_ok() {
            if let Some(last) = last_run {
                let next = last + self.config.window;
                tokio::time::sleep_until(next).await;
            }
            changes.borrow_and_update();
            last_run = Some(Instant::now());
            let Some(view) = self.market.chain_view(&self.id) else {
                break;
            };
            let Some(snapshot) = snapshot(&view, self.config.rate) else {
                continue;
            };
            let seq = view.seq;
            let ids = snapshot.contracts.security_id.clone();
            let outcome = self
                .plugins
                .blocking(move |host| host.call_greeks(&snapshot.into()))
                .await;
            let Some(live) = self.live.upgrade() else {
                break;
            };
            match outcome {
                Ok(Ok(stamped)) => live.store(
                    &self.id,
                    chain_greeks(seq, &ids, stamped.value, stamped.plugin),
                ),
                Ok(Err(error)) => {
                    tracing::warn!(underlying = %self.id.underlying, expiry = %self.id.expiry, %error, "greeks computation failed");
                    live.store_error(&self.id, error.to_string());
                }
                Err(error) => live.store_error(&self.id, error.to_string()),
            }
        }
    }
}

/// The plugin input for a chain: every contract with a price or a quote, calls and puts
/// interleaved by strike. `None` when nothing in the chain is priced yet.
pub fn snapshot(view: &ChainView, rate: f64) -> Option<plain::ChainSnapshot> {
    let mut c = plain::ContractColumns::default();
    for row in &view.rows {
        for (contract, is_call) in [(&row.call, true), (&row.put, false)] {
            let Some(contract) = contract else { continue };
            let b = &contract.book;
            if b.ltp <= 0.0 && (b.bid <= 0.0 || b.ask <= 0.0) {
                continue;
            }
            c.security_id.push(u64::from(contract.security_id));
            c.strike.push(row.strike);
            c.is_call.push(is_call);
            c.last_price.push(b.ltp);
            c.bid.push(b.bid);
            c.ask.push(b.ask);
            c.volume.push(b.volume);
            c.oi.push(b.oi);
            c.previous_oi.push(b.prev_oi);
            c.previous_close.push(b.prev_close);
            c.previous_volume.push(b.prev_volume);
        }
    }
    if c.is_empty() || view.spot <= 0.0 {
        return None;
    }
    Some(plain::ChainSnapshot {
        underlying: view.underlying.clone(),
        spot: view.spot,
        forward: None,
        expiry: plain::Date {
            year: u16::try_from(view.expiry.year()).ok()?,
            month: u8::from(view.expiry.month()),
            day: view.expiry.day(),
        },
        as_of_ms: view.as_of_ns / 1_000_000,
        lot_size: view.lot_size,
        rate,
        contracts: c,
    })
}

/// Pairs the plugin's rows (in input order) with the security ids that were sent.
pub fn chain_greeks(
    seq: u64,
    ids: &[u64],
    result: types::GreeksResult,
    plugin: PluginStamp,
) -> ChainGreeks {
    let result: plain::GreeksResult = result.into();
    let g = &result.greeks;
    let contracts = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            Some((
                u32::try_from(*id).ok()?,
                ContractGreeks {
                    price: *g.price.get(i)?,
                    iv: *g.iv.get(i)?,
                    delta: *g.delta.get(i)?,
                    gamma: *g.gamma.get(i)?,
                    theta: *g.theta.get(i)?,
                    vega: *g.vega.get(i)?,
                    rho: *g.rho.get(i)?,
                    iv_status: iv_status_name(*g.status.get(i)?),
                },
            ))
        })
        .collect();
    ChainGreeks {
        seq,
        computed_at_ns: now_ns(),
        plugin,
        model: result.model,
        forward: result.forward,
        forward_source: match result.forward_source {
            plain::ForwardSource::Given => "given",
            plain::ForwardSource::PutCallParity => "put_call_parity",
            plain::ForwardSource::Spot => "spot",
        },
        time_to_expiry_years: result.time_to_expiry,
        contracts,
        last_error: None,
    }
}

/// Why chain `id` has no Greeks, as a caller is told it: no Greeks plugin, or one that
/// has not priced the chain yet.
pub fn missing_greeks(plugins: &PluginHost, id: &ChainId) -> String {
    let why = if plugins
        .registry()
        .active_for_world(World::GreeksModel)
        .is_none()
    {
        "no greeks-model plugin is loaded"
    } else {
        "they have not been computed yet (the chain has no prices yet); retry shortly"
    };
    format!(
        "analytics on {} {} need the chain's Greeks: {why}",
        id.underlying, id.expiry
    )
}

fn iv_status_name(status: plain::IvStatus) -> &'static str {
    match status {
        plain::IvStatus::Solved => "solved",
        plain::IvStatus::NoPrice => "no_price",
        plain::IvStatus::BelowIntrinsic => "below_intrinsic",
        plain::IvStatus::AboveBound => "above_bound",
        plain::IvStatus::Expired => "expired",
    }
}
