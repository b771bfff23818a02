//! RFC 6455 framing, both directions: the server's frames, encoded once into the bytes
//! that go on the wire ([`encode`]), and the headers of the client's frames ([`parse`]).
//!
//! Server frames are unmasked (RFC 6455 §5.1), so a message's frames are the same bytes
//! for every connection: a publication is framed once and each subscriber's write is a
//! reference to it. A message larger than [`FRAGMENT_BYTES`] goes out as a first frame
//! and continuation frames of at most that size (§5.4; clients reassemble them,
//! browsers included).

use bytes::{BufMut, Bytes, BytesMut};

/// Messages larger than this are sent as frames of this size.
pub(super) const FRAGMENT_BYTES: usize = 8 << 10;

/// Opcodes (RFC 6455 §5.2).
pub(super) mod opcode {
    pub(crate) const CONTINUATION: u8 = 0x0;
    pub(crate) const TEXT: u8 = 0x1;
    pub(crate) const BINARY: u8 = 0x2;
    pub(crate) const CLOSE: u8 = 0x8;
    pub(crate) const PING: u8 = 0x9;
    pub(crate) const PONG: u8 = 0xa;
}

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;

/// A whole message as server frames: `payload` under `op`, split into fragments of
/// [`FRAGMENT_BYTES`] when larger. `compressed` sets RSV1 on the first frame only (RFC
/// 7692 §6.1).
pub(super) fn encode(op: u8, payload: &[u8], compressed: bool) -> Bytes {
    let fragments = payload.len().div_ceil(FRAGMENT_BYTES).max(1);
    let mut out = BytesMut::with_capacity(payload.len() + fragments * 10);
    let mut chunks = payload.chunks(FRAGMENT_BYTES).peekable();
    let mut first = true;
    loop {
        let chunk = chunks.next().unwrap_or_default();
        let last = chunks.peek().is_none();
        let mut head = if first { op } else { opcode::CONTINUATION };
        if last {
            head |= FIN;
        }
        if first && compressed {
            head |= RSV1;
        }
        put_header(&mut out, head, chunk.len(), None);
        out.put_slice(chunk);
        first = false;
        if last {
            return out.freeze();
        }
    }
}

/// A text message's frames.
pub(super) fn text(payload: &[u8]) -> Bytes {
    encode(opcode::TEXT, payload, false)
}

/// A close frame with `code` and `reason` (RFC 6455 §5.5.1), or without a body.
pub(super) fn close(code: Option<u16>, reason: &str) -> Bytes {
    let mut body = Vec::with_capacity(2 + reason.len());
    if let Some(code) = code {
        body.extend_from_slice(&code.to_be_bytes());
        // Control frames carry at most 125 bytes.
        let room = 123.min(reason.len());
        let cut = (0..=room)
            .rev()
            .find(|&i| reason.is_char_boundary(i))
            .unwrap_or(0);
        body.extend_from_slice(reason.as_bytes().get(..cut).unwrap_or_default());
    }
    encode(opcode::CLOSE, &body, false)
}

/// A frame header: `first` (FIN, RSV, opcode), the payload length, and a mask key when
/// the frame is masked (only the tests, which play clients, mask).
pub(super) fn put_header(out: &mut BytesMut, first: u8, len: usize, mask: Option<[u8; 4]>) {
    out.put_u8(first);
    let masked = if mask.is_some() { 0x80 } else { 0 };
    match len {
        0..=125 => out.put_u8(masked | len as u8),
        126..=0xffff => {
            out.put_u8(masked | 126);
            out.put_u16(len as u16);
        }
        _ => {
            out.put_u8(masked | 127);
            out.put_u64(len as u64);
        }
    }
    if let Some(key) = mask {
        out.put_slice(&key);
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Head {
    pub first: u8,
    pub header_len: usize,
    pub payload_len: u64,
    pub mask: Option<[u8; 4]>,
}

impl Head {
    pub(super) fn fin(&self) -> bool {
        self.first & FIN != 0
    }

    pub(super) fn rsv1(&self) -> bool {
        self.first & RSV1 != 0
    }

    /// RSV2 or RSV3: no extension here defines them.
    pub(super) fn reserved(&self) -> bool {
        self.first & 0x30 != 0
    }

    pub(super) fn opcode(&self) -> u8 {
        self.first & 0x0f
    }
}

/// The header at the start of `raw`, once it is all there.
pub(super) fn parse(raw: &[u8]) -> Option<Head> {
    let (&first, rest) = raw.split_first()?;
    let (&second, mut rest) = rest.split_first()?;
    let mut header_len = 2;
    let payload_len = match second & 0x7f {
        126 => {
            let (len, tail) = rest.split_first_chunk::<2>()?;
            rest = tail;
            header_len += 2;
            u64::from(u16::from_be_bytes(*len))
        }
        127 => {
            let (len, tail) = rest.split_first_chunk::<8>()?;
            rest = tail;
            header_len += 8;
            u64::from_be_bytes(*len)
        }
        len => u64::from(len),
    };
    let mask = if second & 0x80 != 0 {
        let (key, _) = rest.split_first_chunk::<4>()?;
        header_len += 4;
        Some(*key)
    } else {
        None
    };
    Some(Head {
        first,
        header_len,
        payload_len,
        mask,
    })
}

/// The payloads of the server frames in `wire`, joined, and whether the first had RSV1:
/// what a client reassembles (for tests).
#[cfg(test)]
pub(super) fn reassemble(wire: &[u8]) -> (Vec<u8>, bool, usize) {
    let mut rest = wire;
    let mut payload = Vec::new();
    let mut compressed = None;
    let mut frames = 0;
    while let Some(head) = parse(rest) {
        let len = head.payload_len as usize;
        let body = &rest[head.header_len..head.header_len + len];
        payload.extend_from_slice(body);
        compressed.get_or_insert(head.rsv1());
        frames += 1;
        rest = &rest[head.header_len + len..];
    }
    assert!(rest.is_empty(), "trailing bytes");
    (payload, compressed.unwrap_or(false), frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_messages_go_out_in_fragments_that_rebuild_them() {
        let small = text(b"{\"type\":\"pong\"}");
        assert_eq!(&small[..2], &[0x81, 15]);
        assert_eq!(
            reassemble(&small),
            (b"{\"type\":\"pong\"}".to_vec(), false, 1)
        );

        let payload: Vec<u8> = (0..FRAGMENT_BYTES * 2 + 100)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let wire = text(&payload);
        let mut rest = &wire[..];
        let mut firsts = Vec::new();
        while let Some(head) = parse(rest) {
            assert!(head.payload_len as usize <= FRAGMENT_BYTES);
            assert!(head.mask.is_none(), "server frames are unmasked");
            firsts.push(head.first);
            rest = &rest[head.header_len + head.payload_len as usize..];
        }
        assert_eq!(
            firsts,
            [0x01, 0x00, 0x80],
            "text, continuation, final continuation"
        );
        assert_eq!(reassemble(&wire).0, payload);
    }

    #[test]
    fn a_compressed_message_keeps_rsv1_on_its_first_frame_only() {
        let payload = vec![7u8; FRAGMENT_BYTES + 1];
        let wire = encode(opcode::TEXT, &payload, true);
        let first = parse(&wire).unwrap();
        assert!(first.rsv1() && !first.fin());
        let second = parse(&wire[first.header_len + FRAGMENT_BYTES..]).unwrap();
        assert!(!second.rsv1() && second.fin());
        assert_eq!(reassemble(&wire), (payload, true, 2));
    }

    #[test]
    fn close_frames_carry_a_code_and_a_reason_that_fits() {
        let frame = close(Some(4008), "slow consumer");
        assert_eq!(&frame[..4], &[0x88, 15, 0x0f, 0xa8]);
        assert_eq!(&frame[4..], b"slow consumer");
        assert_eq!(&close(None, "ignored")[..], &[0x88, 0]);
        let long = "é".repeat(100);
        let frame = close(Some(1000), &long);
        let head = parse(&frame).unwrap();
        assert!(head.payload_len <= 125);
        assert!(std::str::from_utf8(&frame[head.header_len + 2..]).is_ok());
    }
}
