//! The REST client for Dhan's option-chain API: expiry lists and option chains, used to
//! seed chains at start and to refresh bid/ask that the feed's lower tiers do not carry.
//!
//! Dhan's limits are kept here, where the requests are made, so no caller can exceed
//! them: one request per 3 s for each distinct (underlying, expiry) option chain, and
//! 5 requests per second across all Data APIs (reference `dhanhq.md` §4.1, §6). A call
//! waits for its turn rather than failing, because every caller of this client is a
//! background task that would retry anyway.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Date;
use time::macros::format_description;
use url::Url;

use super::error::RestError;
use super::types::{
    ExpiryListRequest, ExpiryListResponse, OptionChainData, OptionChainRequest, OptionChainResponse,
};
use crate::DhanCredentials;
use crate::endpoint::rest_url;
use instruments::InstrumentKey;

/// Dhan's documented cadence for one distinct option-chain request.
pub const OPTION_CHAIN_PERIOD: Duration = Duration::from_secs(3);
/// Dhan's Data-API budget per second.
pub const DATA_API_PER_SECOND: u32 = 5;
/// How long one request may take before it counts as a transport failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A rate-limited client of Dhan's option-chain REST API.
#[derive(Debug)]
pub struct DhanRestClient {
    http: reqwest::Client,
    /// `https://api.dhan.co` or the simulator's address; endpoint paths are appended
    /// to its path.
    base_url: Url,
    credentials: DhanCredentials,
    per_chain: DefaultKeyedRateLimiter<(InstrumentKey, Date)>,
    data_api: DefaultDirectRateLimiter,
}

impl DhanRestClient {
    /// A client with Dhan's own limits.
    pub fn new(base_url: &Url, credentials: DhanCredentials) -> Result<Self, RestError> {
        Self::with_chain_period(base_url, credentials, OPTION_CHAIN_PERIOD)
    }

    /// As [`DhanRestClient::new`] with a different per-chain cadence (the simulator's
    /// tests shorten it; production never goes below Dhan's 3 s).
    pub fn with_chain_period(
        base_url: &Url,
        credentials: DhanCredentials,
        chain_period: Duration,
    ) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // Every request carries the access token in a custom header, which reqwest
            // would resend to wherever a redirect points (it strips only the standard
            // credential headers). Dhan's API never redirects: a 3xx is an error.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| RestError::Transport(e.to_string()))?;
        let per_chain = Quota::with_period(chain_period)
            .ok_or_else(|| RestError::Transport("option-chain period must be positive".into()))?;
        let data_api = data_api_quota();
        Ok(Self {
            http,
            base_url: base_url.clone(),
            credentials,
            per_chain: RateLimiter::keyed(per_chain),
            data_api: RateLimiter::direct(data_api),
        })
    }

    /// The expiries Dhan lists for an underlying (`IDX_I` key), sorted ascending.
    pub async fn expiry_list(&self, underlying: InstrumentKey) -> Result<Vec<Date>, RestError> {
        let request = ExpiryListRequest {
            underlying_scrip: underlying.security_id,
            underlying_seg: underlying.segment,
        };
        let response: ExpiryListResponse = self
            .post(&["v2", "optionchain", "expirylist"], &request)
            .await?;
        let mut expiries = response
            .data
            .iter()
            .map(|text| parse_date(text))
            .collect::<Result<Vec<_>, _>>()?;
        // Dhan does not document the order.
        expiries.sort_unstable();
        expiries.dedup();
        Ok(expiries)
    }

    /// One option chain: the underlying's last price and every strike's two sides.
    pub async fn option_chain(
        &self,
        underlying: InstrumentKey,
        expiry: Date,
    ) -> Result<OptionChainData, RestError> {
        self.per_chain.until_key_ready(&(underlying, expiry)).await;
        let request = OptionChainRequest {
            underlying_scrip: underlying.security_id,
            underlying_seg: underlying.segment,
            expiry: format_date(expiry),
        };
        let response: OptionChainResponse = self.post(&["v2", "optionchain"], &request).await?;
        Ok(response.data)
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &[&str],
        body: &B,
    ) -> Result<R, RestError> {
        self.data_api.until_ready().await;
        let response = self
            .http
            .post(rest_url(&self.base_url, path))
            .header("access-token", self.credentials.access_token())
            .header("client-id", self.credentials.client_id())
            .json(body)
            .send()
            .await
            .map_err(|e| RestError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| RestError::Transport(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(RestError::from_response(status.as_u16(), &text));
        }
        serde_json::from_str(&text).map_err(|e| RestError::UnexpectedBody(e.to_string()))
    }
}

/// Dhan's Data-API budget as a quota: one request every 1/5 s and no burst. Governor's
/// `per_second(5)` would allow a burst of 5 on top of the steady rate, so a full bucket
/// could put nine requests into one second; with no burst, no second-long window holds
/// more than five.
fn data_api_quota() -> Quota {
    let per_second = NonZeroU32::new(DATA_API_PER_SECOND).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(NonZeroU32::MIN)
}

/// `YYYY-MM-DD`, the date format of Dhan's REST API.
pub fn format_date(date: Date) -> String {
    let format = format_description!("[year]-[month]-[day]");
    date.format(&format).unwrap_or_else(|_| date.to_string())
}

/// Parses Dhan's `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<Date, RestError> {
    let format = format_description!("[year]-[month]-[day]");
    Date::parse(text, &format)
        .map_err(|e| RestError::UnexpectedBody(format!("bad date {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn no_second_long_window_holds_more_than_the_data_api_budget() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::direct_with_clock(data_api_quota(), clock.clone());
        // Ask every 10 ms for 3 s; remember when each request was let through.
        let mut allowed = Vec::new();
        for tick in 0..300_u64 {
            if limiter.check().is_ok() {
                allowed.push(tick * 10);
            }
            clock.advance(Duration::from_millis(10));
        }
        let budget = usize::try_from(DATA_API_PER_SECOND).unwrap_or(usize::MAX);
        for (i, start) in allowed.iter().enumerate() {
            let in_window = allowed[i..]
                .iter()
                .take_while(|at| **at < start + 1000)
                .count();
            assert!(in_window <= budget, "{in_window} requests from {start} ms");
        }
        // And the budget is used, not wasted: 3 s at five a second.
        assert!(
            allowed.len() >= 3 * budget,
            "only {} allowed",
            allowed.len()
        );
    }
}
