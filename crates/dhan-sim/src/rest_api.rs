//! The simulator's REST side: Dhan's option chain and expiry list with Dhan's JSON
//! shapes (the very types the client parses), its header auth, its one-request-per-3-s
//! limit per distinct request, its error bodies, and the scrip master CSV.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::model::{SimChain, SimGreeks, SimQuote};
use super::server::{RestFault, SimShared};
use dhan::rest::client::{format_date, parse_date};
use dhan::rest::types::{
    ErrorBody, ExpiryListRequest, ExpiryListResponse, OptionChainData, OptionChainRequest,
    OptionChainResponse, OptionSide, SideGreeks, StrikeSides, strike_key,
};
use instruments::{ExchangeSegment, InstrumentKey};

fn dhan_error(status: StatusCode, error_type: &str, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error_type: error_type.into(),
        error_code: code.into(),
        error_message: message.into(),
    };
    (status, Json(body)).into_response()
}

fn bad_input(message: &str) -> Response {
    dhan_error(
        StatusCode::BAD_REQUEST,
        "Input_Exception",
        "DH-905",
        message,
    )
}

/// Header auth plus any fault a test asked for.
fn check(headers: &HeaderMap, shared: &SimShared) -> Result<(), Box<Response>> {
    let credentials = &shared.config.credentials;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let expired = shared
        .token_expired
        .load(std::sync::atomic::Ordering::SeqCst);
    if header("access-token") != Some(credentials.access_token())
        || header("client-id") != Some(credentials.client_id())
        || expired
    {
        return Err(Box::new(dhan_error(
            StatusCode::UNAUTHORIZED,
            "Invalid_Authentication",
            "DH-901",
            "Client ID or user generated access token is invalid or expired.",
        )));
    }
    match *shared.rest_fault.lock() {
        Some(RestFault::RateLimited) => Err(Box::new(rate_limited())),
        Some(RestFault::InternalError) => Err(Box::new(dhan_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal_Server_Error",
            "DH-908",
            "Internal server error",
        ))),
        None => Ok(()),
    }
}

fn rate_limited() -> Response {
    dhan_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate_Limit",
        "DH-904",
        "Too many requests on server from single user breaching rate limits. Try throttling API calls.",
    )
}

fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(bad_input(&format!(
            "Missing required fields, bad values for parameters etc.: {e}"
        )))
    })
}

/// The underlying an `IDX_I` security id names.
fn underlying_name(shared: &SimShared, scrip: u32, segment: ExchangeSegment) -> Option<String> {
    if segment != ExchangeSegment::IdxI {
        return None;
    }
    let key = InstrumentKey::new(segment, scrip);
    let market = shared.market.lock();
    market
        .universe()
        .instruments
        .iter()
        .find(|i| i.key == key)
        .map(|i| i.underlying.clone())
}

/// The underlying a request names, as Dhan's requests spell it.
trait NamesUnderlying {
    fn underlying(&self) -> (u32, ExchangeSegment);
}

impl NamesUnderlying for ExpiryListRequest {
    fn underlying(&self) -> (u32, ExchangeSegment) {
        (self.underlying_scrip, self.underlying_seg)
    }
}

impl NamesUnderlying for OptionChainRequest {
    fn underlying(&self) -> (u32, ExchangeSegment) {
        (self.underlying_scrip, self.underlying_seg)
    }
}

/// Checks the headers (and any injected fault), parses the body and finds the
/// underlying it names: everything the REST handlers share.
fn accept<T: serde::de::DeserializeOwned + NamesUnderlying>(
    shared: &SimShared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(T, String), Box<Response>> {
    check(headers, shared)?;
    let request: T = parse_body(body)?;
    let (scrip, segment) = request.underlying();
    let name = underlying_name(shared, scrip, segment)
        .ok_or_else(|| Box::new(bad_input("unknown UnderlyingScrip")))?;
    Ok((request, name))
}

pub(crate) async fn expiry_list(
    State(shared): State<Arc<SimShared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (_, name) = match accept::<ExpiryListRequest>(&shared, &headers, &body) {
        Ok(accepted) => accepted,
        Err(response) => return *response,
    };
    let market = shared.market.lock();
    let data = market
        .universe()
        .expiries(&name)
        .iter()
        .map(|d| format_date(*d))
        .collect();
    Json(ExpiryListResponse {
        data,
        status: "success".into(),
    })
    .into_response()
}

pub(crate) async fn option_chain(
    State(shared): State<Arc<SimShared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (request, name) = match accept::<OptionChainRequest>(&shared, &headers, &body) {
        Ok(accepted) => accepted,
        Err(response) => return *response,
    };
    let distinct = format!(
        "{}:{}:{}",
        request.underlying_seg, request.underlying_scrip, request.expiry
    );
    if shared.rest_limiter.check_key(&distinct).is_err() {
        return rate_limited();
    }
    let Ok(expiry) = parse_date(&request.expiry) else {
        return bad_input("Expiry must be YYYY-MM-DD");
    };
    let chain = shared.market.lock().option_chain(&name, expiry);
    match chain {
        Some(chain) => Json(OptionChainResponse {
            data: chain_data(&chain),
            status: "success".into(),
        })
        .into_response(),
        None => dhan_error(
            StatusCode::BAD_REQUEST,
            "Data_Error",
            "DH-907",
            "no data for this expiry",
        ),
    }
}

fn chain_data(chain: &SimChain) -> OptionChainData {
    let oc = chain
        .strikes
        .iter()
        .map(|row| {
            let (call_key, call, call_greeks) = &row.call;
            let (put_key, put, put_greeks) = &row.put;
            (
                strike_key(row.strike),
                StrikeSides {
                    ce: Some(side(call_key, call, call_greeks)),
                    pe: Some(side(put_key, put, put_greeks)),
                },
            )
        })
        .collect();
    OptionChainData {
        last_price: chain.spot,
        oc,
    }
}

fn side(key: &InstrumentKey, q: &SimQuote, g: &SimGreeks) -> OptionSide {
    let best = q.depth.first();
    OptionSide {
        security_id: Some(key.security_id),
        last_price: Some(q.ltp),
        average_price: Some(q.atp),
        oi: Some(q.oi),
        previous_close_price: Some(q.prev_close),
        previous_oi: Some(q.prev_oi),
        previous_volume: Some(q.prev_volume),
        volume: Some(q.volume),
        // Dhan quotes IV in percent.
        implied_volatility: Some(q.iv * 100.0),
        top_bid_price: best.map(|l| l.bid_price),
        top_bid_quantity: best.map(|l| u64::from(l.bid_qty)),
        top_ask_price: best.map(|l| l.ask_price),
        top_ask_quantity: best.map(|l| u64::from(l.ask_qty)),
        greeks: Some(SideGreeks {
            delta: g.delta,
            theta: g.theta,
            gamma: g.gamma,
            vega: g.vega,
        }),
    }
}

pub(crate) async fn scrip_master(State(shared): State<Arc<SimShared>>) -> Response {
    let csv = shared.scrip_master_csv.as_ref().clone();
    ([(header::CONTENT_TYPE, "text/csv")], csv).into_response()
}
