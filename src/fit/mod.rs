//! `revpipe fit`: from a CRM export to a scenario.
//!
//! Loading and fitting are separate steps. The loaders ([`load_deals`],
//! [`load_history`], [`load_leads`]) read CSV files into typed rows and
//! account for every row they set aside; [`fit()`] turns those rows, as
//! known on an as-of date, into a scenario (JSON, the format `revpipe run`
//! reads) and a [`FitReport`] that traces each fitted number to its rows.
//! A walk-forward backtest loads once and calls [`fit()`] with a
//! different [`FitOptions::as_of`] for each period.
//!
//! ```no_run
//! use revpipe::fit::{self, FitOptions, LoadOptions};
//! let load = LoadOptions::default();
//! let deals = fit::load_deals("sales_pipeline.csv".as_ref(), &load)?;
//! let opts = FitOptions { target: 3.0e6, period_days: 90, ..FitOptions::default() };
//! let fitted = fit::fit(&deals, None, None, &opts)?;
//! eprintln!("{}", fitted.report);
//! fit::write_atomic("scenario.json".as_ref(), fitted.scenario_text().as_bytes(), false)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod activity;
pub mod command;
pub mod conversion;
pub mod csvread;
pub mod cycle;
mod date;
pub mod deals;
pub mod history;
pub mod layout;
pub mod leads;
pub mod load;
pub mod mle;
pub mod options;
pub mod parse;
pub mod report;
pub mod segment;
pub mod size;
pub mod snapshot;
pub mod write;

pub use command::{run, CommandError, FitCommand};
pub use conversion::Prior;
pub use date::Date;
pub use deals::{load_deals, Deal, DealFile, Outcome};
pub use history::{load_history, HistoryFile, StageChange};
pub use layout::{Funnel, Layout, LayoutSpec};
pub use leads::{load_leads, Lead, LeadFile};
pub use load::{LoadError, LoadOptions, Source};
pub use options::{Ansoff, FitOptions, StaleRule};
pub use report::FitReport;
pub use size::SizeChoice;
pub use write::{write_atomic, WriteError};

use segment::{fit_segment, Shared};
use serde_json::{json, Value};
use snapshot::Known;
use std::collections::{BTreeMap, HashMap};

/// Why a fit cannot be made from the rows given.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// An option out of its valid range.
    #[error("{name} = {value}: {valid}")]
    Option {
        /// The option.
        name: &'static str,
        /// Its value.
        value: String,
        /// What would be valid.
        valid: &'static str,
    },
    /// The funnel has no open stages.
    #[error("the export's layout gives no stage order; pass --stages \"FIRST,SECOND,...\" (open stages, first to last)")]
    NoStages,
    /// Deals sit in stages the funnel does not list.
    #[error("open deals are in stages the funnel does not list: {found} (known open stages: {known}; won: {won}; lost: {lost}); pass --stages with every open stage in order, or map won/lost stages in a mapping file")]
    UnknownStages {
        /// The stages with their counts.
        found: String,
        /// The funnel's open stages.
        known: String,
        /// The won stage.
        won: String,
        /// The lost stages.
        lost: String,
    },
    /// No deal was known on the as-of date.
    #[error("no deals were created on or before the as-of date {as_of}")]
    NoDeals {
        /// The as-of date.
        as_of: Date,
    },
    /// Deal sizes of a segment cannot be fitted.
    #[error("segment {segment:?}: deal size: {source}")]
    DealSize {
        /// The segment.
        segment: String,
        /// Why.
        source: size::SizeError,
    },
}

/// A fitted scenario and the report behind it.
#[derive(Clone, Debug)]
pub struct Fit {
    /// The scenario, in the format `revpipe run` reads.
    pub scenario: Value,
    /// Counts, fitted parameters, intervals and warnings.
    pub report: FitReport,
}

impl Fit {
    /// The scenario as pretty-printed JSON with a final newline.
    pub fn scenario_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.scenario).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn check_options(o: &FitOptions) -> Result<(), FitError> {
    let bad = |name, value: String, valid| Err(FitError::Option { name, value, valid });
    if !(o.target.is_finite() && o.target >= 0.0) {
        return bad("target", o.target.to_string(), "a number >= 0");
    }
    if !(o.booked.is_finite() && o.booked >= 0.0) {
        return bad("booked", o.booked.to_string(), "a number >= 0");
    }
    if o.period_days == 0 {
        return bad("period_days", "0".into(), "a whole number of days >= 1");
    }
    if o.trials == 0 {
        return bad("trials", "0".into(), "a whole number >= 1");
    }
    if let Some(c) = o.confidence.iter().find(|c| !(**c > 0.0 && **c < 1.0)) {
        return bad(
            "confidence",
            c.to_string(),
            "levels strictly between 0 and 1",
        );
    }
    Ok(())
}

/// Fits a scenario from deals, and optionally their stage history and
/// the leads at the top of the funnel, using only what was known on
/// `opts.as_of` (default: the latest date in the inputs).
pub fn fit(
    deals: &DealFile,
    history: Option<&HistoryFile>,
    leads: Option<&LeadFile>,
    opts: &FitOptions,
) -> Result<Fit, FitError> {
    check_options(opts)?;
    let lead_dates = leads
        .into_iter()
        .flat_map(|l| l.leads.iter().map(|l| l.date));
    let latest = snapshot::latest_date(deals, history)
        .into_iter()
        .chain(lead_dates)
        .max()
        .unwrap_or(Date::from_ymd(1970, 1, 1).expect("a valid day"));
    let as_of = opts.as_of.unwrap_or(latest);
    let snap = snapshot::snapshot(deals, history, latest, as_of, opts)?;
    if snap.deals.is_empty() {
        return Err(FitError::NoDeals { as_of });
    }
    let mut warnings = snap.warnings.clone();

    // Deals and leads by segment.
    let mut by_segment: BTreeMap<&str, Vec<&Known>> = BTreeMap::new();
    for k in &snap.deals {
        by_segment.entry(k.segment.as_str()).or_default().push(k);
    }
    let lead_groups = leads.map(|l| group_leads(l, &snap, &by_segment, &mut warnings));
    let first = first_day(&snap, leads);
    let shared = Shared {
        snap: &snap,
        opts,
        first,
        deal_created: deals
            .deals
            .iter()
            .map(|d| (d.id.as_str(), d.created))
            .collect(),
    };
    let mut segments = Vec::new();
    for (name, ds) in &by_segment {
        let ls = lead_groups
            .as_ref()
            .map(|g| g.get(*name).map_or(&[][..], |v| v.as_slice()));
        segments.push(fit_segment(name, ds, ls, &shared)?);
    }
    for key in opts
        .ansoff
        .keys()
        .filter(|k| !by_segment.contains_key(k.as_str()))
    {
        warnings.push(format!(
            "--ansoff names segment {key:?}, which has no deals; ignored"
        ));
    }
    let currency = currency(opts, deals, &mut warnings);
    let mut inputs = vec![deals.source.clone()];
    inputs.extend(history.map(|h| h.source.clone()));
    inputs.extend(leads.map(|l| l.source.clone()));
    let report = FitReport {
        as_of,
        latest,
        inputs,
        deals: snap.accounting.clone(),
        funnel: snap.funnel.clone(),
        prior: opts.prior,
        stale_rule: opts.stale,
        period_days: opts.period_days,
        currency: currency.clone(),
        segments,
        warnings,
    };
    let scenario = scenario_json(&report, opts);
    Ok(Fit { scenario, report })
}

fn first_day(snap: &snapshot::Snapshot, leads: Option<&LeadFile>) -> Date {
    let deal_days = snap.deals.iter().filter_map(|k| k.deal.created);
    let lead_days = leads
        .into_iter()
        .flat_map(|l| l.leads.iter().map(|l| l.date))
        .filter(|d| *d <= snap.as_of);
    deal_days.chain(lead_days).min().unwrap_or(snap.as_of)
}

// Leads known on the as-of date, by segment: the lead's own segment
// column, else the segment of the deal it became, else the only segment.
fn group_leads<'a>(
    leads: &'a LeadFile,
    snap: &snapshot::Snapshot,
    by_segment: &BTreeMap<&str, Vec<&Known>>,
    warnings: &mut Vec<String>,
) -> HashMap<String, Vec<&'a Lead>> {
    let deal_segment: HashMap<&str, &str> = snap
        .deals
        .iter()
        .map(|k| (k.deal.id.as_str(), k.segment.as_str()))
        .collect();
    let only = (by_segment.len() == 1)
        .then(|| by_segment.keys().next().copied())
        .flatten();
    let mut groups: HashMap<String, Vec<&Lead>> = HashMap::new();
    let mut unassigned = 0;
    for l in leads.leads.iter().filter(|l| l.date <= snap.as_of) {
        let seg = l
            .segment
            .as_deref()
            .or_else(|| deal_segment.get(l.id.as_str()).copied())
            .or(only);
        match seg {
            Some(s) => groups.entry(s.to_string()).or_default().push(l),
            None => unassigned += 1,
        }
    }
    if unassigned > 0 {
        warnings.push(format!(
            "{unassigned} leads have no segment (no segment column in the lead file and no deal); not used"
        ));
    }
    groups
}

fn currency(opts: &FitOptions, deals: &DealFile, warnings: &mut Vec<String>) -> String {
    if let Some(c) = &opts.currency {
        return c.clone();
    }
    match deals.currency.as_deref() {
        Some("$") => {
            warnings.push(
                "amounts are written with \"$\"; currency written as USD (set --currency if not)"
                    .into(),
            );
            "USD".into()
        }
        Some(c) => c.to_string(),
        None => {
            warnings.push("the export names no currency; written as USD (set --currency)".into());
            "USD".into()
        }
    }
}

fn scenario_json(r: &FitReport, opts: &FitOptions) -> Value {
    let file = r.inputs[0]
        .file
        .file_name()
        .map_or("export".into(), |f| f.to_string_lossy().into_owned());
    let name = opts
        .name
        .clone()
        .unwrap_or_else(|| format!("Fit of {file} as of {}", r.as_of));
    let segments: Vec<Value> = r.segments.iter().map(|s| s.scenario.clone()).collect();
    json!({
        "name": name,
        "description": r.provenance(),
        "currency": r.currency,
        "period_days": opts.period_days,
        "target": opts.target,
        "booked": opts.booked,
        "trials": opts.trials,
        "seed": opts.seed,
        "confidence": opts.confidence,
        "segments": segments,
    })
}
