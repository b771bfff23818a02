//! Black-76 implied volatility from a discounted option price.
//!
//! The inversion itself is Jäckel's "Let's Be Rational" through the `implied-vol` crate
//! (reference §1.1, §1.3), which works on *undiscounted* prices; this module owns what
//! surrounds it: undiscounting, classifying prices that no volatility can produce
//! (below intrinsic, at or above the no-arbitrage bound, no price at all), and making
//! sure no NaN or infinity ever comes back as a volatility.

use implied_vol::{DefaultSpecialFn, ImpliedBlackVolatility};

use crate::black76::{self, Inputs, Market, intrinsic, positive_finite};

/// Why no implied volatility was returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvError {
    /// The price is not a positive number (≤ 0 or NaN): "no quote" in the WIT contract.
    NoPrice,
    /// The price is at or below the discounted intrinsic value: no positive volatility
    /// produces it. At exactly intrinsic the answer would be σ = 0, which carries no
    /// information and is reported here too, as is a time value so small that, divided
    /// by √(FK), it is no longer a normal f64 (the solver cannot tell it from zero).
    BelowIntrinsic,
    /// The price is at or above the no-arbitrage bound (D·F for a call, D·K for a put),
    /// or infinite: only σ = ∞ would produce it.
    AboveBound,
    /// The market inputs are outside the model's domain (F or K not positive and
    /// finite, T not positive and finite, r or e^{−rT} not finite), or the solver
    /// returned no finite positive volatility for a price strictly between the bounds.
    NotSolvable,
}

/// Implied Black-76 volatility (a decimal, 0.12 = 12 %) of an option whose
/// **discounted** price is `price`.
///
/// Never panics; `Ok` always holds a finite, strictly positive volatility. The price is
/// undiscounted (÷ e^{−rT}) before it is handed to the solver, which inverts the
/// undiscounted Black formula; the bounds are checked on both sides of that division.
///
/// # Errors
/// The [`IvError`] saying why no volatility exists or was found.
pub fn implied_vol(
    price: f64,
    forward: f64,
    strike: f64,
    years: f64,
    rate: f64,
    is_call: bool,
) -> Result<f64, IvError> {
    if price.is_nan() || price <= 0.0 {
        return Err(IvError::NoPrice);
    }
    implied_vol_in(&Market::new(forward, years, rate), price, strike, is_call)
}

/// As [`implied_vol()`], for a contract of the expiry described by `market`; lets a chain
/// share one e^{−rT} across its contracts.
///
/// # Errors
/// As [`implied_vol()`].
pub fn implied_vol_in(
    market: &Market,
    price: f64,
    strike: f64,
    is_call: bool,
) -> Result<f64, IvError> {
    let undiscounted = check_solvable(market, price, strike, is_call)?;
    solve_undiscounted(market, undiscounted, strike, is_call)
}

/// The undiscounted price (÷ e^{−rT}) of an option whose discounted price is `price`,
/// once it is known that some finite positive volatility might produce it: a price,
/// inside the model's domain, strictly between intrinsic value and the no-arbitrage
/// bound.
///
/// # Errors
/// The [`IvError`] saying why no volatility can exist.
pub(crate) fn check_solvable(
    market: &Market,
    price: f64,
    strike: f64,
    is_call: bool,
) -> Result<f64, IvError> {
    if price.is_nan() || price <= 0.0 {
        return Err(IvError::NoPrice);
    }
    let (forward, years, discount) = (market.forward(), market.years(), market.discount());
    // `is_valid` has already excluded a NaN or negative T; T = 0 leaves nothing to solve.
    if !market.is_valid() || years <= 0.0 || !positive_finite(strike) {
        return Err(IvError::NotSolvable);
    }
    let undiscounted = price / discount;
    let bound = if is_call { forward } else { strike };
    // Compare both in discounted and in undiscounted terms: D·F and price/D round
    // separately, and a price meant to sit exactly on a bound must be caught either way.
    if !undiscounted.is_finite() || price >= discount * bound || undiscounted >= bound {
        return Err(IvError::AboveBound);
    }
    let intrinsic = intrinsic(is_call, forward, strike);
    if price <= discount * intrinsic || undiscounted <= intrinsic {
        return Err(IvError::BelowIntrinsic);
    }
    Ok(undiscounted)
}

/// Let's Be Rational on an undiscounted price that [`check_solvable`] has passed.
pub(crate) fn solve_undiscounted(
    market: &Market,
    undiscounted: f64,
    strike: f64,
    is_call: bool,
) -> Result<f64, IvError> {
    let (forward, years) = (market.forward(), market.years());
    let solved = ImpliedBlackVolatility::builder()
        .option_price(undiscounted)
        .forward(forward)
        .strike(strike)
        .expiry(years)
        .is_call(is_call)
        .build()
        .and_then(|problem| problem.calculate::<DefaultSpecialFn>());
    match solved {
        Some(vol) if vol > 0.0 && vol.is_finite() => Ok(vol),
        // The solver saw the price on its (rounded) upper cap.
        Some(f64::INFINITY) => Err(IvError::AboveBound),
        // A time value below the smallest normal number after normalisation: nothing
        // but σ = 0 reproduces it within rounding.
        Some(0.0) => Err(IvError::BelowIntrinsic),
        _ => Err(IvError::NotSolvable),
    }
}

/// How much information a price carries about its volatility: the condition number
/// κ = P / (σ·∂P/∂σ) of σ(P) at the option described by `i` (at `i.vol`). A relative
/// error δ in the price moves the implied volatility by about κ·δ (relative), so a price
/// rounded to f64 pins σ down to no better than about κ·ε.
///
/// κ is of order one near the money and small far out of the money (where the price
/// reacts strongly to σ); it grows without bound deep in the money, where the time value
/// drowns in the intrinsic value. It is +∞ once vega underflows to 0, and NaN outside
/// the Black-76 domain or at σ = 0.
#[must_use]
pub fn vol_condition_number(i: &Inputs) -> f64 {
    if i.vol.is_nan() || i.vol <= 0.0 {
        return f64::NAN;
    }
    let price = black76::price(i);
    let vega = black76::greeks_annual(i).vega;
    if vega > 0.0 {
        price / (i.vol * vega)
    } else if price.is_nan() {
        f64::NAN
    } else {
        f64::INFINITY
    }
}
