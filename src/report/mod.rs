//! The HTML report: one self-contained file with the headline numbers,
//! SVG charts and the reverse-pipeline table, drawn from a [`Summary`].
//!
//! The page has inline CSS and inline SVG and nothing else: no scripts, no
//! fonts, images or stylesheets from elsewhere (its content security policy
//! forbids them), so it opens offline and reads the same years later. It
//! names only fonts that ship with the usual operating systems, and prints
//! on A4 or Letter with each chart kept on one page.
//!
//! ```
//! use revpipe::{engine, report, scenario, summary};
//! use std::path::Path;
//!
//! let model = scenario::load(Path::new("scenarios/pert-month.json")).unwrap();
//! let mut model = model;
//! model.trials = 2000;
//! let settings = engine::Settings::default();
//! let trials = engine::run(&model, &settings, None).unwrap();
//! let html = report::html(&summary::summarize(&model, &settings, trials));
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(!html.contains("<script"));
//! ```

pub mod charts;
pub mod svg;
pub mod tables;

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::render::{amount, compact_digits};
use crate::summary::Summary;

use charts::Figure;
use svg::escape;

/// The report could not be written.
#[derive(Debug, Error)]
#[error("cannot write the report {}: {source}", path.display())]
pub struct WriteError {
    /// The report's path.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub source: io::Error,
}

/// Renders the report as one HTML document.
pub fn html(s: &Summary) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\"/>\n\
         <meta name=\"generator\" content=\"revpipe {}\"/>\n\
         <title>{} – revenue forecast</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(&s.revpipe_version),
        escape(&s.name)
    );
    headline(&mut out, s);
    warnings(&mut out, s);
    figure(&mut out, &charts::revenue_histogram(s), "");
    figure(&mut out, &charts::activity_curve(s), "");
    pipeline(&mut out, s);
    figure(&mut out, &charts::segments(s), "");
    if let Some(entries) = s.sensitivity.as_deref().filter(|e| !e.is_empty()) {
        let table = tables::sensitivity(s, entries);
        figure(&mut out, &charts::tornado(s, entries), &table);
    }
    footer(&mut out, s);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// Writes the report to `path` atomically: to a temporary file in the same
/// folder, then renamed over `path`, so a failed write never leaves a
/// half-written report in place of a good one.
///
/// # Errors
///
/// When the folder cannot be written, or `path` names a folder; the
/// temporary file is removed.
pub fn write(path: &Path, s: &Summary) -> Result<(), WriteError> {
    write_atomic(path, html(s).as_bytes()).map_err(|source| WriteError {
        path: path.to_path_buf(),
        source,
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let result = fs::File::create(&temp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn headline(out: &mut String, s: &Summary) {
    let cur = escape(&s.currency);
    let _ = write!(
        out,
        "<header>\n<p class=\"kicker\">Revenue forecast · {} days</p>\n<h1>{}</h1>\n<div class=\"cards\">\n",
        s.period_days,
        escape(&s.name)
    );
    // At 0 or 1 the standard error is 0 by its formula: say what was seen.
    let trials = amount(s.trials as f64);
    let se = match s.p_hit {
        p if p <= 0.0 => format!("no trial of {trials} reached it"),
        p if p >= 1.0 => format!("every trial of {trials} reached it"),
        _ => format!("± {:.2}% standard error", 100.0 * s.p_hit_se),
    };
    card(
        out,
        "key",
        "Chance of hitting the target",
        &format!("{:.1}%", 100.0 * s.p_hit),
        &se,
    );
    card(
        out,
        "",
        "Target",
        &format!("{cur} {}", amount(s.target)),
        &format!("{cur} {} already booked", amount(s.booked)),
    );
    for (label, r) in [("Commit", &s.commit), ("Stretch", &s.stretch)] {
        card(
            out,
            "",
            &format!("{label}: {:.0}% sure", 100.0 * r.confidence),
            &format!("{cur} {}", amount(r.revenue)),
            &format!("95% interval {}", interval(r.ci95[0], r.ci95[1])),
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        "<p class=\"run\">{} simulated periods · seed {} · median revenue {cur} {} · \
         mean {cur} {}</p>\n</header>",
        amount(s.trials as f64),
        s.seed,
        amount(s.revenue.p50),
        amount(s.revenue.mean)
    );
}

/// An interval compactly, to three significant figures or as many more
/// as it takes for ends that differ to read differently: 1.940M–1.944M,
/// never 1.94M–1.94M.
fn interval(lo: f64, hi: f64) -> String {
    let mut digits = 3;
    loop {
        let (a, b) = (compact_digits(lo, digits), compact_digits(hi, digits));
        if a != b || lo == hi || digits >= 9 {
            return format!("{a}–{b}");
        }
        digits += 1;
    }
}

fn card(out: &mut String, class: &str, label: &str, value: &str, note: &str) {
    let _ = writeln!(
        out,
        "<div class=\"card {class}\"><div class=\"label\">{}</div>\
         <div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    );
}

fn warnings(out: &mut String, s: &Summary) {
    if s.warnings.is_empty() {
        return;
    }
    out.push_str("<aside class=\"warnings\"><h2>Read with care</h2>\n<ul>\n");
    for w in &s.warnings {
        let _ = writeln!(out, "<li>{}</li>", escape(w));
    }
    out.push_str("</ul></aside>\n");
}

/// A chart's section: heading, sentence, the SVG, its legend, and any
/// `extra` HTML below.
fn figure(out: &mut String, f: &Figure, extra: &str) {
    let _ = writeln!(
        out,
        "<section class=\"figure\" id=\"{id}\">\n<h2>{}</h2>\n<p class=\"what\">{}</p>",
        escape(&f.title),
        escape(&f.sentence),
        id = f.id
    );
    out.push_str(&f.svg);
    out.push_str("\n<ul class=\"legend\">");
    for (class, label) in &f.legend {
        let _ = write!(
            out,
            "<li><span class=\"swatch {class}\"></span>{}</li>",
            escape(label)
        );
    }
    out.push_str("</ul>\n");
    out.push_str(extra);
    out.push_str("</section>\n");
}

fn pipeline(out: &mut String, s: &Summary) {
    let scope = match &s.solve.segment {
        Some(name) => format!("new leads in {name}, the other segments as planned"),
        None => "new leads across the segments in the planned mix".to_string(),
    };
    let capacity = s
        .levels
        .iter()
        .flat_map(|l| &l.segments)
        .flat_map(|g| &g.stages)
        .any(|v| v.per_rep_per_week.is_some());
    let per_rep = if capacity {
        "; small print is per rep a week, for segments with a team size"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<section class=\"table\" id=\"pipeline\">\n<h2>The reverse pipeline: what it takes</h2>\n\
         <p class=\"what\">{}</p>",
        escape(&format!(
            "Working back from the {} {} target: for each confidence level, the {scope}, \
             and the mean volume at each stage from wins back to leads in the {}-day period{per_rep}.",
            s.currency,
            amount(s.target),
            s.period_days
        ))
    );
    out.push_str(&tables::pipeline(s));
    out.push_str("</section>\n");
}

fn footer(out: &mut String, s: &Summary) {
    let _ = writeln!(
        out,
        "<footer>\n<p>How to read this: every number comes from {} simulated periods of the \
         scenario, each drawing conversion rates, lead counts, deal sizes and sales cycles from \
         their distributions. The chance of hitting counts the periods that reach the target; \
         commit and stretch are the revenue reached in 90% and {:.0}% of them. The activity chart \
         fixes the number of new leads, while the headline lets it vary as planned, so the two \
         differ by the plan's own uncertainty.</p>\n\
         <p>Made by revpipe {} with seed {}: the same scenario and seed give the same report.</p>\n\
         </footer>",
        amount(s.trials as f64),
        100.0 * s.stretch.confidence,
        escape(&s.revpipe_version),
        s.seed
    );
}

/// The stylesheet: one font stack, one palette, chosen to print.
const STYLE: &str = r#"
:root {
  --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --wash: #f6f8fa;
  --hit: #2b6cb0; --miss: #c3ccd6; --target: #b42318; --commit: #067647;
  --stretch: #b54708; --open: #1e4e8c; --new: #8db8e6; --booked: #8c959f;
  --low: #d9822b; --high: #2b6cb0;
}
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
html { background: #fff; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font-family: -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif;
  font-size: 15px; line-height: 1.45;
}
main { max-width: 820px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 26px; line-height: 1.2; margin: 2px 0 18px; }
h2 { font-size: 18px; margin: 0 0 4px; }
.kicker { margin: 0; color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .06em; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px; }
.card.key { border-color: var(--hit); border-width: 2px; }
.card .label { font-size: 12px; color: var(--muted); }
.card .value { font-size: 21px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card.key .value { color: var(--hit); font-size: 26px; }
.card .note { font-size: 11.5px; color: var(--muted); }
.run { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
section, aside { margin-top: 34px; break-inside: avoid; page-break-inside: avoid; }
.what { margin: 0 0 10px; color: var(--ink); max-width: 46em; }
.warnings { border-left: 4px solid var(--stretch); background: #fff8f0; padding: 10px 14px; }
.warnings h2 { font-size: 15px; }
.warnings ul { margin: 4px 0 0; padding-left: 18px; }
svg.chart { display: block; width: 100%; height: auto; }
svg text { font-size: 12px; fill: var(--ink); }
svg .tick-label { fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .axis-title { font-weight: 600; }
svg .domain, svg .tick { stroke: #8c959f; stroke-width: 1; }
svg .grid { stroke: #e6e9ed; stroke-width: 1; }
svg .bar.hit { fill: var(--hit); }
svg .bar.miss { fill: var(--miss); }
svg .mark-line { fill: none; stroke-width: 2; }
svg .mark-label { font-weight: 600; }
svg .mark-target .mark-line { stroke: var(--target); }
svg .mark-target .mark-label { fill: var(--target); }
svg .mark-commit .mark-line { stroke: var(--commit); stroke-dasharray: 7 4; }
svg .mark-commit .mark-label { fill: var(--commit); }
svg .mark-stretch .mark-line { stroke: var(--stretch); stroke-dasharray: 2 3; }
svg .mark-stretch .mark-label { fill: var(--stretch); }
svg .mark-plan .mark-line, svg .mark-base .mark-line { stroke: var(--muted); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg .mark-plan .mark-label, svg .mark-base .mark-label { fill: var(--muted); }
svg .curve-line { fill: none; stroke: var(--hit); stroke-width: 2.5; stroke-linejoin: round; }
svg .curve-point { fill: var(--hit); }
svg .level-line { stroke: var(--commit); stroke-width: 1.2; stroke-dasharray: 2 3; }
svg .level-point { fill: #fff; stroke: var(--commit); stroke-width: 2.5; }
svg .level-label { fill: var(--commit); font-weight: 600; }
svg .row-label { font-weight: 600; }
svg .row-note { fill: var(--muted); font-size: 11px; }
svg .value-label { fill: var(--ink); font-variant-numeric: tabular-nums; }
svg .column-head { fill: var(--muted); font-weight: 600; }
svg .bar.open { fill: var(--open); }
svg .bar.new { fill: var(--new); }
svg .bar.booked { fill: var(--booked); }
svg .whisker-line { stroke: var(--ink); stroke-width: 1.5; }
svg .bar.low { fill: var(--low); }
svg .bar.high { fill: var(--high); }
.legend { list-style: none; margin: 6px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 12.5px; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 10px; }
.swatch.hit { background: var(--hit); } .swatch.miss { background: var(--miss); }
.swatch.open { background: var(--open); } .swatch.new { background: var(--new); }
.swatch.booked { background: var(--booked); }
.swatch.low { background: var(--low); } .swatch.high { background: var(--high); }
.swatch.mark-target { height: 0; border-top: 2px solid var(--target); }
.swatch.mark-commit { height: 0; border-top: 2px dashed var(--commit); }
.swatch.mark-stretch { height: 0; border-top: 2px dotted var(--stretch); }
.swatch.mark-plan, .swatch.mark-base { height: 0; border-top: 2px dashed var(--muted); }
.swatch.curve { height: 0; border-top: 3px solid var(--hit); }
.swatch.level { width: 10px; height: 10px; border: 2.5px solid var(--commit); border-radius: 50%; }
.swatch.whisker { height: 10px; border: 1.5px solid var(--ink); border-top: 0; border-bottom: 0; background: linear-gradient(var(--ink), var(--ink)) center / 100% 1.5px no-repeat; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
thead th { text-align: right; font-size: 12.5px; color: var(--muted); border-bottom: 2px solid var(--ink); }
thead th:first-child, tbody th { text-align: left; }
td { text-align: right; }
tbody th { font-weight: 600; }
tr.level-head th { background: var(--wash); font-weight: 650; padding-top: 8px; border-bottom: 1px solid var(--rule); }
tr.total th, tr.total td { font-weight: 650; border-bottom: 2px solid var(--rule); }
.per-rep { display: block; font-size: 11.5px; color: var(--muted); font-weight: 400; }
.note { color: var(--muted); font-weight: 400; }
tr.stage-names th, tr.stage-names td { font-size: 12px; color: var(--muted); font-weight: 600; text-align: right; padding-top: 7px; padding-bottom: 2px; border-bottom: 0; }
p.table-note { font-size: 12.5px; margin: 6px 0 0; }
table.sensitivity { margin-top: 14px; font-size: 12.5px; }
footer { margin-top: 40px; padding-top: 12px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  section, aside, header { break-inside: avoid; page-break-inside: avoid; }
  /* The long table may run over pages, a level at a time, its header
     repeated. */
  section.table { break-inside: auto; page-break-inside: auto; }
  thead { display: table-header-group; }
  tbody.level, tr { break-inside: avoid; page-break-inside: avoid; }
  .cards { gap: 6px; }
}
@media (max-width: 640px) { .cards { grid-template-columns: repeat(2, 1fr); } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("revpipe-report-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.html");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        let left: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "only the report: {left:?}");

        // Writing over a folder fails, and leaves the folder and no temp.
        let folder = dir.join("sub");
        fs::create_dir_all(&folder).unwrap();
        assert!(write_atomic(&folder, b"x").is_err());
        assert!(folder.is_dir());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
        fs::remove_dir_all(&dir).unwrap();
    }
}
