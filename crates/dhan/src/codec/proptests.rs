//! Property tests: every body type round-trips bit-exactly, stacked packets come back
//! in order, a corrupted packet costs only itself, and no byte string panics the walk
//! or keeps it from ending.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

/// Any f32 but NaN, which never equals itself; NaN payloads have their own unit test.
/// Drawing from raw bits reaches negative zero, subnormals and infinities too.
fn wire_f32() -> impl Strategy<Value = f32> {
    any::<u32>()
        .prop_map(f32::from_bits)
        .prop_filter("NaN never compares equal", |v| !v.is_nan())
}

fn key() -> impl Strategy<Value = InstrumentKey> {
    (
        prop::sample::select(ExchangeSegment::ALL.to_vec()),
        any::<u32>(),
    )
        .prop_map(|(segment, id)| InstrumentKey::new(segment, id))
}

fn depth_level() -> impl Strategy<Value = DepthLevel> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        wire_f32(),
        wire_f32(),
    )
        .prop_map(
            |(bid_qty, ask_qty, bid_orders, ask_orders, bid_price, ask_price)| DepthLevel {
                bid_qty,
                ask_qty,
                bid_orders,
                ask_orders,
                bid_price,
                ask_price,
            },
        )
}

fn quote() -> impl Strategy<Value = Quote> {
    (
        (wire_f32(), any::<u16>(), any::<u32>(), wire_f32()),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        (wire_f32(), wire_f32(), wire_f32(), wire_f32()),
    )
        .prop_map(
            |((ltp, ltq, ltt, atp), (volume, sell, buy), (open, close, high, low))| Quote {
                ltp,
                ltq,
                ltt,
                atp,
                volume,
                total_sell_qty: sell,
                total_buy_qty: buy,
                open,
                close,
                high,
                low,
            },
        )
}

fn full() -> impl Strategy<Value = Full> {
    (
        quote(),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        prop::array::uniform5(depth_level()),
    )
        .prop_map(|(q, (oi, oi_day_high, oi_day_low), depth)| Full {
            ltp: q.ltp,
            ltq: q.ltq,
            ltt: q.ltt,
            atp: q.atp,
            volume: q.volume,
            total_sell_qty: q.total_sell_qty,
            total_buy_qty: q.total_buy_qty,
            oi,
            oi_day_high,
            oi_day_low,
            open: q.open,
            close: q.close,
            high: q.high,
            low: q.low,
            depth,
        })
}

fn body() -> impl Strategy<Value = PacketBody> {
    prop_oneof![
        (wire_f32(), any::<u32>()).prop_map(|(ltp, ltt)| PacketBody::Ticker(Ticker { ltp, ltt })),
        (wire_f32(), any::<u32>())
            .prop_map(|(close, oi)| PacketBody::PrevClose(PrevClose { close, oi })),
        quote().prop_map(PacketBody::Quote),
        any::<u32>().prop_map(|oi| PacketBody::Oi(OpenInterest { oi })),
        full().prop_map(PacketBody::Full),
        Just(PacketBody::MarketStatus),
        any::<u16>().prop_map(|reason| PacketBody::Disconnect { reason }),
        Just(PacketBody::Index),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    (key(), body()).prop_map(|(key, body)| Packet { key, body })
}

fn encode_all(packets: &[Packet]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for packet in packets {
        encode_packet(packet, &mut bytes);
    }
    bytes
}

/// A response code the codec does not know.
fn unknown_code() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("known code", |c| required_len(*c).is_none())
}

/// Loosely framed junk: headers with plausible or hostile codes, segments and lengths,
/// followed by random payloads, so the walk gets past the first packet far more often
/// than with uniform bytes.
fn header_shaped_junk() -> impl Strategy<Value = Vec<u8>> {
    let chunk = (
        prop_oneof![
            prop::sample::select(vec![0_u8, 1, 2, 3, 4, 5, 6, 7, 8, 50]),
            any::<u8>()
        ],
        prop_oneof![0_u16..200, any::<u16>()],
        0_u8..10,
        any::<u32>(),
        vec(any::<u8>(), 0..200),
    )
        .prop_map(|(code, len, segment, id, payload)| {
            let mut bytes = vec![code];
            bytes.extend_from_slice(&len.to_le_bytes());
            bytes.push(segment);
            bytes.extend_from_slice(&id.to_le_bytes());
            bytes.extend_from_slice(&payload);
            bytes
        });
    vec(chunk, 0..8).prop_map(|chunks| chunks.concat())
}

/// Walks `bytes` and checks what holds for any input: the walk ends within its size
/// hint, stays ended, and every decoded packet re-encodes to bytes that decode to it.
fn walk_any_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut walk = decode_frame(bytes);
    let (_, Some(upper)) = walk.size_hint() else {
        return Err(TestCaseError::fail("size hint has no upper bound"));
    };
    let mut items = 0;
    for item in walk.by_ref() {
        items += 1;
        prop_assert!(items <= upper, "walk exceeded its size hint {upper}");
        if let Ok(packet) = item {
            let encoded = encode_all(&[packet]);
            prop_assert_eq!(encoded.len(), encoded_len(&packet.body));
            let (again, used) = decode_packet(&encoded)
                .map_err(|e| TestCaseError::fail(format!("re-decode failed: {e}")))?;
            prop_assert_eq!(used, encoded.len());
            prop_assert_eq!(encode_all(&[again]), encoded);
        }
    }
    prop_assert!(walk.next().is_none());
    Ok(())
}

proptest! {
    #[test]
    fn every_body_round_trips_exactly(packet in packet()) {
        let bytes = encode_all(&[packet]);
        prop_assert_eq!(bytes.len(), encoded_len(&packet.body));
        prop_assert_eq!(usize::from(u16::from_le_bytes([bytes[1], bytes[2]])), bytes.len());
        let (decoded, used) = decode_packet(&bytes).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(decoded, packet);
        // Float equality forgives -0.0 vs 0.0; the bytes do not.
        prop_assert_eq!(encode_all(&[decoded]), bytes);
    }

    #[test]
    fn stacked_packets_decode_in_order(packets in vec(packet(), 0..20)) {
        let frame = encode_all(&packets);
        let decoded: Vec<Packet> = decode_frame(&frame).map(Result::unwrap).collect();
        prop_assert_eq!(decoded, packets);
    }

    #[test]
    fn a_corrupted_middle_packet_costs_only_itself(
        before in vec(packet(), 1..6),
        middle in packet(),
        after in vec(packet(), 1..6),
        bad_code in unknown_code(),
    ) {
        let mut corrupted = encode_all(&[middle]);
        corrupted[0] = bad_code;
        let frame = [encode_all(&before), corrupted.clone(), encode_all(&after)].concat();
        let items: Vec<_> = decode_frame(&frame).collect();
        prop_assert_eq!(items.len(), before.len() + 1 + after.len());
        let declared = u16::try_from(corrupted.len()).unwrap();
        prop_assert_eq!(
            &items[before.len()],
            &Err(DecodeError::UnknownCode { code: bad_code, len: declared })
        );
        let good: Vec<Packet> = items.into_iter().filter_map(Result::ok).collect();
        prop_assert_eq!(good, [before, after].concat());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_the_walk_ends(bytes in vec(any::<u8>(), 0..1024)) {
        walk_any_bytes(&bytes)?;
    }

    #[test]
    fn header_shaped_junk_never_panics_and_the_walk_ends(bytes in header_shaped_junk()) {
        walk_any_bytes(&bytes)?;
    }

    #[test]
    fn cutting_a_frame_anywhere_keeps_the_whole_packets_before_the_cut(
        packets in vec(packet(), 1..10),
        cut in any::<prop::sample::Index>(),
    ) {
        let frame = encode_all(&packets);
        let at = cut.index(frame.len());
        let items: Vec<_> = decode_frame(&frame[..at]).collect();
        let ends: Vec<usize> = packets
            .iter()
            .scan(0, |end, p| { *end += encoded_len(&p.body); Some(*end) })
            .take_while(|end| *end <= at)
            .collect();
        let whole = ends.len();
        let whole_bytes = ends.last().copied().unwrap_or(0);
        prop_assert_eq!(
            items.iter().filter_map(|i| i.as_ref().ok()).copied().collect::<Vec<_>>(),
            packets[..whole].to_vec()
        );
        // Bytes left after the last whole packet make exactly one Truncated error.
        let errors: Vec<_> = items.iter().filter_map(|i| i.clone().err()).collect();
        prop_assert_eq!(errors.len(), usize::from(at > whole_bytes));
        for error in errors {
            prop_assert_eq!(error.kind(), "truncated");
        }
    }
}
