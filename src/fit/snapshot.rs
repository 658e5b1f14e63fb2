//! The deals as they stood on the as-of date: which existed, which were
//! open, won or lost then, at which stage, how old, and which were stale.
//! Everything after this step sees only what was known on that day.

use super::deals::{Deal, DealFile, Outcome};
use super::history::{self, DealPath, HistoryFile};
use super::layout::Funnel;
use super::options::{FitOptions, StaleRule};
use super::{Date, FitError};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A deal as known on the as-of date.
#[derive(Clone, Debug)]
pub struct Known<'a> {
    /// The row.
    pub deal: &'a Deal,
    /// Open, won or lost on the as-of date.
    pub outcome: Outcome,
    /// Stage index on the as-of date (open deals only).
    pub stage: Option<usize>,
    /// Furthest stage reached: an open stage index, or the number of open
    /// stages for a win.
    pub furthest: usize,
    /// Days from created to the as-of date (open deals with a date).
    pub age: Option<i32>,
    /// Open and older than the stale age.
    pub stale: bool,
    /// Segment name.
    pub segment: String,
}

/// How the deals of the export were used.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DealAccounting {
    /// Deals loaded from the export.
    pub loaded: usize,
    /// Known on the as-of date and used.
    pub used: usize,
    /// Created after the as-of date: not used.
    pub created_after_as_of: usize,
    /// Without a created date, left out because the as-of date is before
    /// the end of the data (when they appeared is unknown).
    pub undated_left_out: usize,
    /// Won on the as-of date.
    pub won: usize,
    /// Lost on the as-of date.
    pub lost: usize,
    /// Open on the as-of date (stale ones included).
    pub open: usize,
    /// Open and older than `stale_after_days`.
    pub stale: usize,
    /// The stale age used, if any closed deal had both dates.
    pub stale_after_days: Option<i32>,
    /// Open deals without a created date (age unknown).
    pub open_undated: usize,
}

/// The deals on the as-of date and the funnel they move through.
#[derive(Clone, Debug)]
pub struct Snapshot<'a> {
    /// The as-of date.
    pub as_of: Date,
    /// Latest date anywhere in the inputs.
    pub latest: Date,
    /// Open stages in use, in order; then the won stage.
    pub funnel: Funnel,
    /// Deals known on the as-of date.
    pub deals: Vec<Known<'a>>,
    /// The account.
    pub accounting: DealAccounting,
    /// Warnings about the history and the deals.
    pub warnings: Vec<String>,
}

/// Latest date in the deals and the history.
pub fn latest_date(deals: &DealFile, history: Option<&HistoryFile>) -> Option<Date> {
    let d = deals
        .deals
        .iter()
        .flat_map(|d| [d.created, d.closed])
        .flatten();
    let h = history
        .into_iter()
        .flat_map(|h| h.changes.iter().map(|c| c.date));
    d.chain(h).max()
}

struct Draft<'a> {
    deal: &'a Deal,
    outcome: Outcome,
    stage: Option<String>,
}

/// Builds the snapshot.
pub fn snapshot<'a>(
    file: &'a DealFile,
    history: Option<&HistoryFile>,
    latest: Date,
    as_of: Date,
    opts: &FitOptions,
) -> Result<Snapshot<'a>, FitError> {
    let (mut funnel, prunable) = base_funnel(file, history, opts)?;
    let paths = history.map(|h| history::paths(&h.changes, &funnel, as_of));
    let mut warnings = Vec::new();
    let mut acc = DealAccounting {
        loaded: file.deals.len(),
        ..DealAccounting::default()
    };
    let current = as_of >= latest;
    let path_of = |id: &str| paths.as_ref().and_then(|(p, _)| p.get(id));

    // Which deals existed, and their outcome and stage then.
    let mut drafts = Vec::new();
    for deal in &file.deals {
        match deal.created {
            Some(c) if c > as_of => {
                acc.created_after_as_of += 1;
                continue;
            }
            None if !current => {
                acc.undated_left_out += 1;
                continue;
            }
            _ => {}
        }
        let closed_by_then = deal.closed.is_none_or(|c| c <= as_of);
        let outcome = match deal.outcome {
            Outcome::Open => Outcome::Open,
            _ if closed_by_then && (deal.closed.is_some() || current) => deal.outcome,
            _ => Outcome::Open,
        };
        let stage = (outcome == Outcome::Open)
            .then(|| open_stage(deal, current, path_of(&deal.id), &funnel));
        drafts.push(Draft {
            deal,
            outcome,
            stage,
        });
    }
    check_stages(&drafts, &funnel)?;
    if prunable {
        prune(&mut funnel, file);
    }

    // Stale age: the longest cycle of any deal closed by the as-of date.
    let longest = drafts
        .iter()
        .filter(|d| d.outcome != Outcome::Open)
        .filter_map(|d| Some(d.deal.closed?.days_since(d.deal.created?)))
        .max();
    let stale_after = opts.stale_after_days.map(|d| d as i32).or(longest);
    acc.stale_after_days = stale_after;

    let mut deals = Vec::new();
    let created_idx = created_index(&funnel);
    for d in drafts {
        let path = path_of(&d.deal.id);
        let ctx = Ctx {
            funnel: &funnel,
            have_history: history.is_some(),
            segmented: file.segment_by.is_some(),
            created_idx,
            as_of,
            stale_after,
        };
        let mut k = known(d, path, &ctx);
        match k.outcome {
            Outcome::Won => acc.won += 1,
            Outcome::Lost => acc.lost += 1,
            Outcome::Open => {
                acc.open += 1;
                acc.open_undated += usize::from(k.age.is_none());
                acc.stale += usize::from(k.stale);
            }
        }
        if k.stale && opts.stale == StaleRule::Drop {
            continue;
        }
        if k.stale && opts.stale == StaleRule::Lost {
            k.outcome = Outcome::Lost;
        }
        deals.push(k);
    }
    acc.used = deals.len();
    if let (Some(h), Some((p, unknown))) = (history, &paths) {
        history_warnings(file, h, p, unknown, &mut warnings);
    } else if funnel.stages.len() > 1 {
        warnings.push(format!(
            "no stage history: each lost deal is counted as lost at the last open stage \
             ({}), so earlier stages show no losses; give --history for stage-by-stage rates",
            funnel.stages[funnel.stages.len() - 1]
        ));
    }
    Ok(Snapshot {
        as_of,
        latest,
        funnel,
        deals,
        accounting: acc,
        warnings,
    })
}

// The funnel, and whether it is a built-in default that may be pruned.
fn base_funnel(
    file: &DealFile,
    history: Option<&HistoryFile>,
    opts: &FitOptions,
) -> Result<(Funnel, bool), FitError> {
    let mut funnel = file.layout.funnel.clone();
    let mut prunable = false;
    if let Some(stages) = &opts.stages {
        funnel.stages = stages.clone();
    } else if let Some(order) = history.and_then(|h| history::stage_order(&h.changes, &funnel)) {
        funnel.stages = order;
    } else {
        prunable = file.layout.default_stages;
    }
    if funnel.stages.is_empty() {
        return Err(FitError::NoStages);
    }
    Ok((funnel, prunable))
}

// The open stage a deal was in on the as-of date, as written.
fn open_stage(deal: &Deal, current: bool, path: Option<&DealPath>, f: &Funnel) -> String {
    let open_now = deal.outcome == Outcome::Open;
    if current && open_now {
        return deal.stage.clone();
    }
    let from_history = path
        .and_then(|p| p.last.clone())
        .filter(|s| f.rank(s).is_some());
    let created = f
        .created_stage
        .clone()
        .unwrap_or_else(|| f.stages[0].clone());
    from_history.unwrap_or(if open_now && path.is_none() {
        created
    } else {
        path.and_then(|p| p.furthest.map(|i| f.stages[i].clone()))
            .unwrap_or(created)
    })
}

fn check_stages(drafts: &[Draft], funnel: &Funnel) -> Result<(), FitError> {
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for d in drafts {
        if let Some(s) = d.stage.as_ref().filter(|s| funnel.rank(s).is_none()) {
            *unknown.entry(s.clone()).or_default() += 1;
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = unknown
        .iter()
        .map(|(s, n)| format!("{s:?} ({n})"))
        .collect();
    Err(FitError::UnknownStages {
        found: found.join(", "),
        known: funnel.stages.join(", "),
        won: funnel.won.clone(),
        lost: funnel.lost.join(", "),
    })
}

// Drops the built-in stages that no deal of the whole file is in (so the
// funnel is the same whatever the as-of date), keeping the created stage.
fn prune(funnel: &mut Funnel, file: &DealFile) {
    let created = created_index(funnel);
    let used: HashSet<usize> = file
        .deals
        .iter()
        .filter_map(|d| funnel.rank(&d.stage))
        .chain([created])
        .collect();
    funnel.stages = (0..funnel.stages.len())
        .filter(|i| used.contains(i))
        .map(|i| funnel.stages[i].clone())
        .collect();
}

fn created_index(funnel: &Funnel) -> usize {
    funnel
        .created_stage
        .as_ref()
        .and_then(|s| funnel.rank(s))
        .unwrap_or(0)
}

struct Ctx<'f> {
    funnel: &'f Funnel,
    have_history: bool,
    segmented: bool,
    created_idx: usize,
    as_of: Date,
    stale_after: Option<i32>,
}

fn known<'a>(d: Draft<'a>, path: Option<&DealPath>, ctx: &Ctx) -> Known<'a> {
    let funnel = ctx.funnel;
    let n = funnel.stages.len();
    // Paths index the unpruned funnel: go through the stage names.
    let reached = path
        .and_then(|p| p.furthest_name.as_deref())
        .and_then(|s| funnel.rank(s));
    let stage = d.stage.as_deref().and_then(|s| funnel.rank(s));
    let furthest = match d.outcome {
        Outcome::Won => n,
        Outcome::Lost if ctx.have_history => reached.unwrap_or(ctx.created_idx),
        Outcome::Lost => n - 1,
        Outcome::Open => stage.unwrap_or(0).max(reached.unwrap_or(0)),
    };
    let open = d.outcome == Outcome::Open;
    let age = d
        .deal
        .created
        .filter(|_| open)
        .map(|c| ctx.as_of.days_since(c));
    let stale = open && age.zip(ctx.stale_after).is_some_and(|(a, s)| a > s);
    let segment = match ctx.segmented {
        true => d.deal.segment.clone().unwrap_or_else(|| "(blank)".into()),
        false => "all".into(),
    };
    Known {
        deal: d.deal,
        outcome: d.outcome,
        stage,
        furthest,
        age,
        stale,
        segment,
    }
}

fn history_warnings(
    file: &DealFile,
    h: &HistoryFile,
    paths: &HashMap<String, DealPath>,
    unknown: &BTreeMap<String, usize>,
    warnings: &mut Vec<String>,
) {
    let ids: HashSet<&str> = file.deals.iter().map(|d| d.id.as_str()).collect();
    let orphans: HashSet<&str> = h
        .changes
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| !ids.contains(id))
        .collect();
    if !orphans.is_empty() {
        warnings.push(format!(
            "{} deals in the history are not in the export; their history is not used",
            orphans.len()
        ));
    }
    let with_history = file.deals.iter().filter(|d| paths.contains_key(&d.id));
    let mut differ = 0;
    let (mut back, mut repeats, mut skipped_deals) = (0, 0, 0);
    for d in with_history {
        let p = &paths[&d.id];
        if p.last
            .as_deref()
            .is_some_and(|l| !l.eq_ignore_ascii_case(&d.stage))
        {
            differ += 1;
        }
        back += p.backwards;
        repeats += p.repeats;
        skipped_deals += usize::from(!p.skipped.is_empty());
    }
    let without = file.deals.len()
        - file
            .deals
            .iter()
            .filter(|d| paths.contains_key(&d.id))
            .count();
    let notes = [
        (differ, "deals end their history in a stage other than the export's; the export's stage is used for the outcome and the current stage"),
        (back, "moves go back to an earlier stage; a deal is counted once at each stage up to the furthest it reached"),
        (repeats, "history rows repeat the stage the deal was already in; ignored"),
        (skipped_deals, "deals skipped one or more stages; a skipped stage is counted as passed"),
        (without, "deals have no history rows (on or before the as-of date); lost ones are counted as lost at their created stage"),
    ];
    for (n, text) in notes {
        if n > 0 {
            warnings.push(format!("{n} {text}"));
        }
    }
    for (stage, n) in unknown {
        warnings.push(format!(
            "history stage {stage:?} ({n} rows) is not in the funnel; ignored"
        ));
    }
}
