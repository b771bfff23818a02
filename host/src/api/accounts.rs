//! `/accounts`: a user's trading accounts (name, broker, broker client id), which
//! strategies can be grouped by. An optional broker access token is sealed before it is
//! stored (see `portfolio::credentials`) and never returned: answers say only
//! `has_credentials`. Every route is scoped to the caller; another user's id is a 404.
//! A user holds at most the configured number of accounts (403 `quota_exceeded`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::ErrorBody;
use super::extract::{ApiJson, ApiPath};
use super::strategies::saved::{check_name, rfc3339};
use crate::api::error::{AppError, ErrorCode};
use crate::auth::Principal;
use crate::portfolio::CredentialSealer;
use crate::store::accounts::{AccountRow, NewAccount};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{id}", get(detail).delete(remove))
}

#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(create, list, detail, remove),
    components(schemas(CreateAccount, Broker, AccountResponse, ErrorBody))
)]
pub struct AccountsApi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Broker {
    Dhan,
}

/// A new trading account.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// 1 to 100 characters, not all blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    pub broker: Broker,
    /// The client id at the broker: 1 to 64 letters, digits, `-` or `_`.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub broker_client_id: String,
    /// The broker access token, if the server should hold it; stored only encrypted and
    /// never returned.
    #[serde(default)]
    pub access_token: Option<String>,
}

impl std::fmt::Debug for CreateAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateAccount")
            .field("name", &self.name)
            .field("broker", &self.broker)
            .field("broker_client_id", &self.broker_client_id)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    pub id: i64,
    pub name: String,
    pub broker: Broker,
    pub broker_client_id: String,
    /// Whether a broker access token is held (sealed); the token itself is never shown.
    pub has_credentials: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

fn response(row: AccountRow) -> AccountResponse {
    AccountResponse {
        id: row.id,
        name: row.name,
        broker: Broker::Dhan,
        broker_client_id: row.broker_client_id,
        has_credentials: row.credentials_sealed.is_some(),
        created_at: rfc3339(row.created_at_ms),
    }
}

fn no_account(id: i64) -> AppError {
    AppError::NotFound {
        code: ErrorCode::AccountNotFound,
        message: format!("you have no account {id}"),
    }
}

/// Creates a trading account.
#[utoipa::path(
    post,
    path = "/accounts",
    tag = "accounts",
    request_body(content = CreateAccount, content_type = "application/json"),
    responses(
        (status = 201, description = "Created (and committed)", body = AccountResponse),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 403, description = "`quota_exceeded`: the caller already holds as many accounts as allowed (10 by default); nothing was created", body = ErrorBody),
        (status = 422, description = "A missing or invalid field", body = ErrorBody),
        (status = 503, description = "Credentials given but no key to seal them", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiJson(body): ApiJson<CreateAccount>,
) -> Result<(StatusCode, Json<AccountResponse>), AppError> {
    let name = check_name("name", &body.name)?;
    // As documented: the id as sent, nothing trimmed.
    let client_id = body.broker_client_id.as_str();
    if client_id.is_empty()
        || client_id.len() > 64
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::Unprocessable {
            code: ErrorCode::InvalidAccount,
            message: "broker_client_id must be 1 to 64 letters, digits, '-' or '_'".into(),
        });
    }
    let token = body
        .access_token
        .as_deref()
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let sealer = match token {
        Some(_) => Some(state.sealer.as_ref().ok_or_else(|| {
            AppError::Unavailable {
                code: ErrorCode::CredentialsUnavailable,
                message: "this server has no key to encrypt broker credentials \
                      (OPTIONHUB_CREDENTIALS_KEY); create the account without access_token"
                    .into(),
            }
        })?),
        None => None,
    };
    let mut row = state
        .store
        .accounts()
        .add_within_quota(
            NewAccount {
                owner: &caller.user,
                name: &name,
                broker: "dhan",
                broker_client_id: client_id,
                credentials_sealed: None,
            },
            state.settings.quotas.accounts,
        )
        .await?;
    if let (Some(token), Some(sealer)) = (token, sealer) {
        row.credentials_sealed =
            Some(seal_onto(&state, &caller.user, row.id, sealer, token).await?);
    }
    Ok((StatusCode::CREATED, Json(response(row))))
}

/// Seals `token` for the new account `id` (the id is bound in, so it is known only once
/// the row exists) and stores it there. Should that fail, the account goes too: the
/// caller asked for an account with credentials, not one without.
async fn seal_onto(
    state: &AppState,
    owner: &str,
    id: i64,
    sealer: &CredentialSealer,
    token: &str,
) -> Result<String, AppError> {
    let accounts = state.store.accounts();
    let stored = match sealer.seal(owner, id, token) {
        Ok(sealed) => accounts
            .set_credentials(owner, id, &sealed)
            .await
            .map(|_| sealed)
            .map_err(AppError::from),
        Err(error) => Err(AppError::Internal(error.to_string())),
    };
    if stored.is_err()
        && let Err(cleanup) = accounts.delete(owner, id).await
    {
        tracing::warn!(account = id, error = %cleanup, "cannot remove an account whose credentials were not stored");
    }
    stored
}

/// The caller's accounts.
#[utoipa::path(
    get,
    path = "/accounts",
    tag = "accounts",
    responses((status = 200, description = "The caller's accounts, oldest first", body = [AccountResponse]))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
) -> Result<Json<Vec<AccountResponse>>, AppError> {
    let rows = state.store.accounts().list(&caller.user).await?;
    Ok(Json(rows.into_iter().map(response).collect()))
}

/// One of the caller's accounts.
#[utoipa::path(
    get,
    path = "/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = AccountResponse),
        (status = 404, description = "The caller has no such account", body = ErrorBody),
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AccountResponse>, AppError> {
    let row = state.store.accounts().get(&caller.user, id).await?;
    row.map(|r| Json(response(r))).ok_or_else(|| no_account(id))
}

/// Deletes an account; its strategies stay, ungrouped.
#[utoipa::path(
    delete,
    path = "/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    responses(
        (status = 204, description = "Deleted (and committed)"),
        (status = 404, description = "The caller has no such account", body = ErrorBody),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    if state.store.accounts().delete(&caller.user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_account(id))
    }
}
