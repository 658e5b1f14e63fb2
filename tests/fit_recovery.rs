//! Parameter recovery: data simulated from known rates, sizes and cycle
//! times, cut off at an as-of date so that many deals are still open
//! (censored), must give back the parameters. Tolerances are stated in
//! standard errors of the estimate; the seeds are fixed, so each check
//! is deterministic, and with 3 standard errors a fresh seed would fail
//! a single check about 0.3 % of the time.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
use rand_pcg::Pcg64;
use revpipe::fit::csvread::Table;
use revpipe::fit::deals::deals_from_table;
use revpipe::fit::history::history_from_table;
use revpipe::fit::{self, Date, FitOptions, LayoutSpec, LoadOptions, StaleRule};
use std::fmt::Write;
use std::path::Path;

fn day(offset: f64) -> String {
    let d0 = Date::from_ymd(2020, 1, 1).unwrap();
    d0.plus_days(offset.floor() as i32).to_string()
}

fn load_opts(stages: &[&str]) -> LoadOptions {
    let mut spec = LayoutSpec::default();
    for pair in [
        "id=id",
        "stage=stage",
        "amount=amount",
        "created=created",
        "closed=closed",
    ] {
        spec.set(pair).unwrap();
    }
    spec.stages = Some(stages.iter().map(|s| s.to_string()).collect());
    LoadOptions {
        spec,
        ..LoadOptions::default()
    }
}

fn table(name: &str, text: &str) -> Table {
    Table::from_bytes(Path::new(name), text.as_bytes()).unwrap()
}

const RATES: [f64; 3] = [0.7, 0.5, 0.6];
const STAGES: [&str; 3] = ["Discovery", "Proposal", "Negotiation"];
const AS_OF: f64 = 1000.0;

// Deals created uniformly over 1,000 days; each stage lasts Exp(mean 20)
// days and is passed with its rate, else the deal is lost. Deals still
// in a stage on day 1,000 are open there.
fn simulate_stages(seed: u64, n: usize) -> (String, String) {
    let mut rng = Pcg64::seed_from_u64(seed);
    let dwell = Exp::new(1.0 / 20.0).unwrap();
    let mut deals = String::from("id,stage,amount,created,closed\n");
    let mut history = String::from("OppID,CreatedDate,StageName,SortOrder\n");
    for i in 0..n {
        let created = rng.random::<f64>() * AS_OF;
        let mut t = created;
        let mut stage = "Won";
        let mut closed = String::new();
        for (j, name) in STAGES.iter().enumerate() {
            writeln!(history, "d{i},{},{name},{}", day(t), j + 1).unwrap();
            t += dwell.sample(&mut rng);
            if t >= AS_OF {
                stage = name;
                break;
            }
            if rng.random::<f64>() >= RATES[j] {
                stage = "Lost";
                break;
            }
        }
        if stage == "Won" || stage == "Lost" {
            closed = day(t);
            writeln!(history, "d{i},{closed},{stage},9").unwrap();
        }
        writeln!(deals, "d{i},{stage},1000,{},{closed}", day(created)).unwrap();
    }
    (deals, history)
}

#[test]
fn stage_rates_are_recovered_with_open_deals_censored() {
    let (deals, history) = simulate_stages(11, 6000);
    let opts = load_opts(&STAGES);
    let deals = deals_from_table(table("d.csv", &deals), &opts).unwrap();
    let history = history_from_table(table("h.csv", &history), &opts).unwrap();
    let fit_opts = FitOptions {
        stale: StaleRule::Open,
        deal_size: fit::SizeChoice::Empirical,
        ..FitOptions::default()
    };
    let fitted = fit::fit(&deals, Some(&history), None, &fit_opts).unwrap();
    let seg = &fitted.report.segments[0];
    let mut censored = 0;
    for (j, (count, rate)) in seg.stages.iter().zip(&seg.rates).enumerate() {
        let n = count.entered() as f64;
        let se = (RATES[j] * (1.0 - RATES[j]) / n).sqrt();
        let z = (rate.mean - RATES[j]) / se;
        assert!(
            z.abs() < 3.0,
            "stage {j}: {} vs {} ({z:.2} SE)",
            rate.mean,
            RATES[j]
        );
        censored += count.censored;
        // Counting open deals as failures would have biased it down.
        let naive = count.advanced as f64 / (n + count.censored as f64);
        assert!(naive < rate.mean);
    }
    assert!(censored > 150, "the test needs open deals: {censored}");
}

// One open stage; winners close after LogNormal(3.5, 0.5) days (median
// 33), losers after LogNormal(3.0, 0.5) (median 20); won sizes are
// LogNormal(10, 0.7). Deals arrive over 400 days, so those from the last
// two months are mostly open.
#[test]
fn deal_size_and_censored_cycle_are_recovered() {
    let mut rng = Pcg64::seed_from_u64(7);
    let win_days = LogNormal::new(3.5, 0.5).unwrap();
    let loss_days = LogNormal::new(3.0, 0.5).unwrap();
    let size = LogNormal::new(10.0, 0.7).unwrap();
    let as_of = 400.0;
    let mut text = String::from("id,stage,amount,created,closed\n");
    let mut open = 0;
    for i in 0..3000 {
        let created = rng.random::<f64>() * as_of;
        let won = rng.random::<f64>() < 0.5;
        let cycle: f64 = if won {
            win_days.sample(&mut rng)
        } else {
            loss_days.sample(&mut rng)
        };
        let amount: f64 = size.sample(&mut rng);
        let end = created.floor() + cycle.round();
        let (stage, closed) = match (end > as_of - 1.0, won) {
            (true, _) => ("Open", String::new()),
            (false, true) => ("Won", day(end)),
            (false, false) => ("Lost", day(end)),
        };
        open += usize::from(stage == "Open");
        let amount = if won {
            format!("{amount:.2}")
        } else {
            String::new()
        };
        writeln!(text, "d{i},{stage},{amount},{},{closed}", day(created)).unwrap();
    }
    assert!(open > 100, "the test needs open deals: {open}");
    let opts = load_opts(&["Open"]);
    let deals = deals_from_table(table("d.csv", &text), &opts).unwrap();
    let fit_opts = FitOptions {
        stale: StaleRule::Open,
        deal_size: fit::SizeChoice::Lognormal,
        ..FitOptions::default()
    };
    let fitted = fit::fit(&deals, None, None, &fit_opts).unwrap();
    let seg = &fitted.report.segments[0];

    // Deal size: the lognormal MLE within 3 of its standard errors.
    let ln = &seg.deal_size.candidates[0];
    for (k, truth) in [10.0, 0.7].into_iter().enumerate() {
        let z = (ln.params[k] - truth) / ln.std_errors[k];
        assert!(z.abs() < 3.0, "size param {k}: {:?} ({z:.2} SE)", ln.params);
    }

    // Win rate: 0.5 within 3 standard errors.
    let n = seg.stages[0].entered() as f64;
    let z = (seg.rates[0].mean - 0.5) / (0.25 / n).sqrt();
    assert!(z.abs() < 3.0, "win rate {} ({z:.2} SE)", seg.rates[0].mean);

    // Cycle: the censored lognormal fit within 3 standard errors (days
    // are whole, which the tolerance absorbs at this sample size).
    let cycle = seg.cycle.as_ref().expect("a cycle fit");
    let c = cycle
        .candidates
        .iter()
        .find(|m| m.family == fit::mle::Family::Lognormal)
        .unwrap();
    for (k, truth) in [3.5, 0.5].into_iter().enumerate() {
        let z = (c.params[k] - truth) / c.std_errors[k];
        assert!(
            z.abs() < 3.0,
            "cycle param {k}: {:?} ± {:?} ({z:.2} SE)",
            c.params,
            c.std_errors
        );
    }
    // Won-only medians are biased short; the censored fit is not.
    assert!(cycle.naive_median < 3.5f64.exp());
}
