//! The report's tables: the reverse pipeline per confidence level, and
//! the sensitivity details behind the tornado.

use std::fmt::Write;

use crate::render::{amount, volume};
use crate::sensitivity::SensitivityEntry;
use crate::summary::{Level, SegmentVolumes, StageVolume, Summary};

use super::charts::{arrows, input_value};
use super::svg::escape;

/// The reverse pipeline: per confidence level and segment, the wins and
/// the volume at each earlier stage, per period and per rep per week.
///
/// Columns run from wins back to leads, each segment's stages aligned
/// from the won end. Where every segment has the same funnel, one header
/// names the stages; where funnels differ, each segment's row comes under
/// a header row of its own stage names, and the total sums only the
/// columns whose stage has the same name in every segment.
pub fn pipeline(s: &Summary) -> String {
    let depth = s
        .levels
        .iter()
        .flat_map(|l| &l.segments)
        .map(|g| g.stages.len())
        .max()
        .unwrap_or(0);
    let one_funnel = s
        .levels
        .iter()
        .flat_map(|l| &l.segments)
        .map(stage_names)
        .collect::<Vec<_>>()
        .windows(2)
        .all(|w| w[0] == w[1]);
    let mut out =
        String::from("<table class=\"pipeline\">\n<thead><tr><th scope=\"col\">Segment</th>");
    let first = s.levels.iter().flat_map(|l| &l.segments).next();
    match first {
        Some(g) if one_funnel => {
            for cell in by_column(&g.stages, depth) {
                let name = cell.map_or(String::new(), |v| capitalise(&v.stage));
                let _ = write!(out, "<th scope=\"col\">{}</th>", escape(&name));
            }
        }
        _ => {
            let _ = write!(
                out,
                "<th scope=\"colgroup\" colspan=\"{}\">Each segment's own stages, \
                 from wins back to new leads</th>",
                depth.max(1)
            );
        }
    }
    out.push_str("</tr></thead>\n");
    for level in &s.levels {
        level_rows(&mut out, s, level, depth, one_funnel);
    }
    out.push_str("</table>\n");
    out.push_str(&wins_note(s));
    out
}

/// A segment's stage names, top first.
fn stage_names(g: &SegmentVolumes) -> Vec<&str> {
    g.stages.iter().map(|v| v.stage.as_str()).collect()
}

/// Stage `i` of a funnel of `len` stages, in columns counted from wins
/// (column 0) back towards leads.
fn column(i: usize, len: usize) -> usize {
    len - 1 - i
}

/// The stages of one segment's volumes by column.
fn by_column(stages: &[StageVolume], depth: usize) -> Vec<Option<&StageVolume>> {
    let mut cells = vec![None; depth];
    for (i, v) in stages.iter().enumerate() {
        cells[column(i, stages.len())] = Some(v);
    }
    cells
}

/// A header row of one segment's stage names, by column.
fn stage_row(out: &mut String, g: &SegmentVolumes, depth: usize) {
    out.push_str("<tr class=\"stage-names\"><td></td>");
    for cell in by_column(&g.stages, depth) {
        match cell {
            Some(v) => {
                let _ = write!(
                    out,
                    "<th scope=\"col\">{}</th>",
                    escape(&capitalise(&v.stage))
                );
            }
            None => out.push_str("<td class=\"empty\"></td>"),
        }
    }
    out.push_str("</tr>\n");
}

/// The note under the table: wins are counted whenever they close.
fn wins_note(s: &Summary) -> String {
    if s.levels.iter().all(|l| l.segments.is_empty()) {
        return String::new();
    }
    let shares: Vec<String> = s
        .segments
        .iter()
        .map(|g| {
            let share = format!("{:.0}%", 100.0 * g.close_in_period);
            if s.segments.len() == 1 {
                share
            } else {
                format!("{} {share}", g.name)
            }
        })
        .collect();
    format!(
        "<p class=\"note table-note\">{}</p>\n",
        escape(&format!(
            "Wins are all the wins these leads bring, whenever they close; not all of them \
             close inside the {}-day period (the share that does: {}).",
            s.period_days,
            shares.join(", ")
        ))
    )
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn level_rows(out: &mut String, s: &Summary, level: &Level, depth: usize, one_funnel: bool) {
    let c = format!("{:.0}%", 100.0 * level.confidence);
    let head = match (level.leads_needed, level.activity_multiple) {
        (Some(n), Some(m)) => format!(
            "{c} sure of {} {}: {} new leads, {:.2}× the plan",
            s.currency,
            amount(s.target),
            amount(n as f64),
            m
        ),
        (Some(n), None) => format!(
            "{c} sure of {} {}: {} new leads",
            s.currency,
            amount(s.target),
            amount(n as f64)
        ),
        (None, _) => format!(
            "{c} sure of {} {}: not reachable by adding leads alone \
             ({:.1}% of trials reach it within {} leads)",
            s.currency,
            amount(s.target),
            100.0 * s.solve.p_reachable,
            amount(s.solve.lead_cap as f64)
        ),
    };
    let _ = writeln!(
        out,
        "<tbody class=\"level\"><tr class=\"level-head\"><th colspan=\"{}\" scope=\"rowgroup\">{}</th></tr>",
        depth + 1,
        escape(&head)
    );
    if level.leads_needed.is_some() {
        let mut above: Option<Vec<&str>> = None;
        for g in &level.segments {
            let names = stage_names(g);
            if !one_funnel && above.as_ref() != Some(&names) {
                stage_row(out, g, depth);
            }
            above = Some(names);
            segment_row(out, g, depth);
        }
        if level.segments.len() > 1 {
            total_row(out, &level.segments, depth);
        }
    }
    out.push_str("</tbody>\n");
}

fn segment_row(out: &mut String, g: &SegmentVolumes, depth: usize) {
    let note = if g.solved {
        ""
    } else {
        " <span class=\"note\">(as planned)</span>"
    };
    let _ = write!(out, "<tr><th scope=\"row\">{}{note}</th>", escape(&g.name));
    for cell in by_column(&g.stages, depth) {
        match cell {
            Some(v) => {
                let _ = write!(out, "<td>{}", volume(v.volume));
                if let Some(w) = v.per_rep_per_week {
                    let _ = write!(out, "<span class=\"per-rep\">{w:.1} /rep/week</span>");
                }
                out.push_str("</td>");
            }
            None => out.push_str("<td class=\"empty\"></td>"),
        }
    }
    out.push_str("</tr>\n");
}

/// Sums each column whose stage has one name in every segment; where
/// some column has no total, the label says so.
fn total_row(out: &mut String, segments: &[SegmentVolumes], depth: usize) {
    let columns: Vec<Vec<Option<&StageVolume>>> = segments
        .iter()
        .map(|g| by_column(&g.stages, depth))
        .collect();
    let sums: Vec<Option<f64>> = (0..depth)
        .map(|c| {
            let cells: Vec<&StageVolume> = columns.iter().filter_map(|col| col[c]).collect();
            let one_name = cells.windows(2).all(|w| w[0].stage == w[1].stage);
            (cells.len() == segments.len() && one_name)
                .then(|| cells.iter().map(|v| v.volume).sum())
        })
        .collect();
    let totalled = sums.iter().filter(|v| v.is_some()).count();
    let label = if totalled == depth {
        "All segments"
    } else if totalled == 1 && sums[0].is_some() {
        "All segments <span class=\"note\">(wins only: the funnels differ)</span>"
    } else {
        "All segments <span class=\"note\">(stages every segment shares)</span>"
    };
    let _ = write!(out, "<tr class=\"total\"><th scope=\"row\">{label}</th>");
    for sum in sums {
        match sum {
            Some(v) => {
                let _ = write!(out, "<td>{}</td>", volume(v));
            }
            None => out.push_str("<td class=\"empty\"></td>"),
        }
    }
    out.push_str("</tr>\n");
}

/// Every sensitivity entry: the input's P10 and P90, and the chance of
/// hitting and the median revenue with the input held at each.
pub fn sensitivity(s: &Summary, entries: &[SensitivityEntry]) -> String {
    let cur = escape(&s.currency);
    let mut out = String::from(
        "<table class=\"sensitivity\">\n<thead><tr><th scope=\"col\">Input</th>\
         <th scope=\"col\">P10</th><th scope=\"col\">P90</th>\
         <th scope=\"col\">Chance at P10</th><th scope=\"col\">Chance at P90</th>",
    );
    let _ = write!(
        out,
        "<th scope=\"col\">Median at P10 ({cur})</th><th scope=\"col\">Median at P90 ({cur})</th>\
         <th scope=\"col\">Rank correlation with revenue</th></tr></thead>\n<tbody>\n"
    );
    let mut rows: Vec<&SensitivityEntry> = entries.iter().collect();
    rows.sort_by(|a, b| b.swing.total_cmp(&a.swing));
    for e in rows {
        let rho = e
            .rank_correlation
            .map_or("–".to_string(), |r| format!("{r:+.2}"));
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:.1}%</td>\
             <td>{}</td><td>{}</td><td>{rho}</td></tr>",
            escape(&arrows(&e.input)),
            input_value(e.low_value),
            input_value(e.high_value),
            100.0 * e.p_hit_low,
            100.0 * e.p_hit_high,
            amount(e.p50_low),
            amount(e.p50_high),
        );
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_from_the_won_end() {
        // Four stages: lead, qualified, proposal, won.
        assert_eq!(
            (0..4).map(|i| column(i, 4)).collect::<Vec<_>>(),
            [3, 2, 1, 0]
        );
        // Three stages: lead, opportunity, won.
        assert_eq!((0..3).map(|i| column(i, 3)).collect::<Vec<_>>(), [2, 1, 0]);
    }

    #[test]
    fn capitalise_first_letter_only() {
        assert_eq!(capitalise("qualified / demo"), "Qualified / demo");
        assert_eq!(capitalise(""), "");
    }
}
