//! The market model's invariants: determinism, no-arbitrage prices on the tick grid,
//! the smile, the volatility of the index walk, well-formed books and day statistics,
//! and that a step reports exactly the quotes it changed.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use super::{SimMarket, SimQuote, price_on};
use crate::universe::{SimUniverseConfig, build_universe};
use instruments::{InstrumentKey, InstrumentKind};

const TODAY: Date = date!(2026 - 11 - 18);
/// 09:30 IST on a Wednesday.
const START: OffsetDateTime = datetime!(2026-11-18 04:00 UTC);
const QUARTER_SECOND: Duration = Duration::from_millis(250);

fn default_market(seed: u64) -> SimMarket {
    SimMarket::new(
        build_universe(&SimUniverseConfig::default(), TODAY),
        seed,
        START,
    )
}

/// NIFTY at its configured volatility and BANKNIFTY at an unusual one, few strikes.
fn small_market(seed: u64) -> SimMarket {
    let mut config = SimUniverseConfig::default();
    config.underlyings.truncate(2);
    for spec in &mut config.underlyings {
        spec.strikes_each_side = 3;
    }
    if let Some(bank) = config.underlyings.get_mut(1) {
        bank.atm_vol = 0.30;
    }
    SimMarket::new(build_universe(&config, TODAY), seed, START)
}

fn all_quotes(market: &SimMarket) -> Vec<(InstrumentKey, SimQuote)> {
    market
        .universe()
        .instruments
        .iter()
        .map(|i| (i.key, *market.quote(&i.key).unwrap()))
        .collect()
}

fn on_grid(price: f64, tick: f64) -> bool {
    ((price / tick) - (price / tick).round()).abs() < 1e-6
}

#[test]
fn same_seed_same_market_and_different_seed_differs() {
    let (mut a, mut b, mut c) = (default_market(42), default_market(42), default_market(43));
    assert_eq!(all_quotes(&a), all_quotes(&b));
    assert_ne!(all_quotes(&a), all_quotes(&c));
    for _ in 0..100 {
        let changed_a = a.step(QUARTER_SECOND).to_vec();
        assert_eq!(changed_a, b.step(QUARTER_SECOND));
        c.step(QUARTER_SECOND);
    }
    assert_eq!(all_quotes(&a), all_quotes(&b));
    assert_eq!(a.now(), b.now());
    assert_eq!(a.spot("NIFTY"), b.spot("NIFTY"));
    assert_ne!(a.spot("NIFTY"), c.spot("NIFTY"));
    let expiry = date!(2026 - 11 - 24);
    assert_eq!(
        a.option_chain("NIFTY", expiry),
        b.option_chain("NIFTY", expiry)
    );
}

#[test]
fn model_prices_respect_no_arbitrage_bounds_and_parity() {
    let mut market = default_market(7);
    for round in 0..2 {
        let mut checked = 0;
        for book in market.books.iter().filter(|b| b.live) {
            let atm_vol = market.underlyings[book.underlying].atm_vol;
            let (f, discount) = (book.market.forward(), book.market.discount());
            for row in &book.rows {
                let k = row.strike;
                let (call, _) = price_on(&book.market, atm_vol, k, true);
                let (put, _) = price_on(&book.market, atm_vol, k, false);
                let slack = 1e-9 * f;
                assert!(call / discount >= (f - k).max(0.0) - slack, "call {k}");
                assert!(call / discount <= f + slack, "call {k}");
                assert!(put / discount >= (k - f).max(0.0) - slack, "put {k}");
                assert!(put / discount <= k + slack, "put {k}");
                let parity = call - put - discount * (f - k);
                assert!(parity.abs() < 1e-6 * f, "parity {k}: {parity}");
                checked += 1;
            }
        }
        assert!(checked > 1_500, "round {round}: {checked}");
        for _ in 0..200 {
            market.step(QUARTER_SECOND);
        }
    }
    // Quoted prices sit on the tick grid, at least one tick.
    for instrument in &market.universe().instruments {
        let quote = market.quote(&instrument.key).unwrap();
        if instrument.kind == InstrumentKind::Index {
            assert!(on_grid(quote.ltp, 0.01));
            continue;
        }
        let tick = instrument.tick_size;
        for price in [
            quote.ltp,
            quote.open,
            quote.high,
            quote.low,
            quote.prev_close,
        ] {
            assert!(
                price >= tick - 1e-9 && on_grid(price, tick),
                "{}",
                instrument.symbol
            );
        }
        for level in quote.depth {
            assert!(on_grid(level.bid_price, tick) && on_grid(level.ask_price, tick));
        }
    }
}

#[test]
fn smile_puts_more_volatility_on_low_strikes() {
    let market = default_market(3);
    for spec in market.universe().underlyings() {
        for &expiry in market.universe().expiries(&spec.name) {
            let chain = market.option_chain(&spec.name, expiry).unwrap();
            let lowest = chain.strikes.first().unwrap();
            let atm = chain
                .strikes
                .iter()
                .min_by(|a, b| {
                    (a.strike - chain.spot)
                        .abs()
                        .total_cmp(&(b.strike - chain.spot).abs())
                })
                .unwrap();
            let highest = chain.strikes.last().unwrap();
            assert!(lowest.put.1.iv > atm.put.1.iv, "{} {expiry}", spec.name);
            assert!(
                lowest.put.1.iv > highest.call.1.iv,
                "{} {expiry}",
                spec.name
            );
            // One smile per strike: call and put share it.
            assert_eq!(atm.call.1.iv, atm.put.1.iv);
        }
    }
}

#[test]
fn index_walk_has_the_configured_volatility() {
    let mut market = small_market(11);
    let names = ["NIFTY", "BANKNIFTY"];
    let mut previous: Vec<f64> = names.iter().map(|n| market.spot(n).unwrap()).collect();
    let mut sum_squares = [0.0; 2];
    let steps = 6_000;
    for _ in 0..steps {
        market.step(Duration::from_secs(60));
        for (i, name) in names.iter().enumerate() {
            let spot = market.spot(name).unwrap();
            sum_squares[i] += (spot / previous[i]).ln().powi(2);
            previous[i] = spot;
        }
    }
    let years_per_step = 60.0 / (252.0 * 6.25 * 3600.0);
    for (i, configured) in [0.12, 0.30].into_iter().enumerate() {
        let realised = (sum_squares[i] / f64::from(steps) / years_per_step).sqrt();
        assert!(
            (realised / configured - 1.0).abs() < 0.15,
            "{}: realised {realised}, configured {configured}",
            names[i]
        );
    }
}

#[test]
fn quotes_stay_well_formed_while_stepping() {
    let mut market = default_market(5);
    let lots: HashMap<InstrumentKey, u32> = market
        .universe()
        .instruments
        .iter()
        .map(|i| (i.key, i.lot_size))
        .collect();
    let mut volumes: HashMap<InstrumentKey, u64> = all_quotes(&market)
        .into_iter()
        .map(|(key, quote)| (key, quote.volume))
        .collect();
    let initial_oi: Vec<u64> = all_quotes(&market).iter().map(|(_, q)| q.oi).collect();
    for _ in 0..400 {
        let changed = market.step(QUARTER_SECOND).to_vec();
        for key in changed {
            let quote = *market.quote(&key).unwrap();
            let volume = volumes.get_mut(&key).unwrap();
            assert!(quote.volume >= *volume, "volume fell for {key:?}");
            *volume = quote.volume;
            if key.segment == instruments::ExchangeSegment::IdxI {
                assert!(quote.low <= quote.ltp && quote.ltp <= quote.high);
                continue;
            }
            let lot = lots[&key];
            assert!(quote.oi_day_low <= quote.oi && quote.oi <= quote.oi_day_high);
            assert!(quote.low <= quote.ltp && quote.ltp <= quote.high);
            assert!(quote.atp >= quote.low - 1e-9 && quote.atp <= quote.high + 1e-9);
            assert_eq!(quote.oi % u64::from(lot), 0);
            let [best, ..] = quote.depth;
            assert!(best.bid_price > 0.0 && best.bid_price < best.ask_price);
            for pair in quote.depth.windows(2) {
                assert!(pair[1].ask_price > pair[0].ask_price);
                assert!(pair[1].bid_price < pair[0].bid_price || pair[1].bid_price == 0.0);
            }
            for level in quote.depth.iter().filter(|l| l.bid_price > 0.0) {
                assert!(level.bid_qty > 0 && level.bid_qty % lot == 0);
                assert!(level.ask_qty > 0 && level.ask_qty % lot == 0);
                assert!((1..=20).contains(&level.bid_orders));
                assert!((1..=20).contains(&level.ask_orders));
            }
        }
    }
    let final_oi: Vec<u64> = all_quotes(&market).iter().map(|(_, q)| q.oi).collect();
    assert!(initial_oi != final_oi, "OI never moved");
}

#[test]
fn trading_concentrates_near_the_money() {
    let mut market = default_market(9);
    let expiry = date!(2026 - 11 - 24);
    let before = market.option_chain("NIFTY", expiry).unwrap();
    for _ in 0..2_000 {
        market.step(QUARTER_SECOND);
    }
    let after = market.option_chain("NIFTY", expiry).unwrap();
    let spot = after.spot;
    let (mut near, mut far) = (0_u64, 0_u64);
    for (b, a) in before.strikes.iter().zip(&after.strikes) {
        let traded = a.call.1.volume - b.call.1.volume + a.put.1.volume - b.put.1.volume;
        let distance = (a.strike - spot).abs();
        if distance <= 250.0 {
            near += traded;
        } else if distance >= 1_000.0 {
            far += traded;
        }
    }
    // 11 strikes near the money against 40-odd far from it.
    assert!(near > 2 * far, "near {near}, far {far}");
}

#[test]
fn step_reports_exactly_the_quotes_it_changed() {
    let mut market = default_market(21);
    let mut saw_index = false;
    for _ in 0..60 {
        let before: HashMap<_, _> = all_quotes(&market).into_iter().collect();
        let reported = market.step(QUARTER_SECOND).to_vec();
        let unique: HashSet<_> = reported.iter().copied().collect();
        assert_eq!(unique.len(), reported.len(), "a key reported twice");
        let actually: HashSet<_> = all_quotes(&market)
            .into_iter()
            .filter(|(key, quote)| before[key] != *quote)
            .map(|(key, _)| key)
            .collect();
        assert_eq!(unique, actually);
        saw_index |= reported
            .iter()
            .any(|k| k.segment == instruments::ExchangeSegment::IdxI);
    }
    assert!(saw_index);
}

#[test]
fn option_chain_agrees_with_quotes_and_has_sane_greeks() {
    let market = default_market(4);
    let expiry = date!(2026 - 12 - 29);
    let chain = market.option_chain("BANKNIFTY", expiry).unwrap();
    let listed = market.universe().chain("BANKNIFTY", expiry);
    assert_eq!(chain.strikes.len(), listed.len());
    assert_eq!(Some(chain.spot), market.spot("BANKNIFTY"));
    for (row, strike) in chain.strikes.iter().zip(listed) {
        assert_eq!(
            (row.strike, row.call.0, row.put.0),
            (strike.strike, strike.call, strike.put)
        );
        for (key, quote, _) in [&row.call, &row.put] {
            let stored = market.quote(key).unwrap();
            assert_eq!(
                (quote.ltp, quote.oi, quote.depth),
                (stored.ltp, stored.oi, stored.depth)
            );
        }
        let (call, put) = (row.call.2, row.put.2);
        assert!(call.delta > 0.0 && call.delta < 1.0 && put.delta < 0.0 && put.delta > -1.0);
        assert!(
            (call.delta - put.delta - 1.0).abs() < 0.02,
            "forward deltas differ by D"
        );
        assert!(call.gamma >= 0.0 && call.vega >= 0.0);
    }
    let atm = chain
        .strikes
        .iter()
        .min_by(|a, b| {
            (a.strike - chain.spot)
                .abs()
                .total_cmp(&(b.strike - chain.spot).abs())
        })
        .unwrap();
    // A one-month at-the-money BANKNIFTY option: theta tens of points a day, vega tens
    // of points per vol point.
    assert!(
        atm.call.2.theta < -5.0 && atm.call.2.vega > 10.0,
        "{:?}",
        atm.call.2
    );
    assert!(
        market
            .option_chain("BANKNIFTY", date!(2026 - 12 - 30))
            .is_none()
    );
    assert!(market.option_chain("NOSUCH", expiry).is_none());
}

#[test]
fn expired_series_stop_trading() {
    // 16:30 IST on the day of November's monthly expiry.
    let start = datetime!(2026-11-24 11:00 UTC);
    let today = date!(2026 - 11 - 24);
    let mut market = SimMarket::new(
        build_universe(&SimUniverseConfig::default(), today),
        8,
        start,
    );
    let expired: HashSet<InstrumentKey> = market
        .universe()
        .instruments
        .iter()
        .filter(|i| matches!(i.kind, InstrumentKind::Option { expiry, .. } if expiry == today))
        .map(|i| i.key)
        .collect();
    assert!(!expired.is_empty());
    let chain = market.option_chain("NIFTY", today).unwrap();
    for row in &chain.strikes {
        let intrinsic = (chain.spot - row.strike).max(0.0);
        assert!((row.call.1.ltp - intrinsic.max(0.05)).abs() <= 0.05 + 1e-9);
    }
    let mut traded = 0;
    for _ in 0..200 {
        let changed = market.step(QUARTER_SECOND);
        assert!(changed.iter().all(|k| !expired.contains(k)));
        traded += changed.len();
    }
    assert!(traded > 0, "later series still trade");
}

#[test]
fn open_interest_leans_put_below_and_call_above() {
    let market = default_market(12);
    let chain = market.option_chain("NIFTY", date!(2026 - 11 - 24)).unwrap();
    let (mut calls_below, mut puts_below, mut calls_above, mut puts_above) = (0, 0, 0, 0);
    for row in &chain.strikes {
        if row.strike < chain.spot {
            calls_below += row.call.1.oi;
            puts_below += row.put.1.oi;
        } else {
            calls_above += row.call.1.oi;
            puts_above += row.put.1.oi;
        }
        for side in [&row.call.1, &row.put.1] {
            let ratio = side.prev_oi as f64 / side.oi.max(1) as f64;
            assert!(side.oi < 1_000 || (0.7..1.4).contains(&ratio), "{ratio}");
        }
    }
    assert!(puts_below > calls_below && calls_above > puts_above);
    let oi_at = |i: usize| chain.strikes[i].call.1.oi + chain.strikes[i].put.1.oi;
    let centre = chain.strikes.len() / 2;
    assert!(oi_at(centre) > 10 * oi_at(0));
    assert!(
        chain
            .strikes
            .iter()
            .any(|r| r.call.1.prev_close != r.call.1.ltp)
    );
}

/// Not a check: prints the cost of one step for the report. Run with
/// `cargo test --release -p optionhub --lib step_cost -- --ignored --nocapture`.
#[test]
#[ignore = "timing print, run by hand in release"]
fn step_cost_report() {
    let mut market = default_market(1);
    for _ in 0..400 {
        market.step(QUARTER_SECOND);
    }
    let steps = 4_000;
    let mut changed = 0;
    let started = Instant::now();
    for _ in 0..steps {
        changed += market.step(QUARTER_SECOND).len();
    }
    let elapsed = started.elapsed();
    println!(
        "{} instruments: {:.1} µs per step(250 ms), {:.0} changed keys per step",
        market.universe().instruments.len(),
        elapsed.as_secs_f64() * 1e6 / f64::from(steps),
        changed as f64 / f64::from(steps)
    );
    assert!(changed > 0);
}
