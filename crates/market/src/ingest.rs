//! The ingest task: takes feed events in arrival order, records them when asked, and
//! applies them to the market. It is the only writer of [`MarketState`], so events apply
//! in exactly the order they arrived, live or replayed.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::MarketState;
use dhan::event::FeedEvent;
use dhan::record::Recorder;

/// Events waiting for the ingest task. Connections block (and stop reading) when it is
/// full, which is the backpressure we want: a market that cannot keep up should slow the
/// reader, not grow a queue without bound.
pub const INGEST_QUEUE: usize = 8_192;

/// Most events applied under one lock: enough to absorb a burst, few enough that readers
/// never wait long.
const BATCH: usize = 256;

/// Runs until every sender is gone.
pub async fn run(
    market: Arc<MarketState>,
    mut events: mpsc::Receiver<FeedEvent>,
    mut recorder: Option<Recorder>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while events.recv_many(&mut batch, BATCH).await > 0 {
        if let Some(writer) = recorder.as_mut()
            && let Err(error) = batch.iter().try_for_each(|event| writer.write(event))
        {
            // Losing the recording must not stop the market.
            tracing::error!(%error, "feed recording failed; recording stopped");
            recorder = None;
        }
        market.apply_events(&batch);
        batch.clear();
    }
    if let Some(mut writer) = recorder
        && let Err(error) = writer.flush()
    {
        tracing::error!(%error, "could not flush the feed recording");
    }
}
