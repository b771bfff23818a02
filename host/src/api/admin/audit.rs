//! The admin audit: every admin action (a plugin upload, rollback or unload), allowed or
//! refused, becomes one structured log line (target `optionhub::audit`) and one row of
//! the database's audit table, which keeps the newest 1,000 and is listed at
//! `GET /admin/audit`.
//!
//! [`record`] sits outside the admin gate, so it also sees what the gate refuses (no
//! token, a bad token, a non-admin, a spent budget). Who: the token's user, or
//! `anonymous` / `invalid-token`. From where: the client's address. What: the action and
//! the plugin it names. The content hash: the SHA-256 of the component the handler
//! uploaded, rolled back to or unloaded, which the handler hands over in an
//! [`AuditNote`]; a request refused at the gate never has its body read, so it has none.
//! Reads (`GET`) are not actions and are not recorded.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use crate::api::AppState;
use crate::api::access::bearer_token;
use crate::api::client_address;
use crate::api::error::{AppError, ErrorBody};
use crate::store::audit::{AuditEntry, KEPT, NewAuditEntry};

/// What a handler knows about its action that the request does not say: the plugin
/// (for an upload) and the content hash. Put in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct AuditNote {
    pub plugin: Option<String>,
    pub content_hash: Option<String>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(list))
}

/// The kept admin actions.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditLog {
    /// How many actions are kept at most (older ones are dropped).
    pub kept: usize,
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// The newest admin actions (plugin uploads, rollbacks, unloads), allowed or refused.
#[utoipa::path(
    get,
    path = "/admin/audit",
    tag = "plugins",
    responses(
        (status = 200, description = "The kept actions, newest first", body = AuditLog),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<AuditLog>, AppError> {
    Ok(Json(AuditLog {
        kept: KEPT,
        entries: state.store.audit().recent().await?,
    }))
}

/// The admin action a request asks for, and the plugin its path names.
fn action_of(method: &Method, path: &str) -> Option<(&'static str, Option<String>)> {
    let rest = path.strip_prefix("/admin/plugins")?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match (method, segments.as_slice()) {
        (&Method::POST, []) => Some(("plugin.upload", None)),
        (&Method::DELETE, [name]) => Some(("plugin.unload", Some((*name).to_string()))),
        (&Method::POST, [name, "rollback"]) => Some(("plugin.rollback", Some((*name).to_string()))),
        _ => None,
    }
}

/// Who is asking, as far as the token says; the gate decides what they may do.
fn actor_of(state: &AppState, token: Option<&str>) -> String {
    match token.map(|token| state.tokens.verify(token)) {
        None => "anonymous".into(),
        Some(Ok(principal)) => principal.user,
        Some(Err(_)) => "invalid-token".into(),
    }
}

/// Middleware around the admin routes (outside their gate): logs and stores each action.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some((action, named)) = action_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let actor = actor_of(&state, bearer_token(request.headers()));
    let address = client_address::of(&request);
    let response = next.run(request).await;
    let note = response
        .extensions()
        .get::<AuditNote>()
        .cloned()
        .unwrap_or_default();
    let target = named.or(note.plugin);
    let status = response.status();
    let allowed = status.is_success();
    tracing::info!(
        target: "optionhub::audit",
        actor,
        address,
        action,
        plugin = target.as_deref(),
        content_hash = note.content_hash.as_deref(),
        outcome = if allowed { "allowed" } else { "refused" },
        status = status.as_u16(),
        "admin action"
    );
    let entry = NewAuditEntry {
        actor: &actor,
        address: &address,
        action,
        target: target.as_deref(),
        content_hash: note.content_hash.as_deref(),
        allowed,
        status: status.as_u16(),
    };
    // The action is done and logged either way; a database that cannot take the row
    // must not turn its answer into an error.
    if let Err(error) = state.store.audit().record(&entry).await {
        tracing::warn!(%error, action, "cannot store the admin audit entry");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_from_method_and_path() {
        assert_eq!(
            action_of(&Method::POST, "/admin/plugins"),
            Some(("plugin.upload", None))
        );
        assert_eq!(
            action_of(&Method::DELETE, "/admin/plugins/probe"),
            Some(("plugin.unload", Some("probe".into())))
        );
        assert_eq!(
            action_of(&Method::POST, "/admin/plugins/probe/rollback"),
            Some(("plugin.rollback", Some("probe".into())))
        );
        assert_eq!(action_of(&Method::GET, "/admin/plugins"), None);
        assert_eq!(action_of(&Method::GET, "/admin/audit"), None);
    }
}
