//! What a fit is asked to do: the as-of date, the period, the target,
//! and each statistical choice, with defaults a user can state back.

use super::conversion::Prior;
use super::size::SizeChoice;
use super::Date;
use std::collections::BTreeMap;
use std::str::FromStr;

/// What to do with open deals older than any deal that ever closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StaleRule {
    /// Count them as lost at their stage and leave them out of the open
    /// pipeline (the default: nothing that old has ever closed).
    #[default]
    Lost,
    /// Keep them open: censored in the rates, in the open pipeline.
    Open,
    /// Leave them out of the rates and the open pipeline.
    Drop,
    /// Keep them open, and write the scenario's `slip` rule so that past
    /// the stale age their chance of closing halves every
    /// `stale_half_life_days` (they decay towards lost in the simulation).
    Decay,
}

impl FromStr for StaleRule {
    type Err = String;
    fn from_str(s: &str) -> Result<StaleRule, String> {
        match s {
            "lost" => Ok(StaleRule::Lost),
            "open" => Ok(StaleRule::Open),
            "drop" => Ok(StaleRule::Drop),
            "decay" => Ok(StaleRule::Decay),
            _ => Err(format!("{s:?}: expected lost, open, drop or decay")),
        }
    }
}

pub use crate::model::Ansoff;

/// Everything [`fit`](super::fit()) needs besides the rows.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Only rows known on this day are used; default the latest date in
    /// the inputs.
    pub as_of: Option<Date>,
    /// Revenue target of the period.
    pub target: f64,
    /// Length of the period in days; also the length of the periods
    /// arrivals are counted in.
    pub period_days: u32,
    /// Revenue already booked in the period.
    pub booked: f64,
    /// Scenario name (default: from the export's file name and as-of).
    pub name: Option<String>,
    /// Currency code (default: the one written beside the amounts).
    pub currency: Option<String>,
    /// Trials the scenario asks for.
    pub trials: u64,
    /// Seed the scenario asks for.
    pub seed: u64,
    /// Confidence levels the scenario asks for.
    pub confidence: Vec<f64>,
    /// Prior of every conversion rate.
    pub prior: Prior,
    /// Deal-size distribution.
    pub deal_size: SizeChoice,
    /// What to do with stale open deals.
    pub stale: StaleRule,
    /// An open deal is stale past this age; default the longest cycle of
    /// any closed deal known on the as-of date.
    pub stale_after_days: Option<u32>,
    /// With [`StaleRule::Decay`]: days over which a stale deal's chance of
    /// closing halves.
    pub stale_half_life_days: u32,
    /// Open stages in order, overriding the layout and the history.
    pub stages: Option<Vec<String>>,
    /// Quadrant of each segment value.
    pub ansoff: BTreeMap<String, Ansoff>,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            as_of: None,
            target: 0.0,
            period_days: 90,
            booked: 0.0,
            name: None,
            currency: None,
            trials: 20_000,
            seed: 1,
            confidence: vec![0.9, 0.5],
            prior: Prior::UNIFORM,
            deal_size: SizeChoice::Auto,
            stale: StaleRule::Lost,
            stale_after_days: None,
            stale_half_life_days: 30,
            stages: None,
            ansoff: BTreeMap::new(),
        }
    }
}
