//! Example-based tests: the raw capture of `dhanhq.md` §2.11, every layout checked
//! against the reference's offset tables (written independently of the codec's
//! sequential reads), and each rule of the frame walk.

use super::*;

/// A zeroed packet of `len` bytes with its header filled in.
fn packet_bytes(response_code: u8, len: usize, segment: u8, security_id: u32) -> Vec<u8> {
    let mut bytes = vec![0; len];
    bytes[0] = response_code;
    let declared = u16::try_from(len).unwrap();
    bytes[1..3].copy_from_slice(&declared.to_le_bytes());
    bytes[3] = segment;
    bytes[4..8].copy_from_slice(&security_id.to_le_bytes());
    bytes
}

fn put(bytes: &mut [u8], at: usize, value: &[u8]) {
    bytes[at..at + value.len()].copy_from_slice(value);
}

fn nse_fno(security_id: u32) -> InstrumentKey {
    InstrumentKey::new(ExchangeSegment::NseFno, security_id)
}

fn only_packet(bytes: &[u8]) -> Packet {
    let items: Vec<_> = decode_frame(bytes).collect();
    assert_eq!(items.len(), 1, "{items:?}");
    items.into_iter().next().unwrap().unwrap()
}

#[test]
fn worked_example_from_packet_capture() {
    let mut frame = vec![
        0x08, 0xa2, 0x00, 0x02, 0xf4, 0xd9, 0x00, 0x00, 0xcd, 0x4c, 0x18, 0x43, 0x4b, 0x00,
    ];
    frame.resize(162, 0);

    let (packet, used) = decode_packet(&frame).unwrap();
    assert_eq!(used, 162);
    assert_eq!(packet.key, nse_fno(55796));
    let PacketBody::Full(full) = packet.body else {
        panic!("expected Full, got {:?}", packet.body);
    };
    assert_eq!(full.ltp.to_bits(), 0x4318_4ccd);
    assert!((full.ltp - 152.30).abs() < 1e-4, "ltp {}", full.ltp);
    assert_eq!(full.ltq, 75);
    assert_eq!(only_packet(&frame), packet);
}

#[test]
fn ticker_prev_close_oi_and_disconnect_offsets() {
    let mut ticker = packet_bytes(code::TICKER, 16, 0, 13);
    put(&mut ticker, 8, &24_350.5_f32.to_le_bytes());
    put(&mut ticker, 12, &1_700_000_000_u32.to_le_bytes());
    assert_eq!(
        only_packet(&ticker),
        Packet {
            key: InstrumentKey::new(ExchangeSegment::IdxI, 13),
            body: PacketBody::Ticker(Ticker {
                ltp: 24_350.5,
                ltt: 1_700_000_000
            }),
        }
    );

    let mut prev = packet_bytes(code::PREV_CLOSE, 16, 8, 900);
    put(&mut prev, 8, &101.25_f32.to_le_bytes());
    put(&mut prev, 12, &4_500_u32.to_le_bytes());
    assert_eq!(
        only_packet(&prev).body,
        PacketBody::PrevClose(PrevClose {
            close: 101.25,
            oi: 4_500
        })
    );

    let mut oi = packet_bytes(code::OI, 12, 2, 1);
    put(&mut oi, 8, &3_000_000_u32.to_le_bytes());
    assert_eq!(
        only_packet(&oi).body,
        PacketBody::Oi(OpenInterest { oi: 3_000_000 })
    );

    let mut disconnect = packet_bytes(code::DISCONNECT, 10, 0, 0);
    put(&mut disconnect, 8, &807_u16.to_le_bytes());
    assert_eq!(
        only_packet(&disconnect).body,
        PacketBody::Disconnect { reason: 807 }
    );
}

#[test]
fn quote_offsets() {
    let mut bytes = packet_bytes(code::QUOTE, 50, 2, 35001);
    put(&mut bytes, 8, &152.3_f32.to_le_bytes());
    put(&mut bytes, 12, &75_u16.to_le_bytes());
    put(&mut bytes, 14, &1_700_000_001_u32.to_le_bytes());
    put(&mut bytes, 18, &150.5_f32.to_le_bytes());
    put(&mut bytes, 22, &123_456_u32.to_le_bytes());
    put(&mut bytes, 26, &7_000_u32.to_le_bytes());
    put(&mut bytes, 30, &8_000_u32.to_le_bytes());
    put(&mut bytes, 34, &140.0_f32.to_le_bytes());
    put(&mut bytes, 38, &151.0_f32.to_le_bytes());
    put(&mut bytes, 42, &160.25_f32.to_le_bytes());
    put(&mut bytes, 46, &139.75_f32.to_le_bytes());
    let expected = Quote {
        ltp: 152.3,
        ltq: 75,
        ltt: 1_700_000_001,
        atp: 150.5,
        volume: 123_456,
        total_sell_qty: 7_000,
        total_buy_qty: 8_000,
        open: 140.0,
        close: 151.0,
        high: 160.25,
        low: 139.75,
    };
    let packet = only_packet(&bytes);
    assert_eq!(packet.key, nse_fno(35001));
    assert_eq!(packet.body, PacketBody::Quote(expected));

    let mut encoded = Vec::new();
    encode_packet(&packet, &mut encoded);
    assert_eq!(encoded, bytes);
}

#[test]
fn full_offsets_including_every_depth_level() {
    let mut bytes = packet_bytes(code::FULL, 162, 2, 55795);
    put(&mut bytes, 8, &95.9_f32.to_le_bytes());
    put(&mut bytes, 12, &300_u16.to_le_bytes());
    put(&mut bytes, 14, &11_u32.to_le_bytes());
    put(&mut bytes, 18, &94.5_f32.to_le_bytes());
    put(&mut bytes, 22, &22_u32.to_le_bytes());
    put(&mut bytes, 26, &33_u32.to_le_bytes());
    put(&mut bytes, 30, &44_u32.to_le_bytes());
    put(&mut bytes, 34, &55_u32.to_le_bytes());
    put(&mut bytes, 38, &66_u32.to_le_bytes());
    put(&mut bytes, 42, &77_u32.to_le_bytes());
    put(&mut bytes, 46, &90.0_f32.to_le_bytes());
    put(&mut bytes, 50, &91.0_f32.to_le_bytes());
    put(&mut bytes, 54, &99.0_f32.to_le_bytes());
    put(&mut bytes, 58, &89.0_f32.to_le_bytes());
    let mut expected_depth = [DepthLevel::default(); DEPTH_LEVELS];
    for (i, expected) in expected_depth.iter_mut().enumerate() {
        let n = u32::try_from(i).unwrap() + 1;
        let start = 62 + 20 * i;
        *expected = DepthLevel {
            bid_qty: 1_000 * n,
            ask_qty: 2_000 * n,
            bid_orders: u16::try_from(10 * n).unwrap(),
            ask_orders: u16::try_from(20 * n).unwrap(),
            bid_price: 95.0 - n as f32 * 0.05,
            ask_price: 96.0 + n as f32 * 0.05,
        };
        put(&mut bytes, start, &expected.bid_qty.to_le_bytes());
        put(&mut bytes, start + 4, &expected.ask_qty.to_le_bytes());
        put(&mut bytes, start + 8, &expected.bid_orders.to_le_bytes());
        put(&mut bytes, start + 10, &expected.ask_orders.to_le_bytes());
        put(&mut bytes, start + 12, &expected.bid_price.to_le_bytes());
        put(&mut bytes, start + 16, &expected.ask_price.to_le_bytes());
    }
    let expected = Full {
        ltp: 95.9,
        ltq: 300,
        ltt: 11,
        atp: 94.5,
        volume: 22,
        total_sell_qty: 33,
        total_buy_qty: 44,
        oi: 55,
        oi_day_high: 66,
        oi_day_low: 77,
        open: 90.0,
        close: 91.0,
        high: 99.0,
        low: 89.0,
        depth: expected_depth,
    };
    let packet = only_packet(&bytes);
    assert_eq!(packet.body, PacketBody::Full(expected));

    let mut encoded = Vec::new();
    encode_packet(&packet, &mut encoded);
    assert_eq!(encoded, bytes);
}

#[test]
fn header_only_codes_ignore_any_payload_and_encode_as_headers() {
    let mut status = packet_bytes(code::MARKET_STATUS, 12, 1, 0);
    put(&mut status, 8, &[9, 9, 9, 9]);
    let index = packet_bytes(code::INDEX, 40, 0, 13);
    let frame = [status, index].concat();
    let packets: Vec<_> = decode_frame(&frame).map(Result::unwrap).collect();
    assert_eq!(packets[0].body, PacketBody::MarketStatus);
    assert_eq!(packets[1].body, PacketBody::Index);
    assert_eq!(packets.len(), 2);

    for packet in packets {
        let mut encoded = Vec::new();
        encode_packet(&packet, &mut encoded);
        assert_eq!(encoded.len(), HEADER_LEN);
        assert_eq!(encoded_len(&packet.body), HEADER_LEN);
        assert_eq!(decode_packet(&encoded).unwrap(), (packet, HEADER_LEN));
    }
}

#[test]
fn length_below_header_ends_the_walk() {
    let good = packet_bytes(code::OI, 12, 2, 1);
    let mut bad = packet_bytes(code::OI, 12, 2, 2);
    put(&mut bad, 1, &5_u16.to_le_bytes());
    let frame = [good.clone(), bad, good].concat();
    let items: Vec<_> = decode_frame(&frame).collect();
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    let error = items[1].clone().unwrap_err();
    assert_eq!(error, DecodeError::LengthBelowHeader { declared: 5 });
    assert_eq!(error.kind(), "length_below_header");
    assert!(error.ends_frame());
}

#[test]
fn length_beyond_the_frame_is_truncated_and_ends_the_walk() {
    let mut bytes = packet_bytes(code::QUOTE, 50, 2, 1);
    bytes.truncate(30);
    let mut walk = decode_frame(&bytes);
    assert_eq!(
        walk.next(),
        Some(Err(DecodeError::Truncated {
            needed: 50,
            available: 30
        }))
    );
    assert_eq!(walk.next(), None);
    assert_eq!(walk.next(), None);
    assert!(walk.remaining().is_empty());
}

#[test]
fn trailing_bytes_shorter_than_a_header_are_truncated() {
    let mut frame = packet_bytes(code::OI, 12, 2, 1);
    frame.extend_from_slice(&[4, 50, 0]);
    let items: Vec<_> = decode_frame(&frame).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let error = items[1].clone().unwrap_err();
    assert_eq!(
        error,
        DecodeError::Truncated {
            needed: HEADER_LEN,
            available: 3
        }
    );
    assert_eq!(error.kind(), "truncated");
}

#[test]
fn unknown_code_and_segment_skip_one_packet_and_continue() {
    let first = packet_bytes(code::OI, 12, 2, 1);
    let unknown_code = packet_bytes(3, 20, 2, 2);
    let segment_six = packet_bytes(code::OI, 12, 6, 3);
    let last = packet_bytes(code::TICKER, 16, 2, 4);
    let frame = [first, unknown_code, segment_six, last].concat();
    let items: Vec<_> = decode_frame(&frame).collect();
    assert_eq!(items.len(), 4, "{items:?}");
    assert_eq!(items[0].clone().unwrap().key, nse_fno(1));
    let unknown = items[1].clone().unwrap_err();
    assert_eq!(unknown, DecodeError::UnknownCode { code: 3, len: 20 });
    assert_eq!(unknown.kind(), "unknown_code");
    assert!(!unknown.ends_frame());
    let segment = items[2].clone().unwrap_err();
    assert_eq!(
        segment,
        DecodeError::UnknownSegment {
            code: code::OI,
            segment: 6
        }
    );
    assert_eq!(segment.kind(), "unknown_segment");
    assert_eq!(items[3].clone().unwrap().key, nse_fno(4));
}

#[test]
fn known_code_shorter_than_its_layout_is_skipped() {
    let short_quote = packet_bytes(code::QUOTE, 20, 2, 1);
    let short_disconnect = packet_bytes(code::DISCONNECT, 9, 0, 0);
    let next = packet_bytes(code::OI, 12, 2, 2);
    let frame = [short_quote, short_disconnect, next].concat();
    let items: Vec<_> = decode_frame(&frame).collect();
    assert_eq!(items.len(), 3, "{items:?}");
    let error = items[0].clone().unwrap_err();
    assert_eq!(
        error,
        DecodeError::TooShortForCode {
            code: code::QUOTE,
            declared: 20,
            required: QUOTE_LEN
        }
    );
    assert_eq!(error.kind(), "too_short_for_code");
    assert!(!error.ends_frame());
    assert_eq!(
        items[1].clone().unwrap_err(),
        DecodeError::TooShortForCode {
            code: code::DISCONNECT,
            declared: 9,
            required: DISCONNECT_LEN
        }
    );
    assert_eq!(items[2].clone().unwrap().key, nse_fno(2));
}

#[test]
fn longer_packet_decodes_its_known_prefix() {
    let mut long_ticker = packet_bytes(code::TICKER, 24, 2, 1);
    put(&mut long_ticker, 8, &10.5_f32.to_le_bytes());
    put(&mut long_ticker, 12, &7_u32.to_le_bytes());
    put(&mut long_ticker, 16, &[0xff; 8]);
    let next = packet_bytes(code::OI, 12, 2, 2);
    let frame = [long_ticker, next].concat();

    assert_eq!(
        decode_packet(&frame).unwrap(),
        (
            Packet {
                key: nse_fno(1),
                body: PacketBody::Ticker(Ticker { ltp: 10.5, ltt: 7 }),
            },
            24
        )
    );
    let items: Vec<_> = decode_frame(&frame).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].clone().unwrap().key, nse_fno(2));
}

#[test]
fn empty_frame_yields_nothing() {
    assert_eq!(decode_frame(&[]).next(), None);
    assert_eq!(
        decode_packet(&[]),
        Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            available: 0
        })
    );
}

#[test]
fn nan_payloads_and_negative_zero_survive_a_round_trip() {
    let odd_nan = f32::from_bits(0x7fc0_1234);
    let packet = Packet {
        key: nse_fno(9),
        body: PacketBody::Ticker(Ticker {
            ltp: odd_nan,
            ltt: 0,
        }),
    };
    let mut bytes = Vec::new();
    encode_packet(&packet, &mut bytes);
    let (decoded, _) = decode_packet(&bytes).unwrap();
    let PacketBody::Ticker(ticker) = decoded.body else {
        panic!("expected Ticker, got {:?}", decoded.body);
    };
    assert_eq!(ticker.ltp.to_bits(), 0x7fc0_1234);

    let zero = Packet {
        key: nse_fno(9),
        body: PacketBody::PrevClose(PrevClose { close: -0.0, oi: 1 }),
    };
    bytes.clear();
    encode_packet(&zero, &mut bytes);
    let (decoded, _) = decode_packet(&bytes).unwrap();
    let PacketBody::PrevClose(prev) = decoded.body else {
        panic!("expected PrevClose, got {:?}", decoded.body);
    };
    assert_eq!(prev.close.to_bits(), (-0.0_f32).to_bits());
}
