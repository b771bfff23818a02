//! Logging error answers, once, at the boundary: every [`AppError`] answer carries an
//! [`ErrorReport`], and this middleware logs it inside the request's span (which names
//! the method, the path and the client), after the handler and every gate have run.
//! Server errors are logged as errors with their full detail (which the body may only
//! name); refusals of the caller's input are debug lines.
//!
//! [`AppError`]: crate::api::error::AppError

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::api::error::ErrorReport;

/// Logs the answer's [`ErrorReport`], if it has one.
pub async fn log(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(report) = response.extensions().get::<ErrorReport>() {
        let status = response.status();
        if status.is_server_error() {
            tracing::error!(%status, code = report.code.as_str(), detail = %report.detail, "request failed");
        } else {
            tracing::debug!(%status, code = report.code.as_str(), detail = %report.detail, "request refused");
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use crate::api::error::AppError;

    /// A log sink the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn failing() -> Result<(), AppError> {
        Err(AppError::Internal("the ledger is inconsistent".into()))
    }

    #[tokio::test]
    async fn a_server_error_is_logged_once_with_its_detail() {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/fail", get(failing))
            .layer(axum::middleware::from_fn(super::log));
        let request = axum::http::Request::get("/fail")
            .body(Body::empty())
            .unwrap_or_default();
        let response = app.oneshot(request).await;
        assert_eq!(
            response.map(|r| r.status().as_u16()).unwrap_or_default(),
            500
        );
        let text = captured
            .0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        assert_eq!(text.matches("request failed").count(), 1, "{text}");
        assert!(text.contains("the ledger is inconsistent"), "{text}");
        assert!(
            text.contains("code=\"internal\"") || text.contains("code=internal"),
            "{text}"
        );
    }
}
