//! One channel's publisher: waits for the market to announce a change of the channel's
//! chain (or for its Greeks to be recomputed, or for its contracts to expire, which
//! ends it with an `expired` message), throttles to the configured interval
//! (changes arriving meanwhile are folded in: latest wins), builds the channel's state
//! once, serialises the update once, and publishes the [`Frame`] on the topic's watch.
//! F&O views are built by [`fo_view`], the REST routes' own code (and cache), so a
//! channel's data is the route's answer; until the chain has Greeks and an
//! `oi-analytics` plugin is loaded such a channel stays silent.
//!
//! The cost is per channel and per interval, never per client: with 10,000 clients on
//! one chain the chain is copied, diffed and serialised once per interval.

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::analytics::{InstrumentData, instrument_data};
use super::channel::{Channel, ChannelKind, Place};
use super::delta::History;
use super::expiry;
use super::frame::{Frame, Payload};
use super::precision::round_chain_greeks;
use crate::state::FoView;
use crate::state::WsState;
use market::ChainId;

/// Everything a publisher task needs.
pub(super) struct Publisher {
    pub state: WsState,
    pub channel: Channel,
    pub interval: Duration,
    pub seq: Arc<AtomicU64>,
}

/// What the previous frame of a small channel was built from, to skip no-op frames
/// (chains keep their recent frames in a [`History`] instead, to patch against).
enum Previous {
    Nothing,
    View(u64, Arc<serde_json::Value>),
    Instrument(u64, Arc<InstrumentData>),
}

impl Publisher {
    fn chain_id(&self) -> Option<&ChainId> {
        match &self.channel.kind {
            ChannelKind::Chain(id) | ChannelKind::Fo(_, id) => Some(id),
            ChannelKind::Instrument(target) => Some(&target.chain),
            ChannelKind::Strategy(_) => None,
        }
    }

    fn uses_greeks(&self) -> bool {
        !matches!(
            &self.channel.kind,
            ChannelKind::Instrument(target) if target.place == Place::Index
        )
    }

    /// Publishes until the topic is dropped (the task is aborted then).
    #[tracing::instrument(name = "ws_publisher", skip_all, fields(channel = %self.channel.name))]
    pub(super) async fn run(self, sender: watch::Sender<Option<Arc<Frame>>>) {
        let Some(id) = self.chain_id().cloned() else {
            if let ChannelKind::Strategy(strategy) = self.channel.kind {
                self.run_strategy(strategy, &sender).await;
            }
            return;
        };
        // A chain beyond the subscribed expiries is brought live while a channel
        // holds it.
        let _wanted = self.state.market.demand().hold(&id);
        let Some(mut changes) = self.state.market.watch_chain(&id) else {
            tracing::warn!(channel = %self.channel.name, "channel has no chain in the market");
            return;
        };
        let mut greeks = if self.uses_greeks() {
            self.state.greeks.watch(&id)
        } else {
            None
        };
        let mut previous = Previous::Nothing;
        let mut history = History::default();
        let calendar = self.state.market.calendar().clone();
        let expiring = expiry::expiring_chain(&self.channel.kind).cloned();
        loop {
            if let Some(id) = &expiring
                && calendar.has_expired(id.expiry)
            {
                self.publish_expired(id, &sender);
                return;
            }
            let started = Instant::now();
            if let Some(frame) = self.build(&mut previous, &mut history).await {
                sender.send_replace(Some(Arc::new(frame)));
            }
            metrics::histogram!("ws_publish_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            tokio::select! {
                () = async {
                    match &expiring {
                        Some(id) => expiry::expired(&calendar, id.expiry).await,
                        None => pending().await,
                    }
                } => continue,
                changed = changes.changed() => if changed.is_err() { break },
                changed = async {
                    match greeks.as_mut() {
                        Some(greeks) => greeks.changed().await,
                        None => pending().await,
                    }
                } => if changed.is_err() { greeks = None },
            }
            tokio::time::sleep_until(started + self.interval).await;
            changes.borrow_and_update();
            if let Some(greeks) = greeks.as_mut() {
                greeks.borrow_and_update();
            }
        }
    }

    /// A strategy channel: every valuation the M2M worker publishes, as a full update
    /// (it is small). Nothing is published before the first valuation; the channel
    /// goes quiet when the strategy is deleted.
    async fn run_strategy(&self, strategy: i64, sender: &watch::Sender<Option<Arc<Frame>>>) {
        let mut valuations = self.state.m2m.subscribe(strategy);
        let mut prev_seq = None;
        loop {
            let latest = valuations.borrow_and_update().clone();
            if let Some(valuation) = latest {
                let seq = self.next_seq();
                let payload = Payload::Strategy(valuation);
                let frame = Frame::full(self.channel.name.clone(), seq, prev_seq, payload);
                sender.send_replace(Some(Arc::new(frame)));
                prev_seq = Some(seq);
            }
            if valuations.changed().await.is_err() {
                return;
            }
        }
    }

    /// The channel's last message: its contracts expired (see [`expiry`]).
    fn publish_expired(&self, id: &ChainId, sender: &watch::Sender<Option<Arc<Frame>>>) {
        let live_from = self.state.market.calendar().live_from();
        let notice = expiry::notice(
            self.state.market.registry(),
            &self.channel.kind,
            id,
            live_from,
        );
        tracing::info!(channel = %self.channel.name, next = ?notice.next_expiry, "channel expired");
        let prev_seq = sender.borrow().as_ref().map(|frame| frame.seq);
        let seq = self.next_seq();
        let payload = Payload::Expired(Arc::new(notice));
        let frame = Frame::full(self.channel.name.clone(), seq, prev_seq, payload);
        sender.send_replace(Some(Arc::new(frame)));
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The next frame, or `None` when the state cannot be read or did not change.
    async fn build(&self, previous: &mut Previous, history: &mut History) -> Option<Frame> {
        let name = self.channel.name.clone();
        match &self.channel.kind {
            ChannelKind::Chain(id) => {
                let mut chain = self.live_chain(id)?;
                round_chain_greeks(&mut chain);
                let chain = Arc::new(chain);
                let seq = self.next_seq();
                history.record(seq, chain.clone());
                Some(Frame::chain(name, seq, chain, history.recent()))
            }
            ChannelKind::Fo(view, id) => {
                let data = Arc::new(self.fo_view(*view, id).await?);
                let prev_seq = match previous {
                    Previous::View(_, prev) if *prev == data => return None,
                    Previous::View(prev_seq, _) => Some(*prev_seq),
                    _ => None,
                };
                let seq = self.next_seq();
                *previous = Previous::View(seq, data.clone());
                Some(Frame::full(name, seq, prev_seq, Payload::View(data)))
            }
            ChannelKind::Strategy(_) => None,
            ChannelKind::Instrument(target) => {
                let data = Arc::new(instrument_data(&self.state, target)?);
                let prev_seq = match previous {
                    Previous::Instrument(_, prev) if *prev == data => return None,
                    Previous::Instrument(prev_seq, _) => Some(*prev_seq),
                    _ => None,
                };
                let seq = self.next_seq();
                *previous = Previous::Instrument(seq, data.clone());
                Some(Frame::full(name, seq, prev_seq, Payload::Instrument(data)))
            }
        }
    }

    /// The view's REST answer now; `None` (logged) while it cannot be computed.
    async fn fo_view(&self, view: FoView, id: &ChainId) -> Option<serde_json::Value> {
        self.state
            .views
            .fo_view(view, id.clone())
            .await
            .inspect_err(|error| {
                tracing::debug!(channel = %self.channel.name, %error, "view not available yet");
            })
            .ok()
    }

    fn live_chain(&self, id: &ChainId) -> Option<serde_json::Value> {
        match self.state.views.live_chain(id) {
            Ok(chain) => Some(chain),
            Err(error) => {
                tracing::warn!(channel = %self.channel.name, %error, "cannot build the chain");
                None
            }
        }
    }
}
