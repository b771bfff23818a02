//! Requests answered before their body was read (a 401, 403 or 413 from a gate, a
//! handler that needs no body) must leave the connection either usable or clearly
//! closed.
//!
//! Left alone, hyper reads whatever of the body is already buffered and otherwise stops
//! reading and closes the connection after the answer, which may already have gone out
//! without `Connection: close`. A keep-alive client then sends its next request on a
//! connection the server is closing, and gets `IncompleteMessage`. Here the rest of an
//! unread body is read and discarded, up to [`DRAIN_BYTES`] and [`DRAIN_TIME`], before
//! the answer is sent, so the connection stays usable; a body larger than that, or
//! slower, gets `Connection: close` on the answer, so the client knows not to reuse it.

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

/// The most of an unread body read to keep its connection open: enough for any
/// request but an upload, little enough that a refused upload costs almost nothing.
pub const DRAIN_BYTES: u64 = 1 << 20;
/// The longest an answer waits for the rest of an unread body.
pub const DRAIN_TIME: Duration = Duration::from_secs(1);

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
        self.inner.as_ref().is_none_or(http_body::Body::is_end_stream)
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

/// Middleware (outermost): after the answer, reads what is left of an unread body, or
/// marks the answer `Connection: close` when that is too much.
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
    if response.headers().contains_key(header::CONNECTION) {
        // Already closing (a request past its deadline): nothing to keep.
        return response;
    }
    if !discard(unread).await {
        metrics::counter!("http_unread_bodies_closed_total").increment(1);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Reads and drops the rest of `body`; whether it ended within the bounds.
async fn discard(mut body: Body) -> bool {
    if http_body::Body::size_hint(&body).lower() > DRAIN_BYTES {
        return false;
    }
    let read = async {
        let mut total = 0u64;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(frame) = frame else { return false };
            if let Some(data) = frame.data_ref() {
                total += data.len() as u64;
                if total > DRAIN_BYTES {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIME, read)
        .await
        .unwrap_or(false)
}
