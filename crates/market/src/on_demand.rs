//! Fitting the chains clients asked for into what Dhan's feed allows (5 connections ×
//! 5,000 instruments): whatever the always-subscribed tiers leave is split max-min
//! fairly among the wanted chains, so one chain's want never starves another, and the
//! total never exceeds the budget. Each chain spends its share on the strikes nearest
//! the money, in Quote mode (price, OI and the day's figures; no depth).

use super::view::ChainId;
use crate::subscriptions::nearest_strike_index;
use dhan::live::SubscriptionPlan;
use dhan::requests::FeedMode;
use instruments::registry::ExpiryInfo;

/// Splits `budget` among chains wanting `wants` instruments each, max-min fairly: a
/// chain gets all it wants or an equal share of what is left, whichever is less, and
/// the shares never add up to more than `budget`.
pub fn fair_shares(wants: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..wants.len()).collect();
    order.sort_by_key(|&i| wants.get(i).copied().unwrap_or(0));
    let mut shares = vec![0; wants.len()];
    let mut left = budget;
    for (done, &i) in order.iter().enumerate() {
        let still = wants.len() - done;
        let want = wants.get(i).copied().unwrap_or(0);
        let share = want.min(left / still.max(1));
        if let Some(slot) = shares.get_mut(i) {
            *slot = share;
        }
        left -= share;
    }
    shares
}

/// The contracts of `expiry` within `strikes` of the strike nearest `centre`, nearest
/// first (a strike's call, then its put).
pub fn contracts_near(
    expiry: &ExpiryInfo,
    centre: f64,
    strikes: usize,
) -> Vec<instruments::InstrumentKey> {
    let Some(atm) = nearest_strike_index(expiry.strikes.iter().map(|r| r.strike), centre) else {
        return Vec::new();
    };
    let mut rows: Vec<(usize, usize)> = expiry
        .strikes
        .iter()
        .enumerate()
        .map(|(i, _)| (i.abs_diff(atm), i))
        .filter(|(distance, _)| *distance <= strikes)
        .collect();
    rows.sort_unstable();
    rows.into_iter()
        .filter_map(|(_, i)| expiry.strikes.get(i))
        .flat_map(|row| [row.call, row.put].into_iter().flatten())
        .collect()
}

/// One wanted chain and the contracts it would like, nearest the money first.
#[derive(Debug)]
pub struct WantedChain {
    pub id: ChainId,
    pub contracts: Vec<instruments::InstrumentKey>,
}

/// Adds the wanted chains to `plan` in Quote mode, sharing `budget` fairly; returns
/// how many instruments each got.
pub fn add_wanted(
    plan: &mut SubscriptionPlan,
    wanted: &[WantedChain],
    budget: usize,
) -> Vec<usize> {
    let wants: Vec<usize> = wanted.iter().map(|w| w.contracts.len()).collect();
    let shares = fair_shares(&wants, budget);
    for (chain, &share) in wanted.iter().zip(&shares) {
        for key in chain.contracts.iter().take(share) {
            plan.entry(*key).or_insert(FeedMode::Quote);
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::fair_shares;

    #[test]
    fn small_wants_are_met_and_the_rest_split_evenly() {
        assert_eq!(fair_shares(&[10, 500, 500], 610), vec![10, 300, 300]);
        assert_eq!(fair_shares(&[10, 500, 500], 10_000), vec![10, 500, 500]);
        // 1,001 for 3 big chains: the remainder goes to the later ones, one each, and
        // the total is the budget, never more.
        let shares = fair_shares(&[900, 900, 900], 1_001);
        assert_eq!(shares, vec![333, 334, 334]);
        assert!(shares.iter().sum::<usize>() <= 1_001);
        assert_eq!(fair_shares(&[5, 5], 0), vec![0, 0]);
        assert!(fair_shares(&[], 100).is_empty());
    }

    #[test]
    fn every_chain_gets_a_share_when_the_budget_is_short() {
        let wants = vec![62; 30];
        let shares = fair_shares(&wants, 900);
        assert!(shares.iter().all(|&s| s == 30), "{shares:?}");
        assert!(shares.iter().sum::<usize>() <= 900);
    }
}
