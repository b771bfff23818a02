//! Every request has a deadline: a caller that trickles its body, or a handler stuck
//! behind a slow dependency, gets a 503 `request_timeout` with the JSON error instead
//! of holding a connection and a task open for as long as it likes. Plugin uploads (up
//! to 32 MiB) get a longer deadline than the rest.
//!
//! The deadline covers reading the body and running the handler; a WebSocket upgrade
//! answers at once, and the session that follows is not a request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::error::{AppError, ErrorCode};

/// The two deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub request: Duration,
    pub upload: Duration,
}

impl Deadlines {
    /// The deadline of `request`: uploads are `POST /admin/plugins`.
    fn of(&self, request: &Request) -> Duration {
        if request.method() == Method::POST && request.uri().path() == "/admin/plugins" {
            self.upload
        } else {
            self.request
        }
    }
}

/// Middleware: answers 503 `request_timeout` when the deadline passes first.
pub async fn enforce(
    State(deadlines): State<Arc<Deadlines>>,
    request: Request,
    next: Next,
) -> Response {
    let deadline = deadlines.of(&request);
    let path = request.uri().path().to_string();
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            metrics::counter!("http_request_timeouts_total").increment(1);
            let mut response = AppError::Unavailable {
                code: ErrorCode::RequestTimeout,
                message: format!(
                    "{path} was not answered within {} s (the body arrived too slowly, or the \
                     server is overloaded); retry",
                    deadline.as_secs_f64()
                ),
            }
            .into_response();
            // Whatever of the body is still coming is not worth waiting for.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    #[test]
    fn uploads_get_the_longer_deadline() {
        let deadlines = Deadlines {
            request: Duration::from_secs(30),
            upload: Duration::from_secs(120),
        };
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap()
        };
        let upload = request(Method::POST, "/admin/plugins");
        assert_eq!(deadlines.of(&upload), deadlines.upload);
        for other in [
            request(Method::GET, "/admin/plugins"),
            request(Method::POST, "/admin/plugins/probe/rollback"),
            request(Method::POST, "/auth/login"),
        ] {
            assert_eq!(deadlines.of(&other), deadlines.request);
        }
    }
}
