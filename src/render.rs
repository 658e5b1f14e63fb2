//! The summary for people: a plain-text report for the terminal.
//!
//! The JSON form is the [`Summary`] itself, serialised by serde.

use std::fmt::Write;

use crate::compare::{Comparison, Difference};
use crate::summary::{Histogram, Level, SegmentSummary, SegmentVolumes, Summary, TeamSummary};
use crate::team::Overload;

/// Formats a number with thousands separators and no decimals.
pub fn amount(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let rounded = x.round();
    let digits = format!("{:.0}", rounded.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if rounded < 0.0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Formats an amount compactly (800k, 1.25M) with the decimals that a
/// step of `step` between values needs, as on an axis whose ticks are
/// `step` apart.
///
/// ```
/// use revpipe::render::compact;
/// assert_eq!(compact(1_250_000.0, 250_000.0), "1.25M");
/// assert_eq!(compact(800_000.0, 200_000.0), "800k");
/// assert_eq!(compact(2_000_000.0, 500_000.0), "2M");
/// assert_eq!(compact(0.0, 500_000.0), "0");
/// ```
pub fn compact(x: f64, step: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let (unit, suffix) = unit_of(x.abs().max(step.abs()));
    // The fewest decimals that show the step exactly (2.5 needs one).
    let scaled = (step / unit).abs();
    let decimals = (0..6)
        .find(|d| {
            let v = scaled * 10f64.powi(*d);
            (v - v.round()).abs() < 1e-6 * v.max(1.0)
        })
        .unwrap_or(6) as usize;
    trimmed(x / unit, decimals, suffix)
}

/// Formats an amount compactly to three significant figures: 868k, 1.83M,
/// 31.4k. Trailing zeros are dropped only where nothing was rounded away:
/// 2.6M is 2,600,000, 1.00M is about a million.
///
/// ```
/// use revpipe::render::compact_sig;
/// assert_eq!(compact_sig(868_488.0), "868k");
/// assert_eq!(compact_sig(1_834_879.0), "1.83M");
/// assert_eq!(compact_sig(2_600_000.0), "2.6M");
/// assert_eq!(compact_sig(1_003_944.0), "1.00M");
/// ```
pub fn compact_sig(x: f64) -> String {
    compact_digits(x, 3)
}

/// As [`compact_sig`], to `digits` significant figures.
///
/// ```
/// use revpipe::render::compact_digits;
/// assert_eq!(compact_digits(1_940_123.0, 4), "1.940M");
/// assert_eq!(compact_digits(1_943_900.0, 4), "1.944M");
/// assert_eq!(compact_digits(2_600_000.0, 4), "2.6M");
/// ```
pub fn compact_digits(x: f64, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let (unit, suffix) = unit_of(x.abs());
    let v = x / unit;
    let whole_digits = (v.abs().log10().floor() as i32 + 1).max(1);
    let decimals = (digits - whole_digits).max(0) as usize;
    let text = format!("{v:.decimals$}");
    let exact = text
        .parse::<f64>()
        .is_ok_and(|r| (r - v).abs() <= 1e-9 * v.abs());
    if exact {
        trimmed(v, decimals, suffix)
    } else {
        format!("{text}{suffix}")
    }
}

/// The unit and suffix for an amount of this size.
fn unit_of(a: f64) -> (f64, &'static str) {
    if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// `v` with `decimals`, trailing zeros dropped, then `suffix`.
fn trimmed(v: f64, decimals: usize, suffix: &str) -> String {
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{suffix}")
}

/// Formats a volume: whole numbers with separators from 100 up, one
/// decimal below.
pub fn volume(x: f64) -> String {
    if x.abs() >= 100.0 {
        amount(x)
    } else {
        format!("{x:.1}")
    }
}

fn percent(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// Renders the summary as a plain-text report. Its warnings are not part
/// of it: the command line prints them to stderr.
pub fn text(s: &Summary) -> String {
    let mut out = String::new();
    headline(&mut out, s);
    revenue(&mut out, s);
    histogram(&mut out, s);
    segments(&mut out, s);
    teams(&mut out, s);
    activity(&mut out, s);
    sensitivity(&mut out, s);
    out
}

fn headline(out: &mut String, s: &Summary) {
    let cur = &s.currency;
    let _ = writeln!(out, "{}", s.name);
    let _ = writeln!(
        out,
        "{} trials, seed {}; target {cur} {} over {} days, {cur} {} booked",
        amount(s.trials as f64),
        s.seed,
        amount(s.target),
        s.period_days,
        amount(s.booked)
    );
    let _ = writeln!(out);
    // At 0 or 1 the standard error is 0 and says nothing: say what the
    // trials did instead.
    let trials = amount(s.trials as f64);
    let error = if s.p_hit == 0.0 {
        format!("none of the {trials} trials reached it")
    } else if s.p_hit == 1.0 {
        format!("all {trials} trials reached it")
    } else {
        format!("± {:.2}% (Monte Carlo standard error)", 100.0 * s.p_hit_se)
    };
    let _ = writeln!(out, "  P(hit target)  {:>14}  {error}", percent(s.p_hit));
    for (label, r) in [("Commit", &s.commit), ("Stretch", &s.stretch)] {
        let _ = writeln!(
            out,
            "  {label:<13}  {cur} {:>10}  reached with {:.0}% confidence (95% MC interval {} to {})",
            amount(r.revenue),
            100.0 * r.confidence,
            amount(r.ci95[0]),
            amount(r.ci95[1])
        );
    }
}

fn revenue(out: &mut String, s: &Summary) {
    let r = &s.revenue;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Revenue ({})  mean {}  sd {}",
        s.currency,
        amount(r.mean),
        amount(r.sd)
    );
    let _ = writeln!(
        out,
        "  P5 {}  P10 {}  P25 {}  P50 {}  P75 {}  P90 {}  P95 {}",
        amount(r.p5),
        amount(r.p10),
        amount(r.p25),
        amount(r.p50),
        amount(r.p75),
        amount(r.p90),
        amount(r.p95)
    );
}

/// The most rows of the text histogram, open-ended tail rows included.
const HISTOGRAM_ROWS: usize = 14;

/// The width of the longest bar, in character cells.
const BAR_CELLS: usize = 30;

fn histogram(out: &mut String, s: &Summary) {
    let marks = [
        ("commit", s.commit.revenue),
        ("stretch", s.stretch.revenue),
        ("target", s.target),
    ];
    let rows = histogram_rows(&s.revenue_histogram, &marks);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Revenue distribution ({}; share of {} trials per band)",
        s.currency,
        amount(s.trials as f64)
    );
    for row in rows {
        let _ = writeln!(out, "{row}");
    }
}

/// One band of the text histogram: `[lo, hi)`, open-ended at the tails.
#[derive(Debug, Clone, PartialEq)]
struct Band {
    lo: Option<f64>,
    hi: Option<f64>,
    count: u64,
}

/// The text histogram's lines: bands of whole bins of `h`, the rare tails
/// (under 0.5% of trials each side) folded into open-ended bands, and each
/// of `marks` named on the band that holds it (or the nearest band).
fn histogram_rows(h: &Histogram, marks: &[(&str, f64)]) -> Vec<String> {
    let total: u64 = h.counts.iter().sum();
    if total == 0 {
        return Vec::new();
    }
    let bands = bands(h, total);
    let step = bands
        .iter()
        .find_map(|b| Some(b.hi? - b.lo?))
        .unwrap_or(0.0);
    let most = bands.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let label = |b: &Band| match (b.lo, b.hi) {
        (Some(lo), Some(hi)) => format!("{}–{}", compact(lo, step), compact(hi, step)),
        (None, Some(hi)) => format!("< {}", compact(hi, step)),
        (Some(lo), None) => format!(">= {}", compact(lo, step)),
        (None, None) => "all".to_string(),
    };
    let mut names: Vec<Vec<&str>> = vec![Vec::new(); bands.len()];
    for (name, value) in marks {
        names[band_of(&bands, *value)].push(name);
    }
    bands
        .iter()
        .zip(names)
        .map(|(b, names)| {
            let share = b.count as f64 / total as f64;
            let bar = bar(b.count as f64 / most as f64, BAR_CELLS);
            let mut line = format!(
                "  {:>13} {:>6}  {bar:<BAR_CELLS$}",
                label(b),
                percent(share)
            );
            if !names.is_empty() {
                let _ = write!(line, " ◀ {}", names.join(", "));
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// Groups the bins into at most [`HISTOGRAM_ROWS`] bands of `k` bins,
/// aligned to multiples of `k` bin widths so band edges stay round.
fn bands(h: &Histogram, total: u64) -> Vec<Band> {
    let n = h.counts.len();
    let tail = (total as f64 * 0.005).floor() as u64;
    // The first and last bins past the rare tails.
    let mut below = 0;
    let first = h.counts.iter().position(|c| {
        below += c;
        below > tail
    });
    let mut above = 0;
    let last = h.counts.iter().rposition(|c| {
        above += c;
        above > tail
    });
    let (first, last) = (
        first.unwrap_or(0),
        last.unwrap_or(n - 1).max(first.unwrap_or(0)),
    );
    let width = h.bin_edges[1] - h.bin_edges[0];
    let grid = |i: usize| (h.bin_edges[i] / width).round() as i64;

    // The fewest bins per band that leave room for the two tail bands.
    let span = last - first + 1;
    let k = (1..=n)
        .find(|k| {
            let start = grid(first).div_euclid(*k as i64);
            let end = grid(last).div_euclid(*k as i64);
            (end - start + 1) as usize + 2 <= HISTOGRAM_ROWS
        })
        .unwrap_or(span) as i64;
    let band_index = |i: usize| grid(i).div_euclid(k);
    let (lo_band, hi_band) = (band_index(first), band_index(last));
    let mut out: Vec<Band> = (lo_band..=hi_band)
        .map(|b| Band {
            lo: Some((b * k) as f64 * width),
            hi: Some(((b + 1) * k) as f64 * width),
            count: 0,
        })
        .collect();
    let mut under = 0;
    let mut over = 0;
    for (i, c) in h.counts.iter().enumerate() {
        let b = band_index(i);
        if b < lo_band {
            under += c;
        } else if b > hi_band {
            over += c;
        } else {
            out[(b - lo_band) as usize].count += c;
        }
    }
    if under > 0 {
        let hi = out[0].lo;
        out.insert(
            0,
            Band {
                lo: None,
                hi,
                count: under,
            },
        );
    }
    if over > 0 {
        let lo = out[out.len() - 1].hi;
        out.push(Band {
            lo,
            hi: None,
            count: over,
        });
    }
    out
}

/// The index of the band holding `x`, or the nearest one.
fn band_of(bands: &[Band], x: f64) -> usize {
    bands
        .iter()
        .position(|b| b.hi.is_none_or(|hi| x < hi))
        .unwrap_or(bands.len() - 1)
}

/// A bar of `fraction` of `cells` character cells, in eighths of a cell.
fn bar(fraction: f64, cells: usize) -> String {
    const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (fraction.clamp(0.0, 1.0) * (cells * 8) as f64).round() as usize;
    // A band with any trials shows at least a sliver.
    let eighths = if fraction > 0.0 { eighths.max(1) } else { 0 };
    let mut s = "█".repeat(eighths / 8);
    if eighths % 8 > 0 {
        s.push(PARTS[eighths % 8]);
    }
    s
}

fn segments(out: &mut String, s: &Summary) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<26} {:<15} {:>7} {:>6} {:>8} {:>9} {:>11} {:>11}",
        "Segment",
        "Ansoff motion",
        "leads",
        "win %",
        "new wins",
        "open wins",
        "mean rev",
        "P10-P90"
    );
    for seg in &s.segments {
        segment_row(out, seg);
    }
}

fn segment_row(out: &mut String, seg: &SegmentSummary) {
    let motion = seg.ansoff.map_or("", |q| q.short_label());
    let _ = writeln!(
        out,
        "{:<26} {:<15} {:>7} {:>6} {:>8} {:>9} {:>11} {:>11}",
        truncate(&seg.name, 26),
        motion,
        amount(seg.planned_leads),
        format!("{:.1}", 100.0 * seg.win_rate),
        format!("{:.1}", seg.expected_wins_in_period),
        format!("{:.1}/{}", seg.expected_open_wins, seg.open_deals),
        amount(seg.revenue.mean),
        format!("{}-{}", short(seg.revenue.p10), short(seg.revenue.p90)),
    );
}

fn teams(out: &mut String, s: &Summary) {
    let with_team: Vec<(&str, &TeamSummary)> = s
        .segments
        .iter()
        .filter_map(|g| Some((g.name.as_str(), g.team.as_ref()?)))
        .collect();
    if with_team.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<26} {:>5} {:>9} {:>9} {:>6}  past capacity",
        "Team (expected, period)", "reps", "FTE-weeks", "capacity", "load"
    );
    for (name, team) in with_team {
        let load = team.load.map_or("-".to_string(), percent);
        let _ = writeln!(
            out,
            "{:<26} {:>5} {:>9.1} {:>9} {:>6}  {}",
            truncate(name, 26),
            team.reps,
            team.fte_weeks,
            amount(team.capacity),
            load,
            overload(team)
        );
    }
}

/// What the team does past capacity, in words.
fn overload(team: &TeamSummary) -> String {
    match team.overload {
        Overload::Refuse => "refused as a plan".to_string(),
        Overload::Degrade {
            threshold,
            conversion_factor,
        } => {
            let share = team.overloaded_share.unwrap_or(0.0);
            format!(
                "conversion x{conversion_factor} past {} of capacity, in {} of trials",
                percent(threshold),
                percent(share)
            )
        }
    }
}

fn activity(out: &mut String, s: &Summary) {
    let _ = writeln!(out);
    let what = match &s.solve.segment {
        Some(name) => format!("leads in {name:?}, the other segments as planned"),
        None => "leads across segments in the planned mix".to_string(),
    };
    let _ = writeln!(
        out,
        "Activity needed ({what}; {} planned)",
        amount(s.solve.planned_leads)
    );
    for level in &s.levels {
        activity_level(out, level, &s.segments);
    }
    let sized = s.levels.iter().flat_map(|l| &l.segments);
    if sized
        .into_iter()
        .any(|g| g.solved && g.reps_needed.is_some())
    {
        let _ = writeln!(
            out,
            "  (leads needed, reps and hires assume a team sized to carry the leads: \
             no overload; hires are on top of the current team)"
        );
    }
}

fn activity_level(out: &mut String, level: &Level, summaries: &[SegmentSummary]) {
    let c = 100.0 * level.confidence;
    let Some(leads) = level.leads_needed else {
        let _ = writeln!(out, "  {c:.0}% confidence: not reachable by adding leads");
        return;
    };
    let multiple = level
        .activity_multiple
        .map_or(String::new(), |m| format!(" ({m:.2}x plan)"));
    let _ = writeln!(
        out,
        "  {c:.0}% confidence: {} leads{multiple}",
        amount(leads as f64)
    );
    for (seg, summary) in level
        .segments
        .iter()
        .zip(summaries)
        .filter(|(g, _)| g.solved)
    {
        let per_period: Vec<String> = seg
            .stages
            .iter()
            .map(|v| format!("{} {}", v.stage, volume(v.volume)))
            .collect();
        let _ = writeln!(
            out,
            "    {:<28} {}",
            truncate(&seg.name, 28),
            per_period.join(", ")
        );
        let weekly: Vec<String> = seg
            .stages
            .iter()
            .filter_map(|v| v.per_rep_per_week.map(|w| format!("{} {w:.1}", v.stage)))
            .collect();
        if !weekly.is_empty() {
            let _ = writeln!(
                out,
                "    {:<28} per rep per week: {}",
                "",
                weekly.join(", ")
            );
        }
        if let Some(won) = seg.stages.last().filter(|_| summary.close_in_period < 1.0) {
            let _ = writeln!(
                out,
                "    {:<28} of the {} wins, {} close inside the period",
                "",
                volume(won.volume),
                volume(won.volume * summary.close_in_period)
            );
        }
        team_needed(out, seg);
    }
}

/// The reps and hires a level's leads take, for a segment with a team.
fn team_needed(out: &mut String, seg: &SegmentVolumes) {
    let Some(reps) = seg.reps_needed else {
        return;
    };
    let hires: Vec<String> = seg
        .hires_needed
        .iter()
        .flatten()
        .map(|h| match h.hires {
            Some(n) => format!("{n} by day {}", h.hire_day),
            None => format!("(a hire on day {} is too late)", h.hire_day),
        })
        .collect();
    let _ = writeln!(
        out,
        "    {:<28} team: {reps:.1} fully ramped reps; or hire {}",
        "",
        hires.join(", ")
    );
}

/// The sensitivity table, when the run has one: each input held at its
/// P10 and P90, largest swing in P(hit) first.
fn sensitivity(out: &mut String, s: &Summary) {
    let (Some(entries), Some(base)) = (&s.sensitivity, &s.sensitivity_base) else {
        return;
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Sensitivity: each input held at its P10, then its P90 ({} trials a run, \
         seed {}, common random numbers)",
        amount(base.trials as f64),
        s.seed
    );
    let _ = writeln!(
        out,
        "  every input drawn: P(hit) {} ± {:.2}%, median {} {}",
        percent(base.p_hit),
        100.0 * base.p_hit_se,
        s.currency,
        amount(base.p50)
    );
    if entries.is_empty() {
        let _ = writeln!(out, "  no input is uncertain: nothing to vary");
        return;
    }
    let _ = writeln!(
        out,
        "  {:<44}  {:>17}  {:>13}  {:>10}  {:>11}  {:>6}",
        "Input", "held at P10 / P90", "P(hit)", "swing pp", "median move", "rank r"
    );
    for e in entries {
        let rank = e
            .rank_correlation
            .map_or("-".to_string(), |r| format!("{r:+.2}"));
        let _ = writeln!(
            out,
            "  {:<44}  {:>17}  {:>13}  {:>10}  {:>11}  {:>6}",
            truncate(&e.input, 44),
            format!("{} / {}", held_value(e.low_value), held_value(e.high_value)),
            format!("{} / {}", percent(e.p_hit_low), percent(e.p_hit_high)),
            format!("{:.1} ± {:.1}", 100.0 * e.swing, 100.0 * e.swing_se),
            signed_amount(e.p50_high - e.p50_low),
            rank
        );
    }
    for line in SENSITIVITY_NOTES {
        let _ = writeln!(out, "  {line}");
    }
}

/// How to read the sensitivity table, printed under it.
const SENSITIVITY_NOTES: [&str; 6] = [
    "swing: how far P(hit) moves from the P10 run to the P90 run, in percentage points,",
    "± one paired standard error; median move: the median revenue at P90 less at P10.",
    "rank r: Spearman correlation of the input's per-trial draw with revenue; - for deal",
    "size and sales cycle (drawn per deal) and for Poisson leads on their own (the count is",
    "never drawn). Deal size and cycle are held for every deal at once: a rarer quarter",
    "than a rate at its P10 or P90.",
];

/// Renders a comparison: one column per scenario, and under each measure
/// a row with each later scenario's difference from the first.
pub fn comparison(c: &Comparison) -> String {
    let mut out = String::new();
    comparison_header(&mut out, c);
    let first = &c.scenarios[0];
    let mut table = CompareTable::new(c.scenarios.len());
    let cur = &first.currency;
    table.row(format!("Target ({cur})"), c, |s| amount(s.target));
    table.row("P(hit target)".into(), c, |s| {
        format!("{} ± {:.2}%", percent(s.p_hit), 100.0 * s.p_hit_se)
    });
    table.diff(&c.differences, |d| {
        let p = &d.p_hit;
        format!(
            "{:+.2} ± {:.2} pp ({:.2})",
            100.0 * p.difference,
            100.0 * p.se,
            100.0 * p.se_unpaired
        )
    });
    table.row(format!("Mean revenue ({cur})"), c, |s| {
        amount(s.revenue.mean)
    });
    table.diff(&c.differences, |d| {
        let m = &d.mean_revenue;
        let (diff, se, unpaired) = (m.difference, m.se, m.se_unpaired);
        format!(
            "{} ± {} ({})",
            signed_amount(diff),
            amount(se),
            amount(unpaired)
        )
    });
    table.row("Median revenue".into(), c, |s| amount(s.revenue.p50));
    table.diff(&c.differences, |d| signed_amount(d.p50));
    let commit = format!("Commit ({:.0}%)", 100.0 * first.commit.confidence);
    table.row(commit, c, |s| amount(s.commit.revenue));
    table.diff(&c.differences, |d| signed_amount(d.commit));
    let stretch = format!("Stretch ({:.0}%)", 100.0 * first.stretch.confidence);
    table.row(stretch, c, |s| amount(s.stretch.revenue));
    table.diff(&c.differences, |d| signed_amount(d.stretch));
    leads_rows(&mut table, c);
    table.row("Planned leads".into(), c, |s| amount(s.solve.planned_leads));
    out.push_str(&table.text);
    let _ = writeln!(out);
    for line in COMPARISON_NOTES {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// How to read the comparison, printed under it.
const COMPARISON_NOTES: [&str; 4] = [
    "± one Monte Carlo standard error. A difference pairs each trial with the same trial of",
    "scenario A (common random numbers); in brackets, its standard error had the two run on",
    "independent random numbers. Median, commit, stretch and leads-needed differences are",
    "order statistics and carry no standard error here.",
];

/// Leads needed per confidence level (with the multiple of each
/// scenario's own plan), and the differences in leads.
fn leads_rows(table: &mut CompareTable, c: &Comparison) {
    for (k, level) in c.scenarios[0].levels.iter().enumerate() {
        let label = format!("Leads for {:.0}%", 100.0 * level.confidence);
        table.row(label, c, |s| {
            let level = &s.levels[k];
            let multiple = level
                .activity_multiple
                .map_or(String::new(), |m| format!(" ({m:.2}x plan)"));
            level
                .leads_needed
                .map_or("not reachable".into(), |l| amount(l as f64) + &multiple)
        });
        table.diff(&c.differences, |d| {
            d.leads_needed[k]
                .difference
                .map_or("-".into(), |l| signed_amount(l as f64))
        });
    }
}

fn comparison_header(out: &mut String, c: &Comparison) {
    let _ = writeln!(
        out,
        "{} scenarios on common random numbers: seed {} and {} trials for every one \
         (the first's unless --seed/--trials)",
        c.scenarios.len(),
        c.seed,
        amount(c.trials as f64)
    );
    for (k, s) in c.scenarios.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}  {}", letter(k), s.name);
    }
    for note in &c.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out);
}

/// Scenario letters: A, B, ... Z, then #27, #28, ...
fn letter(k: usize) -> String {
    match u8::try_from(k) {
        Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
        _ => format!("#{}", k + 1),
    }
}

/// The comparison's text table, built row by row.
struct CompareTable {
    text: String,
}

impl CompareTable {
    const LABEL: usize = 22;
    const CELL: usize = 28;

    fn new(scenarios: usize) -> Self {
        let mut text = format!("{:<w$}", "", w = Self::LABEL);
        for k in 0..scenarios {
            let _ = write!(text, "{:>w$}", letter(k), w = Self::CELL);
        }
        text.push('\n');
        CompareTable { text }
    }

    /// A measure: each scenario's value.
    fn row(&mut self, label: String, c: &Comparison, value: impl Fn(&Summary) -> String) {
        let _ = write!(self.text, "{label:<w$}", w = Self::LABEL);
        for s in &c.scenarios {
            let _ = write!(self.text, "{:>w$}", value(s), w = Self::CELL);
        }
        self.text.push('\n');
    }

    /// Under a measure: each later scenario's difference from A.
    fn diff(&mut self, differences: &[Difference], value: impl Fn(&Difference) -> String) {
        let _ = write!(self.text, "{:<w$}", "  vs A", w = Self::LABEL + Self::CELL);
        for d in differences {
            let _ = write!(self.text, "{:>w$}", value(d), w = Self::CELL);
        }
        self.text.push('\n');
    }
}

/// A held value: a rate or factor to three decimals, days to one, counts
/// and amounts whole.
fn held_value(x: f64) -> String {
    match x.abs() {
        a if a < 10.0 => format!("{x:.3}"),
        a if a < 100.0 => format!("{x:.1}"),
        _ => amount(x),
    }
}

/// An amount with its sign: +1,200, -350, 0.
fn signed_amount(x: f64) -> String {
    if x.round() > 0.0 {
        format!("+{}", amount(x))
    } else {
        amount(x)
    }
}

/// A compact amount: 1.2M, 350k.
fn short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_get_thousands_separators() {
        assert_eq!(amount(0.0), "0");
        assert_eq!(amount(999.4), "999");
        assert_eq!(amount(1000.0), "1,000");
        assert_eq!(amount(-2_500_000.0), "-2,500,000");
        assert_eq!(amount(123_456.6), "123,457");
    }

    #[test]
    fn compact_amounts_keep_the_step_visible() {
        assert_eq!(compact(1_200_000.0, 200_000.0), "1.2M");
        assert_eq!(compact(1_250_000.0, 50_000.0), "1.25M");
        assert_eq!(compact(2_000_000.0, 100_000.0), "2M");
        assert_eq!(compact(800_000.0, 100_000.0), "800k");
        assert_eq!(compact(750_000.0, 250_000.0), "750k");
        assert_eq!(compact(12_500.0, 2_500.0), "12.5k");
        assert_eq!(compact(40.0, 10.0), "40");
        assert_eq!(compact(-500_000.0, 500_000.0), "-500k");
        assert_eq!(compact(3e9, 1e9), "3B");
        assert_eq!(compact(1_500_000.0, 500_000.0), "1.5M");
        assert_eq!(compact(0.3, 0.1), "0.3");
        assert_eq!(compact_sig(999.6), "1000");
        assert_eq!(compact_sig(310_000.0), "310k");
        assert_eq!(compact_sig(-45_250.0), "-45.2k");
    }

    fn hist(first: f64, width: f64, counts: &[u64]) -> Histogram {
        Histogram {
            bin_edges: (0..=counts.len())
                .map(|i| first + width * i as f64)
                .collect(),
            counts: counts.to_vec(),
        }
    }

    #[test]
    fn text_histogram_folds_tails_and_marks_the_target() {
        // 50 bins of 50k from 500k: 10 single trials at each end.
        let mut counts = vec![1u64; 10];
        counts.extend([100; 30]);
        counts.extend([1; 10]);
        let h = hist(500_000.0, 50_000.0, &counts);
        let marks = [("commit", 1_400_000.0), ("target", 2_600_000.0)];
        let rows = histogram_rows(&h, &marks);
        assert!((10..=HISTOGRAM_ROWS).contains(&rows.len()), "{rows:#?}");
        // Bands of three bins (150k), aligned to multiples of 150k.
        assert!(rows[0].trim_start().starts_with("< 900k  "), "{rows:#?}");
        assert!(rows[1].trim_start().starts_with("900k–1.05M"), "{rows:#?}");
        let last = rows.last().unwrap();
        assert!(last.trim_start().starts_with(">= 2.55M"), "{rows:#?}");
        assert!(last.ends_with("◀ target"), "past the bands: {rows:#?}");
        let commit: Vec<&String> = rows.iter().filter(|r| r.contains("commit")).collect();
        assert_eq!(commit.len(), 1);
        assert!(commit[0].contains("1.35M–1.5M"), "{rows:#?}");
        for r in &rows {
            assert!(r.chars().count() <= 80, "{r:?} is wider than 80 columns");
        }
    }

    #[test]
    fn text_histogram_of_one_value_is_one_full_row() {
        let rows = histogram_rows(&hist(0.0, 0.025, &[2000]), &[("target", 1.0)]);
        assert_eq!(rows.len(), 1);
        assert!(
            rows[0].contains("100.0%") && rows[0].contains("◀ target"),
            "{rows:?}"
        );
        assert!(rows[0].contains(&"█".repeat(BAR_CELLS)));
    }

    #[test]
    fn bars_use_eighths() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 3), "█▌");
        assert_eq!(bar(0.0, 4), "");
        assert_eq!(bar(1e-6, 4), "▏");
    }

    #[test]
    fn short_amounts() {
        assert_eq!(short(1_250_000.0), "1.2M");
        assert_eq!(short(35_000.0), "35k");
    }
}
