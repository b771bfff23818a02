//! Checks that each route module's `OpenApi` document lists its routes with their
//! methods, parameters, bodies and schemas, so the assembled document cannot silently
//! lose a route or point at a schema nobody registered.

use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, ParameterIn};

use crate::api::accounts::AccountsApi;
use crate::api::analytics::AnalyticsApi;
use crate::api::fo::FoApi;
use crate::api::market::depth::DepthApi;
use crate::api::market::live::MarketApi;
use crate::api::ops::health::HealthApi;
use crate::api::strategies::evaluate::StrategiesApi;
use crate::api::strategies::saved::SavedStrategiesApi;

fn documents() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        FoApi::openapi(),
        HealthApi::openapi(),
        DepthApi::openapi(),
        AnalyticsApi::openapi(),
        StrategiesApi::openapi(),
        MarketApi::openapi(),
        SavedStrategiesApi::openapi(),
        AccountsApi::openapi(),
    ]
}

#[test]
fn every_route_is_documented_with_its_method() {
    let expected = [
        ("/health", HttpMethod::Get, "200"),
        ("/health/live", HttpMethod::Get, "200"),
        ("/health/ready", HttpMethod::Get, "503"),
        ("/fo/strike-distribution", HttpMethod::Get, "200"),
        ("/fo/oi-change", HttpMethod::Get, "200"),
        ("/fo/summary", HttpMethod::Get, "200"),
        ("/fo/depth", HttpMethod::Get, "200"),
        ("/api/v2/analytics/{plugin}", HttpMethod::Get, "200"),
        ("/api/v2/strategies/evaluate", HttpMethod::Post, "200"),
        ("/api/v2/market/underlyings", HttpMethod::Get, "200"),
        ("/api/v2/options/expiries", HttpMethod::Get, "200"),
        ("/api/v2/options/strikes", HttpMethod::Get, "200"),
        ("/api/v2/options/live", HttpMethod::Get, "200"),
        ("/strategies", HttpMethod::Get, "200"),
        ("/strategies", HttpMethod::Post, "201"),
        ("/strategies/{id}", HttpMethod::Get, "200"),
        ("/strategies/{id}", HttpMethod::Patch, "200"),
        ("/strategies/{id}", HttpMethod::Delete, "204"),
        ("/strategies/{id}/instruments", HttpMethod::Post, "201"),
        (
            "/strategies/{id}/instruments/{leg_id}",
            HttpMethod::Delete,
            "200",
        ),
        ("/strategies/{id}/m2m/timeseries", HttpMethod::Get, "200"),
        ("/accounts", HttpMethod::Get, "200"),
        ("/accounts", HttpMethod::Post, "201"),
        ("/accounts/{id}", HttpMethod::Get, "200"),
        ("/accounts/{id}", HttpMethod::Delete, "204"),
    ];
    let docs = documents();
    for (path, method, status) in expected {
        let item = docs
            .iter()
            .find_map(|d| d.paths.paths.get(path))
            .unwrap_or_else(|| panic!("{path} is not documented"));
        let operation = match method {
            HttpMethod::Post => item.post.as_ref(),
            HttpMethod::Patch => item.patch.as_ref(),
            HttpMethod::Delete => item.delete.as_ref(),
            _ => item.get.as_ref(),
        };
        let operation = operation.unwrap_or_else(|| panic!("{path} lacks its method"));
        assert!(
            operation.tags.as_ref().is_some_and(|t| !t.is_empty()),
            "{path} has no tag"
        );
        assert!(
            operation.responses.responses.contains_key(status),
            "{path} has no {status}"
        );
    }
}

#[test]
fn query_parameters_and_the_request_body_are_documented() {
    let fo = FoApi::openapi();
    let distribution = fo
        .paths
        .paths
        .get("/fo/strike-distribution")
        .and_then(|p| p.get.as_ref())
        .and_then(|op| op.parameters.clone())
        .unwrap_or_default();
    let names: Vec<(String, bool)> = distribution
        .iter()
        .map(|p| (p.name.clone(), matches!(p.parameter_in, ParameterIn::Query)))
        .collect();
    for name in ["underlying", "expiry", "strikes"] {
        assert!(
            names.contains(&(name.to_string(), true)),
            "{name} in {names:?}"
        );
    }
    let evaluate = StrategiesApi::openapi();
    let body = evaluate
        .paths
        .paths
        .get("/api/v2/strategies/evaluate")
        .and_then(|p| p.post.as_ref())
        .and_then(|op| op.request_body.as_ref());
    assert!(
        body.is_some_and(|b| b.content.contains_key("application/json")),
        "evaluate documents its JSON body"
    );
}

#[test]
fn referenced_schemas_are_registered() {
    for doc in documents() {
        let json = serde_json::to_value(&doc).unwrap_or_default();
        let schemas = doc
            .components
            .as_ref()
            .map(|c| c.schemas.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        let mut refs = Vec::new();
        collect_refs(&json, &mut refs);
        for r in refs {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(
                schemas.iter().any(|s| s == name),
                "{name} is referenced but not registered"
            );
        }
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(s) = v.as_str()
                {
                    out.push(s.to_string());
                }
                collect_refs(v, out);
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_error_code_is_listed_in_the_error_body_schema() {
    let document = serde_json::to_value(crate::api::ops::docs::openapi()).unwrap();
    let listed = &document["components"]["schemas"]["ErrorCode"]["enum"];
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap_or_else(|| panic!("ErrorCode is an enum schema: {listed}"))
        .iter()
        .filter_map(|code| code.as_str())
        .collect();
    let all: Vec<&str> = crate::api::error::ErrorCode::ALL
        .iter()
        .map(|code| code.as_str())
        .collect();
    assert_eq!(listed, all);
}
