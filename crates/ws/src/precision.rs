//! The precision of the Greeks in WebSocket chains: each at the precision a trading
//! screen shows, not the sixteen digits a float prints.
//!
//! Every Greeks recomputation moves every Greek of every contract in the last digits,
//! so at full precision each recomputation is a delta of all 7 Greeks of all contracts
//! (about 35 KB for a NIFTY chain, several times a second, to every subscriber). At
//! display precision only the Greeks that moved visibly are sent. The model's own
//! accuracy (an IV solved to about 1e-6, prices on a 0.05 tick) is far coarser than
//! what is dropped. REST answers keep full precision; README states both.

use serde_json::{Number, Value};

/// Decimal places of each Greek: prices, theta, vega and rho in rupees (paise), IV
/// (a decimal: 0.0001 is 0.01 vol point) and delta to 4, gamma to 6.
pub(super) const GREEK_DECIMALS: [(&str, i32); 7] = [
    ("price", 2),
    ("iv", 4),
    ("delta", 4),
    ("gamma", 6),
    ("theta", 2),
    ("vega", 2),
    ("rho", 2),
];

/// Rounds the contract Greeks of a serialised chain in place.
pub(super) fn round_chain_greeks(chain: &mut Value) {
    let Some(rows) = chain.get_mut("strikes").and_then(Value::as_array_mut) else {
        return;
    };
    for row in rows {
        for side in ["call", "put"] {
            let greeks = row
                .get_mut(side)
                .and_then(|contract| contract.get_mut("greeks"))
                .and_then(Value::as_object_mut);
            let Some(greeks) = greeks else { continue };
            for (name, places) in GREEK_DECIMALS {
                if let Some(value) = greeks.get_mut(name)
                    && let Some(x) = value.as_f64()
                {
                    *value = rounded(x, places);
                }
            }
        }
    }
}

fn rounded(x: f64, places: i32) -> Value {
    let scale = 10f64.powi(places);
    let r = (x * scale).round() / scale;
    // No "-0.0" on the wire.
    let r = if r == 0.0 { 0.0 } else { r };
    Number::from_f64(r).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn greeks_are_rounded_to_display_precision_and_nothing_else_is() {
        let mut chain = json!({
            "spot": 25_012.345_678,
            "strikes": [{
                "strike": 25_000.0,
                "call": {"ltp": 101.05, "greeks": {
                    "price": 101.046_789, "iv": 0.123_456_7, "delta": 0.512_345_6,
                    "gamma": 0.000_712_345, "theta": -12.903_21, "vega": 13.004_9,
                    "rho": 1.234_9, "iv_status": "solved"
                }},
                "put": {"ltp": 90.0, "greeks": {"delta": -0.000_01, "price": 0.001}},
            }, {"strike": 25_050.0, "call": null, "put": null}]
        });
        round_chain_greeks(&mut chain);
        assert_eq!(
            chain["strikes"][0]["call"]["greeks"],
            json!({
                "price": 101.05, "iv": 0.1235, "delta": 0.5123, "gamma": 0.000712,
                "theta": -12.9, "vega": 13.0, "rho": 1.23, "iv_status": "solved"
            })
        );
        assert_eq!(
            chain["strikes"][0]["put"]["greeks"],
            json!({"delta": 0.0, "price": 0.0})
        );
        assert_eq!(
            chain["strikes"][0]["put"]["greeks"]["delta"].to_string(),
            "0.0"
        );
        assert_eq!(chain["spot"], 25_012.345_678, "only Greeks are rounded");
        assert_eq!(chain["strikes"][0]["call"]["ltp"], 101.05);
    }
}
