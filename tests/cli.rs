//! The command line, run as a user runs it: exit codes, stdout, and the
//! error text on stderr.

mod common;

use common::{revpipe, scenario_path, scratch, stderr, stdout};

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

fn valid() -> Value {
    json!({
        "name": "cli", "period_days": 30, "target": 50000, "trials": 2000, "seed": 3,
        "segments": [{
            "name": "inbound",
            "stages": [
                {"name": "lead", "to_next": {"dist": "beta", "alpha": 20, "beta": 80}},
                {"name": "proposal", "to_next": 0.5},
                {"name": "won"}
            ],
            "activity": {"dist": "poisson", "mean": 100},
            "deal_size": {"dist": "lognormal", "mean": 5000, "sd": 2000},
            "open_pipeline": [{"stage": "proposal", "amount": 7000, "age_days": 4}]
        }]
    })
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs `check` on a scenario and expects exit 2 with every `needle` in
/// the error.
fn refused(test: &str, scenario: &str, needles: &[&str]) {
    let dir = scratch(test);
    let file = write(&dir, "s.json", scenario);
    for command in ["check", "run"] {
        let out = revpipe(&[command, &file]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(err.contains("s.json"), "the file is named: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} missing from: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&out).is_empty(), "nothing on stdout after an error");
    }
}

fn refused_with(test: &str, pointer: &str, value: Value, needles: &[&str]) {
    let mut scenario = valid();
    *scenario.pointer_mut(pointer).unwrap() = value;
    refused(test, &scenario.to_string(), needles);
}

#[test]
fn every_bundled_scenario_checks_and_runs() {
    for name in [
        "one-segment-quarter.json",
        "ansoff-quarter.json",
        "pert-month.json",
    ] {
        let file = scenario_path(name);
        let out = revpipe(&["check", &file]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert!(stdout(&out).contains("ok"), "{}", stdout(&out));
        let out = revpipe(&["run", &file, "--trials", "2000"]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let text = stdout(&out);
        for needle in [
            "P(hit target)",
            "Commit",
            "Stretch",
            "P50",
            "Revenue distribution",
            "◀ ",
            "Activity needed",
        ] {
            assert!(
                text.contains(needle),
                "{name}: {needle:?} missing from:\n{text}"
            );
        }
    }
}

#[test]
fn json_output_has_the_documented_fields() {
    let file = scenario_path("ansoff-quarter.json");
    let out = revpipe(&["run", &file, "--json", "--trials", "3000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "p_hit",
        "p_hit_se",
        "revenue",
        "commit",
        "stretch",
        "levels",
        "segments",
        "trials",
        "seed",
        "activity_curve",
        "solve",
    ] {
        assert!(v.get(key).is_some(), "{key} missing");
    }
    for key in ["mean", "sd", "p5", "p10", "p25", "p50", "p75", "p90", "p95"] {
        assert!(v["revenue"][key].is_number(), "revenue.{key}");
    }
    let edges = v["revenue_histogram"]["bin_edges"].as_array().unwrap();
    let counts = v["revenue_histogram"]["counts"].as_array().unwrap();
    assert_eq!(edges.len(), counts.len() + 1);
    let total: u64 = counts.iter().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 3000, "every trial is in a bin");
    assert!(v.get("sensitivity").is_none(), "absent unless asked for");
    assert_eq!(v["commit"]["confidence"], json!(0.9));
    assert!(v["commit"]["revenue"].is_number());
    assert_eq!(v["trials"], json!(3000));
    let level = &v["levels"][0];
    assert!(level["confidence"].is_number());
    assert!(level["leads_needed"].is_number() || level["leads_needed"].is_null());
    let stages = &level["segments"][0]["stages"];
    assert!(
        stages[0]["per_rep_per_week"].is_number(),
        "capacity gives per rep per week"
    );
}

#[test]
fn the_same_seed_gives_byte_identical_json_on_any_thread_count() {
    let file = scenario_path("ansoff-quarter.json");
    let one = revpipe(&[
        "run",
        &file,
        "--json",
        "--trials",
        "20000",
        "--threads",
        "1",
    ]);
    let two = revpipe(&[
        "run",
        &file,
        "--json",
        "--trials",
        "20000",
        "--threads",
        "2",
    ]);
    assert!(one.status.success() && two.status.success());
    assert_eq!(one.stdout, two.stdout);
    let other = revpipe(&["run", &file, "--json", "--trials", "20000", "--seed", "99"]);
    assert_ne!(one.stdout, other.stdout);
}

#[test]
fn options_override_the_scenario() {
    let file = scenario_path("one-segment-quarter.json");
    let args = [
        "run",
        &file,
        "--json",
        "--trials",
        "1000",
        "--seed",
        "5",
        "--target",
        "1",
        "--confidence",
        "0.8",
        "--confidence",
        "0.6",
        "--stretch",
        "0.4",
    ];
    let out = revpipe(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], json!(5));
    assert_eq!(v["target"], json!(1.0));
    assert_eq!(v["p_hit"], json!(1.0));
    let levels: Vec<f64> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["confidence"].as_f64().unwrap())
        .collect();
    assert_eq!(levels, vec![0.8, 0.6]);
    assert_eq!(v["stretch"]["confidence"], json!(0.4));
}

#[test]
fn solve_for_names_a_segment() {
    let file = scenario_path("ansoff-quarter.json");
    let out = revpipe(&[
        "run",
        &file,
        "--json",
        "--trials",
        "2000",
        "--solve-for",
        "Analytics add-on",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["solve"]["mode"], json!("segment"));
    assert_eq!(v["solve"]["segment"], json!("Analytics add-on"));

    let out = revpipe(&["run", &file, "--solve-for", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--solve-for") && err.contains("\"Nope\"") && err.contains("Core accounts"),
        "{err}"
    );
}

#[test]
fn bad_options_exit_2_and_say_what_is_valid() {
    let file = scenario_path("pert-month.json");
    for (args, needle) in [
        (vec!["--trials", "0"], "--trials"),
        (vec!["--confidence", "1.2"], "--confidence"),
        (vec!["--target", "-5"], "--target"),
        (vec!["--threads", "0"], "--threads"),
    ] {
        let mut all = vec!["run", file.as_str()];
        all.extend(args);
        let out = revpipe(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
    }
}

#[test]
fn a_missing_file_is_named() {
    let out = revpipe(&["run", "/nonexistent/q1.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/q1.json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn malformed_json_is_refused_with_line_and_column() {
    refused(
        "malformed",
        "{\n  \"name\": \"x\",\n  \"period_days\": 30,\n}\n",
        &["line 4"],
    );
}

#[test]
fn unknown_fields_are_refused() {
    let mut s = valid();
    s["tragets"] = json!(5);
    refused("unknown-top", &s.to_string(), &["tragets", "unknown field"]);
    let mut s = valid();
    s["segments"][0]["deal_sise"] = json!(5);
    refused("unknown-seg", &s.to_string(), &["segments[0]", "deal_sise"]);
}

#[test]
fn missing_fields_are_refused() {
    let mut s = valid();
    s.as_object_mut().unwrap().remove("target");
    refused("missing-target", &s.to_string(), &["target"]);
    let mut s = valid();
    s["segments"][0]
        .as_object_mut()
        .unwrap()
        .remove("deal_size");
    refused(
        "missing-size",
        &s.to_string(),
        &["segments[0]", "deal_size"],
    );
}

#[test]
fn impossible_parameters_are_refused() {
    let size = "/segments/0/deal_size";
    refused_with(
        "neg-sd",
        size,
        json!({"dist": "lognormal", "mean": 5000, "sd": -1}),
        &["segments[0].deal_size", "-1"],
    );
    let rate = "/segments/0/stages/0/to_next";
    refused_with(
        "beta-ms",
        rate,
        json!({"dist": "beta", "mean": 0.5, "sd": 0.6}),
        &["segments[0].stages[0].to_next", "0.6"],
    );
    refused_with(
        "min-max",
        size,
        json!({"dist": "uniform", "min": 9000, "max": 1000}),
        &["segments[0].deal_size", "9000"],
    );
    refused_with(
        "rate-high",
        "/segments/0/stages/1/to_next",
        json!(1.3),
        &["segments[0].stages[1].to_next", "1.3", "[0, 1]"],
    );
    refused_with(
        "rate-neg",
        rate,
        json!(-0.1),
        &["segments[0].stages[0].to_next", "-0.1"],
    );
}

#[test]
fn an_open_deal_at_a_stage_the_funnel_lacks_is_refused() {
    let deal = json!([{"stage": "negotiation", "amount": 1, "age_days": 1}]);
    refused_with(
        "stage",
        "/segments/0/open_pipeline",
        deal,
        &[
            "open_pipeline[0].stage",
            "\"negotiation\"",
            "lead, proposal",
        ],
    );
}

#[test]
fn zero_trials_are_refused() {
    refused_with("zero", "/trials", json!(0), &["trials", "0"]);
}

#[test]
fn open_pipeline_can_come_from_a_csv_beside_the_scenario() {
    let dir = scratch("csv");
    write(
        &dir,
        "deals.csv",
        "id,stage,amount,age_days\nD-1,proposal,7000,4\nD-2,lead,3000,10\n",
    );
    let mut s = valid();
    let seg = s["segments"][0].as_object_mut().unwrap();
    seg.remove("open_pipeline");
    seg.insert("open_pipeline_csv".into(), json!("deals.csv"));
    let file = write(&dir, "s.json", &s.to_string());
    let out = revpipe(&["check", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("2 open deal(s)"), "{}", stdout(&out));

    write(
        &dir,
        "deals.csv",
        "id,stage,amount,age_days\nD-1,proposal,7k,4\n",
    );
    let out = revpipe(&["check", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("deals.csv") && err.contains("line 2") && err.contains("\"7k\""),
        "{err}"
    );
}

/// Inputs that cannot be simulated are refused up front (regressions from
/// adversarial testing: these used to abort or print NaN).
#[test]
fn volumes_and_amounts_beyond_what_can_be_simulated_are_refused() {
    refused_with(
        "huge-activity",
        "/segments/0/activity",
        json!(1e12),
        &["segments[0].activity", "below 10^8"],
    );
    refused_with(
        "huge-poisson",
        "/segments/0/activity",
        json!({"dist": "poisson", "mean": 1e18}),
        &["segments[0].activity"],
    );
    refused_with(
        "huge-amount",
        "/segments/0/open_pipeline/0/amount",
        json!(1e308),
        &["open_pipeline[0].amount", "10^15"],
    );
    refused_with(
        "huge-size",
        "/segments/0/deal_size",
        json!(1e39),
        &["segments[0].deal_size", "10^15"],
    );
    refused_with(
        "huge-trials",
        "/trials",
        json!(4_294_967_296u64),
        &["trials", "500000000"],
    );
    refused_with(
        "empty-name",
        "/segments/0/name",
        json!(" "),
        &["segments[0].name", "empty"],
    );
    let mut twice = valid();
    twice["confidence"] = json!([0.9, 0.9]);
    refused("twice", &twice.to_string(), &["confidence[1]", "twice"]);
    refused("nan", r#"{"name": "x", "target": NaN}"#, &["NaN"]);
}

#[test]
fn warnings_go_to_stderr_and_the_result_to_stdout() {
    let dir = scratch("warn");
    let mut s = valid();
    s["trials"] = json!(200);
    let file = write(&dir, "s.json", &s.to_string());
    let out = revpipe(&["run", &file]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("warning: 200 trials"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("warning"));
}

#[test]
fn a_segment_name_with_a_slash_can_be_correlated() {
    let mut s = valid();
    s["segments"][0]["name"] = json!("EMEA/DACH");
    s["segments"][0]["activity"] = json!({"dist": "gamma", "mean": 100, "sd": 20});
    s["dependence"] = json!({"rank_correlation": {
        "inputs": ["EMEA/DACH/activity", "EMEA/DACH/rate:lead"],
        "matrix": [[1, 0.3], [0.3, 1]]
    }});
    let dir = scratch("slash");
    let file = write(&dir, "s.json", &s.to_string());
    let out = revpipe(&["check", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn report_writes_one_html_file_beside_the_text_summary() {
    let dir = scratch("report");
    let report = dir.join("q1.html");
    let report_arg = report.to_string_lossy().into_owned();
    let file = scenario_path("ansoff-quarter.json");
    let out = revpipe(&["run", &file, "--trials", "2000", "--report", &report_arg]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("P(hit target)"),
        "the text still prints"
    );
    assert!(stderr(&out).contains("q1.html"), "{}", stderr(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(html.contains("Q1 2027, all four growth motions"));
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");

    // --quiet keeps stderr empty.
    let out = revpipe(&[
        "run",
        &file,
        "--trials",
        "2000",
        "--report",
        &report_arg,
        "-q",
    ]);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_report_in_a_missing_folder_is_refused_before_the_run() {
    let file = scenario_path("pert-month.json");
    let out = revpipe(&["run", &file, "--report", "/nonexistent/r.html"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--report") && err.contains("does not exist"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());

    let dir = scratch("report-folder");
    let out = revpipe(&["run", &file, "--report", &dir.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a folder"), "{}", stderr(&out));
}

#[test]
fn a_failed_run_leaves_the_last_report_alone() {
    let dir = scratch("report-kept");
    let report = write(&dir, "r.html", "the last good report");
    let file = scenario_path("pert-month.json");
    let out = revpipe(&["run", &file, "--trials", "0", "--report", &report]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "the last good report"
    );
}

/// Runs the binary on a terminal: script(1) gives it one, and copies what
/// it writes there to its own stdout. `None` where script is missing.
fn on_a_terminal(args: &[&str]) -> Option<String> {
    let command = std::iter::once(env!("CARGO_BIN_EXE_revpipe"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &format!("{command} > /dev/null"), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", stderr(&out));
    Some(stdout(&out))
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    // Over a million trials the bar shows at once; this one takes about a
    // second.
    let file = scenario_path("pert-month.json");
    let long = [
        "run",
        file.as_str(),
        "--trials",
        "1000001",
        "--threads",
        "2",
    ];
    let out = revpipe(&long);
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "no bar when stderr is a pipe");

    let Some(tty) = on_a_terminal(&long) else {
        eprintln!("skipped: script(1) is not installed, so no terminal to test on");
        return;
    };
    assert!(tty.contains("simulating"), "no bar on a terminal: {tty:?}");
    let mut quiet = long.to_vec();
    quiet.push("--quiet");
    let tty = on_a_terminal(&quiet).unwrap();
    assert!(
        !tty.contains("simulating"),
        "a bar despite --quiet: {tty:?}"
    );
}
