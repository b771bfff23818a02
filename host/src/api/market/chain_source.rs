//! Where a live chain's prices come from, and bringing a chain live when a client asks
//! for it. Chains beyond the subscribed expiries have strikes but no prices until
//! someone asks; a request marks the chain wanted (see [`crate::market::demand`]) and
//! waits briefly for its first REST snapshot, and every answer says whether its
//! prices came from the live feed or from Dhan's REST option chain, and when.

use serde::Serialize;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::market::ChainId;

/// The source of a chain's prices, and how old they are.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChainSource {
    /// `feed` or `rest`: whichever changed the chain last.
    #[schema(example = "rest")]
    pub kind: &'static str,
    /// When that source last changed the chain (RFC 3339, UTC); its age is the
    /// message's time minus this.
    pub as_of: String,
    pub as_of_ms: i64,
}

impl ChainSource {
    /// From the chain's last feed and REST arrival times (ns; 0: never).
    pub fn of(feed_at_ns: i64, rest_at_ns: i64) -> Option<Self> {
        let (kind, at_ns) = if feed_at_ns >= rest_at_ns {
            ("feed", feed_at_ns)
        } else {
            ("rest", rest_at_ns)
        };
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ns)).ok()?;
        (at_ns > 0).then(|| Self {
            kind,
            as_of: at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            as_of_ms: at_ns / 1_000_000,
        })
    }
}

/// How long a request for a chain nobody had asked for waits for its first REST
/// snapshot before answering with what there is (strikes, no prices).
const FIRST_DATA_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Marks the chain wanted (so a chain beyond the subscribed expiries is brought live
/// and fetched from REST) and, if it has no data yet, waits briefly for the first.
pub async fn await_first_data(state: &AppState, id: &ChainId) {
    let market = &state.market;
    if market.calendar().has_expired(id.expiry) {
        return;
    }
    let Some(mut changes) = market.watch_chain(id) else {
        return;
    };
    market.demand().touch(id);
    if market
        .chain_sources(id)
        .is_some_and(|(feed, rest)| feed > 0 || rest > 0)
    {
        return;
    }
    let arrived = async {
        while changes.changed().await.is_ok() {
            if market
                .chain_sources(id)
                .is_some_and(|(feed, rest)| feed > 0 || rest > 0)
            {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(FIRST_DATA_WAIT, arrived).await;
}
