//! A session's right to stay open. The upgrade checked the token once; a session may
//! last days. At every heartbeat the session is checked again, and closed with 4001 when
//! its token has expired, or when its user, present in the user store when the session
//! began, has been deleted or demoted (a lower role, or pro to free). The client then
//! reconnects with a fresh token and gets what its user is allowed now.
//!
//! Tokens may come from an issuer outside the server (RS256 with only the public key),
//! for users the store does not know: for those only the expiry is checked. A store
//! that cannot answer (within [`STORE_WAIT`]) closes nothing; the next heartbeat asks
//! again. Market data keeps flowing while the database is away.

use std::time::Duration;

use crate::api::AppState;
use crate::auth::{Principal, Tier};
use crate::store::{StoreError, User};

/// How long a session waits for the user store before going on without its answer.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// The user as the store has it now; `Err` when the store does not answer in time.
async fn stored_user(state: &AppState, name: &str) -> Result<Option<User>, StoreError> {
    tokio::time::timeout(STORE_WAIT, state.store.users().get(name))
        .await
        .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)))
}

/// Close code for a session whose access ended.
pub const ACCESS_REVOKED: u16 = 4001;

/// Why a session's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    TokenExpired,
    UserDeleted,
    UserDemoted,
}

impl Revoked {
    pub fn reason(self) -> &'static str {
        match self {
            Revoked::TokenExpired => "token expired",
            Revoked::UserDeleted => "user deleted",
            Revoked::UserDemoted => "access reduced",
        }
    }
}

/// What the session is checked against.
#[derive(Debug)]
pub struct Standing {
    expires_at: i64,
    /// Whether the user store knew the user (at the start or since).
    known: bool,
}

impl Standing {
    /// The standing of a session starting now with a token expiring at `expires_at`.
    pub async fn at_start(state: &AppState, principal: &Principal, expires_at: i64) -> Self {
        let known = matches!(stored_user(state, &principal.user).await, Ok(Some(_)));
        Self { expires_at, known }
    }

    /// Checks again; `Some` when the session must close.
    pub async fn check(&mut self, state: &AppState, principal: &Principal) -> Option<Revoked> {
        if state.tokens.has_expired(self.expires_at) {
            return Some(Revoked::TokenExpired);
        }
        match stored_user(state, &principal.user).await {
            Ok(Some(user)) => {
                self.known = true;
                let demoted = user.role < principal.role
                    || (principal.tier == Tier::Pro && user.tier == Tier::Free);
                demoted.then_some(Revoked::UserDemoted)
            }
            Ok(None) if self.known => Some(Revoked::UserDeleted),
            Ok(None) => None,
            Err(error) => {
                tracing::debug!(%error, user = %principal.user, "cannot recheck a websocket session");
                None
            }
        }
    }
}
