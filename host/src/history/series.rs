//! Moneyness series: a chain's stored snapshots resampled to a fixed interval and read
//! by distance from the money.
//!
//! Each interval keeps its latest snapshot. At each kept point the ATM strike is found
//! again (the listed strike nearest that point's spot), and bucket `ATM+k` is the k-th
//! listed strike above it (`ATM-k` below). A series therefore follows the money as the
//! index moves rather than one fixed strike, which is what a smile or a skew over time
//! needs.

use serde::Serialize;

use crate::store::history::SeriesPoint;

/// The series of one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BucketSeries {
    /// `ATM`, `ATM+1`, `ATM-1`, …
    pub bucket: String,
    /// Strikes above (positive) or below (negative) the ATM strike.
    pub offset: i32,
    /// The strike this bucket was at each point; null where the chain had none.
    pub strikes: Vec<Option<f64>>,
    /// The metric at each point; null where the strike or its value was missing.
    pub values: Vec<Option<f64>>,
}

/// Columnar series: `times[i]`, `spot[i]`, `atm_strike[i]` and each bucket's `[i]` are
/// one point.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MoneynessSeries {
    /// Snapshot times, ms since the epoch (UTC).
    pub times: Vec<i64>,
    pub spot: Vec<f64>,
    pub atm_strike: Vec<f64>,
    pub buckets: Vec<BucketSeries>,
}

/// The bucket name of `offset`.
pub fn bucket_name(offset: i32) -> String {
    match offset {
        0 => "ATM".into(),
        k if k > 0 => format!("ATM+{k}"),
        k => format!("ATM{k}"),
    }
}

/// Builds the series from `points` (ordered by time, then strike), keeping the latest
/// snapshot in each `interval_ms` slot counted from `from_ms`, with `each_side` buckets
/// either side of ATM.
pub fn moneyness_series(
    points: &[SeriesPoint],
    from_ms: i64,
    interval_ms: i64,
    each_side: u32,
) -> MoneynessSeries {
    let interval_ms = interval_ms.max(1);
    // Snapshots: consecutive runs of one timestamp.
    let mut snapshots: Vec<&[SeriesPoint]> = Vec::new();
    let mut start = 0;
    for i in 1..=points.len() {
        let boundary = match (points.get(i), points.get(start)) {
            (Some(p), Some(s)) => p.ts_ms != s.ts_ms,
            _ => true,
        };
        if boundary {
            if let Some(run) = points.get(start..i).filter(|r| !r.is_empty()) {
                snapshots.push(run);
            }
            start = i;
        }
    }
    // The latest snapshot of each slot.
    let slot = |run: &[SeriesPoint]| run.first().map_or(0, |p| (p.ts_ms - from_ms) / interval_ms);
    let mut kept: Vec<&[SeriesPoint]> = Vec::new();
    for run in snapshots {
        match kept.last_mut() {
            Some(last) if slot(last) == slot(run) => *last = run,
            _ => kept.push(run),
        }
    }

    let each_side = i32::try_from(each_side).unwrap_or(i32::MAX);
    let offsets: Vec<i32> = (-each_side..=each_side).collect();
    let mut series = MoneynessSeries {
        times: Vec::with_capacity(kept.len()),
        spot: Vec::with_capacity(kept.len()),
        atm_strike: Vec::with_capacity(kept.len()),
        buckets: offsets
            .iter()
            .map(|&offset| BucketSeries {
                bucket: bucket_name(offset),
                offset,
                strikes: Vec::with_capacity(kept.len()),
                values: Vec::with_capacity(kept.len()),
            })
            .collect(),
    };
    for run in kept {
        let Some(first) = run.first() else { continue };
        let Some(atm) = crate::market::subscriptions::nearest_strike_index(
            run.iter().map(|p| p.strike),
            first.spot,
        ) else {
            continue;
        };
        series.times.push(first.ts_ms);
        series.spot.push(first.spot);
        series
            .atm_strike
            .push(run.get(atm).map_or(0.0, |p| p.strike));
        for bucket in &mut series.buckets {
            let at = isize::try_from(bucket.offset)
                .ok()
                .and_then(|k| atm.checked_add_signed(k))
                .and_then(|i| run.get(i));
            bucket.strikes.push(at.map(|p| p.strike));
            bucket.values.push(at.and_then(|p| p.value));
        }
    }
    series
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot at `ts_ms` with `spot` and strikes 100..=140 step 10, value = strike
    /// + ts/1000 (so each point is recognisable).
    fn snapshot(ts_ms: i64, spot: f64) -> Vec<SeriesPoint> {
        (0..5)
            .map(|i| {
                let strike = 100.0 + 10.0 * f64::from(i);
                SeriesPoint {
                    ts_ms,
                    spot,
                    strike,
                    value: Some(strike + (ts_ms / 1000) as f64),
                }
            })
            .collect()
    }

    #[test]
    fn atm_is_found_again_at_every_point() {
        let mut points = snapshot(0, 121.0);
        points.extend(snapshot(60_000, 108.0));
        let s = moneyness_series(&points, 0, 60_000, 1);
        assert_eq!(s.times, vec![0, 60_000]);
        assert_eq!(s.atm_strike, vec![120.0, 110.0]);
        let names: Vec<&str> = s.buckets.iter().map(|b| b.bucket.as_str()).collect();
        assert_eq!(names, vec!["ATM-1", "ATM", "ATM+1"]);
        assert_eq!(s.buckets[1].values, vec![Some(120.0), Some(170.0)]);
        assert_eq!(s.buckets[0].strikes, vec![Some(110.0), Some(100.0)]);
        assert_eq!(s.buckets[2].values, vec![Some(130.0), Some(180.0)]);
    }

    #[test]
    fn buckets_past_the_listed_strikes_are_null() {
        let points = snapshot(0, 139.0);
        let s = moneyness_series(&points, 0, 60_000, 2);
        assert_eq!(s.atm_strike, vec![140.0]);
        let plus = s.buckets.iter().find(|b| b.offset == 2).unwrap();
        assert_eq!((plus.strikes[0], plus.values[0]), (None, None));
        let minus = s.buckets.iter().find(|b| b.offset == -2).unwrap();
        assert_eq!(minus.strikes[0], Some(120.0));
    }

    #[test]
    fn each_interval_keeps_its_latest_snapshot() {
        let mut points = Vec::new();
        for ts in [0, 20_000, 40_000, 60_000, 130_000] {
            points.extend(snapshot(ts, 120.0));
        }
        let s = moneyness_series(&points, 0, 60_000, 0);
        assert_eq!(s.times, vec![40_000, 60_000, 130_000]);
        assert_eq!(
            s.buckets[0].values,
            vec![Some(160.0), Some(180.0), Some(250.0)]
        );
        assert_eq!(moneyness_series(&[], 0, 60_000, 3).times, Vec::<i64>::new());
    }

    #[test]
    fn missing_values_stay_null() {
        let mut points = snapshot(0, 120.0);
        points[2].value = None;
        let s = moneyness_series(&points, 0, 60_000, 0);
        assert_eq!(s.buckets[0].values, vec![None]);
        assert_eq!(bucket_name(-3), "ATM-3");
    }
}
