//! Building the registry: grouping instruments by underlying, checking each configured
//! underlying has its index row and options, and deriving each expiry's lot size, tick
//! size, strike step and flag from its contracts.
//!
//! Disagreements within an expiry (lot sizes mid-revision, a stray flag) are resolved
//! by majority and recorded as warnings rather than refused: a scrip master that is
//! slightly odd must not stop the server.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use time::Date;

use super::{
    ContractLocation, Entry, ExpiryInfo, ExpiryIssue, FutureContract, InstrumentRegistry,
    RegistryError, RegistryWarning, StrikeRow, UnderlyingInfo,
};
use crate::scrip_master::canonical_underlying;
use crate::{ExchangeSegment, ExpiryFlag, Instrument, InstrumentKey, InstrumentKind, OptionRight};

/// Strike gaps are compared in units of 1/10000 rupee, so float noise in strikes such
/// as `100.05` cannot split one gap into several.
const GAP_UNITS_PER_RUPEE: f64 = 10_000.0;

/// One option as the chain needs it.
#[derive(Debug, Clone, Copy)]
struct Leg {
    key: InstrumentKey,
    strike: f64,
    right: OptionRight,
    flag: ExpiryFlag,
    lot_size: u32,
    tick_size: f64,
}

/// An underlying's contracts while they are being collected.
#[derive(Debug, Default)]
struct Collected {
    index: Option<InstrumentKey>,
    futures: Vec<FutureContract>,
    options: BTreeMap<Date, Vec<Leg>>,
}

impl InstrumentRegistry {
    /// Builds the registry of `underlyings` (config names; case and aliases do not
    /// matter) from a scrip master's instruments. Instruments of other underlyings are
    /// dropped. Fails, naming them, if an underlying lacks its index row (`IDX_I`) or
    /// any option; options may be in `NSE_FNO` or `BSE_FNO` (SENSEX is BSE's).
    pub fn build(
        instruments: Vec<Instrument>,
        underlyings: &[String],
    ) -> Result<Self, RegistryError> {
        let names = canonical_names(underlyings);
        let (collected, mut entries) = collect_all(instruments, &names)?;
        let mut missing_index = Vec::new();
        let mut missing_options = Vec::new();
        let mut warnings = Vec::new();
        let mut infos = Vec::with_capacity(names.len());
        for (underlying, (name, group)) in names.into_iter().zip(collected).enumerate() {
            let Some(index) = group.index else {
                missing_index.push(name);
                continue;
            };
            if group.options.is_empty() {
                missing_options.push(name);
                continue;
            }
            let expiries = locate_expiries(
                &name,
                underlying,
                group.options,
                &mut entries,
                &mut warnings,
            );
            let mut futures = group.futures;
            futures.sort_by_key(|future| (future.expiry, future.key));
            infos.push(UnderlyingInfo {
                name,
                index,
                expiries,
                futures,
            });
        }
        // Every problem of one kind at once, so one restart fixes the config.
        if !missing_index.is_empty() {
            return Err(RegistryError::MissingIndex(missing_index));
        }
        if !missing_options.is_empty() {
            return Err(RegistryError::MissingOptions(missing_options));
        }
        for warning in &warnings {
            tracing::warn!(?warning, "scrip master oddity resolved");
        }
        Ok(Self {
            entries,
            underlyings: infos,
            warnings,
        })
    }
}

/// The configured names in canonical form (aliases resolved, upper case), each once,
/// in the configured order.
fn canonical_names(underlyings: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(underlyings.len());
    for name in underlyings {
        let name = canonical_underlying(name).to_ascii_uppercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Files every instrument of a configured underlying under its group (one per name,
/// in `names` order), and keeps an entry for each by key; others are dropped.
fn collect_all(
    instruments: Vec<Instrument>,
    names: &[String],
) -> Result<(Vec<Collected>, HashMap<InstrumentKey, Entry>), RegistryError> {
    let position: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut collected: Vec<Collected> = names.iter().map(|_| Collected::default()).collect();
    let mut entries = HashMap::with_capacity(instruments.len());
    for instrument in instruments {
        let name = canonical_underlying(&instrument.underlying).to_ascii_uppercase();
        let Some(group) = position
            .get(name.as_str())
            .and_then(|&i| collected.get_mut(i))
        else {
            continue;
        };
        collect(group, &instrument, &name)?;
        let key = instrument.key;
        let entry = Entry {
            instrument,
            location: None,
        };
        if entries.insert(key, entry).is_some() {
            return Err(RegistryError::DuplicateKey(key));
        }
    }
    Ok((collected, entries))
}

/// One underlying's expiries from its options, each contract's entry told where it
/// sits in the chain; oddities resolved along the way are added to `warnings`.
fn locate_expiries(
    name: &str,
    underlying: usize,
    options: BTreeMap<Date, Vec<Leg>>,
    entries: &mut HashMap<InstrumentKey, Entry>,
    warnings: &mut Vec<RegistryWarning>,
) -> Vec<ExpiryInfo> {
    let mut expiries = Vec::with_capacity(options.len());
    for (expiry, legs) in options {
        let mut warn = |issue| {
            warnings.push(RegistryWarning {
                underlying: name.to_owned(),
                expiry,
                issue,
            });
        };
        let Some(info) = expiry_info(expiry, legs, &mut warn) else {
            continue;
        };
        for (strike, row) in info.strikes.iter().enumerate() {
            for right in [OptionRight::Call, OptionRight::Put] {
                if let Some(entry) = row.side(right).and_then(|key| entries.get_mut(&key)) {
                    entry.location = Some(ContractLocation {
                        underlying,
                        expiry: expiries.len(),
                        strike,
                        right,
                    });
                }
            }
        }
        expiries.push(info);
    }
    expiries
}

/// Files one instrument of a configured underlying under its role.
fn collect(
    group: &mut Collected,
    instrument: &Instrument,
    name: &str,
) -> Result<(), RegistryError> {
    let key = instrument.key;
    match instrument.kind {
        InstrumentKind::Index if key.segment == ExchangeSegment::IdxI => match group.index {
            Some(first) if first != key => {
                return Err(RegistryError::AmbiguousIndex {
                    underlying: name.to_owned(),
                    first,
                    second: key,
                });
            }
            _ => group.index = Some(key),
        },
        // An index row outside IDX_I is not the spot the feed quotes; keep it out of
        // the chain (it stays reachable through `get`).
        InstrumentKind::Index => {}
        InstrumentKind::Future { expiry } => group.futures.push(FutureContract { expiry, key }),
        InstrumentKind::Option {
            expiry,
            strike,
            right,
            expiry_flag,
        } => group.options.entry(expiry).or_default().push(Leg {
            key,
            strike,
            right,
            flag: expiry_flag,
            lot_size: instrument.lot_size,
            tick_size: instrument.tick_size,
        }),
    }
    Ok(())
}

/// One expiry from its contracts; `None` if there are none.
fn expiry_info(
    expiry: Date,
    mut legs: Vec<Leg>,
    warn: &mut impl FnMut(ExpiryIssue),
) -> Option<ExpiryInfo> {
    legs.sort_by(|a, b| {
        a.strike
            .total_cmp(&b.strike)
            .then(a.right.cmp(&b.right))
            .then(a.key.cmp(&b.key))
    });
    let strikes = strike_rows(&legs, warn);
    let lot = most_common(legs.iter().map(|leg| leg.lot_size).collect(), Ord::cmp)?;
    if lot.seen.len() > 1 {
        warn(ExpiryIssue::LotSizes {
            chosen: lot.chosen,
            seen: lot.seen,
        });
    }
    let tick = most_common(
        legs.iter().map(|leg| leg.tick_size).collect(),
        f64::total_cmp,
    )?;
    if tick.seen.len() > 1 {
        warn(ExpiryIssue::TickSizes {
            chosen: tick.chosen,
            seen: tick.seen,
        });
    }
    let flag = most_common(legs.iter().map(|leg| leg.flag).collect(), Ord::cmp)?;
    if flag.seen.len() > 1 {
        warn(ExpiryIssue::ExpiryFlags {
            chosen: flag.chosen,
            seen: flag.seen,
        });
    }
    let distinct: Vec<f64> = strikes.iter().map(|row: &StrikeRow| row.strike).collect();
    Some(ExpiryInfo {
        expiry,
        flag: flag.chosen,
        lot_size: lot.chosen,
        tick_size: tick.chosen,
        strike_step: strike_step(&distinct),
        strikes,
    })
}

/// The chain's rows from contracts sorted by strike: one row per strike, the first
/// contract of each side kept and any other reported.
fn strike_rows(legs: &[Leg], warn: &mut impl FnMut(ExpiryIssue)) -> Vec<StrikeRow> {
    let mut strikes = Vec::new();
    for same_strike in legs.chunk_by(|a, b| a.strike == b.strike) {
        let Some(first) = same_strike.first() else {
            continue;
        };
        let mut row = StrikeRow {
            strike: first.strike,
            call: None,
            put: None,
        };
        for leg in same_strike {
            let side = match leg.right {
                OptionRight::Call => &mut row.call,
                OptionRight::Put => &mut row.put,
            };
            match *side {
                Some(kept) => warn(ExpiryIssue::DuplicateContract {
                    strike: leg.strike,
                    right: leg.right,
                    kept,
                    dropped: leg.key,
                }),
                None => *side = Some(leg.key),
            }
        }
        strikes.push(row);
    }
    strikes
}

/// The most common gap between adjacent strikes (ascending, distinct); ties go to the
/// smaller gap; 0 with fewer than two strikes.
pub(super) fn strike_step(strikes: &[f64]) -> f64 {
    let gaps: Vec<i64> = strikes
        .windows(2)
        .filter_map(|pair| match pair {
            // Strikes are at most a few lakh: the product fits i64 with room to spare.
            [low, high] => Some(((high - low) * GAP_UNITS_PER_RUPEE).round() as i64),
            _ => None,
        })
        .collect();
    most_common(gaps, Ord::cmp).map_or(0.0, |gap| gap.chosen as f64 / GAP_UNITS_PER_RUPEE)
}

/// The outcome of a majority vote.
#[derive(Debug, Clone, PartialEq)]
struct Tally<T> {
    /// The most frequent value; ties go to the smallest.
    chosen: T,
    /// Every distinct value, ascending.
    seen: Vec<T>,
}

/// Majority vote; `None` for an empty list.
fn most_common<T: Copy>(
    mut values: Vec<T>,
    order: impl Fn(&T, &T) -> Ordering,
) -> Option<Tally<T>> {
    values.sort_by(&order);
    let mut best: Option<(T, usize)> = None;
    let mut seen = Vec::new();
    for run in values.chunk_by(|a, b| order(a, b) == Ordering::Equal) {
        let Some(&value) = run.first() else { continue };
        seen.push(value);
        // Runs arrive ascending, so keeping the first of equal counts keeps the smaller.
        if best.is_none_or(|(_, count)| run.len() > count) {
            best = Some((value, run.len()));
        }
    }
    best.map(|(chosen, _)| Tally { chosen, seen })
}
