//! Input checks before any maths, and the output check after it.
//!
//! Every later step indexes the columns by row and feeds the numbers to Black-76, whose
//! domain is F, K > 0; rejecting bad input here with a message naming the field is what
//! lets the rest of the crate assume valid numbers. The output check backs the WIT
//! promise that nothing non-finite leaves the plugin.

use crate::{Extremum, LegKind, PluginError, ValuationRequest, ValuationResult};

fn invalid<T>(msg: String) -> Result<T, PluginError> {
    Err(PluginError::InvalidInput(msg))
}

/// Checks a request; the first problem found is reported.
pub(crate) fn request(r: &ValuationRequest) -> Result<(), PluginError> {
    let legs = &r.legs;
    let n = legs.len();
    let lengths = [
        ("kind", legs.kind.len()),
        ("strike", legs.strike.len()),
        ("is-buy", legs.is_buy.len()),
        ("lots", legs.lots.len()),
        ("lot-size", legs.lot_size.len()),
        ("entry-price", legs.entry_price.len()),
        ("market-price", legs.market_price.len()),
        ("forward", legs.forward.len()),
        ("iv", legs.iv.len()),
        ("time-to-expiry", legs.time_to_expiry.len()),
    ];
    if let Some((name, len)) = lengths.iter().find(|(_, len)| *len != n) {
        return invalid(format!(
            "leg column {name} has {len} rows, security-id has {n}"
        ));
    }
    if n == 0 {
        return invalid("the strategy has no legs".into());
    }
    let s = &r.scenarios;
    let m = s.spot_shift_pct.len();
    for (name, len) in [
        ("iv-shift-points", s.iv_shift_points.len()),
        ("days-forward", s.days_forward.len()),
    ] {
        if len != m {
            return invalid(format!(
                "scenario column {name} has {len} rows, spot-shift-pct has {m}"
            ));
        }
    }
    if !(2..=2001).contains(&r.points) {
        return invalid(format!("points must be in 2..=2001, got {}", r.points));
    }
    if !(r.spot.is_finite() && r.spot > 0.0) {
        return invalid(format!("spot must be finite and > 0, got {}", r.spot));
    }
    if !r.rate.is_finite() {
        return invalid(format!("rate must be finite, got {}", r.rate));
    }
    // Beyond 100 % the curve would reach negative underlying levels.
    if !(r.range_pct.is_finite() && (0.0..=100.0).contains(&r.range_pct)) {
        return invalid(format!(
            "range-pct must be in [0, 100], got {}",
            r.range_pct
        ));
    }
    if !(r.target_years.is_finite() && r.target_years >= 0.0) {
        return invalid(format!(
            "target-years must be finite and >= 0, got {}",
            r.target_years
        ));
    }
    if let Some(v) = r.pop_volatility
        && !(v.is_finite() && v > 0.0)
    {
        return invalid(format!("pop-volatility must be finite and > 0, got {v}"));
    }
    for i in 0..n {
        leg(r, i)?;
    }
    for i in 0..m {
        scenario(r, i)?;
    }
    Ok(())
}

fn leg(r: &ValuationRequest, i: usize) -> Result<(), PluginError> {
    let legs = &r.legs;
    let non_negative = |name: &str, x: f64| {
        if x.is_finite() && x >= 0.0 {
            Ok(())
        } else {
            invalid(format!("leg {i}: {name} must be finite and >= 0, got {x}"))
        }
    };
    let positive = |name: &str, x: f64| {
        if x.is_finite() && x > 0.0 {
            Ok(())
        } else {
            invalid(format!("leg {i}: {name} must be finite and > 0, got {x}"))
        }
    };
    non_negative("entry-price", legs.entry_price[i])?;
    non_negative("market-price", legs.market_price[i])?;
    positive("forward", legs.forward[i])?;
    non_negative("time-to-expiry", legs.time_to_expiry[i])?;
    // Strike and IV are ignored for futures, so only options are held to them.
    if legs.kind[i] != LegKind::Future {
        positive("strike", legs.strike[i])?;
        non_negative("iv", legs.iv[i])?;
    }
    Ok(())
}

fn scenario(r: &ValuationRequest, i: usize) -> Result<(), PluginError> {
    let s = &r.scenarios;
    let (pct, points, days) = (s.spot_shift_pct[i], s.iv_shift_points[i], s.days_forward[i]);
    if !(pct.is_finite() && pct >= -100.0) {
        return invalid(format!(
            "scenario {i}: spot-shift-pct must be finite and >= -100, got {pct}"
        ));
    }
    if !points.is_finite() {
        return invalid(format!(
            "scenario {i}: iv-shift-points must be finite, got {points}"
        ));
    }
    if !(days.is_finite() && days >= 0.0) {
        return invalid(format!(
            "scenario {i}: days-forward must be finite and >= 0, got {days}"
        ));
    }
    Ok(())
}

/// Rejects a result with a NaN or infinity anywhere, naming the output. Valid input
/// only gets here with absurd magnitudes (quantities near 10¹⁹ times large prices).
pub(crate) fn finite_result(r: &ValuationResult) -> Result<(), PluginError> {
    let extremum = |e: Extremum| match e {
        Extremum::Limited(x) => x,
        Extremum::Unlimited => 0.0,
    };
    let g = &r.greeks;
    let sc = &r.scenarios;
    let outputs: [(&str, &[f64]); 12] = [
        ("leg-mtm", &r.leg_mtm),
        (
            "total-mtm, net-premium, max-profit, max-loss, probability-of-profit",
            &[
                r.total_mtm,
                r.net_premium,
                extremum(r.max_profit),
                extremum(r.max_loss),
                r.probability_of_profit,
            ],
        ),
        ("curve-spot", &r.curve_spot),
        ("payoff-at-expiry", &r.payoff_at_expiry),
        ("payoff-at-target", &r.payoff_at_target),
        ("breakevens", &r.breakevens),
        ("greeks", &[g.delta, g.gamma, g.theta, g.vega, g.rho]),
        ("scenario pnl", &sc.pnl),
        ("scenario delta", &sc.delta),
        ("scenario gamma", &sc.gamma),
        ("scenario theta", &sc.theta),
        ("scenario vega", &sc.vega),
    ];
    match outputs
        .iter()
        .find(|(_, values)| values.iter().any(|v| !v.is_finite()))
    {
        Some((name, _)) => Err(PluginError::NumericalFailure(format!(
            "{name}: result is not finite"
        ))),
        None => Ok(()),
    }
}
