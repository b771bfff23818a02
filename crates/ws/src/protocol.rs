//! The JSON protocol shared by both WebSocket routes: what a client may send (subscribe,
//! unsubscribe, ping) and the control replies the server sends back (welcome, ack,
//! error, pong). Data messages (snapshot, update) are built once per channel by the
//! publisher ([`super::frame`]), not here.
//!
//! A request that is not JSON, or JSON that is not a request, is answered with an error
//! message; the connection stays open.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use auth::Tier;
use edge::error::ErrorCode;

/// The most channel names one subscribe or unsubscribe may carry. Every name is parsed
/// and resolved, and strategy names cost a database read, before the tier's cap can
/// refuse the request; this bounds that work per message, whatever the cap.
pub const MAX_CHANNELS_PER_REQUEST: usize = 100;

/// One client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Subscribe { channels: Vec<String> },
    Unsubscribe { channels: Vec<String> },
    Ping,
}

/// A request with the client's optional `id`, echoed in the reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub request: Request,
    pub id: Option<Value>,
}

/// A request that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestError {
    pub code: ErrorCode,
    pub message: String,
    pub id: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Raw {
    action: Option<String>,
    channels: Option<Vec<String>>,
    id: Option<Value>,
}

/// Reads one text message from the client.
pub fn parse_request(text: &str) -> Result<Envelope, RequestError> {
    let value: Value = serde_json::from_str(text).map_err(|error| RequestError {
        code: ErrorCode::InvalidJson,
        message: format!(
            "not JSON ({error}); send e.g. {{\"action\":\"subscribe\",\"channels\":[\"NIFTY:2026-11-25\"]}}"
        ),
        id: None,
    })?;
    let id = value.get("id").cloned();
    let raw: Raw = serde_json::from_value(value).map_err(|error| RequestError {
        code: ErrorCode::InvalidRequest,
        message: format!("not a request: {error}"),
        id: id.clone(),
    })?;
    let channels = |action: &str| {
        let channels = raw
            .channels
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| RequestError {
                code: ErrorCode::InvalidRequest,
                message: format!("{action} needs a non-empty \"channels\" array"),
                id: raw.id.clone(),
            })?;
        if channels.len() > MAX_CHANNELS_PER_REQUEST {
            return Err(RequestError {
                code: ErrorCode::TooManyNames,
                message: format!(
                    "{action} names {} channels; one request may name at most \
                     {MAX_CHANNELS_PER_REQUEST} (send several)",
                    channels.len()
                ),
                id: raw.id.clone(),
            });
        }
        Ok(channels)
    };
    let request = match raw.action.as_deref() {
        Some("subscribe") => Request::Subscribe {
            channels: channels("subscribe")?,
        },
        Some("unsubscribe") => Request::Unsubscribe {
            channels: channels("unsubscribe")?,
        },
        Some("ping") => Request::Ping,
        other => {
            return Err(RequestError {
                code: ErrorCode::UnknownAction,
                message: format!(
                    "unknown action {other:?}; valid actions: subscribe, unsubscribe, ping"
                ),
                id: raw.id,
            });
        }
    };
    Ok(Envelope {
        request,
        id: raw.id,
    })
}

/// A control message from the server.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Reply<'a> {
    /// First message of every connection: who you are and the rules.
    Welcome {
        endpoint: &'a str,
        user: &'a str,
        tier: Tier,
        max_channels: usize,
        heartbeat_ms: u64,
        publish_interval_ms: u64,
    },
    /// A subscribe or unsubscribe was carried out for these channels.
    Ack {
        action: &'static str,
        channels: &'a [Arc<str>],
        /// Channels held after the request.
        subscribed: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
    },
    Error {
        code: ErrorCode,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
    },
    Pong {
        server_ts_ms: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
    },
}

impl Reply<'_> {
    /// The message's text.
    pub(super) fn encode(&self) -> Vec<u8> {
        // Serialising these plain structs cannot fail; an empty object is a safe fallback.
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

/// Milliseconds since the epoch, for `server_ts_ms`.
pub(super) fn now_ms() -> i64 {
    dhan::event::now_ns() / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_actions_and_echoes_ids() {
        let sub = parse_request(r#"{"action":"subscribe","channels":["NIFTY:2026-11-25"],"id":7}"#)
            .unwrap();
        assert_eq!(
            sub.request,
            Request::Subscribe {
                channels: vec!["NIFTY:2026-11-25".into()]
            }
        );
        assert_eq!(sub.id, Some(Value::from(7)));
        let unsub = parse_request(r#"{"action":"unsubscribe","channels":["a","b"]}"#).unwrap();
        assert_eq!(
            unsub.request,
            Request::Unsubscribe {
                channels: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(
            parse_request(r#"{"action":"ping"}"#).unwrap().request,
            Request::Ping
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(
            parse_request("{nope").unwrap_err().code,
            ErrorCode::InvalidJson
        );
        assert_eq!(
            parse_request("[1,2]").unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        let unknown = parse_request(r#"{"action":"dance","id":"x"}"#).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::UnknownAction);
        assert_eq!(unknown.id, Some(Value::from("x")));
        assert!(unknown.message.contains("subscribe, unsubscribe, ping"));
        let empty = parse_request(r#"{"action":"subscribe","channels":[]}"#).unwrap_err();
        assert_eq!(empty.code, ErrorCode::InvalidRequest);
        let wrong_type = parse_request(r#"{"action":"subscribe","channels":"NIFTY"}"#);
        assert_eq!(wrong_type.unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_request_names_at_most_the_cap() {
        let names =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("instrument:{i}")).collect() };
        let at_cap =
            serde_json::json!({"action": "subscribe", "channels": names(MAX_CHANNELS_PER_REQUEST)});
        assert!(parse_request(&at_cap.to_string()).is_ok());
        let over = serde_json::json!({"action": "unsubscribe", "channels": names(MAX_CHANNELS_PER_REQUEST + 1), "id": 3});
        let refused = parse_request(&over.to_string()).unwrap_err();
        assert_eq!(refused.code, ErrorCode::TooManyNames);
        assert_eq!(refused.id, Some(Value::from(3)));
    }

    #[test]
    fn replies_are_tagged_json() {
        let channels: Vec<Arc<str>> = vec!["NIFTY:2026-11-25".into()];
        let ack = Reply::Ack {
            action: "subscribe",
            channels: &channels,
            subscribed: 1,
            id: None,
        }
        .encode();
        let value: Value = serde_json::from_slice(&ack).unwrap();
        assert_eq!(value["type"], "ack");
        assert_eq!(value["channels"][0], "NIFTY:2026-11-25");
        assert!(value.get("id").is_none());
    }
}
