//! Black-76 on the forward: discounted prices and Greeks of European options on an
//! index forward, in the units the rest of optionhub displays.
//!
//! Every optionhub model prices on the forward of the option's own expiry (reference
//! §1.4): rates and dividends sit inside F, and r only discounts. Greeks are taken with
//! F held fixed (reference §3.10), so delta is the forward delta a futures hedge needs.
//!
//! Units ([`greeks`], the display units of the WIT `greeks-columns`): delta per point of
//! F, gamma per point, theta per calendar day (annual ÷ 365), vega per volatility point
//! (per 1.0 ÷ 100), rho per 1 % of rate (per 1.0 ÷ 100). [`greeks_annual`] gives the
//! textbook units (theta per year, vega and rho per 1.0) that published vectors use.
//!
//! When σ√T is 0 (no volatility or no time left) the Black formula degenerates; the
//! functions here return its limit, [`zero_vol_limit`], instead of 0/0.

use implied_vol::{DefaultSpecialFn, PriceBlackScholes};

use crate::normal;

/// Days in the year that theta is quoted over (calendar-day theta).
pub const DAYS_PER_YEAR: f64 = 365.0;

/// One option under Black-76. Domain: `forward`, `strike` > 0 and finite; `years` and
/// `vol` ≥ 0 and finite; `rate` finite (continuously compounded). Outside it the
/// functions of this module return NaN rather than guess.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    pub forward: f64,
    pub strike: f64,
    pub years: f64,
    pub vol: f64,
    pub rate: f64,
    pub is_call: bool,
}

/// First-order Greeks plus gamma. Which units depends on the function that produced
/// them: [`greeks`] (display units) or [`greeks_annual`] (textbook units).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Greeks {
    pub delta: f64,
    pub gamma: f64,
    pub theta: f64,
    pub vega: f64,
    pub rho: f64,
}

impl Greeks {
    const NAN: Self = Self {
        delta: f64::NAN,
        gamma: f64::NAN,
        theta: f64::NAN,
        vega: f64::NAN,
        rho: f64::NAN,
    };

    /// Converts textbook units to display units: theta per year → per calendar day,
    /// vega and rho per 1.0 → per point (1 %).
    #[must_use]
    pub fn annual_to_display(self) -> Self {
        Self {
            delta: self.delta,
            gamma: self.gamma,
            theta: self.theta / DAYS_PER_YEAR,
            vega: self.vega / 100.0,
            rho: self.rho / 100.0,
        }
    }

    /// True when no field is NaN or infinite.
    #[must_use]
    pub fn is_finite(&self) -> bool {
        [self.delta, self.gamma, self.theta, self.vega, self.rho]
            .iter()
            .all(|v| v.is_finite())
    }
}

/// The quantities one expiry shares across all its contracts (forward, T, r, e^{−rT},
/// √T), computed once per chain rather than once per contract.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Market {
    forward: f64,
    years: f64,
    rate: f64,
    discount: f64,
    sqrt_years: f64,
}

impl Market {
    /// The market of one expiry: forward F, time to expiry T in years, continuously
    /// compounded rate r. Not validated here; see [`Market::is_valid`].
    #[must_use]
    pub fn new(forward: f64, years: f64, rate: f64) -> Self {
        Self {
            forward,
            years,
            rate,
            discount: (-rate * years).exp(),
            sqrt_years: years.sqrt(),
        }
    }

    #[must_use]
    pub fn forward(&self) -> f64 {
        self.forward
    }

    #[must_use]
    pub fn years(&self) -> f64 {
        self.years
    }

    #[must_use]
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The discount factor e^{−rT}.
    #[must_use]
    pub fn discount(&self) -> f64 {
        self.discount
    }

    /// True inside the Black-76 domain: F > 0, T ≥ 0, r and e^{−rT} finite, e^{−rT} > 0.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        positive_finite(self.forward)
            && self.years >= 0.0
            && self.years.is_finite()
            && self.rate.is_finite()
            && positive_finite(self.discount)
    }

    /// Discounted price and display-unit Greeks of one contract at volatility `vol`.
    /// NaN outside the domain (see [`Inputs`]); the zero-volatility limit when σ√T = 0.
    #[must_use]
    pub fn price_and_greeks(&self, strike: f64, vol: f64, is_call: bool) -> (f64, Greeks) {
        let (price, annual) = self.price_and_greeks_annual(strike, vol, is_call);
        (price, annual.annual_to_display())
    }

    /// As [`Market::price_and_greeks`] in textbook units (theta per year, vega and rho
    /// per 1.0).
    #[must_use]
    pub fn price_and_greeks_annual(&self, strike: f64, vol: f64, is_call: bool) -> (f64, Greeks) {
        if !self.is_valid() || !positive_finite(strike) || vol < 0.0 || !vol.is_finite() {
            return (f64::NAN, Greeks::NAN);
        }
        let total_vol = vol * self.sqrt_years;
        if total_vol > 0.0 {
            let (price, greeks) = self.black(strike, vol, total_vol, is_call);
            if price.is_finite() && greeks.is_finite() {
                return (price, greeks);
            }
            // σ√T so small that gamma (∝ 1/σ√T at the money) overflowed: the limit is
            // the only finite answer left.
        }
        self.limit_annual(strike, is_call)
    }

    /// Discounted price and display-unit Greeks in the σ√T → 0 limit; see
    /// [`zero_vol_limit`]. NaN outside the domain.
    #[must_use]
    pub fn zero_vol_limit(&self, strike: f64, is_call: bool) -> (f64, Greeks) {
        if !self.is_valid() || !positive_finite(strike) {
            return (f64::NAN, Greeks::NAN);
        }
        let (price, annual) = self.limit_annual(strike, is_call);
        (price, annual.annual_to_display())
    }

    /// The closed forms (reference §1.4 and §3.10), with σ√T > 0.
    ///
    /// The price comes from `implied-vol`'s Black function (Jäckel's normalised Black),
    /// not from F·N(d1) − K·N(d2): far out of the money both terms are tiny and nearly
    /// equal, and the textbook difference loses up to ~1e-10 of relative accuracy to the
    /// rounding of e^{−d²/2}, which the implied-volatility solver (the inverse of Jäckel's
    /// function) would then read as a volatility error. The Greeks need only N(d1) and
    /// n(d1), which are accurate in absolute terms.
    fn black(&self, strike: f64, vol: f64, total_vol: f64, is_call: bool) -> (f64, Greeks) {
        let (f, d) = (self.forward, self.discount);
        let undiscounted = PriceBlackScholes::builder()
            .forward(f)
            .strike(strike)
            .volatility(vol)
            .expiry(self.years)
            .is_call(is_call)
            .build_unchecked()
            .calculate::<DefaultSpecialFn>();
        let price = d * undiscounted;
        let d1 = (f / strike).ln() / total_vol + 0.5 * total_vol;
        (price, self.greeks_at(price, vol, total_vol, d1, is_call))
    }

    /// Textbook-unit Greeks of a contract whose discounted price at volatility `vol` is
    /// `price`, given σ√T (`total_vol`, > 0) and d1 = ln(F/K)/σ√T + σ√T/2.
    pub(crate) fn greeks_at(
        &self,
        price: f64,
        vol: f64,
        total_vol: f64,
        d1: f64,
        is_call: bool,
    ) -> Greeks {
        let (f, d) = (self.forward, self.discount);
        let density = normal::pdf(d1);
        // Call delta D·N(d1), put delta −D·N(−d1), each evaluated directly so a small
        // delta keeps its relative precision.
        let delta = if is_call {
            d * normal::cdf_given_pdf(d1, density)
        } else {
            -d * normal::cdf_given_pdf(-d1, density)
        };
        Greeks {
            delta,
            gamma: d * density / (f * total_vol),
            theta: -d * f * density * vol / (2.0 * self.sqrt_years) + self.rate * price,
            vega: d * f * density * self.sqrt_years,
            rho: -self.years * price,
        }
    }

    /// √T.
    #[must_use]
    pub fn sqrt_years(&self) -> f64 {
        self.sqrt_years
    }

    /// σ√T → 0: the discounted intrinsic value; delta ±D in the money, 0 out of it and
    /// ±D/2 exactly at the money (the limit of D·N(d1) there); no gamma or vega; theta is
    /// the carry term r·price alone (the decay term vanishes off the money); rho −T·price.
    fn limit_annual(&self, strike: f64, is_call: bool) -> (f64, Greeks) {
        let d = self.discount;
        let price = d * intrinsic(is_call, self.forward, strike);
        let sign = if is_call { 1.0 } else { -1.0 };
        let moneyness = sign * (self.forward - strike);
        let delta = sign
            * d
            * if moneyness > 0.0 {
                1.0
            } else if moneyness == 0.0 {
                0.5
            } else {
                0.0
            };
        let greeks = Greeks {
            delta,
            gamma: 0.0,
            theta: self.rate * price,
            vega: 0.0,
            rho: -self.years * price,
        };
        (price, greeks)
    }
}

/// True for a strictly positive, finite number (false for NaN).
pub(crate) fn positive_finite(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

fn market(i: &Inputs) -> Market {
    Market::new(i.forward, i.years, i.rate)
}

/// Discounted Black-76 price: C = e^{−rT}[F·N(d1) − K·N(d2)], P = e^{−rT}[K·N(−d2) −
/// F·N(−d1)]. NaN outside the domain of [`Inputs`].
#[must_use]
pub fn price(i: &Inputs) -> f64 {
    market(i)
        .price_and_greeks_annual(i.strike, i.vol, i.is_call)
        .0
}

/// Greeks in display units (see the module docs). NaN outside the domain.
#[must_use]
pub fn greeks(i: &Inputs) -> Greeks {
    market(i).price_and_greeks(i.strike, i.vol, i.is_call).1
}

/// Greeks in textbook units: theta per year, vega and rho per 1.0.
#[must_use]
pub fn greeks_annual(i: &Inputs) -> Greeks {
    market(i)
        .price_and_greeks_annual(i.strike, i.vol, i.is_call)
        .1
}

/// Undiscounted intrinsic value max(F − K, 0) for a call, max(K − F, 0) for a put; NaN
/// if either input is NaN.
#[must_use]
pub fn intrinsic(is_call: bool, forward: f64, strike: f64) -> f64 {
    let v = if is_call {
        forward - strike
    } else {
        strike - forward
    };
    if v > 0.0 || v.is_nan() { v } else { 0.0 }
}

/// Price and display-unit Greeks in the limit σ√T → 0 (whatever `i.vol` says): price
/// D·intrinsic; delta ±D in the money, 0 out of the money, ±D/2 exactly at the money;
/// gamma and vega 0; theta r·price/365; rho −T·price/100. Finite for any F, K > 0, T ≥ 0
/// and r with e^{−rT} finite and positive; NaN outside that domain.
#[must_use]
pub fn zero_vol_limit(i: &Inputs) -> (f64, Greeks) {
    market(i).zero_vol_limit(i.strike, i.is_call)
}
