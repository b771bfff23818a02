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
//!
//! One user may hold many connections (a load generator, fifty tabs): their lookups
//! share one answer for half a heartbeat ([`UserLookups`]), so the store sees about one
//! query per user per heartbeat rather than one per connection.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::state::WsState;
use auth::{Principal, Tier};
use store::{StoreError, User};

/// How long a session waits for the user store before going on without its answer.
const STORE_WAIT: Duration = Duration::from_secs(2);

/// Recent answers of the user store, shared by every session.
#[derive(Debug, Default)]
pub(super) struct UserLookups {
    recent: Mutex<Recent>,
}

#[derive(Debug, Default)]
struct Recent {
    users: HashMap<String, (Instant, Option<User>)>,
    pruned: Option<Instant>,
}

impl UserLookups {
    /// The user as the store has it (an answer at most half a heartbeat old); `Err`
    /// when the store does not answer in time.
    async fn get(&self, state: &WsState, name: &str) -> Result<Option<User>, StoreError> {
        let fresh_for = state.hub.config().heartbeat / 2;
        if let Some((at, user)) = self.recent.lock().users.get(name)
            && at.elapsed() < fresh_for
        {
            return Ok(user.clone());
        }
        let found = tokio::time::timeout(STORE_WAIT, state.store.users().get(name))
            .await
            .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)))?;
        let mut recent = self.recent.lock();
        // Stale answers go once per window, so memory follows the users still connected.
        if recent.pruned.is_none_or(|at| at.elapsed() >= fresh_for) {
            recent.users.retain(|_, (at, _)| at.elapsed() < fresh_for);
            recent.pruned = Some(Instant::now());
        }
        recent
            .users
            .insert(name.to_string(), (Instant::now(), found.clone()));
        Ok(found)
    }
}

/// Close code for a session whose access ended.
pub const ACCESS_REVOKED: u16 = 4001;

/// Why a session's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Revoked {
    TokenExpired,
    UserDeleted,
    UserDemoted,
}

impl Revoked {
    pub(super) fn reason(self) -> &'static str {
        match self {
            Revoked::TokenExpired => "token expired",
            Revoked::UserDeleted => "user deleted",
            Revoked::UserDemoted => "access reduced",
        }
    }
}

/// What the session is checked against.
#[derive(Debug)]
pub(super) struct Standing {
    expires_at: i64,
    /// Whether the user store knew the user (at the start or since).
    known: bool,
}

impl Standing {
    /// The standing of a session starting now with a token expiring at `expires_at`.
    pub(super) async fn at_start(state: &WsState, principal: &Principal, expires_at: i64) -> Self {
        let known = matches!(
            state.hub.user_lookups.get(state, &principal.user).await,
            Ok(Some(_))
        );
        Self { expires_at, known }
    }

    /// Checks again; `Some` when the session must close.
    pub(super) async fn check(
        &mut self,
        state: &WsState,
        principal: &Principal,
    ) -> Option<Revoked> {
        if state.tokens.has_expired(self.expires_at) {
            return Some(Revoked::TokenExpired);
        }
        match state.hub.user_lookups.get(state, &principal.user).await {
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
