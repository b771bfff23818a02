//! The forward of one expiry and the strike grid around it: the synthetic forward from
//! put-call parity, the ATM strike, and the chain's distinct strikes.
//!
//! Weekly NIFTY expiries have no listed future, so the forward comes from the options
//! themselves (reference §0 and §3.5, the CBOE/India VIX method): at the strike K* where
//! the call and put prices are closest, F = K* + e^{rT}(C − P). That strike is the most
//! liquid and least sensitive to quote noise, and parity holds there model-free.

use crate::black76::positive_finite;
use crate::chain::ContractColumns;

/// Synthetic forward F = K* + e^{rT}(C(K*) − P(K*)), with K* the strike of smallest
/// |C − P| among the strikes where both a call and a put have a reference price
/// ([`ContractColumns::reference_price`]: mid, else last price); on a tie of |C − P| the
/// lower strike wins.
///
/// `None` when no strike has both sides priced, the columns' lengths differ, rate or
/// years is not finite (or years < 0), or the result is not a positive finite number.
/// Rows with a non-finite or non-positive strike are ignored; when a strike lists the
/// same side twice, the first row in input order is used.
#[must_use]
pub fn synthetic_forward(contracts: &ContractColumns, rate: f64, years: f64) -> Option<f64> {
    if !rate.is_finite() || years < 0.0 || !years.is_finite() || contracts.check_lengths().is_err()
    {
        return None;
    }
    let growth = (rate * years).exp();
    if !positive_finite(growth) {
        return None;
    }
    // Usable rows keyed by (strike, side, row): one allocation per chain, and sorting
    // keeps this O(n log n) whatever the row order. A positive finite f64's bit pattern
    // orders like its value, so the key is a plain integer pair; calls sort before puts,
    // so a chain listed by strike with CE before PE is already sorted (and pdqsort
    // notices in O(n)).
    let mut quoted: Vec<(u64, u64, f64)> = (0..contracts.len())
        .filter_map(|row| {
            let strike = contracts.strike[row];
            if !positive_finite(strike) {
                return None;
            }
            let price = contracts.reference_price(row)?;
            let side = u64::from(!contracts.is_call[row]) << 32;
            Some((strike.to_bits(), side | row as u64, price))
        })
        .collect();
    quoted.sort_unstable_by_key(|q| (q.0, q.1));

    // Best (|C − P|, K, C − P) so far; strikes arrive ascending, so a strict `<` keeps
    // the lower strike on a tie.
    let mut best: Option<(f64, f64, f64)> = None;
    for group in quoted.chunk_by(|a, b| a.0 == b.0) {
        // Within a strike: calls first, then puts, each in row order. Take the first of
        // each side.
        let is_put = |q: &&(u64, u64, f64)| q.1 >> 32 == 1;
        let call = group.first().filter(|q| !is_put(q)).map(|q| q.2);
        let put = group.iter().find(is_put).map(|q| q.2);
        if let (Some(c), Some(p)) = (call, put) {
            let diff = c - p;
            if best.is_none_or(|(best_abs, _, _)| diff.abs() < best_abs) {
                best = Some((diff.abs(), f64::from_bits(group[0].0), diff));
            }
        }
    }
    let (_, strike, diff) = best?;
    let forward = strike + growth * diff;
    positive_finite(forward).then_some(forward)
}

/// The listed strike nearest `forward`, the lower one on a tie; non-finite strikes are
/// ignored. `None` when `forward` is not finite or no strike is.
#[must_use]
pub fn atm_strike(strikes: &[f64], forward: f64) -> Option<f64> {
    if !forward.is_finite() {
        return None;
    }
    let mut best: Option<(f64, f64)> = None; // (distance, strike)
    for &strike in strikes.iter().filter(|k| k.is_finite()) {
        let distance = (strike - forward).abs();
        let better = match best {
            None => true,
            Some((d, k)) => distance < d || (distance == d && strike < k),
        };
        if better {
            best = Some((distance, strike));
        }
    }
    best.map(|(_, strike)| strike)
}

/// The chain's strike grid: finite strikes only, ascending, each once.
#[must_use]
pub fn distinct_strikes(strikes: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = strikes.iter().copied().filter(|k| k.is_finite()).collect();
    out.sort_unstable_by(f64::total_cmp);
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
