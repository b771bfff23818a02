//! The bytes a client sends, on their way to tungstenite: on a connection that
//! negotiated permessage-deflate, compressed messages are inflated here.
//!
//! tungstenite has no permessage-deflate and fails any frame with RSV1 set, so the
//! server reads the client's frames first ([RFC 6455 §5.2]): control frames and
//! uncompressed messages go through untouched; a compressed message (RSV1 on its first
//! frame) is gathered, unmasked, inflated ([`super::deflate::inflate`], capped at the
//! connection's message limit) and handed on as one uncompressed frame with a zero
//! mask. A message that would inflate past the cap — a deflate bomb, or just too big —
//! is handed on as the header of a frame one byte over the limit: tungstenite refuses
//! it as too big before reading a payload, and the session closes with 1009, exactly
//! as for an oversized uncompressed message. Nothing past the cap is ever allocated. A
//! compressed message that does not inflate at all closes with 1007.
//!
//! Without deflate the stream is passed through as it is.
//!
//! [RFC 6455 §5.2]: https://www.rfc-editor.org/rfc/rfc6455#section-5.2

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::deflate::{InflateError, inflate};

/// A compressed message being gathered.
#[derive(Debug)]
struct Gathering {
    opcode: u8,
    payload: Vec<u8>,
}

/// The client's byte stream, with compressed messages inflated.
#[derive(Debug)]
pub(super) struct Inbound<S> {
    inner: S,
    deflate: bool,
    /// Largest message (and frame), inflated or not.
    cap: usize,
    raw: BytesMut,
    ready: BytesMut,
    gathering: Option<Gathering>,
    /// An over-the-cap header was handed on: nothing more is read.
    refused: bool,
}

impl<S> Inbound<S> {
    pub(super) fn new(inner: S, deflate: bool, cap: usize) -> Self {
        Self {
            inner,
            deflate,
            cap,
            raw: BytesMut::new(),
            ready: BytesMut::new(),
            gathering: None,
            refused: false,
        }
    }

    /// Moves every complete frame in `raw` to `ready`, transformed.
    fn process(&mut self) {
        while !self.refused {
            let Some(frame) = parse(&self.raw) else {
                return;
            };
            if frame.payload_len > self.cap as u64 {
                self.refuse();
                return;
            }
            let Ok(payload_len) = usize::try_from(frame.payload_len) else {
                self.refuse();
                return;
            };
            let total = frame.header_len + payload_len;
            if self.raw.len() < total {
                self.raw.reserve(total - self.raw.len());
                return;
            }
            let bytes = self.raw.split_to(total);
            self.frame(&frame, &bytes);
        }
    }

    fn frame(&mut self, frame: &Head, bytes: &[u8]) {
        let opcode = frame.first & 0x0f;
        let fin = frame.first & 0x80 != 0;
        let rsv1 = frame.first & 0x40 != 0;
        let is_control = opcode & 0x08 != 0;
        let continuing = opcode == 0 && self.gathering.is_some();
        if !is_control && opcode != 0 && self.gathering.is_some() {
            // A new message before the compressed one ended (RFC 6455 §5.4 forbids
            // it): handed on as a continuation of nothing, which tungstenite fails.
            self.stop(0x80, 0, &[]);
            return;
        }
        if is_control || !(rsv1 || continuing) {
            self.ready.extend_from_slice(bytes);
            return;
        }
        let mut payload = bytes.get(frame.header_len..).unwrap_or_default().to_vec();
        if let Some(mask) = frame.mask {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= mask[i % 4];
            }
        }
        let gathering = self.gathering.get_or_insert_with(|| Gathering {
            opcode,
            payload: Vec::new(),
        });
        gathering.payload.extend_from_slice(&payload);
        if gathering.payload.len() > self.cap {
            self.refuse();
            return;
        }
        if !fin {
            return;
        }
        let Some(Gathering { opcode, payload }) = self.gathering.take() else {
            return;
        };
        match inflate(&payload, self.cap) {
            Ok(message) => self.hand_on(0x80 | opcode, &message),
            Err(InflateError::TooBig) => self.refuse(),
            // RFC 7692 §8: a message that does not inflate fails the connection. It is
            // handed on as a text frame that is not UTF-8, which the session closes
            // with 1007 like any message that is not what it claims to be.
            Err(InflateError::Corrupt) => self.stop(0x81, 1, &[0xff]),
        }
    }

    /// Queues one masked (with a zero key) frame.
    fn hand_on(&mut self, first: u8, payload: &[u8]) {
        put_header(&mut self.ready, first, payload.len() as u64);
        self.ready.extend_from_slice(payload);
    }

    /// Queues a header one byte over the cap: tungstenite refuses it as too big.
    fn refuse(&mut self) {
        self.stop(0x81, self.cap as u64 + 1, &[]);
    }

    /// Queues a last frame (`declared` long, `payload` of it present) that makes
    /// tungstenite fail the connection, and reads nothing more.
    fn stop(&mut self, first: u8, declared: u64, payload: &[u8]) {
        put_header(&mut self.ready, first, declared);
        self.ready.extend_from_slice(payload);
        self.refused = true;
        self.raw.clear();
        self.gathering = None;
    }
}

/// A parsed frame header.
#[derive(Debug)]
struct Head {
    first: u8,
    header_len: usize,
    payload_len: u64,
    mask: Option<[u8; 4]>,
}

/// The header at the start of `raw`, once it is all there.
fn parse(raw: &[u8]) -> Option<Head> {
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

/// A client frame header: `first` (FIN, RSV, opcode), masked with a zero key.
fn put_header(out: &mut BytesMut, first: u8, len: u64) {
    out.put_u8(first);
    match len {
        0..=125 => out.put_u8(0x80 | len as u8),
        126..=0xffff => {
            out.put_u8(0x80 | 126);
            out.put_u16(len as u16);
        }
        _ => {
            out.put_u8(0x80 | 127);
            out.put_u64(len);
        }
    }
    out.put_slice(&[0, 0, 0, 0]);
}

impl<S: AsyncRead + Unpin> AsyncRead for Inbound<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.deflate {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(this.ready.get(..n).unwrap_or_default());
                this.ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.refused {
                // Nothing after the refusal is read; tungstenite has stopped anyway.
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 4096];
            let mut chunk_buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk_buf))?;
            let read = chunk_buf.filled();
            if read.is_empty() {
                // End of stream: hand on whatever partial frame there was, so
                // tungstenite sees the same truncation it would have.
                let rest = this.raw.split();
                this.ready.extend_from_slice(&rest);
                if this.ready.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.raw.extend_from_slice(read);
            this.process();
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Inbound<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::super::deflate::deflate;
    use super::*;

    /// A masked client frame.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x12, 0x34, 0x56, 0x78];
        let mut out = BytesMut::new();
        out.put_u8(first);
        let len = payload.len();
        if len < 126 {
            out.put_u8(0x80 | len as u8);
        } else {
            out.put_u8(0x80 | 126);
            out.put_u16(len as u16);
        }
        out.put_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out.to_vec()
    }

    async fn through(deflate_on: bool, cap: usize, wire: Vec<u8>) -> Vec<u8> {
        let mut inbound = Inbound::new(&wire[..], deflate_on, cap);
        let mut out = Vec::new();
        inbound.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn compressed_messages_come_out_inflated_and_the_rest_untouched() {
        let text = br#"{"action":"subscribe","channels":["chain:NIFTY:2026-11-24"]}"#;
        let compressed = deflate(text).unwrap();
        let (head, tail) = compressed.split_at(compressed.len() / 2);
        let mut wire = client_frame(0x89, b"ping"); // a ping, untouched
        wire.extend(client_frame(0x41, head)); // text, RSV1, not final
        wire.extend(client_frame(0x80, tail)); // continuation, final
        wire.extend(client_frame(0x81, b"plain"));
        let out = through(true, 1 << 16, wire.clone()).await;
        let ping = client_frame(0x89, b"ping");
        assert_eq!(out.get(..ping.len()), Some(&ping[..]));
        let rest = &out[ping.len()..];
        let head = parse(rest).unwrap();
        assert_eq!(head.first, 0x81, "final text, RSV1 cleared");
        assert_eq!(head.mask, Some([0; 4]));
        let payload = &rest[head.header_len..head.header_len + text.len()];
        assert_eq!(payload, text);
        let plain = client_frame(0x81, b"plain");
        assert!(out.ends_with(&plain));
        // Without deflate, nothing changes.
        assert_eq!(through(false, 1 << 16, wire.clone()).await, wire);
    }

    #[tokio::test]
    async fn a_bomb_becomes_an_oversized_header() {
        let bomb = deflate(&vec![b'a'; 4 << 20]).unwrap();
        let out = through(true, 64 << 10, client_frame(0xc1, &bomb)).await;
        let head = parse(&out).unwrap();
        assert_eq!(head.payload_len, (64 << 10) + 1);
        assert_eq!(out.len(), head.header_len, "no payload follows");
    }

    #[tokio::test]
    async fn a_new_message_inside_a_compressed_one_is_handed_on_as_a_protocol_error() {
        let mut wire = client_frame(0x41, &deflate(b"{\"action\":\"ping\"}").unwrap());
        wire.extend(client_frame(0x81, b"{}"));
        let out = through(true, 1 << 16, wire).await;
        let head = parse(&out).unwrap();
        assert_eq!(
            (head.first, head.payload_len),
            (0x80, 0),
            "a stray continuation"
        );
        assert_eq!(out.len(), head.header_len);
    }

    #[tokio::test]
    async fn a_message_that_does_not_inflate_becomes_invalid_text() {
        let out = through(true, 1 << 16, client_frame(0xc1, b"\xff\xfe not deflate")).await;
        let head = parse(&out).unwrap();
        assert_eq!((head.first, head.payload_len), (0x81, 1));
        assert_eq!(out.get(head.header_len..), Some(&[0xff][..]));
    }
}
