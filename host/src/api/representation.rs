//! One representation of an answer: its JSON bytes, its entity tag, and its compressed
//! forms, each built once, the first time a client asks for it.
//!
//! The response cache stores a [`Representation`] per entry, so a cached chain is
//! compressed at most once per content coding for as long as it is cached, however
//! many clients poll it; a per-request compression layer would compress the same 100 KB
//! again for every one of them. Answers that are not cached are compressed by
//! tower-http's layer instead ([`compression_layer`]), which leaves alone what
//! [`negotiate`] already encoded.
//!
//! [`negotiate`] is the middleware that turns a handler's representation into the
//! answer the request asked for: `304 Not Modified` when `If-None-Match` names its tag,
//! else the body in the best coding `Accept-Encoding` allows (q-values honoured, bodies
//! under [`MIN_COMPRESS_BYTES`] left alone). Either way the answer says
//! `Vary: Accept-Encoding`, so a shared cache keeps the codings apart.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{And, NotForContentType, Predicate, SizeAbove};

/// Smaller bodies are sent as they are: the coding's framing would eat most of the gain.
pub const MIN_COMPRESS_BYTES: usize = 1024;

/// A content coding the server produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Br,
    Zstd,
}

impl Coding {
    /// The compressed codings, most preferred first when a client likes them equally:
    /// brotli packs JSON tightest, and each entry is compressed only once.
    const PREFERRED: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// The coding to answer in, given the request's `Accept-Encoding` (RFC 9110
    /// §12.5.3): the compressed coding with the highest q-value above zero (a listed
    /// coding's own q, else `*`'s), ties going to [`Self::PREFERRED`] order; identity
    /// when none is acceptable or the header is absent.
    pub fn negotiate(headers: &HeaderMap) -> Coding {
        let mut listed: Vec<(String, f32)> = Vec::new();
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                if name.is_empty() {
                    continue;
                }
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(1.0);
                listed.push((name, q));
            }
        }
        let q_of = |token: &str| {
            listed
                .iter()
                .find(|(name, _)| name == token || (token == "gzip" && name == "x-gzip"))
                .or_else(|| listed.iter().find(|(name, _)| name == "*"))
                .map_or(0.0, |(_, q)| *q)
        };
        let mut best = (Coding::Identity, 0.0_f32);
        for coding in Self::PREFERRED {
            let q = q_of(coding.token());
            if q > best.1 {
                best = (coding, q);
            }
        }
        best.0
    }
}

/// An answer's bytes, entity tag, and compressed forms built on demand.
#[derive(Debug)]
pub struct Representation {
    identity: Bytes,
    etag: HeaderValue,
    /// `None` inside: the encoder failed (it writes to memory, so it cannot), and the
    /// identity is sent instead.
    gzip: OnceLock<Option<Bytes>>,
    br: OnceLock<Option<Bytes>>,
    zstd: OnceLock<Option<Bytes>>,
}

impl Representation {
    pub fn new(identity: Bytes, etag: HeaderValue) -> Self {
        Self {
            identity,
            etag,
            gzip: OnceLock::new(),
            br: OnceLock::new(),
            zstd: OnceLock::new(),
        }
    }

    /// The JSON as serialized.
    pub fn body(&self) -> &Bytes {
        &self.identity
    }

    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// The body in `coding`, compressed on the first call for that coding (concurrent
    /// first callers wait for the one compressing); `built` counts compressions done.
    pub fn encoded(&self, coding: Coding, built: &AtomicU64) -> Option<Bytes> {
        let cell = match coding {
            Coding::Identity => return Some(self.identity.clone()),
            Coding::Gzip => &self.gzip,
            Coding::Br => &self.br,
            Coding::Zstd => &self.zstd,
        };
        cell.get_or_init(|| {
            built.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("http_compressions_total", "coding" => coding.token()).increment(1);
            compress(coding, &self.identity)
        })
        .clone()
    }

    /// The answer to a request with `headers`: 304, or the body in the negotiated coding.
    pub fn answer(&self, headers: &HeaderMap, compression: bool, built: &AtomicU64) -> Response {
        let mut response = if none_match(headers, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let coding = if compression && self.identity.len() >= MIN_COMPRESS_BYTES {
                Coding::negotiate(headers)
            } else {
                Coding::Identity
            };
            let (coding, body) = match self.encoded(coding, built) {
                Some(body) => (coding, body),
                None => (Coding::Identity, self.identity.clone()),
            };
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if coding != Coding::Identity {
                headers.insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(coding.token()),
                );
            }
            response
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        // Live data: a client may keep it but must ask (cheaply, with the tag) each time.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        response.extensions_mut().insert(Negotiated);
        response
    }
}

/// Marks an answer [`negotiate`] built, so the compression layer leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct Negotiated;

/// `body` in `coding`; `None` if the encoder failed (logged).
fn compress(coding: Coding, body: &[u8]) -> Option<Bytes> {
    let encoded = match coding {
        Coding::Identity => return Some(Bytes::copy_from_slice(body)),
        Coding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body).and_then(|()| encoder.finish())
        }
        Coding::Br => {
            // Quality 5 of 11: most of brotli's gain on JSON at a fraction of the cost
            // of the top levels; lgwin 22 is the format's usual window.
            let mut encoder = brotli::CompressorWriter::new(Vec::new(), 16 << 10, 5, 22);
            encoder
                .write_all(body)
                .and_then(|()| encoder.flush())
                .map(|()| encoder.into_inner())
        }
        Coding::Zstd => zstd::bulk::compress(body, 3),
    };
    match encoded {
        Ok(bytes) => Some(Bytes::from(bytes)),
        Err(error) => {
            tracing::error!(%error, coding = coding.token(), "compression failed");
            None
        }
    }
}

/// Whether `If-None-Match` in `headers` matches `etag` by weak comparison (RFC 9110
/// §13.1.2): `*`, or a listed tag with the same opaque part, `W/` or not.
fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = opaque(etag.to_str().unwrap_or(""));
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || (!tag.is_empty() && opaque(tag) == ours))
}

fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// What [`negotiate`] needs of the server: whether to compress, and where to count
/// compressions.
#[derive(Debug, Clone)]
pub struct Negotiation {
    pub compression: bool,
    pub built: Arc<AtomicU64>,
}

/// Finishes an answer that carries a representation (see [`Represented`]) for the
/// request's `If-None-Match` and `Accept-Encoding`.
pub async fn negotiate(
    State(negotiation): State<Negotiation>,
    request: Request,
    next: Next,
) -> Response {
    // Only what the answer depends on is kept of the request.
    let mut wants = HeaderMap::new();
    for name in [header::ACCEPT_ENCODING, header::IF_NONE_MATCH] {
        for value in request.headers().get_all(&name) {
            wants.append(name.clone(), value.clone());
        }
    }
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<Represented>() {
        Some(Represented(representation)) => {
            let mut answer =
                representation.answer(&wants, negotiation.compression, &negotiation.built);
            // Keep what the handler said beyond the body (the cache header, limits).
            for (name, value) in response.headers() {
                if !answer.headers().contains_key(name) && name != header::CONTENT_LENGTH {
                    answer.headers_mut().insert(name.clone(), value.clone());
                }
            }
            answer
        }
        None => response,
    }
}

/// A handler's answer as a representation, for [`negotiate`] to finish.
#[derive(Debug, Clone)]
pub struct Represented(pub Arc<Representation>);

/// When the compression layer compresses: 1 KiB and more, not an image (already
/// compressed), not an answer [`negotiate`] built.
pub type CompressWhen = And<And<SizeAbove, NotForContentType>, NotNegotiated>;

/// tower-http's compression for the answers not negotiated here (not cached): the same
/// codings and threshold, per request.
pub fn compression_layer() -> CompressionLayer<CompressWhen> {
    let min = u16::try_from(MIN_COMPRESS_BYTES).unwrap_or(u16::MAX);
    CompressionLayer::new().no_deflate().compress_when(
        SizeAbove::new(min)
            .and(NotForContentType::IMAGES)
            .and(NotNegotiated),
    )
}

/// The compression layer's predicate: not an answer [`negotiate`] built.
#[derive(Debug, Clone, Copy)]
pub struct NotNegotiated;

impl Predicate for NotNegotiated {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: http_body::Body,
    {
        response.extensions().get::<Negotiated>().is_none()
    }
}

#[cfg(test)]
mod tests;
