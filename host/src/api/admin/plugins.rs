//! Plugin administration (admin role): list, upload a new version, roll back, unload,
//! and inspect one plugin. Every action, allowed or refused, is audited (see
//! [`crate::api::admin::audit`]): each handler hands the audit what only it knows in an
//! [`AuditNote`].
//!
//! An upload goes through exactly the gates a file dropped in the plugin directory goes
//! through (contract check, self-test, output validation); a refused upload leaves the
//! active version serving. Uploaded versions live in memory: a restart serves what the
//! plugin directory holds.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use crate::api::AppState;
use crate::api::admin::audit::AuditNote;
use crate::api::error::{AppError, ErrorBody, ErrorCode};
use crate::api::extract::ApiPath;
use crate::plugins::artifacts::content_hash;
use crate::plugins::registry::LoadFailure;
use crate::plugins::{LoadReport, PluginDetail, PluginSource, PluginSummary};

/// Largest component accepted by upload.
pub const MAX_UPLOAD_BYTES: usize = crate::plugins::MAX_COMPONENT_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/plugins", get(list).post(upload))
        .route("/admin/plugins/{name}", get(detail).delete(unload))
        .route("/admin/plugins/{name}/rollback", post(rollback))
        .merge(crate::api::admin::audit::routes())
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AdminPluginList {
    #[schema(value_type = Vec<Object>)]
    pub plugins: Vec<PluginDetail>,
    #[schema(value_type = Vec<Object>)]
    pub refused: Vec<LoadFailure>,
}

/// Every plugin with its versions, state, limits, counters and recent errors.
#[utoipa::path(
    get,
    path = "/admin/plugins",
    tag = "plugins",
    responses(
        (status = 200, description = "All plugins", body = AdminPluginList),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Json<AdminPluginList> {
    let plugins = state
        .plugins
        .summaries()
        .iter()
        .filter_map(|summary| state.plugins.detail(&summary.name))
        .collect();
    Json(AdminPluginList {
        plugins,
        refused: state.plugins.registry().load_failures(),
    })
}

/// Upload a component (the raw `.wasm` bytes as the body). Answers with the validation
/// result: the new active version, or why it was refused.
#[utoipa::path(
    post,
    path = "/admin/plugins",
    tag = "plugins",
    request_body(content = Vec<u8>, content_type = "application/wasm",
                 description = "A WebAssembly component implementing one optionhub world"),
    responses(
        (status = 201, description = "Loaded and active", body = Object),
        (status = 200, description = "The same content was already active", body = Object),
        (status = 413, description = "Larger than 32 MiB", body = ErrorBody),
        (status = 422, description = "Refused: not a component, wrong contract, failed self-test…", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    body: Bytes,
) -> (
    Extension<AuditNote>,
    Result<(StatusCode, Json<LoadReport>), AppError>,
) {
    if body.is_empty() {
        let empty = AppError::BadRequest {
            code: ErrorCode::EmptyUpload,
            message: "send the component's bytes as the request body".into(),
        };
        return (Extension(AuditNote::default()), Err(empty));
    }
    let mut note = AuditNote {
        plugin: None,
        content_hash: Some(content_hash(&body)),
    };
    let result = state
        .plugins
        .blocking(move |host| host.load_bytes(&body, PluginSource::Upload))
        .await;
    let answer = match result {
        Ok(Ok(report)) => {
            note.plugin = Some(report.plugin.name.clone());
            let status = match report.activation {
                crate::plugins::Activation::AlreadyActive => StatusCode::OK,
                _ => StatusCode::CREATED,
            };
            Ok((status, Json(report)))
        }
        Ok(Err(error)) => Err(error.into()),
        Err(error) => Err(error.into()),
    };
    (Extension(note), answer)
}

/// One plugin: active version, previous versions, quarantined ones, limits, counters,
/// recent output and failures.
#[utoipa::path(
    get,
    path = "/admin/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "The plugin", body = Object),
        (status = 404, description = "No such plugin", body = ErrorBody),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PluginDetail>, AppError> {
    state
        .plugins
        .detail(&name)
        .map(Json)
        .ok_or_else(|| unknown_plugin(&state, &name))
}

/// Make the previous good version active again.
#[utoipa::path(
    post,
    path = "/admin/plugins/{name}/rollback",
    tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 200, description = "The version now active", body = Object),
        (status = 404, description = "No such plugin", body = ErrorBody),
        (status = 409, description = "No previous version to roll back to", body = ErrorBody),
    )
)]
pub async fn rollback(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> (Extension<AuditNote>, Result<Json<PluginSummary>, AppError>) {
    let result = state.plugins.rollback(&name);
    let note = AuditNote {
        plugin: None,
        content_hash: result.as_ref().ok().map(|summary| summary.hash.clone()),
    };
    (Extension(note), result.map(Json).map_err(AppError::from))
}

/// Unload a plugin (every version).
#[utoipa::path(
    delete,
    path = "/admin/plugins/{name}",
    tag = "plugins",
    params(("name" = String, Path, description = "Plugin name")),
    responses(
        (status = 204, description = "Unloaded"),
        (status = 404, description = "No such plugin", body = ErrorBody),
    )
)]
pub async fn unload(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> (Extension<AuditNote>, Result<StatusCode, AppError>) {
    let active_hash = state
        .plugins
        .summaries()
        .into_iter()
        .find(|summary| summary.name == name)
        .map(|summary| summary.hash);
    let result = state.plugins.unload(&name);
    let note = AuditNote {
        plugin: None,
        content_hash: active_hash.filter(|_| result.is_ok()),
    };
    (
        Extension(note),
        result
            .map(|()| StatusCode::NO_CONTENT)
            .map_err(AppError::from),
    )
}

fn unknown_plugin(state: &AppState, name: &str) -> AppError {
    let names: Vec<String> = state
        .plugins
        .summaries()
        .into_iter()
        .map(|s| s.name)
        .collect();
    AppError::NotFound {
        code: ErrorCode::PluginNotFound,
        message: format!("no plugin named {name:?}; loaded: {}", names.join(", ")),
    }
}
