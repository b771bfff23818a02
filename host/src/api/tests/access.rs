//! Who may call what: open routes need nothing, every other group needs a valid token
//! of its role, and each refusal says which of those it was.

use axum::http::StatusCode;

use super::fixture::RouteFixture;
use crate::auth::{Principal, Role, Tier};

#[tokio::test]
async fn open_routes_answer_without_a_token() {
    let app = RouteFixture::new().await;
    for path in ["/health", "/health/live", "/openapi.json"] {
        let answer = app.get(path, None).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    }
}

#[tokio::test]
async fn no_token_a_forged_one_and_an_expired_one_are_told_apart() {
    let app = RouteFixture::new().await;
    let answer = app.get("/status", None).await;
    answer.error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let challenge = answer.headers.get("www-authenticate").expect("a challenge");
    assert!(challenge.to_str().is_ok_and(|c| c.starts_with("Bearer")));

    app.get("/status", Some("not.a.jwt"))
        .await
        .error(StatusCode::UNAUTHORIZED, "invalid_token");

    let principal = Principal {
        user: "late".into(),
        role: Role::Viewer,
        tier: Tier::Free,
    };
    let a_day_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 86_400;
    let expired = app
        .state
        .tokens
        .issue_at(&principal, a_day_ago)
        .expect("token");
    app.get("/status", Some(&expired))
        .await
        .error(StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn each_group_wants_its_role_and_no_less() {
    let app = RouteFixture::new().await;
    let viewer = app.token(Role::Viewer);
    let trader = app.token(Role::Trader);
    let admin = app.token(Role::Admin);
    // Viewer routes.
    assert_eq!(
        app.get("/status", Some(&viewer)).await.status,
        StatusCode::OK
    );
    // Trader routes: a viewer is refused, a trader served.
    app.get("/strategies", Some(&viewer))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.get("/strategies", Some(&trader)).await.status,
        StatusCode::OK
    );
    // Admin routes: a trader is refused, an admin served.
    app.get("/admin/plugins", Some(&trader))
        .await
        .error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.get("/admin/plugins", Some(&admin)).await.status,
        StatusCode::OK
    );
}
