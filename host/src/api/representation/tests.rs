use std::io::Read;

use super::*;

fn accepting(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_str(value).unwrap(),
    );
    headers
}

#[test]
fn q_values_choose_the_coding() {
    assert_eq!(Coding::negotiate(&HeaderMap::new()), Coding::Identity);
    assert_eq!(Coding::negotiate(&accepting("gzip")), Coding::Gzip);
    assert_eq!(
        Coding::negotiate(&accepting("gzip, deflate, br, zstd")),
        Coding::Br
    );
    assert_eq!(
        Coding::negotiate(&accepting("br;q=0.5, zstd")),
        Coding::Zstd
    );
    assert_eq!(
        Coding::negotiate(&accepting("br;q=0, gzip;q=0.1")),
        Coding::Gzip
    );
    assert_eq!(Coding::negotiate(&accepting("*")), Coding::Br);
    assert_eq!(
        Coding::negotiate(&accepting("*;q=0.2, br;q=0")),
        Coding::Zstd
    );
    assert_eq!(Coding::negotiate(&accepting("identity")), Coding::Identity);
    assert_eq!(Coding::negotiate(&accepting("deflate")), Coding::Identity);
    assert_eq!(Coding::negotiate(&accepting("*;q=0")), Coding::Identity);
    assert_eq!(Coding::negotiate(&accepting("GZIP ; Q=0.7")), Coding::Gzip);
    assert_eq!(
        Coding::negotiate(&accepting("gzip;q=7")),
        Coding::Gzip,
        "bad q is 1"
    );
}

fn json(len: usize) -> Bytes {
    let mut text = String::from("[");
    while text.len() < len {
        text.push_str("{\"strike\":25000.0,\"ltp\":101.25},");
    }
    text.push_str("{}]");
    Bytes::from(text)
}

fn decode(coding: Coding, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        Coding::Identity => out.extend_from_slice(bytes),
        Coding::Gzip => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        Coding::Br => {
            brotli::Decompressor::new(bytes, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Coding::Zstd => out = zstd::stream::decode_all(bytes).unwrap(),
    }
    out
}

#[test]
fn each_coding_is_built_once_and_decodes_to_the_body() {
    let body = json(20_000);
    let answer = Representation::new(body.clone(), HeaderValue::from_static("W/\"t\""));
    let built = AtomicU64::new(0);
    for coding in Coding::PREFERRED {
        let first = answer.encoded(coding, &built).unwrap();
        let again = answer.encoded(coding, &built).unwrap();
        assert_eq!(first, again);
        assert!(first.len() < body.len() / 4, "{coding:?}: {}", first.len());
        assert_eq!(decode(coding, &first), body);
    }
    assert_eq!(
        built.load(Ordering::Relaxed),
        3,
        "one compression per coding"
    );
    assert_eq!(answer.encoded(Coding::Identity, &built), Some(body));
    assert_eq!(built.load(Ordering::Relaxed), 3);
}

#[test]
fn answers_304_on_a_matching_tag_and_leave_small_bodies_alone() {
    let built = AtomicU64::new(0);
    let answer = Representation::new(json(5_000), HeaderValue::from_static("W/\"abc\""));
    let mut headers = accepting("gzip");
    for matching in ["W/\"abc\"", "\"abc\"", "\"x\", W/\"abc\"", "*"] {
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(matching));
        let response = answer.answer(&headers, true, &built);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{matching}");
        assert_eq!(response.headers()[header::ETAG], "W/\"abc\"");
    }
    headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("W/\"abd\""));
    let response = answer.answer(&headers, true, &built);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(response.headers()[header::VARY], "accept-encoding");
    assert_eq!(
        answer
            .answer(&headers, false, &built)
            .headers()
            .get(header::CONTENT_ENCODING),
        None
    );

    let small = Representation::new(
        Bytes::from_static(b"{\"a\":1}"),
        HeaderValue::from_static("W/\"s\""),
    );
    let response = small.answer(&accepting("gzip"), true, &built);
    assert_eq!(response.headers().get(header::CONTENT_ENCODING), None);
    assert_eq!(
        built.load(Ordering::Relaxed),
        1,
        "only the large body was compressed"
    );
}
