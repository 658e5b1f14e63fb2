//! The sentences a reader of a backtest needs: how the target was set,
//! how each score is defined, and what the data could not support.

use super::actual::Closes;
use super::report::PeriodResult;
use super::BacktestOptions;
use crate::fit::DealFile;

/// How each period's target was set, in one sentence.
pub fn target_rule(opts: &BacktestOptions) -> String {
    match opts.target {
        Some(t) => format!(
            "the target is {} in every period (--target)",
            crate::render::amount(t)
        ),
        None => "each period's run rate, the mean actual of the periods before it since the \
                 first close (no --target given)"
            .into(),
    }
}

/// Definitions and caveats.
pub fn notes(
    closes: &Closes,
    deals: &DealFile,
    rows: &[PeriodResult],
    opts: &BacktestOptions,
) -> Vec<String> {
    let mut notes = vec![
        "each period is forecast as of the day before it starts, by `revpipe fit --as-of` on \
         the deals created and the outcomes closed by then, over the period's own length in days"
            .to_string(),
        "a deal open on the forecast date and closed later keeps the amount the export has \
         now: a win's final amount (a look-ahead on size, none on the outcome); a blank or \
         zero amount is given the fitted mean size"
            .to_string(),
        "PIT: the share of trials below the actual, trials equal to it counted half; CRPS: \
         mean |x - y| - sum |x_i - x_j| / (2 n^2) over the trials x, which for a point \
         forecast is its absolute error; coverage SE: sqrt(p (1 - p) / periods) at the \
         nominal p; skill: 1 - simulation CRPS / baseline CRPS over the periods both have"
            .to_string(),
    ];
    let undated = deals.deals.iter().filter(|d| d.created.is_none()).count();
    if undated > 0 {
        notes.push(format!(
            "{undated} deal(s) have no created date: when they appeared is unknown, so every \
             backtest fit leaves them out (a won one still counts in its period's actual)"
        ));
    }
    let first_created = deals.deals.iter().filter_map(|d| d.created).min();
    if let (Some(created), Some(close)) = (first_created, closes.first_close) {
        if close.days_since(created) > 31 {
            notes.push(format!(
                "deals are created from {created} but the first close is on {close}: if the \
                 export cut off earlier closes, the first fits see too few outcomes"
            ));
        }
    }
    let scored: Vec<&PeriodResult> = rows.iter().filter(|r| r.forecast.is_some()).collect();
    let back = scored
        .iter()
        .filter(|r| r.baselines.cycle_back.is_some())
        .count();
    if back < scored.len() {
        notes.push(format!(
            "{}: the data reaches back far enough for {back} of {} scored periods",
            opts.period.cycle_name(),
            scored.len()
        ));
    }
    let unpriced: usize = scored
        .iter()
        .filter_map(|r| r.actual)
        .map(|a| a.won_without_amount)
        .sum();
    if unpriced > 0 {
        let (deals, have) = if unpriced == 1 {
            ("deal", "has")
        } else {
            ("deals", "have")
        };
        notes.push(format!(
            "{unpriced} {deals} won in scored periods {have} no amount, counted as 0 in the actuals"
        ));
    }
    notes
}
