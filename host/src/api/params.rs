//! Request parameters shared by the analytics routes: extractor rejections turned into
//! the API's JSON error shape, counts and ids parsed with messages that name the
//! parameter and its valid range, chains and contracts resolved against the registry.
//!
//! Parsing here is also normalisation: what comes out (a canonical underlying name, a
//! parsed date, a number with its default filled in) is what cache keys are built from,
//! so `strikes=010`, `strikes=10` and no `strikes` at all share one cache entry.

use super::AppState;
use super::market::live::{find_expiry, find_underlying};
use crate::api::error::{AppError, ErrorCode};

use crate::market::ChainId;

/// A whole number parameter in `0..=max` (or `1..=max` when `min` is 1); absent or
/// empty means `default`.
pub fn count(
    name: &'static str,
    text: Option<&str>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(default);
    };
    text.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::InvalidParameter,
            message: format!(
                "`{name}` must be a whole number from {min} to {max} (default {default}), got {text:?}"
            ),
        })
}

/// A security id: a positive whole number.
pub fn security_id(text: Option<&str>) -> Result<u32, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(AppError::BadRequest {
            code: ErrorCode::MissingSecurityId,
            message: "query parameter `security_id` is required (a contract's security id, \
                      as listed by /api/v2/options/live)"
                .into(),
        });
    };
    text.parse::<u32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::BadRequest {
            code: ErrorCode::InvalidSecurityId,
            message: format!("`security_id` must be a positive whole number, got {text:?}"),
        })
}

/// The chain named by `underlying` (any case or alias) and `expiry` (YYYY-MM-DD).
pub fn chain_id(
    state: &AppState,
    underlying: Option<&str>,
    expiry: Option<&str>,
) -> Result<ChainId, AppError> {
    let info = find_underlying(state, underlying)?;
    let expiry = find_expiry(info, expiry, super::market::live::live_from(state))?;
    Ok(ChainId {
        underlying: info.name.clone(),
        expiry: expiry.expiry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<u32, AppError>) -> ErrorCode {
        match result {
            Err(AppError::BadRequest { code, .. }) => code,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn counts_are_normalised_with_defaults() {
        assert_eq!(count("strikes", None, 10, 0, 100).ok(), Some(10));
        assert_eq!(count("strikes", Some(""), 10, 0, 100).ok(), Some(10));
        assert_eq!(count("strikes", Some(" 010 "), 10, 0, 100).ok(), Some(10));
        assert_eq!(count("strikes", Some("0"), 10, 0, 100).ok(), Some(0));
        assert_eq!(count("strikes", Some("100"), 10, 0, 100).ok(), Some(100));
    }

    #[test]
    fn bad_counts_are_400s_naming_the_range() {
        for bad in ["abc", "-1", "101", "1.5", "1e2", "NaN", "99999999999"] {
            let result = count("strikes", Some(bad), 10, 0, 100);
            let message = match &result {
                Err(AppError::BadRequest { message, .. }) => message.clone(),
                _ => String::new(),
            };
            assert!(message.contains("0 to 100"), "{bad}: {message}");
            assert_eq!(code(result), ErrorCode::InvalidParameter, "{bad}");
        }
        assert_eq!(
            code(count("limit", Some("0"), 10, 1, 50)),
            ErrorCode::InvalidParameter
        );
    }

    #[test]
    fn security_ids_must_be_positive_whole_numbers() {
        assert_eq!(security_id(Some("35001")).ok(), Some(35001));
        assert_eq!(security_id(Some(" 42 ")).ok(), Some(42));
        assert_eq!(code(security_id(None)), ErrorCode::MissingSecurityId);
        for bad in ["0", "-3", "x1", "4294967296", "1.0"] {
            assert_eq!(
                code(security_id(Some(bad))),
                ErrorCode::InvalidSecurityId,
                "{bad}"
            );
        }
    }
}
