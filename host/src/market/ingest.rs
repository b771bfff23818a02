//! The ingest task: takes feed events in arrival order, records them when asked, and
//! applies them to the market. It is the only writer of [`MarketState`], so events apply
//! in exactly the order they arrived, live or replayed.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::MarketState;
use crate::feed::event::FeedEvent;
use crate::feed::record::Recorder;

/// Events waiting for the ingest task. Connections block (and stop reading) when it is
/// full, which is the backpressure we want: a market that cannot keep up should slow the
/// reader, not grow a queue without bound.
pub const INGEST_QUEUE: usize = 8_192;

/// Runs until every sender is gone.
pub async fn run(
    market: Arc<MarketState>,
    mut events: mpsc::Receiver<FeedEvent>,
    mut recorder: Option<Recorder>,
) {
    while let Some(event) = events.recv().await {
        if let Some(writer) = recorder.as_mut()
            && let Err(error) = writer.write(&event)
        {
            // Losing the recording must not stop the market.
            tracing::error!(%error, "feed recording failed; recording stopped");
            recorder = None;
        }
        market.apply_event(&event);
    }
    if let Some(mut writer) = recorder
        && let Err(error) = writer.flush()
    {
        tracing::error!(%error, "could not flush the feed recording");
    }
}
