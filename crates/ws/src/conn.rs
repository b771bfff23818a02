//! One connection as its writer shard holds it: the socket's write half, the client's
//! [`Outbox`], the message partly written, and the client's place in each channel.
//!
//! Writing is a `try_write` of everything queued (vectored, one slice per message), at
//! once, with no task woken and nothing copied: the queued messages are the
//! publications' own frames. Only when the socket takes less than that does the
//! connection keep the rest of a message with its offset and wait, in its shard, for
//! the socket to be writable again. A message that cannot finish within the write
//! deadline makes the client a slow consumer.
//!
//! Which encoding of a publication a client gets is decided here, per client: an update
//! from the last message of the channel the client will have received (a message still
//! pending in the queue is replaced, so the base is the one before it), or the snapshot
//! when no update applies to that, so a client never receives a delta it cannot apply.
//! Replacing a pending delta with a catch-up delta rather than a snapshot matters under
//! load: a snapshot is a hundred times larger, and sending them to clients that are only
//! slightly behind is what would push them further behind. A publication that does not
//! fit the queue waits as the channel's latest frame, replaced by any newer one.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSlice};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::time::Instant;

use super::close::Close;
use super::frame::Frame;
use super::link::Link;
use super::outbox::{Outbox, Overflow};

/// Messages handed to one vectored write at most.
const MAX_SLICES: usize = 32;

/// One channel as one client receives it.
#[derive(Debug)]
struct Place {
    /// The channel's key in the outbox.
    key: u64,
    /// Seq of the last message of this channel queued for the client.
    last_seq: Option<u64>,
    /// The client asked for the channel again: its next message is a snapshot.
    resync: bool,
    /// While a message of this channel is pending in the queue: the seq the client
    /// holds before it (what a replacement must apply to).
    pending_base: Option<u64>,
    /// A publication not yet queued.
    latest: Option<Arc<Frame>>,
}

impl Place {
    /// The client is given the message of seq `seq`; returns how many publications it
    /// skipped to get there.
    fn advance_to(&mut self, seq: u64) -> u64 {
        let skipped = self.last_seq.map_or(0, |last| seq.saturating_sub(last + 1));
        self.resync = false;
        self.last_seq = Some(seq);
        skipped
    }
}

/// What a shard sums over a pass, to report once.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Messages written whole.
    pub sent: u64,
    /// Messages a client never got because a newer one replaced them.
    pub dropped: u64,
}

/// How a flush ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flushed {
    /// Everything queued was written.
    Drained,
    /// The socket took less: wait until it is writable.
    Blocked,
    /// The socket failed.
    Failed,
}

/// One connection in its shard.
#[derive(Debug)]
pub(super) struct Conn {
    socket: OwnedWriteHalf,
    pub link: Arc<Link>,
    deflate: bool,
    outbox: Outbox,
    /// A message partly written: its frames, and how many bytes of them went.
    in_flight: Option<(Bytes, usize)>,
    /// Since when the socket has taken no whole message while one waited.
    stalled_since: Option<Instant>,
    places: HashMap<Arc<str>, Place>,
    /// Channels with a publication waiting for room, oldest first.
    ready: VecDeque<Arc<str>>,
    next_key: u64,
    /// Since when only the close frame (after a message in flight) is left to write.
    closing_since: Option<Instant>,
    /// Messages this client never got because a newer one replaced them.
    pub dropped: u64,
}

impl Conn {
    pub(super) fn new(socket: OwnedWriteHalf, link: Arc<Link>, deflate: bool, cap: usize) -> Self {
        Self {
            socket,
            link,
            deflate,
            outbox: Outbox::new(cap),
            in_flight: None,
            stalled_since: None,
            places: HashMap::new(),
            ready: VecDeque::new(),
            next_key: 0,
            closing_since: None,
            dropped: 0,
        }
    }

    pub(super) fn holds(&self, name: &str) -> bool {
        self.places.contains_key(name)
    }

    pub(super) fn is_closing(&self) -> bool {
        self.closing_since.is_some()
    }

    /// Starts sending a channel whose current publication is `current`; a channel
    /// already held starts over: its current state is sent again as a snapshot.
    pub(super) fn subscribe(&mut self, name: &Arc<str>, current: Option<Arc<Frame>>) {
        let place = match self.places.get_mut(name) {
            Some(place) => {
                place.resync = true;
                place.pending_base = None;
                place
            }
            None => {
                let key = self.next_key;
                self.next_key += 1;
                self.places.entry(name.clone()).or_insert(Place {
                    key,
                    last_seq: None,
                    resync: false,
                    pending_base: None,
                    latest: None,
                })
            }
        };
        if let Some(frame) = current {
            if place.latest.is_none() {
                self.ready.push_back(name.clone());
            }
            place.latest = Some(frame);
        }
    }

    /// Stops sending a channel and drops what of it is queued; false if not held.
    pub(super) fn unsubscribe(&mut self, name: &str) -> bool {
        let Some(place) = self.places.remove(name) else {
            return false;
        };
        self.ready.retain(|n| &**n != name);
        self.outbox.remove(place.key);
        true
    }

    /// The channels held.
    pub(super) fn channels(&self) -> Vec<Arc<str>> {
        self.places.keys().cloned().collect()
    }

    /// A channel published `frame`; false when the client already has it (or newer).
    pub(super) fn offer(&mut self, name: &Arc<str>, frame: &Arc<Frame>) -> bool {
        let Some(place) = self.places.get_mut(name) else {
            return false;
        };
        let known = place.latest.as_ref().map(|f| f.seq).or(place.last_seq);
        if known.is_some_and(|seq| seq >= frame.seq) {
            return false;
        }
        if place.latest.is_none() {
            self.ready.push_back(name.clone());
        }
        place.latest = Some(frame.clone());
        true
    }

    /// A channel published `frame`, and the connection has nothing queued or in flight
    /// (the common case): its message goes straight to the socket, written from the
    /// publication's own bytes. Those bytes are shared by every subscriber on every
    /// shard, and counting references to them from two cores at once costs more than
    /// the rest of a delivery; so here none is taken unless the socket takes only part.
    /// `None` when this path does not apply (something is queued, or the socket would
    /// block): the publication then goes through [`Conn::offer`] and the queue,
    /// nothing having changed.
    pub(super) fn deliver(
        &mut self,
        name: &Arc<str>,
        frame: &Arc<Frame>,
        tally: &mut Tally,
        now: Instant,
    ) -> Option<Flushed> {
        if self.in_flight.is_some() || !self.outbox.is_empty() || !self.ready.is_empty() {
            return None;
        }
        let place = self.places.get_mut(name)?;
        if place.last_seq.is_some_and(|seq| seq >= frame.seq) {
            return Some(Flushed::Drained);
        }
        let base = place.last_seq.filter(|_| !place.resync);
        let wire = frame.message_after(base);
        let frames = wire.bytes(self.deflate);
        let written = match self.socket.try_write(frames) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return None,
            Err(error) => {
                tracing::debug!(%error, "websocket write failed");
                return Some(Flushed::Failed);
            }
            Ok(0) => return Some(Flushed::Failed),
            Ok(written) => written,
        };
        let skipped = place.advance_to(frame.seq);
        self.dropped += skipped;
        tally.dropped += skipped;
        if written == frames.len() {
            tally.sent += 1;
            return Some(Flushed::Drained);
        }
        self.in_flight = Some((frames.clone(), written));
        Some(self.flush(tally, now))
    }

    /// Queues a control message; one that does not fit marks a slow consumer.
    pub(super) fn control(&mut self, frames: Bytes) -> Result<(), Overflow> {
        self.outbox.push_control(frames)
    }

    /// Moves waiting publications into the queue while they fit.
    pub(super) fn pump(&mut self, tally: &mut Tally) {
        while let Some(name) = self.ready.front().cloned() {
            let Some(place) = self.places.get_mut(&name) else {
                self.ready.pop_front();
                continue;
            };
            let Some(frame) = place.latest.clone() else {
                self.ready.pop_front();
                continue;
            };
            let replacing = self.outbox.has_pending(place.key);
            let base = if place.resync {
                None
            } else if replacing {
                place.pending_base
            } else {
                place.last_seq
            };
            let wire = frame.message_after(base);
            let frames = wire.bytes(self.deflate);
            if !self.outbox.fits(place.key, frames.len()) {
                break;
            }
            let replaced = self.outbox.push_data(place.key, frames.clone());
            if !replacing {
                place.pending_base = place.last_seq.filter(|_| !place.resync);
            }
            let dropped = place.advance_to(frame.seq) + u64::from(replaced);
            self.dropped += dropped;
            tally.dropped += dropped;
            place.latest = None;
            self.ready.pop_front();
        }
    }

    /// Writes what is queued until it is all written or the socket takes no more.
    pub(super) fn flush(&mut self, tally: &mut Tally, now: Instant) -> Flushed {
        loop {
            let written = {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let mut count = 0;
                if let Some((frames, offset)) = &self.in_flight {
                    slices[0] = IoSlice::new(frames.get(*offset..).unwrap_or_default());
                    count = 1;
                }
                count += self.outbox.slices(&mut slices[count..]);
                if count == 0 {
                    self.stalled_since = None;
                    return Flushed::Drained;
                }
                self.socket.try_write_vectored(&slices[..count])
            };
            match written {
                Ok(0) => return Flushed::Failed,
                Ok(written) => {
                    self.advance(written, tally);
                    if !self.is_closing() {
                        self.pump(tally);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.stalled_since.get_or_insert(now);
                    return Flushed::Blocked;
                }
                Err(error) => {
                    tracing::debug!(%error, "websocket write failed");
                    return Flushed::Failed;
                }
            }
        }
    }

    /// Accounts for `written` bytes: whole messages leave, a partial one stays in flight.
    fn advance(&mut self, mut written: usize, tally: &mut Tally) {
        if let Some((frames, offset)) = &mut self.in_flight {
            let left = frames.len() - *offset;
            if written < left {
                *offset += written;
                return;
            }
            written -= left;
            self.in_flight = None;
            self.stalled_since = None;
            tally.sent += 1;
        }
        while written > 0 {
            let Some(frames) = self.outbox.pop_front() else {
                return;
            };
            if written < frames.len() {
                self.in_flight = Some((frames, written));
                return;
            }
            written -= frames.len();
            self.stalled_since = None;
            tally.sent += 1;
        }
    }

    /// Whether the socket can take bytes again; registers the shard's waker if not.
    pub(super) fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.socket.as_ref().poll_write_ready(cx).map(|_| ())
    }

    /// Whether a message has waited for the socket, or the close frame has, past
    /// `deadline`.
    pub(super) fn overdue(&self, now: Instant, deadline: std::time::Duration) -> bool {
        let since = self.closing_since.or(self.stalled_since);
        since.is_some_and(|since| now.saturating_duration_since(since) > deadline)
    }

    /// Begins closing for the reason on the link: drops everything queued (a message in
    /// flight is finished first, so the stream stays whole), queues the close frame, and
    /// returns the channels it held.
    pub(super) fn begin_close(&mut self, now: Instant) -> Vec<Arc<str>> {
        self.outbox.clear();
        self.ready.clear();
        let channels = self.places.drain().map(|(name, _)| name).collect();
        if let Some(frames) = self.link.closing().and_then(Close::frame) {
            // The queue was just emptied: any one message fits.
            let _ = self.outbox.push_control(frames);
        }
        self.closing_since = Some(now);
        channels
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpSocket, TcpStream};

    use super::super::frame::Payload;
    use super::super::framing;
    use super::*;

    /// A connection's write half in a [`Conn`], and the client's end of the socket,
    /// with small buffers on both sides so writes block early.
    async fn pair(cap: usize) -> (Conn, TcpStream) {
        // Accepted sockets take the listener's receive buffer.
        let listening = TcpSocket::new_v4().unwrap();
        listening.set_recv_buffer_size(4096).unwrap();
        listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener: TcpListener = listening.listen(8).unwrap();
        let writing = TcpSocket::new_v4().unwrap();
        writing.set_send_buffer_size(4096).unwrap();
        let server = writing
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (client, _) = listener.accept().await.unwrap();
        let (_read, write) = server.into_split();
        (
            Conn::new(write, Arc::new(Link::default()), false, cap),
            client,
        )
    }

    fn view(name: &Arc<str>, seq: u64, size: usize) -> Arc<Frame> {
        let payload = Payload::View(Arc::new(json!({ "seq": seq, "pad": "x".repeat(size) })));
        Arc::new(Frame::full(name.clone(), seq, seq.checked_sub(1), payload))
    }

    /// Reads whole messages (frames reassembled) off the client's end: each one's JSON.
    async fn read_messages(client: &mut TcpStream, wanted: usize) -> Vec<serde_json::Value> {
        let mut raw = Vec::new();
        let mut message = Vec::new();
        let mut out = Vec::new();
        while out.len() < wanted {
            let mut chunk = [0u8; 65536];
            let n = client.read(&mut chunk).await.unwrap();
            assert!(n > 0, "socket closed early");
            raw.extend_from_slice(&chunk[..n]);
            while let Some(head) = framing::parse(&raw) {
                let end = head.header_len + head.payload_len as usize;
                if raw.len() < end {
                    break;
                }
                message.extend_from_slice(&raw[head.header_len..end]);
                if head.fin() {
                    out.push(serde_json::from_slice(&message).unwrap());
                    message.clear();
                }
                raw.drain(..end);
            }
        }
        out
    }

    #[tokio::test]
    async fn a_blocked_socket_keeps_its_offset_and_the_stream_stays_whole() {
        let (mut conn, mut client) = pair(1 << 20).await;
        let mut tally = Tally::default();
        let name: Arc<str> = "NIFTY:2026-12-08".into();
        conn.subscribe(&name, None);
        // Large control messages until the socket takes only part of one.
        let mut queued = 0;
        let now = Instant::now();
        loop {
            let text = format!("{{\"n\":{queued},\"pad\":\"{}\"}}", "y".repeat(30_000));
            conn.control(framing::text(text.as_bytes())).unwrap();
            queued += 1;
            if conn.flush(&mut tally, now) == Flushed::Blocked {
                break;
            }
            assert!(queued < 1_000, "the socket never blocked");
        }
        assert!(
            conn.in_flight.is_some(),
            "a partial write keeps the rest in flight"
        );
        assert!(!conn.overdue(now, Duration::from_secs(5)));
        assert!(conn.overdue(now + Duration::from_secs(6), Duration::from_secs(5)));
        // Meanwhile a publication arrives; it is queued behind, whole.
        assert!(conn.offer(&name, &view(&name, 1, 10)));
        conn.pump(&mut tally);
        let reader = tokio::spawn(async move { read_messages(&mut client, queued + 1).await });
        while conn.flush(&mut tally, Instant::now()) == Flushed::Blocked {
            std::future::poll_fn(|cx| conn.poll_writable(cx)).await;
        }
        let messages = reader.await.unwrap();
        let order: Vec<u64> = messages[..queued]
            .iter()
            .map(|m| m["n"].as_u64().unwrap())
            .collect();
        assert_eq!(order, (0..queued as u64).collect::<Vec<_>>());
        assert_eq!(messages[queued]["type"], "snapshot");
        assert_eq!(tally.sent, queued as u64 + 1);
        assert!(!conn.overdue(
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(5)
        ));
    }

    #[tokio::test]
    async fn a_publication_to_an_idle_connection_goes_straight_to_the_socket() {
        let (mut conn, mut client) = pair(1 << 20).await;
        let mut tally = Tally::default();
        let name: Arc<str> = "NIFTY:2026-12-08".into();
        let now = Instant::now();
        assert_eq!(
            conn.deliver(&name, &view(&name, 1, 10), &mut tally, now),
            None
        );
        conn.subscribe(&name, None);
        let first = view(&name, 1, 10);
        assert_eq!(
            conn.deliver(&name, &first, &mut tally, now),
            Some(Flushed::Drained)
        );
        assert_eq!(Arc::strong_count(&first), 1, "no reference kept");
        assert_eq!(
            conn.deliver(&name, &first, &mut tally, now),
            Some(Flushed::Drained),
            "a publication already sent is not sent again"
        );
        assert_eq!(
            conn.deliver(&name, &view(&name, 2, 10), &mut tally, now),
            Some(Flushed::Drained)
        );
        // Seq 3 never reaches this client: 4's update does not apply to 2.
        assert_eq!(
            conn.deliver(&name, &view(&name, 4, 10), &mut tally, now),
            Some(Flushed::Drained)
        );
        assert_eq!((tally.sent, tally.dropped, conn.dropped), (3, 1, 1));
        assert!(conn.outbox.is_empty() && conn.in_flight.is_none());
        let messages = read_messages(&mut client, 3).await;
        let seen: Vec<_> = messages
            .iter()
            .map(|m| {
                (
                    m["type"].as_str().unwrap().to_owned(),
                    m["seq"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("snapshot".to_owned(), 1),
                ("update".to_owned(), 2),
                ("snapshot".to_owned(), 4)
            ]
        );
        // Something queued: the publication takes the queue's way, untouched here.
        conn.control(framing::text(b"{}")).unwrap();
        assert_eq!(
            conn.deliver(&name, &view(&name, 5, 10), &mut tally, now),
            None
        );
        assert_eq!(conn.places[&name].last_seq, Some(4));
    }

    #[tokio::test]
    async fn a_client_behind_gets_its_pending_update_replaced_and_counts_the_drop() {
        let (mut conn, mut client) = pair(1 << 20).await;
        let mut tally = Tally::default();
        let name: Arc<str> = "NIFTY:2026-12-08".into();
        conn.subscribe(&name, Some(view(&name, 1, 10)));
        conn.pump(&mut tally);
        assert_eq!(conn.flush(&mut tally, Instant::now()), Flushed::Drained);
        // Two publications before a write: the second replaces the first in place.
        assert!(conn.offer(&name, &view(&name, 2, 10)));
        conn.pump(&mut tally);
        assert!(conn.offer(&name, &view(&name, 3, 10)));
        conn.pump(&mut tally);
        assert!(
            !conn.offer(&name, &view(&name, 3, 10)),
            "a publication already held"
        );
        assert_eq!(conn.dropped, 1);
        assert_eq!(conn.flush(&mut tally, Instant::now()), Flushed::Drained);
        let messages = read_messages(&mut client, 2).await;
        assert_eq!(
            (messages[0]["type"].as_str(), messages[0]["seq"].as_u64()),
            (Some("snapshot"), Some(1))
        );
        // Frame 3's update applies to 2, which this client never got: a snapshot.
        assert_eq!(
            (messages[1]["type"].as_str(), messages[1]["seq"].as_u64()),
            (Some("snapshot"), Some(3))
        );
    }

    #[tokio::test]
    async fn closing_drops_the_queue_and_sends_the_close_frame_last() {
        let (mut conn, mut client) = pair(1 << 20).await;
        let mut tally = Tally::default();
        let name: Arc<str> = "NIFTY:2026-12-08".into();
        conn.subscribe(&name, None);
        conn.link.close(Close::SlowConsumer);
        assert_eq!(conn.begin_close(Instant::now()), vec![name.clone()]);
        assert!(
            !conn.offer(&name, &view(&name, 1, 10)),
            "no data after the close"
        );
        assert_eq!(conn.flush(&mut tally, Instant::now()), Flushed::Drained);
        let mut frame = [0u8; 32];
        let n = client.read(&mut frame).await.unwrap();
        assert_eq!(
            &frame[..n],
            &framing::close(Some(4008), "slow consumer")[..]
        );
    }
}
