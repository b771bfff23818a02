//! The JSON shapes of Dhan's option-chain REST API (reference `dhanhq.md` §4, §7.1),
//! shared by the client (which reads them) and the simulator (which writes them), so the
//! two cannot drift apart.
//!
//! Dhan's field names are kept verbatim through serde renames. Every per-contract field
//! is optional: older responses lack `security_id` and `average_price`, and either side
//! of a strike may be missing or null.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use instruments::ExchangeSegment;

/// Body of `POST /v2/optionchain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChainRequest {
    #[serde(rename = "UnderlyingScrip")]
    pub underlying_scrip: u32,
    #[serde(rename = "UnderlyingSeg")]
    pub underlying_seg: ExchangeSegment,
    /// `YYYY-MM-DD`.
    #[serde(rename = "Expiry")]
    pub expiry: String,
}

/// Body of `POST /v2/optionchain/expirylist`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryListRequest {
    #[serde(rename = "UnderlyingScrip")]
    pub underlying_scrip: u32,
    #[serde(rename = "UnderlyingSeg")]
    pub underlying_seg: ExchangeSegment,
}

/// Response of `POST /v2/optionchain/expirylist`: dates as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiryListResponse {
    pub data: Vec<String>,
    #[serde(default)]
    pub status: String,
}

/// Response of `POST /v2/optionchain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionChainResponse {
    pub data: OptionChainData,
    #[serde(default)]
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionChainData {
    /// The underlying's last price.
    pub last_price: f64,
    /// Keyed by the strike written with six decimals (`"25650.000000"`).
    pub oc: BTreeMap<String, StrikeSides>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StrikeSides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ce: Option<OptionSide>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe: Option<OptionSide>,
}

/// One call or put of the chain, as Dhan reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OptionSide {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oi: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_close_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_oi: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_volume: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implied_volatility: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_bid_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_bid_quantity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_ask_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_ask_quantity: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeks: Option<SideGreeks>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SideGreeks {
    #[serde(default)]
    pub delta: f64,
    #[serde(default)]
    pub theta: f64,
    #[serde(default)]
    pub gamma: f64,
    #[serde(default)]
    pub vega: f64,
}

/// Dhan's REST error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorCode")]
    pub error_code: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

/// The strike key Dhan uses in `oc`: six decimals.
pub fn strike_key(strike: f64) -> String {
    format!("{strike:.6}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The current example shape from Dhan's option-chain page (trimmed to one strike),
    /// including a strike with only one side.
    #[test]
    fn parses_dhans_option_chain_shape() {
        let body = r#"{
          "data": {
            "last_price": 25642.8,
            "oc": {
              "25650.000000": {
                "ce": {
                  "average_price": 146.99, "greeks": {"delta": 0.53871, "theta": -15.1539, "gamma": 0.00132, "vega": 12.18593},
                  "implied_volatility": 9.789, "last_price": 134, "oi": 3786445, "previous_close_price": 244.85,
                  "previous_oi": 402220, "previous_volume": 31931705, "security_id": 42528,
                  "top_ask_price": 134, "top_ask_quantity": 1365, "top_bid_price": 133.55, "top_bid_quantity": 1625, "volume": 117567970
                },
                "pe": null
              },
              "25700.000000": {"pe": {"last_price": 150.5, "oi": 10}}
            }
          },
          "status": "success"
        }"#;
        let parsed: OptionChainResponse = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.data.last_price, 25642.8);
        let first = &parsed.data.oc["25650.000000"];
        let ce = first.ce.as_ref().unwrap();
        assert_eq!(ce.security_id, Some(42528));
        assert_eq!(ce.top_bid_quantity, Some(1625));
        assert_eq!(ce.greeks.unwrap().gamma, 0.00132);
        assert!(first.pe.is_none());
        let second = &parsed.data.oc["25700.000000"];
        assert!(second.ce.is_none());
        assert_eq!(second.pe.as_ref().unwrap().security_id, None);
        assert_eq!(strike_key(25650.0), "25650.000000");
    }

    #[test]
    fn requests_use_dhans_field_names() {
        let request = OptionChainRequest {
            underlying_scrip: 13,
            underlying_seg: ExchangeSegment::IdxI,
            expiry: "2024-10-31".into(),
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            serde_json::json!({"UnderlyingScrip": 13, "UnderlyingSeg": "IDX_I", "Expiry": "2024-10-31"})
        );
        let error: ErrorBody = serde_json::from_str(
            r#"{"errorType":"Input_Exception","errorCode":"DH-905","errorMessage":"Missing required fields"}"#,
        )
        .unwrap();
        assert_eq!(error.error_code, "DH-905");
    }
}
