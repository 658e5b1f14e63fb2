//! The summary for people: a plain-text report for the terminal.
//!
//! The JSON form is the [`Summary`] itself, serialised by serde.

use std::fmt::Write;

use crate::summary::{Level, SegmentSummary, SegmentVolumes, Summary, TeamSummary};
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

/// Formats a volume: whole numbers with separators from 100 up, one
/// decimal below.
fn volume(x: f64) -> String {
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
    segments(&mut out, s);
    teams(&mut out, s);
    activity(&mut out, s);
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
    let _ = writeln!(
        out,
        "  P(hit target)  {:>14}  ± {:.2}% (Monte Carlo standard error)",
        percent(s.p_hit),
        100.0 * s.p_hit_se
    );
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
        activity_level(out, level);
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

fn activity_level(out: &mut String, level: &Level) {
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
    for seg in level.segments.iter().filter(|g| g.solved) {
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
    fn short_amounts() {
        assert_eq!(short(1_250_000.0), "1.2M");
        assert_eq!(short(35_000.0), "35k");
    }
}
