//! Counters read from the server's Prometheus text (`/metrics`), to count what the
//! server delivered and dropped over a measured window.

/// The sum of every sample of counter `name` (any labels) in a Prometheus text body.
pub(crate) fn counter(body: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        // The name must end here: `ws_messages_sent_total` is not `ws_messages_sent_total_x`.
        let value = match rest.chars().next() {
            Some(' ') => rest,
            Some('{') => rest.get(rest.find('}')? + 1..)?,
            _ => continue,
        };
        let value: f64 = value.split_whitespace().next()?.parse().ok()?;
        found = Some(found.unwrap_or(0.0) + value);
    }
    found
}

/// `name`'s value now at `url`, 0 when the server has not counted any yet.
pub(crate) async fn fetch_counter(
    client: &reqwest::Client,
    url: &str,
    name: &str,
) -> anyhow::Result<f64> {
    let body = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    Ok(counter(&body, name).unwrap_or(0.0))
}

/// The `/metrics` URL of the server behind a WebSocket URL.
pub(crate) fn metrics_url(ws_url: &str) -> Option<String> {
    let (scheme, rest) = ws_url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let scheme = if scheme.eq_ignore_ascii_case("wss") {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{authority}/metrics"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sum_their_labelled_samples_and_match_whole_names() {
        let body = "# HELP ws_messages_sent_total sent\n\
                    # TYPE ws_messages_sent_total counter\n\
                    ws_messages_sent_total 1200\n\
                    ws_messages_sent_total_other 5\n\
                    ws_messages_dropped_total{reason=\"conflated\"} 3\n\
                    ws_messages_dropped_total{reason=\"catch_up\"} 4\n";
        assert_eq!(counter(body, "ws_messages_sent_total"), Some(1200.0));
        assert_eq!(counter(body, "ws_messages_dropped_total"), Some(7.0));
        assert_eq!(counter(body, "absent_total"), None);
    }

    #[test]
    fn the_metrics_url_sits_beside_the_websocket() {
        assert_eq!(
            metrics_url("ws://127.0.0.1:8000/ws/live?token=x").as_deref(),
            Some("http://127.0.0.1:8000/metrics")
        );
        assert_eq!(
            metrics_url("wss://example.com/ws/live").as_deref(),
            Some("https://example.com/metrics")
        );
    }
}
