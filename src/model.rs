//! The checked model the engine runs on.
//!
//! A [`Model`] is built only by validating a scenario
//! ([`crate::scenario::ScenarioFile::validate`]); everything that is the same
//! in every trial is computed here once: the chance that a new lead's win
//! closes inside the period, and each open deal's chance of closing inside
//! the period given its age.

use serde::{Deserialize, Serialize};

use crate::dependence::{Copula, LatentMap};
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
    /// Every quadrant, in the matrix's usual order.
    pub const ALL: [Ansoff; 4] = [
        Ansoff::MarketPenetration,
        Ansoff::MarketDevelopment,
        Ansoff::ProductDevelopment,
        Ansoff::Diversification,
    ];

    /// The name the scenario format uses: `market_penetration`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Ansoff::MarketPenetration => "market_penetration",
            Ansoff::MarketDevelopment => "market_development",
            Ansoff::ProductDevelopment => "product_development",
            Ansoff::Diversification => "diversification",
        }
    }

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

impl std::str::FromStr for Ansoff {
    type Err = String;

    /// Reads the scenario format's name; the error lists the valid ones.
    fn from_str(s: &str) -> Result<Ansoff, String> {
        Ansoff::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?}: expected market_penetration, market_development, \
                 product_development or diversification"
                )
            })
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
    /// Dependence between inputs and between open deals.
    pub dependence: Dependence,
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
        let s = &mut model.segments[segment];
        match input {
            Input::Rate(k) => s.rates[k] = dist,
            Input::Activity => s.activity = dist,
            Input::DealSize => s.deal_size = dist,
            Input::Cycle => s.cycle = Some(dist),
            Input::Slippage => s.slippage = Some(dist),
        }
        s.derive(self.period_days, &self.dependence, segment);
        model
    }

    /// Whether any input or open deal depends on another.
    pub fn has_dependence(&self) -> bool {
        self.dependence.copula.is_some()
            || !self.dependence.groups.is_empty()
            || self.segments.iter().any(|s| s.couplings.any())
    }

    /// Whether any input loads on the market factor.
    pub fn uses_market_factor(&self) -> bool {
        let loaded = |l: &Loadings| {
            [l.rates, l.activity, l.deal_size, l.slippage]
                .iter()
                .any(|x| *x != 0.0)
        };
        self.segments.iter().any(|s| loaded(&s.market))
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
    /// The index of its deal group, if any.
    pub group: Option<usize>,
    /// How many times its close date has moved out before.
    pub slips: u32,
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
    /// What the engine needs of each open deal outside any deal group,
    /// packed for its inner loop.
    pub open_slots: Vec<OpenSlot>,
    /// Open deals in a deal group.
    pub grouped_slots: Vec<GroupedSlot>,
    /// Loadings on the shared market factor.
    pub market: Loadings,
    /// How open deals slip and go stale.
    pub slip: Slip,
    /// Inputs drawn through their latent normal (market factor or matrix).
    pub couplings: Couplings,
    /// The reps who do the work, when the scenario names them.
    pub team: Option<Team>,
}

/// An open deal of a deal group, as the engine reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupedSlot {
    /// The deal.
    pub slot: OpenSlot,
    /// The index of its group.
    pub group: usize,
    /// The group's correlation between deals.
    pub correlation: f64,
}

/// A segment's loadings on the market factor, each in [-1, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loadings {
    /// Every conversion rate.
    pub rates: f64,
    /// New leads.
    pub activity: f64,
    /// Each deal's size.
    pub deal_size: f64,
    /// The slippage factor.
    pub slippage: f64,
}

/// How open deals slip and go stale.
#[derive(Debug, Clone, PartialEq)]
pub struct Slip {
    /// The factor on the chance of closing per past slip, by stage index
    /// (one entry per stage).
    pub per_slip: Vec<f64>,
    /// Past this age a deal decays towards lost...
    pub stale_after_days: Option<f64>,
    /// ...halving its chance every this many days.
    pub stale_half_life_days: f64,
}

impl Default for Slip {
    fn default() -> Self {
        Slip {
            per_slip: Vec::new(),
            stale_after_days: None,
            stale_half_life_days: f64::INFINITY,
        }
    }
}

impl Slip {
    /// The factor on a deal's chance of closing in the period:
    /// `per_slip ^ slips`, times `0.5 ^ ((age - stale_after) / half_life)`
    /// past the stale age.
    pub fn factor(&self, deal: &OpenDeal) -> f64 {
        let per_slip = self.per_slip.get(deal.stage).copied().unwrap_or(1.0);
        let slipped = per_slip.powi(deal.slips as i32);
        let stale = match self.stale_after_days {
            Some(after) if deal.age_days > after => {
                0.5f64.powf((deal.age_days - after) / self.stale_half_life_days)
            }
            _ => 1.0,
        };
        slipped * stale
    }
}

/// Dependence across the model.
#[derive(Debug, Clone, Default)]
pub struct Dependence {
    /// The rank-correlated inputs, in the matrix's order: (segment, input).
    pub correlated: Vec<(usize, Input)>,
    /// The copula of the rank-correlation matrix.
    pub copula: Option<Copula>,
    /// Groups of open deals that share a rate.
    pub groups: Vec<DealGroup>,
}

/// A group of open deals whose outcomes are correlated.
#[derive(Debug, Clone, PartialEq)]
pub struct DealGroup {
    /// Its name.
    pub name: String,
    /// The correlation between two of its deals' outcomes, in [0, 1).
    pub correlation: f64,
}

/// How an input is drawn when it depends on others: through its latent
/// normal `loading * M + sqrt(1 - loading^2) * e`, with `e` the matrix's
/// correlated normal when it is in the matrix, its own otherwise.
#[derive(Debug, Clone)]
pub struct Coupling {
    /// Its loading on the market factor.
    pub loading: f64,
    /// Its index in the rank-correlation matrix.
    pub copula: Option<usize>,
    /// Its value as a function of its latent normal.
    pub map: LatentMap,
}

/// The couplings of a segment's inputs; `None` for an input drawn on its
/// own.
#[derive(Debug, Clone, Default)]
pub struct Couplings {
    /// Per conversion rate.
    pub rates: Vec<Option<Coupling>>,
    /// New leads.
    pub activity: Option<Coupling>,
    /// Each deal's size.
    pub deal_size: Option<Coupling>,
    /// The slippage factor.
    pub slippage: Option<Coupling>,
}

impl Couplings {
    fn of(segment: &Segment, dependence: &Dependence, index: usize) -> Couplings {
        let coupling = |input: Input, loading: f64| -> Option<Coupling> {
            let dist = segment.input(input)?;
            let copula = dependence
                .correlated
                .iter()
                .position(|&(j, i)| j == index && i == input);
            (loading != 0.0 || copula.is_some()).then(|| Coupling {
                loading,
                copula,
                map: LatentMap::new(dist),
            })
        };
        let m = segment.market;
        Couplings {
            rates: (0..segment.rates.len())
                .map(|k| coupling(Input::Rate(k), m.rates))
                .collect(),
            activity: coupling(Input::Activity, m.activity),
            deal_size: coupling(Input::DealSize, m.deal_size),
            slippage: coupling(Input::Slippage, m.slippage),
        }
    }

    /// Whether any input is coupled.
    pub fn any(&self) -> bool {
        self.rates.iter().any(Option::is_some)
            || self.activity.is_some()
            || self.deal_size.is_some()
            || self.slippage.is_some()
    }
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
        let mut segment = Segment {
            planned_leads: activity.mean(),
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
            market: Loadings::default(),
            slip: Slip::default(),
            in_period: 1.0,
            open_in_period: Vec::new(),
            open_slots: Vec::new(),
            grouped_slots: Vec::new(),
            couplings: Couplings::default(),
            team: None,
        };
        segment.derive(period_days, &Dependence::default(), 0);
        segment
    }

    /// Computes everything that follows from the segment's inputs: the
    /// close-in-period chances (with slip and staleness), the engine's
    /// packed open deals, and the couplings of inputs that move with the
    /// market factor or the rank-correlation matrix. `index` is the
    /// segment's position in the model (the matrix names inputs by it).
    pub fn derive(&mut self, period_days: f64, dependence: &Dependence, index: usize) {
        self.planned_leads = self.activity.mean();
        self.in_period = self
            .cycle
            .as_ref()
            .map_or(1.0, |c| in_period_chance(c, period_days));
        self.open_in_period = self
            .open
            .iter()
            .map(|d| {
                let timing = self
                    .cycle
                    .as_ref()
                    .map_or(1.0, |c| open_close_chance(c, d.age_days, period_days));
                timing * self.slip.factor(d)
            })
            .collect();
        self.open_slots.clear();
        self.grouped_slots.clear();
        for (d, &close) in self.open.iter().zip(&self.open_in_period) {
            let slot = OpenSlot {
                stage: d.stage,
                amount: d.amount,
                close,
            };
            // Segment::new derives before the model's groups are known; the
            // model's validation derives again with them.
            match d.group.and_then(|g| Some((g, dependence.groups.get(g)?))) {
                Some((group, g)) => self.grouped_slots.push(GroupedSlot {
                    slot,
                    group,
                    correlation: g.correlation,
                }),
                None => self.open_slots.push(slot),
            }
        }
        self.couplings = Couplings::of(self, dependence, index);
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
