//! The API's own documentation: `/openapi.json` (generated from the handlers'
//! annotations, so it cannot drift from the code), Swagger UI at `/docs` and ReDoc at
//! `/redoc`. Both UIs are embedded in the binary and work with no internet access.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::api::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "optionhub",
        description = "Indian F&O option chains, live, with analytics computed by hot-swappable \
                       WebAssembly plugins. Authenticate with `Authorization: Bearer <token>` \
                       (from `POST /auth/login` or `optionhub user token NAME`).",
    ),
    paths(
        crate::api::ops::status::status,
        crate::api::plugins::list,
        crate::api::auth::login,
        crate::api::ops::metrics::metrics,
        crate::api::admin::plugins::list,
        crate::api::admin::plugins::upload,
        crate::api::admin::plugins::detail,
        crate::api::admin::plugins::rollback,
        crate::api::admin::plugins::unload,
        crate::api::admin::audit::list,
    ),
    components(schemas(crate::api::error::ErrorBody, crate::api::error::ErrorDetail)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "market", description = "Underlyings, expiries, strikes and live option chains"),
        (name = "fo", description = "F&O analytics computed by the active plugins"),
        (name = "strategies", description = "Strategy valuation, saved strategies and their M2M"),
        (name = "accounts", description = "Trading accounts that strategies are grouped by"),
        (name = "plugins", description = "The analytics plugins, and their administration"),
        (name = "auth", description = "Access tokens"),
        (name = "operations", description = "Health, status and metrics"),
    )
)]
struct CoreApi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The documents of the route groups, the core first.
fn parts() -> Vec<utoipa::openapi::OpenApi> {
    vec![
        CoreApi::openapi(),
        crate::api::ops::health::HealthApi::openapi(),
        crate::api::market::live::MarketApi::openapi(),
        crate::api::fo::FoApi::openapi(),
        crate::api::market::history::HistoryApi::openapi(),
        crate::api::market::depth::DepthApi::openapi(),
        crate::api::analytics::AnalyticsApi::openapi(),
        crate::api::strategies::evaluate::StrategiesApi::openapi(),
        crate::api::strategies::saved::SavedStrategiesApi::openapi(),
        crate::api::accounts::AccountsApi::openapi(),
    ]
}

/// The whole OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut parts = parts().into_iter();
    let mut doc = parts.next().unwrap_or_else(CoreApi::openapi);
    for part in parts {
        doc.merge(part);
    }
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    // Last, so that it sees every route of every group.
    crate::api::contract::SharedResponses.modify(&mut doc);
    doc
}

const REDOC_JS: &[u8] = include_bytes!("../../../assets/redoc/redoc.standalone.js");

const REDOC_PAGE: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <title>optionhub API (ReDoc)</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
  </head>
  <body>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="/redoc/redoc.standalone.js"></script>
  </body>
</html>
"#;

/// `/docs` (Swagger UI, also serving `/openapi.json`) and `/redoc`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi()))
        .route("/redoc", get(|| async { Html(REDOC_PAGE) }))
        .route(
            "/redoc/redoc.standalone.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "application/javascript"),
                        (header::CACHE_CONTROL, "public, max-age=86400"),
                    ],
                    REDOC_JS,
                )
                    .into_response()
            }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Merging keeps one schema per name: two types documented under one name would
    /// leave one of them described as the other.
    #[test]
    fn no_two_schemas_share_a_name() {
        let merged = serde_json::to_value(openapi()).unwrap();
        for part in parts() {
            let schemas = part.components.map(|c| c.schemas).unwrap_or_default();
            for (name, schema) in schemas {
                assert_eq!(
                    merged["components"]["schemas"][&name],
                    serde_json::to_value(schema).unwrap(),
                    "two schemas are named {name}"
                );
            }
        }
    }

    #[test]
    fn the_document_lists_the_core_routes_and_bearer_auth() {
        let doc = openapi();
        for path in [
            "/health",
            "/status",
            "/auth/login",
            "/metrics",
            "/api/v2/options/live",
            "/fo/summary",
            "/api/v2/strategies/evaluate",
        ] {
            assert!(doc.paths.paths.contains_key(path), "{path} missing");
        }
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            json["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        // Open routes opt out of the global bearer requirement.
        assert_eq!(
            json["paths"]["/health"]["get"]["security"],
            serde_json::json!([{}])
        );
    }
}
