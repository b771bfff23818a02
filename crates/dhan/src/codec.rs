//! Bytes ⇄ [`Packet`]s for Dhan's v2 binary market feed (reference `dhanhq.md` §2): the
//! only place in optionhub that knows the wire layouts. The live client decodes with
//! [`decode_frame`]; the simulator encodes with [`encode_packet`], so both sides share one
//! definition of every offset.
//!
//! A WebSocket frame may carry several packets back to back, each announcing its own
//! total length at header offset 1 (u16 LE). The walk is defensive because the feed is
//! input we do not control: a length that cannot be right (shorter than the header, or
//! longer than what is left) ends the walk, since nothing after it can be located; a
//! packet that is well framed but unusable (unknown code or segment, too short for its
//! code) is reported on its own and the walk resumes after it. A packet longer than its
//! layout decodes the known prefix, so that Dhan appending fields does not blind us.
//! Nothing here panics on any input, and decoding borrows the frame (no allocation).

use instruments::{ExchangeSegment, InstrumentKey};

use super::packet::{
    DEPTH_LEVELS, DepthLevel, Full, HEADER_LEN, OpenInterest, Packet, PacketBody, PrevClose, Quote,
    Ticker, code,
};

mod wire;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;

use wire::{FieldReader, FieldWriter};

/// Total length of a Ticker packet (code 2).
pub const TICKER_LEN: usize = 16;
/// Total length of a Prev close packet (code 6).
pub const PREV_CLOSE_LEN: usize = 16;
/// Total length of a Quote packet (code 4).
pub const QUOTE_LEN: usize = 50;
/// Total length of an OI packet (code 5).
pub const OI_LEN: usize = 12;
/// Total length of a Full packet (code 8): 62 bytes of quote and OI, then 5 × 20 of depth.
pub const FULL_LEN: usize = 162;
/// Total length of a Feed disconnect packet (code 50).
pub const DISCONNECT_LEN: usize = 10;

/// Why some bytes of a frame did not become a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The header's length field is below the header's own size; the walk cannot go on.
    #[error("packet declares length {declared}, shorter than the {HEADER_LEN}-byte header")]
    LengthBelowHeader { declared: u16 },
    /// Fewer bytes are left than needed: the declared packet length, or the header's
    /// size when not even a whole header is left. The walk cannot go on.
    #[error("packet truncated: needs {needed} bytes, only {available} left in the frame")]
    Truncated { needed: usize, available: usize },
    /// A response code this build does not know; the packet is skipped.
    #[error("unknown response code {code} in a {len}-byte packet")]
    UnknownCode { code: u8, len: u16 },
    /// A segment number Dhan does not define (there is no 6); the packet is skipped.
    #[error("unknown exchange segment {segment} in a packet with response code {code}")]
    UnknownSegment { code: u8, segment: u8 },
    /// A known response code whose declared length is shorter than its layout.
    #[error(
        "packet with response code {code} declares {declared} bytes; its layout needs {required}"
    )]
    TooShortForCode {
        code: u8,
        declared: u16,
        required: usize,
    },
}

impl DecodeError {
    /// A stable label per variant, for metrics and structured logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::LengthBelowHeader { .. } => "length_below_header",
            Self::Truncated { .. } => "truncated",
            Self::UnknownCode { .. } => "unknown_code",
            Self::UnknownSegment { .. } => "unknown_segment",
            Self::TooShortForCode { .. } => "too_short_for_code",
        }
    }

    /// Whether this error ends the walk over a frame: after it no further packet
    /// boundary can be trusted.
    pub fn ends_frame(&self) -> bool {
        matches!(
            self,
            Self::LengthBelowHeader { .. } | Self::Truncated { .. }
        )
    }
}

/// Decodes the packet at the start of `buf`, returning it with the number of bytes it
/// occupies (its declared length). Bytes after it are not looked at.
///
/// On an error for which [`DecodeError::ends_frame`] is false the packet is still well
/// framed; [`decode_frame`] uses that to continue after it.
pub fn decode_packet(buf: &[u8]) -> Result<(Packet, usize), DecodeError> {
    let (packet, _rest) = split_packet(buf)?;
    decode_framed(packet).map(|decoded| (decoded, packet.len()))
}

/// Walks the packets stacked in one WebSocket frame, in order.
pub fn decode_frame(frame: &[u8]) -> FrameDecoder<'_> {
    FrameDecoder { rest: frame }
}

/// The iterator [`decode_frame`] returns: one item per packet, an `Err` for a packet
/// that could not be decoded. It ends after the last packet or after an error that
/// leaves no packet boundary to resume from.
#[derive(Debug, Clone)]
pub struct FrameDecoder<'a> {
    rest: &'a [u8],
}

impl<'a> FrameDecoder<'a> {
    /// The bytes not yet walked.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }
}

impl Iterator for FrameDecoder<'_> {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match split_packet(self.rest) {
            Ok((packet, rest)) => {
                self.rest = rest;
                Some(decode_framed(packet))
            }
            Err(error) => {
                self.rest = &[];
                Some(Err(error))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Every packet takes at least a header; a fatal error takes everything left.
        let upper = self.rest.len().div_ceil(HEADER_LEN);
        (usize::from(!self.rest.is_empty()), Some(upper))
    }
}

impl std::iter::FusedIterator for FrameDecoder<'_> {}

/// Splits the first packet off `buf` by its declared length.
fn split_packet(buf: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            available: buf.len(),
        });
    };
    let declared = u16::from_le_bytes([header[1], header[2]]);
    let len = usize::from(declared);
    if len < HEADER_LEN {
        return Err(DecodeError::LengthBelowHeader { declared });
    }
    buf.split_at_checked(len).ok_or(DecodeError::Truncated {
        needed: len,
        available: buf.len(),
    })
}

/// Decodes one packet whose bytes are exactly its declared length (at least a header).
fn decode_framed(packet: &[u8]) -> Result<Packet, DecodeError> {
    let Some(&[response_code, len_lo, len_hi, segment, id0, id1, id2, id3]) =
        packet.first_chunk::<HEADER_LEN>()
    else {
        return Err(DecodeError::Truncated {
            needed: HEADER_LEN,
            available: packet.len(),
        });
    };
    let declared = u16::from_le_bytes([len_lo, len_hi]);
    let unknown_code = DecodeError::UnknownCode {
        code: response_code,
        len: declared,
    };
    if required_len(response_code).is_none() {
        return Err(unknown_code);
    }
    let segment = ExchangeSegment::from_code(segment).ok_or(DecodeError::UnknownSegment {
        code: response_code,
        segment,
    })?;
    let key = InstrumentKey::new(segment, u32::from_le_bytes([id0, id1, id2, id3]));
    let body = match response_code {
        code::TICKER => PacketBody::Ticker(decode_ticker(fields::<TICKER_LEN>(packet)?)),
        code::PREV_CLOSE => {
            PacketBody::PrevClose(decode_prev_close(fields::<PREV_CLOSE_LEN>(packet)?))
        }
        code::QUOTE => PacketBody::Quote(decode_quote(fields::<QUOTE_LEN>(packet)?)),
        code::OI => PacketBody::Oi(OpenInterest {
            oi: fields::<OI_LEN>(packet)?.u32(),
        }),
        code::FULL => PacketBody::Full(decode_full(fields::<FULL_LEN>(packet)?)),
        code::DISCONNECT => PacketBody::Disconnect {
            reason: fields::<DISCONNECT_LEN>(packet)?.u16(),
        },
        code::MARKET_STATUS => PacketBody::MarketStatus,
        code::INDEX => PacketBody::Index,
        _ => return Err(unknown_code),
    };
    Ok(Packet { key, body })
}

/// The payload fields of a packet whose layout is `LEN` bytes long, or
/// [`DecodeError::TooShortForCode`] if the packet is shorter than that. Checking the
/// length once here lets every field read after it be a fixed-size copy.
fn fields<const LEN: usize>(packet: &[u8]) -> Result<FieldReader<'_>, DecodeError> {
    match packet.first_chunk::<LEN>() {
        Some(layout) => Ok(FieldReader::after_header(layout)),
        None => Err(too_short_for(packet, LEN)),
    }
}

fn too_short_for(packet: &[u8], required: usize) -> DecodeError {
    DecodeError::TooShortForCode {
        code: packet.first().copied().unwrap_or_default(),
        declared: u16::try_from(packet.len()).unwrap_or(u16::MAX),
        required,
    }
}

/// The layout length of a known response code; `None` for an unknown one. Index and
/// Market status have undocumented payloads, so only their header is required.
fn required_len(response_code: u8) -> Option<usize> {
    Some(match response_code {
        code::TICKER => TICKER_LEN,
        code::PREV_CLOSE => PREV_CLOSE_LEN,
        code::QUOTE => QUOTE_LEN,
        code::OI => OI_LEN,
        code::FULL => FULL_LEN,
        code::DISCONNECT => DISCONNECT_LEN,
        code::MARKET_STATUS | code::INDEX => HEADER_LEN,
        _ => return None,
    })
}

fn decode_ticker(mut r: FieldReader<'_>) -> Ticker {
    Ticker {
        ltp: r.f32(),
        ltt: r.u32(),
    }
}

fn decode_prev_close(mut r: FieldReader<'_>) -> PrevClose {
    PrevClose {
        close: r.f32(),
        oi: r.u32(),
    }
}

fn decode_quote(mut r: FieldReader<'_>) -> Quote {
    Quote {
        ltp: r.f32(),
        ltq: r.u16(),
        ltt: r.u32(),
        atp: r.f32(),
        volume: r.u32(),
        total_sell_qty: r.u32(),
        total_buy_qty: r.u32(),
        open: r.f32(),
        close: r.f32(),
        high: r.f32(),
        low: r.f32(),
    }
}

fn decode_full(mut r: FieldReader<'_>) -> Full {
    let mut full = Full {
        ltp: r.f32(),
        ltq: r.u16(),
        ltt: r.u32(),
        atp: r.f32(),
        volume: r.u32(),
        total_sell_qty: r.u32(),
        total_buy_qty: r.u32(),
        oi: r.u32(),
        oi_day_high: r.u32(),
        oi_day_low: r.u32(),
        open: r.f32(),
        close: r.f32(),
        high: r.f32(),
        low: r.f32(),
        depth: [DepthLevel::default(); DEPTH_LEVELS],
    };
    for level in &mut full.depth {
        *level = DepthLevel {
            bid_qty: r.u32(),
            ask_qty: r.u32(),
            bid_orders: r.u16(),
            ask_orders: r.u16(),
            bid_price: r.f32(),
            ask_price: r.f32(),
        };
    }
    full
}

/// The response code a body is sent under.
pub fn response_code(body: &PacketBody) -> u8 {
    match body {
        PacketBody::Ticker(_) => code::TICKER,
        PacketBody::PrevClose(_) => code::PREV_CLOSE,
        PacketBody::Quote(_) => code::QUOTE,
        PacketBody::Oi(_) => code::OI,
        PacketBody::Full(_) => code::FULL,
        PacketBody::MarketStatus => code::MARKET_STATUS,
        PacketBody::Disconnect { .. } => code::DISCONNECT,
        PacketBody::Index => code::INDEX,
    }
}

/// The number of bytes [`encode_packet`] writes for `body`, header included.
pub fn encoded_len(body: &PacketBody) -> usize {
    required_len(response_code(body)).unwrap_or(HEADER_LEN)
}

/// Appends the canonical bytes of `packet` to `out`: exactly [`encoded_len`] bytes, with
/// the header's length field saying so. Index and Market status, whose payloads are
/// undocumented, are header-only.
pub fn encode_packet(packet: &Packet, out: &mut Vec<u8>) {
    let len = encoded_len(&packet.body);
    out.reserve(len);
    let mut w = FieldWriter::new(out);
    w.u8(response_code(&packet.body));
    // Every layout is at most FULL_LEN (162) bytes, far below u16::MAX.
    w.u16(u16::try_from(len).unwrap_or(u16::MAX));
    w.u8(packet.key.segment.code());
    w.u32(packet.key.security_id);
    match &packet.body {
        PacketBody::Ticker(t) => {
            w.f32(t.ltp);
            w.u32(t.ltt);
        }
        PacketBody::PrevClose(p) => {
            w.f32(p.close);
            w.u32(p.oi);
        }
        PacketBody::Quote(q) => {
            w.f32(q.ltp);
            w.u16(q.ltq);
            w.u32(q.ltt);
            w.f32(q.atp);
            w.u32(q.volume);
            w.u32(q.total_sell_qty);
            w.u32(q.total_buy_qty);
            w.f32(q.open);
            w.f32(q.close);
            w.f32(q.high);
            w.f32(q.low);
        }
        PacketBody::Oi(o) => w.u32(o.oi),
        PacketBody::Full(f) => {
            w.f32(f.ltp);
            w.u16(f.ltq);
            w.u32(f.ltt);
            w.f32(f.atp);
            w.u32(f.volume);
            w.u32(f.total_sell_qty);
            w.u32(f.total_buy_qty);
            w.u32(f.oi);
            w.u32(f.oi_day_high);
            w.u32(f.oi_day_low);
            w.f32(f.open);
            w.f32(f.close);
            w.f32(f.high);
            w.f32(f.low);
            for level in &f.depth {
                w.u32(level.bid_qty);
                w.u32(level.ask_qty);
                w.u16(level.bid_orders);
                w.u16(level.ask_orders);
                w.f32(level.bid_price);
                w.f32(level.ask_price);
            }
        }
        PacketBody::Disconnect { reason } => w.u16(*reason),
        PacketBody::MarketStatus | PacketBody::Index => {}
    }
}
