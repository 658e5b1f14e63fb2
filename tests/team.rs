//! Teams against values computed independently of the engine: capacity by
//! hand, expected capacity under attrition by numerical integration, the
//! binomial tails of a degraded rate, reps and hires needed by their
//! definitions, and the errors a bad team earns.
//!
//! Statistical checks run with a fixed seed and allow `Z` Monte Carlo
//! standard errors: a correct engine fails one with probability about 6e-5,
//! and with the seed fixed a run either always passes or always fails.

use std::path::Path;
use std::process::Command;

use revpipe::engine::{self, draw_parameters, Leads, Parameters, Settings};
use revpipe::model::Model;
use revpipe::scenario::{self, FieldError};
use revpipe::summary::{self, Summary};
use serde_json::{json, Value};
use statrs::function::factorial::ln_binomial;

/// Monte Carlo standard errors allowed.
const Z: f64 = 4.0;

/// A ramp month as the README defines it: a year of 365.25 days over 12.
const MONTH: f64 = 365.25 / 12.0;

fn validate(json: Value) -> Result<Model, FieldError> {
    let file: scenario::ScenarioFile = serde_json::from_value(json).unwrap();
    file.validate(Path::new("."))
}

fn model(json: Value) -> Model {
    validate(json).unwrap()
}

fn run(model: &Model) -> Summary {
    let settings = Settings::default();
    let trials = engine::run(model, &settings, None).unwrap();
    summary::summarize(model, &settings, trials)
}

/// One segment, lead -> won at `rate`, `leads` leads, deals of 1,000, over
/// `days`, worked by `team`.
fn one_segment(days: f64, rate: Value, leads: Value, target: f64, team: Value) -> Value {
    json!({
        "name": "team", "period_days": days, "target": target,
        "trials": 100_000, "seed": 17, "confidence": [0.9, 0.5],
        "segments": [{
            "name": "only",
            "stages": [{"name": "lead", "to_next": rate}, {"name": "won"}],
            "activity": leads, "deal_size": 1000, "team": team
        }]
    })
}

/// A team of one rep, fully ramped long ago, carrying `per_week` leads.
fn one_rep(per_week: f64) -> Value {
    json!({"reps": [{"start_day": -1000}], "leads_per_rep_week": per_week})
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`, `0 < p < 1`, by summing the pmf.
fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
    (k..=n)
        .map(|i| {
            let ln = ln_binomial(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln();
            ln.exp()
        })
        .sum()
}

fn assert_within(estimate: f64, exact: f64, trials: u64, what: &str) {
    let se = (exact * (1.0 - exact) / trials as f64).sqrt().max(1e-12);
    assert!(
        (estimate - exact).abs() <= Z * se,
        "{what}: estimate {estimate}, exact {exact}, {:.2} standard errors apart",
        (estimate - exact).abs() / se
    );
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn capacity_of_a_ramping_team_by_hand() {
    // 90 days, ramp 25%, 50%, 80%, then 100%, months of 30.4375 days.
    let team = json!({
        "reps": [{"name": "Ana", "start_day": -400}, {"start_day": -45}, {"start_day": 20}],
        "ramp": [0.25, 0.5, 0.8, 1.0],
        "leads_per_rep_week": 30
    });
    let m = model(one_segment(90.0, json!(0.2), json!(100), 1.0, team));
    // Ana: fully ramped since day -400 + 3 months; 90 days at 100%.
    // Day -45: month 2 runs to day 15.875, month 3 to day 46.3125.
    // Day 20: month 1 to day 50.4375, month 2 to 80.875, month 3 after.
    let days = 90.0
        + (0.5 * 15.875 + 0.8 * 30.4375 + 1.0 * 43.6875)
        + (0.25 * 30.4375 + 0.5 * 30.4375 + 0.8 * 9.125);
    assert_eq!(days, 196.103125);
    let capacity = 30.0 * days / 7.0;
    let team = m.segments[0].team.as_ref().unwrap();
    assert!(close(team.full_capacity(), capacity, 1e-12));
    assert!(close(team.expected_capacity(), capacity, 1e-12));

    // The summary's team block says the same, and the plan's load.
    let mut quick = m.clone();
    quick.trials = 200;
    let block = run(&quick).segments[0].team.clone().unwrap();
    assert_eq!(block.reps, 3);
    assert!(close(block.capacity, capacity, 1e-12));
    assert!(close(block.fte_weeks, days / 7.0, 1e-12));
    assert!(close(block.load.unwrap(), 100.0 / capacity, 1e-12));
    assert_eq!(block.overloaded_share, None);
}

/// `∫ ramp(t - s) exp(-λ (t - a)) dt` over `[a, L)`, `a = max(s, 0)`, by
/// the midpoint rule: independent of the engine's closed form.
fn integrate(start: f64, ramp: &[f64], per_day: f64, period: f64) -> f64 {
    let from = start.max(0.0);
    if from >= period {
        return 0.0;
    }
    let steps = 400_000;
    let h = (period - from) / f64::from(steps);
    (0..steps)
        .map(|i| {
            let t = from + (f64::from(i) + 0.5) * h;
            let month = (((t - start) / MONTH).floor() as usize).min(ramp.len() - 1);
            ramp[month] * (-per_day * (t - from)).exp() * h
        })
        .sum()
}

#[test]
fn expected_capacity_under_attrition_matches_integration_and_the_trials() {
    // A fast attrition (2 a year: 39% of reps leave in 90 days) so that
    // the trials vary a lot.
    let ramp = [0.2, 0.6, 0.9];
    let starts = [-300.0, -50.0, -10.0, 0.0, 35.0, 70.0];
    let reps: Vec<Value> = starts.iter().map(|s| json!({"start_day": s})).collect();
    let team = json!({
        "reps": reps, "ramp": ramp, "leads_per_rep_week": 10,
        "availability": 0.85, "attrition_per_year": 2.0
    });
    let mut scenario = one_segment(90.0, json!(0.2), json!(50), 1.0, team);
    scenario["segments"][0]["slippage"] = json!({"dist": "uniform", "min": 0.5, "max": 1});
    let m = model(scenario);
    let team = m.segments[0].team.as_ref().unwrap();

    // The closed form against numerical integration.
    let lambda = 2.0 / 365.25;
    let days: f64 = starts
        .iter()
        .map(|&s| integrate(s, &ramp, lambda, 90.0))
        .sum();
    let exact = 10.0 * 0.85 / 7.0 * days;
    assert!(
        close(team.expected_capacity(), exact, 1e-6),
        "closed form {} vs integrated {exact}",
        team.expected_capacity()
    );
    assert!(team.expected_capacity() < team.full_capacity());

    // The per-trial draws average to it, within Z standard errors.
    let n = 100_000u64;
    let mut out = Parameters::default();
    let draws: Vec<f64> = (0..n)
        .map(|trial| {
            draw_parameters(&m, 0, trial, &[], &mut out);
            out.capacity.unwrap()
        })
        .collect();
    let mean = draws.iter().sum::<f64>() / n as f64;
    let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    assert!(
        (mean - exact).abs() < Z * se,
        "mean capacity {mean} vs {exact} (se {se})"
    );
    // No draw exceeds the capacity of a team nobody leaves.
    assert!(draws.iter().all(|&c| c <= team.full_capacity() + 1e-9));

    // Replays are exact: the same trial draws the same parameters.
    let mut again = Parameters::default();
    draw_parameters(&m, 0, 7, &[], &mut out);
    draw_parameters(&m, 0, 7, &[], &mut again);
    assert_eq!(out, again);
}

#[test]
fn a_team_leaves_the_other_draws_of_a_trial_alone() {
    // Team draws come after every other parameter: rates, leads and
    // slippage are those of the same segment without a team.
    let rate = json!({"dist": "beta", "alpha": 3, "beta": 7});
    let leads = json!({"dist": "poisson", "mean": 30});
    let team = json!({
        "reps": [{"start_day": -100, "count": 3}], "leads_per_rep_week": 5,
        "attrition_per_year": 0.5
    });
    let mut plain = one_segment(90.0, rate, leads, 1.0, Value::Null);
    plain["segments"][0]["slippage"] = json!({"dist": "uniform", "min": 0.5, "max": 1});
    plain["segments"][0].as_object_mut().unwrap().remove("team");
    let mut refuse = plain.clone();
    refuse["segments"][0]["team"] = team.clone();
    let mut degrade = refuse.clone();
    degrade["segments"][0]["team"]["overload"] =
        json!({"mode": "degrade", "conversion_factor": 0.5});
    let (plain, refuse, degrade) = (model(plain), model(refuse), model(degrade));

    let (mut a, mut b, mut c) = Default::default();
    for trial in 0..200 {
        draw_parameters(&plain, 0, trial, &[], &mut a);
        draw_parameters(&refuse, 0, trial, &[], &mut b);
        draw_parameters(&degrade, 0, trial, &[], &mut c);
        let (a, b, c): (&Parameters, &Parameters, &Parameters) = (&a, &b, &c);
        assert_eq!(
            (&a.rates, a.leads, a.slippage),
            (&b.rates, b.leads, b.slippage)
        );
        assert_eq!((&a.rates, a.slippage), (&c.rates, c.slippage));
        assert_eq!(a.capacity, None);
        assert_eq!(b.capacity, c.capacity);
        // Degrade draws the Poisson count itself; refuse keeps thinning.
        assert_eq!(b.leads, Leads::Poisson(30.0));
        assert!(matches!(c.leads, Leads::Count(_)), "{:?}", c.leads);
    }
}

/// A degrading one-rep team carrying 40 leads in 70 days (4 a week).
fn degrading(threshold: f64, factor: f64) -> Value {
    let mut team = one_rep(4.0);
    team["overload"] = json!({
        "mode": "degrade", "threshold": threshold, "conversion_factor": factor
    });
    team
}

#[test]
fn degrade_gives_the_binomial_tail_of_the_blended_rate() {
    // 60 leads against T = 40: the rate becomes 0.3 (40 + 0.5 * 20) / 60 =
    // 0.25, so wins ~ Bin(60, 0.25) and 18 wins of 1,000 hit 18,000.
    let trials = 100_000;
    let m = model(one_segment(
        70.0,
        json!(0.3),
        json!(60),
        18_000.0,
        degrading(1.0, 0.5),
    ));
    let s = run(&m);
    let exact = binomial_tail(60, 0.25, 18);
    assert_within(s.p_hit, exact, trials, "P(Bin(60, 0.25) >= 18)");
    // Mean wins are the expectation given the leads and rates: exact.
    assert!((s.segments[0].expected_wins - 15.0).abs() < 1e-9);
    assert_eq!(
        s.segments[0].team.as_ref().unwrap().overloaded_share,
        Some(1.0)
    );

    // A threshold of 1.25 carries 50 leads at full rate: 0.3 * 55 / 60.
    let m = model(one_segment(
        70.0,
        json!(0.3),
        json!(60),
        18_000.0,
        degrading(1.25, 0.5),
    ));
    let exact = binomial_tail(60, 0.275, 18);
    assert_within(run(&m).p_hit, exact, trials, "P(Bin(60, 0.275) >= 18)");

    // A factor of 1 keeps the rate, though the team is past its threshold.
    let m = model(one_segment(
        70.0,
        json!(0.3),
        json!(60),
        18_000.0,
        degrading(1.0, 1.0),
    ));
    let s = run(&m);
    let exact = binomial_tail(60, 0.3, 18);
    assert_within(s.p_hit, exact, trials, "P(Bin(60, 0.3) >= 18)");
    assert_eq!(
        s.segments[0].team.as_ref().unwrap().overloaded_share,
        Some(1.0)
    );

    // Within capacity nothing changes: Bin(40, 0.3).
    let m = model(one_segment(
        70.0,
        json!(0.3),
        json!(40),
        14_000.0,
        degrading(1.0, 0.5),
    ));
    let s = run(&m);
    let exact = binomial_tail(40, 0.3, 14);
    assert_within(s.p_hit, exact, trials, "P(Bin(40, 0.3) >= 14)");
    assert_eq!(
        s.segments[0].team.as_ref().unwrap().overloaded_share,
        Some(0.0)
    );
}

#[test]
fn degrade_with_poisson_leads_mixes_the_blended_binomials() {
    // Poisson(50) leads: P(hit) = sum over n of P(N = n) P(Bin(n, r_n) >=
    // 14), with r_n = 0.3 below 40 leads and 0.3 (40 + 0.5 (n - 40)) / n
    // above. Thinning to Poisson wins would ignore the overload.
    let trials = 100_000;
    let leads = json!({"dist": "poisson", "mean": 50});
    let m = model(one_segment(
        70.0,
        json!(0.3),
        leads,
        14_000.0,
        degrading(1.0, 0.5),
    ));
    let s = run(&m);
    let exact: f64 = (14..250u64)
        .map(|n| {
            let ln_pmf =
                n as f64 * 50f64.ln() - 50.0 - statrs::function::gamma::ln_gamma(n as f64 + 1.0);
            let nf = n as f64;
            let rate = if nf <= 40.0 {
                0.3
            } else {
                0.3 * (40.0 + 0.5 * (nf - 40.0)) / nf
            };
            ln_pmf.exp() * binomial_tail(n, rate, 14)
        })
        .sum();
    assert_within(
        s.p_hit,
        exact,
        trials,
        "Poisson mixture of blended binomials",
    );
}

#[test]
fn the_reverse_solve_assumes_a_team_that_carries_the_leads() {
    // With fixed sizes the walk is the same with or without an
    // overloaded team: leads needed do not see the overload.
    let overloaded = one_segment(70.0, json!(0.3), json!(60), 18_000.0, degrading(1.0, 0.2));
    let mut plain = overloaded.clone();
    plain["segments"][0].as_object_mut().unwrap().remove("team");
    let (a, b) = (run(&model(overloaded)), run(&model(plain)));
    assert!(a.p_hit < b.p_hit);
    for (x, y) in a.levels.iter().zip(&b.levels) {
        assert_eq!(x.leads_needed, y.leads_needed);
    }
    // ... and says so.
    assert!(
        a.warnings.iter().any(|w| w.contains("sized to carry")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn reps_needed_is_leads_needed_over_one_reps_capacity() {
    // Two segments in the planned mix; the first has a team at 80%
    // availability carrying 7 leads a rep-week over 70 days, ramp 50% then
    // 100%. One fully ramped rep carries 7 * 0.8 * 10 = 56 leads.
    let team = json!({
        "reps": [{"start_day": -1000}], "ramp": [0.5, 1.0],
        "leads_per_rep_week": 7, "availability": 0.8
    });
    let mut scenario = one_segment(70.0, json!(0.2), json!(50), 120_000.0, team);
    scenario["trials"] = json!(20_000);
    let mut other = scenario["segments"][0].clone();
    other["name"] = json!("other");
    other["activity"] = json!(140);
    other.as_object_mut().unwrap().remove("team");
    scenario["segments"].as_array_mut().unwrap().push(other);
    let s = run(&model(scenario));

    // A hire on day -90 or -60 is fully ramped by day 0; on day -30 the
    // first month runs to day 0.4375; on day 0 to day 30.4375.
    let per_day = 7.0 * 0.8 / 7.0;
    let hire_capacity = [
        (-90.0, 70.0),
        (-60.0, 70.0),
        (-30.0, 0.5 * 0.4375 + (70.0 - 0.4375)),
        (0.0, 0.5 * MONTH + (70.0 - MONTH)),
    ];
    for level in &s.levels {
        let leads = level.leads_needed.expect("reachable") as f64 * 50.0 / 190.0;
        let seg = &level.segments[0];
        assert!((seg.stages[0].volume - leads).abs() < 1e-9);
        let reps = seg.reps_needed.unwrap();
        assert!(
            close(reps, leads / 56.0, 1e-12),
            "{reps} vs {}",
            leads / 56.0
        );
        let hires = seg.hires_needed.as_ref().unwrap();
        assert_eq!(hires.len(), 4);
        for (hire, (day, days)) in hires.iter().zip(hire_capacity) {
            assert_eq!(hire.hire_day, day);
            let gap = leads - 56.0;
            let want = if gap <= 0.0 {
                0
            } else {
                (gap / (per_day * days) - 1e-9).ceil() as u64
            };
            assert_eq!(hire.hires, Some(want), "day {day}: gap {gap}");
        }
        // The segment without a team has neither.
        assert!(level.segments[1].reps_needed.is_none());
        assert!(level.segments[1].hires_needed.is_none());
    }
}

fn field_error(team: Value) -> FieldError {
    let mut scenario = one_segment(90.0, json!(0.2), json!(10), 1.0, one_rep(5.0));
    for (k, v) in team.as_object().unwrap() {
        scenario["segments"][0]["team"][k] = v.clone();
    }
    validate(scenario).unwrap_err()
}

#[test]
fn bad_team_fields_are_refused_with_path_value_and_what_is_valid() {
    let at = "segments[0].team";
    let cases = [
        (
            json!({"leads_per_rep_week": -3}),
            format!("{at}.leads_per_rep_week"),
            ["-3", "greater than 0"],
        ),
        (
            json!({"ramp": [0.5, 1.5]}),
            format!("{at}.ramp[1]"),
            ["1.5", "[0, 1]"],
        ),
        (
            json!({"ramp": []}),
            format!("{at}.ramp"),
            ["empty", "[0.25"],
        ),
        (
            json!({"reps": []}),
            format!("{at}.reps"),
            ["empty", "start_day"],
        ),
        (
            json!({"reps": [{"start_day": 0, "count": 0}]}),
            format!("{at}.reps[0].count"),
            ["0 reps", "1 or more"],
        ),
        (
            json!({"overload": {"mode": "throttle"}}),
            format!("{at}.overload.mode"),
            ["\"throttle\"", "\"refuse\", \"degrade\""],
        ),
        (
            json!({"overload": {"mode": "degrade", "conversion_factor": 2}}),
            format!("{at}.overload.conversion_factor"),
            ["2", "[0, 1]"],
        ),
        (
            json!({"overload": {"mode": "degrade"}}),
            format!("{at}.overload.conversion_factor"),
            ["missing", "[0, 1]"],
        ),
        (
            json!({"overload": {"mode": "refuse", "threshold": 1.2}}),
            format!("{at}.overload.threshold"),
            ["only to mode \"degrade\"", "remove it"],
        ),
        (
            json!({"overload": {"mode": "degrade", "threshold": 0, "conversion_factor": 0.5}}),
            format!("{at}.overload.threshold"),
            ["0", "greater than 0"],
        ),
        (
            json!({"availability": 0}),
            format!("{at}.availability"),
            ["0", "(0, 1]"],
        ),
        (
            json!({"attrition_per_year": -0.1}),
            format!("{at}.attrition_per_year"),
            ["-0.1", "0 or more"],
        ),
    ];
    for (team, path, needles) in cases {
        let e = field_error(team.clone());
        assert_eq!(e.path, path, "{team}: {e}");
        for needle in needles {
            assert!(
                e.message.contains(needle),
                "{team}: {needle:?} missing: {e}"
            );
        }
    }

    // A team replaces the simple capacity; both at once is ambiguous.
    let mut scenario = one_segment(90.0, json!(0.2), json!(10), 1.0, one_rep(5.0));
    scenario["segments"][0]["capacity"] = json!({"reps": 3});
    let e = validate(scenario).unwrap_err();
    assert_eq!(e.path, at);
    assert!(e.message.contains("remove capacity"), "{e}");
}

fn revpipe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_revpipe"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn a_plan_the_team_cannot_carry_is_refused_through_the_cli() {
    // One rep carrying 4 leads a week for 10 weeks: 40 leads, against a
    // plan of 60. One more fully ramped rep (40 leads) would carry it.
    let scenario = one_segment(70.0, json!(0.3), json!(60), 18_000.0, one_rep(4.0));
    let dir = std::env::temp_dir().join(format!("revpipe-team-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("refuse.json");
    std::fs::write(&file, scenario.to_string()).unwrap();
    let file = file.to_string_lossy().into_owned();
    for command in ["check", "run"] {
        let out = revpipe(&[command, &file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(out.stdout.is_empty());
        for needle in [
            "refuse.json",
            "segments[0].activity",
            "segment \"only\"",
            "plans 60.0 leads",
            "carry: 40.0 leads",
            "plan at most 40 leads",
            "add 1 fully ramped rep",
            "degrade",
        ] {
            assert!(err.contains(needle), "{needle:?} missing from: {err}");
        }
    }
}

#[test]
fn the_worked_example_checks_and_runs() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/ansoff-quarter-team.json"
    );
    let out = revpipe(&["check", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = revpipe(&["run", file, "--json", "--trials", "3000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let team = &v["segments"][0]["team"];
    for key in ["reps", "fte_weeks", "capacity", "load", "rep_capacity"] {
        assert!(team[key].is_number(), "segments[0].team.{key}: {team}");
    }
    assert_eq!(team["overload"]["mode"], json!("degrade"));
    assert!(v["segments"][1]["team"].is_null());
    let seg = &v["levels"][0]["segments"][0];
    assert!(seg["reps_needed"].is_number(), "{seg}");
    let hires = seg["hires_needed"].as_array().unwrap();
    assert_eq!(hires[0]["hire_day"], json!(-90.0));
    assert!(hires[0]["hires"].is_number());
    assert!(v["levels"][0]["segments"][1]["reps_needed"].is_null());

    let out = revpipe(&["run", file, "--trials", "3000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["FTE-weeks", "fully ramped reps", "or hire", "no overload"] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}
