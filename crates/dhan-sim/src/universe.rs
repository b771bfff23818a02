//! The simulator's contract universe: which indices and index options exist on a given
//! day, with the security ids, symbols, lot and tick sizes a scrip master would list.
//!
//! It is computed from the date alone (expiries from [`super::expiry_calendar`], a
//! strike grid around each configured spot), so a simulator started on any day lists
//! live contracts without a downloaded master. Ids are sequential per segment, which
//! keeps them unique within a segment as Dhan's are and stable for a given day.

use std::collections::HashMap;

use time::{Date, Month, Weekday};

use super::expiry_calendar::expiry_schedule;
use instruments::{
    ExchangeSegment, ExpiryFlag, Instrument, InstrumentKey, InstrumentKind, OptionRight,
};

/// First security id the simulator hands out in `NSE_FNO`.
pub const FIRST_NSE_FNO_ID: u32 = 35_000;
/// First security id the simulator hands out in `BSE_FNO`.
pub const FIRST_BSE_FNO_ID: u32 = 800_000;

/// One underlying index and the option series the simulator lists on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimUnderlyingSpec {
    /// `NIFTY`, `BANKNIFTY`, …: the underlying name of its instruments.
    pub name: String,
    /// The index's id in `IDX_I` (dhanhq.md §8).
    pub index_security_id: u32,
    /// Where its options trade: `NSE_FNO`, or `BSE_FNO` for SENSEX.
    pub fno_segment: ExchangeSegment,
    /// The index level the simulation starts at.
    pub spot: f64,
    pub strike_step: f64,
    /// Strikes listed on each side of the at-the-money strike.
    pub strikes_each_side: u32,
    pub lot_size: u32,
    /// Option price tick in rupees.
    pub tick_size: f64,
    /// At-the-money implied volatility, annual, as a decimal.
    pub atm_vol: f64,
    /// The weekday of the weekly series, if the index has one.
    pub weekly: Option<Weekday>,
    /// The monthly series expires on the last such weekday of the month.
    pub monthly: Weekday,
    /// Weekly expiries listed, the current week's included.
    pub weekly_count: u32,
    /// Monthly expiries listed.
    pub monthly_count: u32,
}

/// What the simulator lists.
#[derive(Debug, Clone, PartialEq)]
pub struct SimUniverseConfig {
    pub underlyings: Vec<SimUnderlyingSpec>,
}

impl SimUniverseConfig {
    /// The same underlyings expiring on other weekdays: NSE-traded options on `nse`,
    /// BSE-traded ones on `bse` (weekly series on that day, monthly on the month's last).
    #[must_use]
    pub fn with_expiry_weekdays(mut self, nse: Weekday, bse: Weekday) -> Self {
        for spec in &mut self.underlyings {
            let day = if spec.fno_segment == ExchangeSegment::BseFno {
                bse
            } else {
                nse
            };
            spec.monthly = day;
            if spec.weekly.is_some() {
                spec.weekly = Some(day);
            }
        }
        self
    }
}

impl Default for SimUniverseConfig {
    /// Late-2026 levels, lot sizes and expiry weekdays of the five index underlyings.
    fn default() -> Self {
        let nse = |name: &str, id, spot, step, lot, vol, weekly| SimUnderlyingSpec {
            name: name.to_owned(),
            index_security_id: id,
            fno_segment: ExchangeSegment::NseFno,
            spot,
            strike_step: step,
            strikes_each_side: 40,
            lot_size: lot,
            tick_size: 0.05,
            atm_vol: vol,
            weekly,
            monthly: Weekday::Tuesday,
            weekly_count: 4,
            monthly_count: 3,
        };
        let sensex = SimUnderlyingSpec {
            fno_segment: ExchangeSegment::BseFno,
            weekly: Some(Weekday::Thursday),
            monthly: Weekday::Thursday,
            ..nse("SENSEX", 51, 85_000.0, 100.0, 20, 0.12, None)
        };
        Self {
            underlyings: vec![
                nse(
                    "NIFTY",
                    13,
                    26_000.0,
                    50.0,
                    75,
                    0.12,
                    Some(Weekday::Tuesday),
                ),
                nse("BANKNIFTY", 25, 59_000.0, 100.0, 35, 0.14, None),
                nse("FINNIFTY", 27, 27_500.0, 50.0, 65, 0.13, None),
                nse("MIDCPNIFTY", 442, 13_500.0, 25.0, 140, 0.16, None),
                sensex,
            ],
        }
    }
}

/// One strike of one expiry: its call and put.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimStrike {
    pub strike: f64,
    pub call: InstrumentKey,
    pub put: InstrumentKey,
}

/// One listed expiry and its strikes, lowest strike first.
#[derive(Debug, Clone, PartialEq)]
struct SimSeries {
    flag: ExpiryFlag,
    strikes: Vec<SimStrike>,
}

#[derive(Debug, Clone, PartialEq)]
struct SimUnderlying {
    spec: SimUnderlyingSpec,
    index_key: InstrumentKey,
    /// Sorted; parallel to `series`.
    expiries: Vec<Date>,
    series: Vec<SimSeries>,
}

/// Every instrument the simulator lists on one day, with the lookups its server needs.
#[derive(Debug, Clone)]
pub struct SimUniverse {
    /// Indices first (in config order), then each underlying's options by expiry,
    /// strike, call before put.
    pub instruments: Vec<Instrument>,
    underlyings: Vec<SimUnderlying>,
    positions: HashMap<InstrumentKey, usize>,
}

impl SimUniverse {
    /// The configured underlyings, in config order.
    pub fn underlyings(&self) -> impl Iterator<Item = &SimUnderlyingSpec> {
        self.underlyings.iter().map(|u| &u.spec)
    }

    pub fn underlying_spec(&self, name: &str) -> Option<&SimUnderlyingSpec> {
        self.underlying(name).map(|u| &u.spec)
    }

    /// The underlying whose index has this `IDX_I` security id (the option chain
    /// request's `UnderlyingScrip`).
    pub fn underlying_by_index_id(&self, security_id: u32) -> Option<&SimUnderlyingSpec> {
        self.underlyings
            .iter()
            .find(|u| u.spec.index_security_id == security_id)
            .map(|u| &u.spec)
    }

    /// The `IDX_I` key of an underlying's index.
    pub fn index_key(&self, name: &str) -> Option<InstrumentKey> {
        self.underlying(name).map(|u| u.index_key)
    }

    /// An underlying's expiries in date order; empty for an unknown name.
    pub fn expiries(&self, name: &str) -> &[Date] {
        self.underlying(name).map_or(&[], |u| u.expiries.as_slice())
    }

    /// Whether an expiry is weekly or monthly; `None` if it is not listed.
    pub fn expiry_flag(&self, name: &str, expiry: Date) -> Option<ExpiryFlag> {
        self.series(name, expiry).map(|s| s.flag)
    }

    /// The strikes of one expiry, lowest first; empty if the expiry is not listed.
    pub fn chain(&self, name: &str, expiry: Date) -> &[SimStrike] {
        self.series(name, expiry)
            .map_or(&[], |s| s.strikes.as_slice())
    }

    pub fn instrument(&self, key: &InstrumentKey) -> Option<&Instrument> {
        self.position(key).and_then(|i| self.instruments.get(i))
    }

    /// Where an instrument sits in [`SimUniverse::instruments`].
    pub fn position(&self, key: &InstrumentKey) -> Option<usize> {
        self.positions.get(key).copied()
    }

    fn underlying(&self, name: &str) -> Option<&SimUnderlying> {
        self.underlyings.iter().find(|u| u.spec.name == name)
    }

    fn series(&self, name: &str, expiry: Date) -> Option<&SimSeries> {
        let underlying = self.underlying(name)?;
        let at = underlying.expiries.binary_search(&expiry).ok()?;
        underlying.series.get(at)
    }
}

/// Lists the contracts of `config` as of `today`. An underlying whose name or index id
/// repeats an earlier one is skipped (it would break key uniqueness), with a warning.
pub fn build_universe(config: &SimUniverseConfig, today: Date) -> SimUniverse {
    let mut universe = SimUniverse {
        instruments: Vec::new(),
        underlyings: Vec::new(),
        positions: HashMap::new(),
    };
    let mut next_nse_id = FIRST_NSE_FNO_ID;
    let mut next_bse_id = FIRST_BSE_FNO_ID;

    let mut accepted = Vec::new();
    for spec in &config.underlyings {
        let repeated = accepted.iter().any(|a: &&SimUnderlyingSpec| {
            a.name == spec.name || a.index_security_id == spec.index_security_id
        });
        if repeated {
            tracing::warn!(underlying = %spec.name, "simulator: duplicate underlying skipped");
            continue;
        }
        accepted.push(spec);
        universe.push(Instrument {
            key: InstrumentKey::new(ExchangeSegment::IdxI, spec.index_security_id),
            symbol: spec.name.clone(),
            underlying: spec.name.clone(),
            kind: InstrumentKind::Index,
            lot_size: 1,
            tick_size: 0.01,
        });
    }

    for spec in accepted {
        let next_id = match spec.fno_segment {
            ExchangeSegment::BseFno => &mut next_bse_id,
            _ => &mut next_nse_id,
        };
        let underlying = list_options(&mut universe, spec, today, next_id);
        universe.underlyings.push(underlying);
    }
    universe
}

impl SimUniverse {
    fn push(&mut self, instrument: Instrument) {
        self.positions
            .insert(instrument.key, self.instruments.len());
        self.instruments.push(instrument);
    }
}

/// Adds one underlying's options to `universe`, taking ids from `next_id` onwards.
fn list_options(
    universe: &mut SimUniverse,
    spec: &SimUnderlyingSpec,
    today: Date,
    next_id: &mut u32,
) -> SimUnderlying {
    let schedule = expiry_schedule(
        today,
        spec.weekly.map(|day| (day, spec.weekly_count)),
        (spec.monthly, spec.monthly_count),
    );
    let strikes = strike_grid(spec.spot, spec.strike_step, spec.strikes_each_side);
    let mut underlying = SimUnderlying {
        spec: spec.clone(),
        index_key: InstrumentKey::new(ExchangeSegment::IdxI, spec.index_security_id),
        expiries: Vec::with_capacity(schedule.len()),
        series: Vec::with_capacity(schedule.len()),
    };
    for expiry in schedule {
        let mut series = SimSeries {
            flag: expiry.flag,
            strikes: Vec::with_capacity(strikes.len()),
        };
        for &strike in &strikes {
            let mut list = |right| {
                let key = InstrumentKey::new(spec.fno_segment, *next_id);
                *next_id = next_id.saturating_add(1);
                universe.push(Instrument {
                    key,
                    symbol: option_symbol(&spec.name, expiry.date, expiry.flag, strike, right),
                    underlying: spec.name.clone(),
                    kind: InstrumentKind::Option {
                        expiry: expiry.date,
                        strike,
                        right,
                        expiry_flag: expiry.flag,
                    },
                    lot_size: spec.lot_size,
                    tick_size: spec.tick_size,
                });
                key
            };
            let call = list(OptionRight::Call);
            let put = list(OptionRight::Put);
            series.strikes.push(SimStrike { strike, call, put });
        }
        underlying.expiries.push(expiry.date);
        underlying.series.push(series);
    }
    underlying
}

/// Strikes `spot` rounded to `step`, ± `each_side` steps; none that is not positive.
/// Each strike is an integer multiple of `step`, so no drift from repeated addition.
pub fn strike_grid(spot: f64, step: f64, each_side: u32) -> Vec<f64> {
    if step.is_nan() || step <= 0.0 || !spot.is_finite() {
        return Vec::new();
    }
    // spot / step of an index and the strike multiples are far inside i64 and 2^53.
    let centre = (spot / step).round() as i64;
    let side = i64::from(each_side);
    (centre - side..=centre + side)
        .map(|multiple| multiple as f64 * step)
        .filter(|&strike| strike > 0.0)
        .collect()
}

/// Dhan-style trading symbol, `NIFTY-Nov2026-26000-CE`. Weekly contracts carry the day
/// as well (`NIFTY-03Nov2026-26000-CE`) so that every symbol names one contract.
fn option_symbol(
    name: &str,
    expiry: Date,
    flag: ExpiryFlag,
    strike: f64,
    right: OptionRight,
) -> String {
    let side = match right {
        OptionRight::Call => "CE",
        OptionRight::Put => "PE",
    };
    let month = month_abbreviation(expiry.month());
    let year = expiry.year();
    match flag {
        ExpiryFlag::Monthly => format!("{name}-{month}{year}-{strike}-{side}"),
        ExpiryFlag::Weekly => {
            let day = expiry.day();
            format!("{name}-{day:02}{month}{year}-{strike}-{side}")
        }
    }
}

fn month_abbreviation(month: Month) -> &'static str {
    match month {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    }
}

#[cfg(test)]
mod tests;
