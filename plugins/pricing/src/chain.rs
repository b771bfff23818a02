//! Plain Rust mirrors of the WIT chain types (`wit/types.wit`).
//!
//! The plugins' maths works on these, not on wit-bindgen's generated types, so the same
//! code compiles natively (tests, the native-vs-wasm benchmark, the host's golden chain)
//! and inside a component. Each component converts at its boundary with
//! [`crate::wit_chain_conversions!`], so the conversion code exists once.

/// A calendar date; options expire at 15:30 IST on their expiry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

/// One option contract per row; every column has the same length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractColumns {
    pub security_id: Vec<u64>,
    pub strike: Vec<f64>,
    pub is_call: Vec<bool>,
    pub last_price: Vec<f64>,
    pub bid: Vec<f64>,
    pub ask: Vec<f64>,
    pub volume: Vec<u64>,
    pub oi: Vec<u64>,
    pub previous_oi: Vec<u64>,
    pub previous_close: Vec<f64>,
    pub previous_volume: Vec<u64>,
}

impl ContractColumns {
    /// Number of contracts, taken from the strike column.
    pub fn len(&self) -> usize {
        self.strike.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strike.is_empty()
    }

    /// Checks that every column has the same length, naming the first that does not.
    pub fn check_lengths(&self) -> Result<(), String> {
        let n = self.len();
        let lengths = [
            ("security-id", self.security_id.len()),
            ("is-call", self.is_call.len()),
            ("last-price", self.last_price.len()),
            ("bid", self.bid.len()),
            ("ask", self.ask.len()),
            ("volume", self.volume.len()),
            ("oi", self.oi.len()),
            ("previous-oi", self.previous_oi.len()),
            ("previous-close", self.previous_close.len()),
            ("previous-volume", self.previous_volume.len()),
        ];
        match lengths.iter().find(|(_, len)| *len != n) {
            Some((name, len)) => Err(format!("column {name} has {len} rows, strike has {n}")),
            None => Ok(()),
        }
    }

    /// The price a model should fit for row `i`: the bid/ask mid when both sides are
    /// quoted and not crossed, else the last price, else `None`.
    pub fn reference_price(&self, i: usize) -> Option<f64> {
        let (bid, ask) = (self.bid[i], self.ask[i]);
        if bid > 0.0 && ask > 0.0 && ask >= bid && bid.is_finite() && ask.is_finite() {
            return Some(0.5 * (bid + ask));
        }
        let last = self.last_price[i];
        (last > 0.0 && last.is_finite()).then_some(last)
    }
}

/// An option chain for one underlying and one expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainSnapshot {
    pub underlying: String,
    pub spot: f64,
    pub forward: Option<f64>,
    pub expiry: Date,
    /// Milliseconds since the Unix epoch (UTC), supplied by the host.
    pub as_of_ms: i64,
    pub lot_size: u32,
    pub rate: f64,
    pub contracts: ContractColumns,
}

/// How a contract's implied volatility was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IvStatus {
    Solved,
    NoPrice,
    BelowIntrinsic,
    AboveBound,
    Expired,
}

/// Where the forward used for pricing came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForwardSource {
    Given,
    PutCallParity,
    Spot,
}

/// Per-contract model output, one row per input contract, in input order.
/// Units: iv decimal; delta per point of forward; gamma per point; theta per calendar
/// day; vega per volatility point; rho per 1 % of rate. Never NaN or infinite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GreeksColumns {
    pub price: Vec<f64>,
    pub iv: Vec<f64>,
    pub delta: Vec<f64>,
    pub gamma: Vec<f64>,
    pub theta: Vec<f64>,
    pub vega: Vec<f64>,
    pub rho: Vec<f64>,
    pub status: Vec<IvStatus>,
}

impl GreeksColumns {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            price: Vec::with_capacity(n),
            iv: Vec::with_capacity(n),
            delta: Vec::with_capacity(n),
            gamma: Vec::with_capacity(n),
            theta: Vec::with_capacity(n),
            vega: Vec::with_capacity(n),
            rho: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.price.len()
    }

    pub fn is_empty(&self) -> bool {
        self.price.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GreeksResult {
    pub model: String,
    pub forward: f64,
    pub forward_source: ForwardSource,
    /// Years (calendar seconds / (365 * 86400)).
    pub time_to_expiry: f64,
    pub greeks: GreeksColumns,
}

/// A chain with the Greeks the host computed for it (same row order).
#[derive(Debug, Clone, PartialEq)]
pub struct PricedChain {
    pub chain: ChainSnapshot,
    pub greeks: GreeksResult,
}

/// Why a plugin could not answer; mirrors the WIT `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    InvalidInput(String),
    NumericalFailure(String),
    Unsupported(String),
}
