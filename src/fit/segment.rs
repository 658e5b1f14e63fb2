//! One segment's fit: stage counts and rates, deal size, cycle time,
//! arrivals and open pipeline, and the scenario segment built from them.

use super::activity::{self, Arrivals};
use super::conversion::{RateFit, StageCount, THIN};
use super::cycle::{self, CycleFit};
use super::deals::Outcome;
use super::leads::Lead;
use super::options::{Ansoff, FitOptions, StaleRule};
use super::size::{self, round_sig, SizeFit};
use super::snapshot::{Known, Snapshot};
use super::{Date, FitError};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Name of the stage added on top when a lead file is given.
pub const LEAD_STAGE: &str = "Lead";

/// The open pipeline of a segment, in short.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct OpenSummary {
    /// Open deals written to the scenario.
    pub count: usize,
    /// Sum of their amounts (imputed ones included).
    pub amount: f64,
    /// Deals without an amount, given the fitted mean size.
    pub imputed: usize,
    /// Deals without a created date, given age 0.
    pub undated: usize,
    /// Open deals per stage.
    pub by_stage: Vec<(String, usize)>,
}

/// The fit of one segment.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SegmentFit {
    /// Segment name (the segment column's value, or `all`).
    pub name: String,
    /// Its Ansoff quadrant, if mapped.
    pub ansoff: Option<Ansoff>,
    /// Counts per stage, first to last open stage.
    pub stages: Vec<StageCount>,
    /// Posterior of each stage's rate.
    pub rates: Vec<RateFit>,
    /// Won deals used.
    pub won: usize,
    /// Lost deals used (stale deals counted lost included).
    pub lost: usize,
    /// `won / (won + lost)`.
    pub closed_win_rate: Option<f64>,
    /// Win rate among deals created more than the stale age before the
    /// as-of date (whose outcome any timing would have shown), with
    /// their count: a check on the censoring.
    pub mature_win_rate: Option<(f64, usize)>,
    /// Product of the posterior mean rates of the deal stages: the
    /// chance a new deal is won.
    pub fitted_win_rate: f64,
    /// Deal size.
    pub deal_size: SizeFit,
    /// Won deals without a positive amount (left out of the size fit).
    pub won_without_amount: usize,
    /// Cycle time, when there were enough wins.
    pub cycle: Option<CycleFit>,
    /// What the arrivals count: deals by created date, or leads.
    pub arrivals_of: String,
    /// Arrivals per period.
    pub arrivals: Arrivals,
    /// The open pipeline.
    pub open: OpenSummary,
    /// Warnings about this segment.
    pub warnings: Vec<String>,
    /// The scenario segment.
    #[serde(skip)]
    pub scenario: Value,
}

/// Inputs shared by all segments.
pub struct Shared<'a> {
    /// The snapshot.
    pub snap: &'a Snapshot<'a>,
    /// The options.
    pub opts: &'a FitOptions,
    /// First created date of any deal (or lead): where arrivals start.
    pub first: Date,
    /// Deal ids with their created date, to match leads to deals.
    pub deal_created: HashMap<&'a str, Option<Date>>,
}

/// Fits one segment from its deals (and leads, when given).
pub fn fit_segment(
    name: &str,
    deals: &[&Known],
    leads: Option<&[&Lead]>,
    sh: &Shared,
) -> Result<SegmentFit, FitError> {
    let funnel = &sh.snap.funnel;
    let mut warnings = Vec::new();
    let stages = count_stages(deals, &funnel.stages);
    let prior = sh.opts.prior;
    let rates: Vec<RateFit> = stages.iter().map(|c| c.posterior(prior)).collect();
    stage_warnings(&stages, &mut warnings);

    let won = deals.iter().filter(|k| k.outcome == Outcome::Won).count();
    let lost = deals.iter().filter(|k| k.outcome == Outcome::Lost).count();
    let closed_win_rate = (won + lost > 0).then(|| won as f64 / (won + lost) as f64);
    let fitted_win_rate = rates.iter().map(|r| r.mean).product();
    let mature_win_rate = mature(deals, sh);
    maturity_warning(closed_win_rate, mature_win_rate, &mut warnings);

    // Deal size from wins with a positive amount.
    let sizes: Vec<f64> = deals
        .iter()
        .filter(|k| k.outcome == Outcome::Won)
        .filter_map(|k| k.deal.amount.filter(|a| *a > 0.0))
        .collect();
    let won_without_amount = won - sizes.len();
    let deal_size =
        size::fit_sizes(&sizes, sh.opts.deal_size).map_err(|source| FitError::DealSize {
            segment: name.to_string(),
            source,
        })?;
    size_warnings(&deal_size, won_without_amount, &mut warnings);

    // Chance each open stage's deal is won: product of the rates left.
    let win_from: Vec<f64> = (0..=rates.len())
        .map(|i| rates[i..].iter().map(|r| r.mean).product())
        .collect();
    let cycle = fit_cycle(deals, &win_from, &mut warnings);

    let lead_part = leads.map(|l| lead_stage(l, sh));
    let (arrivals_of, arrivals, lead_count) = match lead_part {
        Some((count, dates)) => {
            let a = activity::arrivals(&dates, sh.first, sh.snap.as_of, sh.opts.period_days);
            ("leads".to_string(), a, Some(count))
        }
        None => {
            let dates: Vec<Date> = deals.iter().filter_map(|k| k.deal.created).collect();
            let a = activity::arrivals(&dates, sh.first, sh.snap.as_of, sh.opts.period_days);
            ("deals by created date".to_string(), a, None)
        }
    };
    arrival_warnings(&arrivals, &mut warnings);

    let (pipeline, open) = open_pipeline(deals, funnel, deal_size.dist_mean);
    if open.imputed > 0 {
        warnings.push(format!(
            "{} open deals have no amount; each is given the fitted mean size {:.2}",
            open.imputed, deal_size.dist_mean
        ));
    }
    if open.undated > 0 {
        warnings.push(format!(
            "{} open deals have no created date; their age is taken as 0 days",
            open.undated
        ));
    }

    let ansoff = sh.opts.ansoff.get(name).copied();
    let mut all_stages = stages.clone();
    let mut all_rates = rates.clone();
    if let Some(c) = &lead_count {
        all_rates.insert(0, c.posterior(prior));
        all_stages.insert(0, c.clone());
    }
    let scenario = segment_json(SegmentParts {
        name,
        ansoff,
        stages: &all_stages,
        won_stage: &funnel.won,
        arrivals: &arrivals,
        size: &deal_size,
        cycle: cycle.as_ref(),
        pipeline,
        opts: sh.opts,
        stale_after: sh.snap.accounting.stale_after_days,
    });
    Ok(SegmentFit {
        name: name.to_string(),
        ansoff,
        stages: all_stages,
        rates: all_rates,
        won,
        lost,
        closed_win_rate,
        mature_win_rate,
        fitted_win_rate,
        deal_size,
        won_without_amount,
        cycle,
        arrivals_of,
        arrivals,
        open,
        warnings,
        scenario,
    })
}

/// Counts per stage from each deal's furthest stage and outcome.
pub fn count_stages(deals: &[&Known], stages: &[String]) -> Vec<StageCount> {
    let mut counts: Vec<StageCount> = stages
        .iter()
        .map(|s| StageCount {
            stage: s.clone(),
            ..StageCount::default()
        })
        .collect();
    for k in deals {
        let top = k.furthest.min(stages.len());
        for c in counts.iter_mut().take(top) {
            c.advanced += 1;
        }
        if top == stages.len() {
            continue;
        }
        let c = &mut counts[top];
        match k.outcome {
            Outcome::Lost => {
                c.failed += 1;
                c.stale_lost += u64::from(k.stale);
            }
            Outcome::Open => c.censored += 1,
            Outcome::Won => {}
        }
    }
    counts
}

// Won share of closed deals old enough that any outcome would show.
fn mature(deals: &[&Known], sh: &Shared) -> Option<(f64, usize)> {
    let h = sh.snap.accounting.stale_after_days?;
    let cutoff = sh.snap.as_of.plus_days(-h);
    let old = deals
        .iter()
        .filter(|k| k.deal.created.is_some_and(|c| c < cutoff));
    let (mut won, mut closed) = (0usize, 0usize);
    for k in old {
        won += usize::from(k.outcome == Outcome::Won);
        closed += usize::from(k.outcome != Outcome::Open);
    }
    (closed > 0).then(|| (won as f64 / closed as f64, closed))
}

fn maturity_warning(all: Option<f64>, mature: Option<(f64, usize)>, w: &mut Vec<String>) {
    let (Some(p), Some((m, n))) = (all, mature) else {
        return;
    };
    let se = (m * (1.0 - m) / n as f64).sqrt();
    if (p - m).abs() > 2.0 * se.max(1e-9) && n >= THIN as usize {
        w.push(format!(
            "win rate of closed deals {:.1}% differs from that of deals older than the stale age ({:.1}% of {n}) by more than 2 standard errors: outcomes drift over time, or wins and losses take different times to close",
            100.0 * p,
            100.0 * m
        ));
    }
}

fn stage_warnings(stages: &[StageCount], warnings: &mut Vec<String>) {
    for c in stages {
        let n = c.entered();
        if n == 0 {
            warnings.push(format!(
                "stage {:?} has no resolved deals: its rate is the prior alone",
                c.stage
            ));
        } else if n < THIN {
            warnings.push(format!(
                "stage {:?} has only {n} resolved deals: its rate is uncertain",
                c.stage
            ));
        }
    }
}

fn size_warnings(fit: &SizeFit, without: usize, warnings: &mut Vec<String>) {
    if without > 0 {
        warnings.push(format!(
            "{without} won deals have no positive amount; left out of the deal-size fit"
        ));
    }
    // The 5 % critical value of the KS distance for a fully specified
    // CDF; with fitted parameters the true one is smaller, so a distance
    // above it is a clear misfit.
    let critical = 1.36 / (fit.n as f64).sqrt();
    for c in fit
        .candidates
        .iter()
        .filter(|c| size::family_name(c.family) == fit.chosen)
    {
        if c.ks > critical {
            warnings.push(format!(
                "deal sizes fit the {} poorly (KS distance {:.3} > {:.3}); consider --deal-size empirical",
                fit.chosen, c.ks, critical
            ));
        }
    }
}

fn fit_cycle(deals: &[&Known], win_from: &[f64], warnings: &mut Vec<String>) -> Option<CycleFit> {
    let won: Vec<f64> = deals
        .iter()
        .filter(|k| k.outcome == Outcome::Won)
        .filter_map(|k| Some(k.deal.closed?.days_since(k.deal.created?) as f64))
        .collect();
    let open: Vec<(f64, f64)> = deals
        .iter()
        .filter(|k| k.outcome == Outcome::Open)
        .filter_map(|k| Some((k.age? as f64, win_from[k.stage.unwrap_or(0)])))
        .collect();
    let fit = cycle::fit_cycle(&won, &open);
    match &fit {
        None => warnings.push(format!(
            "cycle time not fitted ({} won deals with both dates, {} needed, or all equal): \
             no cycle_days, so every win counts in the period",
            won.len(),
            cycle::MIN_EVENTS
        )),
        Some(c) if c.zero_day > 0 => warnings.push(format!(
            "{} deals were won on the day they were created; read as {} day",
            c.zero_day,
            cycle::ZERO_DAY
        )),
        Some(_) => {}
    }
    // A fitted median far from the data's own (Kaplan-Meier) median means
    // neither family describes these cycles: say so, since the chance of a
    // win closing inside the period follows from the cycle.
    if let Some(c) = &fit {
        if let Some(km) = c.km_median.filter(|km| *km > 0.0) {
            let ratio = c.fitted_median / km;
            if !(0.8..=1.25).contains(&ratio) {
                warnings.push(format!(
                    "cycle time fits poorly: the fitted {} has a median of {:.0} days, the data's \
                     (Kaplan-Meier) median is {:.0}; the share of wins closing inside the period \
                     is uncertain",
                    c.chosen, c.fitted_median, km
                ));
            }
        }
    }
    fit
}

fn arrival_warnings(a: &Arrivals, warnings: &mut Vec<String>) {
    if a.scaled_from_partial {
        warnings.push(
            "less than one whole period of arrivals; the mean is scaled from a shorter span".into(),
        );
    } else if a.counts.len() < 3 {
        warnings.push(format!(
            "arrivals from only {} whole periods; their spread is barely known",
            a.counts.len()
        ));
    }
    if let Some(d) = a.dispersion.filter(|d| *d > 2.0) {
        warnings.push(format!(
            "arrivals vary {d:.1} times as much as a Poisson count (variance/mean); \
             the Poisson activity understates how uncertain the next period is"
        ));
    }
}

// Lead stage counts and arrival dates for the leads of one segment.
fn lead_stage(leads: &[&Lead], sh: &Shared) -> (StageCount, Vec<Date>) {
    let as_of = sh.snap.as_of;
    let converted_on = |l: &Lead| {
        let via_deal = sh
            .deal_created
            .get(l.id.as_str())
            .map(|c| c.unwrap_or(l.date));
        l.converted.or(via_deal).filter(|d| *d <= as_of)
    };
    let lags: Vec<i32> = leads
        .iter()
        .filter_map(|l| Some(converted_on(l)?.days_since(l.date)))
        .collect();
    let longest = lags.iter().copied().max().unwrap_or(0);
    let mut count = StageCount {
        stage: LEAD_STAGE.into(),
        ..StageCount::default()
    };
    for l in leads {
        if converted_on(l).is_some() {
            count.advanced += 1;
        } else if as_of.days_since(l.date) > longest {
            count.failed += 1;
        } else {
            count.censored += 1;
        }
    }
    (count, leads.iter().map(|l| l.date).collect())
}

fn open_pipeline(deals: &[&Known], funnel: &super::Funnel, mean: f64) -> (Vec<Value>, OpenSummary) {
    let mut sum = OpenSummary::default();
    let mut per_stage = vec![0usize; funnel.stages.len()];
    let mut rows = Vec::new();
    for k in deals.iter().filter(|k| k.outcome == Outcome::Open) {
        let stage = k.stage.unwrap_or(0);
        let amount = k.deal.amount.filter(|a| *a > 0.0);
        sum.imputed += usize::from(amount.is_none());
        sum.undated += usize::from(k.age.is_none());
        let amount = amount.unwrap_or(round_sig(mean));
        sum.amount += amount;
        per_stage[stage] += 1;
        rows.push(json!({
            "id": k.deal.id,
            "stage": funnel.stages[stage],
            "amount": amount,
            "age_days": k.age.unwrap_or(0).max(0),
        }));
    }
    sum.count = rows.len();
    sum.by_stage = funnel.stages.iter().cloned().zip(per_stage).collect();
    (rows, sum)
}

struct SegmentParts<'a> {
    name: &'a str,
    ansoff: Option<Ansoff>,
    stages: &'a [StageCount],
    won_stage: &'a str,
    arrivals: &'a Arrivals,
    size: &'a SizeFit,
    cycle: Option<&'a CycleFit>,
    pipeline: Vec<Value>,
    opts: &'a FitOptions,
    stale_after: Option<i32>,
}

fn segment_json(p: SegmentParts) -> Value {
    let mut stages: Vec<Value> = p
        .stages
        .iter()
        .map(|c| json!({"name": c.stage, "to_next": c.dist(p.opts.prior)}))
        .collect();
    stages.push(json!({"name": p.won_stage}));
    let mean = round_sig(p.arrivals.mean);
    let activity = if mean > 0.0 {
        json!({"dist": "poisson", "mean": mean})
    } else {
        json!(0)
    };
    let mut seg = Map::new();
    seg.insert("name".into(), json!(p.name));
    if let Some(a) = p.ansoff {
        seg.insert("ansoff".into(), json!(a.as_str()));
    }
    seg.insert("stages".into(), Value::Array(stages));
    seg.insert("activity".into(), activity);
    seg.insert("deal_size".into(), p.size.dist.clone());
    if let Some(c) = p.cycle {
        seg.insert("cycle_days".into(), c.dist.clone());
    }
    if !p.pipeline.is_empty() {
        seg.insert("open_pipeline".into(), Value::Array(p.pipeline));
    }
    if let (StaleRule::Decay, Some(after)) = (p.opts.stale, p.stale_after) {
        let slip = json!({
            "stale_after_days": after,
            "stale_half_life_days": p.opts.stale_half_life_days,
        });
        seg.insert("slip".into(), slip);
    }
    Value::Object(seg)
}
