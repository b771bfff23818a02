//! The market over the simulator's contract universe: packets land in the right books,
//! sequences move once per frame and only for the chains a frame touched, REST chains
//! seed without overriding the feed, and the subscription plan keeps Dhan's limits.

use std::collections::BTreeMap;
use std::sync::Arc;

use time::macros::date;

use super::MarketState;
use super::subscriptions::plan;
use super::view::ChainId;
use crate::{OnDemandConfig, TierConfig};
use dhan::codec::encode_packet;
use dhan::live::FeedLimits;
use dhan::packet::{OpenInterest, Packet, PacketBody, Ticker};
use dhan::requests::FeedMode;
use dhan::rest::types::{OptionChainData, OptionSide, StrikeSides, strike_key};
use dhan::status::{FeedSource, FeedStatus};
use dhan_sim::universe::{SimUniverseConfig, build_universe};
use instruments::registry::InstrumentRegistry;
use instruments::{ExchangeSegment, InstrumentKey};

/// A Wednesday: NIFTY's next weekly is the following Tuesday.
const TODAY: time::Date = date!(2026 - 11 - 18);

fn registry() -> Arc<InstrumentRegistry> {
    let universe = build_universe(&SimUniverseConfig::default(), TODAY);
    let names = crate::DEFAULT_UNDERLYINGS.map(String::from).to_vec();
    Arc::new(InstrumentRegistry::build(universe.instruments, &names).unwrap())
}

fn market() -> MarketState {
    MarketState::new(
        registry(),
        Arc::new(FeedStatus::new(FeedSource::Simulator)),
        19_800,
    )
}

fn frame(packets: &[(InstrumentKey, PacketBody)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (key, body) in packets {
        encode_packet(
            &Packet {
                key: *key,
                body: *body,
            },
            &mut out,
        );
    }
    out
}

fn ticker(ltp: f32) -> PacketBody {
    PacketBody::Ticker(Ticker {
        ltp,
        ltt: 1_795_300_000,
    })
}

/// NIFTY's nearest chain and the call/put keys at its middle strike.
fn nifty_atm(market: &MarketState) -> (ChainId, InstrumentKey, InstrumentKey) {
    let info = market.registry().underlying("NIFTY").unwrap();
    let expiry = &info.expiries[0];
    let row = &expiry.strikes[expiry.strikes.len() / 2];
    let id = ChainId {
        underlying: "NIFTY".into(),
        expiry: expiry.expiry,
    };
    (id, row.call.unwrap(), row.put.unwrap())
}

#[test]
fn packets_land_in_their_books_and_the_sequence_moves_once_per_frame() {
    let market = market();
    let (id, call, put) = nifty_atm(&market);
    let before = market.chain_view(&id).unwrap().seq;
    let applied = market.apply_frame(
        &frame(&[
            (call, ticker(101.05)),
            (put, ticker(99.9)),
            (call, PacketBody::Oi(OpenInterest { oi: 4_500 })),
        ]),
        1_000,
    );
    assert_eq!(applied, 3);
    let view = market.chain_view(&id).unwrap();
    assert_eq!(view.seq, before + 1, "one frame, one step of the sequence");
    assert_eq!(view.as_of_ns, 1_000);
    let row = view
        .rows
        .iter()
        .find(|r| r.call.as_ref().is_some_and(|c| c.key() == call))
        .unwrap();
    assert_eq!(row.call.as_ref().unwrap().book.ltp, 101.05);
    assert_eq!(row.call.as_ref().unwrap().book.oi, 4_500);
    assert_eq!(row.put.as_ref().unwrap().book.ltp, 99.9);

    // Another underlying's chain did not move.
    let other = ChainId {
        underlying: "SENSEX".into(),
        expiry: market.registry().underlying("SENSEX").unwrap().expiries[0].expiry,
    };
    assert_eq!(market.chain_view(&other).unwrap().seq, 0);
}

#[test]
fn a_spot_tick_moves_every_chain_of_its_underlying_and_announces_it() {
    let market = market();
    let (id, _, _) = nifty_atm(&market);
    let mut watch = market.watch_chain(&id).unwrap();
    let nifty = InstrumentKey::new(ExchangeSegment::IdxI, 13);
    market.apply_frame(&frame(&[(nifty, ticker(26_012.35))]), 5);
    assert_eq!(market.spot("NIFTY"), Some(26_012.35));
    assert!(watch.has_changed().unwrap());
    assert_eq!(*watch.borrow_and_update(), 1);
    let nifty_chains = market
        .chain_ids()
        .into_iter()
        .filter(|c| c.underlying == "NIFTY");
    for chain in nifty_chains {
        assert_eq!(market.chain_view(&chain).unwrap().seq, 1, "{chain:?}");
    }
}

#[test]
fn unknown_instruments_and_bad_packets_are_counted_not_applied() {
    let market = market();
    let stranger = InstrumentKey::new(ExchangeSegment::NseFno, 9_999_999);
    let mut bytes = frame(&[(stranger, ticker(5.0))]);
    bytes.extend_from_slice(&[42, 8, 0, 2, 0, 0, 0, 0]);
    assert_eq!(market.apply_frame(&bytes, 1), 0);
    let status = market.status().snapshot();
    assert_eq!(status.unknown_instruments, 1);
    assert_eq!(status.decode_errors.get("unknown_code"), Some(&1));
}

#[test]
fn a_rest_chain_seeds_books_and_spot_but_never_overrides_the_feed() {
    let market = market();
    let (id, call, _) = nifty_atm(&market);
    market.apply_frame(&frame(&[(call, ticker(120.0))]), 1);
    let view = market.chain_view(&id).unwrap();
    let strike = view
        .rows
        .iter()
        .find(|r| r.call.as_ref().is_some_and(|c| c.key() == call))
        .unwrap()
        .strike;
    let side = OptionSide {
        last_price: Some(90.0),
        top_bid_price: Some(119.9),
        top_ask_price: Some(120.1),
        oi: Some(777),
        ..OptionSide::default()
    };
    let data = OptionChainData {
        last_price: 26_001.0,
        oc: BTreeMap::from([(
            strike_key(strike),
            StrikeSides {
                ce: Some(side.clone()),
                pe: Some(side),
            },
        )]),
    };
    let index = InstrumentKey::new(ExchangeSegment::IdxI, 13);
    assert!(market.apply_option_chain(index, id.expiry, &data, 2));
    let view = market.chain_view(&id).unwrap();
    let row = view.rows.iter().find(|r| r.strike == strike).unwrap();
    let call_book = row.call.as_ref().unwrap().book;
    assert_eq!(call_book.ltp, 120.0, "the feed's price stays");
    assert_eq!((call_book.bid, call_book.ask), (119.9, 120.1));
    let put_book = row.put.as_ref().unwrap().book;
    assert_eq!(
        (put_book.ltp, put_book.oi),
        (90.0, 777),
        "untouched by the feed: seeded"
    );
    assert_eq!(market.spot("NIFTY"), Some(26_001.0));
    assert!(
        !market.apply_option_chain(index, date!(2001 - 01 - 01), &data, 3),
        "unknown expiry"
    );
}

#[test]
fn the_plan_tiers_around_the_centre_within_dhans_limits() {
    let registry = registry();
    let tiers = TierConfig {
        expiries: 2,
        full_strikes: 2,
        quote_strikes: 5,
        range_strikes: 10,
    };
    let limits = FeedLimits::default();
    let centres = BTreeMap::from([("NIFTY".to_owned(), 26_000.0)]);
    let (subscriptions, summary) = plan(&registry, &centres, TODAY, &tiers, &limits, &[], &od());
    // Per expiry: 5 Full strikes, 6 Quote, 10 Ticker, two sides each; two expiries.
    assert_eq!(summary.by_mode.get("full"), Some(&(5 * 2 * 2)));
    assert_eq!(summary.by_mode.get("ticker"), Some(&(10 * 2 * 2)));
    // Every index is subscribed; only NIFTY has a centre, so only it has options.
    assert_eq!(summary.by_mode.get("quote"), Some(&(6 * 2 * 2 + 5)));
    assert_eq!(summary.by_underlying.get("BANKNIFTY"), Some(&1));
    assert_eq!(summary.connections, 1);
    let info = registry.underlying("NIFTY").unwrap();
    let atm = info.expiries[0]
        .strikes
        .iter()
        .find(|r| r.strike == 26_000.0)
        .unwrap();
    assert_eq!(subscriptions.get(&atm.call.unwrap()), Some(&FeedMode::Full));
    let far = info.expiries[0]
        .strikes
        .iter()
        .find(|r| r.strike == 26_000.0 + 50.0 * 11.0)
        .unwrap();
    assert_eq!(
        subscriptions.get(&far.call.unwrap()),
        None,
        "outside the range"
    );

    // A plan larger than one connection says how many it needs.
    let small = FeedLimits {
        max_connections: 5,
        max_instruments_per_connection: 50,
    };
    let (_, summary) = plan(&registry, &centres, TODAY, &tiers, &small, &[], &od());
    assert_eq!(summary.connections, summary.instruments.div_ceil(50));
}

fn od() -> OnDemandConfig {
    OnDemandConfig::default()
}

#[test]
fn wanted_chains_share_what_the_tiers_leave_and_never_exceed_the_budget() {
    let registry = registry();
    let tiers = TierConfig {
        expiries: 2,
        full_strikes: 2,
        quote_strikes: 5,
        range_strikes: 10,
    };
    let names = crate::DEFAULT_UNDERLYINGS.map(String::from).to_vec();
    let centres: BTreeMap<String, f64> = names
        .iter()
        .filter_map(|name| {
            let info = registry.underlying(name)?;
            let strikes = &info.expiries.first()?.strikes;
            Some((name.clone(), strikes.get(strikes.len() / 2)?.strike))
        })
        .collect();
    // Every listed expiry of every underlying, the tier ones included (those are
    // subscribed anyway and take no on-demand share).
    let wanted: Vec<ChainId> = registry
        .underlyings()
        .flat_map(|info| {
            info.live_expiries(TODAY).iter().map(|e| ChainId {
                underlying: info.name.clone(),
                expiry: e.expiry,
            })
        })
        .collect();
    let beyond_tiers = registry
        .underlyings()
        .map(|info| info.live_expiries(TODAY).len().saturating_sub(2))
        .sum::<usize>();
    assert!(beyond_tiers >= 10, "the simulator lists far expiries");
    let on_demand = OnDemandConfig {
        strikes: 15,
        idle: std::time::Duration::from_secs(60),
    };
    let roomy = FeedLimits::default();
    let (_, summary) = plan(
        &registry, &centres, TODAY, &tiers, &roomy, &wanted, &on_demand,
    );
    assert_eq!(summary.on_demand.len(), beyond_tiers);
    // Plenty of room: each gets ATM ± 15, both sides.
    assert!(
        summary.on_demand.values().all(|&n| n == 31 * 2),
        "{:?}",
        summary.on_demand
    );

    // A tight budget: 3 connections of 400. The tiers take theirs, the wanted chains
    // split the rest evenly, and the total fits.
    let tight = FeedLimits {
        max_connections: 3,
        max_instruments_per_connection: 400,
    };
    let (subscriptions, summary) = plan(
        &registry, &centres, TODAY, &tiers, &tight, &wanted, &on_demand,
    );
    assert!(
        subscriptions.len() <= tight.capacity(),
        "{}",
        subscriptions.len()
    );
    assert_eq!(summary.instruments, subscriptions.len());
    let shares: Vec<usize> = summary.on_demand.values().copied().collect();
    assert_eq!(shares.len(), beyond_tiers);
    let (min, max) = (shares.iter().min().copied(), shares.iter().max().copied());
    assert!(min > Some(0), "every wanted chain gets some: {shares:?}");
    assert!(
        max.zip(min).is_some_and(|(max, min)| max - min <= 1),
        "fair: {shares:?}"
    );
    assert!(summary.on_demand.values().sum::<usize>() <= summary.on_demand_budget);
    assert!(
        subscriptions
            .iter()
            .filter(|(_, mode)| **mode == FeedMode::Quote)
            .count()
            >= summary.on_demand.values().sum::<usize>()
    );
}
