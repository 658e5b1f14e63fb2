//! Everything computed from the per-trial results: the probability of
//! hitting the target and its Monte Carlo error, revenue quantiles, the
//! commit and stretch numbers, the leads needed per confidence level and the
//! curve of probability against activity.
//!
//! [`Summary`] is the JSON output; its field names are documented in the
//! README and kept stable.
//!
//! # Definitions
//!
//! - Revenue percentiles (`p5` ... `p95`) interpolate linearly between order
//!   statistics (Hyndman and Fan's type 7, the default of numpy and of most
//!   spreadsheets): with sorted revenues `x[0..n]`, `pq = x[h] + (h - floor h)
//!   (x[h+1] - x[h])` at `h = (n - 1) q`.
//! - "Reached with confidence `c`" (the commit and stretch numbers) is the
//!   largest revenue that at least `ceil(c n)` trials reach: `x[n - ceil(c n)]`.
//! - "Leads needed at confidence `c`" is the smallest lead count at which at
//!   least `ceil(c n)` trials hit the target.
//! - Each of these comes with a distribution-free 95% Monte Carlo interval
//!   from the order statistics whose ranks are `c n +- 1.96 sqrt(n c (1-c))`.

use serde::Serialize;

use crate::engine::{Settings, Solve, Trials, NOT_REACHABLE};
use crate::model::{Ansoff, Model, Segment};
use crate::sensitivity::{SensitivityBase, SensitivityEntry};
use crate::team::{Hire, Overload, Team};

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The version of revpipe that produced this result.
    pub revpipe_version: String,
    /// The scenario's name.
    pub name: String,
    /// The currency of every amount.
    pub currency: String,
    /// The period's length in days.
    pub period_days: f64,
    /// The revenue number.
    pub target: f64,
    /// Revenue already closed-won in the period.
    pub booked: f64,
    /// Trials run.
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// The probability of reaching the target (revenue >= target).
    pub p_hit: f64,
    /// The Monte Carlo standard error of `p_hit`.
    pub p_hit_se: f64,
    /// The distribution of the period's revenue.
    pub revenue: Spread,
    /// Trial revenues counted in equal bins, for a histogram.
    pub revenue_histogram: Histogram,
    /// The number reached with 90% confidence.
    pub commit: Reached,
    /// The number reached with the stretch confidence.
    pub stretch: Reached,
    /// Per confidence level: the activity it takes.
    pub levels: Vec<Level>,
    /// How the activity was solved for.
    pub solve: SolveInfo,
    /// The probability of hitting against the number of leads.
    pub activity_curve: Vec<CurvePoint>,
    /// Per segment results.
    pub segments: Vec<SegmentSummary>,
    /// Things a reader should know about this result.
    pub warnings: Vec<String>,
    /// Per uncertain input, the swing from holding it at its P10 and P90,
    /// largest first (`run --sensitivity` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Vec<SensitivityEntry>>,
    /// The run with nothing held that the sensitivity swings sit around,
    /// with its trial count (`run --sensitivity` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity_base: Option<SensitivityBase>,
}

/// Trial revenues counted in equal-width bins.
///
/// Bin `i` holds the trials with `bin_edges[i] <= revenue < bin_edges[i +
/// 1]`; the last bin also holds its upper edge. The edges are multiples of
/// a round width (1, 2, 2.5 or 5 times a power of ten) chosen for about
/// [`HISTOGRAM_BINS`] bins from the lowest revenue to the highest, so the
/// counts add up to the trials. When every trial has the same revenue there
/// is one bin around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// `counts.len() + 1` ascending edges.
    pub bin_edges: Vec<f64>,
    /// Trials per bin.
    pub counts: Vec<u64>,
}

/// The number of bins a revenue histogram aims for.
pub const HISTOGRAM_BINS: usize = 60;

/// Mean, standard deviation and percentiles of an amount.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation.
    pub sd: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 25th percentile.
    pub p25: f64,
    /// The median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
}

/// A revenue reached with a stated confidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reached {
    /// The confidence, such as 0.9.
    pub confidence: f64,
    /// The revenue reached in at least that share of trials.
    pub revenue: f64,
    /// A 95% Monte Carlo interval for `revenue`.
    pub ci95: [f64; 2],
}

/// The activity needed for one confidence level.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// The confidence, such as 0.9.
    pub confidence: f64,
    /// Leads needed in the period (all segments in the planned mix, or the
    /// solved segment); `null` when no count up to the cap is enough.
    pub leads_needed: Option<u64>,
    /// A 95% Monte Carlo interval for `leads_needed` (`null` ends are past
    /// the cap).
    pub leads_needed_ci95: [Option<u64>; 2],
    /// `leads_needed` over the planned leads.
    pub activity_multiple: Option<f64>,
    /// The revenue reached with this confidence at the planned activity.
    pub revenue_at_plan: f64,
    /// Per segment: its leads and the stage volumes that follow.
    pub segments: Vec<SegmentVolumes>,
}

/// One segment's share of the activity for a level.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentVolumes {
    /// The segment's name.
    pub name: String,
    /// Whether this segment's activity was solved for (false: as planned).
    pub solved: bool,
    /// Volumes per stage, top first; the last stage is wins.
    pub stages: Vec<StageVolume>,
    /// Fully ramped reps, on the team from the period's first day, that
    /// carry this level's leads (`null` without a team, or when the level
    /// is not reachable).
    pub reps_needed: Option<f64>,
    /// Per hire day, the new hires beyond the current team that carry this
    /// level's leads (`null` as for `reps_needed`).
    pub hires_needed: Option<Vec<Hire>>,
}

/// The volume needed at one stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageVolume {
    /// The stage's name.
    pub stage: String,
    /// The volume in the period.
    pub volume: f64,
    /// The volume per rep per week, when the segment gives a capacity.
    pub per_rep_per_week: Option<f64>,
}

/// How the activity was solved for.
#[derive(Debug, Clone, Serialize)]
pub struct SolveInfo {
    /// `planned_mix` or `segment`.
    pub mode: &'static str,
    /// The solved segment, in `segment` mode.
    pub segment: Option<String>,
    /// The leads planned for what is solved.
    pub planned_leads: f64,
    /// The largest lead count searched.
    pub lead_cap: u64,
    /// The share of trials that some lead count up to the cap hits.
    pub p_reachable: f64,
}

/// The probability of hitting at one lead count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Leads in the period.
    pub leads: u64,
    /// `leads` over the planned leads (`null` with no leads planned).
    pub activity_multiple: Option<f64>,
    /// The share of trials that hit with this many leads.
    pub p_hit: f64,
}

/// One segment's results.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentSummary {
    /// The segment's name.
    pub name: String,
    /// Its Ansoff quadrant, when tagged.
    pub ansoff: Option<Ansoff>,
    /// The mean of its activity distribution.
    pub planned_leads: f64,
    /// The mean chance that a lead becomes a win.
    pub win_rate: f64,
    /// The chance that a win from a new lead closes inside the period.
    pub close_in_period: f64,
    /// Mean volume reaching each stage from new leads.
    pub stage_volumes: Vec<StageVolume>,
    /// Mean wins from new leads (whenever they close).
    pub expected_wins: f64,
    /// Mean wins from new leads that close inside the period.
    pub expected_wins_in_period: f64,
    /// Open deals in the pipeline.
    pub open_deals: usize,
    /// Their total amount.
    pub open_amount: f64,
    /// Mean open deals won inside the period.
    pub expected_open_wins: f64,
    /// Mean revenue from open deals.
    pub open_revenue_mean: f64,
    /// Mean revenue from new leads.
    pub new_revenue_mean: f64,
    /// The segment's revenue in the period.
    pub revenue: Spread,
    /// The team's capacity against the plan (`null` without a team).
    pub team: Option<TeamSummary>,
}

/// A segment's team against its planned activity.
#[derive(Debug, Clone, Serialize)]
pub struct TeamSummary {
    /// Reps on the team (listed, counting each `count`).
    pub reps: usize,
    /// Leads one fully productive rep carries in a working week.
    pub leads_per_rep_week: f64,
    /// Expected fully productive rep-weeks in the period (ramp,
    /// availability and expected attrition counted).
    pub fte_weeks: f64,
    /// Expected leads the team carries in the period:
    /// `leads_per_rep_week * fte_weeks`.
    pub capacity: f64,
    /// The capacity if nobody leaves during the period.
    pub capacity_without_attrition: f64,
    /// Planned leads as a share of `capacity` (`null` at zero capacity).
    pub load: Option<f64>,
    /// Expected leads one fully ramped rep carries in the period.
    pub rep_capacity: f64,
    /// What happens past capacity: `mode` (`refuse` or `degrade`), and for
    /// `degrade` its `threshold` and `conversion_factor`.
    pub overload: Overload,
    /// With `degrade`: the share of trials whose leads were past the
    /// threshold times that trial's capacity (`null` with `refuse`).
    pub overloaded_share: Option<f64>,
}

/// Summarises a run. Consumes the trials: they are sorted in place.
pub fn summarize(model: &Model, settings: &Settings, mut trials: Trials) -> Summary {
    let n = trials.len();
    let segments = segment_summaries(model, &trials);
    let hits = trials
        .revenue
        .iter()
        .filter(|r| **r >= model.target)
        .count();
    let p_hit = hits as f64 / n as f64;

    trials.revenue.sort_unstable_by(f64::total_cmp);
    let revenue = spread(&trials.revenue);
    let revenue_histogram = histogram(&trials.revenue, HISTOGRAM_BINS);
    let commit = reached(&trials.revenue, crate::scenario::COMMIT_CONFIDENCE);
    let stretch = reached(&trials.revenue, model.stretch_confidence);

    trials.leads_needed.sort_unstable();
    let needed = &trials.leads_needed;
    let solve = solve_info(model, settings, &trials);
    let levels: Vec<Level> = model
        .confidence
        .iter()
        .map(|&c| level(model, &trials, &solve, c))
        .collect();
    let activity_curve = curve(needed, solve.planned_leads, trials.lead_cap);
    let mut warnings = warnings(model, settings, &solve);
    warnings.extend(team_warnings(model, &levels));
    Summary {
        revpipe_version: env!("CARGO_PKG_VERSION").to_string(),
        name: model.name.clone(),
        currency: model.currency.clone(),
        period_days: model.period_days,
        target: model.target,
        booked: model.booked,
        trials: model.trials,
        seed: model.seed,
        p_hit,
        p_hit_se: (p_hit * (1.0 - p_hit) / n as f64).sqrt(),
        revenue,
        revenue_histogram,
        commit,
        stretch,
        levels,
        solve,
        activity_curve,
        segments,
        warnings,
        sensitivity: None,
        sensitivity_base: None,
    }
}

fn solve_info(model: &Model, settings: &Settings, trials: &Trials) -> SolveInfo {
    let reachable = trials
        .leads_needed
        .iter()
        .filter(|n| **n != NOT_REACHABLE)
        .count();
    let (mode, segment, planned_leads) = match settings.solve {
        Solve::PlannedMix => ("planned_mix", None, model.planned_leads()),
        Solve::Segment(j) => {
            let s = &model.segments[j];
            ("segment", Some(s.name.clone()), s.planned_leads)
        }
    };
    SolveInfo {
        mode,
        segment,
        planned_leads,
        lead_cap: trials.lead_cap,
        p_reachable: reachable as f64 / trials.len() as f64,
    }
}

fn team_summary(team: &Team, planned: f64, overloaded: f64, trials: f64) -> TeamSummary {
    let capacity = team.expected_capacity();
    TeamSummary {
        reps: team.reps.len(),
        leads_per_rep_week: team.leads_per_rep_week,
        fte_weeks: team.fte_weeks(),
        capacity,
        capacity_without_attrition: team.full_capacity(),
        load: ratio(planned, capacity),
        rep_capacity: team.rep_capacity(),
        overload: team.overload,
        overloaded_share: team.degrades().then_some(overloaded / trials),
    }
}

fn level(model: &Model, trials: &Trials, solve: &SolveInfo, confidence: f64) -> Level {
    let needed = &trials.leads_needed;
    let k = count_for(confidence, needed.len());
    let leads = as_leads(needed[k - 1]);
    let (lo, hi) = rank_interval(confidence, needed.len());
    let segments = model
        .segments
        .iter()
        .zip(&trials.mix)
        .map(|(s, share)| volumes(s, *share, leads))
        .collect();
    Level {
        confidence,
        leads_needed: leads,
        leads_needed_ci95: [as_leads(needed[lo]), as_leads(needed[hi])],
        activity_multiple: leads.and_then(|l| ratio(l as f64, solve.planned_leads)),
        revenue_at_plan: reached(&trials.revenue, confidence).revenue,
        segments,
    }
}

/// A segment's stage volumes when it gets `share` of `leads`; a segment
/// with no share keeps its planned activity.
fn volumes(segment: &Segment, share: f64, leads: Option<u64>) -> SegmentVolumes {
    let solved = share > 0.0;
    let top = if solved {
        leads.map(|l| l as f64 * share)
    } else {
        Some(segment.planned_leads)
    };
    let stages = match top {
        Some(top) => stage_volumes(segment, top),
        None => Vec::new(),
    };
    let team = segment.team.as_ref();
    SegmentVolumes {
        name: segment.name.clone(),
        solved,
        stages,
        reps_needed: team.zip(top).map(|(t, top)| t.reps_needed(top)),
        hires_needed: team.zip(top).map(|(t, top)| t.hires_needed(top)),
    }
}

fn stage_volumes(segment: &Segment, top: f64) -> Vec<StageVolume> {
    segment
        .stages
        .iter()
        .zip(segment.mean_stage_yield())
        .map(|(name, share)| {
            let volume = top * share;
            StageVolume {
                stage: name.clone(),
                volume,
                per_rep_per_week: segment.capacity.map(|c| c.per_rep_per_week(volume)),
            }
        })
        .collect()
}

fn segment_summaries(model: &Model, trials: &Trials) -> Vec<SegmentSummary> {
    let n = trials.len() as f64;
    let j = model.segments.len();
    let mut column = Vec::with_capacity(trials.len());
    model
        .segments
        .iter()
        .zip(&trials.totals)
        .enumerate()
        .map(|(k, (s, t))| {
            column.clear();
            column.extend(
                trials
                    .segment_revenue
                    .iter()
                    .skip(k)
                    .step_by(j)
                    .map(|r| f64::from(*r)),
            );
            let mut revenue = spread_unsorted(&mut column);
            revenue.mean = (t.new_revenue + t.open_revenue) / n;
            let mean_volume = |v: &f64| v / n;
            SegmentSummary {
                name: s.name.clone(),
                ansoff: s.ansoff,
                planned_leads: s.planned_leads,
                win_rate: s.mean_win_rate(),
                close_in_period: s.in_period,
                stage_volumes: s
                    .stages
                    .iter()
                    .zip(&t.stage_volume)
                    .map(|(name, v)| StageVolume {
                        stage: name.clone(),
                        volume: mean_volume(v),
                        per_rep_per_week: s.capacity.map(|c| c.per_rep_per_week(mean_volume(v))),
                    })
                    .collect(),
                expected_wins: t.stage_volume.last().map_or(0.0, mean_volume),
                expected_wins_in_period: t.wins_in_period / n,
                open_deals: s.open.len(),
                open_amount: s.open.iter().map(|d| d.amount).sum(),
                expected_open_wins: t.open_won / n,
                open_revenue_mean: t.open_revenue / n,
                new_revenue_mean: t.new_revenue / n,
                revenue,
                team: s
                    .team
                    .as_ref()
                    .map(|team| team_summary(team, s.planned_leads, t.overloaded, n)),
            }
        })
        .collect()
}

/// Probability against lead counts from 0 to three times the plan, in
/// steps of a tenth of the plan (or of the cap, with nothing planned).
fn curve(sorted_needed: &[u32], planned: f64, cap: u64) -> Vec<CurvePoint> {
    const STEPS: u32 = 30;
    let n = sorted_needed.len() as f64;
    let unit = if planned > 0.0 {
        planned / 10.0
    } else {
        cap as f64 / f64::from(STEPS)
    };
    (0..=STEPS)
        .map(|i| {
            let leads = (unit * f64::from(i)).round() as u64;
            let hit = sorted_needed.partition_point(|x| u64::from(*x) <= leads);
            CurvePoint {
                leads,
                activity_multiple: ratio(leads as f64, planned),
                p_hit: hit as f64 / n,
            }
        })
        .collect()
}

fn warnings(model: &Model, settings: &Settings, solve: &SolveInfo) -> Vec<String> {
    let mut out = Vec::new();
    for s in &model.segments {
        let stale: Vec<String> = s
            .stale_deals()
            .map(|d| {
                d.id.clone()
                    .unwrap_or_else(|| format!("{} aged {} days", d.amount, d.age_days))
            })
            .collect();
        if !stale.is_empty() {
            out.push(format!(
                "segment {:?}: {} open deal(s) are older than any cycle its cycle_days allows and count as lost: {}",
                s.name,
                stale.len(),
                stale.join(", ")
            ));
        }
    }
    if let Some(copula) = model.dependence.copula.as_ref().filter(|c| c.shrink > 0.0) {
        out.push(format!(
            "the rank-correlation matrix was not valid and was shrunk towards independence by {:.3} (every correlation multiplied by {:.3}), as \"repair\": true asked",
            copula.shrink,
            1.0 - copula.shrink
        ));
    }
    let searched = settings.lead_cap_factor * solve.planned_leads;
    if searched > solve.lead_cap as f64 {
        out.push(format!(
            "the reverse solve searched up to {} leads, not the {} that --lead-cap asked for: \
             that is the largest lead count it can store",
            solve.lead_cap, searched
        ));
    }
    let top = model.confidence.iter().copied().fold(0.0, f64::max);
    if solve.p_reachable < top {
        out.push(format!(
            "only {:.1}% of trials reach the target within {} leads (the search cap): \
             higher confidence levels are not reachable by adding leads alone",
            100.0 * solve.p_reachable,
            solve.lead_cap
        ));
    }
    if model.trials < 1000 {
        out.push(format!(
            "{} trials give coarse percentiles; use 10,000 or more for decisions",
            model.trials
        ));
    }
    out
}

/// Per segment with a team: a warning when a level's leads are more than
/// the team carries, naming the highest such level.
fn team_warnings(model: &Model, levels: &[Level]) -> Vec<String> {
    let mut out = Vec::new();
    for (j, s) in model.segments.iter().enumerate() {
        let Some(team) = &s.team else { continue };
        let carried = match team.overload {
            Overload::Degrade { threshold, .. } => threshold * team.expected_capacity(),
            Overload::Refuse => team.expected_capacity(),
        };
        let over = levels
            .iter()
            .filter_map(|l| Some((l.confidence, l.segments[j].stages.first()?.volume)))
            .filter(|(_, leads)| *leads > carried)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((c, leads)) = over {
            out.push(format!(
                "segment {:?}: {:.0}% confidence takes {leads:.0} leads, more than its team \
                 carries ({carried:.0}); the leads needed assume a team sized to carry them \
                 (reps_needed, hires_needed), not the current one",
                s.name,
                100.0 * c
            ));
        }
    }
    out
}

fn as_leads(x: u32) -> Option<u64> {
    (x != NOT_REACHABLE).then_some(u64::from(x))
}

fn ratio(x: f64, of: f64) -> Option<f64> {
    (of > 0.0).then_some(x / of)
}

/// `ceil(c n)`, at least 1, guarded against `c n` landing a hair above a
/// whole number through rounding.
fn count_for(confidence: f64, n: usize) -> usize {
    let k = (confidence * n as f64 - 1e-9).ceil() as usize;
    k.clamp(1, n)
}

/// 0-based ranks bracketing the order statistic of rank `c n` with 95%
/// Monte Carlo confidence (normal approximation to the binomial).
fn rank_interval(confidence: f64, n: usize) -> (usize, usize) {
    let centre = confidence * n as f64;
    let half = 1.96 * (n as f64 * confidence * (1.0 - confidence)).sqrt();
    let clamp = |x: f64| (x.max(1.0) as usize).clamp(1, n) - 1;
    (
        clamp((centre - half).floor()),
        clamp((centre + half).ceil()),
    )
}

/// The revenue at least `ceil(c n)` trials reach, from sorted revenues.
pub fn reached(sorted: &[f64], confidence: f64) -> Reached {
    let n = sorted.len();
    let k = count_for(confidence, n);
    // Reaching with confidence c is the (1 - c) lower quantile.
    let (lo, hi) = rank_interval(1.0 - confidence, n);
    Reached {
        confidence,
        revenue: sorted[n - k],
        ci95: [sorted[lo], sorted[hi]],
    }
}

/// Mean, sd and type-7 percentiles of sorted values.
pub fn spread(sorted: &[f64]) -> Spread {
    spread_with(sorted, |p| percentile(sorted, p))
}

/// As [`spread`], for values in any order: finds the order statistics the
/// percentiles need by selection instead of a full sort. Reorders `values`.
pub fn spread_unsorted(values: &mut [f64]) -> Spread {
    let n = values.len();
    let mut ranks: Vec<usize> = PERCENTILES
        .iter()
        .flat_map(|&p| {
            let lo = ((n - 1) as f64 * p).floor() as usize;
            [lo, (lo + 1).min(n - 1)]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let stats = order_statistics(values, &ranks);
    let at = |rank: usize| stats[ranks.binary_search(&rank).expect("rank was selected")];
    spread_with(values, |p: f64| {
        let h = (n - 1) as f64 * p;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(n - 1);
        at(lo) + (h - lo as f64) * (at(hi) - at(lo))
    })
}

/// The percentiles a [`Spread`] reports.
const PERCENTILES: [f64; 7] = [0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95];

/// Mean and sample sd of `values` (in any order), with the percentiles
/// from `q`.
fn spread_with(values: &[f64], q: impl Fn(f64) -> f64) -> Spread {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = if values.len() > 1 {
        (ss / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let [p5, p10, p25, p50, p75, p90, p95] = PERCENTILES.map(q);
    Spread {
        mean,
        sd,
        p5,
        p10,
        p25,
        p50,
        p75,
        p90,
        p95,
    }
}

/// The values of the given 0-based ranks (ascending, distinct), found by
/// successive selections on the part of `values` right of the last rank.
fn order_statistics(values: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    let mut start = 0;
    ranks
        .iter()
        .map(|&rank| {
            let (_, x, _) = values[start..].select_nth_unstable_by(rank - start, f64::total_cmp);
            start = rank + 1;
            *x
        })
        .collect()
}

/// Counts sorted values in about `bins` bins of a round width (see
/// [`Histogram`]). Empty input gives no bins.
pub fn histogram(sorted: &[f64], bins: usize) -> Histogram {
    let (Some(&lo), Some(&hi)) = (sorted.first(), sorted.last()) else {
        return Histogram {
            bin_edges: Vec::new(),
            counts: Vec::new(),
        };
    };
    // A single value gets one bin of a round width around it.
    let spread = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    let width = round_width(spread / bins.max(1) as f64);
    let first = (lo / width).floor();
    let n = (((hi / width).floor() - first) as usize + 1).max(1);
    let bin_edges: Vec<f64> = (0..=n).map(|i| (first + i as f64) * width).collect();

    // One pass over the sorted values: each bin ends where the next starts.
    let mut counts = vec![0; n];
    let mut start = 0;
    for (i, count) in counts.iter_mut().enumerate() {
        let end = if i + 1 == n {
            sorted.len()
        } else {
            start + sorted[start..].partition_point(|x| *x < bin_edges[i + 1])
        };
        *count = (end - start) as u64;
        start = end;
    }
    Histogram { bin_edges, counts }
}

/// The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least
/// `x` (> 0).
pub fn round_width(x: f64) -> f64 {
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|w| *w >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * power)
}

/// The type-7 percentile of sorted values (see the module docs).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The difference between two runs' means of a per-trial quantity, and
/// its standard errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Paired {
    /// `mean(other) - mean(base)`.
    pub difference: f64,
    /// Its Monte Carlo standard error from the paired per-trial
    /// differences: `sqrt(var(other_i - base_i) / n)`. Valid when trial `i`
    /// of both runs drew the same random numbers (common random numbers).
    pub se: f64,
    /// The standard error had the runs drawn independent random numbers:
    /// `sqrt(var(base) / n + var(other) / n)`, for comparison.
    pub se_unpaired: f64,
}

/// Compares two runs trial by trial (see [`Paired`]). Variances divide by
/// `n`, so for 0/1 hit indicators `var = p (1 - p)`, as in `p_hit_se`.
///
/// ```
/// use revpipe::summary::paired;
///
/// // The second run beats the first by 1 in every trial: no noise at all.
/// let d = paired(&[1.0, 5.0, 3.0], &[2.0, 6.0, 4.0]);
/// assert_eq!((d.difference, d.se), (1.0, 0.0));
/// assert!(d.se_unpaired > 1.0);
/// ```
///
/// # Panics
///
/// If the lengths differ or are 0.
pub fn paired(base: &[f64], other: &[f64]) -> Paired {
    assert!(
        base.len() == other.len() && !base.is_empty(),
        "paired: {} and {} trials",
        base.len(),
        other.len()
    );
    let n = base.len() as f64;
    let (mean_base, var_base) = mean_var(base.iter().copied());
    let (mean_other, var_other) = mean_var(other.iter().copied());
    let (_, var_diff) = mean_var(base.iter().zip(other).map(|(a, b)| b - a));
    Paired {
        difference: mean_other - mean_base,
        se: (var_diff / n).sqrt(),
        se_unpaired: ((var_base + var_other) / n).sqrt(),
    }
}

/// Each trial's hit indicator: 1 when its revenue reaches `target`,
/// else 0 (the per-trial values [`paired`] compares P(hit) with).
pub fn hit_indicators(revenue: &[f64], target: f64) -> Vec<f64> {
    revenue
        .iter()
        .map(|r| f64::from(u8::from(*r >= target)))
        .collect()
}

/// The mean and the variance (over `n`) of the values, in two passes.
fn mean_var(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count() as f64;
    let mean = values.clone().sum::<f64>() / n;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_type_7() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&x, 0.5), 2.5);
        assert_eq!(percentile(&x, 0.0), 1.0);
        assert_eq!(percentile(&x, 1.0), 4.0);
        assert!((percentile(&x, 0.1) - 1.3).abs() < 1e-12);
    }

    #[test]
    fn reached_is_met_by_at_least_the_share_of_trials() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        // 9 of 10 trials reach 2; none reaches more with 90%.
        assert_eq!(reached(&x, 0.9).revenue, 2.0);
        assert_eq!(reached(&x, 0.5).revenue, 6.0);
    }

    #[test]
    fn selection_gives_the_same_spread_as_sorting() {
        let mut rng_state = 12345u64;
        let mut values: Vec<f64> = (0..1001)
            .map(|_| {
                rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1);
                (rng_state >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect();
        values.extend([0.5; 20]);
        let mut sorted = values.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let a = spread(&sorted);
        let b = spread_unsorted(&mut values);
        assert_eq!(a.p5, b.p5);
        assert_eq!(a.p50, b.p50);
        assert_eq!(a.p95, b.p95);
        assert!((a.mean - b.mean).abs() < 1e-12 && (a.sd - b.sd).abs() < 1e-12);
        let one = spread_unsorted(&mut [7.0]);
        assert_eq!((one.p5, one.p95, one.sd), (7.0, 7.0, 0.0));
    }

    #[test]
    fn histogram_bins_are_round_and_hold_every_value() {
        let x: Vec<f64> = (0..=1000)
            .map(|i| 1_000_000.0 + 2000.0 * f64::from(i))
            .collect();
        let h = histogram(&x, 40);
        // 2M over 40 bins is 50k a bin, from 1M to 3.05M (3M is in a bin).
        assert_eq!(h.bin_edges[0], 1_000_000.0);
        assert_eq!(h.bin_edges[1] - h.bin_edges[0], 50_000.0);
        assert_eq!(h.counts.len(), 41);
        assert_eq!(h.bin_edges.len(), h.counts.len() + 1);
        assert_eq!(h.counts.iter().sum::<u64>(), 1001);
        // [1M, 1.05M) holds 1M, 1.002M, ..., 1.048M: 25 values.
        assert_eq!(h.counts[0], 25);
        assert_eq!(*h.counts.last().unwrap(), 1, "3M alone in the last bin");
    }

    #[test]
    fn histogram_of_one_value_has_one_bin_around_it() {
        let h = histogram(&[250_000.0; 7], 40);
        assert_eq!(h.counts, vec![7]);
        assert!(h.bin_edges[0] <= 250_000.0 && 250_000.0 < h.bin_edges[1]);
        let zero = histogram(&[0.0, 0.0], 40);
        assert_eq!(zero.counts, vec![2]);
        assert_eq!(zero.bin_edges, vec![0.0, 0.025]);
        assert!(histogram(&[], 40).counts.is_empty());
    }

    #[test]
    fn round_widths() {
        assert_eq!(round_width(43_000.0), 50_000.0);
        assert_eq!(round_width(50_000.0), 50_000.0);
        assert_eq!(round_width(21_000.0), 25_000.0);
        assert_eq!(round_width(0.7), 1.0);
        assert_eq!(round_width(120.0), 200.0);
    }

    #[test]
    fn count_for_survives_rounding() {
        assert_eq!(count_for(0.9, 10), 9);
        assert_eq!(count_for(0.7, 10), 7);
        assert_eq!(count_for(0.01, 10), 1);
    }
}
