//! The first-party `greeks-model` plugin: for one option chain (one underlying, one
//! expiry) it picks the forward, solves every contract's implied volatility under
//! Black-76 and reports the model price and Greeks at that volatility, one row per
//! contract in input order.
//!
//! The maths lives in plain Rust ([`compute`], on the `optionhub-pricing` chain types) so
//! it is tested natively and benchmarked against the component; the `component` module
//! (wasm32 only) is the thin WIT boundary. [`sample_chain`] (from `optionhub-pricing`) is
//! re-exported for tests and benchmarks.
//!
//! Choices the WIT contract leaves open, decided here:
//! - Forward: the chain's own forward when it is a usable level, else the synthetic
//!   forward from put-call parity, else spot ([`ForwardSource`]). A usable level is
//!   finite, positive and at most [`MAX_LEVEL`].
//! - Input checks (→ `InvalidInput`): column lengths; spot and rate finite; |rate| ≤
//!   [`MAX_ABS_RATE`]; every strike positive, finite and ≤ [`MAX_LEVEL`]; a valid
//!   expiry date at most [`MAX_YEARS`] away; some usable forward. These bounds keep
//!   every product of level × discount × time finite, which is what lets the output
//!   promise "never NaN or infinite".
//! - Rows the solver cannot answer carry a status and the zero-volatility limits
//!   (`black76::zero_vol_limit`). The solver's `NotSolvable` (no finite volatility for a
//!   price strictly between the bounds, in practice a price pressed against one of
//!   them) is reported as `AboveBound` when the undiscounted price is in the upper half
//!   of [intrinsic, bound] and as `BelowIntrinsic` otherwise.
//! - Solving: each contract starts from the volatility of the last solved contract when
//!   its strike is within 5 % ([`warm_start`]: Halley's iteration, two or three steps);
//!   otherwise, or when that iteration cannot vouch for its answer, Let's Be Rational.
//!   A row solved from its neighbour reports its quote as its price (the model
//!   reproduces it at the solved volatility to rounding); one solved by Let's Be
//!   Rational reports the model price at its volatility.
//! - Expired rows (at or after 15:30 IST on expiry day) are worth their undiscounted
//!   intrinsic value against the forward, with delta ±1 in the money, 0 out of it, ±½
//!   exactly at the money, and every other Greek 0.
#![cfg_attr(not(target_arch = "wasm32"), forbid(unsafe_code))]

#[cfg(target_arch = "wasm32")]
mod component;

use optionhub_pricing::black76::{self, Greeks, Market};
use optionhub_pricing::chain::{
    ChainSnapshot, ContractColumns, ForwardSource, GreeksColumns, GreeksResult, IvStatus,
    PluginError,
};
use optionhub_pricing::expiry::{self, TimeToExpiry};
use optionhub_pricing::forward::synthetic_forward;
use optionhub_pricing::implied::IvError;
use optionhub_pricing::warm_start;

pub use optionhub_pricing::sample::{
    SAMPLE_AS_OF_MS, SAMPLE_DIVIDEND_YIELD, SAMPLE_EXPIRY, SAMPLE_RATE, SAMPLE_SPOT, sample_chain,
    sample_forward, sample_vol, sample_years,
};

/// The `model` string of every result.
pub const MODEL: &str = "black76";
/// Largest |rate| accepted (100 % continuously compounded).
pub const MAX_ABS_RATE: f64 = 1.0;
/// Largest time to expiry accepted, in years.
pub const MAX_YEARS: f64 = 100.0;
/// Largest strike or forward accepted; no underlying trades anywhere near it.
pub const MAX_LEVEL: f64 = 1e15;

/// Prices, implied volatilities and Greeks for every contract of `chain`; see the
/// crate docs for the choices made. Every number in the result is finite.
///
/// # Errors
/// `PluginError::InvalidInput` when the chain breaks the contract (see the crate docs).
pub fn compute(chain: &ChainSnapshot) -> Result<GreeksResult, PluginError> {
    let contracts = &chain.contracts;
    contracts
        .check_lengths()
        .map_err(PluginError::InvalidInput)?;
    if !chain.spot.is_finite() {
        return Err(invalid(format!("spot {} is not finite", chain.spot)));
    }
    if chain.rate.is_nan() || chain.rate.abs() > MAX_ABS_RATE {
        return Err(invalid(format!(
            "rate {} is not a finite number within ±{MAX_ABS_RATE}",
            chain.rate
        )));
    }
    if let Some((row, strike)) = contracts
        .strike
        .iter()
        .enumerate()
        .find(|(_, k)| !usable_level(**k))
    {
        return Err(invalid(format!(
            "strike {strike} at row {row} is not in (0, {MAX_LEVEL:e}]"
        )));
    }
    let tte = expiry::time_to_expiry(chain.expiry, chain.as_of_ms)
        .ok_or_else(|| invalid(format!("expiry {:?} is not a valid date", chain.expiry)))?;
    let (years, expired) = match tte {
        TimeToExpiry::Live { years } => (years, false),
        TimeToExpiry::Expired => (0.0, true),
    };
    if years > MAX_YEARS {
        return Err(invalid(format!(
            "expiry is {years:.0} years away (more than {MAX_YEARS})"
        )));
    }
    let (forward, forward_source) = choose_forward(chain, years)?;
    let market = Market::new(forward, years, chain.rate);

    let mut greeks = GreeksColumns::with_capacity(contracts.len());
    let mut neighbour = Neighbour::default();
    for row in 0..contracts.len() {
        let out = if expired {
            expired_row(forward, contracts, row)
        } else {
            live_row(&market, contracts, row, &mut neighbour)
        };
        greeks.price.push(out.price);
        greeks.iv.push(out.iv);
        greeks.delta.push(out.greeks.delta);
        greeks.gamma.push(out.greeks.gamma);
        greeks.theta.push(out.greeks.theta);
        greeks.vega.push(out.greeks.vega);
        greeks.rho.push(out.greeks.rho);
        greeks.status.push(out.status);
    }
    Ok(GreeksResult {
        model: MODEL.into(),
        forward,
        forward_source,
        time_to_expiry: years,
        greeks,
    })
}

fn invalid(message: String) -> PluginError {
    PluginError::InvalidInput(message)
}

fn usable_level(x: f64) -> bool {
    x > 0.0 && x <= MAX_LEVEL
}

/// Given forward, else put-call parity, else spot; the first usable level wins.
fn choose_forward(chain: &ChainSnapshot, years: f64) -> Result<(f64, ForwardSource), PluginError> {
    if let Some(f) = chain.forward.filter(|f| usable_level(*f)) {
        return Ok((f, ForwardSource::Given));
    }
    if let Some(f) =
        synthetic_forward(&chain.contracts, chain.rate, years).filter(|f| usable_level(*f))
    {
        return Ok((f, ForwardSource::PutCallParity));
    }
    if usable_level(chain.spot) {
        return Ok((chain.spot, ForwardSource::Spot));
    }
    Err(invalid(format!(
        "no usable forward: given {:?}, no strike with both call and put priced, spot {}",
        chain.forward, chain.spot
    )))
}

/// One output row.
struct Row {
    price: f64,
    iv: f64,
    greeks: Greeks,
    status: IvStatus,
}

/// Past 15:30 IST on expiry day: the undiscounted payoff against the forward.
fn expired_row(forward: f64, contracts: &ContractColumns, row: usize) -> Row {
    let (strike, is_call) = (contracts.strike[row], contracts.is_call[row]);
    let sign = if is_call { 1.0 } else { -1.0 };
    let moneyness = sign * (forward - strike);
    let delta = if moneyness > 0.0 {
        sign
    } else if moneyness == 0.0 {
        0.5 * sign
    } else {
        0.0
    };
    Row {
        price: black76::intrinsic(is_call, forward, strike),
        iv: 0.0,
        greeks: Greeks {
            delta,
            ..Greeks::default()
        },
        status: IvStatus::Expired,
    }
}

/// The last solved contract, whose volatility starts the next contract's solve when
/// its strike is near (chains arrive sorted by strike, calls and puts side by side).
#[derive(Default)]
struct Neighbour(Option<(f64, f64)>);

impl Neighbour {
    /// Strikes further apart than this (relative) are solved from nothing.
    const REACH: f64 = 0.05;

    fn guess(&self, strike: f64) -> Option<f64> {
        self.0
            .filter(|(near, _)| (strike - near).abs() <= Self::REACH * near)
            .map(|(_, vol)| vol)
    }
}

fn live_row(
    market: &Market,
    contracts: &ContractColumns,
    row: usize,
    neighbour: &mut Neighbour,
) -> Row {
    let (strike, is_call) = (contracts.strike[row], contracts.is_call[row]);
    let Some(quote) = contracts.reference_price(row) else {
        return limit_row(market, strike, is_call, IvStatus::NoPrice);
    };
    let status = match warm_start::solve(market, quote, strike, is_call, neighbour.guess(strike)) {
        Ok(solved) => {
            neighbour.0 = Some((strike, solved.vol));
            return Row {
                price: solved.price,
                iv: solved.vol,
                greeks: solved.greeks,
                status: IvStatus::Solved,
            };
        }
        Err(IvError::NoPrice) => IvStatus::NoPrice,
        Err(IvError::BelowIntrinsic) => IvStatus::BelowIntrinsic,
        Err(IvError::AboveBound) => IvStatus::AboveBound,
        Err(IvError::NotSolvable) => unsolvable_status(market, quote, strike, is_call),
    };
    limit_row(market, strike, is_call, status)
}

fn limit_row(market: &Market, strike: f64, is_call: bool, status: IvStatus) -> Row {
    let (price, greeks) = market.zero_vol_limit(strike, is_call);
    Row {
        price,
        iv: 0.0,
        greeks,
        status,
    }
}

/// Which bound a price the solver could not invert sits against: the upper half of
/// [intrinsic, bound] (undiscounted) counts as `AboveBound`, the lower as
/// `BelowIntrinsic`.
fn unsolvable_status(market: &Market, quote: f64, strike: f64, is_call: bool) -> IvStatus {
    let intrinsic = black76::intrinsic(is_call, market.forward(), strike);
    let bound = if is_call { market.forward() } else { strike };
    if quote / market.discount() >= 0.5 * (intrinsic + bound) {
        IvStatus::AboveBound
    } else {
        IvStatus::BelowIntrinsic
    }
}

#[cfg(test)]
mod tests {
    //! The `NotSolvable` → status rule, tested directly: no realistic quote makes the
    //! solver fail, so no chain reaches it.

    use super::unsolvable_status;
    use optionhub_pricing::black76::Market;
    use optionhub_pricing::chain::IvStatus;

    #[test]
    fn unsolvable_prices_go_to_the_nearer_bound() {
        let market = Market::new(100.0, 0.5, 0.0);
        // Call K = 90: intrinsic 10, bound 100, midpoint 55.
        assert_eq!(
            unsolvable_status(&market, 99.9, 90.0, true),
            IvStatus::AboveBound
        );
        assert_eq!(
            unsolvable_status(&market, 55.0, 90.0, true),
            IvStatus::AboveBound
        );
        assert_eq!(
            unsolvable_status(&market, 10.1, 90.0, true),
            IvStatus::BelowIntrinsic
        );
        // Put K = 90: intrinsic 0, bound 90, midpoint 45.
        assert_eq!(
            unsolvable_status(&market, 1e-12, 90.0, false),
            IvStatus::BelowIntrinsic
        );
        assert_eq!(
            unsolvable_status(&market, 89.0, 90.0, false),
            IvStatus::AboveBound
        );
    }
}
