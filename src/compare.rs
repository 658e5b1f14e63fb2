//! Comparing scenarios: "what if we add two reps", read off one table.
//!
//! Every scenario runs with the same seed and the same number of trials
//! (the first scenario's), so trial `i` of every scenario draws the same
//! random numbers wherever the scenarios agree: the same segment at the
//! same position in the list draws the same rates, leads and deals (each
//! segment's streams are keyed by the seed, the trial and the segment's
//! index). A difference between two scenarios is then the effect of what
//! differs, with little of the noise two independent runs would add: its
//! standard error comes from the paired per-trial differences
//! ([`paired`]), and the unpaired one is reported beside it to show the
//! gain.
//!
//! Scenarios with different segment lists still compare: segments at the
//! same index share streams, and the rest draw their own. List shared
//! segments in the same order, new ones last, for the sharpest comparison.
//!
//! The first scenario's confidence levels and stretch confidence apply to
//! all, so commit, stretch and leads needed are compared at the same
//! confidence. Their differences carry no standard error: they are order
//! statistics, and an honest one would need a paired bootstrap.

use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::engine::{self, Settings};
use crate::model::Model;
use crate::summary::{self, hit_indicators, paired, Paired, Summary};

/// Scenarios run side by side with common random numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The version of revpipe that produced this result.
    pub revpipe_version: String,
    /// The seed every scenario ran with.
    pub seed: u64,
    /// The trials every scenario ran.
    pub trials: u64,
    /// Each scenario's result, in the order given.
    pub scenarios: Vec<Summary>,
    /// Each scenario after the first against the first.
    pub differences: Vec<Difference>,
    /// What a reader should know: a scenario's own seed, trials or levels
    /// that the first scenario's replaced, a currency that differs.
    pub notes: Vec<String>,
}

/// One scenario against the first: its value less the first's.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// The scenario's position in `scenarios` (1 for the second).
    pub scenario: usize,
    /// Its name.
    pub name: String,
    /// P(hit), with paired and unpaired standard errors.
    pub p_hit: Paired,
    /// Mean revenue, with paired and unpaired standard errors.
    pub mean_revenue: Paired,
    /// Median revenue (no standard error).
    pub p50: f64,
    /// The commit number (no standard error).
    pub commit: f64,
    /// The stretch number (no standard error).
    pub stretch: f64,
    /// Leads needed per confidence level (no standard error).
    pub leads_needed: Vec<LeadsDifference>,
}

/// The difference in leads needed at one confidence level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LeadsDifference {
    /// The confidence, such as 0.9.
    pub confidence: f64,
    /// The scenario's leads less the first's; `None` when either is not
    /// reachable.
    pub difference: Option<i64>,
}

/// Runs every model with the first one's seed, trials, confidence levels
/// and stretch confidence, and compares each later one with the first.
///
/// `progress`, when given, is advanced by every trial of every run.
///
/// # Errors
///
/// Fails only when the thread pool cannot be built.
///
/// # Panics
///
/// If `models` is empty.
pub fn compare(
    models: &[Model],
    settings: &Settings,
    progress: Option<&AtomicU64>,
) -> Result<Comparison, rayon::ThreadPoolBuildError> {
    let first = models.first().expect("compare: no scenario");
    let mut notes = Vec::new();
    let mut summaries = Vec::with_capacity(models.len());
    let mut hits = Vec::with_capacity(models.len());
    let mut revenues = Vec::with_capacity(models.len());
    for model in models {
        let model = aligned(model, first, &mut notes);
        let trials = engine::run(&model, settings, progress)?;
        let revenue = trials.revenue.clone();
        hits.push(hit_indicators(&revenue, model.target));
        revenues.push(revenue);
        summaries.push(summary::summarize(&model, settings, trials));
    }

    let differences = (1..models.len())
        .map(|k| Difference {
            scenario: k,
            name: summaries[k].name.clone(),
            p_hit: paired(&hits[0], &hits[k]),
            mean_revenue: paired(&revenues[0], &revenues[k]),
            p50: summaries[k].revenue.p50 - summaries[0].revenue.p50,
            commit: summaries[k].commit.revenue - summaries[0].commit.revenue,
            stretch: summaries[k].stretch.revenue - summaries[0].stretch.revenue,
            leads_needed: leads_differences(&summaries[0], &summaries[k]),
        })
        .collect();
    Ok(Comparison {
        revpipe_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: first.seed,
        trials: first.trials,
        scenarios: summaries,
        differences,
        notes,
    })
}

/// The model with the first one's seed, trials and levels, noting what
/// changed.
fn aligned(model: &Model, first: &Model, notes: &mut Vec<String>) -> Model {
    let mut out = model.clone();
    let mut replaced = Vec::new();
    if model.seed != first.seed {
        replaced.push(format!("seed {}", model.seed));
    }
    if model.trials != first.trials {
        replaced.push(format!("{} trials", model.trials));
    }
    if model.confidence != first.confidence || model.stretch_confidence != first.stretch_confidence
    {
        replaced.push("confidence levels".to_string());
    }
    if !replaced.is_empty() {
        notes.push(format!(
            "{:?}: its {} replaced by the first scenario's",
            model.name,
            replaced.join(", ")
        ));
    }
    if model.currency != first.currency {
        notes.push(format!(
            "{:?}: its amounts are in {}, the first scenario's in {}: differences mix currencies",
            model.name, model.currency, first.currency
        ));
    }
    out.seed = first.seed;
    out.trials = first.trials;
    out.confidence = first.confidence.clone();
    out.stretch_confidence = first.stretch_confidence;
    out
}

/// Leads needed at each level, the scenario's less the first's (the
/// levels are the same: both ran with the first's).
fn leads_differences(first: &Summary, other: &Summary) -> Vec<LeadsDifference> {
    first
        .levels
        .iter()
        .zip(&other.levels)
        .map(|(a, b)| LeadsDifference {
            confidence: a.confidence,
            difference: a
                .leads_needed
                .zip(b.leads_needed)
                .map(|(a, b)| b as i64 - a as i64),
        })
        .collect()
}
