//! Fixture builder shared by the integration tests: describe legs one by one and get a
//! columnar [`ValuationRequest`], as the host would send it.

use strategy_valuation::{
    LegColumns, LegKind, ScenarioColumns, ValuationRequest, ValuationResult, evaluate,
};

/// The §4.6 market: NIFTY-like forward = spot = 25,000, a weekly expiry, IV 12 %.
pub(crate) const SPOT: f64 = 25_000.0;
pub(crate) const WEEK: f64 = 7.0 / 365.0;

/// One leg; defaults are one bought lot of size 1 on the §4.6 market, marked at entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leg {
    pub kind: LegKind,
    pub strike: f64,
    pub is_buy: bool,
    pub lots: u32,
    pub lot_size: u32,
    pub entry: f64,
    pub market: f64,
    pub forward: f64,
    pub iv: f64,
    pub years: f64,
}

impl Leg {
    fn new(kind: LegKind, strike: f64, entry: f64) -> Self {
        Self {
            kind,
            strike,
            is_buy: true,
            lots: 1,
            lot_size: 1,
            entry,
            market: entry,
            forward: SPOT,
            iv: 0.12,
            years: WEEK,
        }
    }

    pub(crate) fn sell(mut self) -> Self {
        self.is_buy = false;
        self
    }

    pub(crate) fn lots(mut self, lots: u32, lot_size: u32) -> Self {
        self.lots = lots;
        self.lot_size = lot_size;
        self
    }

    pub(crate) fn market(mut self, market: f64) -> Self {
        self.market = market;
        self
    }

    pub(crate) fn years(mut self, years: f64) -> Self {
        self.years = years;
        self
    }

    pub(crate) fn iv(mut self, iv: f64) -> Self {
        self.iv = iv;
        self
    }
}

pub(crate) fn call(strike: f64, entry: f64) -> Leg {
    Leg::new(LegKind::Call, strike, entry)
}

pub(crate) fn put(strike: f64, entry: f64) -> Leg {
    Leg::new(LegKind::Put, strike, entry)
}

/// A future bought at `entry` (its strike column is NaN: ignored for futures).
pub(crate) fn future(entry: f64) -> Leg {
    Leg::new(LegKind::Future, f64::NAN, entry)
}

/// The request for `legs` on the §4.6 market: r = 0, ±10 % curve of 201 points,
/// target now, PoP volatility from the legs, no scenarios.
pub(crate) fn request(legs: &[Leg]) -> ValuationRequest {
    let mut c = LegColumns::default();
    for (i, l) in legs.iter().enumerate() {
        c.security_id.push(i as u64 + 1);
        c.kind.push(l.kind);
        c.strike.push(l.strike);
        c.is_buy.push(l.is_buy);
        c.lots.push(l.lots);
        c.lot_size.push(l.lot_size);
        c.entry_price.push(l.entry);
        c.market_price.push(l.market);
        c.forward.push(l.forward);
        c.iv.push(l.iv);
        c.time_to_expiry.push(l.years);
    }
    ValuationRequest {
        legs: c,
        spot: SPOT,
        rate: 0.0,
        range_pct: 10.0,
        points: 201,
        target_years: 0.0,
        pop_volatility: None,
        scenarios: ScenarioColumns::default(),
    }
}

/// `evaluate` on a request the test expects to be valid.
pub(crate) fn run(request: &ValuationRequest) -> ValuationResult {
    match evaluate(request) {
        Ok(result) => result,
        Err(e) => panic!("evaluate rejected a valid request: {e:?}"),
    }
}

/// Asserts |got − want| ≤ tol with a readable message.
#[track_caller]
pub(crate) fn assert_close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
}

/// Asserts element-wise closeness of two slices of equal length.
#[track_caller]
pub(crate) fn assert_all_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "got {got:?}, want {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}, want {want:?} (±{tol})");
    }
}
