//! Sensitivity: which uncertain inputs move the chance of making the number.
//!
//! For every uncertain input of every segment (each stage's conversion
//! rate, the activity, the deal size, the sales cycle, the open pipeline's
//! slippage: [`Segment::uncertain_inputs`]), the model runs twice more: once
//! with the input held at its own 10th percentile in every trial, once at
//! its 90th, everything else drawn as usual. The *swing* is how far P(hit)
//! moves between the two; the median revenue's move comes beside it.
//!
//! # Common random numbers
//!
//! Every run uses the same seed, so trial `i` of every run draws the same
//! random numbers: holding a per-trial input draws it and then replaces
//! the draw (see [`Hold`]), and each segment has its own streams, so the
//! other segments' trials are identical in every run. The two runs of a
//! swing therefore differ by the held input and by little else, and the
//! swing's standard error comes from the paired per-trial hit indicators,
//! [`paired`]: far smaller than that of two independent runs.
//!
//! With dependence between inputs (a market factor, a rank-correlation
//! matrix), holding one input does not hold its partners: they keep their
//! draws, correlated with each other as usual. The swing is the input's own
//! effect; the rank correlation, taken as drawn, also carries whatever
//! moves with it.
//!
//! # Rank correlation
//!
//! Beside the swing, the Spearman rank correlation of each input's
//! per-trial draw with the trial's revenue, on a run where nothing is held:
//! the draws are replayed exactly with [`engine::draw_parameters`]. It says
//! how much of the revenue's ordering the input explains on its own, as
//! drawn, rather than between two fixed values. Only inputs drawn once per
//! trial have one value per trial to correlate, so it is `None` for:
//!
//! - deal size and sales cycle: drawn once per deal, not per trial;
//! - a Poisson activity: the engine never draws the lead count, it draws
//!   the wins among Poisson leads directly (thinning), so there is no
//!   per-trial count to rank (unless the activity is coupled to the market
//!   factor or a rank-correlation matrix: then it is drawn as a count, and
//!   has a correlation);
//! - any input whose draws or whose revenues do not vary (a correlation
//!   with a constant is undefined).
//!
//! # Cost
//!
//! `1 + 2 k` runs for `k` uncertain inputs (the first, with nothing held,
//! gives the base and the rank correlations). They use their own trial
//! count, [`default_trials`] unless the caller chooses: the first `n`
//! trials of any run are the same whatever the total, so the base agrees
//! trial for trial with the main run's first `n`.
//!
//! [`Segment::uncertain_inputs`]: crate::model::Segment::uncertain_inputs

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::dist::Dist;
use crate::engine::{self, Hold, Leads, Parameters, Settings};
use crate::model::{Input, Model};
use crate::summary::{hit_indicators, paired, percentile};

/// The quantile an input is held at for its low run.
pub const LOW: f64 = 0.1;

/// The quantile an input is held at for its high run.
pub const HIGH: f64 = 0.9;

/// The most trials a sensitivity run takes unless asked for more.
pub const DEFAULT_TRIALS: u64 = 20_000;

/// Trials per sensitivity run by default: the scenario's, at most
/// [`DEFAULT_TRIALS`].
pub fn default_trials(model: &Model) -> u64 {
    model.trials.min(DEFAULT_TRIALS)
}

/// One input's effect: the model with it held at its P10, then its P90.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityEntry {
    /// The segment and the input, for people:
    /// "Core accounts: lead -> qualified rate".
    pub input: String,
    /// The segment's name.
    pub segment: String,
    /// The input's 10th percentile, the value held in the low run (a rate,
    /// a lead count, an amount, days or a factor).
    pub low_value: f64,
    /// The input's 90th percentile, held in the high run.
    pub high_value: f64,
    /// P(hit) with the input held at `low_value`.
    pub p_hit_low: f64,
    /// P(hit) with the input held at `high_value`.
    pub p_hit_high: f64,
    /// The median revenue with the input held at `low_value`.
    pub p50_low: f64,
    /// The median revenue with the input held at `high_value`.
    pub p50_high: f64,
    /// `|p_hit_high - p_hit_low|`.
    pub swing: f64,
    /// The Monte Carlo standard error of `p_hit_high - p_hit_low`, from
    /// the paired per-trial hit indicators of the two runs.
    pub swing_se: f64,
    /// The Spearman rank correlation of the input's per-trial draw with
    /// the trial's revenue; `None` for inputs without a per-trial draw
    /// (see the module docs).
    pub rank_correlation: Option<f64>,
}

/// The run with nothing held that the swings sit around.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SensitivityBase {
    /// Trials in this run and in every held run.
    pub trials: u64,
    /// P(hit) with every input drawn.
    pub p_hit: f64,
    /// Its Monte Carlo standard error.
    pub p_hit_se: f64,
    /// The median revenue with every input drawn.
    pub p50: f64,
}

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// The run with nothing held.
    pub base: SensitivityBase,
    /// One entry per uncertain input, largest swing first.
    pub entries: Vec<SensitivityEntry>,
}

/// Every uncertain input of the model, as (segment index, input).
pub fn inputs(model: &Model) -> Vec<(usize, Input)> {
    let per_segment = |(j, s): (usize, &crate::model::Segment)| {
        s.uncertain_inputs().into_iter().map(move |i| (j, i))
    };
    model
        .segments
        .iter()
        .enumerate()
        .flat_map(per_segment)
        .collect()
}

/// The trials [`analyse`] runs in all, at `trials` a run: for a progress
/// bar's total.
pub fn total_trials(model: &Model, trials: u64) -> u64 {
    (1 + 2 * inputs(model).len() as u64) * trials
}

/// Runs the sensitivity analysis: every uncertain input held at its P10
/// and its P90, `trials` trials a run, with the model's seed and the
/// caller's settings (inputs the settings already hold stay held).
///
/// `progress`, when given, is advanced by every trial of every run
/// ([`total_trials`] in all).
///
/// A model with no uncertain input gives no entries, only the base.
///
/// # Errors
///
/// Fails only when the thread pool cannot be built.
///
/// # Panics
///
/// If `trials` is 0.
pub fn analyse(
    model: &Model,
    settings: &Settings,
    trials: u64,
    progress: Option<&AtomicU64>,
) -> Result<Sensitivity, rayon::ThreadPoolBuildError> {
    assert!(trials > 0, "sensitivity: 0 trials");
    let mut model = model.clone();
    model.trials = trials;
    let target = model.target;

    // The base: nothing held. Its revenues feed the rank correlations.
    let base = engine::run(&model, settings, progress)?.revenue;
    let p_hit = hit_share(&base, target);
    let draws = replay(&model, settings);

    let mut entries = Vec::new();
    for (j, input) in inputs(&model) {
        let segment = &model.segments[j];
        let dist = segment.input(input).expect("an uncertain input exists");
        let (low, high) = (held(dist, input, LOW), held(dist, input, HIGH));
        let run_at = |value| {
            let mut held = settings.clone();
            held.hold.push(Hold {
                segment: j,
                input,
                value,
            });
            engine::run(&model, &held, progress).map(|t| t.revenue)
        };
        let (low_rev, high_rev) = (run_at(low)?, run_at(high)?);
        let change = paired(
            &hit_indicators(&low_rev, target),
            &hit_indicators(&high_rev, target),
        );
        let correlation = draws
            .column(j, input)
            .and_then(|x| rank_correlation(x, &base));
        entries.push(SensitivityEntry {
            input: format!(
                "{}: {}{}",
                segment.name,
                segment.input_label(input),
                scope(input)
            ),
            segment: segment.name.clone(),
            low_value: low,
            high_value: high,
            p_hit_low: hit_share(&low_rev, target),
            p_hit_high: hit_share(&high_rev, target),
            p50_low: median(low_rev),
            p50_high: median(high_rev),
            swing: change.difference.abs(),
            swing_se: change.se,
            rank_correlation: correlation,
        });
    }
    sort_by_swing(&mut entries);

    let base = SensitivityBase {
        trials,
        p_hit,
        p_hit_se: (p_hit * (1.0 - p_hit) / trials as f64).sqrt(),
        p50: median(base),
    };
    Ok(Sensitivity { base, entries })
}

/// The value an input is held at for quantile `q`: a lead count is
/// rounded, as the engine rounds it.
fn held(dist: &Dist, input: Input, q: f64) -> f64 {
    let x = dist.quantile(q);
    match input {
        Input::Activity => x.max(0.0).round(),
        _ => x,
    }
}

/// Largest swing in P(hit) first; equal swings by the larger move of the
/// median revenue; then in input order (the sort is stable).
pub fn sort_by_swing(entries: &mut [SensitivityEntry]) {
    let median_move = |e: &SensitivityEntry| (e.p50_high - e.p50_low).abs();
    entries.sort_by(|a, b| {
        b.swing
            .total_cmp(&a.swing)
            .then_with(|| median_move(b).total_cmp(&median_move(a)))
    });
}

fn hit_share(revenue: &[f64], target: f64) -> f64 {
    revenue.iter().filter(|r| **r >= target).count() as f64 / revenue.len() as f64
}

/// The type-7 median, as the summary computes it.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    percentile(&values, 0.5)
}

/// The per-trial draws of every per-trial input, replayed from the
/// parameter streams, indexed by segment.
struct Draws {
    /// Per segment, per stage: each trial's rate.
    rates: Vec<Vec<Vec<f64>>>,
    /// Per segment: each trial's lead count (empty for a Poisson activity).
    leads: Vec<Vec<f64>>,
    /// Per segment: each trial's slippage factor (empty without one).
    slippage: Vec<Vec<f64>>,
}

impl Draws {
    /// The draws of one input; `None` for an input not drawn per trial.
    fn column(&self, j: usize, input: Input) -> Option<&[f64]> {
        let column = match input {
            Input::Rate(s) => &self.rates[j][s],
            Input::Activity => &self.leads[j],
            Input::Slippage => &self.slippage[j],
            Input::DealSize | Input::Cycle => return None,
        };
        (!column.is_empty()).then_some(column.as_slice())
    }
}

/// Replays every trial's parameter draws, exactly as the engine made them.
fn replay(model: &Model, settings: &Settings) -> Draws {
    let n = model.trials as usize;
    let mut draws = Draws {
        rates: Vec::new(),
        leads: Vec::new(),
        slippage: Vec::new(),
    };
    let mut params = Parameters::default();
    for (j, segment) in model.segments.iter().enumerate() {
        let mut rates = vec![Vec::with_capacity(n); segment.rates.len()];
        let (mut leads, mut slippage) = (Vec::new(), Vec::new());
        for trial in 0..model.trials {
            engine::draw_parameters(model, j, trial, &settings.hold, &mut params);
            for (column, rate) in rates.iter_mut().zip(&params.rates) {
                column.push(*rate);
            }
            if let Leads::Count(count) = params.leads {
                leads.push(count as f64);
            }
            if segment.slippage.is_some() {
                slippage.push(params.slippage);
            }
        }
        // A Poisson activity is not drawn as a count (unless it is coupled
        // to other inputs): then there is no column.
        if leads.len() != n {
            leads.clear();
        }
        draws.rates.push(rates);
        draws.leads.push(leads);
        draws.slippage.push(slippage);
    }
    draws
}

/// The Spearman rank correlation of `x` and `y`: the Pearson correlation
/// of their ranks, ties given their average rank. `None` when either
/// does not vary, or the lengths differ or are below 2.
pub fn rank_correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&ranks(x), &ranks(y))
}

/// 1-based ranks, ties sharing their average rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let value = values[order[start]];
        let end = start + order[start..].partition_point(|&k| values[k] == value);
        // Positions start..end (0-based) share ranks start+1 ..= end.
        let average = (start + 1 + end) as f64 / 2.0;
        for &k in &order[start..end] {
            out[k] = average;
        }
        start = end;
    }
    out
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Per-deal inputs are held for every deal of a trial at once, a far rarer
/// quarter than one rate at its P10: their label says so.
fn scope(input: Input) -> &'static str {
    if input.per_trial() {
        ""
    } else {
        ", every deal at once"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(input: &str, swing: f64, p50_low: f64, p50_high: f64) -> SensitivityEntry {
        SensitivityEntry {
            input: input.to_string(),
            segment: "s".to_string(),
            low_value: 0.0,
            high_value: 1.0,
            p_hit_low: 0.5 - swing / 2.0,
            p_hit_high: 0.5 + swing / 2.0,
            p50_low,
            p50_high,
            swing,
            swing_se: 0.0,
            rank_correlation: None,
        }
    }

    #[test]
    fn entries_sort_by_swing_then_by_the_median_move() {
        let mut entries = vec![
            entry("small", 0.01, 100.0, 120.0),
            entry("tie, small median move", 0.2, 100.0, 110.0),
            entry("big", 0.3, 100.0, 101.0),
            entry("tie, big median move (falling)", 0.2, 150.0, 100.0),
            entry("tie, same move, listed later", 0.2, 100.0, 110.0),
        ];
        sort_by_swing(&mut entries);
        let order: Vec<&str> = entries.iter().map(|e| e.input.as_str()).collect();
        assert_eq!(
            order,
            [
                "big",
                "tie, big median move (falling)",
                "tie, small median move",
                "tie, same move, listed later",
                "small"
            ]
        );
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[3.0, 1.0, 2.0]), [3.0, 1.0, 2.0]);
        assert_eq!(ranks(&[5.0, 5.0, 1.0, 5.0]), [3.0, 3.0, 1.0, 3.0]);
    }

    #[test]
    fn rank_correlation_of_monotone_and_reversed_values() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let cube: Vec<f64> = x.iter().map(|v| v * v * v).collect();
        let down: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert_eq!(rank_correlation(&x, &cube), Some(1.0));
        assert_eq!(rank_correlation(&x, &down), Some(-1.0));
        assert_eq!(rank_correlation(&x, &[7.0; 5]), None);
        assert_eq!(rank_correlation(&x, &x[..4]), None);
    }

    #[test]
    fn rank_correlation_matches_the_textbook_formula_without_ties() {
        // 1 - 6 sum d^2 / (n (n^2 - 1)) for distinct values.
        let x = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
        let y = [2.0, 1.0, 4.0, 3.0, 6.0, 5.0];
        let d2 = 6.0; // every rank differs by 1
        let exact = 1.0 - 6.0 * d2 / (6.0 * 35.0);
        let got = rank_correlation(&x, &y).unwrap();
        assert!((got - exact).abs() < 1e-12, "{got} vs {exact}");
    }
}
