//! Which instruments to subscribe, in which mode: tiers around the money that follow
//! the spot.
//!
//! For each underlying's nearest expiries, strikes within `full_strikes` of the ATM
//! strike get Full packets (depth), those within `quote_strikes` get Quote, and the rest
//! of `range_strikes` get Ticker. The centre moves only when the spot has moved a whole
//! strike step from it, so a spot wobbling around a strike does not churn subscriptions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde::Serialize;
use time::Date;

use super::state::MarketState;
pub use crate::config::TierConfig;
use crate::feed::dhan::live::{FeedLimits, LiveFeed, SubscriptionPlan};
use crate::feed::dhan::requests::FeedMode;
use crate::instruments::registry::InstrumentRegistry;

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
    for mode in plan.values() {
        *summary.by_mode.entry(mode_name(*mode)).or_default() += 1;
    }
    summary.instruments = plan.len();
    summary.connections = plan
        .len()
        .div_ceil(limits.max_instruments_per_connection.max(1));
    (plan, summary)
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
    tiers: TierConfig,
    limits: FeedLimits,
    summary_out: Arc<RwLock<PlanSummary>>,
    interval: Duration,
) {
    let mut centres: BTreeMap<String, f64> = BTreeMap::new();
    let mut first = true;
    let mut ticker = tokio::time::interval(interval);
    loop {
        ticker.tick().await;
        let today = time::OffsetDateTime::now_utc().date();
        let mut changed = first;
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
        if changed {
            let (plan, summary) = plan(market.registry(), &centres, today, &tiers, &limits);
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
