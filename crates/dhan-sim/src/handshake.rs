//! What the simulator's front refuses before any handler runs, as strictly as the
//! proxies in front of Dhan: a request-target that is not origin-form (RFC 9112 §3.2),
//! and a feed handshake whose query string is not exactly Dhan's v2 one.
//!
//! A lenient simulator hides client mistakes that the real service punishes: a feed
//! URL glued together as text (`GET ?version=2&… HTTP/1.1`) connects to a forgiving
//! loopback server and gets 400 from Dhan. So these are refused here with 400 and a
//! plain-text reason, before the upgrade, the way a front proxy answers. What the
//! official dhanhq Python SDK sends (`GET /?version=2&token=…&clientId=…&authType=2`)
//! passes; `tests/dhan_sdk/run.sh` checks that.
//!
//! Credentials are a different matter: Dhan accepts the upgrade and refuses wrong
//! credentials afterwards with a code-50 packet, and `feed_socket` does the same.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The feed's query parameters, every one required, each exactly once.
const FEED_PARAMS: [&str; 4] = ["version", "token", "clientId", "authType"];

/// The credentials of a well-formed feed handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    pub token: String,
    pub client_id: String,
}

/// Why a request was refused at the front.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontRefusal {
    #[error("request-target `{0}` is not origin-form (it must start with `/`)")]
    NotOriginForm(String),
    #[error("unknown query parameter `{0}`")]
    UnknownParam(String),
    #[error("query parameter `{0}` appears more than once")]
    RepeatedParam(String),
    #[error("missing query parameter `{0}`")]
    MissingParam(&'static str),
    #[error("query parameter `{name}` must be `2`, not `{value}`")]
    WrongValue { name: &'static str, value: String },
}

impl IntoResponse for FrontRefusal {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, format!("{self}\n")).into_response()
    }
}

/// Middleware: only origin-form request-targets (`/path?query`) get through. Absolute
/// form (`GET ws://host/…`), authority form and `*` are answered 400.
pub async fn origin_form_only(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if uri.scheme().is_some() || uri.authority().is_some() || !uri.path().starts_with('/') {
        return FrontRefusal::NotOriginForm(uri.to_string()).into_response();
    }
    next.run(request).await
}

/// Checks a feed handshake's query string: exactly `version`, `token`, `clientId` and
/// `authType`, each once, with `version=2` and `authType=2`.
pub fn parse_feed_query(raw: Option<&str>) -> Result<FeedQuery, FrontRefusal> {
    let mut values: [Option<String>; 4] = Default::default();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let slot = FEED_PARAMS
            .iter()
            .position(|known| *known == name)
            .and_then(|index| values.get_mut(index))
            .ok_or_else(|| FrontRefusal::UnknownParam(name.to_string()))?;
        if slot.is_some() {
            return Err(FrontRefusal::RepeatedParam(name.into_owned()));
        }
        *slot = Some(value.into_owned());
    }
    let [version, token, client_id, auth_type] = values;
    let version = version.ok_or(FrontRefusal::MissingParam("version"))?;
    let token = token.ok_or(FrontRefusal::MissingParam("token"))?;
    let client_id = client_id.ok_or(FrontRefusal::MissingParam("clientId"))?;
    let auth_type = auth_type.ok_or(FrontRefusal::MissingParam("authType"))?;
    for (name, value) in [("version", version), ("authType", auth_type)] {
        if value != "2" {
            return Err(FrontRefusal::WrongValue { name, value });
        }
    }
    Ok(FeedQuery { token, client_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_query_passes_and_names_every_fault() {
        let sdk = "version=2&token=a%2Bb&clientId=1000&authType=2";
        assert_eq!(
            parse_feed_query(Some(sdk)),
            Ok(FeedQuery {
                token: "a+b".into(),
                client_id: "1000".into()
            })
        );
        let refused = |query: &str| parse_feed_query(Some(query)).unwrap_err();
        assert_eq!(
            refused("version=2&token=t&clientId=c&authType=2&debug=1"),
            FrontRefusal::UnknownParam("debug".into())
        );
        assert_eq!(
            refused("version=2&token=t&authType=2"),
            FrontRefusal::MissingParam("clientId")
        );
        assert_eq!(
            parse_feed_query(None).unwrap_err(),
            FrontRefusal::MissingParam("version")
        );
        assert_eq!(
            refused("version=1&token=t&clientId=c&authType=2"),
            FrontRefusal::WrongValue {
                name: "version",
                value: "1".into()
            }
        );
        assert_eq!(
            refused("version=2&token=t&clientId=c&authType=1"),
            FrontRefusal::WrongValue {
                name: "authType",
                value: "1".into()
            }
        );
        assert_eq!(
            refused("version=2&version=2&token=t&clientId=c&authType=2"),
            FrontRefusal::RepeatedParam("version".into())
        );
    }
}
