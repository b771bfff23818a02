//! Which instruments to subscribe, in which mode: tiers around the money that follow
//! the spot.
//!
//! For each underlying's nearest expiries, strikes within `full_strikes` of the ATM
//! strike get Full packets (depth), those within `quote_strikes` get Quote, and the rest
//! of `range_strikes` get Ticker. The centre moves only when the spot has moved a whole
//! strike step from it, so a spot wobbling around a strike does not churn subscriptions.
//! Chains clients ask for beyond those expiries are added in Quote mode within what
//! is left of Dhan's budget ([`super::on_demand`]). When an expiry passes (15:30 IST on its day) the nearest expiries are the next ones,
//! and the plan moves to them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use time::Date;

use super::on_demand::{WantedChain, add_wanted, contracts_near};
use super::state::MarketState;
use super::view::ChainId;
use dhan::live::{FeedLimits, LiveFeed, SubscriptionPlan};
use dhan::requests::FeedMode;
use instruments::registry::InstrumentRegistry;

/// Subscription tiers around the money .
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierConfig {
    /// Nearest expiries subscribed per underlying.
    pub expiries: usize,
    /// ATM ± this many strikes in Full mode.
    pub full_strikes: usize,
    /// ATM ± this many in Quote mode (beyond the Full ones).
    pub quote_strikes: usize,
    /// ATM ± this many in all; the rest of them in Ticker mode.
    pub range_strikes: usize,
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            expiries: 2,
            full_strikes: 5,
            quote_strikes: 15,
            range_strikes: 40,
        }
    }
}

/// Chains a client asks for beyond the nearest `tiers.expiries`: subscribed in Quote
/// mode around the money while asked for, and released when nobody has asked for a
/// while; served from Dhan's REST option chain until the feed has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDemandConfig {
    /// ATM ± this many strikes subscribed (fewer when the budget is short).
    pub strikes: usize,
    /// A chain nobody asked for in this long is unsubscribed.
    pub idle: Duration,
}

impl Default for OnDemandConfig {
    fn default() -> Self {
        Self {
            strikes: 15,
            idle: Duration::from_secs(300),
        }
    }
}

/// What the plan holds, for `/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanSummary {
    pub instruments: usize,
    /// Instruments per mode (the tiers): `full`, `quote`, `ticker`.
    pub by_mode: BTreeMap<&'static str, usize>,
    pub by_underlying: BTreeMap<String, usize>,
    /// The ATM strike each underlying's tiers are centred on.
    pub centres: BTreeMap<String, f64>,
    /// Connections the plan needs under Dhan's limits.
    pub connections: usize,
    pub expiries: BTreeMap<String, Vec<Date>>,
    /// Chains brought live because clients asked (`UNDERLYING:YYYY-MM-DD` → instruments
    /// subscribed), and what the tiers left them of Dhan's budget.
    pub on_demand: BTreeMap<String, usize>,
    pub on_demand_budget: usize,
}

fn mode_name(mode: FeedMode) -> &'static str {
    match mode {
        FeedMode::Ticker => "ticker",
        FeedMode::Quote => "quote",
        FeedMode::Full => "full",
    }
}

/// The plan for the given centres (ATM strike per underlying; an underlying without a
/// centre gets only its index subscribed, since the tiers need a money to centre on).
pub fn plan(
    registry: &InstrumentRegistry,
    centres: &BTreeMap<String, f64>,
    today: Date,
    tiers: &TierConfig,
    limits: &FeedLimits,
    wanted: &[ChainId],
    on_demand: &OnDemandConfig,
) -> (SubscriptionPlan, PlanSummary) {
    let mut plan = SubscriptionPlan::new();
    let mut summary = PlanSummary::default();
    for info in registry.underlyings() {
        // The index itself: Quote gives its day's OHLC as well as its value.
        plan.insert(info.index, FeedMode::Quote);
        let mut count = 1;
        let live: Vec<_> = info
            .expiries
            .iter()
            .filter(|e| e.expiry >= today)
            .take(tiers.expiries)
            .collect();
        summary
            .expiries
            .insert(info.name.clone(), live.iter().map(|e| e.expiry).collect());
        if let Some(&centre) = centres.get(&info.name) {
            summary.centres.insert(info.name.clone(), centre);
            for expiry in live {
                let Some(atm) =
                    nearest_strike_index(expiry.strikes.iter().map(|r| r.strike), centre)
                else {
                    continue;
                };
                for (i, row) in expiry.strikes.iter().enumerate() {
                    let distance = i.abs_diff(atm);
                    let mode = if distance <= tiers.full_strikes {
                        FeedMode::Full
                    } else if distance <= tiers.quote_strikes {
                        FeedMode::Quote
                    } else if distance <= tiers.range_strikes {
                        FeedMode::Ticker
                    } else {
                        continue;
                    };
                    for key in [row.call, row.put].into_iter().flatten() {
                        plan.insert(key, mode);
                        count += 1;
                    }
                }
            }
        }
        summary.by_underlying.insert(info.name.clone(), count);
    }
    add_on_demand(
        registry,
        centres,
        (today, tiers.expiries),
        limits,
        wanted,
        on_demand,
        &mut plan,
        &mut summary,
    );
    for mode in plan.values() {
        *summary.by_mode.entry(mode_name(*mode)).or_default() += 1;
    }
    summary.instruments = plan.len();
    summary.connections = plan
        .len()
        .div_ceil(limits.max_instruments_per_connection.max(1));
    (plan, summary)
}

/// Adds the wanted chains outside the tiers (live ones, of an underlying with a
/// centre) in Quote mode, sharing what the tiers left of Dhan's capacity.
#[expect(
    clippy::too_many_arguments,
    reason = "the planner's inputs and its two outputs, all distinct"
)]
fn add_on_demand(
    registry: &InstrumentRegistry,
    centres: &BTreeMap<String, f64>,
    (today, tier_expiries): (Date, usize),
    limits: &FeedLimits,
    wanted: &[ChainId],
    on_demand: &OnDemandConfig,
    plan: &mut SubscriptionPlan,
    summary: &mut PlanSummary,
) {
    let chains: Vec<WantedChain> = wanted
        .iter()
        .filter_map(|id| {
            let live = registry.live_expiries(&id.underlying, today);
            let position = live.iter().position(|e| e.expiry == id.expiry)?;
            let centre = centres.get(&id.underlying)?;
            let expiry = live.get(position).filter(|_| position >= tier_expiries)?;
            Some(WantedChain {
                id: id.clone(),
                contracts: contracts_near(expiry, *centre, on_demand.strikes),
            })
        })
        .collect();
    let budget = limits.capacity().saturating_sub(plan.len());
    let shares = add_wanted(plan, &chains, budget);
    summary.on_demand_budget = budget;
    for (chain, share) in chains.iter().zip(shares) {
        summary.on_demand.insert(
            format!("{}:{}", chain.id.underlying, chain.id.expiry),
            share,
        );
        if let Some(count) = summary.by_underlying.get_mut(&chain.id.underlying) {
            *count += share;
        }
    }
}

/// Index of the strike nearest `price`.
pub fn nearest_strike_index(strikes: impl Iterator<Item = f64>, price: f64) -> Option<usize> {
    strikes
        .enumerate()
        .min_by(|(_, a), (_, b)| (a - price).abs().total_cmp(&(b - price).abs()))
        .map(|(i, _)| i)
}

/// The new centre for an underlying: unchanged while the spot is within a strike step
/// of the old one, else the strike nearest the spot.
pub fn recentre(old: Option<f64>, spot: f64, strikes: &[f64], step: f64) -> Option<f64> {
    if let Some(old) = old
        && (step <= 0.0 || (spot - old).abs() < step)
    {
        return Some(old);
    }
    nearest_strike_index(strikes.iter().copied(), spot).and_then(|i| strikes.get(i).copied())
}

/// Keeps the live feed's subscriptions centred on the money: checks the spots every
/// `interval` and hands the feed a new plan when a centre moves.
pub async fn run_planner(
    market: Arc<MarketState>,
    feed: Arc<LiveFeed>,
    (tiers, on_demand): (TierConfig, OnDemandConfig),
    limits: FeedLimits,
    summary_out: Arc<RwLock<PlanSummary>>,
    interval: Duration,
) {
    let mut centres: BTreeMap<String, f64> = BTreeMap::new();
    let mut first = true;
    let mut ticker = tokio::time::interval(interval);
    let mut rolled_to = market.calendar().live_from();
    let mut wanted_before: Vec<ChainId> = Vec::new();
    loop {
        // A chain asked for for the first time is planned at once, not a tick later.
        tokio::select! {
            _ = ticker.tick() => {}
            () = market.demand().asked() => {}
        }
        let today = market.calendar().live_from();
        let mut changed = first;
        if today != rolled_to {
            // 15:30 IST on an expiry day: the expired chains leave the plan and the
            // next expiries join it, without a restart.
            tracing::info!(from = %rolled_to, to = %today, "expiries rolled; subscriptions move to the next expiries");
            rolled_to = today;
            changed = true;
        }
        for info in market.registry().underlyings() {
            let Some(spot) = market.spot(&info.name) else {
                continue;
            };
            let Some(nearest) = info.expiries.iter().find(|e| e.expiry >= today) else {
                continue;
            };
            let strikes: Vec<f64> = nearest.strikes.iter().map(|r| r.strike).collect();
            let old = centres.get(&info.name).copied();
            if let Some(centre) = recentre(old, spot, &strikes, nearest.strike_step)
                && old != Some(centre)
            {
                tracing::info!(underlying = %info.name, spot, centre, "subscription tiers re-centred");
                centres.insert(info.name.clone(), centre);
                changed = true;
            }
        }
        let wanted = market.demand().wanted();
        if wanted != wanted_before {
            tracing::info!(wanted = wanted.len(), "on-demand chains changed");
            wanted_before.clone_from(&wanted);
            changed = true;
        }
        if changed {
            let (plan, summary) = plan(
                market.registry(),
                &centres,
                today,
                &tiers,
                &limits,
                &wanted,
                &on_demand,
            );
            feed.set_plan(plan);
            *summary_out.write() = summary;
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{nearest_strike_index, recentre};

    #[test]
    fn centre_moves_only_by_whole_steps() {
        let strikes: Vec<f64> = (0..20).map(|i| 25_500.0 + 50.0 * f64::from(i)).collect();
        let first = recentre(None, 26_012.0, &strikes, 50.0);
        assert_eq!(first, Some(26_000.0));
        // Within a step of the centre: stays.
        assert_eq!(recentre(first, 26_049.0, &strikes, 50.0), Some(26_000.0));
        assert_eq!(recentre(first, 25_951.0, &strikes, 50.0), Some(26_000.0));
        // A whole step away: moves to the strike nearest the spot.
        assert_eq!(recentre(first, 26_050.0, &strikes, 50.0), Some(26_050.0));
        assert_eq!(recentre(first, 25_880.0, &strikes, 50.0), Some(25_900.0));
        assert_eq!(nearest_strike_index([].into_iter(), 1.0), None);
    }
}
