//! The naive forecasts a finance team would otherwise use, each a single
//! number for the period:
//!
//! - **last period**: the actual revenue of the period before;
//! - **one cycle back**: the actual of the same month of the last
//!   quarter (monthly periods) or the same quarter of last year
//!   (quarterly), which carries over a quarter-end push or a seasonal
//!   quarter; undefined while the data is shorter than a cycle;
//! - **stage-weighted pipeline**: what a CRM's forecast view shows, each
//!   open deal's amount times the chance of winning from its stage,
//!   summed. It uses the same open deals and amounts the simulation gets
//!   (after the stale rule, with missing amounts imputed), and the stage
//!   chance fitted from the history (the product of the mean conversion
//!   rates from the deal's stage on), so the difference from the
//!   simulation is what the simulation adds: new deals that close inside
//!   the period, timing, and spread. A CRM's own stage probabilities are
//!   set by hand and its view keeps stale deals.

use super::actual::Closes;
use super::period::Period;
use crate::model::Model;

/// Which naive forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// Last period's actual.
    LastPeriod,
    /// The actual one seasonal cycle back.
    CycleBack,
    /// Open amount times the stage's win chance.
    WeightedPipeline,
}

impl Baseline {
    /// Every baseline, in the order reports list them.
    pub const ALL: [Baseline; 3] = [
        Baseline::LastPeriod,
        Baseline::CycleBack,
        Baseline::WeightedPipeline,
    ];

    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            Baseline::LastPeriod => "last_period",
            Baseline::CycleBack => "cycle_back",
            Baseline::WeightedPipeline => "weighted_pipeline",
        }
    }

    /// A name for people.
    pub fn name(self, kind: super::PeriodKind) -> &'static str {
        match self {
            Baseline::LastPeriod => "last period",
            Baseline::CycleBack => kind.cycle_name(),
            Baseline::WeightedPipeline => "stage-weighted pipeline",
        }
    }
}

/// The baselines' numbers for one period; `None` where undefined.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct BaselineValues {
    /// Last period's actual.
    pub last_period: Option<f64>,
    /// The actual one cycle back.
    pub cycle_back: Option<f64>,
    /// The stage-weighted open pipeline (needs the period's fit).
    pub weighted_pipeline: Option<f64>,
}

impl BaselineValues {
    /// The two baselines that need only past actuals.
    pub fn from_history(closes: &Closes, p: Period) -> BaselineValues {
        let back = |n: i32| closes.actual(p.shift(-n)).map(|a| a.revenue);
        BaselineValues {
            last_period: back(1),
            cycle_back: back(p.kind().cycle()),
            weighted_pipeline: None,
        }
    }

    /// The value of one baseline.
    pub fn get(&self, b: Baseline) -> Option<f64> {
        match b {
            Baseline::LastPeriod => self.last_period,
            Baseline::CycleBack => self.cycle_back,
            Baseline::WeightedPipeline => self.weighted_pipeline,
        }
    }
}

/// The stage-weighted open pipeline of a model: each open deal's amount
/// times the product of the mean conversion rates from its stage to won.
pub fn weighted_pipeline(model: &Model) -> f64 {
    let mut total = 0.0;
    for seg in &model.segments {
        // win_from[s]: the mean chance a deal at stage s is won.
        let mut win_from = vec![1.0; seg.rates.len() + 1];
        for s in (0..seg.rates.len()).rev() {
            win_from[s] = win_from[s + 1] * seg.rates[s].mean();
        }
        total += seg
            .open
            .iter()
            .map(|d| d.amount * win_from[d.stage])
            .sum::<f64>();
    }
    total
}
