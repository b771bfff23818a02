//! OI-based support and resistance (§3.4): the strike with the most put OI (support) or
//! call OI (resistance) near the money.
//!
//! The window counts strikes in the chain's own grid, not points, so the same setting
//! works for NIFTY's 50-point and BANKNIFTY's 100-point steps (§3.5).

use crate::distribution::strike_index;

/// The strike with the largest `oi` within `window` strikes each side of `atm` in the
/// ascending grid (`window` 0 = the whole grid). Ties go to the strike nearer ATM, then
/// the lower one. `None` when the grid is empty or the OI in the window is all zero:
/// "no OI" is not a level.
pub(crate) fn strongest(strikes: &[f64], oi: &[u64], atm: f64, window: u32) -> Option<f64> {
    if strikes.is_empty() {
        return None;
    }
    let centre = strike_index(strikes, atm);
    let (lo, hi) = if window == 0 {
        (0, strikes.len() - 1)
    } else {
        let w = usize::try_from(window).unwrap_or(usize::MAX);
        (
            centre.saturating_sub(w),
            centre.saturating_add(w).min(strikes.len() - 1),
        )
    };

    let mut best: Option<usize> = None;
    for j in lo..=hi {
        if oi[j] == 0 {
            continue;
        }
        let better = match best {
            None => true,
            // Ascending scan: an equal OI at an equal distance keeps the lower strike.
            Some(b) => {
                oi[j] > oi[b]
                    || (oi[j] == oi[b] && (strikes[j] - atm).abs() < (strikes[b] - atm).abs())
            }
        };
        if better {
            best = Some(j);
        }
    }
    best.map(|b| strikes[b])
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRID: [f64; 5] = [90.0, 95.0, 100.0, 105.0, 110.0];

    #[test]
    fn whole_grid_when_window_is_zero() {
        assert_eq!(strongest(&GRID, &[9, 1, 1, 1, 1], 100.0, 0), Some(90.0));
    }

    #[test]
    fn window_excludes_far_strikes() {
        // 90 is two strikes below ATM 100: outside a window of 1.
        assert_eq!(strongest(&GRID, &[9, 1, 3, 2, 1], 100.0, 1), Some(100.0));
        assert_eq!(strongest(&GRID, &[9, 1, 3, 2, 1], 100.0, 2), Some(90.0));
    }

    #[test]
    fn window_is_clamped_at_the_grid_ends() {
        assert_eq!(strongest(&GRID, &[1, 2, 3, 4, 9], 110.0, 3), Some(110.0));
    }

    #[test]
    fn tie_goes_to_nearer_atm_then_lower() {
        assert_eq!(strongest(&GRID, &[5, 0, 0, 5, 0], 100.0, 0), Some(105.0));
        assert_eq!(strongest(&GRID, &[0, 5, 0, 5, 0], 100.0, 0), Some(95.0));
    }

    #[test]
    fn all_zero_or_empty_is_none() {
        assert_eq!(strongest(&GRID, &[0; 5], 100.0, 0), None);
        assert_eq!(strongest(&[], &[], 100.0, 0), None);
    }
}
