//! Open-interest analytics for one option chain (one expiry): the per-strike OI
//! distribution, max pain, put-call ratios, per-contract OI buildup, the biggest OI
//! movers and OI-based support and resistance (definitions in the options-analytics
//! reference, §3.1–§3.5).
//!
//! The public API works on plain Rust types so the maths is tested natively; the
//! `component` module (wasm32 only) converts the WIT `oi` interface to and from them.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

mod buildup;
#[cfg(target_arch = "wasm32")]
mod component;
mod distribution;
mod levels;
mod max_pain;

pub use optionhub_pricing::chain::{PluginError, PricedChain};

use optionhub_pricing::forward;

/// Tuning knobs of [`analyze`]; mirrors the WIT `oi-options` record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OiOptions {
    /// How many gainers and how many losers to return.
    pub top_n: u32,
    /// Support and resistance are searched within this many strikes each side of ATM
    /// (0 = the whole chain).
    pub sr_window: u32,
    /// |OI change| below this fraction of previous OI counts as no change.
    pub oi_dead_band: f64,
    /// |price change| below this many rupees counts as no change.
    pub price_dead_band: f64,
}

impl Default for OiOptions {
    /// Ten movers each way, the whole chain for support/resistance, a 1 % OI band and a
    /// one-tick (₹0.05) price band.
    fn default() -> Self {
        Self {
            top_n: 10,
            sr_window: 0,
            oi_dead_band: 0.01,
            price_dead_band: 0.05,
        }
    }
}

/// OI buildup class of a contract between the previous session and now (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Buildup {
    /// Price up, OI up.
    LongBuildup,
    /// Price down, OI up.
    ShortBuildup,
    /// Price up, OI down.
    ShortCovering,
    /// Price down, OI down.
    LongUnwinding,
    /// A change inside its dead band, or no price reference.
    Neutral,
}

/// Per strike, ascending; every column has the length of `strike`. A side with no
/// contract at a strike has zeros, and IV and Greeks are never NaN.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrikeDistribution {
    pub strike: Vec<f64>,
    pub call_oi: Vec<u64>,
    pub put_oi: Vec<u64>,
    pub call_oi_change: Vec<i64>,
    pub put_oi_change: Vec<i64>,
    pub call_volume: Vec<u64>,
    pub put_volume: Vec<u64>,
    pub call_iv: Vec<f64>,
    pub put_iv: Vec<f64>,
    pub call_delta: Vec<f64>,
    pub put_delta: Vec<f64>,
    pub call_gamma: Vec<f64>,
    pub put_gamma: Vec<f64>,
    /// Total payout to option holders, rupees, if the index settles at this strike.
    pub pain: Vec<f64>,
}

/// Contracts ranked by OI change; `row` indexes the input contracts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OiMovers {
    pub row: Vec<u32>,
    pub security_id: Vec<u64>,
    pub strike: Vec<f64>,
    pub is_call: Vec<bool>,
    pub oi: Vec<u64>,
    pub oi_change: Vec<i64>,
    /// 100 · OI change / previous OI; 0 when previous OI is 0.
    pub oi_change_pct: Vec<f64>,
    /// Last price − previous close; 0 when either is not quoted.
    pub price_change: Vec<f64>,
    pub buildup: Vec<Buildup>,
}

/// Everything [`analyze`] reports; mirrors the WIT `oi-report` record.
#[derive(Debug, Clone, PartialEq)]
pub struct OiReport {
    /// Listed strike nearest the forward (lower on a tie); 0 for an empty chain, which
    /// has no listed strike (the WIT field is not optional).
    pub atm_strike: f64,
    pub distribution: StrikeDistribution,
    pub gainers: OiMovers,
    pub losers: OiMovers,
    /// Σ put OI / Σ call OI; `None` when call OI is 0.
    pub pcr_oi: Option<f64>,
    /// Σ put volume / Σ call volume; `None` when call volume is 0.
    pub pcr_volume: Option<f64>,
    /// Listed strike minimising the holders' payout; `None` for an empty chain or no OI.
    pub max_pain: Option<f64>,
    /// Strike of maximum put OI within the window; `None` when that OI is all zero.
    pub support: Option<f64>,
    /// Strike of maximum call OI within the window; `None` when that OI is all zero.
    pub resistance: Option<f64>,
    pub total_call_oi: u64,
    pub total_put_oi: u64,
    pub total_call_volume: u64,
    pub total_put_volume: u64,
    /// One class per input contract, in input order.
    pub buildup: Vec<Buildup>,
}

/// Runs every OI analytic on one priced chain.
///
/// # Errors
/// [`PluginError::InvalidInput`] naming the problem when the chain's columns or the
/// Greeks columns disagree in length, a strike or the forward is not finite, or a dead
/// band is negative or not finite.
pub fn analyze(input: &PricedChain, options: &OiOptions) -> Result<OiReport, PluginError> {
    validate(input, options)?;
    let contracts = &input.chain.contracts;
    let forward = input.greeks.forward;

    let strikes = forward::distinct_strikes(&contracts.strike);
    let atm_strike = forward::atm_strike(&strikes, forward).unwrap_or(0.0);
    let distribution = distribution::build(input, &strikes);
    let totals = distribution::totals(contracts);

    let max_pain = if totals.call_oi.saturating_add(totals.put_oi) == 0 {
        None
    } else {
        max_pain::argmin(&distribution.strike, &distribution.pain, forward)
    };

    let buildup: Vec<Buildup> = (0..contracts.len())
        .map(|i| {
            buildup::classify(
                contracts.last_price[i],
                contracts.previous_close[i],
                contracts.oi[i],
                contracts.previous_oi[i],
                options,
            )
        })
        .collect();
    let top_n = usize::try_from(options.top_n).unwrap_or(usize::MAX);

    Ok(OiReport {
        atm_strike,
        gainers: buildup::movers(contracts, &buildup, top_n, buildup::Direction::Gainers),
        losers: buildup::movers(contracts, &buildup, top_n, buildup::Direction::Losers),
        pcr_oi: ratio(totals.put_oi, totals.call_oi),
        pcr_volume: ratio(totals.put_volume, totals.call_volume),
        max_pain,
        support: levels::strongest(
            &distribution.strike,
            &distribution.put_oi,
            atm_strike,
            options.sr_window,
        ),
        resistance: levels::strongest(
            &distribution.strike,
            &distribution.call_oi,
            atm_strike,
            options.sr_window,
        ),
        total_call_oi: totals.call_oi,
        total_put_oi: totals.put_oi,
        total_call_volume: totals.call_volume,
        total_put_volume: totals.put_volume,
        buildup,
        distribution,
    })
}

/// `num / den`, or `None` for a zero denominator: a ratio of 0 or infinity would be read
/// as a market signal, so "no data" must look different (§3.2).
fn ratio(num: u64, den: u64) -> Option<f64> {
    (den != 0).then(|| num as f64 / den as f64)
}

/// Rejects input the analytics cannot give a meaningful answer for. Column lengths are
/// checked first because every later step indexes the columns by row.
fn validate(input: &PricedChain, options: &OiOptions) -> Result<(), PluginError> {
    let invalid = |msg: String| Err(PluginError::InvalidInput(msg));
    let contracts = &input.chain.contracts;
    if let Err(msg) = contracts.check_lengths() {
        return invalid(format!("contracts: {msg}"));
    }
    let n = contracts.len();
    let g = &input.greeks.greeks;
    let greek_lengths = [
        ("price", g.price.len()),
        ("iv", g.iv.len()),
        ("delta", g.delta.len()),
        ("gamma", g.gamma.len()),
        ("theta", g.theta.len()),
        ("vega", g.vega.len()),
        ("rho", g.rho.len()),
        ("status", g.status.len()),
    ];
    if let Some((name, len)) = greek_lengths.iter().find(|(_, len)| *len != n) {
        return invalid(format!(
            "greeks column {name} has {len} rows, the chain has {n} contracts"
        ));
    }
    // Movers report rows as u32 (the WIT type); a larger chain cannot be answered.
    if u32::try_from(n).is_err() {
        return invalid(format!(
            "{n} contracts is more than a u32 row index can address"
        ));
    }
    // A NaN strike has no place in the ascending strike grid.
    if let Some(row) = contracts.strike.iter().position(|k| !k.is_finite()) {
        return invalid(format!("strike in row {row} is not finite"));
    }
    if !input.greeks.forward.is_finite() {
        return invalid(format!("forward {} is not finite", input.greeks.forward));
    }
    for (name, band) in [
        ("oi-dead-band", options.oi_dead_band),
        ("price-dead-band", options.price_dead_band),
    ] {
        if !(band.is_finite() && band >= 0.0) {
            return invalid(format!("{name} must be a finite number >= 0, got {band}"));
        }
    }
    Ok(())
}
