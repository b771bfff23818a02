//! Serving the chains clients asked for from Dhan's REST option chain until the feed
//! has them: a chain first asked for is fetched at once, and while it is wanted and
//! the feed is not (yet) bringing it prices it is fetched again every
//! [`REFETCH_AFTER`]. Dhan's limits (one request per distinct chain per 3 s, five
//! data requests per second overall) are kept by the REST client that this loop shares
//! with the tier refresher; a rate-limit answer pauses the whole loop. Results go through the same event stream as the feed's frames.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::seed::{ChainSeeder, ChainTarget};
use super::state::MarketState;
use super::view::ChainId;
use dhan::event::now_ns;

/// A REST-served chain is fetched again after this long (Dhan allows one request per
/// distinct chain every 3 s).
pub const REFETCH_AFTER: Duration = Duration::from_secs(5);
/// Feed data this fresh means the feed serves the chain; REST can stop.
const FEED_FRESH: Duration = Duration::from_secs(10);
/// How often the loop looks at the wanted chains when nothing new is asked for.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Fetches wanted chains outside the first `tier_expiries` from REST, forever.
pub async fn serve_wanted(
    seeder: Arc<ChainSeeder>,
    market: Arc<MarketState>,
    tier_expiries: usize,
) {
    let mut fetched: HashMap<ChainId, Instant> = HashMap::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(LOOK_EVERY) => {}
            () = market.demand().asked() => {}
        }
        let wanted = market.demand().wanted();
        fetched.retain(|id, _| wanted.contains(id));
        for id in wanted {
            let Some(target) = rest_target(&market, &id, tier_expiries) else {
                continue;
            };
            let due = fetched
                .get(&id)
                .is_none_or(|at| at.elapsed() >= REFETCH_AFTER);
            if !due || feed_serves(&market, &id) {
                continue;
            }
            fetched.insert(id, Instant::now());
            match seeder.fetch(target).await {
                Err(error) if error.is_auth_failure() => return,
                Err(error) if error.is_rate_limited() => {
                    tokio::time::sleep(seeder.rate_limit_pause).await;
                }
                _ => {}
            }
            if seeder.events.is_closed() {
                return;
            }
        }
    }
}

/// The REST target of a wanted chain that is live and outside the tiers (the tier
/// chains have their own refresher).
fn rest_target(market: &MarketState, id: &ChainId, tier_expiries: usize) -> Option<ChainTarget> {
    let registry = market.registry();
    let info = registry.underlying(&id.underlying)?;
    let live = registry.live_expiries(&id.underlying, market.calendar().live_from());
    let position = live.iter().position(|e| e.expiry == id.expiry)?;
    (position >= tier_expiries).then_some(ChainTarget {
        underlying: info.index,
        expiry: id.expiry,
    })
}

/// Whether the feed brought this chain data recently.
fn feed_serves(market: &MarketState, id: &ChainId) -> bool {
    let Some((feed_at_ns, _)) = market.chain_sources(id) else {
        return false;
    };
    let fresh = i64::try_from(FEED_FRESH.as_nanos()).unwrap_or(i64::MAX);
    feed_at_ns > 0 && now_ns().saturating_sub(feed_at_ns) < fresh
}
