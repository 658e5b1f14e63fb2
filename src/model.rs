//! The checked model the engine runs on.
//!
//! A [`Model`] is built only by validating a scenario
//! ([`crate::scenario::ScenarioFile::validate`]); everything that is the same
//! in every trial is computed here once: the chance that a new lead's win
//! closes inside the period, and each open deal's chance of closing inside
//! the period given its age.

use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::team::Team;

/// The four growth motions of the Ansoff matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ansoff {
    /// Existing products in existing markets.
    MarketPenetration,
    /// Existing products in new markets.
    MarketDevelopment,
    /// New products in existing markets.
    ProductDevelopment,
    /// New products in new markets.
    Diversification,
}

impl Ansoff {
    /// A short name that fits a table column.
    pub fn short_label(self) -> &'static str {
        match self {
            Ansoff::MarketPenetration => "penetration",
            Ansoff::MarketDevelopment => "market dev.",
            Ansoff::ProductDevelopment => "product dev.",
            Ansoff::Diversification => "diversification",
        }
    }

    /// The quadrant's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            Ansoff::MarketPenetration => "market penetration",
            Ansoff::MarketDevelopment => "market development",
            Ansoff::ProductDevelopment => "product development",
            Ansoff::Diversification => "diversification",
        }
    }
}

/// A validated forecast: the period, the number, and the segments.
#[derive(Debug, Clone)]
pub struct Model {
    /// The scenario's name.
    pub name: String,
    /// The currency code printed beside amounts.
    pub currency: String,
    /// The period's length `L`, in days.
    pub period_days: f64,
    /// The revenue number for the period.
    pub target: f64,
    /// Revenue already closed-won inside the period.
    pub booked: f64,
    /// Monte Carlo trials.
    pub trials: u64,
    /// The seed every stream derives from.
    pub seed: u64,
    /// Confidence levels to solve the activity for.
    pub confidence: Vec<f64>,
    /// The confidence of the stretch number.
    pub stretch_confidence: f64,
    /// The growth motions.
    pub segments: Vec<Segment>,
}

impl Model {
    /// The model with one segment's input replaced by `dist`, and the
    /// segment's constants computed again.
    ///
    /// # Panics
    ///
    /// If `segment` is out of range, or the input is one the segment does
    /// not have (a rate past its last stage).
    pub fn with_input(&self, segment: usize, input: Input, dist: Dist) -> Model {
        let mut model = self.clone();
        let s = &self.segments[segment];
        let (mut rates, mut activity, mut deal_size) =
            (s.rates.clone(), s.activity.clone(), s.deal_size.clone());
        let (mut cycle, mut slippage) = (s.cycle.clone(), s.slippage.clone());
        match input {
            Input::Rate(k) => rates[k] = dist,
            Input::Activity => activity = dist,
            Input::DealSize => deal_size = dist,
            Input::Cycle => cycle = Some(dist),
            Input::Slippage => slippage = Some(dist),
        }
        model.segments[segment] = Segment::new(
            s.name.clone(),
            s.ansoff,
            s.stages.clone(),
            rates,
            activity,
            deal_size,
            cycle,
            slippage,
            s.capacity,
            s.open.clone(),
            self.period_days,
        )
        .with_team(s.team.clone());
        model
    }

    /// Leads planned across all segments (the sum of activity means).
    pub fn planned_leads(&self) -> f64 {
        self.segments.iter().map(|s| s.planned_leads).sum()
    }

    /// The index of the segment with this name.
    pub fn segment_index(&self, name: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.name == name)
    }

    /// Open deals across all segments.
    pub fn open_deals(&self) -> usize {
        self.segments.iter().map(|s| s.open.len()).sum()
    }
}

/// An uncertain input of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// The conversion rate from this stage to the next (drawn per trial).
    Rate(usize),
    /// The number of new leads (drawn per trial).
    Activity,
    /// The size of each won deal (drawn per deal).
    DealSize,
    /// The sales cycle of each lead (per deal).
    Cycle,
    /// The factor on open-deal revenue (drawn per trial).
    Slippage,
}

impl Input {
    /// Whether it is drawn once per trial (rather than per deal).
    pub fn per_trial(self) -> bool {
        matches!(self, Input::Rate(_) | Input::Activity | Input::Slippage)
    }
}

/// A segment's team: how many reps, over how many working weeks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capacity {
    /// Reps working the segment.
    pub reps: f64,
    /// Working weeks in the period.
    pub weeks: f64,
}

impl Capacity {
    /// A period volume spread over each rep's weeks.
    pub fn per_rep_per_week(&self, volume: f64) -> f64 {
        volume / (self.reps * self.weeks)
    }
}

/// A deal already in the funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDeal {
    /// The CRM's id, when the scenario gave one.
    pub id: Option<String>,
    /// The index of the stage it is at (never the last).
    pub stage: usize,
    /// Its value if won.
    pub amount: f64,
    /// Days since it entered the funnel.
    pub age_days: f64,
}

/// One growth motion: its funnel, activity, sizes, timing and open deals.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The segment's name.
    pub name: String,
    /// The Ansoff quadrant, when tagged.
    pub ansoff: Option<Ansoff>,
    /// Stage names, top of the funnel first; the last is "won".
    pub stages: Vec<String>,
    /// Conversion rate from stage `s` to `s + 1`, one per stage but the last.
    pub rates: Vec<Dist>,
    /// New leads in the period (whole numbers).
    pub activity: Dist,
    /// The value of one won deal.
    pub deal_size: Dist,
    /// Days from a lead's arrival to its close, when timing is modelled.
    pub cycle: Option<Dist>,
    /// A factor on open-deal revenue, drawn once per trial.
    pub slippage: Option<Dist>,
    /// The team, when given.
    pub capacity: Option<Capacity>,
    /// Deals already in the funnel.
    pub open: Vec<OpenDeal>,
    /// The mean of the activity distribution.
    pub planned_leads: f64,
    /// The chance that a win from a new lead closes inside the period:
    /// the lead arrives uniformly in `[0, L)` and closes after the cycle,
    /// so this is `P(U + C < L) = 1 - E[min(C, L)] / L`; 1 without timing.
    pub in_period: f64,
    /// Per open deal, the chance that it closes inside the period if it
    /// wins: `P(C <= age + L | C > age)`; 1 without timing.
    pub open_in_period: Vec<f64>,
    /// What the engine needs of each open deal, packed for its inner loop.
    pub open_slots: Vec<OpenSlot>,
    /// The reps who do the work, when the scenario names them.
    pub team: Option<Team>,
}

/// An open deal as the engine's inner loop reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenSlot {
    /// The index of its stage.
    pub stage: usize,
    /// Its amount.
    pub amount: f64,
    /// The chance it closes inside the period if it wins.
    pub close: f64,
}

impl Segment {
    /// Builds a segment and computes its per-trial constants.
    #[allow(clippy::too_many_arguments)] // a plain constructor: one argument per field
    pub fn new(
        name: String,
        ansoff: Option<Ansoff>,
        stages: Vec<String>,
        rates: Vec<Dist>,
        activity: Dist,
        deal_size: Dist,
        cycle: Option<Dist>,
        slippage: Option<Dist>,
        capacity: Option<Capacity>,
        open: Vec<OpenDeal>,
        period_days: f64,
    ) -> Segment {
        let in_period = cycle
            .as_ref()
            .map_or(1.0, |c| in_period_chance(c, period_days));
        let open_in_period = open
            .iter()
            .map(|d| {
                cycle
                    .as_ref()
                    .map_or(1.0, |c| open_close_chance(c, d.age_days, period_days))
            })
            .collect::<Vec<f64>>();
        let open_slots = open
            .iter()
            .zip(&open_in_period)
            .map(|(d, &close)| OpenSlot {
                stage: d.stage,
                amount: d.amount,
                close,
            })
            .collect();
        Segment {
            planned_leads: activity.mean(),
            open_slots,
            name,
            ansoff,
            stages,
            rates,
            activity,
            deal_size,
            cycle,
            slippage,
            capacity,
            open,
            in_period,
            open_in_period,
            team: None,
        }
    }

    /// The segment with its team (which may be none).
    pub fn with_team(mut self, team: Option<Team>) -> Segment {
        self.team = team;
        self
    }

    /// The distribution of one input, when the segment has it.
    pub fn input(&self, input: Input) -> Option<&Dist> {
        match input {
            Input::Rate(k) => self.rates.get(k),
            Input::Activity => Some(&self.activity),
            Input::DealSize => Some(&self.deal_size),
            Input::Cycle => self.cycle.as_ref(),
            Input::Slippage => self.slippage.as_ref(),
        }
    }

    /// Every input whose value is uncertain (not a fixed value), in a
    /// stable order: rates by stage, activity, deal size, cycle, slippage.
    pub fn uncertain_inputs(&self) -> Vec<Input> {
        let rates = (0..self.rates.len()).map(Input::Rate);
        let others = [
            Input::Activity,
            Input::DealSize,
            Input::Cycle,
            Input::Slippage,
        ];
        rates
            .chain(others)
            .filter(|&i| self.input(i).is_some_and(|d| d.fixed_value().is_none()))
            .collect()
    }

    /// A label for people: "lead -> qualified rate", "deal size".
    pub fn input_label(&self, input: Input) -> String {
        match input {
            Input::Rate(k) => format!("{} -> {} rate", self.stages[k], self.stages[k + 1]),
            Input::Activity => "new leads".to_string(),
            Input::DealSize => "deal size".to_string(),
            Input::Cycle => "sales cycle".to_string(),
            Input::Slippage => "open-pipeline slippage".to_string(),
        }
    }

    /// The mean chance that a lead becomes a win (the product of the mean
    /// rates: the rates are drawn independently).
    pub fn mean_win_rate(&self) -> f64 {
        self.rates.iter().map(Dist::mean).product()
    }

    /// The mean volume reaching each stage per lead: 1 for the first stage,
    /// then the running product of the mean rates.
    pub fn mean_stage_yield(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.stages.len());
        let mut running = 1.0;
        out.push(running);
        for rate in &self.rates {
            running *= rate.mean();
            out.push(running);
        }
        out
    }

    /// Open deals older than any cycle the distribution allows: they can
    /// never close, and count as lost.
    pub fn stale_deals(&self) -> impl Iterator<Item = &OpenDeal> {
        self.open
            .iter()
            .zip(&self.open_in_period)
            .filter(|(_, q)| **q == 0.0)
            .map(|(d, _)| d)
    }
}

/// `P(U + C < L)` for `U` uniform on `[0, L)`: `1 - E[min(C, L)] / L`.
fn in_period_chance(cycle: &Dist, period: f64) -> f64 {
    (1.0 - cycle.expected_min(period) / period).clamp(0.0, 1.0)
}

/// `P(C <= age + L | C > age)`, or 0 when no cycle that long is possible.
fn open_close_chance(cycle: &Dist, age: f64, period: f64) -> f64 {
    let alive = cycle.sf(age);
    if alive <= 0.0 {
        return 0.0;
    }
    ((alive - cycle.sf(age + period)) / alive).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_cycle_shorter_than_period_counts_the_remaining_share() {
        // C = 30 in a 90-day period: a lead arriving before day 60 closes
        // inside it, so 60 / 90 of wins count.
        let p = in_period_chance(&Dist::fixed(30.0), 90.0);
        assert!((p - 60.0 / 90.0).abs() < 1e-6, "{p}");
    }

    #[test]
    fn fixed_cycle_longer_than_period_never_counts() {
        assert_eq!(in_period_chance(&Dist::fixed(120.0), 90.0), 0.0);
    }

    #[test]
    fn open_deal_older_than_a_fixed_cycle_is_stale() {
        assert_eq!(open_close_chance(&Dist::fixed(30.0), 45.0, 90.0), 0.0);
        assert_eq!(open_close_chance(&Dist::fixed(30.0), 10.0, 90.0), 1.0);
    }
}
