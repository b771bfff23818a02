//! The valuation model every output shares: a leg's value and Greeks when the
//! underlying is at S, `h` years from now, with every IV shifted by the same amount.
//!
//! Each leg keeps its own forward. Now, F_j = S · (F_j/spot); as time passes the basis
//! decays, F_j(h) = S · (F_j/spot)^(τ/T_j) with τ = T_j − h, so a leg's forward meets the
//! underlying at its expiry. Options are valued with Black-76 at (F_j(h), K, τ, σ_j),
//! futures at F_j(h); an expired option is worth its intrinsic value.

use optionhub_pricing::black76::{self, Greeks, Inputs};

use crate::{LegKind, PositionGreeks, ValuationRequest};

/// Years. A leg with at most this much time left (about 30 ms) counts as expired, so
/// legs whose expiries differ by rounding alone all settle at intrinsic together (the
/// exact breakeven algorithm relies on it).
pub(crate) const EXPIRY_EPS: f64 = 1e-9;

/// Volatility floor: an IV of 0 (or shifted below 0 by a scenario) is valued as 1e-4,
/// the near-intrinsic limit, rather than rejected.
pub(crate) const IV_FLOOR: f64 = 1e-4;

/// One leg with its signed quantity resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leg {
    pub kind: LegKind,
    pub strike: f64,
    /// lots × lot size, negative when sold.
    pub qty: f64,
    pub entry: f64,
    pub market: f64,
    pub forward: f64,
    pub iv: f64,
    pub years: f64,
}

impl Leg {
    pub(crate) fn is_option(&self) -> bool {
        self.kind != LegKind::Future
    }
}

/// A validated request's legs and market.
#[derive(Debug, Clone)]
pub(crate) struct Position {
    pub legs: Vec<Leg>,
    pub spot: f64,
    pub rate: f64,
    /// The nearest expiry: min time to expiry over the legs.
    pub t0: f64,
}

impl Position {
    /// Builds the position; the request must have passed validation (equal column
    /// lengths, at least one leg).
    pub(crate) fn new(request: &ValuationRequest) -> Self {
        let c = &request.legs;
        let legs: Vec<Leg> = (0..c.len())
            .map(|i| {
                let size = f64::from(c.lots[i]) * f64::from(c.lot_size[i]);
                Leg {
                    kind: c.kind[i],
                    strike: c.strike[i],
                    qty: if c.is_buy[i] { size } else { -size },
                    entry: c.entry_price[i],
                    market: c.market_price[i],
                    forward: c.forward[i],
                    iv: c.iv[i],
                    years: c.time_to_expiry[i],
                }
            })
            .collect();
        let t0 = legs.iter().map(|l| l.years).fold(f64::INFINITY, f64::min);
        Self {
            legs,
            spot: request.spot,
            rate: request.rate,
            t0,
        }
    }

    /// True when every leg expires at the nearest expiry, so the expiry P&L is
    /// piecewise linear in S.
    pub(crate) fn single_expiry(&self) -> bool {
        self.legs
            .iter()
            .all(|l| (l.years - self.t0).abs() < EXPIRY_EPS)
    }

    /// The leg that defines the nearest expiry (first on a tie).
    pub(crate) fn nearest_leg(&self) -> Option<&Leg> {
        self.legs.iter().find(|l| l.years <= self.t0)
    }

    /// Σ |quantity|: the scale for "is this P&L or slope zero" tolerances.
    pub(crate) fn gross_quantity(&self) -> f64 {
        self.legs.iter().map(|l| l.qty.abs()).sum()
    }

    /// The leg's forward with the underlying at `s`, `h` years from now.
    fn forward_at(&self, leg: &Leg, s: f64, h: f64) -> f64 {
        let tau = leg.years - h;
        if tau <= EXPIRY_EPS {
            return s;
        }
        // τ < T_j here, so T_j > 0.
        s * (leg.forward / self.spot).powf(tau / leg.years)
    }

    /// Value per unit of one leg.
    pub(crate) fn leg_value(&self, leg: &Leg, s: f64, h: f64, iv_shift: f64) -> f64 {
        self.leg_state(leg, s, h, iv_shift, false).0
    }

    /// Value per unit and, when `with_greeks`, display-unit Greeks per unit.
    fn leg_state(
        &self,
        leg: &Leg,
        s: f64,
        h: f64,
        iv_shift: f64,
        with_greeks: bool,
    ) -> (f64, Greeks) {
        let forward = self.forward_at(leg, s, h);
        let is_call = match leg.kind {
            LegKind::Future => {
                return (
                    forward,
                    Greeks {
                        delta: 1.0,
                        ..Greeks::default()
                    },
                );
            }
            LegKind::Call => true,
            LegKind::Put => false,
        };
        let tau = leg.years - h;
        // Black-76 is defined for F > 0 only; at S = 0 its F → 0 limit is the
        // zero-volatility one (call worthless, put worth D·K), so use that there.
        let inputs = Inputs {
            forward: forward.max(f64::MIN_POSITIVE),
            strike: leg.strike,
            years: tau.max(0.0),
            vol: (leg.iv + iv_shift).max(IV_FLOOR),
            rate: self.rate,
            is_call,
        };
        if tau <= EXPIRY_EPS {
            // Settled: intrinsic value, and only the delta of the payoff survives (no
            // time is left to decay, no volatility to matter, nothing to discount).
            let value = black76::intrinsic(is_call, forward, leg.strike);
            if !with_greeks {
                return (value, Greeks::default());
            }
            let delta = black76::zero_vol_limit(&Inputs {
                years: 0.0,
                ..inputs
            })
            .1
            .delta;
            return (
                value,
                Greeks {
                    delta,
                    ..Greeks::default()
                },
            );
        }
        if forward <= 0.0 {
            return black76::zero_vol_limit(&inputs);
        }
        let value = black76::price(&inputs);
        (
            value,
            if with_greeks {
                black76::greeks(&inputs)
            } else {
                Greeks::default()
            },
        )
    }

    /// P&L of the position against the entry prices, rupees.
    pub(crate) fn pnl(&self, s: f64, h: f64, iv_shift: f64) -> f64 {
        self.legs
            .iter()
            .map(|l| l.qty * (self.leg_value(l, s, h, iv_shift) - l.entry))
            .sum()
    }

    /// P&L at the nearest expiry, the function breakevens and PoP are about.
    pub(crate) fn pnl_at_expiry(&self, s: f64) -> f64 {
        self.pnl(s, self.t0, 0.0)
    }

    /// Σ quantity × per-unit Greeks.
    pub(crate) fn greeks(&self, s: f64, h: f64, iv_shift: f64) -> PositionGreeks {
        let mut total = PositionGreeks::default();
        for leg in &self.legs {
            let g = self.leg_state(leg, s, h, iv_shift, true).1;
            total.delta += leg.qty * g.delta;
            total.gamma += leg.qty * g.gamma;
            total.theta += leg.qty * g.theta;
            total.vega += leg.qty * g.vega;
            total.rho += leg.qty * g.rho;
        }
        total
    }
}
