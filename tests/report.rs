//! The HTML report: well formed, self-contained, every chart present, and
//! drawn by a real browser (headless Chromium, where installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use revpipe::sensitivity::SensitivityEntry;
use revpipe::summary::Summary;
use revpipe::{engine, report, scenario, summary};

fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// A fresh folder for one test's files, under the target directory.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn summary_of(name: &str, trials: u64) -> Summary {
    let mut model = scenario::load(&scenario_path(name)).unwrap();
    model.trials = trials;
    let settings = engine::Settings::default();
    let trials = engine::run(&model, &settings, None).unwrap();
    summary::summarize(&model, &settings, trials)
}

fn entry(input: &str, values: (f64, f64), p_hit: (f64, f64), p50: (f64, f64)) -> SensitivityEntry {
    SensitivityEntry {
        input: input.to_string(),
        segment: input.split(':').next().unwrap_or("").to_string(),
        low_value: values.0,
        high_value: values.1,
        p_hit_low: p_hit.0,
        p_hit_high: p_hit.1,
        p50_low: p50.0,
        p50_high: p50.1,
        swing: (p_hit.1 - p_hit.0).abs(),
        swing_se: 0.01,
        rank_correlation: Some(0.1),
    }
}

/// A sensitivity list of the shape the sensitivity run produces, with
/// made-up numbers: the tornado's renderer is what is under test.
fn sensitivity_fixture() -> Vec<SensitivityEntry> {
    vec![
        entry(
            "Core accounts: lead -> qualified rate",
            (0.283, 0.314),
            (0.17, 0.36),
            (2.21e6, 2.41e6),
        ),
        entry(
            "Core accounts: deal size",
            (27_400.0, 34_800.0),
            (0.19, 0.34),
            (2.23e6, 2.39e6),
        ),
        entry(
            "Logistics platform: activity",
            (1450.0, 1550.0),
            (0.24, 0.28),
            (2.29e6, 2.33e6),
        ),
        entry(
            "DACH and Nordics: qualified -> proposal rate",
            (0.25, 0.35),
            (0.21, 0.31),
            (2.26e6, 2.36e6),
        ),
        entry(
            "Analytics add-on: cycle days",
            (24.0, 46.0),
            (0.29, 0.23),
            (2.34e6, 2.28e6),
        ),
        entry(
            "Core accounts: open pipeline slippage",
            (0.82, 0.97),
            (0.23, 0.29),
            (2.28e6, 2.34e6),
        ),
    ]
}

/// The four-segment scenario with the tornado's fixture.
fn full_summary() -> Summary {
    let mut s = summary_of("ansoff-quarter.json", 4000);
    s.sensitivity = Some(sensitivity_fixture());
    s
}

/// Parses the page as XML (its `<!DOCTYPE html>` is a DTD to roxmltree).
fn parse(html: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(html, options)
}

/// Elements with this class inside the section with this id.
fn count(doc: &roxmltree::Document, section: &str, element: &str, class: &str) -> usize {
    let Some(root) = doc
        .descendants()
        .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(section))
    else {
        return 0;
    };
    root.descendants()
        .filter(|n| n.has_tag_name(element))
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|w| w == class))
        })
        .count()
}

#[test]
fn the_report_is_well_formed_self_contained_and_has_every_chart() {
    let s = full_summary();
    let html = report::html(&s);

    // Self-contained: nothing to fetch, nothing to run.
    for banned in [
        "http://", "https://", "<script", "<link", "<img", "url(", "@import",
    ] {
        assert!(!html.contains(banned), "{banned} in the report");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("@media print"));

    // Well formed: it parses as XML, every element closed.
    let doc = parse(&html).expect("the report is well-formed XML");
    let svgs = doc.descendants().filter(|n| n.has_tag_name("svg")).count();
    assert_eq!(svgs, 4, "histogram, activity, segments, tornado");

    // Each chart drew its marks.
    let bins = s
        .revenue_histogram
        .counts
        .iter()
        .filter(|c| **c > 0)
        .count();
    assert!(count(&doc, "revenue", "rect", "bar") >= bins / 2);
    for mark in ["mark-target", "mark-commit", "mark-stretch"] {
        assert_eq!(count(&doc, "revenue", "g", mark), 1, "{mark}");
    }
    assert_eq!(count(&doc, "activity", "polyline", "curve-line"), 1);
    assert_eq!(
        count(&doc, "activity", "circle", "level-point"),
        s.levels.len()
    );
    assert_eq!(count(&doc, "segments", "rect", "open"), s.segments.len());
    assert_eq!(count(&doc, "segments", "rect", "new"), s.segments.len());
    assert_eq!(count(&doc, "tornado", "rect", "low"), 6);
    assert_eq!(count(&doc, "tornado", "rect", "high"), 6);
    assert_eq!(count(&doc, "pipeline", "tbody", "level"), s.levels.len());

    // Every chart has a title, a sentence, and axis titles.
    for id in ["revenue", "activity", "segments", "tornado"] {
        let section = doc
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap();
        let title = section.descendants().find(|n| n.has_tag_name("h2"));
        assert!(title.and_then(|t| t.text()).is_some(), "{id} title");
        assert_eq!(count(&doc, id, "p", "what"), 1, "{id} sentence");
        assert!(
            count(&doc, id, "text", "axis-title") >= 1,
            "{id} axis title"
        );
    }
    // Money axes name the currency.
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("axis-title"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        titles.contains(&"Revenue in the period (EUR)"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Mean revenue in the period (EUR)"),
        "{titles:?}"
    );
}

#[test]
fn without_sensitivity_the_tornado_is_left_out() {
    let s = summary_of("one-segment-quarter.json", 2000);
    assert!(s.sensitivity.is_none());
    let html = report::html(&s);
    let doc = parse(&html).unwrap();
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("svg")).count(),
        3
    );
    assert!(!html.contains("id=\"tornado\""));
    // One segment: no "All segments" total row.
    assert!(!html.contains("All segments"));
}

#[test]
fn names_from_the_scenario_are_escaped() {
    let evil = r#"R&D <script>alert("x")</script> 'Labs'"#;
    let json = serde_json::json!({
        "name": evil, "currency": "<b>", "period_days": 30, "target": 50000,
        "trials": 1000, "seed": 1,
        "segments": [{
            "name": evil,
            "stages": [{"name": "<i>lead</i>", "to_next": 0.2}, {"name": "won & done"}],
            "activity": {"dist": "poisson", "mean": 50},
            "deal_size": 5000,
            "capacity": {"reps": 2}
        }]
    });
    let model = scenario::parse_str(&json.to_string())
        .unwrap()
        .validate(Path::new("."))
        .unwrap();
    let settings = engine::Settings::default();
    let trials = engine::run(&model, &settings, None).unwrap();
    let mut s = summary::summarize(&model, &settings, trials);
    let mut fixture = sensitivity_fixture();
    fixture[0].input = evil.to_string();
    s.sensitivity = Some(fixture);
    let html = report::html(&s);
    assert!(!html.contains("<script"), "a name became markup");
    assert!(!html.contains("<b>") && !html.contains("<i>"));
    let doc = parse(&html).expect("well formed with odd names");
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("h1"))
        .and_then(|n| n.text());
    assert_eq!(title, Some(evil), "escaped text reads back as written");
}

// --- Headless Chromium ------------------------------------------------------

/// The Chromium binary, or `None` (with a note) where it is not installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("skipped: chromium is not installed, so the report was not rendered");
    }
    found
}

/// Runs headless Chromium on a local file with a fresh profile and no
/// network services, and returns its stdout. Gives up after two minutes.
fn run_chromium(chromium: &Path, dir: &Path, args: &[&str], page: &Path) -> String {
    let profile = dir.join(format!("profile-{}", args.len()));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("chromium runs").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("chromium's output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Measures, in the browser, what each chart drew: per section, the marks
/// with a size on screen. Appended to a copy of the report (the report
/// itself has no scripts, and its security policy would refuse one).
const MEASURE: &str = r#"<pre id="drawn"></pre><script>
const out = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const id = svg.closest('section').id;
  const box = svg.getBoundingClientRect();
  let marks = 0, texts = 0;
  for (const el of svg.querySelectorAll('rect, line, polyline, circle')) {
    const b = el.getBBox();
    if (b.width > 0 || b.height > 0) marks++;
  }
  for (const el of svg.querySelectorAll('text')) {
    if (el.getComputedTextLength() > 0) texts++;
  }
  out.push(id + ' ' + Math.round(box.width) + ' ' + Math.round(box.height) + ' ' + marks + ' ' + texts);
}
document.getElementById('drawn').textContent = out.join('\n');
</script>"#;

#[test]
fn chromium_draws_every_chart() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = scratch("chromium");
    let s = full_summary();
    let page = dir.join("report.html");
    report::write(&page, &s).unwrap();

    // The DOM after layout: every chart has a size and drew its marks.
    let html = std::fs::read_to_string(&page).unwrap();
    let start = html.find("<meta http-equiv").unwrap();
    let end = start + html[start..].find("/>").unwrap() + 2;
    let probe = html[..start].to_string() + &html[end..];
    let probe = probe.replace("</main>", &format!("</main>{MEASURE}"));
    let probe_page = dir.join("probe.html");
    std::fs::write(&probe_page, probe).unwrap();
    let dom = run_chromium(&chromium, &dir, &["--dump-dom"], &probe_page);
    let drawn = dom
        .split("<pre id=\"drawn\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no measurements in the DOM:\n{dom}"));
    let mut seen = Vec::new();
    for line in drawn.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| f[i].parse::<f64>().unwrap();
        assert!(
            num(1) > 300.0 && num(2) > 100.0,
            "{line}: chart has no size"
        );
        assert!(num(3) >= 10.0, "{line}: too few marks drawn");
        assert!(num(4) >= 8.0, "{line}: too few labels drawn");
        seen.push(f[0].to_string());
    }
    assert_eq!(
        seen,
        ["revenue", "activity", "segments", "tornado"],
        "{drawn}"
    );

    // The screenshot of the report itself: each chart's colours are there.
    let shot = dir.join("report.png");
    run_chromium(
        &chromium,
        &dir,
        &[
            "--window-size=1000,4600",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    let pixels = colours(&shot);
    let palette = [
        ("histogram: periods that hit", [0x2b, 0x6c, 0xb0]),
        ("histogram: periods that miss", [0xc3, 0xcc, 0xd6]),
        ("segments: open pipeline", [0x1e, 0x4e, 0x8c]),
        ("segments: new leads", [0x8d, 0xb8, 0xe6]),
        ("tornado: input at P10", [0xd9, 0x82, 0x2b]),
    ];
    for (what, rgb) in palette {
        let n = pixels.iter().filter(|p| near(**p, rgb)).count();
        assert!(n > 500, "{what}: {n} pixels of {rgb:?} in the screenshot");
    }
    let white = pixels.iter().filter(|p| near(**p, [255, 255, 255])).count();
    assert!(white < pixels.len(), "the screenshot is blank");
}

/// The RGB pixels of a PNG.
fn colours(path: &Path) -> Vec<[u8; 3]> {
    let file = std::fs::File::open(path).expect("chromium wrote the screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// Within a few steps per channel (colour management may shift a little).
fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6)
}

/// A text element of a chart: its class, its text, and how far it reaches
/// left and right, as the layout estimates it.
#[derive(Debug)]
struct Label {
    class: String,
    text: String,
    left: f64,
    right: f64,
}

/// The text elements of the chart in the section with this id.
fn labels(doc: &roxmltree::Document, section: &str) -> Vec<Label> {
    let root = doc
        .descendants()
        .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(section))
        .expect("the section");
    root.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("transform").is_none())
        .map(|n| {
            let class = n.attribute("class").unwrap_or("").to_string();
            let text = n.text().unwrap_or("").to_string();
            let size = if class == "row-note" { 11.0 } else { 12.0 };
            let w = report::svg::text_width(&text, size);
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let left = match n.attribute("text-anchor") {
                Some("end") => x - w,
                Some("middle") => x - w / 2.0,
                _ => x,
            };
            Label {
                class,
                text,
                left,
                right: left + w,
            }
        })
        .collect()
}

#[test]
fn tornado_value_labels_keep_clear_of_the_names_near_zero() {
    // The first-time user's case: P(hit) under 1%, inputs at their P10
    // bringing it to 0%, so the low bars end at the axis's left end.
    let mut s = summary_of("ansoff-quarter.json", 2000);
    s.p_hit = 0.008;
    let entries = vec![
        entry(
            "SMB inbound: deal size",
            (3490.0, 5962.0),
            (0.0, 0.024),
            (2.1e6, 2.3e6),
        ),
        entry(
            "Enterprise: deal size, every deal at once",
            (47_730.0, 141_711.0),
            (0.0, 0.068),
            (2.0e6, 2.4e6),
        ),
        entry(
            "Enterprise: sales cycle, every deal at once",
            (28.3, 76.1),
            (0.054, 0.0),
            (2.3e6, 2.1e6),
        ),
    ];
    s.sensitivity = Some(entries);
    let html = report::html(&s);
    let doc = parse(&html).unwrap();
    let all = labels(&doc, "tornado");
    let names_end = all
        .iter()
        .filter(|l| l.class == "row-label")
        .map(|l| l.right)
        .fold(f64::MIN, f64::max);
    let values: Vec<&Label> = all.iter().filter(|l| l.class == "value-label").collect();
    assert_eq!(values.len(), 6);
    for v in values {
        assert!(
            v.left >= names_end + 4.0,
            "{:?} runs into the names, which end at {names_end}",
            v
        );
        assert!(v.right <= 760.0, "{v:?} runs off the chart");
    }
}

#[test]
fn segment_names_and_ansoff_notes_fit_the_left_margin() {
    let mut s = summary_of("ansoff-quarter.json", 2000);
    // Short names over long quadrant names.
    for (g, name) in s.segments.iter_mut().zip(["SMB", "DACH", "BI", "Ops"]) {
        g.name = name.into();
    }
    let html = report::html(&s);
    let doc = parse(&html).unwrap();
    let all = labels(&doc, "segments");
    let notes: Vec<&Label> = all.iter().filter(|l| l.class == "row-note").collect();
    assert_eq!(notes.len(), s.segments.len());
    assert!(
        notes.iter().any(|l| l.text == "market penetration"),
        "{notes:?}"
    );
    for l in all.iter().filter(|l| l.class.starts_with("row-")) {
        assert!(l.left >= 0.0, "{l:?} is cut off on the left");
    }
}

#[test]
fn interval_cards_show_ends_that_differ() {
    let mut s = summary_of("one-segment-quarter.json", 2000);
    s.commit.ci95 = [1_940_123.0, 1_943_900.0];
    s.stretch.ci95 = [2_100_000.0, 2_400_000.0];
    let html = report::html(&s);
    assert!(!html.contains("1.94M–1.94M"), "the ends read the same");
    assert!(html.contains("95% interval 1.940M–1.944M"));
    assert!(html.contains("95% interval 2.1M–2.4M"), "no digits added");
}

/// Two segments whose funnels differ in length and in stage names.
const TWO_FUNNELS: &str = r#"{
  "name": "Two funnels", "currency": "EUR", "period_days": 90,
  "target": 720000, "trials": 2000, "seed": 7, "confidence": [0.9, 0.5],
  "segments": [
    {
      "name": "SMB inbound", "ansoff": "market_penetration",
      "stages": [
        {"name": "lead", "to_next": {"dist": "beta", "mean": 0.2, "sd": 0.04}},
        {"name": "opportunity", "to_next": {"dist": "beta", "mean": 0.3, "sd": 0.05}},
        {"name": "won"}
      ],
      "activity": {"dist": "poisson", "mean": 800},
      "deal_size": {"dist": "lognormal", "mean": 4000, "sd": 1500},
      "cycle_days": {"dist": "lognormal", "mean": 30, "sd": 10},
      "capacity": {"reps": 4}
    },
    {
      "name": "Enterprise", "ansoff": "diversification",
      "stages": [
        {"name": "opportunity", "to_next": {"dist": "beta", "mean": 0.5, "sd": 0.08}},
        {"name": "demo", "to_next": {"dist": "beta", "mean": 0.5, "sd": 0.08}},
        {"name": "proposal", "to_next": {"dist": "beta", "mean": 0.4, "sd": 0.08}},
        {"name": "won"}
      ],
      "activity": {"dist": "poisson", "mean": 40},
      "deal_size": {"dist": "lognormal", "mean": 90000, "sd": 40000},
      "cycle_days": {"dist": "lognormal", "mean": 50, "sd": 20},
      "capacity": {"reps": 3}
    }
  ]
}"#;

/// The text of every cell of each row of the pipeline table, with the
/// row's class.
fn pipeline_rows(doc: &roxmltree::Document) -> Vec<(String, Vec<String>)> {
    let table = doc
        .descendants()
        .find(|n| n.has_tag_name("table") && n.attribute("class") == Some("pipeline"))
        .expect("the pipeline table");
    table
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .map(|tr| {
            let cells = tr
                .children()
                .filter(|c| c.is_element())
                .map(|c| {
                    c.descendants()
                        .filter(|t| t.is_text())
                        .filter_map(|t| t.text())
                        .collect::<String>()
                })
                .collect();
            (tr.attribute("class").unwrap_or("").to_string(), cells)
        })
        .collect()
}

#[test]
fn the_pipeline_table_keeps_each_funnel_under_its_own_stage_names() {
    let dir = scratch("two-funnels");
    let path = dir.join("two.json");
    std::fs::write(&path, TWO_FUNNELS).unwrap();
    let model = scenario::load(&path).unwrap();
    let settings = engine::Settings::default();
    let s = summary::summarize(
        &model,
        &settings,
        engine::run(&model, &settings, None).unwrap(),
    );
    assert!(
        s.levels.iter().all(|l| l.leads_needed.is_some()),
        "solvable"
    );
    let html = report::html(&s);
    let doc = parse(&html).unwrap();
    let rows = pipeline_rows(&doc);

    // No heading merges two funnels' stages.
    for (_, cells) in &rows {
        for c in cells {
            assert!(!c.contains(" / "), "merged heading {c:?}");
        }
    }
    // Each segment's row comes under its own stage names, wins first.
    let smb = ["", "Won", "Opportunity", "Lead", ""];
    let ent = ["", "Won", "Proposal", "Demo", "Opportunity"];
    let names: Vec<&Vec<String>> = rows
        .iter()
        .filter(|(class, _)| class == "stage-names")
        .map(|(_, cells)| cells)
        .collect();
    assert_eq!(names.len(), 2 * s.levels.len(), "{rows:?}");
    for pair in names.chunks(2) {
        assert_eq!(pair[0], &smb);
        assert_eq!(pair[1], &ent);
    }
    // The total adds wins to wins and nothing else, and says so.
    let totals: Vec<&Vec<String>> = rows
        .iter()
        .filter(|(class, _)| class == "total")
        .map(|(_, cells)| cells)
        .collect();
    assert_eq!(totals.len(), s.levels.len());
    for (t, level) in totals.iter().zip(&s.levels) {
        assert!(t[0].contains("wins only"), "{t:?}");
        let wins: f64 = level
            .segments
            .iter()
            .map(|g| g.stages.last().unwrap().volume)
            .sum();
        assert_eq!(t[1], revpipe::render::volume(wins));
        assert!(t[2..].iter().all(String::is_empty), "{t:?}");
    }
}

#[test]
fn one_funnel_keeps_one_header_and_totals_every_stage() {
    let mut s = summary_of("ansoff-quarter.json", 2000);
    // Make every funnel lead, qualified, proposal, won.
    for g in s.levels.iter_mut().flat_map(|l| &mut l.segments) {
        for v in &mut g.stages {
            if v.stage == "demo" {
                v.stage = "qualified".into();
            }
        }
    }
    let html = report::html(&s);
    let doc = parse(&html).unwrap();
    let rows = pipeline_rows(&doc);
    assert_eq!(
        rows[0].1,
        ["Segment", "Won", "Proposal", "Qualified", "Lead"]
    );
    assert!(rows.iter().all(|(class, _)| class != "stage-names"));
    let totals: Vec<&Vec<String>> = rows
        .iter()
        .filter(|(class, _)| class == "total")
        .map(|(_, cells)| cells)
        .collect();
    assert!(!totals.is_empty());
    for t in totals {
        assert_eq!(t[0], "All segments");
        assert!(t[1..].iter().all(|c| !c.is_empty()), "{t:?}");
    }
}

#[test]
fn the_pipeline_table_says_wins_close_after_the_period_too() {
    let s = summary_of("ansoff-quarter.json", 2000);
    let html = report::html(&s);
    let g = &s.segments[0];
    let share = format!("{} {:.0}%", g.name, 100.0 * g.close_in_period);
    let section = &html[html.find("id=\"pipeline\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("whenever they close"), "{section}");
    assert!(section.contains(&share), "{share} not in the note");
}
