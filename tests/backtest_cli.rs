//! `revpipe backtest` through the binary: a run on a synthetic history
//! in both output forms, and refusals that exit 2 with the flag or file
//! named on stderr.

mod common;

use common::{revpipe, scratch, stderr, stdout};

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

// Two years of synthetic history (2019-2020), written to a file.
fn history(test: &str) -> PathBuf {
    let truth = support::Truth {
        days: 731,
        ..support::Truth::default()
    };
    let file = scratch(test).join("deals.csv");
    std::fs::write(&file, truth.csv()).unwrap();
    file
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn backtest(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["backtest", s(file)];
    args.extend(support::CLI_MAPPING);
    if !extra.contains(&"--trials") {
        args.extend(["--trials", "300"]);
    }
    args.extend(["--threads", "1"]);
    args.extend(extra);
    revpipe(&args)
}

#[test]
fn quarterly_backtest_as_json_and_as_a_table() {
    let file = history("ok");
    let range = [
        "--period",
        "quarter",
        "--from",
        "2019-07-01",
        "--target",
        "500000",
    ];
    let out = backtest(&file, &[&range[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let labels: Vec<&str> = json["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["2019-Q3", "2019-Q4", "2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]
    );
    assert_eq!(json["scores"]["periods"], 6);
    assert_eq!(json["periods"][0]["as_of"], "2019-06-30");
    assert_eq!(json["periods"][0]["target"], 500000.0);
    assert_eq!(json["periods"][0]["forecast"]["trials"], 300);
    // The quarter one year back exists only for the 2020 quarters.
    assert!(json["periods"][1]["baselines"]["cycle_back"].is_null());
    assert!(json["periods"][4]["baselines"]["cycle_back"].is_number());
    assert_eq!(json["baselines"][1]["periods"], 4);

    let out = backtest(&file, &range);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "quarterly, 2019-Q3 to 2020-Q4",
        "6 periods scored, 0 skipped",
        "the target is 500,000 in every period",
        "Calibration over 6 periods",
        "same quarter of last year: the data reaches back far enough for 4 of 6",
    ] {
        assert!(text.contains(want), "{want:?} not in\n{text}");
    }
}

#[test]
fn the_default_range_starts_after_the_first_close_and_uses_the_run_rate() {
    let file = history("defaults");
    let out = backtest(&file, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // The first close is in January 2019, so February is the first
    // period; the last whole month in the data is December 2020.
    let periods = json["periods"].as_array().unwrap();
    assert_eq!(periods[0]["period"], "2019-02");
    assert_eq!(periods.last().unwrap()["period"], "2020-12");
    assert_eq!(periods[1]["target_source"]["rule"], "run_rate");
    assert_eq!(periods[1]["target_source"]["periods"], 2);
}

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let file = history("bad");
    let missing = file.with_file_name("nope.csv");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--from", "2019-13-01"],
            "--from: \"2019-13-01\": expected a date YYYY-MM-DD",
        ),
        (
            vec!["--to", "June"],
            "--to: \"June\": expected a date YYYY-MM-DD",
        ),
        (
            vec!["--from", "2020-06-01", "--to", "2020-01-31"],
            "--from 2020-06-01 is after --to 2020-01-31",
        ),
        (
            vec!["--from", "2020-06-02", "--to", "2020-06-30"],
            "no whole month lies between 2020-06-02 and 2020-06-30",
        ),
        (
            vec!["--period", "week"],
            "--period: \"week\": expected month or quarter",
        ),
        (vec!["--trials", "0"], "trials = 0: a whole number >= 1"),
        (vec!["--target", "-5"], "target = -5: a number >= 0"),
        (
            vec!["--stale", "maybe"],
            "--stale: \"maybe\": expected lost, open",
        ),
    ];
    for (extra, want) in cases {
        let out = backtest(&file, &extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{extra:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{extra:?}");
    }

    let out = backtest(&missing, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.csv"), "{}", stderr(&out));

    // Without the column mapping the layout is unknown.
    let out = revpipe(&["backtest", s(&file)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown export layout"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_history_too_short_to_forecast_prints_why_and_exits_2() {
    // Three wins: too few to fit a deal size in any period.
    let dir = scratch("short");
    let file = dir.join("deals.csv");
    let rows = "id,stage,amount,created,closed\n\
                a,Won,100,2020-01-02,2020-01-20\n\
                b,Won,200,2020-01-05,2020-02-10\n\
                c,Lost,300,2020-01-07,2020-02-11\n\
                d,Won,300,2020-02-07,2020-03-11\n\
                e,Open,300,2020-03-07,\n\
                f,Lost,300,2020-03-08,2020-04-30\n";
    std::fs::write(&file, rows).unwrap();
    let out = backtest(&file, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("none of the 3 periods could be forecast"),
        "{}",
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("2020-02  skipped: fit as of 2020-01-31"),
        "{text}"
    );
    assert!(text.contains("at least 8"), "{text}");
}
