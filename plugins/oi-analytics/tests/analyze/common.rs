//! Fixture builder shared by the integration tests: describe contracts one by one and
//! get a columnar [`PricedChain`], as the host would send it.

use oi_analytics::{OiOptions, OiReport, PricedChain, analyze};
use optionhub_pricing::chain::{
    ChainSnapshot, ContractColumns, Date, ForwardSource, GreeksColumns, GreeksResult, IvStatus,
};

/// One contract row with its model outputs. Unset fields are "no activity": zero OI,
/// volume and prices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub security_id: u64,
    pub strike: f64,
    pub is_call: bool,
    pub oi: u64,
    pub previous_oi: u64,
    pub volume: u64,
    pub last_price: f64,
    pub previous_close: f64,
    pub iv: f64,
    pub delta: f64,
    pub gamma: f64,
}

impl Row {
    fn new(is_call: bool, strike: f64, oi: u64) -> Self {
        Self {
            security_id: 0,
            strike,
            is_call,
            oi,
            previous_oi: oi,
            volume: 0,
            last_price: 0.0,
            previous_close: 0.0,
            iv: 0.0,
            delta: 0.0,
            gamma: 0.0,
        }
    }

    pub(crate) fn id(mut self, security_id: u64) -> Self {
        self.security_id = security_id;
        self
    }

    pub(crate) fn previous_oi(mut self, previous_oi: u64) -> Self {
        self.previous_oi = previous_oi;
        self
    }

    pub(crate) fn volume(mut self, volume: u64) -> Self {
        self.volume = volume;
        self
    }

    /// Previous close, then last price.
    pub(crate) fn prices(mut self, previous_close: f64, last_price: f64) -> Self {
        self.previous_close = previous_close;
        self.last_price = last_price;
        self
    }

    pub(crate) fn model(mut self, iv: f64, delta: f64, gamma: f64) -> Self {
        self.iv = iv;
        self.delta = delta;
        self.gamma = gamma;
        self
    }
}

/// A call at `strike` with OI `oi` (previous OI equal: no change unless set).
pub(crate) fn call(strike: f64, oi: u64) -> Row {
    Row::new(true, strike, oi)
}

/// A put at `strike` with OI `oi` (previous OI equal: no change unless set).
pub(crate) fn put(strike: f64, oi: u64) -> Row {
    Row::new(false, strike, oi)
}

/// The chain of `rows` with the model's forward `forward` and lot size `lot_size`.
pub(crate) fn chain(rows: &[Row], forward: f64, lot_size: u32) -> PricedChain {
    let mut c = ContractColumns::default();
    let mut g = GreeksColumns::default();
    for r in rows {
        c.security_id.push(r.security_id);
        c.strike.push(r.strike);
        c.is_call.push(r.is_call);
        c.last_price.push(r.last_price);
        c.bid.push(0.0);
        c.ask.push(0.0);
        c.volume.push(r.volume);
        c.oi.push(r.oi);
        c.previous_oi.push(r.previous_oi);
        c.previous_close.push(r.previous_close);
        c.previous_volume.push(0);
        g.price.push(r.last_price);
        g.iv.push(r.iv);
        g.delta.push(r.delta);
        g.gamma.push(r.gamma);
        g.theta.push(0.0);
        g.vega.push(0.0);
        g.rho.push(0.0);
        g.status.push(IvStatus::Solved);
    }
    PricedChain {
        chain: ChainSnapshot {
            underlying: "NIFTY".into(),
            spot: forward,
            forward: None,
            expiry: Date {
                year: 2026,
                month: 1,
                day: 29,
            },
            as_of_ms: 1_769_000_000_000,
            lot_size,
            rate: 0.065,
            contracts: c,
        },
        greeks: GreeksResult {
            model: "black76".into(),
            forward,
            forward_source: ForwardSource::PutCallParity,
            time_to_expiry: 7.0 / 365.0,
            greeks: g,
        },
    }
}

/// `analyze` on a chain the test expects to be valid.
pub(crate) fn run(input: &PricedChain, options: &OiOptions) -> OiReport {
    match analyze(input, options) {
        Ok(report) => report,
        Err(e) => panic!("analyze rejected a valid chain: {e:?}"),
    }
}
