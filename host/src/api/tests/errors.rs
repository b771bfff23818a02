//! Every refusal has the one error shape, with the status and code the contract names,
//! whichever layer refuses: the router's fallbacks, the extractors, the handlers.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::fixture::RouteFixture;
use crate::auth::Role;

#[tokio::test]
async fn an_unknown_route_and_a_wrong_method_are_json_errors() {
    let app = RouteFixture::new().await;
    let answer = app.get("/no/such/route", None).await;
    let message = answer.error(StatusCode::NOT_FOUND, "no_such_route");
    assert!(message.contains("/docs"), "{message}");
    let delete = Request::delete("/health")
        .body(Body::empty())
        .expect("request");
    app.send(delete)
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn an_unknown_underlying_or_expiry_is_a_404() {
    let app = RouteFixture::new().await;
    let viewer = app.token(Role::Viewer);
    let answer = app
        .get("/api/v2/options/expiries?underlying=NIFTYX", Some(&viewer))
        .await;
    let message = answer.error(StatusCode::NOT_FOUND, "unknown_underlying");
    assert!(message.contains("NIFTY"), "{message}");
    let answer = app
        .get(
            "/api/v2/options/live?underlying=NIFTY&expiry=2001-01-01",
            Some(&viewer),
        )
        .await;
    let message = answer.error(StatusCode::NOT_FOUND, "unknown_expiry");
    assert!(message.contains("NIFTY"), "{message}");
}

#[tokio::test]
async fn analytics_without_their_plugin_are_a_503_naming_it() {
    let app = RouteFixture::new().await;
    let viewer = app.token(Role::Viewer);
    let listed = app
        .get("/api/v2/options/expiries?underlying=NIFTY", Some(&viewer))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let expiry = listed.body["expiries"][0]["date"]
        .as_str()
        .expect("an expiry");
    let answer = app
        .get(
            &format!("/fo/summary?underlying=NIFTY&expiry={expiry}"),
            Some(&viewer),
        )
        .await;
    let message = answer.error(StatusCode::SERVICE_UNAVAILABLE, "no_plugin_for_world");
    assert!(message.contains("oi-analytics"), "{message}");
}

#[tokio::test]
async fn unreadable_bodies_are_400_and_415_never_500() {
    let app = RouteFixture::new().await;
    let trader = app.token(Role::Trader);
    let post = |body: &'static str, json: bool| {
        let mut request = Request::post("/api/v2/strategies/evaluate")
            .header("authorization", format!("Bearer {trader}"));
        if json {
            request = request.header("content-type", "application/json");
        }
        request.body(Body::from(body)).expect("request")
    };
    app.send(post("{not json", true))
        .await
        .error(StatusCode::BAD_REQUEST, "malformed_json");
    app.send(post(r#"{"legs": "no"}"#, true))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    app.send(post(r#"{"legs": []}"#, false))
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}
