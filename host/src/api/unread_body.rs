//! Requests answered before their body was read (a 401, 403 or 413 from a gate, a
//! handler that needs no body, a request past its deadline) must leave the connection
//! either usable or clearly closed.
//!
//! Left alone, hyper reads whatever of the body is already buffered and otherwise stops
//! reading and closes the connection after the answer, which may already have gone out
//! without `Connection: close`. A keep-alive client then sends its next request on a
//! connection the server is closing and gets `IncompleteMessage`; a client still
//! sending a large body gets a broken pipe instead of the answer.
//!
//! Here an unread body is read to its end and discarded in the background while the
//! answer goes out (hyper writes the answer and reads the body at the same time, and
//! takes the next request only after the body's end). A body of at most
//! [`KEEP_ALIVE_BYTES`] leaves the connection open for the next request. A larger one,
//! or one of unknown length, gets `Connection: close` on the answer; it is still read
//! (up to [`LINGER_BYTES`]) so the client can finish sending and read the answer, as
//! web servers' "lingering close" does. Reading stops after [`LINGER_TIME`] in any case.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as _, Frame, SizeHint};
use tokio::sync::oneshot;

/// Unread bodies up to this size leave their connection open for the next request:
/// enough for any request but an upload.
pub const KEEP_ALIVE_BYTES: u64 = 1 << 20;
/// The most of an unread body read and discarded (beyond the 32 MiB upload cap).
pub const LINGER_BYTES: u64 = 40 << 20;
/// The longest an unread body is read for.
pub const LINGER_TIME: Duration = Duration::from_secs(5);

/// A request body that, dropped before its end, hands itself back to [`drain`].
struct Tracked {
    inner: Option<Body>,
    back: Option<oneshot::Sender<Body>>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            // Read to its end (or broken): nothing to hand back.
            self.back = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let (Some(back), Some(inner)) = (self.back.take(), self.inner.take())
            && !http_body::Body::is_end_stream(&inner)
        {
            let _ = back.send(inner);
        }
    }
}

/// Middleware (around every route): after the answer, reads and discards what is left of an
/// unread body, and marks the answer `Connection: close` when that is too much to keep
/// the connection for.
pub async fn drain(request: Request, next: Next) -> Response {
    if http_body::Body::is_end_stream(request.body()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let (back, mut returned) = oneshot::channel();
    let tracked = Body::new(Tracked {
        inner: Some(body),
        back: Some(back),
    });
    let mut response = next.run(Request::from_parts(parts, tracked)).await;
    // Empty: the body is still held (by a streaming answer); closed: it was read.
    let Ok(unread) = returned.try_recv() else {
        return response;
    };
    let small = unread
        .size_hint()
        .upper()
        .is_some_and(|remaining| remaining <= KEEP_ALIVE_BYTES);
    if !small {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    tokio::spawn(discard(unread));
    response
}

/// Reads and drops the rest of `body`, within the bounds.
async fn discard(mut body: Body) {
    let read = async {
        let mut total = 0u64;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                total += data.len() as u64;
                if total > LINGER_BYTES {
                    return false;
                }
            }
        }
        true
    };
    let finished = tokio::time::timeout(LINGER_TIME, read)
        .await
        .unwrap_or(false);
    if !finished {
        // Dropping the body makes hyper close the connection.
        metrics::counter!("http_unread_bodies_abandoned_total").increment(1);
    }
}
