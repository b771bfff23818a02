//! The per-strike view of a chain: calls and puts side by side on the ascending strike
//! grid, plus chain totals.
//!
//! Everything downstream (max pain, support/resistance, the UI's OI bar chart) reads
//! strikes, not contracts, so the grouping happens once here.

use optionhub_pricing::chain::{ContractColumns, PricedChain};

use crate::StrikeDistribution;
use crate::max_pain;

/// Chain-wide sums. Saturating: a hostile host could send OI near `u64::MAX`, and an
/// overflow must not panic the plugin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub call_oi: u64,
    pub put_oi: u64,
    pub call_volume: u64,
    pub put_volume: u64,
}

pub(crate) fn totals(contracts: &ContractColumns) -> Totals {
    let mut t = Totals::default();
    for i in 0..contracts.len() {
        let (oi, volume) = if contracts.is_call[i] {
            (&mut t.call_oi, &mut t.call_volume)
        } else {
            (&mut t.put_oi, &mut t.put_volume)
        };
        *oi = oi.saturating_add(contracts.oi[i]);
        *volume = volume.saturating_add(contracts.volume[i]);
    }
    t
}

/// OI change between the previous session and now, saturating at the `i64` range.
pub(crate) fn oi_change(oi: u64, previous_oi: u64) -> i64 {
    let change = i128::from(oi) - i128::from(previous_oi);
    i64::try_from(change).unwrap_or(if change > 0 { i64::MAX } else { i64::MIN })
}

/// Index in the ascending `strikes` of the strike nearest `strike`. Nearest rather than
/// exact so the lookup cannot miss if the grid was deduplicated with a tolerance.
pub(crate) fn strike_index(strikes: &[f64], strike: f64) -> usize {
    let above = strikes.partition_point(|&s| s < strike);
    match (above.checked_sub(1), strikes.get(above)) {
        (Some(below), Some(&up)) if strike - strikes[below] < up - strike => below,
        (Some(below), None) => below,
        _ => above,
    }
}

/// A NaN or infinite model output shown as 0: the WIT contract promises NaN-free IV and
/// Greeks, and a rogue host must not make us break that promise.
fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Groups the contracts by strike. Quantities (OI, OI change, volume) of duplicate rows
/// on the same strike and side are summed, like the totals; IV and Greeks are taken
/// from the first such row, since averaging model outputs has no meaning.
pub(crate) fn build(input: &PricedChain, strikes: &[f64]) -> StrikeDistribution {
    let contracts = &input.chain.contracts;
    let greeks = &input.greeks.greeks;
    let n = strikes.len();
    let mut d = StrikeDistribution {
        strike: strikes.to_vec(),
        call_oi: vec![0; n],
        put_oi: vec![0; n],
        call_oi_change: vec![0; n],
        put_oi_change: vec![0; n],
        call_volume: vec![0; n],
        put_volume: vec![0; n],
        call_iv: vec![0.0; n],
        put_iv: vec![0.0; n],
        call_delta: vec![0.0; n],
        put_delta: vec![0.0; n],
        call_gamma: vec![0.0; n],
        put_gamma: vec![0.0; n],
        pain: Vec::new(),
    };
    let mut has_greeks = vec![[false; 2]; n];

    for i in 0..contracts.len() {
        let k = strike_index(strikes, contracts.strike[i]);
        let change = oi_change(contracts.oi[i], contracts.previous_oi[i]);
        let side = usize::from(!contracts.is_call[i]);
        let (oi, oi_chg, volume, iv, delta, gamma) = if contracts.is_call[i] {
            (
                &mut d.call_oi[k],
                &mut d.call_oi_change[k],
                &mut d.call_volume[k],
                &mut d.call_iv[k],
                &mut d.call_delta[k],
                &mut d.call_gamma[k],
            )
        } else {
            (
                &mut d.put_oi[k],
                &mut d.put_oi_change[k],
                &mut d.put_volume[k],
                &mut d.put_iv[k],
                &mut d.put_delta[k],
                &mut d.put_gamma[k],
            )
        };
        *oi = oi.saturating_add(contracts.oi[i]);
        *oi_chg = oi_chg.saturating_add(change);
        *volume = volume.saturating_add(contracts.volume[i]);
        if !has_greeks[k][side] {
            has_greeks[k][side] = true;
            *iv = finite_or_zero(greeks.iv[i]);
            *delta = finite_or_zero(greeks.delta[i]);
            *gamma = finite_or_zero(greeks.gamma[i]);
        }
    }

    d.pain = max_pain::pain_curve(&d.strike, &d.call_oi, &d.put_oi, input.chain.lot_size);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strike_index_finds_exact_and_nearest() {
        let grid = [95.0, 100.0, 105.0];
        assert_eq!(strike_index(&grid, 95.0), 0);
        assert_eq!(strike_index(&grid, 100.0), 1);
        assert_eq!(strike_index(&grid, 105.0), 2);
        assert_eq!(strike_index(&grid, 100.000_000_1), 1);
        assert_eq!(strike_index(&grid, 104.999_999_9), 2);
        assert_eq!(strike_index(&grid, 200.0), 2);
        assert_eq!(strike_index(&grid, -5.0), 0);
    }

    #[test]
    fn oi_change_saturates_instead_of_overflowing() {
        assert_eq!(oi_change(10, 4), 6);
        assert_eq!(oi_change(4, 10), -6);
        assert_eq!(oi_change(u64::MAX, 0), i64::MAX);
        assert_eq!(oi_change(0, u64::MAX), i64::MIN);
    }
}
