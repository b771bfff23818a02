//! Why Dhan closed the feed, and what the client should do about it (reference
//! `dhanhq.md` §7.2, §10 items 1–2). A code-50 packet carries a Data-API code; the
//! reconnect loop asks [`DisconnectReason::policy`] rather than matching numbers, so the
//! policy lives in one place.

use std::fmt;

/// A Data-API / WebSocket disconnect code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// 800.
    InternalServerError,
    /// 804: the requested number of instruments exceeds the limit.
    InstrumentLimitExceeded,
    /// 805: too many requests or connections (also sent to the oldest socket when a
    /// sixth one opens).
    TooManyRequestsOrConnections,
    /// 806: the account has no Data API subscription.
    DataApiNotSubscribed,
    /// 807.
    AccessTokenExpired,
    /// 808: client id or access token rejected.
    AuthenticationFailed,
    /// 809.
    AccessTokenInvalid,
    /// 810.
    ClientIdInvalid,
    /// 811.
    InvalidExpiryDate,
    /// 812.
    InvalidDateFormat,
    /// 813.
    InvalidSecurityId,
    /// 814.
    InvalidRequest,
    /// A code this build does not know, kept verbatim. [`DisconnectReason::from_code`]
    /// never wraps a known code in it.
    Other(u16),
}

/// What the feed client does after a disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReconnectPolicy {
    /// Reconnect with the usual backoff.
    Retry,
    /// Reconnect only after a long backoff: Dhan is counting our sockets or requests,
    /// and another process may be holding sockets on the same account.
    BackOffHard,
    /// Reconnect with a smaller subscription set; the same set would fail again.
    ShrinkSubscriptions,
    /// Stop and alert a human: the credentials or the plan are wrong, and optionhub
    /// cannot mint a new access token by itself.
    StopAuthFailure,
}

impl DisconnectReason {
    /// Every known reason, in code order.
    pub const KNOWN: [Self; 12] = [
        Self::InternalServerError,
        Self::InstrumentLimitExceeded,
        Self::TooManyRequestsOrConnections,
        Self::DataApiNotSubscribed,
        Self::AccessTokenExpired,
        Self::AuthenticationFailed,
        Self::AccessTokenInvalid,
        Self::ClientIdInvalid,
        Self::InvalidExpiryDate,
        Self::InvalidDateFormat,
        Self::InvalidSecurityId,
        Self::InvalidRequest,
    ];

    pub const fn from_code(code: u16) -> Self {
        match code {
            800 => Self::InternalServerError,
            804 => Self::InstrumentLimitExceeded,
            805 => Self::TooManyRequestsOrConnections,
            806 => Self::DataApiNotSubscribed,
            807 => Self::AccessTokenExpired,
            808 => Self::AuthenticationFailed,
            809 => Self::AccessTokenInvalid,
            810 => Self::ClientIdInvalid,
            811 => Self::InvalidExpiryDate,
            812 => Self::InvalidDateFormat,
            813 => Self::InvalidSecurityId,
            814 => Self::InvalidRequest,
            other => Self::Other(other),
        }
    }

    pub const fn code(self) -> u16 {
        match self {
            Self::InternalServerError => 800,
            Self::InstrumentLimitExceeded => 804,
            Self::TooManyRequestsOrConnections => 805,
            Self::DataApiNotSubscribed => 806,
            Self::AccessTokenExpired => 807,
            Self::AuthenticationFailed => 808,
            Self::AccessTokenInvalid => 809,
            Self::ClientIdInvalid => 810,
            Self::InvalidExpiryDate => 811,
            Self::InvalidDateFormat => 812,
            Self::InvalidSecurityId => 813,
            Self::InvalidRequest => 814,
            Self::Other(code) => code,
        }
    }

    /// Dhan's meaning of the code, for logs and the status endpoint.
    pub const fn description(self) -> &'static str {
        match self {
            Self::InternalServerError => "internal server error",
            Self::InstrumentLimitExceeded => "requested number of instruments exceeds limit",
            Self::TooManyRequestsOrConnections => {
                "too many requests or connections; further requests may get the user blocked"
            }
            Self::DataApiNotSubscribed => "Data APIs not subscribed",
            Self::AccessTokenExpired => "access token expired",
            Self::AuthenticationFailed => "authentication failed: client id or token invalid",
            Self::AccessTokenInvalid => "access token invalid",
            Self::ClientIdInvalid => "client id invalid",
            Self::InvalidExpiryDate => "invalid expiry date",
            Self::InvalidDateFormat => "invalid date format",
            Self::InvalidSecurityId => "invalid SecurityId",
            Self::InvalidRequest => "invalid request",
            Self::Other(_) => "unknown disconnect code",
        }
    }

    /// The reference's suggested policy, adapted to a server that cannot refresh its
    /// own token: an expired or invalid token needs a human as much as a bad client id.
    pub const fn policy(self) -> ReconnectPolicy {
        match self {
            Self::AccessTokenExpired
            | Self::AccessTokenInvalid
            | Self::DataApiNotSubscribed
            | Self::AuthenticationFailed
            | Self::ClientIdInvalid => ReconnectPolicy::StopAuthFailure,
            Self::TooManyRequestsOrConnections => ReconnectPolicy::BackOffHard,
            // A rejected security id is in the subscription set: resending the same set
            // would be rejected again.
            Self::InstrumentLimitExceeded | Self::InvalidSecurityId => {
                ReconnectPolicy::ShrinkSubscriptions
            }
            // 811/812 belong to REST date parameters and 814 to a malformed request;
            // none says the subscription set or the credentials are wrong.
            Self::InternalServerError
            | Self::InvalidExpiryDate
            | Self::InvalidDateFormat
            | Self::InvalidRequest
            | Self::Other(_) => ReconnectPolicy::Retry,
        }
    }
}

impl From<u16> for DisconnectReason {
    fn from(code: u16) -> Self {
        Self::from_code(code)
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::{DisconnectReason as R, ReconnectPolicy as P};

    /// The reference's table (§7.2), restated here so a typo in the enum shows up.
    const TABLE: [(u16, R, P); 12] = [
        (800, R::InternalServerError, P::Retry),
        (804, R::InstrumentLimitExceeded, P::ShrinkSubscriptions),
        (805, R::TooManyRequestsOrConnections, P::BackOffHard),
        (806, R::DataApiNotSubscribed, P::StopAuthFailure),
        (807, R::AccessTokenExpired, P::StopAuthFailure),
        (808, R::AuthenticationFailed, P::StopAuthFailure),
        (809, R::AccessTokenInvalid, P::StopAuthFailure),
        (810, R::ClientIdInvalid, P::StopAuthFailure),
        (811, R::InvalidExpiryDate, P::Retry),
        (812, R::InvalidDateFormat, P::Retry),
        (813, R::InvalidSecurityId, P::ShrinkSubscriptions),
        (814, R::InvalidRequest, P::Retry),
    ];

    #[test]
    fn every_known_code_maps_both_ways_with_its_policy() {
        for (code, reason, policy) in TABLE {
            assert_eq!(R::from_code(code), reason, "{code}");
            assert_eq!(reason.code(), code);
            assert_eq!(reason.policy(), policy, "{code}");
            assert_eq!(R::from(code), reason);
        }
        assert_eq!(R::KNOWN.to_vec(), TABLE.map(|(_, r, _)| r).to_vec());
    }

    #[test]
    fn descriptions_are_distinct_and_displayed_with_the_code() {
        let mut seen: Vec<&str> = R::KNOWN.iter().map(|r| r.description()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), R::KNOWN.len());
        assert_eq!(
            R::AccessTokenExpired.to_string(),
            "access token expired (807)"
        );
        assert!(
            R::TooManyRequestsOrConnections
                .description()
                .contains("connections")
        );
    }

    #[test]
    fn unknown_codes_are_kept_and_retried() {
        for code in [0, 1, 801, 802, 803, 815, 999, u16::MAX] {
            let reason = R::from_code(code);
            assert_eq!(reason, R::Other(code));
            assert_eq!(reason.code(), code);
            assert_eq!(reason.policy(), P::Retry);
            assert_eq!(
                reason.to_string(),
                format!("unknown disconnect code ({code})")
            );
        }
    }
}
