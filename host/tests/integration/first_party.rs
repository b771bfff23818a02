//! The bundled plugins, called through the real components: the answers agree with the
//! same libraries run natively, and reproduce the reference vectors of
//! `options-analytics.md` end to end (WIT marshalling included).

use optionhub::plugins::{golden, oi, strategy, types};
use optionhub_pricing::chain as plain;

use crate::common::{host_with, scalar};

/// 2026-11-24 15:30 IST, in ms since the epoch.
const EXPIRY_MS: i64 = 1_795_514_400_000;
const EXPIRY: types::Date = types::Date {
    year: 2026,
    month: 11,
    day: 24,
};

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1.0)
}

#[test]
fn greeks_through_wasm_match_the_native_library() {
    let host = host_with(&["greeks-black76"]);
    for contracts in [2, 42, 300] {
        let chain = greeks_black76::sample_chain(contracts);
        let native = greeks_black76::compute(&chain).expect("native compute");
        let stamped = host
            .call_greeks(&chain.clone().into())
            .expect("wasm compute");
        assert_eq!(stamped.plugin.name, "greeks-black76");
        let wasm: plain::GreeksResult = stamped.value.into();
        assert_eq!(wasm.forward_source, native.forward_source);
        assert!(close(wasm.forward, native.forward, 1e-12));
        assert_eq!(wasm.greeks.status, native.greeks.status);
        let columns = |g: &plain::GreeksColumns| {
            [
                g.price.clone(),
                g.iv.clone(),
                g.delta.clone(),
                g.gamma.clone(),
                g.theta.clone(),
                g.vega.clone(),
                g.rho.clone(),
            ]
        };
        for (w, n) in columns(&wasm.greeks)
            .iter()
            .zip(columns(&native.greeks).iter())
        {
            assert_eq!(w.len(), contracts);
            for (a, b) in w.iter().zip(n) {
                // Wasm and native libm may differ in the last bits of exp/ln.
                assert!(close(*a, *b, 1e-9), "wasm {a} vs native {b}");
            }
        }
    }
}

#[test]
fn the_published_atm_nifty_vector_survives_the_component_boundary() {
    // options-analytics.md §4.5 row 1: F = K = 25000, T = 7/365, σ = 0.12, r = 0.065.
    let price = 165.534122207;
    let as_of_ms = EXPIRY_MS - 7 * 86_400_000;
    let chain = types::ChainSnapshot {
        underlying: "NIFTY".into(),
        spot: 25_000.0,
        forward: Some(25_000.0),
        expiry: EXPIRY,
        as_of_ms,
        lot_size: 65,
        rate: 0.065,
        contracts: types::ContractColumns {
            security_id: vec![1],
            strike: vec![25_000.0],
            is_call: vec![true],
            last_price: vec![price],
            bid: vec![price],
            ask: vec![price],
            volume: vec![0],
            oi: vec![0],
            previous_oi: vec![0],
            previous_close: vec![0.0],
            previous_volume: vec![0],
        },
    };
    let host = host_with(&["greeks-black76"]);
    let result = host.call_greeks(&chain).expect("computes").value;
    let g = &result.greeks;
    assert_eq!(g.status, vec![types::IvStatus::Solved]);
    assert!((g.iv[0] - 0.12).abs() < 1e-8, "iv {}", g.iv[0]);
    assert!((g.price[0] - price).abs() < 1e-6);
    assert!(
        (g.delta[0] - 0.5026877831).abs() < 1e-6,
        "delta {}",
        g.delta[0]
    );
    assert!(
        (g.gamma[0] - 0.0009590248275).abs() < 1e-6,
        "gamma {}",
        g.gamma[0]
    );
    assert!((g.vega[0] - 13.79419272).abs() < 1e-6, "vega {}", g.vega[0]);
    assert!(
        (g.theta[0] - -11.79411508).abs() < 1e-6,
        "theta {}",
        g.theta[0]
    );
}

/// A priced chain from columns of (strike, is_call, oi); prices and Greeks are filler.
fn small_priced_chain(
    rows: &[(f64, bool, u64)],
    lot_size: u32,
    forward: f64,
) -> types::PricedChain {
    let n = rows.len();
    let chain = types::ChainSnapshot {
        underlying: "TEST".into(),
        spot: forward,
        forward: Some(forward),
        expiry: EXPIRY,
        as_of_ms: EXPIRY_MS - 86_400_000,
        lot_size,
        rate: 0.0,
        contracts: types::ContractColumns {
            security_id: (1..=n as u64).collect(),
            strike: rows.iter().map(|r| r.0).collect(),
            is_call: rows.iter().map(|r| r.1).collect(),
            last_price: vec![1.0; n],
            bid: vec![0.95; n],
            ask: vec![1.05; n],
            volume: rows.iter().map(|r| r.2).collect(),
            oi: rows.iter().map(|r| r.2).collect(),
            previous_oi: rows.iter().map(|r| r.2).collect(),
            previous_close: vec![1.0; n],
            previous_volume: vec![0; n],
        },
    };
    let zeros = vec![0.0; n];
    let greeks = types::GreeksResult {
        model: "black76".into(),
        forward,
        forward_source: types::ForwardSource::Given,
        time_to_expiry: 1.0 / 365.0,
        greeks: types::GreeksColumns {
            price: vec![1.0; n],
            iv: vec![0.2; n],
            delta: zeros.clone(),
            gamma: zeros.clone(),
            theta: zeros.clone(),
            vega: zeros.clone(),
            rho: zeros,
            status: vec![types::IvStatus::Solved; n],
        },
    };
    types::PricedChain { chain, greeks }
}

#[test]
fn max_pain_and_pcr_through_wasm_match_the_worked_example() {
    // maximum-pain.com: strikes 95/100/105, put OI 21/33/5, call OI 9/45/25, m = 100.
    let rows = [
        (95.0, true, 9),
        (95.0, false, 21),
        (100.0, true, 45),
        (100.0, false, 33),
        (105.0, true, 25),
        (105.0, false, 5),
    ];
    let host = host_with(&["oi-analytics"]);
    let options = oi::OiOptions {
        top_n: 3,
        sr_window: 0,
        oi_dead_band: 0.01,
        price_dead_band: 0.05,
    };
    let report = host
        .call_oi(&small_priced_chain(&rows, 100, 100.0), options)
        .expect("analyzes")
        .value;
    assert_eq!(report.distribution.strike, vec![95.0, 100.0, 105.0]);
    assert_eq!(report.distribution.pain, vec![21_500.0, 7_000.0, 31_500.0]);
    assert_eq!(report.max_pain, Some(100.0));
    let pcr = report.pcr_oi.expect("pcr");
    assert!((pcr - 59.0 / 79.0).abs() < 1e-12, "pcr {pcr}");
    assert_eq!(report.support, Some(100.0), "max put OI");
    assert_eq!(report.resistance, Some(100.0), "max call OI");
    assert_eq!((report.total_call_oi, report.total_put_oi), (79, 59));
    assert_eq!(report.buildup.len(), 6);
}

#[test]
fn the_iron_condor_through_wasm_matches_the_reference() {
    // options-analytics.md §4.6: F = 25000, σ = 0.12, T = 7/365. Short 24800 PE @40, long
    // 24600 PE @15, short 25200 CE @45, long 25400 CE @18; one unit each.
    let legs = [
        (24_800.0, false, false, 40.0),
        (24_600.0, false, true, 15.0),
        (25_200.0, true, false, 45.0),
        (25_400.0, true, true, 18.0),
    ];
    let request = strategy::ValuationRequest {
        legs: strategy::LegColumns {
            security_id: vec![1, 2, 3, 4],
            kind: legs
                .iter()
                .map(|l| {
                    if l.1 {
                        strategy::LegKind::Call
                    } else {
                        strategy::LegKind::Put
                    }
                })
                .collect(),
            strike: legs.iter().map(|l| l.0).collect(),
            is_buy: legs.iter().map(|l| l.2).collect(),
            lots: vec![1; 4],
            lot_size: vec![1; 4],
            entry_price: legs.iter().map(|l| l.3).collect(),
            market_price: legs.iter().map(|l| l.3).collect(),
            forward: vec![25_000.0; 4],
            iv: vec![0.12; 4],
            time_to_expiry: vec![7.0 / 365.0; 4],
        },
        spot: 25_000.0,
        rate: 0.0,
        range_pct: 5.0,
        points: 201,
        target_years: 0.0,
        pop_volatility: Some(0.12),
        scenarios: strategy::ScenarioColumns {
            spot_shift_pct: vec![],
            iv_shift_points: vec![],
            days_forward: vec![],
        },
    };
    let host = host_with(&["strategy-valuation"]);
    let result = host.call_strategy(&request).expect("evaluates").value;
    assert_eq!(result.breakevens.len(), 2);
    assert!(
        (result.breakevens[0] - 24_748.0).abs() < 1e-6,
        "{:?}",
        result.breakevens
    );
    assert!(
        (result.breakevens[1] - 25_252.0).abs() < 1e-6,
        "{:?}",
        result.breakevens
    );
    assert_eq!(result.max_profit, strategy::Extremum::Limited(52.0));
    assert_eq!(
        result.max_loss,
        strategy::Extremum::Limited(148.0),
        "max loss is a positive amount"
    );
    assert!(
        (result.probability_of_profit - 0.4558678499).abs() < 1e-6,
        "pop {}",
        result.probability_of_profit
    );
    assert!((result.net_premium - -52.0).abs() < 1e-9, "credit received");
}

#[test]
fn gamma_exposure_runs_on_the_golden_chain() {
    let host = host_with(&["gamma-exposure"]);
    let result = host
        .call_custom("gamma-exposure", &golden::priced_chain(), &[])
        .expect("runs")
        .value;
    let table = result
        .tables
        .iter()
        .find(|t| t.name == "gex_by_strike")
        .expect("gex table");
    let strikes = table
        .columns
        .iter()
        .find(|c| c.name == "strike")
        .expect("strike column");
    assert_eq!(strikes.values.len(), 21);
    assert!(scalar(&result, "total_gex").is_some_and(f64::is_finite));
    let bad = [("scale".to_string(), "furlongs".to_string())];
    let err = host
        .call_custom("gamma-exposure", &golden::priced_chain(), &bad)
        .err();
    assert!(
        matches!(
            err,
            Some(optionhub::plugins::CallError::InvalidInput { .. })
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_from_async_code_run_on_the_blocking_pool() {
    let host = host_with(&["greeks-black76"]);
    let chain: types::ChainSnapshot = greeks_black76::sample_chain(42).into();
    // Several concurrent calls from the executor; none may block it, all must answer.
    let calls = (0..4).map(|_| {
        let chain = chain.clone();
        let host = std::sync::Arc::clone(&host);
        tokio::spawn(async move { host.blocking(move |h| h.call_greeks(&chain)).await })
    });
    for call in calls {
        let answer = call
            .await
            .expect("task")
            .expect("scheduled")
            .expect("computed");
        assert_eq!(answer.value.greeks.iv.len(), 42);
    }
}

#[test]
fn more_concurrent_calls_than_instance_slots_wait_their_turn_and_all_answer() {
    // Two slots, eight threads: without the wait the pool would be exhausted and calls
    // would fail, counting towards the plugin's quarantine.
    let mut config = optionhub::config::PluginConfig::in_memory();
    config.call_slots = 2;
    let host = optionhub::plugins::PluginHost::new(config).expect("engine");
    host.load_bytes(
        &crate::common::wasm("greeks-black76"),
        optionhub::plugins::PluginSource::Bytes,
    )
    .expect("loads");
    let chain: types::ChainSnapshot = greeks_black76::sample_chain(300).into();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    (0..10)
                        .map(|_| host.call_greeks(&chain).map(|a| a.value.greeks.iv.len()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in workers {
            for answer in worker.join().expect("worker") {
                assert_eq!(answer, Ok(300));
            }
        }
    });
    let plugin = host.registry().active("greeks-black76").expect("active");
    assert_eq!(plugin.stats().snapshot().calls, 80);
    assert_eq!(plugin.stats().consecutive_failures(), 0);
}
