//! `GET /api/v2/analytics/{plugin}?underlying=&expiry=&<params>`: runs a loaded
//! `custom-analytics` plugin on a priced chain and returns its self-describing result
//! (named scalars, series and tables with units), stamped with the plugin version and
//! the chain sequence it was computed at.
//!
//! Every query parameter other than `underlying` and `expiry` is handed to the plugin as
//! a string, after checking it against what the plugin declares in `params()`: a typo is
//! a 400 naming the valid parameters, not a silently ignored setting. Answers go through
//! the response cache, keyed by the plugin's content hash, so a hot swap is never served
//! the previous version's answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use super::AppState;
use super::cache::{CachedJson, KeyBuilder, to_json};
use super::error::ErrorBody;
use super::extract::{ApiPath, ApiQuery};
use super::params;
use super::priced::{chain_greeks, chain_view, current_version, input_version, priced_chain};
use crate::api::error::{AppError, ErrorCode};
use crate::plugins::live_greeks::ChainGreeks;
use crate::plugins::{LoadedPlugin, PluginStamp, World, custom};

/// The query parameters that select the chain; everything else goes to the plugin.
const CHAIN_PARAMS: [&str; 2] = ["underlying", "expiry"];

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/analytics/{plugin}", get(run))
}

/// The custom-analytics route, for the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    paths(run),
    components(schemas(AnalyticsResponse, NamedScalar, NamedSeries, NamedTable, ErrorBody))
)]
pub struct AnalyticsApi;

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedScalar {
    pub name: String,
    pub unit: String,
    pub value: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamedSeries {
    pub name: String,
    pub unit: String,
    pub values: Vec<f64>,
}

/// Columns of equal length.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedTable {
    pub name: String,
    pub columns: Vec<NamedSeries>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsResponse {
    /// The plugin version that computed this.
    pub plugin: PluginStamp,
    pub underlying: String,
    pub expiry: Date,
    /// The chain's sequence number this was computed at.
    pub seq: u64,
    /// Every declared parameter with the value used: the request's, else the declared
    /// default.
    pub params: BTreeMap<String, String>,
    pub scalars: Vec<NamedScalar>,
    pub series: Vec<NamedSeries>,
    pub tables: Vec<NamedTable>,
    /// The Greeks computation the chain was priced with.
    pub greeks: ChainGreeks,
}

fn series(s: custom::NamedSeries) -> NamedSeries {
    NamedSeries {
        name: s.name,
        unit: s.unit,
        values: s.values,
    }
}

/// The loaded custom-analytics plugin called `name`, or a 404 listing them / a 400 for a
/// plugin of another world.
fn custom_plugin(state: &AppState, name: &str) -> Result<Arc<LoadedPlugin>, AppError> {
    let registry = state.plugins.registry();
    let loaded = || {
        let names: Vec<String> = registry
            .active_plugins()
            .iter()
            .filter(|p| p.world() == World::CustomAnalytics)
            .map(|p| p.name().to_string())
            .collect();
        if names.is_empty() {
            "none is loaded".to_string()
        } else {
            format!("loaded: {}", names.join(", "))
        }
    };
    let Some(plugin) = registry.active(name) else {
        return Err(AppError::NotFound {
            code: ErrorCode::PluginNotFound,
            message: format!("no custom-analytics plugin named {name:?}; {}", loaded()),
        });
    };
    if plugin.world() != World::CustomAnalytics {
        return Err(AppError::BadRequest {
            code: ErrorCode::WrongWorld,
            message: format!(
                "{name} is an {} plugin; this route runs custom-analytics plugins ({})",
                plugin.world(),
                loaded()
            ),
        });
    }
    Ok(plugin)
}

/// Query parameters by name.
type Params = BTreeMap<String, String>;

/// Splits the query into the chain selectors and the plugin's parameters, refusing a
/// name given twice.
fn split_query(pairs: Vec<(String, String)>) -> Result<(Params, Params), AppError> {
    let mut chain = BTreeMap::new();
    let mut plugin = BTreeMap::new();
    for (name, value) in pairs {
        let target = if CHAIN_PARAMS.contains(&name.as_str()) {
            &mut chain
        } else {
            &mut plugin
        };
        if target.contains_key(&name) {
            return Err(AppError::BadRequest {
                code: ErrorCode::DuplicateParameter,
                message: format!("query parameter `{name}` is given more than once"),
            });
        }
        target.insert(name, value);
    }
    Ok((chain, plugin))
}

/// Checks the given parameters against the declared ones; returns every declared
/// parameter with its effective value.
fn effective_params(
    plugin: &str,
    specs: &[custom::ParamSpec],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, AppError> {
    if let Some(unknown) = given.keys().find(|k| !specs.iter().any(|s| &s.name == *k)) {
        let valid: Vec<String> = specs
            .iter()
            .map(|s| {
                format!(
                    "{} (default {:?}: {})",
                    s.name, s.default_value, s.description
                )
            })
            .collect();
        return Err(AppError::BadRequest {
            code: ErrorCode::UnknownParameter,
            message: format!(
                "{plugin} has no parameter `{unknown}`; valid parameters besides underlying and \
                 expiry: {}",
                if valid.is_empty() {
                    "none".to_string()
                } else {
                    valid.join("; ")
                }
            ),
        });
    }
    Ok(specs
        .iter()
        .map(|s| {
            let value = given.get(&s.name).unwrap_or(&s.default_value);
            (s.name.clone(), value.clone())
        })
        .collect())
}

/// Runs a custom-analytics plugin on a chain.
#[utoipa::path(
    get,
    path = "/api/v2/analytics/{plugin}",
    tag = "analytics",
    params(
        ("plugin" = String, Path, description = "Name of a loaded custom-analytics plugin", example = "gamma-exposure"),
        ("underlying" = String, Query, description = "Underlying name, any case", min_length = 1),
        ("expiry" = String, Query, description = "Expiry date, YYYY-MM-DD", format = Date, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    ),
    responses(
        (status = 200, description = "The plugin's result; other query parameters are the plugin's own (see its `params()`)", body = AnalyticsResponse),
        (status = 400, description = "Malformed query, a parameter the plugin does not declare, or a plugin of another world", body = ErrorBody),
        (status = 404, description = "Unknown plugin (the message lists the loaded ones), underlying or expiry", body = ErrorBody),
        (status = 422, description = "The plugin rejected a parameter value", body = ErrorBody),
        (status = 503, description = "The chain's Greeks are not computed yet", body = ErrorBody),
    )
)]
pub async fn run(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<Vec<(String, String)>>,
) -> Result<CachedJson, AppError> {
    let (chain_params, given) = split_query(query)?;
    let plugin = custom_plugin(&state, &name)?;
    let id = params::chain_id(
        &state,
        chain_params.get("underlying").map(String::as_str),
        chain_params.get("expiry").map(String::as_str),
    )?;
    let mut keys = KeyBuilder::new("/api/v2/analytics")
        .param("plugin", &name)
        .param("underlying", &id.underlying)
        .param("expiry", id.expiry);
    for (param, value) in &given {
        keys = keys.param(format!("param.{param}"), value);
    }
    let lookup = keys.key(current_version(&state, &id, Some(&plugin.hash))?);
    let cache = Arc::clone(&state.cache);
    cache
        .respond(lookup, || async move {
            let specs = {
                let plugin = Arc::clone(&plugin);
                state
                    .plugins
                    .blocking(move |host| plugin.custom_params(host.engine(), host.limits()))
                    .await??
            };
            let effective = effective_params(&name, &specs, &given)?;
            let view = chain_view(&state, &id)?;
            let greeks = chain_greeks(&state, &id)?;
            let input = priced_chain(&view, &greeks, state.greeks.rate())?;
            let pairs: Vec<(String, String)> = given.into_iter().collect();
            let stamped = {
                let name = name.clone();
                state
                    .plugins
                    .blocking(move |host| host.call_custom(&name, &input, &pairs))
                    .await??
            };
            let key = keys.key(input_version(view.seq, &greeks, Some(&stamped.plugin.hash)));
            let result = stamped.value;
            let response = AnalyticsResponse {
                plugin: stamped.plugin,
                underlying: id.underlying,
                expiry: id.expiry,
                seq: view.seq,
                params: effective,
                scalars: result
                    .scalars
                    .into_iter()
                    .map(|s| NamedScalar {
                        name: s.name,
                        unit: s.unit,
                        value: s.value,
                    })
                    .collect(),
                series: result.series.into_iter().map(series).collect(),
                tables: result
                    .tables
                    .into_iter()
                    .map(|t| NamedTable {
                        name: t.name,
                        columns: t.columns.into_iter().map(series).collect(),
                    })
                    .collect(),
                greeks: (*greeks).clone(),
            };
            Ok((key, to_json(&response)?))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, default: &str) -> custom::ParamSpec {
        custom::ParamSpec {
            name: name.into(),
            description: format!("the {name}"),
            default_value: default.into(),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_query_splits_into_chain_and_plugin_parameters() {
        let (chain, plugin) = split_query(pairs(&[
            ("window", "5"),
            ("underlying", "nifty"),
            ("expiry", "2026-11-24"),
            ("scale", "rupees"),
        ]))
        .expect("splits");
        assert_eq!(chain.len(), 2);
        assert_eq!(plugin.keys().collect::<Vec<_>>(), ["scale", "window"]);
        let twice = split_query(pairs(&[("window", "1"), ("window", "2")]));
        assert!(matches!(
            twice,
            Err(AppError::BadRequest {
                code: ErrorCode::DuplicateParameter,
                ..
            })
        ));
    }

    #[test]
    fn declared_parameters_get_defaults_and_unknown_ones_are_refused() {
        let specs = [spec("window", "0"), spec("scale", "crore")];
        let given = BTreeMap::from([("window".to_string(), "5".to_string())]);
        let effective = effective_params("gex", &specs, &given).expect("valid");
        assert_eq!(effective.get("window").map(String::as_str), Some("5"));
        assert_eq!(effective.get("scale").map(String::as_str), Some("crore"));
        let typo = BTreeMap::from([("windw".to_string(), "5".to_string())]);
        match effective_params("gex", &specs, &typo) {
            Err(AppError::BadRequest { code, message }) => {
                assert_eq!(code, ErrorCode::UnknownParameter);
                assert!(
                    message.contains("windw")
                        && message.contains("window")
                        && message.contains("scale")
                );
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }
}
