//! What would make revpipe's forecasts of the bundled data calibrated?
//!
//! Backtests the real exports in `../shared/data/` as fitted, then with one
//! change to the model at a time, each made from what was known at the
//! period's start, and prints the scores side by side:
//!
//! - stale open deals kept open (`--stale open`) instead of counted lost,
//!   or kept open and decaying (`--stale decay`, half-life 30 days);
//! - activity from the last 3 periods only, instead of the whole history;
//! - overdispersed activity: a gamma with the variance of the past
//!   per-period counts, instead of a Poisson;
//! - a win rate that varies between periods: the last stage's rate drawn
//!   per trial with the spread the closed win rate showed between past
//!   periods (beyond binomial noise), instead of the posterior alone;
//! - seasonality within the quarter (monthly periods): every amount scaled
//!   by the ratio of past actuals in this month's place in the quarter to
//!   the mean of all past months;
//! - open deals valued at the win share of closed deals that stayed open
//!   at least as long (wins and losses take different times);
//! - the shared market factor, loading 0.5 on rates, activity and deal
//!   sizes (a guess: `fit` does not estimate loadings);
//! - slippage: open-deal revenue times a factor drawn per trial from
//!   U(0.5, 1), a guess rather than a fit;
//! - overdispersed activity, varying win rate and seasonality together;
//!   the same with activity from the last 3 periods; and that with open
//!   deals valued at their age.
//!
//! Columns: periods scored; how many actuals the P10-P90 and P25-P75
//! intervals held (z: standard errors from 80% and 50%); mean PIT (z from
//! 0.5); mean CRPS, and its mean change per period from "as fitted" with
//! the standard error of that paired change; the bias of the median; the
//! Brier score of P(hit) for the run-rate target; the CRPS skill against
//! each baseline (above 0: the simulation does better).
//!
//! ```sh
//! cargo run --release --example backtest_fixes
//! ```

use revpipe::backtest::{self, Adjust, AdjustInput, Backtest, BacktestOptions, PeriodKind};
use revpipe::fit::{self, LoadOptions, Outcome, StaleRule};
use serde_json::{json, Value};
use std::path::PathBuf;

fn data(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    path.exists().then_some(path)
}

// Activity from the last 3 whole periods only.
fn recent_activity(scenario: &mut Value, input: &AdjustInput) {
    for (seg, fit) in segments(scenario).zip(&input.report.segments) {
        let counts = &fit.arrivals.counts;
        let last = &counts[counts.len().saturating_sub(3)..];
        if !last.is_empty() {
            let mean = last.iter().sum::<usize>() as f64 / last.len() as f64;
            seg["activity"] = json!({"dist": "poisson", "mean": mean.max(1e-9)});
        }
    }
}

// Activity with the variance of the past per-period counts.
fn overdispersed_activity(scenario: &mut Value, input: &AdjustInput) {
    for (seg, fit) in segments(scenario).zip(&input.report.segments) {
        let a = &fit.arrivals;
        if let Some(var) = a.variance.filter(|v| *v > a.mean && a.mean > 0.0) {
            seg["activity"] = json!({"dist": "gamma", "mean": a.mean, "sd": var.sqrt()});
        }
    }
}

// The spread of the closed win rate between past periods, beyond the
// binomial noise of each period's count, as a standard deviation.
fn between_period_sd(input: &AdjustInput) -> Option<f64> {
    let rates: Vec<(f64, f64)> = input
        .past
        .iter()
        .map(|(_, a)| ((a.won_deals + a.lost_deals) as f64, a.won_deals as f64))
        .filter(|(n, _)| *n > 0.0)
        .map(|(n, w)| (n, w / n))
        .collect();
    if rates.len() < 3 {
        return None;
    }
    let k = rates.len() as f64;
    let mean = rates.iter().map(|r| r.1).sum::<f64>() / k;
    let var = rates.iter().map(|r| (r.1 - mean).powi(2)).sum::<f64>() / (k - 1.0);
    let noise = rates
        .iter()
        .map(|(n, _)| mean * (1.0 - mean) / n)
        .sum::<f64>()
        / k;
    Some(((var - noise).max(0.0)).sqrt() / mean)
}

// The last stage's rate drawn per trial with the between-period spread
// (as a coefficient of variation, carried over to the stage's mean).
fn rate_spread(scenario: &mut Value, input: &AdjustInput) {
    let Some(cv) = between_period_sd(input) else {
        return;
    };
    for seg in segments(scenario) {
        let stages = seg["stages"].as_array_mut().expect("stages");
        let last = stages.len() - 2;
        let rate = &mut stages[last]["to_next"];
        let (adv, ent) = (rate["advanced"].as_f64(), rate["entered"].as_f64());
        let (pa, pb) = (rate["prior_alpha"].as_f64(), rate["prior_beta"].as_f64());
        let (Some(adv), Some(ent)) = (adv, ent) else {
            continue;
        };
        let (pa, pb) = (pa.unwrap_or(1.0), pb.unwrap_or(1.0));
        let mean = (adv + pa) / (ent + pa + pb);
        let posterior_sd = (mean * (1.0 - mean) / (ent + pa + pb + 1.0)).sqrt();
        let sd = (cv * mean)
            .hypot(posterior_sd)
            .min(0.9 * (mean * (1.0 - mean)).sqrt());
        *rate = json!({"dist": "beta", "mean": mean, "sd": sd});
    }
}

// The ratio of past actuals in this month's place in the quarter to the
// mean of all past months; 1 without a past month in the same place.
fn season_factor(input: &AdjustInput) -> f64 {
    if input.period.kind() != PeriodKind::Month {
        return 1.0;
    }
    let place = |p: backtest::Period| (p.start().ymd().1 - 1) % 3;
    let all: Vec<f64> = input.past.iter().map(|(_, a)| a.revenue).collect();
    let same: Vec<f64> = input
        .past
        .iter()
        .filter(|(p, _)| place(*p) == place(input.period))
        .map(|(_, a)| a.revenue)
        .collect();
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    if same.is_empty() || mean(&all) <= 0.0 {
        return 1.0;
    }
    mean(&same) / mean(&all)
}

// Every amount (deal sizes and open deals) times the season factor.
fn seasonality(scenario: &mut Value, input: &AdjustInput) {
    let f = season_factor(input);
    for seg in segments(scenario) {
        let size = &mut seg["deal_size"];
        match size["dist"].as_str() {
            Some("lognormal") => size["mu"] = json!(size["mu"].as_f64().unwrap() + f.ln()),
            Some("gamma") => size["scale"] = json!(size["scale"].as_f64().unwrap() * f),
            Some("empirical") => {
                for v in size["values"].as_array_mut().unwrap() {
                    *v = json!(v.as_f64().unwrap() * f);
                }
            }
            other => panic!("deal size {other:?} is not scaled"),
        }
        for deal in seg["open_pipeline"].as_array_mut().into_iter().flatten() {
            deal["amount"] = json!(deal["amount"].as_f64().unwrap() * f);
        }
    }
}

// The shared market factor with loading 0.5 on the rates, the activity
// and the deal sizes: a guess, not fitted (each input keeps its own
// distribution; only how they move together changes).
fn market(scenario: &mut Value, _: &AdjustInput) {
    for seg in segments(scenario) {
        seg["market"] = json!({"rates": 0.5, "activity": 0.5, "deal_size": 0.5});
    }
}

// Open-deal revenue times a factor drawn per trial from U(0.5, 1): a
// guess at slippage, not fitted.
fn slippage(scenario: &mut Value, _: &AdjustInput) {
    for seg in segments(scenario) {
        seg["slippage"] = json!({"dist": "uniform", "min": 0.5, "max": 1.0});
    }
}

// Each open deal's revenue scaled so that its expected value uses the
// win share of deals that stayed open as long as it has (among deals
// closed by the as-of date), instead of the stage's overall rate: wins and
// losses take different times, so an old open deal is not an average one.
// Scaling the amount keeps the mean right, not the spread.
fn age_aware(scenario: &mut Value, input: &AdjustInput) {
    let as_of = input.period.as_of();
    let closed: Vec<(i32, bool)> = input
        .deals
        .deals
        .iter()
        .filter(|d| d.closed.is_some_and(|c| c <= as_of))
        .filter_map(|d| Some((d.closed?.days_since(d.created?), d.outcome == Outcome::Won)))
        .collect();
    for seg in segments(scenario) {
        let win_from = stage_win_chances(seg);
        let stages: Vec<String> = seg["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        for deal in seg["open_pipeline"].as_array_mut().into_iter().flatten() {
            let age = deal["age_days"].as_f64().unwrap() as i32;
            let older: Vec<bool> = closed.iter().filter(|c| c.0 > age).map(|c| c.1).collect();
            let stage = stages
                .iter()
                .position(|s| s == deal["stage"].as_str().unwrap());
            let p = win_from[stage.unwrap()];
            if older.len() >= 20 && p > 0.0 {
                let share = older.iter().filter(|w| **w).count() as f64 / older.len() as f64;
                deal["amount"] = json!(deal["amount"].as_f64().unwrap() * share / p);
            }
        }
    }
}

// The mean chance a deal at each stage is won, from the scenario's rates
// (the fit writes them as observed counts).
fn stage_win_chances(seg: &Value) -> Vec<f64> {
    let stages = seg["stages"].as_array().unwrap();
    let mut win_from = vec![1.0; stages.len()];
    for s in (0..stages.len() - 1).rev() {
        let r = &stages[s]["to_next"];
        let mean = match (r["advanced"].as_f64(), r["entered"].as_f64()) {
            (Some(adv), Some(ent)) => {
                let pa = r["prior_alpha"].as_f64().unwrap_or(1.0);
                let pb = r["prior_beta"].as_f64().unwrap_or(1.0);
                (adv + pa) / (ent + pa + pb)
            }
            _ => r["mean"].as_f64().unwrap(),
        };
        win_from[s] = win_from[s + 1] * mean;
    }
    win_from
}

fn combined(scenario: &mut Value, input: &AdjustInput) {
    overdispersed_activity(scenario, input);
    rate_spread(scenario, input);
    seasonality(scenario, input);
}

fn combined_recent(scenario: &mut Value, input: &AdjustInput) {
    recent_activity(scenario, input);
    rate_spread(scenario, input);
    seasonality(scenario, input);
}

fn combined_all(scenario: &mut Value, input: &AdjustInput) {
    age_aware(scenario, input);
    combined_recent(scenario, input);
}

fn segments(scenario: &mut Value) -> impl Iterator<Item = &mut Value> {
    scenario["segments"]
        .as_array_mut()
        .expect("segments")
        .iter_mut()
}

struct Variant {
    name: &'static str,
    stale: StaleRule,
    adjust: Option<Adjust>,
}

const VARIANTS: [Variant; 13] = [
    Variant {
        name: "as fitted",
        stale: StaleRule::Lost,
        adjust: None,
    },
    Variant {
        name: "stale deals kept open",
        stale: StaleRule::Open,
        adjust: None,
    },
    Variant {
        name: "stale deals decay (half-life 30 days)",
        stale: StaleRule::Decay,
        adjust: None,
    },
    Variant {
        name: "activity: last 3 periods",
        stale: StaleRule::Lost,
        adjust: Some(recent_activity),
    },
    Variant {
        name: "activity: overdispersed",
        stale: StaleRule::Lost,
        adjust: Some(overdispersed_activity),
    },
    Variant {
        name: "win rate varies by period",
        stale: StaleRule::Lost,
        adjust: Some(rate_spread),
    },
    Variant {
        name: "seasonality in the quarter",
        stale: StaleRule::Lost,
        adjust: Some(seasonality),
    },
    Variant {
        name: "open deals: win share at their age",
        stale: StaleRule::Lost,
        adjust: Some(age_aware),
    },
    Variant {
        name: "market factor 0.5 (not fitted)",
        stale: StaleRule::Lost,
        adjust: Some(market),
    },
    Variant {
        name: "slippage U(0.5, 1) on open deals",
        stale: StaleRule::Lost,
        adjust: Some(slippage),
    },
    Variant {
        name: "overdispersed + rate + seasonality",
        stale: StaleRule::Lost,
        adjust: Some(combined),
    },
    Variant {
        name: "last 3 periods + rate + seasonality",
        stale: StaleRule::Lost,
        adjust: Some(combined_recent),
    },
    Variant {
        name: "the same + win share at age",
        stale: StaleRule::Lost,
        adjust: Some(combined_all),
    },
];

// Per-period CRPS of the scored periods, by period label.
fn crps_by_period(b: &Backtest) -> Vec<(String, f64)> {
    b.scored()
        .map(|(p, f)| (p.period.clone(), f.crps))
        .collect()
}

// The mean paired change in CRPS against the first variant, with its
// standard error over periods.
fn crps_change(b: &Backtest, reference: &[(String, f64)]) -> String {
    let diffs: Vec<f64> = crps_by_period(b)
        .iter()
        .filter_map(|(p, c)| reference.iter().find(|r| &r.0 == p).map(|r| c - r.1))
        .collect();
    let n = diffs.len() as f64;
    if n < 2.0 {
        return "-".into();
    }
    let mean = diffs.iter().sum::<f64>() / n;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let compact = backtest::render::compact;
    format!("{} ± {}", compact(mean), compact((var / n).sqrt()))
}

fn row(name: &str, b: &Backtest, reference: &[(String, f64)]) {
    let Some(s) = &b.scores else {
        println!("| {name} | no period scored |");
        return;
    };
    let skill = |i: usize| {
        b.baselines[i]
            .skill
            .map_or("-".into(), |x| format!("{x:+.2}"))
    };
    let c80 = &s.coverage_p10_p90;
    let c50 = &s.coverage_p25_p75;
    println!(
        "| {name} | {} | {}/{} ({:+.1}) | {}/{} ({:+.1}) | {:.2} ({:+.1}) | {} | {} | {} | {} | {} | {} | {} |",
        s.periods,
        c80.inside,
        c80.periods,
        c80.z,
        c50.inside,
        c50.periods,
        c50.z,
        s.pit_mean,
        (s.pit_mean - 0.5) / s.pit_mean_se,
        backtest::render::compact(s.crps_mean),
        crps_change(b, reference),
        backtest::render::compact(s.bias_p50),
        s.brier.map_or("-".into(), |x| format!("{x:.3}")),
        skill(0),
        skill(1),
        skill(2),
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let maven = "maven-crm-sales-opportunities/sales_pipeline.csv";
    let sf = "preppin-salesforce-opportunity-history";
    let runs = [
        ("Maven, monthly", maven, None, PeriodKind::Month),
        ("Maven, quarterly", maven, None, PeriodKind::Quarter),
        ("Salesforce, monthly", "", Some(sf), PeriodKind::Month),
    ];
    for (title, file, sf_dir, period) in runs {
        let load = LoadOptions::default();
        let (deals, history) = match sf_dir {
            None => {
                let Some(path) = data(file) else {
                    println!("skipped {title}: {file} not found");
                    continue;
                };
                (fit::load_deals(&path, &load)?, None)
            }
            Some(dir) => {
                let (Some(opps), Some(hist)) = (
                    data(&format!("{dir}/Opportunity.csv")),
                    data(&format!("{dir}/Opportunity_History.csv")),
                ) else {
                    println!("skipped {title}: {dir} not found");
                    continue;
                };
                (
                    fit::load_deals(&opps, &load)?,
                    Some(fit::load_history(&hist, &load)?),
                )
            }
        };
        println!("\n{title}\n");
        println!("| model | periods | in P10-P90 (z) | in P25-P75 (z) | mean PIT (z) | CRPS | change ± SE | bias of P50 | Brier | skill vs last | skill vs cycle back | skill vs weighted |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        let mut reference = Vec::new();
        for v in &VARIANTS {
            let mut opts = BacktestOptions {
                period,
                trials: 5000,
                adjust: v.adjust,
                ..BacktestOptions::default()
            };
            opts.fit.stale = v.stale;
            let result = backtest::backtest(&deals, history.as_ref(), None, &opts)?;
            if reference.is_empty() {
                reference = crps_by_period(&result);
            }
            row(v.name, &result, &reference);
        }
    }
    Ok(())
}
