//! Max pain (§3.1): the settlement level that would pay option holders the least.
//!
//! Pain(X) = m · Σ_i [OC_i · max(X − K_i, 0) + OP_i · max(K_i − X, 0)] is convex and
//! piecewise linear with kinks only at strikes, so evaluating it at the listed strikes
//! and taking the smallest is exact.

/// Two pains this close (relative) are a tie. The sums are exact integers times strike
/// differences, but summation order can still leave a last-bit difference between two
/// mathematically equal pains, and the tie rule must not depend on that.
const TIE_RELATIVE: f64 = 1e-12;

/// Pain at each strike of the ascending grid, in rupees with multiplier `lot_size`.
///
/// Direct O(k²) sums rather than prefix sums: prefix sums subtract large running totals
/// and would lose the exactness the tie rule relies on; a chain has a few hundred
/// strikes, so k² is cheap.
pub(crate) fn pain_curve(
    strikes: &[f64],
    call_oi: &[u64],
    put_oi: &[u64],
    lot_size: u32,
) -> Vec<f64> {
    let m = f64::from(lot_size);
    strikes
        .iter()
        .map(|&x| {
            let payout: f64 = strikes
                .iter()
                .zip(call_oi.iter().zip(put_oi))
                .map(|(&k, (&oc, &op))| oc as f64 * (x - k).max(0.0) + op as f64 * (k - x).max(0.0))
                .sum();
            m * payout
        })
        .collect()
}

/// The strike minimising `pain`. Tie rule: the strike nearer `forward`, then the lower
/// one. `None` only for an empty grid; the caller decides that "no OI" also means none.
pub(crate) fn argmin(strikes: &[f64], pain: &[f64], forward: f64) -> Option<f64> {
    let mut best: Option<usize> = None;
    for (j, (&k, &p)) in strikes.iter().zip(pain).enumerate() {
        let Some(b) = best else {
            best = Some(j);
            continue;
        };
        let (kb, pb) = (strikes[b], pain[b]);
        let tie = (p - pb).abs() <= TIE_RELATIVE * p.abs().max(pb.abs());
        // Strikes ascend, so on a tie at equal distance the earlier (lower) one stays.
        if (tie && (k - forward).abs() < (kb - forward).abs()) || (!tie && p < pb) {
            best = Some(j);
        }
    }
    best.map(|b| strikes[b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pain_is_zero_with_no_oi() {
        assert_eq!(
            pain_curve(&[1.0, 2.0], &[0, 0], &[0, 0], 50),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn single_call_pain_grows_above_its_strike() {
        // One call at 100 with OI 2, m = 10: Pain(110) = 10 · 2 · 10 = 200.
        let pain = pain_curve(&[100.0, 110.0], &[2, 0], &[0, 0], 10);
        assert_eq!(pain, vec![0.0, 200.0]);
    }

    #[test]
    fn tie_prefers_the_strike_nearer_the_forward() {
        // Flat pain: 100 is 1 away from 101, 105 is 4 away.
        assert_eq!(
            argmin(&[95.0, 100.0, 105.0], &[5.0, 5.0, 5.0], 101.0),
            Some(100.0)
        );
        assert_eq!(
            argmin(&[95.0, 100.0, 105.0], &[5.0, 5.0, 5.0], 104.0),
            Some(105.0)
        );
    }

    #[test]
    fn tie_at_equal_distance_takes_the_lower_strike() {
        assert_eq!(
            argmin(&[95.0, 100.0, 105.0], &[9.0, 5.0, 5.0], 102.5),
            Some(100.0)
        );
    }

    #[test]
    fn strict_minimum_beats_distance() {
        assert_eq!(
            argmin(&[95.0, 100.0, 105.0], &[4.0, 5.0, 5.0], 101.0),
            Some(95.0)
        );
    }

    #[test]
    fn empty_grid_has_no_max_pain() {
        assert_eq!(argmin(&[], &[], 100.0), None);
    }
}
