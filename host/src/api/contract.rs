//! The answers a route gives whatever its handler does, documented once: the gates
//! in front of it (401, 403, 429), the readers of its request (400 for a malformed
//! query, path or body, 413, 415, 422), the deadline around it (503), the plugins
//! behind it (502, 504), and 404 for a path naming nothing. Each is a named response in
//! `components.responses`, and [`SharedResponses`] adds a reference to it to every
//! operation it applies to, unless the route documents that status itself (with a
//! more specific description).
//!
//! This is what makes `/openapi.json` list every status a route can return, so that
//! clients generated from it handle them all; the API sweep test checks the claim
//! against the real server, and `tests/schemathesis/run.sh` fuzzes it.
//!
//! Routes whose answers are cached ([`CONDITIONAL`]) are documented as conditional: an
//! `ETag` on their 200, an optional `If-None-Match` parameter, and a 304 with no body.
//!
//! It also states what parameters are: text in a query string, a path or a header, where
//! an optional one is absent or present, never `null` (the derive documents `Option<T>`
//! as nullable, which invites a client to send the word `null`).

use utoipa::Modify;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Object, Schema, SchemaType, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Required};

/// A shared answer: its status, the component name it is kept under, and what it means.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
}

const UNAUTHORIZED: Shared = Shared {
    status: "401",
    name: "Unauthorized",
    description: "No token, or a token that is expired, tampered with or not ours \
                  (`unauthenticated`, `token_expired`, `invalid_token`); carries \
                  `WWW-Authenticate: Bearer`",
};
const FORBIDDEN: Shared = Shared {
    status: "403",
    name: "Forbidden",
    description: "The token's role is below what the route needs (`forbidden`)",
};
const RATE_LIMITED: Shared = Shared {
    status: "429",
    name: "RateLimited",
    description: "The caller's request budget is spent (`rate_limited`); `Retry-After` says \
                  when to retry",
};
const UNAVAILABLE: Shared = Shared {
    status: "503",
    name: "Unavailable",
    description: "Not answered within the request deadline (`request_timeout`), or a \
                  dependency the answer needs is missing",
};
const MALFORMED: Shared = Shared {
    status: "400",
    name: "Malformed",
    description: "The query string, path or body could not be read (`malformed_query`, \
                  `malformed_path`, `malformed_json`, `unreadable_body`), or a parameter is \
                  missing or out of range",
};
const NOT_FOUND: Shared = Shared {
    status: "404",
    name: "NotFound",
    description: "The path names nothing the caller can see",
};
const TOO_LARGE: Shared = Shared {
    status: "413",
    name: "PayloadTooLarge",
    description: "The body is larger than the server accepts (`payload_too_large`)",
};
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    status: "415",
    name: "UnsupportedMediaType",
    description: "The body is not sent as the documented content type \
                  (`unsupported_media_type`)",
};
const UNPROCESSABLE: Shared = Shared {
    status: "422",
    name: "Unprocessable",
    description: "The body is JSON but not of the documented shape (`invalid_body`), or \
                  names something unusable",
};
const BAD_GATEWAY: Shared = Shared {
    status: "502",
    name: "PluginFailed",
    description: "The plugin computing the answer failed (trapped, ran out of fuel or \
                  memory, or answered malformed output); the plugin is named",
};
const PLUGIN_TIMEOUT: Shared = Shared {
    status: "504",
    name: "PluginTimeout",
    description: "The plugin computing the answer ran past its time limit \
                  (`plugin_timeout`)",
};

const ALL: [&Shared; 11] = [
    &UNAUTHORIZED,
    &FORBIDDEN,
    &RATE_LIMITED,
    &UNAVAILABLE,
    &MALFORMED,
    &NOT_FOUND,
    &TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &UNPROCESSABLE,
    &BAD_GATEWAY,
    &PLUGIN_TIMEOUT,
];

/// The routes answered from the answer cache, which tag each answer with an `ETag` (from
/// the chain's and the Greeks' sequence numbers) and answer a matching `If-None-Match`
/// with 304: a polling client pays for changes only.
pub const CONDITIONAL: [&str; 6] = [
    "/api/v2/options/live",
    "/api/v2/analytics/{plugin}",
    "/fo/strike-distribution",
    "/fo/oi-change",
    "/fo/summary",
    "/fo/depth",
];

/// Component name of the 304 answer.
const NOT_MODIFIED: &str = "NotModified";

fn string_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::String))
        .description(Some(description))
        .build()
}

const ETAG_DESCRIPTION: &str = "A weak entity tag of this answer; send it back in \
                                `If-None-Match` to get a 304 while the answer is unchanged";

/// Makes a cached route's GET conditional in the document (see the module docs).
fn conditional(operation: &mut Operation) {
    let if_none_match = ParameterBuilder::new()
        .name("If-None-Match")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Entity tags from earlier answers (`W/\"…\"`, a comma-separated list, or `*`); \
             when one matches, the answer is a 304 with no body",
        ))
        .schema(Some(Object::with_type(Type::String)))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(if_none_match);
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        ok.headers
            .insert("ETag".to_string(), string_header(ETAG_DESCRIPTION));
    }
    responses
        .entry("304".to_string())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(NOT_MODIFIED)));
}

/// The 304 answer: no body, the entity tag that matched.
fn not_modified() -> Response {
    ResponseBuilder::new()
        .description("Unchanged since the answer whose tag was sent in `If-None-Match`")
        .header("ETag", string_header(ETAG_DESCRIPTION))
        .build()
}

fn integer_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::Integer))
        .description(Some(description))
        .build()
}

/// The response object of a shared answer: the error body, and its headers.
fn response(shared: &Shared) -> Response {
    let body = Content::new(Some(Ref::from_schema_name("ErrorBody")));
    let mut builder = ResponseBuilder::new()
        .description(shared.description)
        .content("application/json", body);
    if shared.status == UNAUTHORIZED.status {
        builder = builder.header(
            "WWW-Authenticate",
            string_header("`Bearer realm=\"optionhub\"`"),
        );
    }
    if shared.status == RATE_LIMITED.status {
        builder = builder
            .header(
                "Retry-After",
                integer_header("Seconds until a retry may succeed"),
            )
            .header("X-RateLimit-Limit", integer_header("Requests per minute"))
            .header("X-RateLimit-Remaining", integer_header("Requests left now"))
            .header(
                "X-RateLimit-Reset",
                integer_header("Seconds until the budget is full again"),
            );
    }
    builder.build()
}

/// What an operation is, as far as the shared answers go.
struct Traits {
    /// Behind a token (not opted out with an empty security requirement).
    protected: bool,
    has_query: bool,
    has_path: bool,
    has_body: bool,
    /// Computed by a plugin (answers can be 502/504).
    plugin: bool,
}

impl Traits {
    fn of(path: &str, operation: &Operation) -> Self {
        let open = operation.security.as_ref().is_some_and(|requirements| {
            serde_json::to_value(requirements).ok() == Some(serde_json::json!([{}]))
        });
        let parameters = operation.parameters.as_deref().unwrap_or_default();
        let has = |place: ParameterIn| {
            parameters
                .iter()
                .any(|p| std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place))
        };
        let tagged = |tag: &str| {
            operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|t| t == tag))
        };
        Self {
            protected: !open,
            has_query: has(ParameterIn::Query),
            has_path: has(ParameterIn::Path) || path.contains('{'),
            has_body: operation.request_body.is_some(),
            plugin: (tagged("fo") && !path.starts_with("/fo/moneyness"))
                || path.starts_with("/api/v2/analytics/")
                || path.starts_with("/api/v2/strategies/")
                || path.contains("/m2m"),
        }
    }

    /// The shared answers this operation can give.
    fn shared(&self) -> Vec<&'static Shared> {
        let mut out = vec![&UNAVAILABLE];
        if self.protected {
            out.extend([&UNAUTHORIZED, &FORBIDDEN, &RATE_LIMITED]);
        }
        if self.has_query || self.has_path || self.has_body {
            out.push(&MALFORMED);
        }
        if self.has_path {
            out.push(&NOT_FOUND);
        }
        if self.has_body {
            out.extend([&TOO_LARGE, &UNSUPPORTED_MEDIA_TYPE, &UNPROCESSABLE]);
        }
        if self.plugin {
            out.extend([&BAD_GATEWAY, &PLUGIN_TIMEOUT]);
        }
        out
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Removes `null` from a parameter's types (see the module docs).
fn not_nullable(parameter: &mut Parameter) {
    let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() else {
        return;
    };
    if let SchemaType::Array(types) = &object.schema_type {
        let kept: Vec<Type> = types
            .iter()
            .filter(|t| **t != Type::Null)
            .cloned()
            .collect();
        object.schema_type = match kept.as_slice() {
            [one] => SchemaType::Type(one.clone()),
            _ => SchemaType::Array(kept),
        };
    }
}

/// Adds the shared answers to every operation of the document (see the module docs).
#[derive(Debug)]
pub struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for shared in ALL {
            components
                .responses
                .insert(shared.name.to_string(), RefOr::T(response(shared)));
        }
        components
            .responses
            .insert(NOT_MODIFIED.to_string(), RefOr::T(not_modified()));
        for (path, item) in &mut openapi.paths.paths {
            if CONDITIONAL.contains(&path.as_str())
                && let Some(get) = item.get.as_mut()
            {
                conditional(get);
            }
            for operation in operations(item) {
                for parameter in operation.parameters.iter_mut().flatten() {
                    not_nullable(parameter);
                }
                for shared in Traits::of(path, operation).shared() {
                    operation
                        .responses
                        .responses
                        .entry(shared.status.to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(shared.name)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_lists_its_gates_and_readers() {
        let doc = serde_json::to_value(super::super::ops::docs::openapi()).unwrap_or_default();
        let responses = |path: &str, method: &str| {
            doc["paths"][path][method]["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        let evaluate = responses("/api/v2/strategies/evaluate", "post");
        for status in [
            "200", "400", "401", "403", "413", "415", "422", "429", "503", "504",
        ] {
            assert!(
                evaluate.iter().any(|s| s == status),
                "evaluate: {status} in {evaluate:?}"
            );
        }
        let health = responses("/health", "get");
        assert!(
            !health.iter().any(|s| s == "401"),
            "open routes need no token"
        );
        let detail = responses("/strategies/{id}", "get");
        assert!(detail.iter().any(|s| s == "404") && detail.iter().any(|s| s == "400"));
        // A route's own description wins over the shared one.
        assert!(
            doc["paths"]["/accounts"]["post"]["responses"]["403"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("quota_exceeded"))
        );
        assert_eq!(
            doc["components"]["responses"]["RateLimited"]["headers"]["Retry-After"]["schema"]["type"],
            "integer"
        );
        // Optional parameters are optional, not nullable.
        let params = doc["paths"]["/strategies/{id}"]["patch"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let if_match = params.iter().find(|p| p["name"] == "If-Match");
        assert_eq!(
            if_match.map(|p| (p["required"].clone(), p["schema"]["type"].clone())),
            Some((serde_json::json!(false), serde_json::json!("string")))
        );
    }

    #[test]
    fn cached_routes_are_conditional_and_others_are_not() {
        let doc = serde_json::to_value(super::super::ops::docs::openapi()).unwrap_or_default();
        let paths = doc["paths"].as_object().cloned().unwrap_or_default();
        for path in super::CONDITIONAL {
            let get = &doc["paths"][path]["get"];
            assert!(get.is_object(), "{path} is documented");
            assert!(get["responses"]["304"].is_object(), "{path}: 304");
            assert!(
                get["responses"]["200"]["headers"]["ETag"].is_object(),
                "{path}: ETag on 200"
            );
            let names: Vec<&str> = get["parameters"]
                .as_array()
                .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            assert!(names.contains(&"If-None-Match"), "{path}: {names:?}");
        }
        for (path, item) in &paths {
            if !super::CONDITIONAL.contains(&path.as_str()) {
                assert!(item["get"]["responses"]["304"].is_null(), "{path}: no 304");
            }
        }
    }
}
