//! One instrument's state (the `instrument:` channel), computed host-side from what the
//! market and the Greeks worker already hold: no plugin call. The chain views of
//! `/ws/fo/stream` are the REST routes' answers ([`crate::ChainViews`]).

use serde::Serialize;
use time::Date;

use super::channel::{InstrumentTarget, Place};
use crate::state::WsState;
use analytics::ContractGreeks;
use instruments::{ExchangeSegment, OptionRight};
use market::book::InstrumentBook;

/// One instrument's state: what it is, its book, and (options) its Greeks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentData {
    pub security_id: u32,
    pub segment: ExchangeSegment,
    pub symbol: String,
    pub underlying: String,
    /// `option` or `index`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strike: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub right: Option<OptionRight>,
    #[serde(flatten)]
    pub book: InstrumentBook,
    pub greeks: Option<ContractGreeks>,
}

/// The instrument's state now; `None` if the market no longer knows it.
pub(super) fn instrument_data(
    state: &WsState,
    target: &InstrumentTarget,
) -> Option<InstrumentData> {
    let (book, greeks, expiry, strike, right, kind) = match target.place {
        Place::Option { strike, right, .. } => {
            let book = state.market.contract_book(&target.key)?;
            let greeks = state
                .greeks
                .get(&target.chain)
                .and_then(|g| g.contracts.get(&target.key.security_id).copied());
            (
                book,
                greeks,
                Some(target.chain.expiry),
                Some(strike),
                Some(right),
                "option",
            )
        }
        Place::Index => (
            state.market.underlying_book(&target.chain.underlying)?,
            None,
            None,
            None,
            None,
            "index",
        ),
    };
    Some(InstrumentData {
        security_id: target.key.security_id,
        segment: target.key.segment,
        symbol: target.symbol.clone(),
        underlying: target.chain.underlying.clone(),
        kind,
        expiry,
        strike,
        right,
        book,
        greeks,
    })
}
