//! Checks that a plugin's answer is well-formed before anyone sees it: the right lengths,
//! finite numbers (JSON cannot carry NaN, and a NaN Greek is a bug, not a value), sane
//! names. Each check returns the answer's payload size in bytes so the caller can apply
//! the result-size cap, or a description of the first problem found.

use super::bindings::{custom, oi, strategy, types};

const F64: usize = std::mem::size_of::<f64>();
const MAX_NAME: usize = 64;
const MAX_TEXT: usize = 4096;

type Checked = Result<usize, String>;

fn finite(name: &str, values: &[f64]) -> Checked {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!("{name}[{i}] is {}", values[i])),
        None => Ok(values.len() * F64),
    }
}

fn finite_scalar(name: &str, value: f64) -> Checked {
    if value.is_finite() {
        Ok(F64)
    } else {
        Err(format!("{name} is {value}"))
    }
}

fn length(name: &str, actual: usize, expected: usize) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{name} has {actual} rows, expected {expected}"))
    }
}

fn text(name: &str, value: &str, max: usize) -> Checked {
    if value.len() > max {
        Err(format!("{name} is {} bytes, over {max}", value.len()))
    } else {
        Ok(value.len())
    }
}

/// A plugin's name is its identity in URLs and metrics: lowercase letters, digits and
/// dashes, starting with a letter, at most 64 bytes.
pub fn plugin_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if starts_well && rest_ok && name.len() <= MAX_NAME {
        Ok(())
    } else {
        // The name is the plugin's to choose: quote only its head.
        Err(format!(
            "plugin name {} must be 1-{MAX_NAME} lowercase letters, digits or dashes, starting with a letter",
            quoted_head(name)
        ))
    }
}

/// `text` quoted, cut after [`MAX_NAME`] characters with its full length said.
fn quoted_head(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}… ({} bytes)", &text[..end], text.len()),
    }
}

pub fn plugin_info(info: &types::PluginInfo) -> Checked {
    plugin_name(&info.name)?;
    if info.version.is_empty() {
        return Err("plugin version is empty".into());
    }
    Ok(text("version", &info.version, MAX_NAME)?
        + text("description", &info.description, MAX_TEXT)?
        + info.name.len())
}

pub fn greeks(result: &types::GreeksResult, rows: usize) -> Checked {
    let g = &result.greeks;
    let columns: [(&str, &[f64]); 7] = [
        ("price", &g.price),
        ("iv", &g.iv),
        ("delta", &g.delta),
        ("gamma", &g.gamma),
        ("theta", &g.theta),
        ("vega", &g.vega),
        ("rho", &g.rho),
    ];
    let mut bytes = 0;
    for (name, values) in columns {
        length(name, values.len(), rows)?;
        bytes += finite(name, values)?;
    }
    length("status", g.status.len(), rows)?;
    if let Some(i) = g.iv.iter().position(|v| *v < 0.0) {
        return Err(format!("iv[{i}] is negative"));
    }
    if !(result.forward.is_finite() && result.forward > 0.0) {
        return Err(format!("forward is {}", result.forward));
    }
    if !(result.time_to_expiry.is_finite() && result.time_to_expiry >= 0.0) {
        return Err(format!("time-to-expiry is {}", result.time_to_expiry));
    }
    Ok(bytes + rows + text("model", &result.model, MAX_NAME)?)
}

pub fn oi(report: &oi::OiReport, rows: usize) -> Checked {
    length("buildup", report.buildup.len(), rows)?;
    let d = &report.distribution;
    let strikes = d.strike.len();
    let mut bytes = rows;
    for (name, values) in [
        ("distribution.strike", &d.strike),
        ("distribution.call-iv", &d.call_iv),
        ("distribution.put-iv", &d.put_iv),
        ("distribution.call-delta", &d.call_delta),
        ("distribution.put-delta", &d.put_delta),
        ("distribution.call-gamma", &d.call_gamma),
        ("distribution.put-gamma", &d.put_gamma),
        ("distribution.pain", &d.pain),
    ] {
        length(name, values.len(), strikes)?;
        bytes += finite(name, values)?;
    }
    for (name, len) in [
        ("distribution.call-oi", d.call_oi.len()),
        ("distribution.put-oi", d.put_oi.len()),
        ("distribution.call-oi-change", d.call_oi_change.len()),
        ("distribution.put-oi-change", d.put_oi_change.len()),
        ("distribution.call-volume", d.call_volume.len()),
        ("distribution.put-volume", d.put_volume.len()),
    ] {
        length(name, len, strikes)?;
        bytes += len * F64;
    }
    bytes += movers("gainers", &report.gainers, rows)?;
    bytes += movers("losers", &report.losers, rows)?;
    bytes += finite_scalar("atm-strike", report.atm_strike)?;
    for (name, value) in [
        ("pcr-oi", report.pcr_oi),
        ("pcr-volume", report.pcr_volume),
        ("max-pain", report.max_pain),
        ("support", report.support),
        ("resistance", report.resistance),
    ] {
        if let Some(value) = value {
            bytes += finite_scalar(name, value)?;
        }
    }
    Ok(bytes)
}

fn movers(name: &str, m: &oi::OiMovers, rows: usize) -> Checked {
    let n = m.row.len();
    if n > rows {
        return Err(format!("{name} lists {n} contracts, the chain has {rows}"));
    }
    if let Some(row) = m.row.iter().find(|r| **r as usize >= rows) {
        return Err(format!("{name} names row {row}, the chain has {rows}"));
    }
    for (column, len) in [
        ("security-id", m.security_id.len()),
        ("strike", m.strike.len()),
        ("is-call", m.is_call.len()),
        ("oi", m.oi.len()),
        ("oi-change", m.oi_change.len()),
        ("oi-change-pct", m.oi_change_pct.len()),
        ("price-change", m.price_change.len()),
        ("buildup", m.buildup.len()),
    ] {
        length(column, len, n).map_err(|problem| format!("{name}.{problem}"))?;
    }
    for (column, values) in [
        ("strike", &m.strike),
        ("oi-change-pct", &m.oi_change_pct),
        ("price-change", &m.price_change),
    ] {
        finite(column, values).map_err(|problem| format!("{name}.{problem}"))?;
    }
    Ok(n * 8 * F64)
}

pub fn strategy(
    result: &strategy::ValuationResult,
    request: &strategy::ValuationRequest,
) -> Checked {
    let legs = request.legs.security_id.len();
    let points = result.curve_spot.len();
    let scenarios = request.scenarios.spot_shift_pct.len();
    length("leg-mtm", result.leg_mtm.len(), legs)?;
    length("payoff-at-expiry", result.payoff_at_expiry.len(), points)?;
    length("payoff-at-target", result.payoff_at_target.len(), points)?;
    let mut bytes = 0;
    for (name, values) in [
        ("leg-mtm", &result.leg_mtm),
        ("curve-spot", &result.curve_spot),
        ("payoff-at-expiry", &result.payoff_at_expiry),
        ("payoff-at-target", &result.payoff_at_target),
        ("breakevens", &result.breakevens),
    ] {
        bytes += finite(name, values)?;
    }
    let s = &result.scenarios;
    for (name, values) in [
        ("scenarios.pnl", &s.pnl),
        ("scenarios.delta", &s.delta),
        ("scenarios.gamma", &s.gamma),
        ("scenarios.theta", &s.theta),
        ("scenarios.vega", &s.vega),
    ] {
        length(name, values.len(), scenarios)?;
        bytes += finite(name, values)?;
    }
    let g = &result.greeks;
    for (name, value) in [
        ("total-mtm", result.total_mtm),
        ("net-premium", result.net_premium),
        ("greeks.delta", g.delta),
        ("greeks.gamma", g.gamma),
        ("greeks.theta", g.theta),
        ("greeks.vega", g.vega),
        ("greeks.rho", g.rho),
    ] {
        bytes += finite_scalar(name, value)?;
    }
    for (name, extremum) in [
        ("max-profit", &result.max_profit),
        ("max-loss", &result.max_loss),
    ] {
        if let strategy::Extremum::Limited(value) = extremum {
            bytes += finite_scalar(name, *value)?;
        }
    }
    let pop = result.probability_of_profit;
    if !(0.0..=1.0).contains(&pop) {
        return Err(format!("probability-of-profit is {pop}, outside [0, 1]"));
    }
    Ok(bytes)
}

pub fn param_specs(specs: &Vec<custom::ParamSpec>) -> Checked {
    let mut bytes = 0;
    for spec in specs {
        if spec.name.is_empty() {
            return Err("a parameter has an empty name".into());
        }
        bytes += text("param name", &spec.name, MAX_NAME)?
            + text("param description", &spec.description, MAX_TEXT)?
            + text("param default", &spec.default_value, MAX_TEXT)?;
    }
    Ok(bytes)
}

pub fn analytics(result: &custom::AnalyticsResult) -> Checked {
    let mut bytes = 0;
    for scalar in &result.scalars {
        bytes += named(&scalar.name, &scalar.unit)?;
        bytes += finite_scalar(&scalar.name, scalar.value)?;
    }
    for series in &result.series {
        bytes += named(&series.name, &series.unit)?;
        bytes += finite(&series.name, &series.values)?;
    }
    for table in &result.tables {
        bytes += named(&table.name, "")?;
        let rows = table.columns.first().map_or(0, |c| c.values.len());
        for column in &table.columns {
            // Problems name the table too; the prefix is only built when there is one.
            let in_table = |problem: String| format!("{}.{problem}", table.name);
            // The name's size is checked first: every later complaint repeats it.
            bytes += named(&column.name, &column.unit)?;
            length(&column.name, column.values.len(), rows).map_err(in_table)?;
            bytes += finite(&column.name, &column.values).map_err(in_table)?;
        }
    }
    Ok(bytes)
}

fn named(name: &str, unit: &str) -> Checked {
    if name.is_empty() {
        return Err("an output has an empty name".into());
    }
    Ok(text("name", name, MAX_NAME)? + text("unit", unit, MAX_NAME)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_url_safe() {
        assert!(plugin_name("greeks-black76").is_ok());
        for bad in ["", "Greeks", "9lives", "a b", "a/b", &"x".repeat(65)] {
            assert!(plugin_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_refused_name_is_quoted_only_in_part() {
        let problem = plugin_name(&"a".repeat(1 << 20)).err().unwrap_or_default();
        assert!(problem.len() < 300, "{} bytes", problem.len());
        assert!(problem.contains("(1048576 bytes)"), "{problem}");
    }

    #[test]
    fn a_long_column_name_is_refused_before_it_is_repeated() {
        let series = |name: String, values: Vec<f64>| custom::NamedSeries {
            name,
            unit: String::new(),
            values,
        };
        let result = custom::AnalyticsResult {
            scalars: vec![],
            series: vec![],
            tables: vec![custom::NamedTable {
                name: "t".into(),
                columns: vec![
                    series("a".into(), vec![1.0]),
                    series("c".repeat(1 << 20), vec![]),
                ],
            }],
        };
        let problem = analytics(&result).err().unwrap_or_default();
        assert!(
            !problem.is_empty() && problem.len() < 300,
            "{} bytes",
            problem.len()
        );
    }

    #[test]
    fn finite_names_the_first_bad_value() {
        assert_eq!(
            finite("delta", &[0.5, f64::NAN]),
            Err("delta[1] is NaN".to_string())
        );
        assert_eq!(finite("delta", &[0.5, 1.0]), Ok(16));
    }

    #[test]
    fn analytics_tables_need_equal_columns_and_finite_values() {
        let series = |name: &str, values: Vec<f64>| custom::NamedSeries {
            name: name.into(),
            unit: String::new(),
            values,
        };
        let mut result = custom::AnalyticsResult {
            scalars: vec![custom::NamedScalar {
                name: "x".into(),
                unit: String::new(),
                value: 1.0,
            }],
            series: vec![],
            tables: vec![custom::NamedTable {
                name: "t".into(),
                columns: vec![series("a", vec![1.0, 2.0]), series("b", vec![3.0])],
            }],
        };
        assert!(analytics(&result).is_err());
        result.tables[0].columns[1].values.push(4.0);
        assert!(analytics(&result).is_ok());
        result.scalars[0].value = f64::INFINITY;
        assert!(analytics(&result).is_err());
    }
}
