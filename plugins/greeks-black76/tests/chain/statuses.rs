//! One contract per status, each checked against values computed from its definition.

use greeks_black76::compute;
use optionhub_pricing::black76::{self, Greeks, Inputs};
use optionhub_pricing::chain::{IvStatus, PluginError};

use crate::common::{CLOSE_MS, DAY_MS, Quote, assert_all_finite, chain, model_price};

const F: f64 = 25_000.0;
const R: f64 = 0.065;

#[test]
fn every_status_with_its_documented_values() -> Result<(), PluginError> {
    let years = 30.0 / 365.0;
    let d = (-R * years).exp();
    let quotes = [
        // 0: solvable ATM call at 15 %.
        Quote::at(
            25_000.0,
            true,
            model_price(F, 25_000.0, years, 0.15, R, true),
        ),
        // 1: in-the-money put with no quote at all.
        Quote::unpriced(25_500.0, false),
        // 2: in-the-money call quoted below D·intrinsic.
        Quote::at(24_000.0, true, d * 1_000.0 - 5.0),
        // 3: put quoted at D·K, the upper bound.
        Quote::at(24_000.0, false, d * 24_000.0),
        // 4: solvable OTM call at 20 %, priced from its last trade (no bid/ask).
        Quote {
            last: model_price(F, 26_000.0, years, 0.2, R, true),
            ..Quote::unpriced(26_000.0, true)
        },
    ];
    let result = compute(&chain(
        Some(F),
        24_990.0,
        R,
        CLOSE_MS - 30 * DAY_MS,
        &quotes,
    ))?;
    assert_all_finite(&result, quotes.len());
    let g = &result.greeks;
    assert_eq!(result.model, "black76");
    assert_eq!(result.time_to_expiry, years);
    assert_eq!(
        g.status,
        [
            IvStatus::Solved,
            IvStatus::NoPrice,
            IvStatus::BelowIntrinsic,
            IvStatus::AboveBound,
            IvStatus::Solved
        ]
    );

    // Solved rows: the volatility that made the quote, the quote as price, and the
    // Greeks of Black-76 at that volatility.
    for (row, vol) in [(0, 0.15), (4, 0.2)] {
        let (strike, is_call) = (quotes[row].strike, quotes[row].is_call);
        assert!(
            (g.iv[row] - vol).abs() < 1e-12,
            "row {row}: iv {}",
            g.iv[row]
        );
        let quote = model_price(F, strike, years, vol, R, is_call);
        assert!(
            (g.price[row] - quote).abs() < 1e-9,
            "row {row}: price {}",
            g.price[row]
        );
        let expected = black76::greeks(&Inputs {
            forward: F,
            strike,
            years,
            vol,
            rate: R,
            is_call,
        });
        let got = Greeks {
            delta: g.delta[row],
            gamma: g.gamma[row],
            theta: g.theta[row],
            vega: g.vega[row],
            rho: g.rho[row],
        };
        for (a, b) in [
            (got.delta, expected.delta),
            (got.gamma, expected.gamma),
            (got.theta, expected.theta),
            (got.vega, expected.vega),
            (got.rho, expected.rho),
        ] {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1e-6),
                "row {row}: {got:?} vs {expected:?}"
            );
        }
    }

    // Unsolved rows: iv 0 and the zero-volatility limits, written out from their
    // definition (price D·intrinsic, delta ±D in the money, theta r·price/365, rho
    // −T·price/100).
    let limits = [(1, 500.0, -d), (2, 1_000.0, d), (3, 0.0, 0.0)];
    for (row, intrinsic, delta) in limits {
        let price = d * intrinsic;
        assert_eq!(g.iv[row], 0.0, "row {row}");
        assert!(
            (g.price[row] - price).abs() < 1e-9,
            "row {row}: price {}",
            g.price[row]
        );
        assert!(
            (g.delta[row] - delta).abs() < 1e-15,
            "row {row}: delta {}",
            g.delta[row]
        );
        assert_eq!((g.gamma[row], g.vega[row]), (0.0, 0.0), "row {row}");
        assert!(
            (g.theta[row] - R * price / 365.0).abs() < 1e-12,
            "row {row}: theta {}",
            g.theta[row]
        );
        assert!(
            (g.rho[row] + years * price / 100.0).abs() < 1e-12,
            "row {row}: rho {}",
            g.rho[row]
        );
    }
    Ok(())
}

#[test]
fn expired_rows_are_worth_their_payoff() -> Result<(), PluginError> {
    let quotes = [
        Quote::at(24_000.0, true, 1_000.0),
        Quote::unpriced(25_500.0, false),
        Quote::at(26_000.0, true, 0.05),
        Quote::at(25_000.0, true, 3.0),
        Quote::at(25_000.0, false, 3.0),
        Quote::at(24_000.0, false, 0.05),
    ];
    // One minute after the close.
    let result = compute(&chain(Some(F), 24_990.0, R, CLOSE_MS + 60_000, &quotes))?;
    assert_all_finite(&result, quotes.len());
    let g = &result.greeks;
    assert_eq!(result.time_to_expiry, 0.0);
    assert!(g.status.iter().all(|s| *s == IvStatus::Expired));
    assert_eq!(g.price, [1_000.0, 500.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(g.delta, [1.0, -1.0, 0.0, 0.5, -0.5, 0.0]);
    assert!(
        g.iv.iter()
            .chain(&g.gamma)
            .chain(&g.theta)
            .chain(&g.vega)
            .chain(&g.rho)
            .all(|v| *v == 0.0)
    );
    Ok(())
}

#[test]
fn rows_come_back_in_input_order() -> Result<(), PluginError> {
    let years = 30.0 / 365.0;
    let vols = [0.31, 0.12, 0.25, 0.17, 0.14];
    let strikes = [23_000.0, 25_050.0, 24_000.0, 26_500.0, 25_000.0];
    let quotes: Vec<Quote> = strikes
        .iter()
        .zip(vols)
        .enumerate()
        .map(|(i, (&k, vol))| {
            Quote::at(k, i % 2 == 0, model_price(F, k, years, vol, R, i % 2 == 0))
        })
        .collect();
    let result = compute(&chain(Some(F), F, R, CLOSE_MS - 30 * DAY_MS, &quotes))?;
    for (row, vol) in vols.iter().enumerate() {
        assert!(
            (result.greeks.iv[row] - vol).abs() < 1e-10,
            "row {row}: {}",
            result.greeks.iv[row]
        );
    }
    Ok(())
}

#[test]
fn an_empty_chain_is_answered() -> Result<(), PluginError> {
    let result = compute(&chain(None, 25_010.0, R, CLOSE_MS - DAY_MS, &[]))?;
    assert_all_finite(&result, 0);
    assert_eq!(result.forward, 25_010.0);
    Ok(())
}
