//! The backtest's result: one row per period, and the scores over all
//! scored periods, for the simulation and for each naive baseline.
//!
//! Everything here is serialised as the `--json` output; the field names
//! are kept stable. The text form is in [`render`](super::render).

use super::actual::Actual;
use super::baseline::{Baseline, BaselineValues};
use super::period::PeriodKind;
use super::score;
use crate::fit::Date;

/// Bins of the PIT histogram.
pub const PIT_BINS: usize = 5;

/// Where a period's target came from.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum TargetSource {
    /// Given with `--target`.
    Given,
    /// The run rate: the mean actual of this many earlier periods.
    RunRate {
        /// Periods averaged.
        periods: usize,
    },
}

/// One period of the walk.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PeriodResult {
    /// `2017-04` or `2017-Q2`.
    pub period: String,
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
    /// Days in the period (the fitted scenario's `period_days`).
    pub days: u32,
    /// The forecast used only what was known on this day.
    pub as_of: Date,
    /// What closed in the period; `null` when the export has no record
    /// of closes for all of it.
    pub actual: Option<Actual>,
    /// The revenue target, if any.
    pub target: Option<f64>,
    /// Where the target came from.
    pub target_source: Option<TargetSource>,
    /// The naive forecasts.
    pub baselines: BaselineValues,
    /// The simulation's forecast and its scores; `null` when skipped.
    pub forecast: Option<Forecast>,
    /// Why the period could not be forecast.
    pub skipped: Option<String>,
}

/// The simulation's forecast of one period, and how it scored.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Forecast {
    /// Trials run.
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// Mean revenue.
    pub mean: f64,
    /// Percentiles of revenue (type 7).
    pub p10: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Share of trials below the actual, ties counted half.
    pub pit: f64,
    /// CRPS of the trial sample at the actual.
    pub crps: f64,
    /// P10 <= actual <= P90.
    pub in_p10_p90: bool,
    /// P25 <= actual <= P75.
    pub in_p25_p75: bool,
    /// P(revenue >= target), when there is a target.
    pub p_hit: Option<f64>,
    /// actual >= target, when there is a target.
    pub hit: Option<bool>,
    /// Open deals in the fitted pipeline.
    pub open_deals: usize,
    /// Their amount.
    pub open_amount: f64,
    /// Mean new deals (or leads) per period in the fit.
    pub planned_leads: f64,
    /// Warnings of the fit, counted.
    pub fit_warnings: usize,
}

/// How often an interval held the actual.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Coverage {
    /// The interval's nominal coverage (0.8 for P10-P90).
    pub nominal: f64,
    /// Periods whose actual was inside.
    pub inside: usize,
    /// Periods scored.
    pub periods: usize,
    /// `inside / periods`.
    pub rate: f64,
    /// Binomial standard error of the rate for a calibrated forecast:
    /// `sqrt(nominal (1 - nominal) / periods)`.
    pub se: f64,
    /// `(rate - nominal) / se`: how many standard errors off.
    pub z: f64,
}

impl Coverage {
    /// The coverage of `flags` (true: inside) against `nominal`.
    pub fn of(nominal: f64, flags: impl Iterator<Item = bool>) -> Coverage {
        let (mut inside, mut periods) = (0, 0);
        for f in flags {
            inside += usize::from(f);
            periods += 1;
        }
        let rate = inside as f64 / periods as f64;
        let se = (nominal * (1.0 - nominal) / periods as f64).sqrt();
        Coverage {
            nominal,
            inside,
            periods,
            rate,
            se,
            z: (rate - nominal) / se,
        }
    }
}

/// Scores of the simulation over the scored periods.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Periods scored.
    pub periods: usize,
    /// Coverage of P10-P90 (nominal 80%).
    pub coverage_p10_p90: Coverage,
    /// Coverage of P25-P75 (nominal 50%).
    pub coverage_p25_p75: Coverage,
    /// Mean PIT: 0.5 when calibrated; above 0.5 when actuals land high
    /// in the forecast (it ran low), below when it ran high.
    pub pit_mean: f64,
    /// Standard error of the mean PIT of a calibrated forecast,
    /// `sqrt(1 / (12 periods))`.
    pub pit_mean_se: f64,
    /// PIT values counted in [`PIT_BINS`] equal bins of [0, 1].
    pub pit_histogram: Vec<usize>,
    /// Mean CRPS.
    pub crps_mean: f64,
    /// Mean absolute error of the median.
    pub mae_p50: f64,
    /// Mean of `P50 - actual`: the bias of the median.
    pub bias_p50: f64,
    /// `bias_p50` over the mean actual.
    pub bias_p50_relative: Option<f64>,
    /// Mean actual revenue.
    pub actual_mean: f64,
    /// Brier score of P(hit) against hit or miss, over periods with a
    /// target.
    pub brier: Option<f64>,
    /// Periods with a target.
    pub brier_periods: usize,
    /// Mean P(hit) over those periods.
    pub p_hit_mean: Option<f64>,
    /// Share of them that hit.
    pub hit_rate: Option<f64>,
}

/// A baseline's scores, and the simulation's over the same periods.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct BaselineScore {
    /// `last_period`, `cycle_back` or `weighted_pipeline`.
    pub baseline: &'static str,
    /// A name for people.
    pub name: &'static str,
    /// Scored periods where the baseline is defined.
    pub periods: usize,
    /// Its mean absolute error (its CRPS, as a point forecast).
    pub crps_mean: Option<f64>,
    /// Mean of `baseline - actual`.
    pub bias: Option<f64>,
    /// Brier score of the 0/1 call "baseline >= target", over periods
    /// with a target.
    pub brier: Option<f64>,
    /// The simulation's mean CRPS over the same periods.
    pub simulation_crps: Option<f64>,
    /// `1 - simulation_crps / crps_mean`: above 0 when the simulation is
    /// better, below when the baseline is.
    pub skill: Option<f64>,
    /// Periods where the simulation's CRPS is below the baseline's error.
    pub simulation_better: usize,
}

/// The whole backtest.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Backtest {
    /// The version of revpipe that produced it.
    pub revpipe_version: String,
    /// The export's file.
    pub export: String,
    /// Month or quarter.
    pub period: PeriodKind,
    /// The range asked for.
    pub from: Date,
    /// See `from`.
    pub to: Date,
    /// Currency of every amount (from the first scored fit).
    pub currency: String,
    /// Trials per period.
    pub trials: u64,
    /// The seed of the first period; period `i` (from 0) uses `seed + i`.
    pub seed: u64,
    /// How each period's target was set.
    pub target_rule: String,
    /// Each period, in order.
    pub periods: Vec<PeriodResult>,
    /// Scores over the scored periods; `null` when none was scored.
    pub scores: Option<Scores>,
    /// Each baseline's scores.
    pub baselines: Vec<BaselineScore>,
    /// Definitions and caveats a reader needs.
    pub notes: Vec<String>,
}

impl Backtest {
    /// The periods that were forecast, with their forecasts.
    pub fn scored(&self) -> impl Iterator<Item = (&PeriodResult, &Forecast)> {
        self.periods
            .iter()
            .filter_map(|p| p.forecast.as_ref().map(|f| (p, f)))
    }
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        s += x;
        n += 1;
    }
    (n > 0).then(|| s / n as f64)
}

/// The simulation's scores over the scored periods; `None` when there
/// are none.
pub fn scores(periods: &[PeriodResult]) -> Option<Scores> {
    let scored = scored_rows(periods);
    let n = scored.len();
    if n == 0 {
        return None;
    }
    let pits: Vec<f64> = scored.iter().map(|(_, f, _)| f.pit).collect();
    let actual_mean = mean(scored.iter().map(|r| r.2)).unwrap_or(0.0);
    let bias_p50 = mean(scored.iter().map(|(_, f, y)| f.p50 - y)).unwrap_or(0.0);
    let hits: Vec<(f64, bool)> = scored
        .iter()
        .filter_map(|(_, f, _)| Some((f.p_hit?, f.hit?)))
        .collect();
    Some(Scores {
        periods: n,
        coverage_p10_p90: Coverage::of(0.8, scored.iter().map(|r| r.1.in_p10_p90)),
        coverage_p25_p75: Coverage::of(0.5, scored.iter().map(|r| r.1.in_p25_p75)),
        pit_mean: mean(pits.iter().copied()).unwrap_or(0.5),
        pit_mean_se: (1.0 / (12.0 * n as f64)).sqrt(),
        pit_histogram: score::histogram(&pits, PIT_BINS),
        crps_mean: mean(scored.iter().map(|r| r.1.crps)).unwrap_or(0.0),
        mae_p50: mean(scored.iter().map(|(_, f, y)| (f.p50 - y).abs())).unwrap_or(0.0),
        bias_p50,
        bias_p50_relative: (actual_mean > 0.0).then(|| bias_p50 / actual_mean),
        actual_mean,
        brier: mean(hits.iter().map(|(p, h)| score::brier(*p, *h))),
        brier_periods: hits.len(),
        p_hit_mean: mean(hits.iter().map(|(p, _)| *p)),
        hit_rate: mean(hits.iter().map(|(_, h)| f64::from(u8::from(*h)))),
    })
}

// The scored periods, each with its forecast and actual revenue.
fn scored_rows(periods: &[PeriodResult]) -> Vec<(&PeriodResult, &Forecast, f64)> {
    periods
        .iter()
        .filter_map(|p| Some((p, p.forecast.as_ref()?, p.actual?.revenue)))
        .collect()
}

/// One baseline's scores over the scored periods where it is defined.
pub fn baseline_score(b: Baseline, kind: PeriodKind, periods: &[PeriodResult]) -> BaselineScore {
    // Each row: the period's target, forecast, actual and baseline value.
    let rows: Vec<(Option<f64>, &Forecast, f64, f64)> = scored_rows(periods)
        .into_iter()
        .filter_map(|(p, f, y)| Some((p.target, f, y, p.baselines.get(b)?)))
        .collect();
    let err = |(_, _, y, x): &(Option<f64>, &Forecast, f64, f64)| (x - y).abs();
    let crps_mean = mean(rows.iter().map(err));
    let simulation_crps = mean(rows.iter().map(|r| r.1.crps));
    let calls = rows.iter().filter_map(|(t, _, y, x)| {
        let call = f64::from(u8::from(*x >= (*t)?));
        Some(score::brier(call, *y >= (*t)?))
    });
    BaselineScore {
        baseline: b.key(),
        name: b.name(kind),
        periods: rows.len(),
        crps_mean,
        bias: mean(rows.iter().map(|(_, _, y, x)| x - y)),
        brier: mean(calls),
        simulation_crps,
        skill: crps_mean
            .zip(simulation_crps)
            .filter(|(b, _)| *b > 0.0)
            .map(|(b, s)| 1.0 - s / b),
        simulation_better: rows.iter().filter(|r| r.1.crps < err(r)).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_and_its_binomial_error() {
        let c = Coverage::of(0.8, [true, true, true, false].into_iter());
        assert_eq!((c.inside, c.periods, c.rate), (3, 4, 0.75));
        assert!((c.se - 0.2).abs() < 1e-12);
        assert!((c.z + 0.25).abs() < 1e-12);
    }
}
