//! WebSocket compression, permessage-deflate (RFC 7692), negotiated per connection
//! when the client offers it and `--ws-deflate` is on.
//!
//! A publication goes to many subscribers, so it is compressed once and the compressed
//! bytes are shared by all of them ([`Wire`]). That is only possible without context
//! takeover: each message is deflated on its own, from an empty window, so its bytes do
//! not depend on what a connection was sent before. The server therefore always
//! answers `server_no_context_takeover`, and asks the same of the client
//! (`client_no_context_takeover`, which RFC 7692 §7.1.1.1 lets a server add), so each
//! inbound message inflates on its own too ([`super::inbound`]). The cost is some ratio
//! on small messages; chain snapshots and deltas are large enough not to care.
//!
//! Only data messages of [`MIN_DEFLATE_BYTES`] or more are compressed (RSV1 is
//! per message): acks and pongs would grow.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::framing;

/// Smaller data messages are sent uncompressed.
pub(super) const MIN_DEFLATE_BYTES: usize = 128;

/// The extension the server answers with when it accepts an offer.
const ACCEPTED: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/// The tail every deflated message drops and every inflated one gets back (RFC 7692
/// §7.2.1: the empty stored block a sync flush ends with).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The `Sec-WebSocket-Extensions` answer for the client's offers, if one is acceptable:
/// the first `permessage-deflate` offer whose parameters this server can honour. A
/// request to use a window smaller than 15 bits (`server_max_window_bits`) cannot be
/// honoured by the encoder and makes that offer unacceptable; the client's own window
/// size is its business, as inflating with a full window reads any stream.
pub(super) fn negotiate(headers: &HeaderMap) -> Option<HeaderValue> {
    let offers = headers
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for offer in offers {
        let mut parts = offer.split(';').map(str::trim);
        if !parts
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case("permessage-deflate"))
        {
            continue;
        }
        let acceptable = parts.all(|param| {
            let (name, value) = param.split_once('=').map_or((param, None), |(n, v)| {
                (n.trim(), Some(v.trim().trim_matches('"')))
            });
            match name.to_ascii_lowercase().as_str() {
                "server_no_context_takeover" | "client_no_context_takeover" => value.is_none(),
                "client_max_window_bits" => value.is_none_or(valid_bits),
                "server_max_window_bits" => value == Some("15"),
                _ => false,
            }
        });
        if acceptable {
            return Some(HeaderValue::from_static(ACCEPTED));
        }
    }
    None
}

fn valid_bits(bits: &str) -> bool {
    bits.parse::<u8>()
        .is_ok_and(|bits| (8..=15).contains(&bits))
}

/// `text` deflated as one message without context takeover, its tail dropped; `None`
/// if the encoder failed (logged; it works in memory, so it does not).
pub(super) fn deflate(text: &[u8]) -> Option<Bytes> {
    let mut compress = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(text.len() / 4 + 64);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(1024));
        }
        let consumed = usize::try_from(compress.total_in()).unwrap_or(usize::MAX);
        let input = text.get(consumed..).unwrap_or_default();
        if let Err(error) = compress.compress_vec(input, &mut out, FlushCompress::Sync) {
            tracing::error!(%error, "deflate failed");
            return None;
        }
        let all_in = compress.total_in() == text.len() as u64;
        // The flush is complete when the encoder left room unused.
        if all_in && out.len() < out.capacity() {
            break;
        }
    }
    if out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
    Some(Bytes::from(out))
}

/// Why an inbound message could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InflateError {
    /// It inflates to more than the cap: a deflate bomb, or just too big.
    TooBig,
    /// Not a deflate stream.
    Corrupt,
}

/// A message deflated without context takeover, inflated, refusing to produce more
/// than `cap` bytes (the output never grows past one byte over it).
pub(super) fn inflate(payload: &[u8], cap: usize) -> Result<Vec<u8>, InflateError> {
    let mut decompress = Decompress::new(false);
    let mut input = Vec::with_capacity(payload.len() + TAIL.len());
    input.extend_from_slice(payload);
    input.extend_from_slice(&TAIL);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() > cap {
            return Err(InflateError::TooBig);
        }
        if out.len() == out.capacity() {
            let room = out.len().max(1024).min(cap + 1 - out.len());
            out.reserve_exact(room);
        }
        let consumed = usize::try_from(decompress.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).ok_or(InflateError::Corrupt)?;
        let before = (decompress.total_in(), decompress.total_out());
        let status = decompress
            .decompress_vec(rest, &mut out, FlushDecompress::Sync)
            .map_err(|_| InflateError::Corrupt)?;
        if out.len() > cap {
            return Err(InflateError::TooBig);
        }
        let all_in = decompress.total_in() == input.len() as u64;
        if status == Status::StreamEnd || (all_in && out.len() < out.capacity()) {
            return Ok(out);
        }
        if (decompress.total_in(), decompress.total_out()) == before && out.len() < out.capacity() {
            return Err(InflateError::Corrupt);
        }
    }
}

/// One data message as many connections send it, framed once: its plain frames, and
/// its deflated frames, built by the first connection that needs them and shared by the
/// rest.
#[derive(Debug)]
pub struct Wire {
    plain: Bytes,
    /// Text length, to decide on compression and to compress from the frames.
    text_len: usize,
    /// `None` inside: deflating failed, and the text goes out plain.
    deflated: OnceLock<Option<Bytes>>,
}

impl Wire {
    pub fn new(text: &[u8]) -> Self {
        Self {
            plain: framing::text(text),
            text_len: text.len(),
            deflated: OnceLock::new(),
        }
    }

    /// The message's frames for one connection: compressed when the connection
    /// negotiated deflate and the message is large enough.
    pub fn bytes(&self, deflate: bool) -> &Bytes {
        if !deflate || self.text_len < MIN_DEFLATE_BYTES {
            return &self.plain;
        }
        let deflated = self.deflated.get_or_init(|| {
            metrics::counter!("ws_deflate_compressions_total").increment(1);
            let text = unframe(&self.plain);
            let compressed = self::deflate(&text)?;
            Some(framing::encode(framing::opcode::TEXT, &compressed, true))
        });
        deflated.as_ref().unwrap_or(&self.plain)
    }

    /// The message's text (tests read it back).
    #[cfg(test)]
    pub fn text(&self) -> String {
        String::from_utf8(unframe(&self.plain)).unwrap_or_default()
    }
}

/// The payload of a server message's frames, joined.
fn unframe(wire: &[u8]) -> Vec<u8> {
    let mut rest = wire;
    let mut payload = Vec::with_capacity(wire.len());
    while let Some(head) = framing::parse(rest) {
        let end = head.header_len + usize::try_from(head.payload_len).unwrap_or(usize::MAX);
        payload.extend_from_slice(rest.get(head.header_len..end).unwrap_or_default());
        rest = rest.get(end..).unwrap_or_default();
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offering(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn offers_browsers_and_libraries_send_are_accepted() {
        for offer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
            "x-webkit-deflate-frame, permessage-deflate",
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
        ] {
            assert_eq!(
                negotiate(&offering(offer))
                    .as_ref()
                    .map(|v| v.to_str().unwrap()),
                Some(ACCEPTED),
                "{offer}"
            );
        }
        assert!(negotiate(&HeaderMap::new()).is_none());
        assert!(negotiate(&offering("permessage-deflate; server_max_window_bits=9")).is_none());
        assert!(negotiate(&offering("permessage-deflate; mystery=1")).is_none());
        assert!(negotiate(&offering("permessage-deflate; client_max_window_bits=20")).is_none());
    }

    #[test]
    fn messages_round_trip_and_bombs_are_refused() {
        let text: String = (0..5_000)
            .map(|i| format!("{{\"k\":{}}},", i % 17))
            .collect();
        let deflated = deflate(text.as_bytes()).unwrap();
        assert!(deflated.len() < text.len() / 5);
        assert!(!deflated.ends_with(&TAIL));
        assert_eq!(inflate(&deflated, 1 << 20).unwrap(), text.as_bytes());
        assert_eq!(inflate(&deflate(b"").unwrap(), 16).unwrap(), b"");

        let bomb = deflate(&vec![b' '; 10 << 20]).unwrap();
        assert!(bomb.len() < 64 << 10);
        assert_eq!(inflate(&bomb, 64 << 10), Err(InflateError::TooBig));
        assert_eq!(
            inflate(b"\xff\xfe\xfd not deflate", 1 << 20),
            Err(InflateError::Corrupt)
        );
    }

    #[test]
    fn a_wire_message_is_deflated_once_for_every_connection() {
        let text: String = "{\"strike\":25000,\"ltp\":12.5}".repeat(20);
        let wire = Wire::new(text.as_bytes());
        let first = wire.bytes(true).clone();
        let second = wire.bytes(true).clone();
        // The same allocation: compressed and framed once, shared.
        assert_eq!(first.as_ptr(), second.as_ptr());
        let (payload, compressed, _) = framing::reassemble(&first);
        assert!(compressed);
        assert_eq!(inflate(&payload, 1 << 20).unwrap(), text.as_bytes());
        assert_eq!(
            framing::reassemble(wire.bytes(false)),
            (text.clone().into_bytes(), false, 1)
        );
        assert_eq!(wire.text(), text);
        let small = Wire::new(b"{\"type\":\"pong\"}");
        assert!(!framing::reassemble(small.bytes(true)).1);
    }
}
