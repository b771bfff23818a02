//! Helpers shared by the integration tests: the "does this price carry its volatility"
//! criterion used wherever a test solves for σ and checks the answer.

use optionhub_pricing::black76::{self, Inputs};
use optionhub_pricing::implied::{IvError, vol_condition_number};

/// The relative accuracy a round trip must reach at an informative point.
pub(crate) const ROUND_TRIP_TOL: f64 = 1e-9;

/// Whether the f64 price of `i` determines σ to better than [`ROUND_TRIP_TOL`].
///
/// The precise criterion, both parts required:
/// 1. κ·ε ≤ 1e-10, with κ = P/(σ·∂P/∂σ) the condition number of σ(P)
///    ([`vol_condition_number`]): rounding the price to f64 (relative error ε) already
///    moves σ by κ·ε, so below this bound the rounding costs at most a tenth of the
///    tolerance. This excludes deep in-the-money prices whose time value drowns in the
///    intrinsic value, and prices whose vega underflowed.
/// 2. The normalised undiscounted time value (P/D − intrinsic)/√(FK) is a normal f64
///    (≥ `f64::MIN_POSITIVE`): below that it is subnormal, has lost significant bits,
///    and the solver reads it as zero time value. This excludes out-of-the-money
///    prices of about 1e-300·√(FK) or less, including those that underflow to 0.
pub(crate) fn informative(i: &Inputs) -> bool {
    let price = black76::price(i);
    let discount = (-i.rate * i.years).exp();
    let time_value = price / discount - black76::intrinsic(i.is_call, i.forward, i.strike);
    let normalised = time_value / (i.forward.sqrt() * i.strike.sqrt());
    vol_condition_number(i) * f64::EPSILON <= 1e-10 && normalised >= f64::MIN_POSITIVE
}

/// Checks a solver answer for the option `i` priced at `price` = `black76::price(i)`.
///
/// Informative points (see [`informative`]) must give back `i.vol` to
/// [`ROUND_TRIP_TOL`] relative. At the others the price cannot pin σ down, and the
/// documented behaviour is asserted instead: either a volatility that reprices to the
/// same price (within 64 ulps, plus an absolute 1e-300 for prices near underflow), or
/// `NoPrice` for a price that underflowed to exactly 0, or `BelowIntrinsic` when the
/// time value was lost (its normalised value is not a normal f64, or the price is
/// within 64 ulps of the discounted intrinsic value).
#[track_caller]
pub(crate) fn check_solution(i: &Inputs, price: f64, solved: Result<f64, IvError>) {
    if informative(i) {
        match solved {
            Ok(vol) => {
                let rel = ((vol - i.vol) / i.vol).abs();
                assert!(
                    rel <= ROUND_TRIP_TOL,
                    "{i:?}: solved {vol}, relative error {rel:e}"
                );
            }
            Err(e) => panic!("{i:?}: informative price {price:e} gave {e:?}"),
        }
        return;
    }
    let discount = (-i.rate * i.years).exp();
    let intrinsic = discount * black76::intrinsic(i.is_call, i.forward, i.strike);
    let ulps = 64.0 * f64::EPSILON;
    match solved {
        Ok(vol) => {
            assert!(vol.is_finite() && vol > 0.0, "{i:?}: Ok({vol})");
            let repriced = black76::price(&Inputs { vol, ..*i });
            assert!(
                (repriced - price).abs() <= ulps * price + 1e-300,
                "{i:?}: σ {vol} reprices to {repriced:e}, not {price:e}"
            );
        }
        Err(IvError::NoPrice) => assert!(price == 0.0, "{i:?}: NoPrice for {price:e}"),
        Err(IvError::BelowIntrinsic) => {
            let normalised = (price - intrinsic) / discount / (i.forward.sqrt() * i.strike.sqrt());
            assert!(
                normalised < f64::MIN_POSITIVE || price - intrinsic <= ulps * price,
                "{i:?}: BelowIntrinsic for {price:e}, intrinsic {intrinsic:e}"
            );
        }
        Err(e) => panic!("{i:?}: price {price:e} gave {e:?}"),
    }
}
