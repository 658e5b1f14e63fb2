//! `revpipe backtest` flags: the same files and column mapping as
//! `revpipe fit` (its argument groups, flattened in), the walk's range,
//! and the output form; turned into the library's typed options before
//! any file is read.

use clap::Args;

use crate::fit_cli::{date_flag, ChoiceArgs, InputArgs};
use revpipe::backtest::{BacktestOptions, PeriodKind};

/// Flags of `revpipe backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Length of each period: month or quarter.
    #[arg(long, default_value = "month")]
    period: String,
    /// Backtest the whole periods from this day (YYYY-MM-DD; default: the
    /// period after the one with the first close).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Backtest the whole periods up to this day (YYYY-MM-DD; default: the
    /// latest date in the export).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Revenue target of every period (default: each period's run rate,
    /// the mean actual of the periods before it).
    #[arg(long, allow_negative_numbers = true)]
    target: Option<f64>,
    /// Trials per period.
    #[arg(long, default_value_t = 10_000)]
    trials: u64,
    /// Seed of the first period; each later period adds its index.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Print the result as one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    choices: ChoiceArgs,
}

impl BacktestArgs {
    /// The typed options, or the first bad flag.
    pub fn options(&self) -> Result<BacktestOptions, String> {
        let date = |name, value: &Option<String>| value.as_deref().map(|v| date_flag(name, v));
        Ok(BacktestOptions {
            period: self
                .period
                .parse::<PeriodKind>()
                .map_err(|e| format!("--period: {e}"))?,
            from: date("from", &self.from).transpose()?,
            to: date("to", &self.to).transpose()?,
            target: self.target,
            trials: self.trials,
            seed: self.seed,
            threads: self.threads,
            fit: self.choices.fit_options(&self.input)?,
            adjust: None,
        })
    }
}
