//! The request shapes against Dhan's documented examples, batching at the 100 cap, and
//! every rejection the simulator relies on.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn key(segment: ExchangeSegment, id: u32) -> InstrumentKey {
    InstrumentKey::new(segment, id)
}

fn keys(n: u32) -> Vec<InstrumentKey> {
    (0..n)
        .map(|i| key(ExchangeSegment::NseFno, 35_000 + i))
        .collect()
}

fn as_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn mode_codes_match_the_annexure() {
    let codes: Vec<_> = FeedMode::ALL
        .iter()
        .map(|m| (m.subscribe_code(), m.unsubscribe_code()))
        .collect();
    assert_eq!(codes, [(15, 16), (17, 18), (21, 22)]);
}

#[test]
fn subscribe_json_is_dhans_shape() {
    let request = FeedRequest::Subscribe {
        mode: FeedMode::Ticker,
        instruments: vec![
            key(ExchangeSegment::NseEq, 1333),
            key(ExchangeSegment::BseEq, 532540),
        ],
    };
    assert_eq!(
        as_value(&request.to_json()),
        json!({
            "RequestCode": 15,
            "InstrumentCount": 2,
            "InstrumentList": [
                {"ExchangeSegment": "NSE_EQ", "SecurityId": "1333"},
                {"ExchangeSegment": "BSE_EQ", "SecurityId": "532540"}
            ]
        })
    );
}

#[test]
fn unsubscribe_full_and_disconnect_json() {
    let request = FeedRequest::Unsubscribe {
        mode: FeedMode::Full,
        instruments: vec![key(ExchangeSegment::NseFno, 35001)],
    };
    assert_eq!(
        as_value(&request.to_json()),
        json!({
            "RequestCode": 22,
            "InstrumentCount": 1,
            "InstrumentList": [{"ExchangeSegment": "NSE_FNO", "SecurityId": "35001"}]
        })
    );
    assert_eq!(FeedRequest::Disconnect.to_json(), r#"{"RequestCode":12}"#);
    assert_eq!(
        FeedRequest::parse(r#"{"RequestCode": 12}"#),
        Ok(FeedRequest::Disconnect)
    );
}

#[test]
fn parse_accepts_numeric_security_ids() {
    let text = r#"{"RequestCode":17,"InstrumentCount":2,"InstrumentList":[
        {"ExchangeSegment":"IDX_I","SecurityId":13},
        {"ExchangeSegment":"BSE_FNO","SecurityId":"4294967295"}]}"#;
    assert_eq!(
        FeedRequest::parse(text),
        Ok(FeedRequest::Subscribe {
            mode: FeedMode::Quote,
            instruments: vec![
                key(ExchangeSegment::IdxI, 13),
                key(ExchangeSegment::BseFno, u32::MAX)
            ],
        })
    );
}

#[test]
fn batches_hold_at_most_100_in_order() {
    for (n, expected_sizes) in [
        (0, vec![]),
        (1, vec![1]),
        (100, vec![100]),
        (101, vec![100, 1]),
        (5000, vec![100; 50]),
    ] {
        let all = keys(n);
        for batches in [
            subscribe_batches(FeedMode::Quote, &all),
            unsubscribe_batches(FeedMode::Quote, &all),
        ] {
            let sizes: Vec<_> = batches.iter().map(|b| b.instruments().len()).collect();
            assert_eq!(sizes, expected_sizes, "{n} instruments");
            let rejoined: Vec<_> = batches
                .iter()
                .flat_map(|b| b.instruments().iter().copied())
                .collect();
            assert_eq!(rejoined, all);
            for batch in &batches {
                assert_eq!(FeedRequest::parse(&batch.to_json()).as_ref(), Ok(batch));
            }
        }
        assert!(
            subscribe_batches(FeedMode::Full, &all)
                .iter()
                .all(|b| b.code() == 21)
        );
        assert!(
            unsubscribe_batches(FeedMode::Full, &all)
                .iter()
                .all(|b| b.code() == 22)
        );
    }
}

fn list_of(n: usize) -> String {
    let entry = r#"{"ExchangeSegment":"NSE_FNO","SecurityId":"1"}"#;
    vec![entry; n].join(",")
}

#[test]
fn rejections_are_typed() {
    let cases: [(&str, RequestError); 10] = [
        (
            r#"{"RequestCode":19,"InstrumentCount":0,"InstrumentList":[]}"#,
            RequestError::UnknownCode(19),
        ),
        (
            r#"{"RequestCode":-15,"InstrumentCount":0,"InstrumentList":[]}"#,
            RequestError::UnknownCode(-15),
        ),
        (r#"{"RequestCode":11}"#, RequestError::UnknownCode(11)),
        (
            r#"{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[{"ExchangeSegment":"NSE_FNO","SecurityId":"1"}]}"#,
            RequestError::CountMismatch {
                declared: 2,
                listed: 1,
            },
        ),
        (
            &format!(
                r#"{{"RequestCode":21,"InstrumentCount":101,"InstrumentList":[{}]}}"#,
                list_of(101)
            ),
            RequestError::TooManyInstruments { count: 101 },
        ),
        (
            r#"{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_COMM","SecurityId":"1"}]}"#,
            RequestError::UnknownSegment("NSE_COMM".into()),
        ),
        (
            r#"{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_FNO","SecurityId":"12a"}]}"#,
            RequestError::InvalidSecurityId(r#""12a""#.into()),
        ),
        (
            r#"{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_FNO","SecurityId":-1}]}"#,
            RequestError::InvalidSecurityId("-1".into()),
        ),
        (
            r#"{"RequestCode":15,"InstrumentCount":1,"InstrumentList":[{"ExchangeSegment":"NSE_FNO","SecurityId":4294967296}]}"#,
            RequestError::InvalidSecurityId("4294967296".into()),
        ),
        (
            r#"{"RequestCode":17,"InstrumentList":[]}"#,
            RequestError::MissingField {
                code: 17,
                field: "InstrumentCount",
            },
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(FeedRequest::parse(text), Err(expected), "{text}");
    }
    let malformed = FeedRequest::parse("{\"RequestCode\":").unwrap_err();
    assert!(
        matches!(malformed, RequestError::Malformed(_)),
        "{malformed}"
    );
    assert!(matches!(
        FeedRequest::parse(r#"{"InstrumentCount":0}"#),
        Err(RequestError::Malformed(_))
    ));
    assert!(
        RequestError::TooManyInstruments { count: 101 }
            .to_string()
            .contains("at most 100")
    );
}

fn request() -> impl Strategy<Value = FeedRequest> {
    let instrument = (
        prop::sample::select(ExchangeSegment::ALL.to_vec()),
        any::<u32>(),
    )
        .prop_map(|(segment, id)| key(segment, id));
    let mode = prop::sample::select(FeedMode::ALL.to_vec());
    prop_oneof![
        (
            mode.clone(),
            vec(instrument.clone(), 0..=MAX_INSTRUMENTS_PER_MESSAGE)
        )
            .prop_map(|(mode, instruments)| FeedRequest::Subscribe { mode, instruments }),
        (mode, vec(instrument, 0..=MAX_INSTRUMENTS_PER_MESSAGE))
            .prop_map(|(mode, instruments)| FeedRequest::Unsubscribe { mode, instruments }),
        Just(FeedRequest::Disconnect),
    ]
}

proptest! {
    #[test]
    fn parse_inverts_to_json(request in request()) {
        let text = request.to_json();
        let value = as_value(&text);
        prop_assert_eq!(&value["RequestCode"], &json!(request.code()));
        prop_assert_eq!(FeedRequest::parse(&text), Ok(request));
    }
}
