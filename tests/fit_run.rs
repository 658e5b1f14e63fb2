//! Fit, then run: a fitted scenario goes through the same parsing,
//! validation, engine and summary as a hand-written one, and what the
//! model holds still matches the data. Numbers from the data were computed
//! independently in Python (see tests/fit_data.rs); the tests skip with a
//! message when ../shared/data is absent.

mod common;

use common::data;

use revpipe::fit::{self, FitOptions, LoadOptions, SizeChoice};
use revpipe::{engine, scenario, summary};
use std::path::Path;

fn run(fitted: &fit::Fit, trials: u64) -> (revpipe::model::Model, summary::Summary) {
    let mut model = scenario::parse_str(&fitted.scenario_text())
        .unwrap()
        .validate(Path::new("."))
        .unwrap();
    model.trials = trials;
    let settings = engine::Settings {
        threads: Some(2),
        ..engine::Settings::default()
    };
    let trials = engine::run(&model, &settings, None).unwrap();
    let result = summary::summarize(&model, &settings, trials);
    (model, result)
}

#[test]
fn maven_fit_then_run() {
    let Some(file) = data("maven-crm-sales-opportunities/sales_pipeline.csv") else {
        return;
    };
    let deals = fit::load_deals(&file, &LoadOptions::default()).unwrap();
    let opts = FitOptions {
        target: 2_000_000.0,
        period_days: 90,
        deal_size: SizeChoice::Empirical,
        ..FitOptions::default()
    };
    let fitted = fit::fit(&deals, None, None, &opts).unwrap();
    let (model, result) = run(&fitted, 2000);
    let seg = &model.segments[0];
    // Win rate: Engaging -> Won is Beta(4,239, 3,765) (stale deals lost),
    // mean 0.52961; Prospecting -> Engaging is Beta(8,301, 1).
    let expected = 4239.0 / 8004.0 * 8301.0 / 8302.0;
    assert!(
        (seg.mean_win_rate() - expected).abs() < 1e-9,
        "{}",
        seg.mean_win_rate()
    );
    assert!((result.segments[0].win_rate - expected).abs() < 1e-9);
    // Median won close_value 1,117 (resampled sizes: the median of the
    // 4,238 values, whichever quantile definition dist uses).
    let median = seg.deal_size.quantile(0.5);
    assert!((1100.0..=1130.0).contains(&median), "{median}");
    // 2,089 open - 1,291 stale = 798 open deals.
    assert_eq!(
        (model.open_deals(), result.segments[0].open_deals),
        (798, 798)
    );
    assert!(result.p_hit > 0.0 && result.p_hit < 1.0, "{}", result.p_hit);
}

#[test]
fn salesforce_fit_then_run() {
    let (Some(export), Some(history)) = (
        data("preppin-salesforce-opportunity-history/Opportunity.csv"),
        data("preppin-salesforce-opportunity-history/Opportunity_History.csv"),
    ) else {
        return;
    };
    let lo = LoadOptions::default();
    let deals = fit::load_deals(&export, &lo).unwrap();
    let history = fit::load_history(&history, &lo).unwrap();
    let opts = FitOptions {
        target: 5_000_000.0,
        period_days: 90,
        ..FitOptions::default()
    };
    let fitted = fit::fit(&deals, Some(&history), None, &opts).unwrap();
    let (model, result) = run(&fitted, 2000);
    // Product of the four stages' Beta(1, 1) posterior means, from the
    // Python stage counts: 0.547667226688724.
    assert!((model.segments[0].mean_win_rate() - 0.547667226688724).abs() < 1e-12);
    assert_eq!(model.segments[0].stages.len(), 5);
    assert_eq!(model.open_deals(), 48);
    // The fitted gamma's median is near the data's median won Amount
    // (394,430): within 10 %.
    let median = model.segments[0].deal_size.quantile(0.5);
    assert!((median / 394_430.0 - 1.0).abs() < 0.1, "{median}");
    assert!(result.p_hit > 0.0, "{}", result.p_hit);
}

/// A failed `fit` leaves every existing file as it was (regression: the
/// scenario used to be replaced, then deleted, when the report could not
/// be written).
#[test]
fn a_failed_report_write_keeps_the_old_scenario() {
    let Some(file) = data("maven-crm-sales-opportunities/sales_pipeline.csv") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("revpipe-fit-keep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keep = dir.join("keep.json");
    std::fs::write(&keep, "GOOD").unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit".to_string(), file.display().to_string()];
        args.extend(
            [
                "--target",
                "3000000",
                "--period-days",
                "90",
                "--force",
                "-o",
            ]
            .map(String::from),
        );
        args.push(keep.display().to_string());
        args.extend(extra.iter().map(|s| s.to_string()));
        std::process::Command::new(env!("CARGO_BIN_EXE_revpipe"))
            .args(&args)
            .output()
            .unwrap()
    };
    let missing = dir.join("no-such-dir/r.json");
    let out = fit(&["--report-json", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "GOOD");

    let out = fit(&["--report-json", keep.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("both the scenario and the report"));
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "GOOD");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary files left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
