//! Configuration of what browsers and real networks see of the HTTP API: which other
//! origins may call it (CORS, and the Origin check of the WebSocket upgrades), and
//! whether answers are compressed.
//!
//! [`CorsOrigins::allows`] is the one answer to "may a page from this origin call us":
//! the CORS layer asks it for every cross-origin request and preflight, and the
//! WebSocket routes ask it before upgrading (browsers send `Origin` on a WebSocket
//! handshake but do not apply CORS to it, so the server has to).

use axum::http::HeaderValue;

/// The origins (`scheme://host[:port]`) whose pages may call the API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No other origin (the default): same-origin pages and non-browser clients only.
    #[default]
    None,
    /// Every origin (`*`): for development; refused in production at start.
    Any,
    /// These origins, exactly as browsers send them (lowercase scheme and host, no
    /// trailing slash, no path).
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `*` or a comma-separated list of origins; empty means none.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        if parts.is_empty() {
            return Ok(Self::None);
        }
        if parts.contains(&"*") {
            if parts.len() > 1 {
                return Err("`*` allows every origin and cannot be combined with others".into());
            }
            return Ok(Self::Any);
        }
        parts
            .into_iter()
            .map(normalise_origin)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::List)
    }

    /// Whether a page from `origin` (an `Origin` header's value) may call the API.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        match self {
            Self::None => false,
            Self::Any => true,
            Self::List(list) => origin
                .to_str()
                .is_ok_and(|origin| list.iter().any(|allowed| allowed == origin)),
        }
    }

    pub fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

/// `origin` as a browser would send it, or why it is not an origin.
fn normalise_origin(origin: &str) -> Result<String, String> {
    let bad =
        |why: &str| format!("{origin:?} is not an origin like https://app.example.com: {why}");
    let url = url::Url::parse(origin).map_err(|error| bad(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if url.host_str().is_none() {
        return Err(bad("it has no host"));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(bad("an origin has no path, query or credentials"));
    }
    // `Url::origin` drops a default port, as browsers do in `Origin`.
    Ok(url.origin().ascii_serialization())
}

/// Whether a WebSocket handshake's `Origin` may connect: no `Origin` (not a browser),
/// the server's own origin (`Origin`'s authority is the `Host` the page was served
/// from), or an allowed one.
pub fn websocket_origin_allowed(
    origins: &CorsOrigins,
    origin: Option<&HeaderValue>,
    host: Option<&HeaderValue>,
) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let same_origin = match (origin.to_str(), host.and_then(|h| h.to_str().ok())) {
        (Ok(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    };
    same_origin || origins.allows(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn lists_are_normalised_like_the_origin_header() {
        let origins =
            CorsOrigins::parse("https://App.Example.com:443, http://localhost:5173/").unwrap();
        assert_eq!(
            origins,
            CorsOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:5173".into()
            ])
        );
        assert!(origins.allows(&value("https://app.example.com")));
        assert!(origins.allows(&value("http://localhost:5173")));
        assert!(!origins.allows(&value("http://localhost:5174")));
        assert!(!origins.allows(&value("https://evil.example.com")));
        assert!(!origins.allows(&value("null")));
    }

    #[test]
    fn star_none_and_garbage() {
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
        assert!(!CorsOrigins::None.allows(&value("https://a.example")));
        let any = CorsOrigins::parse(" * ").unwrap();
        assert!(any.is_any() && any.allows(&value("https://a.example")));
        assert!(CorsOrigins::parse("*,https://a.example").is_err());
        assert!(CorsOrigins::parse("app.example.com").is_err());
        assert!(CorsOrigins::parse("ftp://a.example").is_err());
        assert!(CorsOrigins::parse("https://a.example/app").is_err());
    }

    #[test]
    fn websocket_origins_same_listed_or_none() {
        let origins = CorsOrigins::parse("https://app.example.com").unwrap();
        let host = value("api.example.com:8000");
        let check = |origin: Option<&str>| {
            websocket_origin_allowed(&origins, origin.map(value).as_ref(), Some(&host))
        };
        assert!(check(None), "a non-browser client sends no Origin");
        assert!(check(Some("https://app.example.com")));
        assert!(check(Some("http://api.example.com:8000")), "same origin");
        assert!(!check(Some("https://evil.example.com")));
        assert!(!check(Some("http://api.example.com:9000")));
        assert!(!check(Some("null")));
        assert!(websocket_origin_allowed(
            &CorsOrigins::Any,
            Some(&value("https://anything.example")),
            None
        ));
    }
}
