//! `fit` on the real exports in `../shared/data/`. Expected numbers were
//! computed independently with a short Python script (csv, datetime and
//! statistics modules) over the same files, following the rules in
//! docs/fit.md (stale age = longest closed cycle; a stage is passed up to
//! the furthest one reached). Where the data folder is absent the tests
//! say so and pass.

mod common;

use common::data;

use revpipe::dist::{Dist, Domain};
use revpipe::fit::{self, FitOptions, LoadOptions, StaleRule};
use serde_json::Value;

// Every distribution the fit wrote parses as what it feeds.
fn assert_dists_parse(scenario: &Value) {
    for (i, seg) in scenario["segments"].as_array().unwrap().iter().enumerate() {
        let at = |f: &str| format!("segments[{i}].{f}");
        let stages = seg["stages"].as_array().unwrap();
        for (j, st) in stages[..stages.len() - 1].iter().enumerate() {
            let path = at(&format!("stages[{j}].to_next"));
            Dist::parse(&st["to_next"], &path, Domain::Rate).unwrap();
        }
        Dist::parse(&seg["activity"], &at("activity"), Domain::Count).unwrap();
        Dist::parse(&seg["deal_size"], &at("deal_size"), Domain::Money).unwrap();
        if let Some(c) = seg.get("cycle_days") {
            Dist::parse(c, &at("cycle_days"), Domain::Days).unwrap();
        }
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn opts(stale: StaleRule) -> FitOptions {
    FitOptions {
        target: 3_000_000.0,
        period_days: 90,
        stale,
        ..FitOptions::default()
    }
}

#[test]
fn maven_sales_pipeline() {
    let Some(file) = data("maven-crm-sales-opportunities/sales_pipeline.csv") else {
        return;
    };
    let deals = fit::load_deals(&file, &LoadOptions::default()).unwrap();
    assert_eq!(
        (deals.layout.name.as_str(), deals.source.rows_used()),
        ("maven", 8800)
    );

    // Python: 4,238 won, 2,473 lost, 2,089 open; the longest closed cycle
    // is 138 days and 1,291 Engaging deals are older than that on
    // 2017-12-31.
    let fitted = fit::fit(&deals, None, None, &opts(StaleRule::Lost)).unwrap();
    assert_dists_parse(&fitted.scenario);
    let r = &fitted.report;
    assert_eq!(r.as_of.to_string(), "2017-12-31");
    assert_eq!(
        (r.deals.won, r.deals.lost, r.deals.open),
        (4238, 2473, 2089)
    );
    assert_eq!((r.deals.stale, r.deals.stale_after_days), (1291, Some(138)));
    let seg = &r.segments[0];
    // Stale deals counted lost: 4,238 / (4,238 + 2,473 + 1,291).
    assert!(close(seg.closed_win_rate.unwrap(), 4238.0 / 8002.0));
    assert!((seg.rates[1].mean - 0.5296101949).abs() < 1e-9);
    // Median won close_value: 1,117.
    assert_eq!(seg.deal_size.median, 1117.0);
    // The fitted cycle's median (about 37 days) is far from the data's
    // Kaplan-Meier median (61): the report says so.
    assert!(
        seg.warnings
            .iter()
            .any(|w| w.contains("cycle time fits poorly")),
        "{:?}",
        seg.warnings
    );
    // Open pipeline: 2,089 - 1,291 stale = 798 (500 Prospecting, 298
    // Engaging), none with an amount.
    let open = fitted.scenario["segments"][0]["open_pipeline"]
        .as_array()
        .unwrap();
    assert_eq!(open.len(), 798);
    assert_eq!(seg.open.imputed, 798);

    // Keeping stale deals open gives the plain closed-deal win rate
    // 63.15 % (4,238 / 6,711) and all 2,089 open deals.
    let fitted = fit::fit(&deals, None, None, &opts(StaleRule::Open)).unwrap();
    let seg = &fitted.report.segments[0];
    assert!(close(seg.closed_win_rate.unwrap(), 4238.0 / 6711.0));
    assert_eq!(seg.open.count, 2089);

    // Decay keeps them open too, and writes the slip rule that makes
    // them decay towards lost past 138 days.
    let fitted = fit::fit(&deals, None, None, &opts(StaleRule::Decay)).unwrap();
    assert_eq!(fitted.report.segments[0].open.count, 2089);
    let slip = &fitted.scenario["segments"][0]["slip"];
    assert_eq!(slip["stale_after_days"], serde_json::json!(138));
    assert_eq!(slip["stale_half_life_days"], serde_json::json!(30));
    let model = revpipe::scenario::parse_str(&fitted.scenario.to_string())
        .unwrap()
        .validate(std::path::Path::new("."))
        .unwrap();
    let decayed = model.segments[0]
        .open_in_period
        .iter()
        .filter(|q| **q < 1.0)
        .count();
    assert!(decayed >= 1291, "{decayed} open deals decay");
}

#[test]
fn salesforce_export_with_history() {
    let (Some(export), Some(history)) = (
        data("preppin-salesforce-opportunity-history/Opportunity.csv"),
        data("preppin-salesforce-opportunity-history/Opportunity_History.csv"),
    ) else {
        return;
    };
    let lo = LoadOptions::default();
    let deals = fit::load_deals(&export, &lo).unwrap();
    let history = fit::load_history(&history, &lo).unwrap();
    assert_eq!(deals.layout.name, "salesforce");
    assert_eq!(
        (deals.source.rows_used(), history.source.rows_used()),
        (219, 584)
    );

    // Python: latest date 2022-12-24; 89 won, 57 lost, 73 open; longest
    // closed cycle 287 days; 25 open deals older than that. Stage counts
    // (advanced, failed, open) with stale deals lost at their furthest
    // stage:
    let fitted = fit::fit(&deals, Some(&history), None, &opts(StaleRule::Lost)).unwrap();
    assert_dists_parse(&fitted.scenario);
    let r = &fitted.report;
    assert_eq!(r.as_of.to_string(), "2022-12-24");
    assert_eq!(
        (r.deals.won, r.deals.lost, r.deals.open, r.deals.stale),
        (89, 57, 73, 25)
    );
    let seg = &r.segments[0];
    let counts: Vec<(&str, u64, u64, u64)> = seg
        .stages
        .iter()
        .map(|c| (c.stage.as_str(), c.advanced, c.failed, c.censored))
        .collect();
    assert_eq!(
        counts,
        [
            ("Prospecting", 177, 34, 8),
            ("Qualification", 159, 7, 11),
            ("Value Proposition", 128, 18, 13),
            ("Negotiation/Review", 89, 23, 16)
        ]
    );
    // Product of the Beta(1, 1) posterior means: 0.547667226688724.
    assert!((seg.fitted_win_rate - 0.547667226688724).abs() < 1e-12);
    // Median won Amount (88 of 89 have one): 394,430.
    assert_eq!((seg.deal_size.n, seg.deal_size.median), (88, 394_430.0));
    assert_eq!(
        fitted.scenario["segments"][0]["open_pipeline"]
            .as_array()
            .unwrap()
            .len(),
        48
    );

    // Stale deals kept open: closed win rate 89 / 146 = 60.96 %, fitted
    // 0.6532514279739945, 73 open deals.
    let fitted = fit::fit(&deals, Some(&history), None, &opts(StaleRule::Open)).unwrap();
    let seg = &fitted.report.segments[0];
    assert!(close(seg.closed_win_rate.unwrap(), 89.0 / 146.0));
    assert!((seg.fitted_win_rate - 0.6532514279739945).abs() < 1e-12);
    assert_eq!(seg.open.count, 73);
}

#[test]
fn olist_leads_arrival_rate() {
    let Some(file) = data("olist-marketing-funnel/olist_marketing_qualified_leads_dataset.csv")
    else {
        return;
    };
    let leads = fit::load_leads(&file, &LoadOptions::default()).unwrap();
    assert_eq!(
        (leads.source.layout.as_str(), leads.leads.len()),
        ("olist leads", 8000)
    );
    // Leads per 30-day period, oldest first, in the whole periods that
    // end on the last lead date.
    let dates: Vec<fit::Date> = leads.leads.iter().map(|l| l.date).collect();
    let first = *dates.iter().min().unwrap();
    let as_of = *dates.iter().max().unwrap();
    let a = fit::activity::arrivals(&dates, first, as_of, 30);
    assert_eq!(a.counts, OLIST_COUNTS);
    assert!(
        a.dispersion.unwrap() > 100.0,
        "lead arrivals grew over the year"
    );
}

// Python: first lead 2017-06-14, last 2018-05-31, 11 whole periods
// from 2017-07-06.
const OLIST_COUNTS: [usize; 11] = [283, 345, 326, 412, 433, 193, 1132, 1101, 1120, 1358, 1278];
