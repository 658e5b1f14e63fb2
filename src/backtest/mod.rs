//! `revpipe backtest`: were the forecasts calibrated on the history?
//!
//! A walk-forward backtest replays the past. For each calendar month or
//! quarter of an export it fits the scenario exactly as `revpipe fit`
//! would, as of the day before the period starts (deals created by then,
//! outcomes closed by then, arrivals seen so far), simulates the period,
//! and compares the forecast with the revenue actually won in it. Over
//! all periods it reports how often the P10-P90 and P25-P75 intervals
//! held the actual (80% and 50% if calibrated), the PIT values, the CRPS,
//! the Brier score of P(hit) and the bias of the median, beside the same
//! scores for the naive forecasts a finance team would otherwise use.
//!
//! The steps, one file each:
//!
//! ```text
//! period   calendar months and quarters, the forecast date of each
//! actual   the won revenue of each period, from the same export
//! walk     fit as of the period's start, simulate, score
//! score    PIT, CRPS, Brier for one period
//! baseline last period, one cycle back, stage-weighted pipeline
//! report   the result, and scores over periods
//! render   the table for people
//! ```
//!
//! ```no_run
//! use revpipe::backtest::{self, BacktestOptions, PeriodKind};
//! use revpipe::fit::{self, LoadOptions};
//! let deals = fit::load_deals("sales_pipeline.csv".as_ref(), &LoadOptions::default())?;
//! let opts = BacktestOptions { period: PeriodKind::Quarter, ..BacktestOptions::default() };
//! let result = backtest::backtest(&deals, None, None, &opts)?;
//! print!("{}", backtest::render::text(&result));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod actual;
pub mod baseline;
mod notes;
pub mod period;
pub mod render;
pub mod report;
pub mod score;
pub mod walk;

pub use actual::{Actual, Closes};
pub use baseline::{Baseline, BaselineValues};
pub use period::{Period, PeriodKind};
pub use report::{Backtest, BaselineScore, Coverage, Forecast, PeriodResult, Scores};
pub use walk::backtest;

use crate::fit::{Date, DealFile, FitError, FitOptions, FitReport};

/// A change made to every fitted scenario before it is simulated: a seam
/// for measuring what a change to the model would do to calibration
/// (the command line never sets one; `examples/backtest_fixes.rs` does).
pub type Adjust = fn(&mut serde_json::Value, &AdjustInput);

/// What an [`Adjust`] may use: only what was known at the period's start.
#[derive(Debug)]
pub struct AdjustInput<'a> {
    /// The period about to be simulated.
    pub period: Period,
    /// The fit of its scenario.
    pub report: &'a FitReport,
    /// The observed periods before it, oldest first, with their actuals.
    pub past: Vec<(Period, Actual)>,
    /// The whole export. Unlike everything above, it holds the future
    /// too: an adjustment must use only the rows known on
    /// `period.as_of()` (created, or closed, by then).
    pub deals: &'a DealFile,
}

/// What to backtest, and how.
#[derive(Clone, Debug)]
pub struct BacktestOptions {
    /// Months or quarters.
    pub period: PeriodKind,
    /// Backtest the whole periods from this day (default: the period
    /// after the one holding the first close).
    pub from: Option<Date>,
    /// Backtest the whole periods up to this day (default: the latest date
    /// in the export).
    pub to: Option<Date>,
    /// The revenue target of every period (default: each period's run
    /// rate, the mean actual of the periods before it).
    pub target: Option<f64>,
    /// Trials per period.
    pub trials: u64,
    /// The seed of the first period; period `i` (from 0) uses `seed + i`.
    pub seed: u64,
    /// Worker threads (default: every core).
    pub threads: Option<usize>,
    /// The fit's choices (prior, deal size, stale rule, ...); its as-of
    /// date, period, target, trials, seed and name are set per period.
    pub fit: FitOptions,
    /// A change to each fitted scenario before it is simulated.
    pub adjust: Option<Adjust>,
}

impl Default for BacktestOptions {
    fn default() -> BacktestOptions {
        BacktestOptions {
            period: PeriodKind::Month,
            from: None,
            to: None,
            target: None,
            trials: 10_000,
            seed: 1,
            threads: None,
            fit: FitOptions::default(),
            adjust: None,
        }
    }
}

/// Why a backtest cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// An option out of its valid range.
    #[error("{name} = {value}: {valid}")]
    Option {
        /// The option.
        name: &'static str,
        /// Its value.
        value: String,
        /// What would be valid.
        valid: &'static str,
    },
    /// The range is backwards.
    #[error("--from {from} is after --to {to}")]
    Range {
        /// Start of the range.
        from: Date,
        /// End of the range.
        to: Date,
    },
    /// No whole period fits in the range.
    #[error("no whole {} lies between {from} and {to}; widen --from/--to", .kind.noun())]
    NoPeriods {
        /// The period kind.
        kind: PeriodKind,
        /// Start of the range.
        from: Date,
        /// End of the range.
        to: Date,
    },
    /// Nothing closed: there is nothing to compare a forecast with.
    #[error("the export has no closed deal with a close date, so there is no actual revenue to compare forecasts with")]
    NoCloses,
    /// A fit option is invalid.
    #[error(transparent)]
    Fit(FitError),
    /// The simulation's thread pool could not be built.
    #[error("cannot start the simulation threads: {0}")]
    Threads(rayon::ThreadPoolBuildError),
}

fn check_options(o: &BacktestOptions) -> Result<(), BacktestError> {
    let bad = |name, value: String, valid| Err(BacktestError::Option { name, value, valid });
    if let Some(t) = o.target.filter(|t| !(t.is_finite() && *t >= 0.0)) {
        return bad("target", t.to_string(), "a number >= 0");
    }
    if o.trials == 0 {
        return bad("trials", "0".into(), "a whole number >= 1");
    }
    if o.threads == Some(0) {
        return bad("threads", "0".into(), "a whole number >= 1");
    }
    Ok(())
}
