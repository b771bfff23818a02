//! Chain builders and checks shared by the plugin's integration tests.

use optionhub_pricing::black76::{self, Inputs};
use optionhub_pricing::chain::{ChainSnapshot, ContractColumns, Date, GreeksResult};
use optionhub_pricing::implied::vol_condition_number;

/// Expiry used by the hand-built chains; it closes at [`CLOSE_MS`].
pub(crate) const EXPIRY: Date = Date {
    year: 2025,
    month: 9,
    day: 30,
};
/// 15:30 IST on [`EXPIRY`] = 10:00 UTC (GNU `date -u -d '2025-09-30 10:00' +%s`).
pub(crate) const CLOSE_MS: i64 = 1_759_226_400_000;
pub(crate) const DAY_MS: i64 = 86_400_000;
pub(crate) const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// One contract: strike, call?, bid, ask, last price.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quote {
    pub strike: f64,
    pub is_call: bool,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
}

impl Quote {
    /// Quoted with bid = ask = `price`, so the reference price is exactly `price`.
    pub(crate) fn at(strike: f64, is_call: bool, price: f64) -> Self {
        Self {
            strike,
            is_call,
            bid: price,
            ask: price,
            last: 0.0,
        }
    }

    /// No bid, no ask, no trade.
    pub(crate) fn unpriced(strike: f64, is_call: bool) -> Self {
        Self {
            strike,
            is_call,
            bid: 0.0,
            ask: 0.0,
            last: 0.0,
        }
    }
}

pub(crate) fn columns(quotes: &[Quote]) -> ContractColumns {
    let n = quotes.len();
    ContractColumns {
        security_id: (1..=n as u64).collect(),
        strike: quotes.iter().map(|q| q.strike).collect(),
        is_call: quotes.iter().map(|q| q.is_call).collect(),
        last_price: quotes.iter().map(|q| q.last).collect(),
        bid: quotes.iter().map(|q| q.bid).collect(),
        ask: quotes.iter().map(|q| q.ask).collect(),
        volume: vec![100; n],
        oi: vec![1_000; n],
        previous_oi: vec![900; n],
        previous_close: vec![1.0; n],
        previous_volume: vec![50; n],
    }
}

/// A NIFTY chain on [`EXPIRY`] as of `as_of_ms`.
pub(crate) fn chain(
    forward: Option<f64>,
    spot: f64,
    rate: f64,
    as_of_ms: i64,
    quotes: &[Quote],
) -> ChainSnapshot {
    ChainSnapshot {
        underlying: "NIFTY".into(),
        spot,
        forward,
        expiry: EXPIRY,
        as_of_ms,
        lot_size: 75,
        rate,
        contracts: columns(quotes),
    }
}

/// The discounted Black-76 price of a contract.
pub(crate) fn model_price(
    forward: f64,
    strike: f64,
    years: f64,
    vol: f64,
    rate: f64,
    is_call: bool,
) -> f64 {
    black76::price(&Inputs {
        forward,
        strike,
        years,
        vol,
        rate,
        is_call,
    })
}

/// Whether the f64 price of `i` determines σ to 1e-9 (the criterion of the pricing
/// crate's round-trip tests): the condition number κ = P/(σ·∂P/∂σ) satisfies κ·ε ≤ 1e-10
/// (rounding the price moves σ by at most a tenth of the tolerance), and the normalised
/// undiscounted time value (P/D − intrinsic)/√(FK) is a normal f64 (not lost to
/// underflow).
pub(crate) fn informative(i: &Inputs) -> bool {
    let price = black76::price(i);
    let discount = (-i.rate * i.years).exp();
    let time_value = price / discount - black76::intrinsic(i.is_call, i.forward, i.strike);
    let normalised = time_value / (i.forward.sqrt() * i.strike.sqrt());
    vol_condition_number(i) * f64::EPSILON <= 1e-10 && normalised >= f64::MIN_POSITIVE
}

/// Every number of the result is finite and every column has `rows` entries.
#[track_caller]
pub(crate) fn assert_all_finite(result: &GreeksResult, rows: usize) {
    let g = &result.greeks;
    assert!(
        result.forward.is_finite() && result.time_to_expiry.is_finite(),
        "{result:?}"
    );
    for (name, column) in [
        ("price", &g.price),
        ("iv", &g.iv),
        ("delta", &g.delta),
        ("gamma", &g.gamma),
        ("theta", &g.theta),
        ("vega", &g.vega),
        ("rho", &g.rho),
    ] {
        assert_eq!(column.len(), rows, "{name} length");
        if let Some((row, v)) = column.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            panic!("{name}[{row}] = {v}");
        }
    }
    assert_eq!(g.status.len(), rows, "status length");
}
