//! How Dhan's configured addresses become the URLs requests go to.
//!
//! Dhan documents its feed as `wss://api-feed.dhan.co?version=2&…`, with no path. Glued
//! together as text, that address puts `?version=2&…` where the request-target goes,
//! which is not origin-form (RFC 9112 §3.2) and a strict server answers 400. Parsed by
//! the `url` crate, an empty path of a `ws`/`http` address is `/`, and query
//! parameters already in the configured address are kept; so every Dhan address goes
//! through here, never through string concatenation.

use url::Url;

use crate::DhanCredentials;

/// The query parameters this client sets on the feed URL; a configured address that
/// already carries one has it replaced, never duplicated.
pub const FEED_PARAMS: [&str; 4] = ["version", "token", "clientId", "authType"];

/// Parses a feed address (`ws://` or `wss://`), for the command line.
pub fn parse_feed_url(text: &str) -> Result<Url, String> {
    parse_with_scheme(text, &["ws", "wss"])
}

/// Parses a REST or download address (`http://` or `https://`), for the command line.
pub fn parse_http_url(text: &str) -> Result<Url, String> {
    parse_with_scheme(text, &["http", "https"])
}

fn parse_with_scheme(text: &str, schemes: &[&str]) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "scheme `{}` is not one of {}",
            url.scheme(),
            schemes.join(", ")
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if url.fragment().is_some() {
        return Err("a fragment (`#…`) is never sent to a server; remove it".into());
    }
    Ok(url)
}

/// The URL of one feed connection: the configured address with its other query
/// parameters kept and Dhan's v2 parameters (`version`, `token`, `clientId`,
/// `authType`) appended, in the order Dhan's own SDK sends them. Holds the token:
/// never log it.
pub fn feed_connect_url(base: &Url, credentials: &DhanCredentials) -> Url {
    let mut url = base.clone();
    let kept: Vec<(String, String)> = base
        .query_pairs()
        .filter(|(name, _)| !FEED_PARAMS.contains(&name.as_ref()))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.set_query(None);
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(&kept);
        query
            .append_pair("version", "2")
            .append_pair("token", credentials.access_token())
            .append_pair("clientId", credentials.client_id())
            .append_pair("authType", "2");
    }
    url
}

/// A REST endpoint under the configured API address: `segments` are appended to the
/// address's own path (so `https://gateway/dhan` works as well as the bare host), and
/// its query parameters are kept.
pub fn rest_url(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        // `pop_if_empty` drops the empty segment of a trailing `/`, so `…/` and `…`
        // give the same URL.
        path.pop_if_empty().extend(segments);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> DhanCredentials {
        DhanCredentials::new("1000", "tok+en/=")
    }

    #[test]
    fn a_pathless_feed_address_gets_an_origin_form_target() {
        let base = parse_feed_url("wss://api-feed.dhan.co").unwrap();
        let url = feed_connect_url(&base, &credentials());
        assert_eq!(url.path(), "/");
        assert_eq!(
            url.as_str(),
            "wss://api-feed.dhan.co/?version=2&token=tok%2Ben%2F%3D&clientId=1000&authType=2"
        );
    }

    #[test]
    fn existing_query_parameters_are_kept_and_ours_not_duplicated() {
        let base =
            parse_feed_url("wss://proxy.example/feed?region=in&version=1&authType=2").unwrap();
        let url = feed_connect_url(&base, &credentials());
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(url.path(), "/feed");
        assert_eq!(
            pairs,
            [
                ("region", "in"),
                ("version", "2"),
                ("token", "tok+en/="),
                ("clientId", "1000"),
                ("authType", "2"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn rest_paths_join_the_base_path_and_keep_its_query() {
        for base in ["https://api.dhan.co", "https://api.dhan.co/"] {
            let url = rest_url(&parse_http_url(base).unwrap(), &["v2", "optionchain"]);
            assert_eq!(url.as_str(), "https://api.dhan.co/v2/optionchain");
        }
        let base = parse_http_url("https://gateway.example/dhan/?key=abc").unwrap();
        let url = rest_url(&base, &["v2", "optionchain", "expirylist"]);
        assert_eq!(
            url.as_str(),
            "https://gateway.example/dhan/v2/optionchain/expirylist?key=abc"
        );
    }

    #[test]
    fn addresses_of_the_wrong_kind_are_refused_with_the_reason() {
        assert!(
            parse_feed_url("https://api-feed.dhan.co")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            parse_http_url("wss://api.dhan.co")
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            parse_http_url("api.dhan.co")
                .unwrap_err()
                .contains("not a URL")
        );
        assert!(
            parse_feed_url("wss://api-feed.dhan.co/#x")
                .unwrap_err()
                .contains("fragment")
        );
        assert_eq!(
            parse_http_url("https://images.dhan.co").unwrap().as_str(),
            "https://images.dhan.co/"
        );
    }
}
