//! Typed errors of Dhan's REST API: the DH-9xx codes of its error body (reference
//! `dhanhq.md` §7.1) plus what can go wrong around them (transport, an unexpected body).
//! Callers decide on retries from [`RestError::is_auth_failure`] and
//! [`RestError::is_rate_limited`], not from strings.

use super::types::ErrorBody;

/// Dhan's trading-API error codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhanErrorCode {
    /// DH-901: client id or access token invalid or expired.
    InvalidAuthentication,
    /// DH-902: Data APIs not subscribed.
    InvalidAccess,
    /// DH-903: account problem.
    UserAccount,
    /// DH-904: too many requests.
    RateLimit,
    /// DH-905: missing or bad parameters.
    InputException,
    /// DH-906.
    OrderError,
    /// DH-907: bad parameters or no data.
    DataError,
    /// DH-908.
    InternalServerError,
    /// DH-909.
    NetworkError,
    /// DH-910.
    Others,
    /// DH-911: request from a non-whitelisted IP.
    InvalidIp,
    /// A code this build does not know, kept verbatim.
    Unknown(String),
}

impl DhanErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "DH-901" => Self::InvalidAuthentication,
            "DH-902" => Self::InvalidAccess,
            "DH-903" => Self::UserAccount,
            "DH-904" => Self::RateLimit,
            "DH-905" => Self::InputException,
            "DH-906" => Self::OrderError,
            "DH-907" => Self::DataError,
            "DH-908" => Self::InternalServerError,
            "DH-909" => Self::NetworkError,
            "DH-910" => Self::Others,
            "DH-911" => Self::InvalidIp,
            other => Self::Unknown(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidAuthentication => "DH-901",
            Self::InvalidAccess => "DH-902",
            Self::UserAccount => "DH-903",
            Self::RateLimit => "DH-904",
            Self::InputException => "DH-905",
            Self::OrderError => "DH-906",
            Self::DataError => "DH-907",
            Self::InternalServerError => "DH-908",
            Self::NetworkError => "DH-909",
            Self::Others => "DH-910",
            Self::InvalidIp => "DH-911",
            Self::Unknown(code) => code,
        }
    }
}

/// Why a REST call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    /// Dhan answered with its error body.
    #[error("Dhan {code} ({error_type}, HTTP {status}): {message}", code = code.as_str())]
    Api {
        status: u16,
        code: DhanErrorCode,
        error_type: String,
        message: String,
    },
    /// HTTP 429 without a readable error body.
    #[error("Dhan rate limit (HTTP 429)")]
    TooManyRequests,
    /// A non-success status with a body that is not Dhan's error shape.
    #[error("Dhan answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// The request never got an answer (connect, TLS, timeout).
    #[error("could not reach Dhan: {0}")]
    Transport(String),
    /// A success status whose body is not the documented shape.
    #[error("unexpected response from Dhan: {0}")]
    UnexpectedBody(String),
}

impl RestError {
    /// From a non-success answer: Dhan's error body when there is one.
    pub fn from_response(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(error) => Self::Api {
                status,
                code: DhanErrorCode::parse(&error.error_code),
                error_type: error.error_type,
                message: error.error_message,
            },
            Err(_) if status == 429 => Self::TooManyRequests,
            Err(_) => Self::Status {
                status,
                // Bodies can be whole HTML pages; the start says enough.
                body: body.chars().take(200).collect(),
            },
        }
    }

    /// The credentials are wrong or expired (or data APIs are not subscribed): retrying
    /// with the same ones cannot help.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            Self::Api {
                code: DhanErrorCode::InvalidAuthentication | DhanErrorCode::InvalidAccess,
                ..
            }
        ) || matches!(
            self,
            Self::Status {
                status: 401 | 403,
                ..
            }
        )
    }

    /// Dhan asked us to slow down.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::TooManyRequests)
            || matches!(
                self,
                Self::Api {
                    code: DhanErrorCode::RateLimit,
                    ..
                }
            )
            || matches!(self, Self::Api { status: 429, .. })
    }
}

#[cfg(test)]
mod tests {
    use super::{DhanErrorCode, RestError};

    #[test]
    fn dhan_error_bodies_become_typed_errors() {
        let error = RestError::from_response(
            429,
            r#"{"errorType":"Rate_Limit","errorCode":"DH-904","errorMessage":"Too many requests"}"#,
        );
        assert!(error.is_rate_limited());
        assert!(!error.is_auth_failure());
        assert!(error.to_string().contains("DH-904"));

        let error = RestError::from_response(
            401,
            r#"{"errorType":"Invalid_Authentication","errorCode":"DH-901","errorMessage":"Client ID or user generated access token is invalid or expired."}"#,
        );
        assert!(error.is_auth_failure());

        assert_eq!(
            RestError::from_response(429, "slow down"),
            RestError::TooManyRequests
        );
        assert!(matches!(
            RestError::from_response(502, "<html>bad gateway</html>"),
            RestError::Status { status: 502, .. }
        ));
    }

    #[test]
    fn codes_round_trip() {
        for n in 901..=911 {
            let code = format!("DH-{n}");
            assert_eq!(DhanErrorCode::parse(&code).as_str(), code);
        }
        assert_eq!(
            DhanErrorCode::parse("DH-999"),
            DhanErrorCode::Unknown("DH-999".into())
        );
    }
}
