//! Backtests of synthetic histories whose generating process is known
//! (see `support`): a forecast fitted to the true process must be
//! calibrated, and one that the process has moved away from must show
//! it.
//!
//! Tolerances are in binomial standard errors over the periods: with
//! `n` periods the coverage of a calibrated 80% interval has standard
//! error `sqrt(0.8 * 0.2 / n)`, and the mean PIT `sqrt(1 / (12 n))`. The
//! seeds are fixed, so each check is deterministic; at 3 standard errors a
//! fresh seed would fail one check about 0.3% of the time (somewhat more,
//! as successive periods share their fitted parameters).

mod support;

use revpipe::backtest::{self, Backtest, BacktestOptions, PeriodKind};
use revpipe::fit::csvread::Table;
use revpipe::fit::deals::deals_from_table;
use std::path::Path;
use support::Truth;

fn run(truth: &Truth, trials: u64) -> Backtest {
    let csv = truth.csv();
    let table = Table::from_bytes(Path::new("synthetic.csv"), csv.as_bytes()).unwrap();
    let deals = deals_from_table(table, &support::load_options()).unwrap();
    let opts = BacktestOptions {
        period: PeriodKind::Month,
        // A year of history before the first forecast.
        from: Some(truth.start.plus_days(365)),
        trials,
        seed: 11,
        ..BacktestOptions::default()
    };
    backtest::backtest(&deals, None, None, &opts).unwrap()
}

#[test]
fn a_forecast_from_the_true_process_is_calibrated() {
    let result = run(&Truth::default(), 1000);
    let s = result.scores.as_ref().unwrap();
    // Shown when a check fails.
    eprint!("{}", backtest::render::text(&result));
    // Six years of history: 60 monthly forecasts after the first year.
    assert_eq!(s.periods, 60, "{:#?}", result.periods);
    for c in [&s.coverage_p10_p90, &s.coverage_p25_p75] {
        assert!(c.z.abs() < 3.0, "coverage {c:?}");
    }
    let z_pit = (s.pit_mean - 0.5) / s.pit_mean_se;
    assert!(z_pit.abs() < 3.0, "mean PIT {} ({z_pit:.2} SE)", s.pit_mean);
    // The naive baselines carry no information the simulation lacks.
    let last = &result.baselines[0];
    assert!(last.skill.unwrap() > 0.0, "{last:?}");
}

#[test]
fn a_drop_in_the_win_rate_shows_as_miscalibration() {
    // The win rate falls from 0.5 to 0.2 after two years; the fit pools all history, so
    // later forecasts run high and actuals fall low in them.
    let truth = Truth {
        change_day: 365 * 2,
        win_rate: 0.5,
        win_rate_after: 0.2,
        ..Truth::default()
    };
    let result = run(&truth, 1000);
    let s = result.scores.as_ref().unwrap();
    // Shown when a check fails.
    eprint!("{}", backtest::render::text(&result));
    let z_pit = (s.pit_mean - 0.5) / s.pit_mean_se;
    assert!(z_pit < -3.0, "mean PIT {} ({z_pit:.2} SE)", s.pit_mean);
    assert!(s.coverage_p10_p90.z < -3.0, "{:?}", s.coverage_p10_p90);
    assert!(s.bias_p50 > 0.0);
}
