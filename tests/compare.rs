//! Comparisons on common random numbers, against exact values.
//!
//! Fixed seeds; tolerances of `Z` Monte Carlo standard errors, as in
//! `tests/exact.rs`.

use std::path::Path;

use revpipe::compare::{compare, Comparison};
use revpipe::engine::Settings;
use revpipe::model::Model;
use revpipe::scenario;
use serde_json::{json, Value};
use statrs::function::factorial::ln_binomial;

/// Monte Carlo standard errors allowed.
const Z: f64 = 4.0;

fn model(json: Value) -> Model {
    let file: scenario::ScenarioFile = serde_json::from_value(json).unwrap();
    file.validate(Path::new(".")).unwrap()
}

fn run(models: &[Model]) -> Comparison {
    compare(models, &Settings::default(), None).unwrap()
}

/// `P(X >= k)` for `X ~ Binomial(n, p)`.
fn binomial_tail(n: u64, p: f64, k: u64) -> f64 {
    (k..=n)
        .map(|i| {
            let ln = ln_binomial(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln();
            ln.exp()
        })
        .sum()
}

/// A segment: lead -> won at a fixed 30%, `leads` leads, deals of 1,000.
fn segment(name: &str, leads: u64) -> Value {
    json!({
        "name": name,
        "stages": [{"name": "lead", "to_next": 0.3}, {"name": "won"}],
        "activity": leads, "deal_size": 1000
    })
}

fn scenario(name: &str, segments: Vec<Value>, trials: u64, seed: u64) -> Value {
    json!({
        "name": name, "period_days": 90, "target": 20_000, "trials": trials,
        "seed": seed, "segments": segments
    })
}

fn bundled(name: &str) -> Model {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut m = scenario::load(&dir.join(name)).unwrap();
    m.trials = 5000;
    m
}

#[test]
fn a_scenario_against_itself_differs_by_exactly_nothing() {
    let m = bundled("ansoff-quarter.json");
    let c = run(&[m.clone(), m]);
    let d = &c.differences[0];
    assert_eq!((d.p_hit.difference, d.p_hit.se), (0.0, 0.0));
    assert_eq!((d.mean_revenue.difference, d.mean_revenue.se), (0.0, 0.0));
    assert_eq!((d.p50, d.commit, d.stretch), (0.0, 0.0, 0.0));
    assert!(d.leads_needed.iter().all(|l| l.difference == Some(0)));
    // Run independently, the same scenario would differ by noise.
    assert!(d.p_hit.se_unpaired > 0.0 && d.mean_revenue.se_unpaired > 0.0);
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn an_extra_lead_source_adds_exactly_its_own_wins() {
    // A: 60 leads at 30%, deals of 1,000, target 20,000. B: the same
    // segment first, then a new source of 5 leads at 30% (one more rep's
    // worth). Segment 0 draws the same numbers in both, so trial by trial
    // B's revenue is A's plus the new source's: P(hit) goes from
    // P(Bin(60, .3) >= 20) to P(Bin(65, .3) >= 20), and the paired
    // difference in revenue is the new source's own, 1,000 Bin(5, .3):
    // mean 1,500, variance 1000^2 * 1.05.
    let n = 50_000;
    let a = model(scenario("A", vec![segment("base", 60)], n, 5));
    let b = model(scenario(
        "B",
        vec![segment("base", 60), segment("new source", 5)],
        n,
        5,
    ));
    let c = run(&[a, b]);
    let d = &c.differences[0];

    let (p_a, p_b) = (binomial_tail(60, 0.3, 20), binomial_tail(65, 0.3, 20));
    let exact = p_b - p_a;
    assert!(d.p_hit.difference > 0.0);
    assert!(
        (d.p_hit.difference - exact).abs() <= Z * d.p_hit.se,
        "P(hit) difference {} vs exact {exact} (se {})",
        d.p_hit.difference,
        d.p_hit.se
    );
    // Every trial that hits in A hits in B, so the paired difference is a
    // 0/1 indicator with mean `exact`: variance exact (1 - exact), against
    // p_A (1 - p_A) + p_B (1 - p_B) for independent runs.
    let var = |p: f64| p * (1.0 - p) / n as f64;
    let (paired, unpaired) = (var(exact).sqrt(), (var(p_a) + var(p_b)).sqrt());
    assert!((d.p_hit.se / paired - 1.0).abs() < 0.05, "{}", d.p_hit.se);
    assert!((d.p_hit.se_unpaired / unpaired - 1.0).abs() < 0.05);
    assert!(d.p_hit.se < 0.7 * d.p_hit.se_unpaired, "{:?}", d.p_hit);

    let m = &d.mean_revenue;
    let se = 1000.0 * (1.05 / n as f64).sqrt();
    assert!((m.difference - 1_500.0).abs() <= Z * se, "{}", m.difference);
    assert!((m.se / se - 1.0).abs() < 0.05, "{} vs {se}", m.se);
    // Unpaired: the variances of A (60 leads) and B (65 leads) add.
    let unpaired = 1000.0 * ((60.0 + 65.0) * 0.21 / n as f64).sqrt();
    assert!((m.se_unpaired / unpaired - 1.0).abs() < 0.05);
    assert!(m.se < 0.3 * m.se_unpaired, "{m:?}");
}

#[test]
fn two_more_reps_raise_the_chance_with_a_sharper_paired_error() {
    // The bundled what-if: DACH and Nordics with 6 reps and 1,170 leads
    // instead of 4 and 780, every rate and size uncertain.
    let base = bundled("ansoff-quarter.json");
    let more = bundled("ansoff-quarter-two-more-reps.json");
    let c = run(&[base, more]);
    let d = &c.differences[0];
    assert!(d.p_hit.difference > Z * d.p_hit.se, "{:?}", d.p_hit);
    assert!(d.p_hit.se < 0.75 * d.p_hit.se_unpaired, "{:?}", d.p_hit);
    let m = &d.mean_revenue;
    assert!(m.difference > Z * m.se, "{m:?}");
    assert!(m.se < 0.5 * m.se_unpaired, "{m:?}");
    assert!(d.commit > 0.0 && d.stretch > 0.0);
}

#[test]
fn every_scenario_runs_with_the_first_ones_seed_trials_and_levels() {
    let a = model(scenario("A", vec![segment("base", 60)], 2000, 5));
    let mut b = scenario("B", vec![segment("base", 60)], 700, 99);
    b["confidence"] = json!([0.8]);
    b["currency"] = json!("EUR");
    let c = run(&[a.clone(), model(b)]);
    assert_eq!((c.seed, c.trials), (5, 2000));
    for s in &c.scenarios {
        assert_eq!((s.seed, s.trials), (5, 2000));
        let levels: Vec<f64> = s.levels.iter().map(|l| l.confidence).collect();
        assert_eq!(levels, a.confidence);
    }
    assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
    assert!(c.notes[0].contains("seed 99, 700 trials, confidence levels"));
    assert!(c.notes[1].contains("EUR"));
    // Same segment, same seed: the same trials, so no difference at all.
    assert_eq!(c.differences[0].p_hit.difference, 0.0);
}

#[test]
fn three_scenarios_give_two_differences_against_the_first() {
    let a = model(scenario("A", vec![segment("s", 60)], 2000, 5));
    let b = model(scenario("B", vec![segment("s", 80)], 2000, 5));
    let c = model(scenario("C", vec![segment("s", 40)], 2000, 5));
    let out = run(&[a, b, c]);
    assert_eq!(out.scenarios.len(), 3);
    let names: Vec<(usize, &str)> = out
        .differences
        .iter()
        .map(|d| (d.scenario, d.name.as_str()))
        .collect();
    assert_eq!(names, [(1, "B"), (2, "C")]);
    assert!(out.differences[0].mean_revenue.difference > 0.0);
    assert!(out.differences[1].mean_revenue.difference < 0.0);
}
