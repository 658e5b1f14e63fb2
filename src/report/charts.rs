//! The report's charts, each drawn from a [`Summary`] as a [`Figure`]: a
//! title, one sentence of what it shows, the SVG and its legend.

use crate::render::{amount, compact, compact_sig};
use crate::sensitivity::SensitivityEntry;
use crate::summary::{Level, Summary};

use super::svg::{spread_apart, text_width, Anchor, Frame, Svg, Ticks};

/// The width every chart is drawn at, in pixels; the page scales it.
const WIDTH: f64 = 760.0;

/// The font size of labels inside charts, in pixels (the stylesheet's).
const LABEL: f64 = 12.0;

/// The font size of the notes under row labels (the stylesheet's
/// `.row-note`).
const NOTE: f64 = 11.0;

/// The space between a tornado bar's end and its value label.
const VALUE_GAP: f64 = 5.0;

/// The most inputs a tornado shows.
const TORNADO_ROWS: usize = 12;

/// One chart, ready to place on the page.
#[derive(Debug, Clone)]
pub struct Figure {
    /// A short identifier, used as the HTML id and CSS class.
    pub id: &'static str,
    /// The heading.
    pub title: String,
    /// One plain sentence saying what the chart shows.
    pub sentence: String,
    /// The `<svg>` element.
    pub svg: String,
    /// Legend entries: the CSS class of the swatch and its label.
    pub legend: Vec<(&'static str, String)>,
}

/// A vertical marker on a money axis: a class, a label and a value.
struct Mark {
    class: &'static str,
    label: String,
    value: f64,
}

fn pct(p: f64) -> String {
    format!("{:.0}%", 100.0 * p)
}

fn pct1(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

/// Tick labels for money: 800k, 1.2M.
fn money_ticks(t: &Ticks) -> Vec<(f64, String)> {
    t.values.iter().map(|v| (*v, compact(*v, t.step))).collect()
}

/// Tick labels for shares: 0%, 20%, or 2.5% where the step needs it.
fn percent_ticks(t: &Ticks) -> Vec<(f64, String)> {
    t.values
        .iter()
        .map(|v| (*v, format!("{}%", compact(100.0 * v, 100.0 * t.step))))
        .collect()
}

/// Tick labels for counts: 2,000.
fn count_ticks(t: &Ticks) -> Vec<(f64, String)> {
    t.values.iter().map(|v| (*v, amount(*v))).collect()
}

/// Where a mark's label goes: its row above the plot (0 on top), and
/// whether it runs left from the mark's line instead of right.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Flag {
    row: usize,
    leftward: bool,
}

/// Lays out mark labels as flags on their lines. One row when they fit
/// side by side; otherwise one row each, leftmost mark on top, so a label
/// only ever crosses the lines of marks to its left, which end above it.
/// A label that would run past `right` runs left instead.
fn flags(xs: &[f64], widths: &[f64], right: f64) -> Vec<Flag> {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|a, b| xs[*a].total_cmp(&xs[*b]));
    let leftward = |i: usize| xs[i] + 5.0 + widths[i] > right;
    let fits = order.windows(2).all(|w| {
        let (a, b) = (w[0], w[1]);
        !leftward(a) && !leftward(b) && xs[a] + 5.0 + widths[a] + 10.0 < xs[b]
    });
    let mut out = vec![
        Flag {
            row: 0,
            leftward: false
        };
        xs.len()
    ];
    for (rank, &i) in order.iter().enumerate() {
        out[i] = Flag {
            row: if fits { 0 } else { rank },
            leftward: leftward(i),
        };
    }
    out
}

/// The revenue distribution: a histogram of trial revenues, the bins that
/// hit the target coloured, with the target, commit and stretch marked.
pub fn revenue_histogram(s: &Summary) -> Figure {
    let h = &s.revenue_histogram;
    let cur = &s.currency;
    let marks = [
        Mark {
            class: "mark-commit",
            label: format!(
                "Commit ({} sure) {}",
                pct(s.commit.confidence),
                compact_sig(s.commit.revenue)
            ),
            value: s.commit.revenue,
        },
        Mark {
            class: "mark-stretch",
            label: format!(
                "Stretch ({} sure) {}",
                pct(s.stretch.confidence),
                compact_sig(s.stretch.revenue)
            ),
            value: s.stretch.revenue,
        },
        Mark {
            class: "mark-target",
            label: format!("Target {}", compact_sig(s.target)),
            value: s.target,
        },
    ];
    let total = s.trials.max(1) as f64;
    let most = h.counts.iter().copied().max().unwrap_or(0) as f64 / total;
    let yt = Ticks::spanning(0.0, most.max(1e-9), 4);
    let plot_h = 230.0;

    // Bins too short to see (under half a pixel) are left off the ends,
    // so a long thin tail does not squeeze the rest; marks stay in view.
    let visible = |c: &u64| *c as f64 / total / yt.bounds().1 * plot_h >= 0.5;
    let first = h.counts.iter().position(visible).unwrap_or(0);
    let last = h.counts.iter().rposition(visible).unwrap_or(0);
    let (lo, hi) = match (h.bin_edges.get(first), h.bin_edges.get(last + 1)) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (s.revenue.p5, s.revenue.p95),
    };
    let lo = marks.iter().map(|m| m.value).fold(lo, f64::min);
    let hi = marks.iter().map(|m| m.value).fold(hi, f64::max);
    let pad = (hi - lo).max(1.0) * 0.03;
    let (lo, hi) = (lo - pad, hi + pad);
    let xt = Ticks::inside(lo, hi, 7);

    // Mark labels fly as flags above the plot, clear of each other.
    let mut frame = Frame {
        left: 70.0,
        top: 0.0,
        right: WIDTH - 24.0,
        bottom: 0.0,
    };
    let x = frame.x((lo, hi));
    let xs: Vec<f64> = marks.iter().map(|m| x.at(m.value)).collect();
    let widths: Vec<f64> = marks.iter().map(|m| text_width(&m.label, LABEL)).collect();
    let flags = flags(&xs, &widths, WIDTH - 4.0);
    let rows = flags.iter().map(|f| f.row + 1).max().unwrap_or(1);
    frame.top = 12.0 + 17.0 * rows as f64;
    let height = frame.top + plot_h + 52.0;
    frame.bottom = height - 52.0;
    let y = frame.y(yt.bounds());

    let mut svg = Svg::new(WIDTH, height, "histogram", "Revenue distribution");
    svg.y_axis(
        &frame,
        &y,
        &percent_ticks(&yt),
        "Share of simulated periods",
    );

    // Bars, split at the target where a bin straddles it.
    svg.group("bars");
    let width = h
        .bin_edges
        .get(1)
        .zip(h.bin_edges.first())
        .map_or(0.0, |(b, a)| b - a);
    for i in first..=last.min(h.counts.len().saturating_sub(1)) {
        let count = h.counts[i];
        if count == 0 {
            continue;
        }
        let (a, b) = (h.bin_edges[i], h.bin_edges[i + 1]);
        let share = count as f64 / total;
        let tip = format!(
            "{}–{} {cur}: {} of trials",
            compact(a, width),
            compact(b, width),
            pct1(share)
        );
        let top = y.at(share);
        let (x0, x1) = (x.at(a) + 0.5, (x.at(b) - 0.5).max(x.at(a) + 1.0));
        let cut = x.at(s.target).clamp(x0, x1);
        if cut > x0 {
            svg.rect(
                x0,
                top,
                cut - x0,
                frame.bottom - top,
                "bar miss",
                Some(&tip),
            );
        }
        if x1 > cut {
            svg.rect(
                cut,
                top,
                x1 - cut,
                frame.bottom - top,
                "bar hit",
                Some(&tip),
            );
        }
    }
    svg.end_group();

    svg.x_axis(
        &frame,
        &x,
        &money_ticks(&xt),
        &format!("Revenue in the period ({cur})"),
    );

    // Marks: a line through the plot, its label flying from the top.
    for ((m, flag), px) in marks.iter().zip(&flags).zip(&xs) {
        let label_y = 14.0 + 17.0 * flag.row as f64;
        svg.group(&format!("mark {}", m.class));
        svg.line((*px, label_y - 11.0), (*px, frame.bottom), "mark-line");
        let (tx, anchor) = if flag.leftward {
            (px - 5.0, Anchor::End)
        } else {
            (px + 5.0, Anchor::Start)
        };
        svg.text((tx, label_y), anchor, "mark-label", &m.label);
        svg.end_group();
    }

    let reach = match s.p_hit {
        p if p <= 0.0 => "none of them reach".to_string(),
        p if p >= 1.0 => "all of them reach".to_string(),
        p => format!("{} of them (the blue bars) reach", pct1(p)),
    };
    let sentence = format!(
        "How revenue spread across {} simulated periods: {reach} the {cur} {} target, \
         and 8 in 10 land between {cur} {} and {cur} {}.",
        amount(s.trials as f64),
        amount(s.target),
        amount(s.revenue.p10),
        amount(s.revenue.p90)
    );
    Figure {
        id: "revenue",
        title: "Revenue distribution".into(),
        sentence,
        svg: svg.finish(),
        legend: vec![
            ("hit", "periods that reach the target".into()),
            ("miss", "periods that fall short".into()),
            ("mark-target", "target".into()),
            (
                "mark-commit",
                format!("commit ({} sure)", pct(s.commit.confidence)),
            ),
            (
                "mark-stretch",
                format!("stretch ({} sure)", pct(s.stretch.confidence)),
            ),
        ],
    }
}

/// The probability of hitting against the number of new leads (the
/// reverse solve), with each confidence level's leads needed marked.
pub fn activity_curve(s: &Summary) -> Figure {
    let curve = &s.activity_curve;
    let planned = s.solve.planned_leads;
    let max_leads = curve.iter().map(|p| p.leads).max().unwrap_or(0) as f64;
    let xt = Ticks::spanning(0.0, max_leads.max(planned).max(1.0), 7);
    let yt = Ticks::spanning(0.0, 1.0, 5);
    let height = 360.0;
    let frame = Frame {
        left: 70.0,
        top: 30.0,
        right: WIDTH - 24.0,
        bottom: height - 52.0,
    };
    let x = frame.x(xt.bounds());
    let y = frame.y(yt.bounds());
    let what = match &s.solve.segment {
        Some(name) => format!("{name} only; the others as planned"),
        None => "all segments, in the planned mix".to_string(),
    };

    let mut svg = Svg::new(WIDTH, height, "activity", "Chance of hitting against leads");
    svg.y_axis(
        &frame,
        &y,
        &percent_ticks(&yt),
        "Chance of hitting the target",
    );
    svg.x_axis(
        &frame,
        &x,
        &count_ticks(&xt),
        &format!("New leads in the period ({what})"),
    );

    // The plan.
    if planned > 0.0 {
        let px = x.at(planned);
        svg.group("mark mark-plan");
        svg.line((px, frame.top), (px, frame.bottom), "mark-line");
        let label = format!("Plan: {} leads", amount(planned));
        let half = text_width(&label, LABEL) / 2.0;
        let tx = px.clamp(frame.left + half, frame.right - half);
        svg.text((tx, frame.top - 10.0), Anchor::Middle, "mark-label", &label);
        svg.end_group();
    }

    // The levels: a guide across at the confidence, down at the leads.
    let ys: Vec<f64> = s.levels.iter().map(|l| y.at(l.confidence)).collect();
    let label_ys = spread_apart(&ys, 15.0, frame.top + 10.0, frame.bottom - 4.0);
    let plan_x = (planned > 0.0).then(|| x.at(planned));
    for (level, label_y) in s.levels.iter().zip(label_ys) {
        let at = label_y - 5.0;
        level_guide(&mut svg, &frame, (&x, &y), level, at, max_leads, plan_x);
    }

    // The curve on top.
    let points: Vec<(f64, f64)> = curve
        .iter()
        .map(|p| (x.at(p.leads as f64), y.at(p.p_hit)))
        .collect();
    svg.group("curve");
    svg.polyline(&points, "curve-line");
    for (p, at) in curve.iter().zip(&points) {
        let plan = p
            .activity_multiple
            .map_or(String::new(), |m| format!(" ({m:.1}× plan)"));
        let tip = format!(
            "{} leads{plan}: {} chance of hitting",
            amount(p.leads as f64),
            pct1(p.p_hit)
        );
        svg.circle(*at, 2.5, "curve-point", Some(&tip));
    }
    svg.end_group();

    Figure {
        id: "activity",
        title: "Chance of hitting the target against new leads".into(),
        sentence: activity_sentence(s),
        svg: svg.finish(),
        legend: vec![
            ("curve", "chance of hitting with that many new leads".into()),
            ("mark-plan", "planned leads".into()),
            ("level", "leads needed per confidence level".into()),
        ],
    }
}

/// One confidence level on the activity chart: a dotted guide across at
/// the level and down at its leads, a dot where they meet, and a label.
fn level_guide(
    svg: &mut Svg,
    frame: &Frame,
    (x, y): (&super::svg::Scale, &super::svg::Scale),
    level: &Level,
    label_y: f64,
    max_leads: f64,
    plan_x: Option<f64>,
) {
    let c = pct(level.confidence);
    let py = y.at(level.confidence);
    svg.group("level");
    match level.leads_needed {
        Some(leads) if leads as f64 <= max_leads => {
            let px = x.at(leads as f64);
            svg.line((frame.left, py), (px, py), "level-line");
            svg.line((px, py), (px, frame.bottom), "level-line");
            let tip = format!("{c} sure: {} leads", amount(leads as f64));
            svg.circle((px, py), 4.5, "level-point", Some(&tip));
            let label = format!("{c} sure: {} leads", amount(leads as f64));
            let w = text_width(&label, LABEL);
            // Above the guide, left of the dot, clear of the plan line if
            // there is room between it and the dot.
            let mut tx = frame.left + 6.0;
            if let Some(plan) = plan_x {
                if tx < plan + 4.0 && tx + w > plan - 4.0 && plan + 6.0 + w < px - 8.0 {
                    tx = plan + 6.0;
                }
            }
            svg.text((tx, label_y), Anchor::Start, "level-label", &label);
        }
        needed => {
            svg.line((frame.left, py), (frame.right, py), "level-line");
            let label = match needed {
                Some(leads) => format!("{c} sure: {} leads, past the chart", amount(leads as f64)),
                None => format!("{c} sure: not reachable by adding leads"),
            };
            svg.text(
                (frame.right - 4.0, label_y),
                Anchor::End,
                "level-label",
                &label,
            );
        }
    }
    svg.end_group();
}

fn activity_sentence(s: &Summary) -> String {
    let who = match &s.solve.segment {
        Some(name) => format!("{name} works (the other segments as planned)"),
        None => "the team works, spread over the segments as planned".to_string(),
    };
    let top = s
        .levels
        .iter()
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
    let needs = match top {
        Some(l) => match (l.leads_needed, l.activity_multiple) {
            (Some(n), Some(m)) => format!(
                "; {} confidence takes {} leads, {:.2} times the plan",
                pct(l.confidence),
                amount(n as f64),
                m
            ),
            (Some(n), None) => format!(
                "; {} confidence takes {} leads",
                pct(l.confidence),
                amount(n as f64)
            ),
            (None, _) => format!(
                "; {} confidence cannot be reached by adding leads alone",
                pct(l.confidence)
            ),
        },
        None => String::new(),
    };
    format!("The chance of making the number for each count of new leads {who}{needs}.")
}

/// Each segment's mean revenue, split into open pipeline and new leads,
/// with the P10 to P90 range of its revenue, and booked revenue on top.
pub fn segments(s: &Summary) -> Figure {
    let cur = &s.currency;
    let row_h = 42.0;
    let booked_row = s.booked > 0.0;
    let rows = s.segments.len() + usize::from(booked_row);
    let names: Vec<String> = s.segments.iter().map(|g| shorten(&g.name, 32)).collect();
    // The name column fits the longest name and the longest Ansoff note
    // under a name (set smaller, at NOTE).
    let label_w = names
        .iter()
        .map(|n| text_width(n, LABEL))
        .chain(
            s.segments
                .iter()
                .filter_map(|g| g.ansoff)
                .map(|q| text_width(q.label(), NOTE)),
        )
        .fold(text_width("Booked", LABEL), f64::max)
        .min(240.0);
    let height = 22.0 + rows as f64 * row_h + 52.0;
    let frame = Frame {
        left: label_w + 24.0,
        top: 22.0,
        right: WIDTH - 90.0,
        bottom: height - 52.0,
    };
    let hi = s
        .segments
        .iter()
        .map(|g| g.revenue.p90.max(g.open_revenue_mean + g.new_revenue_mean))
        .fold(s.booked, f64::max);
    let xt = Ticks::spanning(0.0, hi.max(1.0), 6);
    let x = frame.x(xt.bounds());

    let mut svg = Svg::new(WIDTH, height, "segments", "Revenue by segment");
    svg.group("axis grid-x");
    for v in &xt.values {
        svg.line((x.at(*v), frame.top), (x.at(*v), frame.bottom), "grid");
    }
    svg.end_group();
    svg.x_axis(
        &frame,
        &x,
        &money_ticks(&xt),
        &format!("Mean revenue in the period ({cur})"),
    );

    // The means in a column of their own, clear of the whiskers.
    svg.text(
        (WIDTH - 12.0, frame.top - 4.0),
        Anchor::End,
        "column-head",
        "Mean",
    );
    let mut row_top = frame.top;
    let bar_h = 18.0;
    if booked_row {
        let mid = row_top + row_h / 2.0;
        svg.text(
            (frame.left - 12.0, mid + 4.0),
            Anchor::End,
            "row-label",
            "Booked",
        );
        let tip = format!("Booked: {cur} {}", amount(s.booked));
        svg.rect(
            x.at(0.0),
            mid - bar_h / 2.0,
            x.at(s.booked) - x.at(0.0),
            bar_h,
            "bar booked",
            Some(&tip),
        );
        let value = compact_sig(s.booked);
        svg.text(
            (WIDTH - 12.0, mid + 4.0),
            Anchor::End,
            "value-label",
            &value,
        );
        row_top += row_h;
    }
    for (g, name) in s.segments.iter().zip(&names) {
        let mid = row_top + row_h / 2.0;
        let quadrant = g.ansoff.map(|q| q.label()).unwrap_or("");
        let name_y = if quadrant.is_empty() {
            mid + 4.0
        } else {
            mid - 2.0
        };
        svg.text((frame.left - 12.0, name_y), Anchor::End, "row-label", name);
        if !quadrant.is_empty() {
            svg.text(
                (frame.left - 12.0, mid + 12.0),
                Anchor::End,
                "row-note",
                quadrant,
            );
        }
        let (x0, x1, x2) = (
            x.at(0.0),
            x.at(g.open_revenue_mean),
            x.at(g.open_revenue_mean + g.new_revenue_mean),
        );
        let top = mid - bar_h / 2.0;
        let open_tip = format!(
            "{}: open pipeline, mean {cur} {}",
            g.name,
            amount(g.open_revenue_mean)
        );
        let new_tip = format!(
            "{}: new leads, mean {cur} {}",
            g.name,
            amount(g.new_revenue_mean)
        );
        svg.rect(x0, top, x1 - x0, bar_h, "bar open", Some(&open_tip));
        svg.rect(x1, top, x2 - x1, bar_h, "bar new", Some(&new_tip));

        // The P10-P90 whisker.
        let (w0, w1) = (x.at(g.revenue.p10), x.at(g.revenue.p90));
        svg.group("whisker");
        svg.line((w0, mid), (w1, mid), "whisker-line");
        svg.line((w0, mid - 7.0), (w0, mid + 7.0), "whisker-line");
        svg.line((w1, mid - 7.0), (w1, mid + 7.0), "whisker-line");
        svg.end_group();
        let value = compact_sig(g.revenue.mean);
        svg.text(
            (WIDTH - 12.0, mid + 4.0),
            Anchor::End,
            "value-label",
            &value,
        );
        row_top += row_h;
    }

    Figure {
        id: "segments",
        title: "What each segment contributes".into(),
        sentence: segments_sentence(s),
        svg: svg.finish(),
        legend: vec![
            ("open", "open pipeline (deals already in the funnel)".into()),
            ("new", "new leads".into()),
            ("whisker", "P10–P90: 8 periods in 10 land here".into()),
            ("booked", "booked".into()),
        ],
    }
}

fn segments_sentence(s: &Summary) -> String {
    let cur = &s.currency;
    let biggest = s
        .segments
        .iter()
        .max_by(|a, b| a.revenue.mean.total_cmp(&b.revenue.mean));
    let lead = match biggest {
        Some(_) if s.segments.len() == 1 && s.booked <= 0.0 => String::new(),
        Some(g) if s.segments.len() == 1 => format!(
            "; {} brings {cur} {} of the {cur} {} mean, booked revenue the rest",
            g.name,
            amount(g.revenue.mean),
            amount(s.revenue.mean)
        ),
        Some(g) => format!(
            "; {} brings the most, {cur} {} of the {cur} {} mean",
            g.name,
            amount(g.revenue.mean),
            amount(s.revenue.mean)
        ),
        None => String::new(),
    };
    format!(
        "Mean revenue per segment, split into deals already in the open pipeline and \
         wins from new leads, with the range each segment lands in 8 times out of 10{lead}."
    )
}

/// The tornado: for each input, P(hit) with the input held at its P10 and
/// at its P90, widest swing on top.
pub fn tornado(s: &Summary, entries: &[SensitivityEntry]) -> Figure {
    let mut rows: Vec<&SensitivityEntry> = entries.iter().collect();
    rows.sort_by(|a, b| b.swing.total_cmp(&a.swing));
    rows.truncate(TORNADO_ROWS);
    let labels: Vec<String> = rows
        .iter()
        .map(|e| shorten(&arrows(&e.input), 44))
        .collect();
    let label_w = labels
        .iter()
        .map(|l| text_width(l, LABEL))
        .fold(0.0, f64::max)
        .min(290.0);
    let row_h = 28.0;
    let height = 30.0 + rows.len().max(1) as f64 * row_h + 52.0;
    let mut frame = Frame {
        left: label_w + 24.0,
        top: 30.0,
        right: WIDTH - 24.0,
        bottom: height - 52.0,
    };
    let base = s.p_hit;
    let lo = rows
        .iter()
        .map(|e| e.p_hit_low.min(e.p_hit_high))
        .fold(base, f64::min);
    let hi = rows
        .iter()
        .map(|e| e.p_hit_low.max(e.p_hit_high))
        .fold(base, f64::max);
    let pad = ((hi - lo) * 0.15).max(0.02);
    let xt = Ticks::spanning((lo - pad).max(0.0), (hi + pad).min(1.0), 6);
    // Each bar's value label sits past its outer end. Where a bar ends
    // near the axis's end (a P(hit) near 0% or 100%), the label would run
    // into the name column or off the chart: then the plot gives up a
    // gutter as wide as the widest such label.
    let (left_gutter, right_gutter) = {
        let x = frame.x(xt.bounds());
        let bx = x.at(base);
        let (mut need_l, mut need_r, mut widest_l, mut widest_r) = (false, false, 0.0, 0.0);
        for e in &rows {
            for (p, value) in [(e.p_hit_low, e.low_value), (e.p_hit_high, e.high_value)] {
                let px = x.at(p);
                let w = text_width(&input_value(value), LABEL) + VALUE_GAP;
                if px < bx {
                    widest_l = f64::max(widest_l, w);
                    need_l |= px - w < frame.left;
                } else {
                    widest_r = f64::max(widest_r, w);
                    need_r |= px + w > frame.right + 16.0;
                }
            }
        }
        (
            if need_l { widest_l } else { 0.0 },
            if need_r { widest_r } else { 0.0 },
        )
    };
    let name_x = frame.left - 12.0;
    frame.left += left_gutter;
    frame.right -= right_gutter;
    let x = frame.x(xt.bounds());

    let mut svg = Svg::new(
        WIDTH,
        height,
        "tornado",
        "Sensitivity of the chance of hitting",
    );
    svg.group("axis grid-x");
    for v in &xt.values {
        svg.line((x.at(*v), frame.top), (x.at(*v), frame.bottom), "grid");
    }
    svg.end_group();
    svg.x_axis(
        &frame,
        &x,
        &percent_ticks(&xt),
        "Chance of hitting the target with the input held at its P10 or P90",
    );
    let bx = x.at(base);
    for (i, (e, label)) in rows.iter().zip(&labels).enumerate() {
        let mid = frame.top + row_h * (i as f64 + 0.5);
        svg.text((name_x, mid + 4.0), Anchor::End, "row-label", label);
        let bar_h = 16.0;
        for (p, value, class, at) in [
            (e.p_hit_low, e.low_value, "bar low", "P10"),
            (e.p_hit_high, e.high_value, "bar high", "P90"),
        ] {
            let px = x.at(p);
            let tip = format!(
                "{}: at its {at} ({}), {} chance of hitting, median {} {}",
                e.input,
                input_value(value),
                pct1(p),
                s.currency,
                amount(if at == "P10" { e.p50_low } else { e.p50_high })
            );
            svg.rect(bx, mid - bar_h / 2.0, px - bx, bar_h, class, Some(&tip));
            // The input's value at the bar's outer end.
            let (tx, anchor) = if px < bx {
                (px - VALUE_GAP, Anchor::End)
            } else {
                (px + VALUE_GAP, Anchor::Start)
            };
            svg.text((tx, mid + 4.0), anchor, "value-label", &input_value(value));
        }
    }
    svg.group("mark mark-base");
    svg.line((bx, frame.top - 6.0), (bx, frame.bottom), "mark-line");
    let label = format!("As simulated: {}", pct1(base));
    let half = text_width(&label, LABEL) / 2.0;
    let tx = bx.clamp(frame.left + half, frame.right - half);
    svg.text((tx, frame.top - 12.0), Anchor::Middle, "mark-label", &label);
    svg.end_group();

    let sentence = match rows.first() {
        Some(e) => format!(
            "What moves the chance of hitting most: each bar is the chance with one input held \
             at its P10 or its P90 while everything else varies as usual; {} alone moves it \
             from {} to {}.",
            arrows(&e.input),
            pct1(e.p_hit_low),
            pct1(e.p_hit_high)
        ),
        None => "No uncertain inputs to vary.".to_string(),
    };
    let omitted = entries.len().saturating_sub(rows.len());
    let sentence = if omitted > 0 {
        format!("{sentence} The {omitted} inputs with smaller swings are in the table below.")
    } else {
        sentence
    };
    Figure {
        id: "tornado",
        title: "What drives the risk".into(),
        sentence,
        svg: svg.finish(),
        legend: vec![
            (
                "low",
                "input at its P10 (value printed at the bar's end)".into(),
            ),
            ("high", "input at its P90".into()),
            ("mark-base", "as simulated".into()),
        ],
    }
}

/// An input's value, whatever its unit: 0.27, 45, 31k.
pub fn input_value(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        compact_sig(v)
    } else if a >= 100.0 {
        amount(v)
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Input names as people read them: "lead → qualified" for "lead -> qualified".
pub fn arrows(text: &str) -> String {
    text.replace(" -> ", " → ")
}

/// `text` cut to `width` characters with an ellipsis.
pub fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut t: String = text.chars().take(width - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_share_a_row_only_when_they_fit() {
        let rows = |f: Vec<Flag>| f.iter().map(|f| f.row).collect::<Vec<_>>();
        let apart = flags(&[100.0, 300.0, 500.0], &[80.0; 3], 760.0);
        assert_eq!(rows(apart), [0, 0, 0]);
        // Crowded: a row each, leftmost on top, whatever the input order.
        let crowded = flags(&[300.0, 100.0, 150.0], &[80.0; 3], 760.0);
        assert_eq!(rows(crowded), [2, 0, 1]);
        // Near the right edge a label runs left.
        let edge = flags(&[100.0, 700.0], &[80.0; 2], 760.0);
        assert_eq!((edge[0].leftward, edge[1].leftward), (false, true));
    }

    #[test]
    fn percent_ticks_show_the_step() {
        let labels = |lo, hi, n| -> Vec<String> {
            percent_ticks(&Ticks::spanning(lo, hi, n))
                .into_iter()
                .map(|(_, l)| l)
                .collect()
        };
        assert_eq!(labels(0.0, 0.1, 4), ["0%", "2.5%", "5%", "7.5%", "10%"]);
        assert_eq!(
            labels(0.0, 1.0, 5),
            ["0%", "20%", "40%", "60%", "80%", "100%"]
        );
    }

    #[test]
    fn input_values_read_in_their_own_unit() {
        assert_eq!(input_value(0.2734), "0.273");
        assert_eq!(input_value(45.26), "45.3");
        assert_eq!(input_value(460.0), "460");
        assert_eq!(input_value(31_400.0), "31.4k");
        assert_eq!(input_value(1_500_000.0), "1.5M");
    }

    #[test]
    fn shorten_keeps_short_text() {
        assert_eq!(shorten("Core", 10), "Core");
        assert_eq!(shorten("Logistics platform", 10), "Logistics…");
    }
}
