//! The gamma-exposure maths on the plain chain types, independent of WebAssembly so it is
//! tested natively.
//!
//! [`gamma_exposure`] aggregates GEX per strike (definition and sign convention in the
//! crate docs) over the strikes the `window` keeps, and derives the summary levels a
//! trader reads off a GEX chart: totals, the flip level and the call and put walls.
//! [`GexReport::scalars`] and [`GexReport::table_columns`] give the named outputs the
//! component returns, so their names and omissions are tested here too.

use optionhub_pricing::chain::{PluginError, PricedChain};
use optionhub_pricing::forward::{atm_strike, distinct_strikes};

use crate::params::{GexParams, Scale};

/// Name of the per-strike table in the plugin's output.
pub const TABLE_NAME: &str = "gex_by_strike";

/// Unit of strikes and index levels.
const POINTS: &str = "points";

/// One named number of the output (becomes a WIT `named-scalar`).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub name: &'static str,
    pub unit: &'static str,
    pub value: f64,
}

/// One column of the per-strike table (becomes a WIT `named-series`).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: &'static str,
    pub unit: &'static str,
    pub values: Vec<f64>,
}

/// Gamma exposure of one chain, per strike (ascending) and in total, in `scale` units
/// (GEX values) and index points (strikes and levels).
#[derive(Debug, Clone, PartialEq)]
pub struct GexReport {
    pub scale: Scale,
    /// The forward F the Greeks were computed on (`greeks.forward`).
    pub forward: f64,
    /// Listed strike nearest F, lower one on a tie; `None` for an empty chain.
    pub atm_strike: Option<f64>,
    /// The strikes kept by the window, ascending, each once.
    pub strikes: Vec<f64>,
    /// Call GEX per strike, >= 0 for non-negative gamma.
    pub call_gex: Vec<f64>,
    /// Put GEX per strike, <= 0 for non-negative gamma (dealers short puts).
    pub put_gex: Vec<f64>,
    /// `call_gex + put_gex` per strike.
    pub net_gex: Vec<f64>,
    /// Running sum of `net_gex` from the lowest strike.
    pub cumulative_gex: Vec<f64>,
    /// Sum of `net_gex` (the last `cumulative_gex`; 0 for no strikes).
    pub total_gex: f64,
    /// Sum of `call_gex`.
    pub total_call_gex: f64,
    /// Sum of `put_gex`.
    pub total_put_gex: f64,
    /// Where `cumulative_gex` first changes sign, ascending; see [`flip_level`].
    pub flip_level: Option<f64>,
    /// Strike of the largest call GEX (lowest such strike on a tie); `None` when no
    /// strike has positive call GEX.
    pub call_wall: Option<f64>,
    /// Strike of the most negative put GEX (lowest such strike on a tie); `None` when no
    /// strike has negative put GEX.
    pub put_wall: Option<f64>,
}

impl GexReport {
    /// The scalar outputs, in this order: `total_gex`, `call_gex`, `put_gex`,
    /// `flip_level`, `call_wall`, `put_wall`, `forward`. A level that does not exist
    /// (no sign change, no call or put gamma) is left out rather than sent as a fake 0.
    pub fn scalars(&self) -> Vec<Scalar> {
        let gex = self.scale.unit();
        let mut out = vec![
            Scalar {
                name: "total_gex",
                unit: gex,
                value: self.total_gex,
            },
            Scalar {
                name: "call_gex",
                unit: gex,
                value: self.total_call_gex,
            },
            Scalar {
                name: "put_gex",
                unit: gex,
                value: self.total_put_gex,
            },
        ];
        let levels = [
            ("flip_level", self.flip_level),
            ("call_wall", self.call_wall),
            ("put_wall", self.put_wall),
            ("forward", Some(self.forward)),
        ];
        out.extend(levels.into_iter().filter_map(|(name, value)| {
            value.map(|value| Scalar {
                name,
                unit: POINTS,
                value,
            })
        }));
        out
    }

    /// The columns of table [`TABLE_NAME`]: `strike`, `call_gex`, `put_gex`, `net_gex`,
    /// `cumulative_gex`, one row per strike, ascending.
    pub fn table_columns(&self) -> Vec<Column> {
        let gex = self.scale.unit();
        vec![
            Column {
                name: "strike",
                unit: POINTS,
                values: self.strikes.clone(),
            },
            Column {
                name: "call_gex",
                unit: gex,
                values: self.call_gex.clone(),
            },
            Column {
                name: "put_gex",
                unit: gex,
                values: self.put_gex.clone(),
            },
            Column {
                name: "net_gex",
                unit: gex,
                values: self.net_gex.clone(),
            },
            Column {
                name: "cumulative_gex",
                unit: gex,
                values: self.cumulative_gex.clone(),
            },
        ]
    }
}

/// Dealer gamma exposure per strike of `input`, restricted to `params.window` strikes
/// each side of ATM (all strikes for 0), in `params.scale` units.
///
/// Uses the host's Greeks as given: `greeks.gamma` per contract and `greeks.forward` as
/// F. Rows are aggregated by strike, so row order and how calls and puts are
/// interleaved do not matter, and two rows at one strike and side add up.
///
/// # Errors
///
/// `invalid-input` when the columns' lengths differ, the Greeks do not have one row per
/// contract, the forward is not a positive finite number, or a strike or gamma is not
/// finite. An empty chain is not an error: it has zero GEX and no levels.
pub fn gamma_exposure(input: &PricedChain, params: &GexParams) -> Result<GexReport, PluginError> {
    let contracts = &input.chain.contracts;
    let gamma = &input.greeks.greeks.gamma;
    let forward = input.greeks.forward;
    contracts
        .check_lengths()
        .map_err(PluginError::InvalidInput)?;
    if gamma.len() != contracts.len() {
        return Err(PluginError::InvalidInput(format!(
            "greeks.gamma has {} rows, the chain has {} contracts",
            gamma.len(),
            contracts.len()
        )));
    }
    if !(forward.is_finite() && forward > 0.0) {
        return Err(PluginError::InvalidInput(format!(
            "the forward is {forward}; a positive finite number is needed"
        )));
    }
    if let Some(row) = contracts.strike.iter().position(|k| !k.is_finite()) {
        return Err(PluginError::InvalidInput(format!(
            "strike[{row}] is {}",
            contracts.strike[row]
        )));
    }
    if let Some(row) = gamma.iter().position(|g| !g.is_finite()) {
        return Err(PluginError::InvalidInput(format!(
            "greeks.gamma[{row}] is {}",
            gamma[row]
        )));
    }

    let grid = distinct_strikes(&contracts.strike);
    let atm = atm_strike(&grid, forward);
    let strikes = window(&grid, atm, params.window).to_vec();

    // Rupees per unit of Γ·OI: m · F² · 0.01, then converted to the requested scale.
    let per_gamma_oi =
        f64::from(input.chain.lot_size) * forward * forward * 0.01 / params.scale.divisor();
    let mut call_gex = vec![0.0; strikes.len()];
    let mut put_gex = vec![0.0; strikes.len()];
    let rows = contracts
        .strike
        .iter()
        .zip(&contracts.is_call)
        .zip(&contracts.oi)
        .zip(gamma);
    for (((strike, &is_call), &oi), &gamma) in rows {
        let Ok(k) = strikes.binary_search_by(|s| s.total_cmp(strike)) else {
            continue; // outside the window
        };
        let gex = gamma * oi as f64 * per_gamma_oi;
        if is_call {
            call_gex[k] += gex;
        } else {
            put_gex[k] -= gex;
        }
    }

    let net_gex: Vec<f64> = call_gex.iter().zip(&put_gex).map(|(c, p)| c + p).collect();
    let cumulative_gex: Vec<f64> = net_gex
        .iter()
        .scan(0.0, |sum, net| {
            *sum += net;
            Some(*sum)
        })
        .collect();

    Ok(GexReport {
        scale: params.scale,
        forward,
        atm_strike: atm,
        total_gex: cumulative_gex.last().copied().unwrap_or(0.0),
        total_call_gex: call_gex.iter().sum(),
        total_put_gex: put_gex.iter().sum(),
        flip_level: flip_level(&strikes, &cumulative_gex),
        call_wall: wall(&strikes, &call_gex, |gex, best| gex > best),
        put_wall: wall(&strikes, &put_gex, |gex, best| gex < best),
        strikes,
        call_gex,
        put_gex,
        net_gex,
        cumulative_gex,
    })
}

/// The strikes within `width` grid steps of `atm` (the whole grid for width 0, or when
/// there is no ATM). `grid` is ascending and `atm` one of its values.
fn window(grid: &[f64], atm: Option<f64>, width: u32) -> &[f64] {
    let (Some(atm), Ok(width)) = (atm, usize::try_from(width)) else {
        return grid;
    };
    if width == 0 {
        return grid;
    }
    let centre = grid.partition_point(|&k| k < atm);
    let first = centre.saturating_sub(width);
    let end = centre
        .saturating_add(width)
        .saturating_add(1)
        .min(grid.len());
    &grid[first..end]
}

/// The underlying level where the cumulative net GEX changes sign, scanning strikes
/// ascending: on the first segment [K_a, K_a+1] that starts at a non-zero cumulative
/// value C_a and crosses or reaches the opposite sign,
/// `K_a + (K_a+1 − K_a) · C_a / (C_a − C_a+1)` (linear interpolation; exactly K_a+1
/// when C_a+1 is 0). Touching zero and turning back is not a sign change; zeros before
/// the first non-zero value (strikes without OI) are skipped. `None` without a sign
/// change. The slices are paired up to the shorter one's length.
pub fn flip_level(strikes: &[f64], cumulative: &[f64]) -> Option<f64> {
    let points: Vec<(f64, f64)> = strikes
        .iter()
        .copied()
        .zip(cumulative.iter().copied())
        .collect();
    let mut last_nonzero: Option<usize> = None;
    for (j, &(_, c)) in points.iter().enumerate() {
        if c == 0.0 {
            continue;
        }
        if let Some(a) = last_nonzero {
            let (k0, c0) = points[a];
            if (c0 < 0.0) != (c < 0.0) {
                let (k1, c1) = points[a + 1];
                return Some(k0 + (k1 - k0) * c0 / (c0 - c1));
            }
        }
        last_nonzero = Some(j);
    }
    None
}

/// The strike whose value beats every other under `better` (first one on a tie), if any
/// value beats 0.
fn wall(strikes: &[f64], values: &[f64], better: impl Fn(f64, f64) -> bool) -> Option<f64> {
    let mut best: Option<(f64, f64)> = None; // (value, strike)
    for (&strike, &value) in strikes.iter().zip(values) {
        let threshold = best.map_or(0.0, |(v, _)| v);
        if better(value, threshold) {
            best = Some((value, strike));
        }
    }
    best.map(|(_, strike)| strike)
}

#[cfg(test)]
mod tests;
