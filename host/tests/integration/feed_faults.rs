//! The live client and the market against a deliberately hostile feed server: one that
//! goes silent (a stalled feed must be detected and reconnected) and one that sends
//! garbage, truncated frames and packets for instruments nobody subscribed (counted,
//! skipped, never a panic, and the good packets around them still land).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use optionhub::config::DhanCredentials;
use optionhub::feed::dhan::codec::encode_packet;
use optionhub::feed::dhan::live::{
    Backoff, FeedLimits, LiveFeed, LiveFeedConfig, SubscriptionPlan,
};
use optionhub::feed::dhan::packet::{Packet, PacketBody, Ticker};
use optionhub::feed::dhan::requests::FeedMode;
use optionhub::feed::sim::universe::{SimUniverseConfig, build_universe};
use optionhub::feed::status::{FeedSource, FeedStatus};
use optionhub::instruments::registry::InstrumentRegistry;
use optionhub::instruments::{ExchangeSegment, InstrumentKey};
use optionhub::market::MarketState;
use optionhub::market::ingest;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A feed server that runs `behaviour` on every accepted connection, counting them.
async fn hostile_feed<F, Fut>(behaviour: F) -> (SocketAddr, Arc<AtomicU64>)
where
    F: Fn(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    let behaviour = Arc::new(behaviour);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let behaviour = behaviour.clone();
            tokio::spawn(async move {
                if let Ok(socket) = tokio_tungstenite::accept_async(stream).await {
                    behaviour(socket).await;
                }
            });
        }
    });
    (addr, accepted)
}

fn market() -> Arc<MarketState> {
    let today = time::OffsetDateTime::now_utc().date();
    let universe = build_universe(&SimUniverseConfig::default(), today);
    let underlyings: Vec<String> = ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"]
        .map(String::from)
        .to_vec();
    let registry =
        InstrumentRegistry::build(universe.instruments.clone(), &underlyings).expect("registry");
    Arc::new(MarketState::new(
        Arc::new(registry),
        Arc::new(FeedStatus::new(FeedSource::Dhan)),
        19_800,
    ))
}

fn client(addr: SocketAddr, market: &Arc<MarketState>, stall: Duration) -> LiveFeed {
    let (events, events_rx) = mpsc::channel(1024);
    tokio::spawn(ingest::run(market.clone(), events_rx, None));
    let feed = LiveFeed::spawn(
        LiveFeedConfig {
            feed_url: url::Url::parse(&format!("ws://{addr}")).expect("url"),
            credentials: DhanCredentials::new("client", "token"),
            limits: FeedLimits::default(),
            inactivity_timeout: stall,
            backoff: Backoff {
                initial: Duration::from_millis(50),
                max: Duration::from_millis(200),
            },
        },
        market.status().clone(),
        events,
    );
    let nifty = InstrumentKey::new(ExchangeSegment::IdxI, 13);
    feed.set_plan(SubscriptionPlan::from([(nifty, FeedMode::Quote)]));
    feed
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_feed_is_detected_and_reconnected() {
    // Accepts, reads the subscriptions, then says nothing at all (not even pings).
    let (addr, accepted) =
        hostile_feed(|mut socket| async move { while let Some(Ok(_)) = socket.next().await {} })
            .await;
    let market = market();
    let feed = client(addr, &market, Duration::from_millis(300));
    wait_for(
        "two reconnects after stalls",
        Duration::from_secs(10),
        || accepted.load(Ordering::SeqCst) >= 3,
    )
    .await;
    let status = market.status().snapshot();
    let error = status.connections[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("stalled"), "status says why: {error}");
    feed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_truncated_and_unknown_packets_are_counted_and_skipped() {
    let packet = |security_id: u32, segment: ExchangeSegment, ltp: f32| {
        let mut out = Vec::new();
        encode_packet(
            &Packet {
                key: InstrumentKey::new(segment, security_id),
                body: PacketBody::Ticker(Ticker {
                    ltp,
                    ltt: 1_763_700_000,
                }),
            },
            &mut out,
        );
        out
    };
    let good = packet(13, ExchangeSegment::IdxI, 26_123.45);
    let unknown = packet(999_999, ExchangeSegment::NseFno, 10.0);
    let mut unknown_code_then_good = vec![99u8, 8, 0, 2, 1, 0, 0, 0];
    unknown_code_then_good.extend_from_slice(&packet(13, ExchangeSegment::IdxI, 26_150.5));
    let mut truncated = good.clone();
    truncated.truncate(11);
    let frames = vec![
        vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0x01],
        truncated,
        good,
        unknown,
        unknown_code_then_good,
        Vec::new(),
    ];
    let (addr, _) = hostile_feed(move |mut socket| {
        let frames = frames.clone();
        async move {
            for frame in frames {
                if socket.send(Message::binary(frame)).await.is_err() {
                    return;
                }
            }
            while let Some(Ok(_)) = socket.next().await {}
        }
    })
    .await;
    let market = market();
    let feed = client(addr, &market, Duration::from_secs(5));
    wait_for("the last good packet", Duration::from_secs(10), || {
        market.spot("NIFTY") == Some(26_150.5)
    })
    .await;
    let status = market.status().snapshot();
    assert!(
        status.decode_errors_total >= 3,
        "garbage, truncation and the unknown code: {status:?}"
    );
    assert!(status.unknown_instruments >= 1, "{status:?}");
    assert_eq!(status.packets.get("ticker"), Some(&3));
    feed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_spreads_a_plan_over_connections_within_the_limits_and_resubscribes_the_difference()
 {
    use optionhub::feed::dhan::requests::FeedRequest;
    use parking_lot::Mutex;

    /// The instruments one accepted connection holds after every request.
    type Held = Arc<Mutex<std::collections::BTreeSet<InstrumentKey>>>;
    let held: Arc<Mutex<Vec<Held>>> = Arc::default();
    let registry = held.clone();
    let (addr, accepted) = hostile_feed(move |mut socket| {
        let mine = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
        registry.lock().push(mine.clone());
        async move {
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                match FeedRequest::parse(text.as_str()).expect("the client sends valid requests") {
                    FeedRequest::Subscribe { instruments, .. } => mine.lock().extend(instruments),
                    FeedRequest::Unsubscribe { instruments, .. } => {
                        for key in instruments {
                            mine.lock().remove(&key);
                        }
                    }
                    FeedRequest::Disconnect => return,
                }
            }
        }
    })
    .await;
    let status = Arc::new(FeedStatus::new(FeedSource::Dhan));
    let (events, _events_rx) = mpsc::channel(16);
    let feed = LiveFeed::spawn(
        LiveFeedConfig {
            feed_url: url::Url::parse(&format!("ws://{addr}")).expect("url"),
            credentials: DhanCredentials::new("client", "token"),
            limits: FeedLimits {
                max_connections: 2,
                max_instruments_per_connection: 150,
            },
            inactivity_timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
        },
        status.clone(),
        events,
    );
    let key = |id: u32| InstrumentKey::new(ExchangeSegment::NseFno, 40_000 + id);
    let plan = |range: std::ops::Range<u32>| {
        range
            .map(|id| (key(id), FeedMode::Ticker))
            .collect::<SubscriptionPlan>()
    };
    let held_now = || {
        held.lock()
            .iter()
            .map(|c| c.lock().clone())
            .collect::<Vec<_>>()
    };

    feed.set_plan(plan(0..250));
    wait_for(
        "250 instruments on two connections",
        Duration::from_secs(10),
        || {
            held_now()
                .iter()
                .map(std::collections::BTreeSet::len)
                .sum::<usize>()
                == 250
        },
    )
    .await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert!(held_now().iter().all(|c| c.len() <= 150));

    // Past capacity: the rest is left out, never a third connection or an overfull one.
    feed.set_plan(plan(0..400));
    wait_for("both connections full", Duration::from_secs(10), || {
        held_now().iter().all(|c| c.len() == 150)
    })
    .await;
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    // A shift: the old ones leave, the new ones arrive, nobody else moves.
    let before = held_now();
    feed.set_plan(plan(100..350));
    let wanted: std::collections::BTreeSet<InstrumentKey> = (100..350).map(key).collect();
    wait_for("the shifted plan", Duration::from_secs(10), || {
        let now = held_now();
        now.iter()
            .flatten()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            == wanted
    })
    .await;
    let after = held_now();
    for (old, new) in before.iter().zip(&after) {
        for kept in old.intersection(&wanted) {
            assert!(
                new.contains(kept),
                "an instrument that stayed kept its connection"
            );
        }
    }
    feed.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_answers_the_feeds_pings() {
    let ponged = Arc::new(AtomicU64::new(0));
    let seen = ponged.clone();
    let (addr, _) = hostile_feed(move |mut socket| {
        let seen = seen.clone();
        async move {
            for round in 0..3u8 {
                if socket
                    .send(Message::Ping(vec![round].into()))
                    .await
                    .is_err()
                {
                    return;
                }
                // Skip the subscription requests; wait for the matching pong.
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Pong(payload) = message {
                        if payload.as_ref() == [round] {
                            seen.fetch_add(1, Ordering::SeqCst);
                        }
                        break;
                    }
                }
            }
            while let Some(Ok(_)) = socket.next().await {}
        }
    })
    .await;
    let market = market();
    let feed = client(addr, &market, Duration::from_secs(5));
    wait_for("three pongs", Duration::from_secs(10), || {
        ponged.load(Ordering::SeqCst) == 3
    })
    .await;
    feed.shutdown().await;
}
