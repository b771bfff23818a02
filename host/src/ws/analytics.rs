//! The small payloads: a chain's summary (the `/ws/fo/stream` view) and one
//! instrument's state, computed host-side from what the market and the Greeks worker
//! already hold. Cheap by construction: one pass over a chain's strikes (max pain is
//! quadratic in strikes, a few thousand operations), no plugin call.

use serde::Serialize;
use time::Date;

use super::channel::{InstrumentTarget, Place};
use crate::api::AppState;
use crate::api::market::LiveChain;
use crate::instruments::{ExchangeSegment, OptionRight};
use crate::market::book::InstrumentBook;
use crate::plugins::live_greeks::ContractGreeks;

/// A chain at a glance: open interest and volume totals, put/call ratios, max pain,
/// ATM strike and ATM implied volatility.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainSummary {
    pub underlying: String,
    pub expiry: Date,
    pub spot: Option<f64>,
    pub forward: Option<f64>,
    pub atm_strike: Option<f64>,
    /// Mean of the ATM call's and put's implied volatilities (decimal), where solved.
    pub atm_iv: Option<f64>,
    pub call_oi: u64,
    pub put_oi: u64,
    pub call_oi_change: i64,
    pub put_oi_change: i64,
    pub call_volume: u64,
    pub put_volume: u64,
    /// Put OI over call OI; null while call OI is zero.
    pub pcr_oi: Option<f64>,
    pub pcr_volume: Option<f64>,
    /// The settlement strike at which option holders would receive the least.
    pub max_pain: Option<f64>,
    pub lot_size: u32,
    /// The market's chain sequence the summary was computed from.
    pub chain_seq: u64,
    pub as_of: Option<String>,
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// Summarises a live chain.
pub fn summarize(chain: &LiveChain) -> ChainSummary {
    let mut summary = ChainSummary {
        underlying: chain.underlying.clone(),
        expiry: chain.expiry.date,
        spot: chain.spot,
        forward: chain.forward,
        atm_strike: chain.atm_strike,
        atm_iv: None,
        call_oi: 0,
        put_oi: 0,
        call_oi_change: 0,
        put_oi_change: 0,
        call_volume: 0,
        put_volume: 0,
        pcr_oi: None,
        pcr_volume: None,
        max_pain: None,
        lot_size: chain.lot_size,
        chain_seq: chain.seq,
        as_of: chain.as_of.clone(),
    };
    let mut open_interest = Vec::with_capacity(chain.strikes.len());
    for row in &chain.strikes {
        let call_oi = row.call.as_ref().map_or(0, |c| c.book.oi);
        let put_oi = row.put.as_ref().map_or(0, |p| p.book.oi);
        open_interest.push((row.strike, call_oi, put_oi));
        if let Some(call) = &row.call {
            summary.call_oi += call.book.oi;
            summary.call_oi_change += call.oi_change;
            summary.call_volume += call.book.volume;
        }
        if let Some(put) = &row.put {
            summary.put_oi += put.book.oi;
            summary.put_oi_change += put.oi_change;
            summary.put_volume += put.book.volume;
        }
        if Some(row.strike) == chain.atm_strike {
            let solved = |g: Option<ContractGreeks>| {
                g.filter(|g| g.iv_status == "solved" && g.iv.is_finite())
                    .map(|g| g.iv)
            };
            let ivs: Vec<f64> = [
                solved(row.call.as_ref().and_then(|c| c.greeks)),
                solved(row.put.as_ref().and_then(|p| p.greeks)),
            ]
            .into_iter()
            .flatten()
            .collect();
            summary.atm_iv = (!ivs.is_empty()).then(|| ivs.iter().sum::<f64>() / ivs.len() as f64);
        }
    }
    summary.pcr_oi = ratio(summary.put_oi, summary.call_oi);
    summary.pcr_volume = ratio(summary.put_volume, summary.call_volume);
    summary.max_pain = max_pain(&open_interest);
    summary
}

/// The strike minimising what option holders would receive if the underlying settled
/// there: Σ call OI × max(0, S − K) + Σ put OI × max(0, K − S). `None` without OI.
pub fn max_pain(open_interest: &[(f64, u64, u64)]) -> Option<f64> {
    if open_interest.iter().all(|&(_, c, p)| c == 0 && p == 0) {
        return None;
    }
    let payout = |settle: f64| -> f64 {
        open_interest
            .iter()
            .map(|&(strike, call_oi, put_oi)| {
                call_oi as f64 * (settle - strike).max(0.0)
                    + put_oi as f64 * (strike - settle).max(0.0)
            })
            .sum()
    };
    open_interest
        .iter()
        .map(|&(strike, _, _)| (strike, payout(strike)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(strike, _)| strike)
}

/// One instrument's state: what it is, its book, and (options) its Greeks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentData {
    pub security_id: u32,
    pub segment: ExchangeSegment,
    pub symbol: String,
    pub underlying: String,
    /// `option` or `index`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strike: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<OptionRight>,
    #[serde(flatten)]
    pub book: InstrumentBook,
    pub greeks: Option<ContractGreeks>,
}

/// The instrument's state now; `None` if the market no longer knows it.
pub fn instrument_data(state: &AppState, target: &InstrumentTarget) -> Option<InstrumentData> {
    let (book, greeks, expiry, strike, right, kind) = match target.place {
        Place::Option { strike, right, .. } => {
            let book = state.market.contract_book(&target.key)?;
            let greeks = state
                .greeks
                .get(&target.chain)
                .and_then(|g| g.contracts.get(&target.key.security_id).copied());
            (
                book,
                greeks,
                Some(target.chain.expiry),
                Some(strike),
                Some(right),
                "option",
            )
        }
        Place::Index => (
            state.market.underlying_book(&target.chain.underlying)?,
            None,
            None,
            None,
            None,
            "index",
        ),
    };
    Some(InstrumentData {
        security_id: target.key.security_id,
        segment: target.key.segment,
        symbol: target.symbol.clone(),
        underlying: target.chain.underlying.clone(),
        kind,
        expiry,
        strike,
        right,
        book,
        greeks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_pain_is_where_holders_get_least() {
        // Calls heavy at 100, puts heavy at 120: settling at 110 pays 10×call + 10×put
        // holders; at 100 only the 120 puts (20×50 = 1000); at 120 only the calls
        // (20×50 = 1000 + 10×10 at 110 …). Compute by hand:
        // S=100: puts 110: 10×10=100, puts 120: 50×20=1000 → 1100
        // S=110: calls 100: 50×10=500, puts 120: 50×10=500 → 1000
        // S=120: calls 100: 50×20=1000, calls 110: 10×10=100 → 1100
        let oi = [(100.0, 50, 0), (110.0, 10, 10), (120.0, 0, 50)];
        assert_eq!(max_pain(&oi), Some(110.0));
        // Shift the put weight down and the pain point follows.
        let oi = [(100.0, 5, 0), (110.0, 10, 10), (120.0, 0, 500)];
        assert_eq!(max_pain(&oi), Some(120.0));
        assert_eq!(max_pain(&[(100.0, 0, 0)]), None);
        assert_eq!(max_pain(&[]), None);
    }

    #[test]
    fn ratios_need_a_denominator() {
        assert_eq!(ratio(3, 2), Some(1.5));
        assert_eq!(ratio(3, 0), None);
    }
}
