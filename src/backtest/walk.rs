//! The walk forward: for each period, fit as of the day before it starts,
//! simulate it, and score the forecast against what closed in it.

use super::actual::Closes;
use super::baseline::{self, Baseline, BaselineValues};
use super::period::{whole_periods, Period};
use super::report::{self, Backtest, Forecast, PeriodResult, TargetSource};
use super::{score, AdjustInput, BacktestError, BacktestOptions};
use crate::engine::{self, Settings};
use crate::fit::{self, Date, DealFile, FitError, FitOptions, HistoryFile, LeadFile};
use crate::scenario::ScenarioFile;
use crate::summary;
use std::path::Path;

/// The inputs every period shares.
struct Walk<'a> {
    deals: &'a DealFile,
    history: Option<&'a HistoryFile>,
    leads: Option<&'a LeadFile>,
    opts: &'a BacktestOptions,
    closes: Closes,
}

/// Runs the backtest over the whole periods between `opts.from` and
/// `opts.to` (defaults: the period after the first close, and the latest
/// date in the export).
///
/// A period whose fit fails for want of data (no deals yet, too few wins
/// to size deals) is kept in the result with the reason and left out of
/// the scores; a bad option fails the whole run.
pub fn backtest(
    deals: &DealFile,
    history: Option<&HistoryFile>,
    leads: Option<&LeadFile>,
    opts: &BacktestOptions,
) -> Result<Backtest, BacktestError> {
    super::check_options(opts)?;
    let closes = Closes::new(deals);
    let (Some(first_close), Some(latest)) = (closes.first_close, closes.latest) else {
        return Err(BacktestError::NoCloses);
    };
    let kind = opts.period;
    let from = opts
        .from
        .unwrap_or_else(|| Period::containing(kind, first_close).shift(1).start());
    let to = opts.to.unwrap_or(latest);
    if from > to {
        return Err(BacktestError::Range { from, to });
    }
    let periods = whole_periods(kind, from, to);
    if periods.is_empty() {
        return Err(BacktestError::NoPeriods { kind, from, to });
    }
    let walk = Walk {
        deals,
        history,
        leads,
        opts,
        closes,
    };
    let mut rows = Vec::with_capacity(periods.len());
    let mut currency = None;
    for (i, p) in periods.iter().enumerate() {
        let (row, cur) = walk.period(i as u64, *p)?;
        currency = currency.or(cur);
        rows.push(row);
    }
    let scores = report::scores(&rows);
    let baselines = Baseline::ALL
        .iter()
        .map(|b| report::baseline_score(*b, kind, &rows))
        .collect();
    let notes = super::notes::notes(&walk.closes, deals, &rows, opts);
    Ok(Backtest {
        revpipe_version: env!("CARGO_PKG_VERSION").to_string(),
        export: deals.source.file.display().to_string(),
        period: kind,
        from,
        to,
        currency: currency.unwrap_or_else(|| "USD".into()),
        trials: opts.trials,
        seed: opts.seed,
        target_rule: super::notes::target_rule(opts),
        periods: rows,
        scores,
        baselines,
        notes,
    })
}

impl Walk<'_> {
    // One period: its row, and the currency of its fit.
    fn period(&self, i: u64, p: Period) -> Result<(PeriodResult, Option<String>), BacktestError> {
        let target = match self.opts.target {
            Some(t) => Some((t, TargetSource::Given)),
            None => self
                .closes
                .run_rate(p)
                .map(|(t, periods)| (t, TargetSource::RunRate { periods })),
        };
        let mut row = PeriodResult {
            period: p.label(),
            start: p.start(),
            end: p.end(),
            days: p.days(),
            as_of: p.as_of(),
            actual: None,
            target: target.map(|t| t.0),
            target_source: target.map(|t| t.1),
            baselines: BaselineValues::from_history(&self.closes, p),
            forecast: None,
            skipped: None,
        };
        let Some(actual) = self.closes.actual(p) else {
            let day = |d: Option<Date>| d.map_or("-".into(), |d| d.to_string());
            row.skipped = Some(format!(
                "the export has no record of closes for the whole period \
                 (closes from {} to {})",
                day(self.closes.first_close),
                day(self.closes.latest),
            ));
            return Ok((row, None));
        };
        row.actual = Some(actual);
        let seed = self.opts.seed.wrapping_add(i);
        match self.forecast(p, seed, row.target)? {
            Ok(f) => {
                row.forecast = Some(f.sample.scored(actual.revenue, row.target));
                row.baselines.weighted_pipeline = Some(f.weighted_pipeline);
                Ok((row, Some(f.currency)))
            }
            Err(reason) => {
                row.skipped = Some(reason);
                Ok((row, None))
            }
        }
    }

    // The forecast of one period; the inner error is why the period
    // cannot be forecast, the outer one why no period can.
    fn forecast(
        &self,
        p: Period,
        seed: u64,
        target: Option<f64>,
    ) -> Result<Result<Forecasted, String>, BacktestError> {
        let fit_opts = FitOptions {
            as_of: Some(p.as_of()),
            target: target.unwrap_or(0.0),
            period_days: p.days(),
            trials: self.opts.trials,
            seed,
            name: Some(format!("Backtest of {}", p.label())),
            ..self.opts.fit.clone()
        };
        let fitted = match fit::fit(self.deals, self.history, self.leads, &fit_opts) {
            Ok(f) => f,
            Err(e @ FitError::Option { .. }) => return Err(BacktestError::Fit(e)),
            Err(e) => return Ok(Err(format!("fit as of {}: {e}", p.as_of()))),
        };
        let mut scenario = fitted.scenario;
        if let Some(adjust) = self.opts.adjust {
            let input = AdjustInput {
                period: p,
                report: &fitted.report,
                past: self.closes.before(p),
                deals: self.deals,
            };
            adjust(&mut scenario, &input);
        }
        let model = serde_json::from_value::<ScenarioFile>(scenario)
            .map_err(|e| e.to_string())
            .and_then(|f| f.validate(Path::new(".")).map_err(|e| e.to_string()));
        let model = match model {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("the fitted scenario is not valid: {e}"))),
        };
        let settings = Settings {
            threads: self.opts.threads,
            ..Settings::default()
        };
        let trials = engine::run(&model, &settings, None).map_err(BacktestError::Threads)?;
        let mut sorted = trials.revenue.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let summary = summary::summarize(&model, &settings, trials);
        let sample = Sample {
            sorted,
            summary,
            open_deals: fitted.report.segments.iter().map(|s| s.open.count).sum(),
            open_amount: fitted.report.segments.iter().map(|s| s.open.amount).sum(),
            planned_leads: model.planned_leads(),
            fit_warnings: fitted.report.all_warnings().len(),
        };
        Ok(Ok(Forecasted {
            sample,
            weighted_pipeline: baseline::weighted_pipeline(&model),
            currency: fitted.report.currency,
        }))
    }
}

/// What one period's fit and simulation give.
struct Forecasted {
    sample: Sample,
    weighted_pipeline: f64,
    currency: String,
}

/// A period's simulated revenues and what else the row reports.
struct Sample {
    sorted: Vec<f64>,
    summary: summary::Summary,
    open_deals: usize,
    open_amount: f64,
    planned_leads: f64,
    fit_warnings: usize,
}

impl Sample {
    fn scored(&self, actual: f64, target: Option<f64>) -> Forecast {
        let r = &self.summary.revenue;
        Forecast {
            trials: self.summary.trials,
            seed: self.summary.seed,
            mean: r.mean,
            p10: r.p10,
            p25: r.p25,
            p50: r.p50,
            p75: r.p75,
            p90: r.p90,
            pit: score::pit(&self.sorted, actual),
            crps: score::crps(&self.sorted, actual),
            in_p10_p90: r.p10 <= actual && actual <= r.p90,
            in_p25_p75: r.p25 <= actual && actual <= r.p75,
            p_hit: target.map(|_| self.summary.p_hit),
            hit: target.map(|t| actual >= t),
            open_deals: self.open_deals,
            open_amount: self.open_amount,
            planned_leads: self.planned_leads,
            fit_warnings: self.fit_warnings,
        }
    }
}
