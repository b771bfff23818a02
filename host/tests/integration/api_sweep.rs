//! Every route in `/openapi.json`, fed garbage: no route may answer 5xx or anything but
//! the JSON error shape, nor a status its entry in the document does not list. The list
//! comes from the document, so a new route is swept the day it is documented.

use serde_json::Value;

use crate::common::{TestApp, admin_token};

const PLUGINS: [&str; 4] = [
    "greeks-black76",
    "oi-analytics",
    "strategy-valuation",
    "gamma-exposure",
];

/// Query strings that are wrong in every way a client can be wrong.
const QUERIES: [&str; 6] = [
    "",
    "?underlying=&expiry=",
    "?underlying=NIFTY&expiry=2026-02-30",
    "?underlying=%00%FF&expiry=9999-99-99&strikes=-1&limit=abc&security_id=abc",
    "?underlying=NIFTY&expiry=1999-01-01&strikes=99999999999999999999&limit=0&window=x",
    "?security_id=18446744073709551616&metric=nope&interval=-5",
];

/// Bodies for routes that take one.
const BODIES: [&str; 6] = [
    "",
    "{not json",
    "[]",
    "{\"legs\": \"many\"}",
    "{\"legs\": [{\"security_id\": -1, \"side\": \"sideways\", \"lots\": 1e99, \"entry_price\": \"NaN\"}]}",
    "null",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_answers_garbage_with_a_5xx_a_non_json_error_or_an_undocumented_status() {
    let running = TestApp::builder().plugins(&PLUGINS).start().await;
    let base = running.base().to_owned();
    let client = reqwest::Client::new();
    let token = admin_token();
    let doc: Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (template, operations) in paths {
        let operations = operations.as_object().expect("operations");
        for (method, operation) in operations {
            let documented = operation["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default();
            // Unloading plugins would change what the rest of the sweep sees.
            if method == "delete" && template.starts_with("/admin/plugins") {
                continue;
            }
            for filler in ["x", "99999999", "%2e%2e"] {
                let path = fill(template, filler);
                for query in QUERIES {
                    let bodies: &[&str] = if method == "get" { &[""] } else { &BODIES };
                    for body in bodies {
                        let url = format!("{base}{path}{query}");
                        let request = client
                            .request(method.to_uppercase().parse().expect("method"), &url)
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .body(body.to_string());
                        let response = request.send().await.expect("request");
                        let status = response.status();
                        let text = response.text().await.expect("body");
                        assert!(
                            !status.is_server_error(),
                            "{method} {url} body {body:?} → {status}: {text}"
                        );
                        assert!(
                            documented.contains(&status.as_u16().to_string()),
                            "{method} {template} answered {status}, which its entry does not \
                             list ({documented:?}): {method} {url} body {body:?} → {text}"
                        );
                        if status.is_client_error() {
                            let json: Value = serde_json::from_str(&text).unwrap_or_else(|_| {
                                panic!("{method} {url} → {status} with a non-JSON body: {text}")
                            });
                            assert!(
                                json["error"]["code"].is_string()
                                    && json["error"]["message"].is_string(),
                                "{method} {url} → {status}: {text}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} requests made: is the document empty?"
    );
    running.stop().await;
}

/// `/admin/plugins/{name}` with every `{param}` replaced by `filler`.
fn fill(template: &str, filler: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push_str(filler);
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}
