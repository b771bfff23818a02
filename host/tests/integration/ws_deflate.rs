//! permessage-deflate (RFC 7692) on the WebSocket routes, against the real server. No
//! WebSocket client crate in the tree speaks it, so the compressing client here is a
//! small one of its own over a TCP socket, with flate2 for the deflate side: it offers
//! the extension, reads frames itself (RSV1, fragments) and inflates them. Its data must
//! be the same JSON a plain tokio-tungstenite client gets; a deflate bomb it sends is
//! refused with a close (1009), not swallowed.

use std::collections::HashMap;
use std::time::Duration;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestApp;
use crate::common::admin_token;
use crate::ws::{WsApp, next_json, open, start, subscribe};

const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut compress = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 1024);
    compress
        .compress_vec(data, &mut out, FlushCompress::Sync)
        .expect("deflate");
    assert_eq!(
        compress.total_in() as usize,
        data.len(),
        "room for all of it"
    );
    assert!(out.ends_with(&TAIL));
    out.truncate(out.len() - 4);
    out
}

fn inflate(data: &[u8]) -> Vec<u8> {
    let mut input = data.to_vec();
    input.extend_from_slice(&TAIL);
    let mut decompress = Decompress::new(false);
    let mut out = Vec::with_capacity(8 << 20);
    decompress
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .expect("inflate");
    out
}

/// One frame as read off the wire.
#[derive(Debug)]
struct RawFrame {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// A message: its opcode, whether it came compressed, its frames, and its payload
/// (inflated when compressed).
#[derive(Debug)]
struct RawMessage {
    opcode: u8,
    compressed: bool,
    frames: Vec<RawFrame>,
    payload: Vec<u8>,
}

/// A minimal WebSocket client that can negotiate permessage-deflate.
struct RawWs {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// The handshake answer's `Sec-WebSocket-Extensions`.
    extensions: Option<String>,
}

impl RawWs {
    async fn connect(server: &TestApp, path: &str, offer: Option<&str>) -> Self {
        let addr = server.addr;
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        let offer = offer.map_or_else(String::new, |o| {
            format!("Sec-WebSocket-Extensions: {o}\r\n")
        });
        let request = format!(
            "GET {path}?token={} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n{offer}\r\n",
            admin_token()
        );
        stream.write_all(request.as_bytes()).await.expect("writes");
        let mut buffer = Vec::new();
        let end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("reads");
            assert!(n > 0, "closed during the handshake");
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let extensions = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_string())
        });
        buffer.drain(..end);
        Self {
            stream,
            buffer,
            extensions,
        }
    }

    async fn fill(&mut self, wanted: usize) {
        while self.buffer.len() < wanted {
            let mut chunk = [0u8; 16 << 10];
            let n = tokio::time::timeout(Duration::from_secs(10), self.stream.read(&mut chunk))
                .await
                .expect("data within 10 s")
                .expect("reads");
            assert!(n > 0, "the server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    async fn frame(&mut self) -> RawFrame {
        self.fill(2).await;
        let (first, second) = (self.buffer[0], self.buffer[1]);
        assert_eq!(second & 0x80, 0, "server frames are not masked");
        let (header, len) = match second & 0x7f {
            126 => {
                self.fill(4).await;
                (
                    4,
                    usize::from(u16::from_be_bytes([self.buffer[2], self.buffer[3]])),
                )
            }
            127 => {
                self.fill(10).await;
                let bytes: [u8; 8] = self.buffer[2..10].try_into().expect("8 bytes");
                (
                    10,
                    usize::try_from(u64::from_be_bytes(bytes)).expect("size"),
                )
            }
            len => (2, usize::from(len)),
        };
        self.fill(header + len).await;
        let payload = self.buffer[header..header + len].to_vec();
        self.buffer.drain(..header + len);
        RawFrame {
            fin: first & 0x80 != 0,
            rsv1: first & 0x40 != 0,
            opcode: first & 0x0f,
            payload,
        }
    }

    /// The next data or close message (pings and pongs skipped).
    async fn message(&mut self) -> RawMessage {
        let mut frames: Vec<RawFrame> = Vec::new();
        loop {
            let frame = self.frame().await;
            if matches!(frame.opcode, 0x9 | 0xa) {
                continue;
            }
            let fin = frame.fin;
            frames.push(frame);
            if fin {
                break;
            }
        }
        let compressed = frames[0].rsv1;
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload.clone()).collect();
        RawMessage {
            opcode: frames[0].opcode,
            compressed,
            payload: if compressed { inflate(&joined) } else { joined },
            frames,
        }
    }

    async fn json(&mut self) -> (Value, RawMessage) {
        let message = self.message().await;
        assert_eq!(message.opcode, 1, "a text message: {message:?}");
        let value = serde_json::from_slice(&message.payload).expect("JSON");
        (value, message)
    }

    /// Sends one masked frame.
    async fn send(&mut self, first: u8, payload: &[u8]) {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = vec![first];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        self.stream.write_all(&out).await.expect("sends");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_frames_inflate_to_what_a_plain_client_gets() {
    let server = start(|config| config.ws.publish_interval = Duration::from_millis(300)).await;
    let chains = server.chains().await;
    let channel = chains[0].as_str();

    let mut packed = RawWs::connect(
        &server,
        "/ws/live",
        Some("permessage-deflate; client_max_window_bits"),
    )
    .await;
    let accepted = packed
        .extensions
        .clone()
        .expect("the extension is accepted");
    assert!(
        accepted.contains("permessage-deflate")
            && accepted.contains("server_no_context_takeover")
            && accepted.contains("client_no_context_takeover"),
        "{accepted}"
    );
    let (welcome, raw) = packed.json().await;
    assert_eq!(welcome["type"], "welcome");
    assert!(!raw.compressed, "small control messages go plain");
    // The subscription itself goes compressed: the server inflates it.
    let request = json!({"action": "subscribe", "channels": [channel]}).to_string();
    packed.send(0xc1, &deflate(request.as_bytes())).await;

    let mut plain = open(&server, "/ws/live", &admin_token()).await;
    assert_eq!(subscribe(&mut plain, &[channel]).await["type"], "ack");

    let mut compressed = HashMap::new();
    let mut fragmented = false;
    let mut acked = false;
    while compressed.len() < 6 {
        let (value, raw) = packed.json().await;
        if value["type"] == "ack" {
            acked = true;
            continue;
        }
        assert_eq!(
            raw.compressed,
            raw.payload.len() >= 128,
            "data of 128 bytes or more goes compressed: {value}"
        );
        assert!(
            raw.frames[1..].iter().all(|f| !f.rsv1),
            "RSV1 on the first frame only"
        );
        fragmented |= raw.frames.len() > 1;
        let key = (value["seq"].as_u64(), value["prev_seq"].as_u64());
        compressed.insert(key, value);
    }
    assert!(acked, "the compressed subscribe was understood");
    assert!(
        fragmented,
        "a compressed snapshot larger than a fragment is split"
    );

    // The plain client got the same messages for the same publications.
    let mut matched = 0;
    for _ in 0..12 {
        let value = next_json(&mut plain).await;
        let key = (value["seq"].as_u64(), value["prev_seq"].as_u64());
        if let Some(same) = compressed.get(&key) {
            let strip = |v: &Value| {
                let mut v = v.clone();
                v.as_object_mut().map(|o| o.remove("server_ts_ms"));
                v
            };
            assert_eq!(strip(same), strip(&value), "seq {key:?}");
            matched += 1;
        }
    }
    assert!(matched > 0, "no publication seen by both clients");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_is_closed_with_1009_and_deflate_can_be_off() {
    let server = start(|_| {}).await;
    let mut client = RawWs::connect(&server, "/ws/live", Some("permessage-deflate")).await;
    assert!(client.extensions.is_some());
    let (welcome, _) = client.json().await;
    assert_eq!(welcome["type"], "welcome");
    // 16 MiB of one byte deflates to a few KB; the server's limit is 64 KiB.
    let bomb = deflate(&vec![b'['; 16 << 20]);
    assert!(bomb.len() < 64 << 10);
    client.send(0xc1, &bomb).await;
    let close = client.message().await;
    assert_eq!(close.opcode, 0x8, "a close frame: {close:?}");
    let code = u16::from_be_bytes([close.payload[0], close.payload[1]]);
    assert_eq!(code, 1009, "message too big");
    // A compressed message that is not deflate at all fails the connection (1007).
    let mut client = RawWs::connect(&server, "/ws/live", Some("permessage-deflate")).await;
    let (welcome, _) = client.json().await;
    assert_eq!(welcome["type"], "welcome");
    client.send(0xc1, b"\xff\xfe\xfd not deflate").await;
    let close = client.message().await;
    assert_eq!(close.opcode, 0x8, "a close frame: {close:?}");
    assert_eq!(
        u16::from_be_bytes([close.payload[0], close.payload[1]]),
        1007
    );
    server.stop().await;

    let server = start(|config| config.ws.deflate = false).await;
    let client = RawWs::connect(&server, "/ws/live", Some("permessage-deflate")).await;
    assert!(client.extensions.is_none(), "not offered when turned off");
    server.stop().await;
}
