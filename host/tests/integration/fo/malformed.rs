//! Malformed input on every F&O route answers a 4xx with the JSON error shape and the
//! expected code; nothing answers a 500.

use serde_json::json;

use super::{FoApp, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_is_a_json_4xx_and_never_a_500() {
    let server = start().await;
    let expiry = server.ready_chain("NIFTY").await;
    let ok = format!("underlying=NIFTY&expiry={expiry}");
    let gets = [
        ("/fo/summary".to_string(), 400, "missing_underlying"),
        (
            format!("/fo/summary?underlying=NOPE&expiry={expiry}"),
            404,
            "unknown_underlying",
        ),
        (
            "/fo/summary?underlying=NIFTY".to_string(),
            400,
            "missing_expiry",
        ),
        (
            "/fo/summary?underlying=NIFTY&expiry=24-11-2026".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/fo/summary?underlying=NIFTY&expiry=1999-01-01".to_string(),
            404,
            "unknown_expiry",
        ),
        (
            "/fo/summary?underlying=NIFTY&underlying=BANKNIFTY".to_string(),
            400,
            "malformed_query",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=ten"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=-1"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/strike-distribution?{ok}&strikes=100000"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/oi-change?{ok}&limit=0"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/fo/oi-change?{ok}&limit=1.5"),
            400,
            "invalid_parameter",
        ),
        (
            "/fo/oi-change?underlying=&expiry=".to_string(),
            400,
            "missing_underlying",
        ),
        ("/fo/depth".to_string(), 400, "missing_security_id"),
        (
            "/fo/depth?security_id=abc".to_string(),
            400,
            "invalid_security_id",
        ),
        (
            "/fo/depth?security_id=-5".to_string(),
            400,
            "invalid_security_id",
        ),
        (
            "/fo/depth?security_id=999999999".to_string(),
            404,
            "unknown_security_id",
        ),
        (
            format!("/api/v2/analytics/no-such-plugin?{ok}"),
            404,
            "plugin_not_found",
        ),
        (
            format!("/api/v2/analytics/oi-analytics?{ok}"),
            400,
            "wrong_world",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&windw=3"),
            400,
            "unknown_parameter",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&window=1&window=2"),
            400,
            "duplicate_parameter",
        ),
        (
            format!("/api/v2/analytics/gamma-exposure?{ok}&scale=furlongs"),
            422,
            "plugin_invalid_input",
        ),
        (
            "/api/v2/analytics/gamma-exposure?underlying=NIFTY&expiry=soon".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/api/v2/options/live?underlying=NIFTY&expiry=2026-13-45".to_string(),
            400,
            "malformed_date",
        ),
        (
            "/api/v2/options/strikes?underlying=NIFTY&expiry=x&expiry=y".to_string(),
            400,
            "malformed_query",
        ),
    ];
    for (path, status, code) in &gets {
        let answer = server.get(path).await;
        assert_eq!(answer.status, *status, "{path}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"].as_str(),
            Some(*code),
            "{path}: {}",
            answer.body
        );
        assert!(
            answer.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // The unknown-plugin answer lists what is loaded; the unknown-param one what is valid.
    let unknown = server
        .get(&format!("/api/v2/analytics/no-such-plugin?{ok}"))
        .await;
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("gamma-exposure")
    );
    let typo = server
        .get(&format!("/api/v2/analytics/gamma-exposure?{ok}&windw=3"))
        .await;
    let message = typo.body["error"]["message"].as_str().expect("msg");
    assert!(
        message.contains("window") && message.contains("scale"),
        "{message}"
    );

    let leg = r#"{"security_id":1,"side":"buy","entry_price":"1"}"#;
    let posts = [
        ("{not json".to_string(), true, 400, "malformed_json"),
        (
            format!(r#"{{"legs":[{leg}]}}"#),
            false,
            415,
            "unsupported_media_type",
        ),
        (r#"{"legs":[]}"#.to_string(), true, 422, "no_legs"),
        (r#"{"legs":"all"}"#.to_string(), true, 422, "invalid_body"),
        (
            r#"{"legs":[{"security_id":"x","side":"buy","entry_price":"1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"hold","entry_price":"1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":"-1"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":"NaN"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy","entry_price":-3}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            r#"{"legs":[{"security_id":1,"side":"buy"}]}"#.to_string(),
            true,
            422,
            "invalid_body",
        ),
        (
            format!(r#"{{"legs":[{leg}],"colour":"red"}}"#),
            true,
            422,
            "invalid_body",
        ),
        (
            format!(r#"{{"legs":[{leg}],"points":1}}"#),
            true,
            422,
            "invalid_strategy",
        ),
        (
            format!(r#"{{"legs":[{leg}],"range_pct":-5}}"#),
            true,
            422,
            "invalid_strategy",
        ),
        (
            format!(r#"{{"legs":[{leg}],"target_date":"tomorrow"}}"#),
            true,
            400,
            "malformed_date",
        ),
        (
            format!(r#"{{"legs":[{leg}]}}"#),
            true,
            404,
            "unknown_contract",
        ),
    ];
    for (body, json_type, status, code) in &posts {
        let answer = server
            .post("/api/v2/strategies/evaluate", body, *json_type)
            .await;
        assert_eq!(answer.status, *status, "{body}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"].as_str(),
            Some(*code),
            "{body}: {}",
            answer.body
        );
    }
    // A target date past the nearest expiry, and one in the past, are refused.
    let live = server.get(&format!("/api/v2/options/live?{ok}")).await.body;
    let call = live["strikes"]
        .as_array()
        .expect("strikes")
        .iter()
        .find_map(|s| s["call"]["security_id"].as_u64())
        .expect("a call");
    for target in ["2000-01-01", "2999-01-01"] {
        let answer = server
            .evaluate(
                &json!({"legs": [{"security_id": call, "side": "buy", "entry_price": "1"}],
                              "target_date": target}),
            )
            .await;
        assert_eq!(answer.status, 422, "{target}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "invalid_target_date");
    }
    server.stop().await;
}
