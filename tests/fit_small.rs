//! `fit` end to end on small files the tests write, with every expected
//! number worked out by hand in the comments.

use revpipe::fit::{self, Ansoff, Date, FitError, FitOptions, LayoutSpec, LoadOptions, SizeChoice};
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

// A fresh folder per call: tests run in parallel.
fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let dir = std::env::temp_dir().join(format!("revpipe-fit-{name}-{pid}-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// A custom export with a BOM, CRLF line ends, quoted amounts with a
// currency sign and thousands separators, a blank amount, one row with an
// impossible date and one that closes before it was created.
const EXPORT: &str = "\u{feff}Opp,Stage,Value,Opened,Closed,Region\r\n\
w1,Won,\"$1,000\",2024-01-01,2024-01-11,North\r\n\
w2,Won,$200,2024-01-08,2024-01-28,North\r\n\
w3,Won,$300,2024-01-15,2024-02-14,North\r\n\
w4,Won,$400,2024-01-22,2024-03-02,North\r\n\
w5,Won,$500,2024-01-29,2024-03-19,South\r\n\
w6,Won,$600,2024-02-05,2024-04-05,South\r\n\
w7,Won,$700,2024-02-12,2024-04-22,South\r\n\
w8,Won,$800,2024-02-19,2024-05-09,South\r\n\
l1,Lost,,2024-02-01,2024-02-06,North\r\n\
l2,Lost,$0,2024-02-02,2024-02-07,North\r\n\
l3,Lost,,2024-02-03,2024-02-08,South\r\n\
l4,Lost,,2024-02-04,2024-02-09,South\r\n\
o1,Demo,\"$1,500\",2024-06-10,2024-07-15,North\r\n\
o2,Qualify,,2024-06-25,,South\r\n\
o3,Demo,$900,2023-12-01,,South\r\n\
x1,Won,$100,2024-02-30,2024-03-01,North\r\n\
x2,Won,$100,2024-03-05,2024-03-01,North\r\n";

fn load_opts(segment_by: Option<&str>) -> LoadOptions {
    let mut spec = LayoutSpec::default();
    for pair in [
        "id=Opp",
        "stage=Stage",
        "amount=Value",
        "created=Opened",
        "closed=Closed",
    ] {
        spec.set(pair).unwrap();
    }
    spec.stages = Some(vec!["Qualify".into(), "Demo".into()]);
    LoadOptions {
        spec,
        segment_by: segment_by.map(String::from),
        ..LoadOptions::default()
    }
}

fn fit_opts() -> FitOptions {
    FitOptions {
        as_of: Date::parse_iso("2024-06-30"),
        target: 5000.0,
        period_days: 30,
        deal_size: SizeChoice::Empirical,
        currency: Some("USD".into()),
        ..FitOptions::default()
    }
}

fn load(segment_by: Option<&str>) -> fit::DealFile {
    let dir = temp_dir("small");
    let file = dir.join("export.csv");
    std::fs::write(&file, EXPORT).unwrap();
    let deals = fit::load_deals(&file, &load_opts(segment_by)).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    deals
}

#[test]
fn messy_export_gives_the_expected_scenario() {
    let deals = load(None);
    let src = &deals.source;
    assert_eq!((src.rows_read, src.rows_used()), (17, 15));
    let aside: Vec<String> = src.set_aside.iter().map(|r| r.to_string()).collect();
    assert_eq!(aside.len(), 2);
    assert!(aside[0].starts_with("line 17, column Opened, value \"2024-02-30\": no such day"));
    assert_eq!(
        aside[1],
        "line 18, column Closed, value \"2024-03-01\": close date 2024-03-01 is before created date 2024-03-05"
    );

    let fitted = fit::fit(&deals, None, None, &fit_opts()).unwrap();
    let r = &fitted.report;
    // The longest closed cycle is w8's 80 days; o3 (created 2023-12-01)
    // is 212 days old on 2024-06-30: stale, so counted as lost at Demo.
    assert_eq!(r.deals.stale_after_days, Some(80));
    assert_eq!(
        (r.deals.won, r.deals.lost, r.deals.open, r.deals.stale),
        (8, 4, 3, 1)
    );
    let seg = &r.segments[0];
    // Qualify: passed by 8 won, 4 lost (no history: lost at the last
    // stage) and the two deals at Demo; o2 is open there.
    // Demo: 8 advanced, 4 lost + 1 stale, o1 open.
    let counts: Vec<(u64, u64, u64)> = seg
        .stages
        .iter()
        .map(|c| (c.advanced, c.failed, c.censored))
        .collect();
    assert_eq!(counts, [(14, 0, 1), (8, 5, 1)]);
    // Empirical sizes of the 8 wins: mean 4,500 / 8 = 562.5, given to o2.
    let s = &fitted.scenario["segments"][0];
    assert_eq!(
        s["stages"],
        json!([
            {"name": "Qualify", "to_next": {"dist": "observed", "advanced": 14, "entered": 14, "prior_alpha": 1.0, "prior_beta": 1.0}},
            {"name": "Demo", "to_next": {"dist": "observed", "advanced": 8, "entered": 13, "prior_alpha": 1.0, "prior_beta": 1.0}},
            {"name": "Won"}
        ])
    );
    assert_eq!(
        s["open_pipeline"],
        json!([
            {"id": "o1", "stage": "Demo", "amount": 1500.0, "age_days": 20},
            {"id": "o2", "stage": "Qualify", "amount": 562.5, "age_days": 5}
        ])
    );
    assert_eq!(
        s["deal_size"]["values"],
        json!([200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 1000.0])
    );
    // 30-day periods ending 2024-06-30, from 2023-12-04 (7 whole periods
    // after the first created date 2023-12-01): created dates fall 1, 5,
    // 6, 0, 0, 0, 2 per period.
    assert_eq!(seg.arrivals.counts, [1, 5, 6, 0, 0, 0, 2]);
    assert_eq!(s["activity"], json!({"dist": "poisson", "mean": 2.0}));
    assert_eq!(fitted.scenario["target"], json!(5000.0));
    assert_eq!(fitted.scenario["currency"], json!("USD"));
    // Cycle days of the wins: 10, 20, ..., 80.
    assert_eq!(seg.cycle.as_ref().unwrap().wins, 8);
    let warnings = r.all_warnings().join("\n");
    assert!(
        warnings.contains("1 open deals have no amount; each is given the fitted mean size 562.50")
    );
    assert!(warnings.contains("lost at the last open stage (Demo)"));
}

#[test]
fn an_earlier_as_of_date_sees_only_what_was_known() {
    let deals = load(None);
    let opts = FitOptions {
        as_of: Date::parse_iso("2024-02-10"),
        ..fit_opts()
    };
    let r = fit::fit(&deals, None, None, &opts).unwrap().report;
    // Known by 2024-02-10: w1-w6, l1-l4 and o3; w7, w8, o1, o2 come
    // later. Closed by then: w1, w2 and l1-l4; w3-w6 were still open (at
    // Qualify, where deals are created). The longest closed cycle then is
    // w2's 20 days, so o3 (71 days old) and w3 (26 days) are stale.
    let d = &r.deals;
    assert_eq!(d.created_after_as_of, 4);
    assert_eq!((d.won, d.lost, d.open, d.stale), (2, 4, 5, 2));
    assert_eq!(d.stale_after_days, Some(20));
    let open = &r.segments[0].open;
    assert_eq!(
        open.by_stage,
        [("Qualify".to_string(), 3), ("Demo".to_string(), 0)]
    );
}

#[test]
fn segments_with_ansoff_quadrants() {
    let deals = load(Some("Region"));
    let mut opts = fit_opts();
    opts.ansoff
        .insert("North".into(), Ansoff::MarketPenetration);
    opts.ansoff.insert("West".into(), Ansoff::Diversification);
    let fitted = fit::fit(&deals, None, None, &opts).unwrap();
    let segs = fitted.scenario["segments"].as_array().unwrap();
    let names: Vec<&str> = segs.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["North", "South"]);
    assert_eq!(segs[0]["ansoff"], json!("market_penetration"));
    assert!(segs[1].get("ansoff").is_none());
    // North: w1-w4 won, l1-l2 lost, o1 open at Demo.
    let north = &fitted.report.segments[0];
    assert_eq!((north.won, north.lost, north.open.count), (4, 2, 1));
    let warnings = fitted.report.all_warnings().join("\n");
    assert!(warnings.contains("--ansoff names segment \"West\", which has no deals"));
}

#[test]
fn refusals_name_the_problem() {
    let deals = load(None);
    // Eight wins are enough for a parametric fit; four per region are not.
    let opts = FitOptions {
        deal_size: SizeChoice::Auto,
        ..fit_opts()
    };
    let by_region = load(Some("Region"));
    let err = fit::fit(&by_region, None, None, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "segment \"North\": deal size: 4 won deals with a positive amount, a lognormal or gamma fit needs at least 8; use fewer segments or --deal-size empirical"
    );
    // A stage the funnel does not list.
    let opts = FitOptions {
        stages: Some(vec!["Qualify".into()]),
        ..fit_opts()
    };
    let err = fit::fit(&deals, None, None, &opts).unwrap_err();
    assert!(matches!(err, FitError::UnknownStages { .. }));
    assert!(err
        .to_string()
        .starts_with("open deals are in stages the funnel does not list: \"Demo\" (2)"));
    let opts = FitOptions {
        confidence: vec![1.5],
        ..fit_opts()
    };
    let err = fit::fit(&deals, None, None, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        "confidence = 1.5: levels strictly between 0 and 1"
    );
}

#[test]
fn history_and_leads_files() {
    let dir = temp_dir("hist");
    let export = "Id,StageName,Amount,CreatedDate,CloseDate\n\
        a,Closed Won,100,2024-01-01,2024-01-20\n\
        b,Closed Lost,100,2024-01-01,2024-01-20\n\
        c,Qualification,100,2024-01-05,2024-03-01\n\
        d,Closed Won,150,2024-01-02,2024-01-12\n";
    // a: Prospecting -> Qualification -> Prospecting -> Won (a move back).
    // b: Prospecting -> Lost. d: straight to Won (skips Qualification).
    let history = "\u{feff}OppID,CreatedDate,StageName,SortOrder\n\
        a,01/01/2024,Prospecting,1\na,05/01/2024,Qualification,2\n\
        a,10/01/2024,Prospecting,1\na,20/01/2024,Closed Won,9\n\
        b,01/01/2024,Prospecting,1\nb,20/01/2024,Closed Lost,10\n\
        c,05/01/2024,Prospecting,1\nc,15/01/2024,Qualification,2\n\
        d,02/01/2024,Prospecting,1\nd,12/01/2024,Closed Won,9\n";
    let leads = "lead_id,created_date\na,2023-12-20\nb,2023-12-21\nc,2023-12-22\n\
        d,2023-12-30\ne,2023-12-01\nf,2024-01-25\n";
    for (name, text) in [("o.csv", export), ("h.csv", history), ("l.csv", leads)] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let lo = LoadOptions::default();
    let deals = fit::load_deals(&dir.join("o.csv"), &lo).unwrap();
    let history = fit::load_history(&dir.join("h.csv"), &lo).unwrap();
    let leads = fit::load_leads(&dir.join("l.csv"), &lo).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let opts = FitOptions {
        as_of: Date::parse_iso("2024-01-31"),
        deal_size: SizeChoice::Empirical,
        period_days: 30,
        // c is 26 days old, older than any closed cycle (19 days); keep
        // it open to see it censored.
        stale_after_days: Some(60),
        ..fit_opts()
    };
    let fitted = fit::fit(&deals, Some(&history), Some(&leads), &opts).unwrap();
    let seg = &fitted.report.segments[0];
    let counts: Vec<(&str, u64, u64, u64)> = seg
        .stages
        .iter()
        .map(|c| (c.stage.as_str(), c.advanced, c.failed, c.censored))
        .collect();
    // Leads a-d became deals (ids match); e is older (61 days) than the
    // longest lead-to-deal lag (c: 14 days), so it failed; f is 6 days
    // old and still censored. Prospecting: a, c, d advanced, b failed.
    // Qualification: a, d advanced (d skipped it), c is open there.
    assert_eq!(
        counts,
        [
            ("Lead", 4, 1, 1),
            ("Prospecting", 3, 1, 0),
            ("Qualification", 2, 0, 1)
        ]
    );
    let warnings = fitted.report.all_warnings().join("\n");
    assert!(warnings.contains("1 moves go back to an earlier stage"));
    assert!(warnings.contains("1 deals skipped one or more stages"));
    assert_eq!(
        fitted.scenario["segments"][0]["stages"][3],
        json!({"name": "Closed Won"})
    );
}

#[test]
fn scenario_is_written_once_without_force() {
    let deals = load(None);
    let fitted = fit::fit(&deals, None, None, &fit_opts()).unwrap();
    let dir = temp_dir("write");
    let out = dir.join("scenario.json");
    fit::write_atomic(&out, fitted.scenario_text().as_bytes(), false).unwrap();
    let back: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(back, fitted.scenario);
    let err = fit::write_atomic(&out, b"{}", false).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("already exists; pass --force to overwrite it"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_writes_both_outputs_or_neither() {
    let dir = temp_dir("command");
    std::fs::write(dir.join("export.csv"), EXPORT).unwrap();
    let cmd = fit::FitCommand {
        export: dir.join("export.csv"),
        output: dir.join("scenario.json"),
        report_json: Some(dir.join("report.json")),
        load: load_opts(None),
        fit: fit_opts(),
        ..fit::FitCommand::default()
    };
    // An existing report file: refused, and no scenario is written.
    std::fs::write(dir.join("report.json"), "keep").unwrap();
    let err = fit::run(&cmd).unwrap_err();
    assert!(matches!(
        err,
        fit::CommandError::Write(fit::WriteError::Exists(_))
    ));
    assert!(!dir.join("scenario.json").exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("report.json")).unwrap(),
        "keep"
    );

    std::fs::remove_file(dir.join("report.json")).unwrap();
    let fitted = fit::run(&cmd).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["as_of"], json!("2024-06-30"));
    assert_eq!(report["inputs"][0]["set_aside"][0]["line"], json!(17));
    assert_eq!(report["segments"][0]["stages"][1]["failed"], json!(5));
    let text = fitted.report.to_string();
    assert!(text.contains("export.csv: custom layout, 17 rows read, 15 used, 2 set aside"));
    assert!(text.contains("stages: Qualify -> Demo -> Won; prior Beta(1, 1); currency USD"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_mapping_file_describes_a_custom_export() {
    let dir = temp_dir("mapping");
    let mapping = r#"{"id": "Opp", "stage": "Stage", "amount": "Value",
        "created": "Opened", "closed": "Closed", "stages": ["Qualify", "Demo"],
        "won": "Won", "lost": ["Lost", "Dead"]}"#;
    std::fs::write(dir.join("map.json"), mapping).unwrap();
    let spec = LayoutSpec::from_file(&dir.join("map.json")).unwrap();
    assert_eq!(
        spec.lost.as_deref(),
        Some(&["Lost".to_string(), "Dead".to_string()][..])
    );
    std::fs::write(dir.join("bad.json"), r#"{"identifier": "Opp"}"#).unwrap();
    let err = LayoutSpec::from_file(&dir.join("bad.json")).unwrap_err();
    assert!(err.to_string().contains("unknown field `identifier`"));
    std::fs::remove_dir_all(&dir).unwrap();
}
