//! What actually closed: the won revenue of each period, from the same
//! export the forecasts are fitted to.
//!
//! A period's actual is the sum of the amounts of deals won with a close
//! date inside it. The record of closes starts with the period that holds
//! the earliest close (won or lost); earlier periods have no known actual,
//! because an export that starts recording closes later (Maven's has none
//! before March 2017) would otherwise read as periods of zero revenue.

use super::period::Period;
use crate::fit::{Date, DealFile, Outcome};

/// One period's actual revenue.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Actual {
    /// Sum of won amounts closed inside the period.
    pub revenue: f64,
    /// Deals won inside the period.
    pub won_deals: usize,
    /// Of those, deals without an amount (counted as 0).
    pub won_without_amount: usize,
    /// Deals lost inside the period.
    pub lost_deals: usize,
}

/// The closes of an export.
#[derive(Clone, Debug)]
pub struct Closes {
    // Close date and amount of each won deal, by date.
    won: Vec<(Date, Option<f64>)>,
    // Close date of each lost deal, by date.
    lost: Vec<Date>,
    /// The earliest close date, won or lost.
    pub first_close: Option<Date>,
    /// The latest date anywhere in the deals (created or closed).
    pub latest: Option<Date>,
}

impl Closes {
    /// Reads the closes of every deal.
    pub fn new(deals: &DealFile) -> Closes {
        let mut won: Vec<(Date, Option<f64>)> = deals
            .deals
            .iter()
            .filter(|d| d.outcome == Outcome::Won)
            .filter_map(|d| Some((d.closed?, d.amount)))
            .collect();
        won.sort_by_key(|w| w.0);
        let mut lost: Vec<Date> = deals
            .deals
            .iter()
            .filter(|d| d.outcome == Outcome::Lost)
            .filter_map(|d| d.closed)
            .collect();
        lost.sort();
        let closed = deals.deals.iter().filter(|d| d.outcome != Outcome::Open);
        let first_close = closed.filter_map(|d| d.closed).min();
        let latest = deals
            .deals
            .iter()
            .flat_map(|d| [d.created, d.closed])
            .flatten()
            .max();
        Closes {
            won,
            lost,
            first_close,
            latest,
        }
    }

    /// Whether the export records the closes of the whole period: it
    /// starts no earlier than the period of the first close and ends by
    /// the latest date in the data.
    pub fn observed(&self, p: Period) -> bool {
        match (self.first_close, self.latest) {
            (Some(first), Some(latest)) => {
                p.start() >= Period::containing(p.kind(), first).start() && p.end() <= latest
            }
            _ => false,
        }
    }

    /// The won revenue of a period, or `None` when it is not observed.
    pub fn actual(&self, p: Period) -> Option<Actual> {
        if !self.observed(p) {
            return None;
        }
        let lo = self.won.partition_point(|w| w.0 < p.start());
        let hi = self.won.partition_point(|w| w.0 <= p.end());
        let inside = &self.won[lo..hi];
        let lost = self.lost.partition_point(|d| *d <= p.end())
            - self.lost.partition_point(|d| *d < p.start());
        Some(Actual {
            revenue: inside.iter().filter_map(|w| w.1).sum(),
            won_deals: inside.len(),
            won_without_amount: inside.iter().filter(|w| w.1.is_none()).count(),
            lost_deals: lost,
        })
    }

    /// The observed periods before `p`, oldest first, with their actuals.
    pub fn before(&self, p: Period) -> Vec<(Period, Actual)> {
        let Some(first) = self.first_close else {
            return Vec::new();
        };
        let mut q = Period::containing(p.kind(), first);
        let mut out = Vec::new();
        while q < p {
            out.extend(self.actual(q).map(|a| (q, a)));
            q = q.shift(1);
        }
        out
    }

    /// The mean actual of the observed periods before `p` (the run-rate
    /// target), with their count; `None` when there are none.
    pub fn run_rate(&self, p: Period) -> Option<(f64, usize)> {
        let past = self.before(p);
        let n = past.len();
        (n > 0).then(|| {
            (
                past.iter().map(|(_, a)| a.revenue).sum::<f64>() / n as f64,
                n,
            )
        })
    }
}
