//! Dhan's addresses exactly as Dhan documents them, against a simulator as strict as
//! Dhan's front: the live client reaches the feed through a path-less `ws://host:port`
//! address, and hand-written handshakes that are not origin-form, or whose query is not
//! exactly Dhan's v2 one, are answered 400.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use optionhub::config::DhanCredentials;
use optionhub::feed::dhan::codec::decode_frame;
use optionhub::feed::dhan::live::{Backoff, FeedLimits, LiveFeed, LiveFeedConfig};
use optionhub::feed::dhan::requests::FeedMode;
use optionhub::feed::event::FeedPayload;
use optionhub::feed::sim::{SimConfig, SimHandle};
use optionhub::feed::status::{FeedSource, FeedStatus};
use optionhub::instruments::{ExchangeSegment, InstrumentKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const CLIENT: &str = "front-client";
const TOKEN: &str = "front-token";

async fn simulator() -> SimHandle {
    let mut config = SimConfig::new(11, DhanCredentials::new(CLIENT, TOKEN));
    config.tick = Duration::from_millis(50);
    SimHandle::start("127.0.0.1:0".parse().expect("addr"), config)
        .await
        .expect("simulator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_connects_through_a_pathless_feed_url() {
    let sim = simulator().await;
    let feed_url = url::Url::parse(&sim.feed_url()).expect("url");
    // Written the way Dhan documents its own address: no path at all.
    assert!(
        !sim.feed_url().trim_start_matches("ws://").contains('/'),
        "{}",
        sim.feed_url()
    );
    let (events, mut events_rx) = mpsc::channel(1024);
    let feed = LiveFeed::spawn(
        LiveFeedConfig {
            feed_url,
            credentials: DhanCredentials::new(CLIENT, TOKEN),
            limits: FeedLimits::default(),
            inactivity_timeout: Duration::from_secs(30),
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(200),
            },
        },
        Arc::new(FeedStatus::new(FeedSource::Dhan)),
        events,
    );
    let nifty = InstrumentKey::new(ExchangeSegment::IdxI, 13);
    feed.set_plan([(nifty, FeedMode::Ticker)].into());
    let packet = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = events_rx.recv().await {
            if let FeedPayload::Frame(frame) = event.payload
                && let Some(packet) = decode_frame(&frame).flatten().find(|p| p.key == nifty)
            {
                return packet;
            }
        }
        panic!("the feed's event channel closed");
    })
    .await
    .expect("a NIFTY packet within 10 s");
    assert_eq!(packet.key, nifty);
    assert_eq!(sim.open_connections(), 1);
    feed.shutdown().await;
    sim.stop().await;
}

/// Writes a WebSocket handshake with `target` as the request-target, byte for byte,
/// and returns the status code and the body (empty for a 101).
async fn raw_handshake(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buffer).await.expect("read");
            received.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&received).into_owned();
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                assert!(n > 0, "connection closed after {text:?}");
                continue;
            };
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse().ok())
                .expect("a status line");
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            });
            // A 101 has no body; a refusal ends at its length or at the close.
            if status == 101 || n == 0 || length.is_some_and(|length| body.len() >= length) {
                return (status, body.to_owned());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("an answer within 5 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_400_to_handshakes_dhan_would_refuse() {
    let sim = simulator().await;
    let addr = sim.addr();
    let good = format!("version=2&token={TOKEN}&clientId={CLIENT}&authType=2");

    // What the official SDK sends is accepted, so the refusals below are the query's.
    let (status, _) = raw_handshake(addr, &format!("/?{good}")).await;
    assert_eq!(status, 101);

    let refusals = [
        // A path-less feed URL glued together as text.
        (format!("?{good}"), None),
        // Absolute form: valid for a proxy, not for Dhan's front.
        (format!("ws://{addr}/?{good}"), Some("origin-form")),
        (
            format!("/?{good}&region=in"),
            Some("unknown query parameter `region`"),
        ),
        (
            format!("/?version=2&token={TOKEN}&authType=2"),
            Some("missing query parameter `clientId`"),
        ),
        (
            format!("/?version=3&token={TOKEN}&clientId={CLIENT}&authType=2"),
            Some("`version` must be `2`, not `3`"),
        ),
        (
            format!("/?version=2&{good}"),
            Some("`version` appears more than once"),
        ),
    ];
    for (target, reason) in refusals {
        let (status, body) = raw_handshake(addr, &target).await;
        assert_eq!(status, 400, "{target}: {body}");
        if let Some(reason) = reason {
            assert!(body.contains(reason), "{target}: {body}");
        }
    }
    sim.stop().await;
}

type FeedClient = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// The simulator's feed, opened with good credentials.
async fn feed_client(sim: &SimHandle) -> FeedClient {
    let url = format!(
        "{}/?version=2&token={TOKEN}&clientId={CLIENT}&authType=2",
        sim.feed_url()
    );
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("feed connects");
    socket
}

/// Sends `requests` (stopping if the socket is closed on us), then returns the reason
/// code of the disconnect packet that comes back, skipping snapshots.
async fn disconnect_reason_after(sim: &SimHandle, requests: Vec<String>) -> u16 {
    use futures_util::{SinkExt, StreamExt};
    use optionhub::feed::dhan::packet::PacketBody;
    use tokio_tungstenite::tungstenite::Message;
    let mut socket = feed_client(sim).await;
    for request in requests {
        if socket.send(Message::text(request)).await.is_err() {
            break;
        }
    }
    let reason = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Binary(frame) = message
                && let Some(reason) = decode_frame(&frame).flatten().find_map(|p| match p.body {
                    PacketBody::Disconnect { reason } => Some(reason),
                    _ => None,
                })
            {
                return Some(reason);
            }
        }
        None
    })
    .await
    .expect("an answer within 10 s");
    reason.expect("a disconnect packet before the close")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_disconnects_malformed_and_over_limit_requests_as_dhan_does() {
    let sim = simulator().await;
    // Not a request Dhan knows: code 814.
    let truncated = r#"{"RequestCode":15,"Instrument"#.to_owned();
    assert_eq!(disconnect_reason_after(&sim, vec![truncated]).await, 814);
    // 5,100 instruments on one connection, 100 per message: code 804.
    let batches = (0..51_u32)
        .map(|batch| {
            let list: Vec<String> = (0..100)
                .map(|i| {
                    let id = 100_000 + batch * 100 + i;
                    format!(r#"{{"ExchangeSegment":"NSE_FNO","SecurityId":"{id}"}}"#)
                })
                .collect();
            format!(
                r#"{{"RequestCode":15,"InstrumentCount":100,"InstrumentList":[{}]}}"#,
                list.join(",")
            )
        })
        .collect();
    assert_eq!(disconnect_reason_after(&sim, batches).await, 804);
    sim.stop().await;
}
