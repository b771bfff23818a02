//! A WebSocket client that costs about what the floor's receivers cost: it reads the
//! server's frames in place from one buffer, hands each text frame's payload to the
//! caller, answers pings, and does nothing else (no message reassembly, no copies).
//!
//! `loadgen ws` and the floor share the machine with the server, so an expensive
//! client takes CPU from the server and shows up as server latency; with this client
//! the two sides of `loadgen compare` receive at about the same cost.

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one read of the socket brought.
pub(crate) enum Frame<'a> {
    /// A text frame (a message, or the first fragment of one): its payload.
    Text(&'a [u8]),
    /// Any other data (continuation fragments): its length.
    Other(usize),
}

pub(crate) struct LeanClient {
    socket: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` holding data read but not yet consumed.
    filled: usize,
}

impl LeanClient {
    /// Connects and upgrades to `url` (`ws://host:port/path?query`).
    pub(crate) async fn connect(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("ws://").context("only ws:// URLs")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut socket = TcpStream::connect(host).await?;
        socket.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        socket.write_all(request.as_bytes()).await?;
        let mut client = Self {
            socket,
            buf: vec![0; 64 << 10],
            filled: 0,
        };
        let end = loop {
            if let Some(at) = client.buffered().windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if client.read_more().await? == 0 {
                bail!("closed during the handshake");
            }
        };
        if !client.buffered().starts_with(b"HTTP/1.1 101") {
            let head = String::from_utf8_lossy(&client.buffered()[..end]).into_owned();
            bail!("not upgraded: {}", head.lines().next().unwrap_or_default());
        }
        client.consume(end);
        Ok(client)
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    async fn read_more(&mut self) -> anyhow::Result<usize> {
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let read = self.socket.read(&mut self.buf[self.filled..]).await?;
        self.filled += read;
        Ok(read)
    }

    /// Sends a text message (masked with a zero key, as any key will do).
    pub(crate) async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.send(0x81, text.as_bytes()).await
    }

    async fn send(&mut self, first: u8, payload: &[u8]) -> anyhow::Result<()> {
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&[0; 4]);
        frame.extend_from_slice(payload);
        Ok(self.socket.write_all(&frame).await?)
    }

    /// Reads until at least one whole frame is buffered, then hands every whole data
    /// frame to `each`; answers pings; fails on a close.
    pub(crate) async fn next_frames(
        &mut self,
        mut each: impl FnMut(Frame<'_>),
    ) -> anyhow::Result<()> {
        loop {
            let mut used = 0;
            let mut pong = None;
            while let Some((first, start, end)) = parse(&self.buf[used..self.filled]) {
                let payload = &self.buf[used + start..used + end];
                match first & 0x0f {
                    0x1 => each(Frame::Text(payload)),
                    0x8 => bail!("closed by server: {payload:?}"),
                    0x9 => pong = Some(payload.to_vec()),
                    0xa => {}
                    _ => each(Frame::Other(payload.len())),
                }
                used += end;
            }
            if let Some(payload) = pong {
                self.send(0x8a, &payload).await?;
            }
            if used > 0 {
                self.consume(used);
                return Ok(());
            }
            if self.read_more().await? == 0 {
                bail!("connection ended by the server");
            }
        }
    }
}

/// The frame at the start of `raw`, once whole: its first byte, and where its payload
/// starts and ends.
fn parse(raw: &[u8]) -> Option<(u8, usize, usize)> {
    let (&first, rest) = raw.split_first()?;
    let (&second, rest) = rest.split_first()?;
    let (len, header) = match second & 0x7f {
        126 => (u64::from(u16::from_be_bytes(*rest.first_chunk::<2>()?)), 4),
        127 => (u64::from_be_bytes(*rest.first_chunk::<8>()?), 10),
        len => (u64::from(len), 2),
    };
    let end = header + usize::try_from(len).ok()?;
    (raw.len() >= end).then_some((first, header, end))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::{Frame, LeanClient, parse};

    #[tokio::test]
    async fn upgrades_reads_text_split_anywhere_and_answers_pings() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/ws/live?token=t", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 1024];
            let n = socket.read(&mut request).await.unwrap();
            assert!(request[..n].starts_with(b"GET /ws/live?token=t HTTP/1.1\r\n"));
            let mut answer = b"HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x02hi".to_vec();
            answer.extend_from_slice(b"\x89\x01p\x81\x05");
            socket.write_all(&answer).await.unwrap();
            socket.write_all(b"there").await.unwrap();
            let mut pong = [0u8; 7];
            socket.read_exact(&mut pong).await.unwrap();
            pong
        });
        let mut client = LeanClient::connect(&url).await.unwrap();
        let mut texts = Vec::new();
        while texts.len() < 2 {
            client
                .next_frames(|frame| {
                    if let Frame::Text(payload) = frame {
                        texts.push(String::from_utf8(payload.to_vec()).unwrap());
                    }
                })
                .await
                .unwrap();
        }
        assert_eq!(texts, ["hi", "there"]);
        // A masked pong with the ping's payload.
        assert_eq!(server.await.unwrap(), [0x8a, 0x81, 0, 0, 0, 0, b'p']);
    }

    #[test]
    fn frames_are_found_once_whole() {
        assert_eq!(parse(&[0x81, 2, b'h', b'i']), Some((0x81, 2, 4)));
        assert_eq!(parse(&[0x81, 2, b'h']), None);
        let mut long = vec![0x01, 126, 0x01, 0x00];
        long.extend(vec![b'x'; 256]);
        assert_eq!(parse(&long), Some((0x01, 4, 260)));
        assert_eq!(parse(&long[..100]), None);
    }
}
