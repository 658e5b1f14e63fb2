//! Shared shocks and slipping deals against exactly computable values.
//!
//! As in `exact.rs`: fixed seeds, tolerances in Monte Carlo standard errors
//! (4 unless stated), values computed independently of the engine.

use std::path::Path;

use revpipe::engine::{self, Parameters, Settings};
use revpipe::model::Model;
use revpipe::scenario::{self, FieldError};
use revpipe::summary;
use serde_json::{json, Value};
use statrs::function::beta::ln_beta;
use statrs::function::factorial::ln_binomial;

const Z: f64 = 4.0;

fn build(json: Value) -> Result<Model, FieldError> {
    let file: scenario::ScenarioFile = serde_json::from_value(json).unwrap();
    file.validate(Path::new("."))
}

fn p_hit(model: &Model) -> f64 {
    let settings = Settings::default();
    let trials = engine::run(model, &settings, None).unwrap();
    summary::summarize(model, &settings, trials).p_hit
}

fn assert_within(estimate: f64, exact: f64, trials: u64, what: &str) {
    let se = (exact * (1.0 - exact) / trials as f64).sqrt().max(1e-12);
    let apart = (estimate - exact).abs() / se;
    assert!(
        apart <= Z,
        "{what}: {estimate} vs exact {exact}, {apart:.2} SE apart"
    );
}

/// `P(X >= k)` for `X ~ BetaBinomial(n, a, b)`.
fn beta_binomial_tail(n: u64, a: f64, b: f64, k: u64) -> f64 {
    (k..=n)
        .map(|i| {
            (ln_binomial(n, i) + ln_beta(i as f64 + a, (n - i) as f64 + b) - ln_beta(a, b)).exp()
        })
        .sum()
}

/// Eight open deals of 1,000 at a stage that wins with a fixed 0.35, and
/// no new leads.
fn grouped_deals(correlation: f64, trials: u64, target: f64) -> Value {
    let deals: Vec<Value> = (0..8)
        .map(|i| json!({"id": format!("D{i}"), "stage": "proposal", "amount": 1000, "age_days": 5, "group": "Acme"}))
        .collect();
    json!({
        "name": "group", "period_days": 90, "target": target, "trials": trials, "seed": 21,
        "segments": [{
            "name": "s",
            "stages": [{"name": "proposal", "to_next": 0.35}, {"name": "won"}],
            "activity": 0, "deal_size": 1, "open_pipeline": deals
        }],
        "dependence": {"deal_groups": [{"name": "Acme", "correlation": correlation}]}
    })
}

#[test]
fn a_deal_groups_wins_are_beta_binomial() {
    // Deals sharing a Beta(p(1-c)/c, (1-p)(1-c)/c) rate: the number of
    // wins among n is beta-binomial, far wider than Bin(n, p).
    let (p, c, trials) = (0.35, 0.3, 100_000);
    let (a, b) = (p * (1.0 - c) / c, (1.0 - p) * (1.0 - c) / c);
    for k in [1u64, 3, 5, 7] {
        let model = build(grouped_deals(c, trials, 1000.0 * k as f64)).unwrap();
        let exact = beta_binomial_tail(8, a, b, k);
        assert_within(p_hit(&model), exact, trials, &format!("P(K >= {k})"));
    }
}

#[test]
fn a_group_with_zero_correlation_is_independent() {
    let trials = 100_000;
    let model = build(grouped_deals(0.0, trials, 5000.0)).unwrap();
    let exact: f64 = (5..=8u64)
        .map(|i| {
            (ln_binomial(8, i) + i as f64 * 0.35f64.ln() + (8 - i) as f64 * 0.65f64.ln()).exp()
        })
        .sum();
    assert_within(p_hit(&model), exact, trials, "P(Bin(8, 0.35) >= 5)");
}

/// Two segments with beta rates, and the given dependence.
fn two_segments(market: Option<f64>, matrix_rho: Option<f64>) -> Value {
    let segment = |name: &str| {
        let mut s = json!({
            "name": name,
            "stages": [
                {"name": "lead", "to_next": {"dist": "beta", "alpha": 20, "beta": 60}},
                {"name": "won"}
            ],
            "activity": 100, "deal_size": 1000
        });
        if let Some(l) = market {
            s["market"] = json!({"rates": l});
        }
        s
    };
    let mut scenario = json!({
        "name": "dep", "period_days": 30, "target": 40000, "trials": 20000, "seed": 8,
        "segments": [segment("A"), segment("B")]
    });
    if let Some(rho) = matrix_rho {
        scenario["dependence"] = json!({"rank_correlation": {
            "inputs": ["A/rate:lead", "B/rate:lead"],
            "matrix": [[1, rho], [rho, 1]]
        }});
    }
    scenario
}

/// The two segments' lead rates over every trial, replayed.
fn replayed_rates(model: &Model) -> (Vec<f64>, Vec<f64>) {
    let mut params = Parameters::default();
    let mut draw = |j: usize| -> Vec<f64> {
        (0..model.trials)
            .map(|t| {
                engine::draw_parameters(model, j, t, &[], &mut params);
                params.rates[0]
            })
            .collect()
    };
    (draw(0), draw(1))
}

fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    for (rank, &i) in order.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = rx
        .iter()
        .zip(&ry)
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    let var: f64 = rx.iter().map(|a| (a - mean) * (a - mean)).sum();
    cov / var
}

/// A conservative tolerance for a sample Spearman correlation over `n`
/// pairs: its standard error is below `1 / sqrt(n)` at these sizes.
fn spearman_tolerance(n: usize) -> f64 {
    Z / (n as f64).sqrt()
}

#[test]
fn the_rank_correlation_that_comes_out_is_the_one_that_went_in() {
    for rho in [0.6, -0.4] {
        let model = build(two_segments(None, Some(rho))).unwrap();
        let (a, b) = replayed_rates(&model);
        let got = spearman(&a, &b);
        assert!(
            (got - rho).abs() < spearman_tolerance(a.len()),
            "went in {rho}, came out {got}"
        );
    }
}

#[test]
fn correlated_inputs_keep_their_own_distribution() {
    // Beta(20, 60): mean 0.25, sd sqrt(20 * 60 / (80^2 * 81)).
    let model = build(two_segments(Some(0.7), Some(0.5))).unwrap();
    let (a, _) = replayed_rates(&model);
    let n = a.len() as f64;
    let sd = (20.0f64 * 60.0 / (80.0 * 80.0 * 81.0)).sqrt();
    let mean = a.iter().sum::<f64>() / n;
    assert!((mean - 0.25).abs() < Z * sd / n.sqrt(), "mean {mean}");
    let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // The sample variance's relative SE is about sqrt(2 / n) = 1%; allow 5%.
    assert!(
        (var.sqrt() / sd - 1.0).abs() < 0.05,
        "sd {} vs {sd}",
        var.sqrt()
    );
}

#[test]
fn the_market_factor_correlates_inputs_as_stated() {
    // Latents l M + sqrt(1 - l^2) e have normal correlation l^2, so rank
    // correlation (6 / pi) asin(l^2 / 2).
    let l: f64 = 0.8;
    let model = build(two_segments(Some(l), None)).unwrap();
    let (a, b) = replayed_rates(&model);
    let expected = 6.0 / std::f64::consts::PI * (l * l / 2.0).asin();
    let got = spearman(&a, &b);
    assert!(
        (got - expected).abs() < spearman_tolerance(a.len()),
        "{got} vs {expected}"
    );
}

#[test]
fn shared_shocks_widen_the_spread_of_revenue() {
    let run = |json: Value| {
        let model = build(json).unwrap();
        let settings = Settings::default();
        let trials = engine::run(&model, &settings, None).unwrap();
        summary::summarize(&model, &settings, trials).revenue
    };
    let alone = run(two_segments(None, None));
    let shocked = run(two_segments(Some(0.9), None));
    // Same marginals, so the same mean (within noise); a wider spread.
    assert!((alone.mean - shocked.mean).abs() < Z * alone.sd * (2.0 / 20000.0f64).sqrt());
    assert!(
        shocked.sd > 1.15 * alone.sd,
        "{} vs {}",
        shocked.sd,
        alone.sd
    );
}

fn one_open_deal(slip: Value, deal: Value) -> Value {
    json!({
        "name": "slip", "period_days": 90, "target": 1000, "trials": 100000, "seed": 4,
        "segments": [{
            "name": "s",
            "stages": [{"name": "proposal", "to_next": 1.0}, {"name": "won"}],
            "activity": 0, "deal_size": 1, "slip": slip, "open_pipeline": [deal]
        }]
    })
}

#[test]
fn each_past_slip_multiplies_the_chance_of_closing() {
    // A certain deal that slipped twice, at 0.6 per slip: 0.36.
    let deal = json!({"stage": "proposal", "amount": 1000, "age_days": 10, "slips": 2});
    let model = build(one_open_deal(json!({"per_slip": 0.6}), deal.clone())).unwrap();
    assert_within(p_hit(&model), 0.36, 100_000, "0.6^2");
    let by_stage = json!({"per_slip": 0.9, "stage_per_slip": {"proposal": 0.5}});
    let model = build(one_open_deal(by_stage, deal)).unwrap();
    assert_within(p_hit(&model), 0.25, 100_000, "0.5^2 by stage");
}

#[test]
fn stale_deals_decay_towards_lost() {
    // 200 days old, stale after 100, half-life 50: a quarter of the chance.
    let deal = json!({"stage": "proposal", "amount": 1000, "age_days": 200});
    let slip = json!({"stale_after_days": 100, "stale_half_life_days": 50});
    let model = build(one_open_deal(slip, deal)).unwrap();
    assert_eq!(model.segments[0].open_in_period, vec![0.25]);
    assert_within(p_hit(&model), 0.25, 100_000, "stale");
}

#[test]
fn dependence_errors_name_the_field() {
    let mut bad = grouped_deals(0.3, 10, 1.0);
    bad["segments"][0]["open_pipeline"][2]["group"] = json!("Globex");
    let err = build(bad).unwrap_err();
    assert_eq!(err.path, "segments[0].open_pipeline[2].group");
    assert!(
        err.message.contains("\"Globex\"") && err.message.contains("valid: Acme"),
        "{err}"
    );

    let err = build(grouped_deals(1.0, 10, 1.0)).unwrap_err();
    assert_eq!(err.path, "dependence.deal_groups[0].correlation");

    let mut bad = two_segments(None, Some(0.5));
    bad["dependence"]["rank_correlation"]["inputs"][1] = json!("B/rate:won");
    let err = build(bad).unwrap_err();
    assert_eq!(err.path, "dependence.rank_correlation.inputs[1]");
    assert!(err.message.contains("valid: lead"), "{err}");

    let mut bad = two_segments(Some(1.5), None);
    bad["segments"][0]["market"] = json!({"rates": 1.5});
    let err = build(bad).unwrap_err();
    assert_eq!(err.path, "segments[0].market.rates");

    let err = build(one_open_deal(
        json!({"per_slip": 1.2}),
        json!({"stage": "proposal", "amount": 1, "age_days": 1}),
    ))
    .unwrap_err();
    assert_eq!(err.path, "segments[0].slip.per_slip");
    let err = build(one_open_deal(
        json!({"stale_after_days": 10}),
        json!({"stage": "proposal", "amount": 1, "age_days": 1}),
    ))
    .unwrap_err();
    assert!(err.message.contains("go together"), "{err}");
}

#[test]
fn an_impossible_matrix_is_refused_unless_repair_is_asked() {
    let three = |repair: bool| {
        let mut s = two_segments(None, None);
        s["segments"][0]["activity"] = json!({"dist": "gamma", "mean": 100, "sd": 20});
        s["dependence"] = json!({"rank_correlation": {
            "inputs": ["A/rate:lead", "B/rate:lead", "A/activity"],
            "matrix": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
            "repair": repair
        }});
        build(s)
    };
    let err = three(false).unwrap_err();
    assert_eq!(err.path, "dependence.rank_correlation.matrix");
    assert!(err.message.contains("\"repair\": true"), "{err}");
    let model = three(true).unwrap();
    let shrink = model.dependence.copula.as_ref().unwrap().shrink;
    assert!(shrink > 0.0 && shrink < 1.0);
    let settings = Settings::default();
    let trials = engine::run(&model, &settings, None).unwrap();
    let s = summary::summarize(&model, &settings, trials);
    assert!(
        s.warnings.iter().any(|w| w.contains("shrunk")),
        "{:?}",
        s.warnings
    );
}
