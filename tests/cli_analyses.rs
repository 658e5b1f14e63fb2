//! `revpipe run --sensitivity` and `revpipe compare`, run as a user runs
//! them: exit codes, stdout, and the error text on stderr.

mod common;

use common::{revpipe, scenario_path, stderr, stdout};

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

fn json_of(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON document")
}

/// Expects exit 2, nothing on stdout, and every needle on stderr.
fn refused(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(stdout(out).is_empty(), "nothing on stdout after an error");
    assert!(!err.contains("panicked"), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} missing from: {err}");
    }
}

#[test]
fn sensitivity_adds_a_sorted_table_to_the_text() {
    let file = scenario_path("ansoff-quarter.json");
    let out = revpipe(&["run", &file, "--trials", "2000", "--sensitivity"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "Sensitivity: each input held at its P10, then its P90 (2,000 trials a run",
        "held at P10 / P90",
        "Core accounts: lead -> qualified rate",
        "Logistics platform: open-pipeline slippage",
        "paired standard error",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // Without the flag, no table.
    let plain = revpipe(&["run", &file, "--trials", "2000"]);
    assert!(!stdout(&plain).contains("Sensitivity"));
}

#[test]
fn sensitivity_json_lists_every_input_sorted_by_swing() {
    let file = scenario_path("one-segment-quarter.json");
    let v = json_of(&revpipe(&[
        "run",
        &file,
        "--json",
        "--trials",
        "3000",
        "--sensitivity",
    ]));
    // Three rates, leads, deal size, cycle.
    let list = v["sensitivity"].as_array().expect("a sensitivity list");
    assert_eq!(list.len(), 6);
    for e in list {
        for key in [
            "input",
            "segment",
            "low_value",
            "high_value",
            "p_hit_low",
            "p_hit_high",
            "p50_low",
            "p50_high",
            "swing",
            "swing_se",
        ] {
            assert!(e[key].is_number() || e[key].is_string(), "{key}: {e}");
        }
        assert!(e["rank_correlation"].is_number() || e["rank_correlation"].is_null());
    }
    let swings: Vec<f64> = list.iter().map(|e| e["swing"].as_f64().unwrap()).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    // At most 20,000 trials a run by default: here the run's 3,000.
    assert_eq!(v["sensitivity_base"]["trials"], 3000);

    // Without the flag the fields are absent, not null.
    let plain = json_of(&revpipe(&["run", &file, "--json", "--trials", "500"]));
    assert!(plain.get("sensitivity").is_none());
    assert!(plain.get("sensitivity_base").is_none());
}

#[test]
fn sensitivity_trials_sets_each_runs_trials() {
    let file = scenario_path("pert-month.json");
    let v = json_of(&revpipe(&[
        "run",
        &file,
        "--json",
        "--trials",
        "3000",
        "--sensitivity",
        "--sensitivity-trials",
        "700",
    ]));
    assert_eq!(v["sensitivity_base"]["trials"], 700);
    assert_eq!(v["trials"], 3000);
}

#[test]
fn bad_sensitivity_options_are_refused() {
    let file = scenario_path("pert-month.json");
    let zero = revpipe(&["run", &file, "--sensitivity", "--sensitivity-trials", "0"]);
    refused(&zero, &["--sensitivity-trials", "0", "use 1 to"]);
    // The trial count alone means nothing without the analysis.
    let alone = revpipe(&["run", &file, "--sensitivity-trials", "500"]);
    refused(&alone, &["--sensitivity"]);
}

#[test]
fn compare_prints_the_scenarios_side_by_side_with_differences() {
    let a = scenario_path("ansoff-quarter.json");
    let b = scenario_path("ansoff-quarter-two-more-reps.json");
    let out = revpipe(&["compare", &a, &b, "--trials", "3000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "2 scenarios on common random numbers: seed 2027 and 3,000 trials",
        "A  Q1 2027, all four growth motions",
        "B  Q1 2027, two more reps in DACH and Nordics",
        "P(hit target)",
        "  vs A",
        "Commit (90%)",
        "Stretch (50%)",
        "Leads for 90%",
        "Mean revenue (EUR)",
        "carry no standard error",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn compare_json_is_one_document_with_scenarios_and_differences() {
    let a = scenario_path("ansoff-quarter.json");
    let b = scenario_path("ansoff-quarter-two-more-reps.json");
    let c = scenario_path("ansoff-quarter-half-dach-conversion.json");
    let args = [
        "compare", &a, &b, &c, "--json", "--trials", "2000", "--seed", "8",
    ];
    let v = json_of(&revpipe(&args));
    assert_eq!(v["seed"], 8);
    assert_eq!(v["trials"], 2000);
    let scenarios = v["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 3);
    for s in scenarios {
        assert_eq!(
            (s["seed"].as_u64(), s["trials"].as_u64()),
            (Some(8), Some(2000))
        );
        assert!(s["p_hit"].is_number() && s["commit"]["revenue"].is_number());
    }
    let differences = v["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 2);
    let d = &differences[0];
    assert_eq!(d["scenario"], 1);
    for key in ["difference", "se", "se_unpaired"] {
        assert!(d["p_hit"][key].is_number(), "p_hit.{key}");
        assert!(d["mean_revenue"][key].is_number(), "mean_revenue.{key}");
    }
    for key in ["p50", "commit", "stretch"] {
        assert!(d[key].is_number(), "{key}");
    }
    assert_eq!(d["leads_needed"].as_array().unwrap().len(), 3);
    // More reps help; half the conversion hurts.
    assert!(d["p_hit"]["difference"].as_f64().unwrap() > 0.0);
    let half = &differences[1]["p_hit"]["difference"];
    assert!(half.as_f64().unwrap() < 0.0);
    assert!(v["notes"].as_array().unwrap().is_empty());
}

#[test]
fn compare_names_the_file_with_bad_input() {
    let good = scenario_path("ansoff-quarter.json");
    let dir = std::env::temp_dir().join(format!("revpipe-cli-analyses-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad: PathBuf = dir.join("bad-second.json");
    let text = std::fs::read_to_string(&good).unwrap();
    let text = text.replace("\"target\": 2250000", "\"target\": -5");
    assert!(text.contains("-5"));
    std::fs::write(&bad, text).unwrap();
    let bad = bad.to_string_lossy().into_owned();

    let out = revpipe(&["compare", &good, &bad]);
    refused(&out, &["bad-second.json", "target", "-5"]);
    assert!(!stderr(&out).contains("ansoff-quarter.json"));

    let missing = dir.join("missing.json").to_string_lossy().into_owned();
    refused(&revpipe(&["compare", &missing, &good]), &["missing.json"]);
    refused(
        &revpipe(&["compare", &good, &good, "--trials", "0"]),
        &["--trials"],
    );
}

#[test]
fn compare_needs_two_scenarios() {
    let one = scenario_path("ansoff-quarter.json");
    refused(&revpipe(&["compare", &one]), &["SCENARIO"]);
}

#[test]
fn the_what_if_scenarios_check() {
    for name in [
        "ansoff-quarter-two-more-reps.json",
        "ansoff-quarter-half-dach-conversion.json",
    ] {
        let out = revpipe(&["check", &scenario_path(name)]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
}
