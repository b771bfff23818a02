//! The request the `strategy-valuation` plugin is called with: the legs' market inputs
//! in columns, the body's curve and what-if settings, and the target date as years from
//! the valuation instant (checked against the legs' expiries first).

use store::strategies::Side;
use time::Date;

use plugin_host::strategy as plugin;

use crate::legs::{MarketInputs, years_until};
use crate::refusal::{Reason, Refusal};
use crate::request::EvaluateRequest;

/// The plugin request for the legs and the body's settings.
pub fn valuation_request(
    body: &EvaluateRequest,
    market: &MarketInputs,
    target_years: f64,
) -> plugin::ValuationRequest {
    let legs = &market.legs;
    plugin::ValuationRequest {
        legs: plugin::LegColumns {
            security_id: legs
                .iter()
                .map(|l| u64::from(l.request.security_id))
                .collect(),
            kind: legs.iter().map(|l| l.kind).collect(),
            strike: legs.iter().map(|l| l.strike.unwrap_or(0.0)).collect(),
            is_buy: legs.iter().map(|l| l.request.side == Side::Buy).collect(),
            lots: legs.iter().map(|l| l.request.lots).collect(),
            lot_size: legs.iter().map(|l| l.lot_size).collect(),
            entry_price: legs.iter().map(|l| l.request.entry_price.0).collect(),
            market_price: legs.iter().map(|l| l.market_price).collect(),
            forward: legs.iter().map(|l| l.forward).collect(),
            iv: legs.iter().map(|l| l.iv.unwrap_or(0.0)).collect(),
            time_to_expiry: legs.iter().map(|l| l.time_to_expiry).collect(),
        },
        spot: market.spot,
        rate: market.rate,
        range_pct: body.range_pct,
        points: body.points,
        target_years,
        pop_volatility: body.pop_volatility,
        scenarios: plugin::ScenarioColumns {
            spot_shift_pct: body.scenarios.iter().map(|s| s.spot_shift_pct).collect(),
            iv_shift_points: body.scenarios.iter().map(|s| s.iv_shift_points).collect(),
            days_forward: body.scenarios.iter().map(|s| s.days_forward).collect(),
        },
    }
}

/// Years from the valuation instant to the target date, checked against the legs.
pub fn target_years(target: Option<Date>, market: &MarketInputs) -> Result<f64, Refusal> {
    let Some(target) = target else {
        return Ok(0.0);
    };
    // The valuation date is the IST date: at 04:00 IST the UTC date is yesterday's.
    let today = time::OffsetDateTime::from_unix_timestamp(market.as_of_ms.div_euclid(1000))
        .map(calendar::ist_date)
        .unwrap_or(target);
    if target < today {
        return Err(Refusal::new(
            Reason::InvalidTargetDate,
            format!("target_date {target} is before the valuation date {today}"),
        ));
    }
    if let Some(nearest) = market.nearest_expiry()
        && target > nearest
    {
        return Err(Refusal::new(
            Reason::InvalidTargetDate,
            format!(
                "target_date {target} is after the nearest leg expiry {nearest}; choose a date \
                 from {today} to {nearest}"
            ),
        ));
    }
    Ok(years_until(target, market.as_of_ms))
}
