//! The client's half of a connection: its frames, read straight from the socket's read
//! half and handed to the session as whole messages.
//!
//! The server's writes go through a writer shard ([`super::shard`]), so nothing here
//! ever writes: a ping is handed on for the session to answer, a close for it to echo.
//! Every rule of RFC 6455 §5 a server must enforce is checked (frames masked, control
//! frames final and at most 125 bytes, no reserved bits or opcodes, continuations only
//! inside a message, text that is UTF-8, close codes that may be sent), and a message
//! larger than the connection's cap is refused before its payload is read. On a
//! connection that negotiated permessage-deflate, a compressed message (RSV1 on its
//! first frame) is inflated without context takeover, capped at the same limit
//! ([`super::deflate::inflate`]), so a deflate bomb costs nothing.
//!
//! The reader holds no buffer while the client is silent: one is allocated when bytes
//! arrive and given back once they are consumed, so ten thousand idle connections hold
//! none.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::net::tcp::OwnedReadHalf;

use super::deflate::{InflateError, inflate};
use super::framing::{self, Head, opcode};

/// One message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Incoming {
    Text(String),
    Binary,
    Ping(Bytes),
    Pong,
    /// The client's close frame, with its status code if it gave one.
    Close(Option<u16>),
}

/// Why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadError {
    /// The socket ended or failed.
    Ended,
    /// A message or frame over the cap, before or after inflating (1009).
    TooBig,
    /// Text that is not UTF-8, or a compressed message that does not inflate (1007).
    InvalidData,
    /// A frame RFC 6455 forbids (1002).
    Protocol,
}

/// A data message being gathered from its frames.
#[derive(Debug)]
struct Partial {
    opcode: u8,
    compressed: bool,
    payload: Vec<u8>,
}

/// Reads one client's messages.
#[derive(Debug)]
pub(super) struct ClientReader<R = OwnedReadHalf> {
    socket: R,
    raw: BytesMut,
    /// Bytes read at a time.
    chunk: usize,
    deflate: bool,
    /// Largest message (and frame), inflated or not.
    cap: usize,
    partial: Option<Partial>,
}

/// What the reader reads from: the socket's read half, or (tests) bytes in memory.
pub(super) trait Source {
    /// Waits until the source may have bytes, then reads what it has into `buf`,
    /// making room for `chunk` more bytes first if it has none.
    fn read_into(
        &mut self,
        buf: &mut BytesMut,
        chunk: usize,
    ) -> impl Future<Output = io::Result<usize>> + Send;
}

impl Source for OwnedReadHalf {
    async fn read_into(&mut self, buf: &mut BytesMut, chunk: usize) -> io::Result<usize> {
        loop {
            // Wait first and allocate after, so a silent client holds no buffer.
            self.readable().await?;
            if buf.len() == buf.capacity() {
                buf.reserve(chunk);
            }
            match self.try_read_buf(buf) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                read => return read,
            }
        }
    }
}

impl<R: Source> ClientReader<R> {
    /// `already`: bytes read with the handshake, before the reader existed.
    pub(super) fn new(socket: R, already: &[u8], chunk: usize, deflate: bool, cap: usize) -> Self {
        Self {
            socket,
            raw: BytesMut::from(already),
            chunk,
            deflate,
            cap,
            partial: None,
        }
    }

    /// The next message. Cancel-safe: nothing is lost if the future is dropped.
    pub(super) async fn next(&mut self) -> Result<Incoming, ReadError> {
        loop {
            if let Some(message) = self.take_message()? {
                return Ok(message);
            }
            match self.socket.read_into(&mut self.raw, self.chunk).await {
                Ok(0) | Err(_) => return Err(ReadError::Ended),
                Ok(_) => {}
            }
        }
    }

    /// A whole message from the bytes read so far, if they hold one.
    fn take_message(&mut self) -> Result<Option<Incoming>, ReadError> {
        loop {
            let Some(head) = framing::parse(&self.raw) else {
                self.release();
                return Ok(None);
            };
            self.check(&head)?;
            let len = usize::try_from(head.payload_len).map_err(|_| ReadError::TooBig)?;
            let total = head.header_len + len;
            if self.raw.len() < total {
                self.raw.reserve(total - self.raw.len());
                return Ok(None);
            }
            let mut payload = self.raw.split_to(total).split_off(head.header_len);
            if let Some(key) = head.mask {
                for (i, byte) in payload.iter_mut().enumerate() {
                    *byte ^= key[i % 4];
                }
            }
            if let Some(message) = self.frame(&head, payload.freeze())? {
                self.release();
                return Ok(Some(message));
            }
        }
    }

    /// Gives the buffer back once everything in it is consumed.
    fn release(&mut self) {
        if self.raw.is_empty() && self.raw.capacity() > 0 {
            self.raw = BytesMut::new();
        }
    }

    /// The rules a frame's header must follow, before its payload is read.
    fn check(&self, head: &Head) -> Result<(), ReadError> {
        let op = head.opcode();
        let control = op & 0x08 != 0;
        let known = matches!(
            op,
            opcode::CONTINUATION
                | opcode::TEXT
                | opcode::BINARY
                | opcode::CLOSE
                | opcode::PING
                | opcode::PONG
        );
        let compressed_start = head.rsv1() && self.deflate && !control && op != 0;
        let framing_ok = match op {
            opcode::CONTINUATION => self.partial.is_some(),
            opcode::TEXT | opcode::BINARY => self.partial.is_none(),
            _ => true,
        };
        if head.mask.is_none()
            || head.reserved()
            || !known
            || (head.rsv1() && !compressed_start)
            || (control && (!head.fin() || head.payload_len > 125))
            || !framing_ok
        {
            return Err(ReadError::Protocol);
        }
        let gathered = self.partial.as_ref().map_or(0, |p| p.payload.len() as u64);
        if gathered + head.payload_len > self.cap as u64 {
            return Err(ReadError::TooBig);
        }
        Ok(())
    }

    /// One checked frame; a message once it is whole.
    fn frame(&mut self, head: &Head, payload: Bytes) -> Result<Option<Incoming>, ReadError> {
        match head.opcode() {
            opcode::PING => return Ok(Some(Incoming::Ping(payload))),
            opcode::PONG => return Ok(Some(Incoming::Pong)),
            opcode::CLOSE => return close(&payload).map(Some),
            _ => {}
        }
        let partial = self.partial.get_or_insert_with(|| Partial {
            opcode: head.opcode(),
            compressed: head.rsv1(),
            payload: Vec::new(),
        });
        partial.payload.extend_from_slice(&payload);
        if !head.fin() {
            return Ok(None);
        }
        let Some(Partial {
            opcode,
            compressed,
            payload,
        }) = self.partial.take()
        else {
            return Ok(None);
        };
        let payload = if compressed {
            inflate(&payload, self.cap).map_err(|error| match error {
                InflateError::TooBig => ReadError::TooBig,
                // RFC 7692 §8: a message that does not inflate fails the connection.
                InflateError::Corrupt => ReadError::InvalidData,
            })?
        } else {
            payload
        };
        if opcode == opcode::BINARY {
            return Ok(Some(Incoming::Binary));
        }
        String::from_utf8(payload)
            .map(|text| Some(Incoming::Text(text)))
            .map_err(|_| ReadError::InvalidData)
    }
}

/// A close frame's body: nothing, or a code that may be sent and a UTF-8 reason.
fn close(body: &[u8]) -> Result<Incoming, ReadError> {
    let Some((code, reason)) = body.split_first_chunk::<2>() else {
        return if body.is_empty() {
            Ok(Incoming::Close(None))
        } else {
            Err(ReadError::Protocol)
        };
    };
    let code = u16::from_be_bytes(*code);
    // RFC 6455 §7.4: codes an endpoint may send; 1004-1006 and 1015 never go on the wire.
    if !matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999) {
        return Err(ReadError::Protocol);
    }
    std::str::from_utf8(reason).map_err(|_| ReadError::InvalidData)?;
    Ok(Incoming::Close(Some(code)))
}

#[cfg(test)]
mod tests {
    use super::super::deflate::deflate;
    use super::*;

    /// Bytes in memory, handed out a few at a time.
    struct Memory {
        bytes: Vec<u8>,
        step: usize,
    }

    impl Source for Memory {
        async fn read_into(&mut self, buf: &mut BytesMut, _chunk: usize) -> io::Result<usize> {
            let n = self.step.min(self.bytes.len());
            buf.extend_from_slice(&self.bytes[..n]);
            self.bytes.drain(..n);
            Ok(n)
        }
    }

    /// A masked client frame.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let key = [0x12, 0x34, 0x56, 0x78];
        let mut out = BytesMut::new();
        framing::put_header(&mut out, first, payload.len(), Some(key));
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out.to_vec()
    }

    /// Every message of `wire`, up to the first error, read `step` bytes at a time.
    async fn read_all(
        wire: Vec<u8>,
        deflate: bool,
        cap: usize,
        step: usize,
    ) -> Vec<Result<Incoming, ReadError>> {
        let mut reader = ClientReader::new(Memory { bytes: wire, step }, &[], 64, deflate, cap);
        let mut out = Vec::new();
        loop {
            let next = reader.next().await;
            let stop = next.is_err();
            out.push(next);
            if stop {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn messages_come_whole_from_frames_split_anywhere() {
        let text = r#"{"action":"subscribe","channels":["NIFTY:2026-11-24"]}"#;
        let mut wire = client_frame(0x89, b"hi");
        wire.extend(client_frame(0x01, &text.as_bytes()[..10]));
        wire.extend(client_frame(0x8a, b"")); // a pong between fragments is allowed
        wire.extend(client_frame(0x80, &text.as_bytes()[10..]));
        wire.extend(client_frame(0x82, b"\x00\x01"));
        let mut close = 1000u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"bye");
        wire.extend(client_frame(0x88, &close));
        for step in [1, 7, 4096] {
            let read = read_all(wire.clone(), false, 1 << 16, step).await;
            assert_eq!(
                read,
                [
                    Ok(Incoming::Ping(Bytes::from_static(b"hi"))),
                    Ok(Incoming::Pong),
                    Ok(Incoming::Text(text.into())),
                    Ok(Incoming::Binary),
                    Ok(Incoming::Close(Some(1000))),
                    Err(ReadError::Ended),
                ],
                "{step} bytes at a time"
            );
        }
    }

    #[tokio::test]
    async fn compressed_messages_are_inflated_only_where_negotiated() {
        let text = br#"{"action":"ping"}"#;
        let compressed = deflate(text).unwrap();
        let (head, tail) = compressed.split_at(compressed.len() / 2);
        let mut wire = client_frame(0x41, head);
        wire.extend(client_frame(0x80, tail));
        let read = read_all(wire.clone(), true, 1 << 16, 5).await;
        assert_eq!(
            read[0],
            Ok(Incoming::Text(String::from_utf8(text.to_vec()).unwrap()))
        );
        assert_eq!(
            read_all(wire, false, 1 << 16, 5).await,
            [Err(ReadError::Protocol)]
        );
    }

    #[tokio::test]
    async fn broken_frames_fail_with_their_close_reason() {
        let cases: [(Vec<u8>, ReadError); 9] = [
            // Unmasked.
            (vec![0x81, 0x02, b'h', b'i'], ReadError::Protocol),
            (client_frame(0x83, b""), ReadError::Protocol),
            (client_frame(0xa1, b"x"), ReadError::Protocol),
            (client_frame(0x09, b""), ReadError::Protocol),
            (client_frame(0x89, &[0; 126]), ReadError::Protocol),
            (client_frame(0x80, b"x"), ReadError::Protocol),
            (client_frame(0x81, b"\xff"), ReadError::InvalidData),
            (
                client_frame(0x88, &999u16.to_be_bytes()),
                ReadError::Protocol,
            ),
            (
                client_frame(0xc1, b"\xff\xfe not deflate"),
                ReadError::InvalidData,
            ),
        ];
        for (wire, expected) in cases {
            let read = read_all(wire.clone(), true, 1 << 16, 3).await;
            assert_eq!(read, [Err(expected)], "{wire:x?}");
        }
        let mut interleaved = client_frame(0x01, b"a");
        interleaved.extend(client_frame(0x81, b"b"));
        assert_eq!(
            read_all(interleaved, false, 1 << 16, 3).await,
            [Err(ReadError::Protocol)]
        );
    }

    #[tokio::test]
    async fn oversized_messages_and_bombs_are_refused_before_they_are_read() {
        // Only the header arrives: the refusal does not wait for the payload.
        let mut header = BytesMut::new();
        framing::put_header(&mut header, 0x81, 1 << 30, Some([1, 2, 3, 4]));
        assert_eq!(
            read_all(header.to_vec(), false, 1 << 16, 64).await,
            [Err(ReadError::TooBig)]
        );
        let mut split = client_frame(0x01, &[b'a'; 40]);
        split.extend(client_frame(0x80, &[b'a'; 40]));
        assert_eq!(
            read_all(split, false, 64, 64).await,
            [Err(ReadError::TooBig)]
        );
        let bomb = deflate(&vec![b'a'; 4 << 20]).unwrap();
        let read = read_all(client_frame(0xc1, &bomb), true, 64 << 10, 4096).await;
        assert_eq!(read, [Err(ReadError::TooBig)]);
    }
}
