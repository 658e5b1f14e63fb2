//! The engine against values computed independently of it.
//!
//! Each check runs a scenario whose answer is known exactly (a binomial or
//! beta-binomial tail, a negative-binomial quantile, an enumeration), with a
//! fixed seed, and allows a stated number of Monte Carlo standard errors.
//! With 4 standard errors a correct engine fails a given check with
//! probability about 6e-5; the seeds are fixed, so a run either always
//! passes or always fails.

use std::path::Path;

use revpipe::engine::{self, Hold, Settings, Solve};
use revpipe::model::Input;
use revpipe::model::Model;
use revpipe::scenario;
use revpipe::summary::{self, Summary};
use serde_json::{json, Value};
use statrs::function::beta::ln_beta;
use statrs::function::factorial::ln_binomial;

/// Monte Carlo standard errors allowed.
const Z: f64 = 4.0;

fn model(json: Value) -> Model {
    let file: scenario::ScenarioFile = serde_json::from_value(json).unwrap();
    file.validate(Path::new(".")).unwrap()
}

fn run_with(model: &Model, settings: &Settings) -> Summary {
    let trials = engine::run(model, settings, None).unwrap();
    summary::summarize(model, settings, trials)
}

fn run(model: &Model) -> Summary {
    run_with(model, &Settings::default())
}

/// A one-segment scenario: lead -> won at `rate`, `leads` leads, deals of
/// `size`.
fn one_segment(rate: Value, leads: Value, size: f64, target: f64, trials: u64) -> Value {
    json!({
        "name": "exact", "period_days": 90, "target": target,
        "trials": trials, "seed": 11, "confidence": [0.9, 0.5],
        "segments": [{
            "name": "only",
            "stages": [{"name": "lead", "to_next": rate}, {"name": "won"}],
            "activity": leads, "deal_size": size
        }]
    })
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`, by summing the pmf.
fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
    (k..=n)
        .map(|i| {
            let ln = ln_binomial(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln();
            ln.exp()
        })
        .sum()
}

/// `P(X >= k)` for `X ~ BetaBinomial(n, a, b)`.
fn beta_binomial_tail(n: u64, a: f64, b: f64, k: u64) -> f64 {
    (k..=n)
        .map(|i| {
            let ln = ln_binomial(n, i) + ln_beta(i as f64 + a, (n - i) as f64 + b) - ln_beta(a, b);
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

#[test]
fn binomial_tail_with_fixed_rate_leads_and_size() {
    // 60 leads at 30%, deals of 1,000, target 20,000: hit iff 20+ wins.
    let trials = 100_000;
    let m = model(one_segment(json!(0.3), json!(60), 1000.0, 20_000.0, trials));
    let exact = binomial_tail(60, 0.3, 20);
    assert_within(run(&m).p_hit, exact, trials, "P(Bin(60, 0.3) >= 20)");
}

#[test]
fn beta_binomial_tail_with_an_uncertain_rate() {
    // The rate is drawn once per trial from Beta(6, 14) (mean 0.3): the
    // wins are beta-binomial, with a far wider spread than the binomial.
    let trials = 100_000;
    let rate = json!({"dist": "beta", "alpha": 6, "beta": 14});
    let m = model(one_segment(rate, json!(60), 1000.0, 24_000.0, trials));
    let exact = beta_binomial_tail(60, 6.0, 14.0, 24);
    assert_within(run(&m).p_hit, exact, trials, "P(BetaBin(60, 6, 14) >= 24)");
}

#[test]
fn poisson_leads_thin_to_poisson_wins() {
    // Poisson(200) leads at a fixed 10%: wins are Poisson(20), so with
    // deals of 1,000 a target of 25,000 hits with P(Poisson(20) >= 25).
    let trials = 100_000;
    let leads = json!({"dist": "poisson", "mean": 200});
    let m = model(one_segment(json!(0.1), leads, 1000.0, 25_000.0, trials));
    let s = run(&m);
    let mut pmf = (-20f64).exp();
    let mut below = 0.0;
    for k in 0..25 {
        below += pmf;
        pmf *= 20.0 / f64::from(k + 1);
    }
    assert_within(s.p_hit, 1.0 - below, trials, "P(Poisson(20) >= 25)");
    // Mean stage volumes are the expectations: 200 leads, 20 wins.
    assert_eq!(s.segments[0].stage_volumes[0].volume, 200.0);
    assert!((s.segments[0].expected_wins - 20.0).abs() < 1e-9);
}

#[test]
fn observed_counts_give_the_beta_posterior() {
    // 30 of 100 advanced, uniform prior: Beta(31, 71).
    let trials = 100_000;
    let rate = json!({"dist": "observed", "advanced": 30, "entered": 100});
    let m = model(one_segment(rate, json!(50), 1.0, 20.0, trials));
    let exact = beta_binomial_tail(50, 31.0, 71.0, 20);
    assert_within(run(&m).p_hit, exact, trials, "P(BetaBin(50, 31, 71) >= 20)");
}

#[test]
fn leads_needed_is_the_negative_binomial_quantile() {
    // Target = 12 wins of 1,000 at a fixed 20%: a trial's smallest lead
    // count is the position of its 12th win, so P(n* <= n) = P(Bin(n, 0.2)
    // >= 12), and the leads needed at c is that distribution's c-quantile.
    let trials = 200_000;
    let m = model(one_segment(json!(0.2), json!(50), 1000.0, 12_000.0, trials));
    let s = run(&m);
    let cdf = |n: u64| binomial_tail(n, 0.2, 12);
    let quantile = |c: f64| (12..).find(|&n| cdf(n) >= c).unwrap();
    for level in &s.levels {
        let c = level.confidence;
        let se = (c * (1.0 - c) / trials as f64).sqrt();
        let lo = quantile(c - Z * se);
        let hi = quantile(c + Z * se);
        let got = level.leads_needed.unwrap();
        assert!(
            (lo..=hi).contains(&got),
            "confidence {c}: {got} leads, exact quantile {} (allowed {lo}..={hi})",
            quantile(c)
        );
    }
    // The curve is the same distribution function at its lead counts.
    for point in &s.activity_curve {
        assert_within(point.p_hit, cdf(point.leads), trials, "P(n* <= n)");
    }
}

#[test]
fn a_fixed_cycle_shorter_than_the_period_counts_that_share_of_wins() {
    // Cycle 30 days in a 90-day period: a win counts with probability
    // 60/90, so counted wins ~ Bin(90, 0.5 * 2/3).
    let trials = 100_000;
    let mut scenario = one_segment(json!(0.5), json!(90), 100.0, 3_300.0, trials);
    scenario["segments"][0]["cycle_days"] = json!(30);
    let s = run(&model(scenario));
    let p = 0.5 * 60.0 / 90.0;
    assert_within(
        s.p_hit,
        binomial_tail(90, p, 33),
        trials,
        "P(Bin(90, 1/3) >= 33)",
    );
    let mean = s.segments[0].expected_wins_in_period;
    let se = (90.0 * p * (1.0 - p) / trials as f64).sqrt();
    assert!((mean - 90.0 * p).abs() < Z * se, "wins in period {mean}");
}

/// Open deals with fixed rates and amounts: the distribution of their
/// revenue by enumerating every win/loss outcome.
#[test]
fn open_pipeline_alone_matches_enumeration() {
    let trials = 100_000;
    let deals = [
        ("lead", 10_000.0),
        ("qualified", 25_000.0),
        ("proposal", 40_000.0),
        ("qualified", 5_000.0),
        ("proposal", 15_000.0),
    ];
    // Chance to win from each stage: the product of the remaining rates.
    let rates = [0.5, 0.4, 0.6];
    let win_from = |stage: &str| match stage {
        "lead" => rates[0] * rates[1] * rates[2],
        "qualified" => rates[1] * rates[2],
        _ => rates[2],
    };
    let open: Vec<Value> = deals
        .iter()
        .map(|(s, a)| json!({"stage": s, "amount": a, "age_days": 3}))
        .collect();
    let scenario = json!({
        "name": "open only", "period_days": 90, "target": 40_000, "trials": trials, "seed": 5,
        "segments": [{
            "name": "only",
            "stages": [
                {"name": "lead", "to_next": rates[0]},
                {"name": "qualified", "to_next": rates[1]},
                {"name": "proposal", "to_next": rates[2]},
                {"name": "won"}
            ],
            "activity": 0, "deal_size": 1, "open_pipeline": open
        }]
    });
    let s = run(&model(scenario));

    let (mut p_hit, mut mean, mut mean_sq) = (0.0, 0.0, 0.0);
    for outcome in 0u32..(1 << deals.len()) {
        let (mut p, mut revenue) = (1.0, 0.0);
        for (k, (stage, amount)) in deals.iter().enumerate() {
            let q = win_from(stage);
            if outcome & (1 << k) != 0 {
                p *= q;
                revenue += amount;
            } else {
                p *= 1.0 - q;
            }
        }
        mean += p * revenue;
        mean_sq += p * revenue * revenue;
        if revenue >= 40_000.0 {
            p_hit += p;
        }
    }
    assert_within(s.p_hit, p_hit, trials, "P(open revenue >= 40,000)");
    let sd = (mean_sq - mean * mean).sqrt();
    let se = sd / (trials as f64).sqrt();
    assert!(
        (s.revenue.mean - mean).abs() < Z * se,
        "mean {} vs {mean}",
        s.revenue.mean
    );
}

#[test]
fn booked_over_target_is_certain_and_needs_no_leads() {
    let mut scenario = one_segment(json!(0.1), json!(100), 500.0, 10_000.0, 2_000);
    scenario["booked"] = json!(12_000);
    let s = run(&model(scenario));
    assert_eq!(s.p_hit, 1.0);
    assert_eq!(s.p_hit_se, 0.0);
    for level in &s.levels {
        assert_eq!(level.leads_needed, Some(0));
    }
}

#[test]
fn revenue_exactly_at_the_target_is_a_hit() {
    // Ten certain wins of 100 against a target of 1,000.
    let s = run(&model(one_segment(
        json!(1.0),
        json!(10),
        100.0,
        1000.0,
        1000,
    )));
    assert_eq!(s.p_hit, 1.0);
    assert_eq!(s.revenue.p5, 1000.0);
    for level in &s.levels {
        assert_eq!(level.leads_needed, Some(10));
    }
}

#[test]
fn a_target_no_lead_count_reaches_is_reported_as_such() {
    // Every deal is worth 0: no number of leads reaches 1.
    let s = run(&model(one_segment(json!(0.5), json!(10), 0.0, 1.0, 500)));
    assert_eq!(s.p_hit, 0.0);
    assert!(s.levels.iter().all(|l| l.leads_needed.is_none()));
    assert_eq!(s.solve.p_reachable, 0.0);
    assert!(!s.warnings.is_empty());
}

fn ansoff() -> Model {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/ansoff-quarter.json"
    ))
    .unwrap();
    let mut m = scenario::parse_str(&text)
        .unwrap()
        .validate(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")))
        .unwrap();
    m.trials = 20_000;
    m
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let m = ansoff();
    let json_with = |threads| {
        let settings = Settings {
            threads: Some(threads),
            ..Settings::default()
        };
        serde_json::to_string(&run_with(&m, &settings)).unwrap()
    };
    assert_eq!(json_with(1), json_with(2));
    assert_eq!(json_with(1), json_with(3));
}

#[test]
fn results_change_with_the_seed() {
    let mut m = ansoff();
    let a = run(&m);
    m.seed += 1;
    let b = run(&m);
    assert_ne!(a.revenue.mean, b.revenue.mean);
    // ...but only by Monte Carlo noise.
    let se = a.revenue.sd / (m.trials as f64).sqrt();
    assert!((a.revenue.mean - b.revenue.mean).abs() < Z * se * 2f64.sqrt());
}

#[test]
fn a_higher_target_never_raises_the_probability() {
    let mut m = ansoff();
    let mut last = 1.0;
    for target in [2.0e6, 3.0e6, 3.3e6, 4.0e6, 6.0e6] {
        m.target = target;
        let p = run(&m).p_hit;
        assert!(p <= last, "target {target}: {p} > {last}");
        last = p;
    }
}

#[test]
fn more_leads_never_lower_the_probability() {
    // Along the reverse solve's curve, exactly.
    let s = run(&ansoff());
    for pair in s.activity_curve.windows(2) {
        assert!(pair[1].p_hit >= pair[0].p_hit);
    }
    // In the forward run, with common random numbers, within noise.
    let base = one_segment(
        json!({"dist": "beta", "alpha": 3, "beta": 7}),
        json!(40),
        1000.0,
        12_000.0,
        50_000,
    );
    let mut last = 0.0;
    for leads in [20, 40, 60, 80] {
        let mut scenario = base.clone();
        scenario["segments"][0]["activity"] = json!(leads);
        let p = run(&model(scenario)).p_hit;
        let se = (p * (1.0 - p) / 50_000.0).sqrt();
        assert!(p >= last - Z * se, "{leads} leads: {p} < {last}");
        last = p;
    }
}

#[test]
fn solving_for_one_segment_keeps_the_others_as_planned() {
    let m = ansoff();
    let settings = Settings {
        solve: Solve::Segment(1),
        ..Settings::default()
    };
    let s = run_with(&m, &settings);
    assert_eq!(
        s.solve.segment.as_deref(),
        Some(m.segments[1].name.as_str())
    );
    for level in &s.levels {
        let solved: Vec<bool> = level.segments.iter().map(|g| g.solved).collect();
        assert_eq!(solved, vec![false, true, false, false]);
        let others = &level.segments[0].stages[0].volume;
        assert_eq!(*others, m.segments[0].planned_leads);
    }
}

#[test]
fn a_held_rate_behaves_as_a_fixed_rate() {
    // Beta(6, 14) held at 0.3 in every trial: the binomial tail again.
    let trials = 100_000;
    let rate = json!({"dist": "beta", "alpha": 6, "beta": 14});
    let m = model(one_segment(rate, json!(60), 1000.0, 20_000.0, trials));
    let hold = vec![Hold {
        segment: 0,
        input: Input::Rate(0),
        value: 0.3,
    }];
    let s = run_with(
        &m,
        &Settings {
            hold,
            ..Settings::default()
        },
    );
    assert_within(s.p_hit, binomial_tail(60, 0.3, 20), trials, "held at 0.3");
}

#[test]
fn a_held_deal_size_fixes_every_deal() {
    let trials = 50_000;
    let mut scenario = one_segment(json!(0.3), json!(60), 1000.0, 20_000.0, trials);
    scenario["segments"][0]["deal_size"] = json!({"dist": "gamma", "shape": 2, "scale": 500});
    let hold = vec![Hold {
        segment: 0,
        input: Input::DealSize,
        value: 1000.0,
    }];
    let s = run_with(
        &model(scenario),
        &Settings {
            hold,
            ..Settings::default()
        },
    );
    assert_within(
        s.p_hit,
        binomial_tail(60, 0.3, 20),
        trials,
        "deal size held at 1,000",
    );
}

#[test]
fn holding_one_segments_input_leaves_the_others_draws_alone() {
    // Common random numbers: each segment draws from its own streams, so
    // holding an input of segment 0 changes no trial of segments 1 to 3.
    let m = ansoff();
    let settings = Settings::default();
    let base = engine::run(&m, &settings, None).unwrap();
    let hold = vec![Hold {
        segment: 0,
        input: Input::Rate(1),
        value: 0.2,
    }];
    let held = engine::run(
        &m,
        &Settings {
            hold,
            ..Settings::default()
        },
        None,
    )
    .unwrap();
    let j = m.segments.len();
    let column = |t: &engine::Trials, k: usize| -> Vec<f32> {
        t.segment_revenue
            .iter()
            .skip(k)
            .step_by(j)
            .copied()
            .collect()
    };
    assert_ne!(column(&base, 0), column(&held, 0));
    for k in 1..j {
        assert_eq!(column(&base, k), column(&held, k), "segment {k}");
    }
}
