//! The Monte Carlo engine: one trial, and the driver that runs many in
//! parallel.
//!
//! # One trial
//!
//! For each segment, in order, on the segment's own random stream:
//!
//! 1. draw each stage's conversion rate, the number of new leads `N` and the
//!    slippage factor (the *parameters*: one draw each per trial, so a bad
//!    quarter is bad for every deal in it), and with a team each rep's leave
//!    time, which gives the trial's capacity;
//! 2. draw the wins from new leads that close inside the period in one
//!    binomial draw, `K ~ Binomial(N, p * tau)`, where `p` is the product of
//!    this trial's rates and `tau` the chance that a win closes inside the
//!    period (exact: a lead's arrival and cycle are independent of whether it
//!    wins), then a deal size for each of the `K` wins; a team that degrades
//!    past its capacity lowers `p` for this trial's leads (see
//!    [`crate::team`]), though not for the reverse solve, which answers for a
//!    team sized to carry the leads it adds;
//! 3. give each open deal one uniform draw against the chance that it wins
//!    (the product of the remaining rates) and closes in time.
//!
//! Then the reverse solve walks one sequence of new leads, win by win, until
//! the revenue reaches the target: the position of that win is the smallest
//! lead count that hits in this trial. It counts the wins first and draws
//! the position of the last one in a single negative binomial draw (see
//! `Simulation::reverse`), and it reuses the deal sizes already drawn in
//! step 2 (they are independent of everything else in the walk), so most of
//! its cost is one uniform a win.
//!
//! # Reproducibility
//!
//! Every trial has its own streams, seeded from the scenario seed, the trial
//! index and a lane (the segment, or the reverse walk). Results are written in
//! trial order and sums are folded in block order, so the output depends on
//! the seed alone, never on the number of threads; and two scenarios run with
//! one seed share their random numbers trial by trial (common random numbers),
//! which keeps comparisons between them sharp.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;
use rand_distr::{Binomial, Distribution, Gamma, Poisson, StandardNormal};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use std::borrow::Cow;

use crate::dependence::group_deal_wins;
use crate::dist::Dist;
use crate::model::{Coupling, Input, Model, Segment};

/// The marker for "no lead count up to the cap hits the target".
pub const NOT_REACHABLE: u32 = u32::MAX;

/// Trials per block: the unit of parallel work and of summation order.
const BLOCK: usize = 1024;

/// The most deal sizes a trial keeps per segment for the reverse walk.
const SIZE_POOL: u64 = 1 << 16;

/// The lane of the reverse walk's stream (segments use small lanes, two
/// each: see `parameter_lane` and `event_lane`).
const WALK_LANE: u64 = 1 << 32;
/// The lane of the market factor.
const MARKET_LANE: u64 = WALK_LANE + 1;
/// The lane of the rank-correlation matrix's normals.
const MATRIX_LANE: u64 = WALK_LANE + 2;
/// The lane of the deal groups' shared uniforms.
const GROUP_LANE: u64 = WALK_LANE + 3;

/// How the reverse solve spreads extra leads over the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solve {
    /// Each next lead belongs to segment `j` with probability proportional
    /// to its planned leads.
    #[default]
    PlannedMix,
    /// Only this segment's leads vary; the others stay as planned.
    Segment(usize),
}

/// How to run: everything that is not part of the scenario.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// How the reverse solve spreads leads.
    pub solve: Solve,
    /// The reverse solve gives up past this multiple of the planned leads.
    pub lead_cap_factor: f64,
    /// Inputs held at a value in every trial (for sensitivity analysis);
    /// everything else is drawn as usual, from the same streams.
    pub hold: Vec<Hold>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            threads: None,
            solve: Solve::PlannedMix,
            lead_cap_factor: 20.0,
            hold: Vec::new(),
        }
    }
}

/// One input held at a value in every trial.
///
/// A per-trial parameter (a rate, the activity, the slippage) is still
/// drawn, then replaced, so every other draw of the trial is unchanged: the
/// runs with and without the hold share their random numbers. A per-deal
/// input (deal size, cycle time) becomes a fixed value for every deal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hold {
    /// The segment's index.
    pub segment: usize,
    /// Which of its inputs.
    pub input: Input,
    /// The value it takes (a rate, a lead count, an amount, days, a factor).
    pub value: f64,
}

/// The fewest leads the reverse solve will search: with almost no planned
/// activity, a multiple of the plan would be too small a search.
const MIN_LEAD_CAP: f64 = 1000.0;

/// The raw results of a run, in trial order.
#[derive(Debug, Clone)]
pub struct Trials {
    /// Each trial's revenue: booked plus every segment.
    pub revenue: Vec<f64>,
    /// Each trial's smallest lead count that hits, or [`NOT_REACHABLE`].
    pub leads_needed: Vec<u32>,
    /// Each trial's revenue per segment, trial-major (`trial * J + j`).
    /// Single precision: these feed per-segment quantiles only.
    pub segment_revenue: Vec<f32>,
    /// Per-segment sums over all trials.
    pub totals: Vec<SegmentTotals>,
    /// The share of reverse-solve leads each segment gets.
    pub mix: Vec<f64>,
    /// The largest lead count the reverse solve searched.
    pub lead_cap: u64,
}

impl Trials {
    /// The number of trials.
    pub fn len(&self) -> usize {
        self.revenue.len()
    }

    /// Whether there are no trials.
    pub fn is_empty(&self) -> bool {
        self.revenue.is_empty()
    }
}

/// Sums over trials for one segment. Stage volumes and wins are summed as
/// their expectation given the trial's rates and leads (exact in the mean,
/// with less Monte Carlo noise than counting).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentTotals {
    /// New leads.
    pub leads: f64,
    /// Volume reaching each stage (the last is wins).
    pub stage_volume: Vec<f64>,
    /// Wins from new leads that close inside the period (counted).
    pub wins_in_period: f64,
    /// Open deals won inside the period.
    pub open_won: f64,
    /// Revenue from open deals.
    pub open_revenue: f64,
    /// Revenue from new leads.
    pub new_revenue: f64,
    /// Trials whose leads were past what the team carries at full
    /// conversion (degrade mode only).
    pub overloaded: f64,
}

impl SegmentTotals {
    fn new(stages: usize) -> Self {
        SegmentTotals {
            stage_volume: vec![0.0; stages],
            ..Default::default()
        }
    }

    fn add(&mut self, other: &SegmentTotals) {
        self.leads += other.leads;
        for (a, b) in self.stage_volume.iter_mut().zip(&other.stage_volume) {
            *a += b;
        }
        self.wins_in_period += other.wins_in_period;
        self.open_won += other.open_won;
        self.open_revenue += other.open_revenue;
        self.new_revenue += other.new_revenue;
        self.overloaded += other.overloaded;
    }
}

/// Runs every trial of the model.
///
/// `progress`, when given, is advanced by the number of trials finished, a
/// block at a time, for a progress bar on another thread.
///
/// # Errors
///
/// Fails only when the thread pool cannot be built.
pub fn run(
    model: &Model,
    settings: &Settings,
    progress: Option<&AtomicU64>,
) -> Result<Trials, rayon::ThreadPoolBuildError> {
    let model = with_deal_holds(model, &settings.hold);
    let sim = Simulation::new(&model, settings);
    match settings.threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build()?;
            Ok(pool.install(|| sim.run_all(progress)))
        }
        None => Ok(sim.run_all(progress)),
    }
}

/// The model with per-deal inputs (deal size, cycle) that are held
/// replaced by fixed values; the model itself when nothing per-deal is held.
fn with_deal_holds<'m>(model: &'m Model, hold: &[Hold]) -> Cow<'m, Model> {
    let per_deal = |h: &&Hold| matches!(h.input, Input::DealSize | Input::Cycle);
    if !hold.iter().any(|h| per_deal(&h)) {
        return Cow::Borrowed(model);
    }
    let mut held = model.clone();
    for h in hold.iter().filter(per_deal) {
        let domain = match h.input {
            Input::Cycle => crate::dist::Domain::Days,
            _ => crate::dist::Domain::Money,
        };
        held = held.with_input(h.segment, h.input, Dist::fixed_in(h.value, domain));
    }
    Cow::Owned(held)
}

/// The model with what the reverse solve needs fixed for the run.
struct Simulation<'m> {
    model: &'m Model,
    hold: &'m [Hold],
    /// Whether trials need their shared latent draws.
    dependent: bool,
    mix: Vec<f64>,
    solve: Solve,
    lead_cap: u64,
}

/// Per-thread buffers, reused across the trials of a block.
struct Scratch {
    /// The trial's shared draws (market factor, matrix, deal groups).
    latent: Latent,
    /// The current segment's parameters, this trial.
    params: Parameters,
    /// `win_from[s]`: the chance a deal at stage `s` wins, this trial.
    win_from: Vec<f64>,
    /// Deal sizes of each segment's counted wins, for the reverse walk.
    sizes: Vec<Vec<f64>>,
    /// Per segment: the chance a lead is a counted win, this trial.
    lead_win: Vec<f64>,
    /// Per segment: how many of `sizes` the reverse walk has used.
    taken: Vec<usize>,
}

impl<'m> Simulation<'m> {
    fn new(model: &'m Model, settings: &'m Settings) -> Self {
        let planned: Vec<f64> = model.segments.iter().map(|s| s.planned_leads).collect();
        let mix = match settings.solve {
            Solve::PlannedMix => normalise(&planned),
            Solve::Segment(j) => (0..planned.len()).map(|k| f64::from(k == j)).collect(),
        };
        let planned_total = match settings.solve {
            Solve::PlannedMix => planned.iter().sum(),
            Solve::Segment(j) => planned[j],
        };
        let cap = (settings.lead_cap_factor * planned_total)
            .max(MIN_LEAD_CAP)
            .ceil();
        let lead_cap = cap.min(f64::from(NOT_REACHABLE - 1)) as u64;
        Simulation {
            model,
            hold: &settings.hold,
            dependent: model.has_dependence(),
            mix,
            solve: settings.solve,
            lead_cap,
        }
    }

    fn run_all(&self, progress: Option<&AtomicU64>) -> Trials {
        let n = self.model.trials as usize;
        let j = self.model.segments.len();
        let mut revenue = vec![0.0; n];
        let mut leads_needed = vec![0; n];
        let mut segment_revenue = vec![0.0f32; n * j];
        let block_totals: Vec<Vec<SegmentTotals>> = revenue
            .par_chunks_mut(BLOCK)
            .zip(leads_needed.par_chunks_mut(BLOCK))
            .zip(segment_revenue.par_chunks_mut(BLOCK * j))
            .enumerate()
            .map(|(b, ((rev, need), seg))| {
                let totals = self.run_block(b * BLOCK, rev, need, seg);
                if let Some(p) = progress {
                    p.fetch_add(rev.len() as u64, Ordering::Relaxed);
                }
                totals
            })
            .collect();

        // Fold in block order, so sums do not depend on the thread count.
        let mut totals = self.empty_totals();
        for block in &block_totals {
            for (t, b) in totals.iter_mut().zip(block) {
                t.add(b);
            }
        }
        Trials {
            revenue,
            leads_needed,
            segment_revenue,
            totals,
            mix: self.mix.clone(),
            lead_cap: self.lead_cap,
        }
    }

    fn empty_totals(&self) -> Vec<SegmentTotals> {
        let segments = &self.model.segments;
        segments
            .iter()
            .map(|s| SegmentTotals::new(s.stages.len()))
            .collect()
    }

    fn run_block(
        &self,
        first: usize,
        rev: &mut [f64],
        need: &mut [u32],
        seg: &mut [f32],
    ) -> Vec<SegmentTotals> {
        let j = self.model.segments.len();
        let mut totals = self.empty_totals();
        let mut scratch = Scratch {
            latent: Latent::default(),
            params: Parameters::default(),
            win_from: Vec::new(),
            sizes: vec![Vec::new(); j],
            lead_win: vec![0.0; j],
            taken: vec![0; j],
        };
        for (i, (r, n)) in rev.iter_mut().zip(need.iter_mut()).enumerate() {
            let trial = (first + i) as u64;
            let seg_out = &mut seg[i * j..(i + 1) * j];
            let (revenue, base) = self.forward(trial, &mut scratch, &mut totals, seg_out);
            *r = revenue;
            *n = self.reverse(trial, base, &mut scratch);
        }
        totals
    }

    /// The forward run of one trial. Returns the trial's revenue and the
    /// base the reverse walk starts from (what does not vary with the
    /// leads being solved for).
    fn forward(
        &self,
        trial: u64,
        scratch: &mut Scratch,
        totals: &mut [SegmentTotals],
        seg_out: &mut [f32],
    ) -> (f64, f64) {
        let model = self.model;
        let mut revenue = model.booked;
        let mut base = model.booked;
        if self.dependent {
            scratch.latent.draw(model, trial);
        }
        for (j, segment) in model.segments.iter().enumerate() {
            draw_parameters_given(
                model,
                j,
                trial,
                self.hold,
                &scratch.latent,
                &mut scratch.params,
            );
            let mut rng = stream(model.seed, trial, event_lane(j));
            let out = simulate_segment(segment, &mut rng, scratch, j, &mut totals[j]);
            seg_out[j] = (out.new_revenue + out.open_revenue) as f32;
            revenue += out.new_revenue + out.open_revenue;
            base += out.open_revenue;
            // Solving for one segment: the others' new leads stay as drawn.
            if matches!(self.solve, Solve::Segment(k) if k != j) {
                base += out.new_revenue;
            }
        }
        (revenue, base)
    }

    /// The smallest lead count that hits the target in this trial.
    ///
    /// Each lead is a counted win of segment `j` with probability `w_j`
    /// (its share of the mix times its win-and-close chance), so the wins
    /// along the lead sequence are a Bernoulli process. Which segment each
    /// win belongs to, and its size, are independent of where it falls in
    /// the sequence: the walk first counts the wins `k` it takes to reach the
    /// target, then draws the position of the `k`-th win in one go, `k` plus
    /// a negative binomial number of misses. Exact, and it costs one uniform
    /// per win instead of a logarithm per win.
    fn reverse(&self, trial: u64, base: f64, scratch: &mut Scratch) -> u32 {
        let need = self.model.target - base;
        if need <= 0.0 {
            return 0;
        }
        for (w, m) in scratch.lead_win.iter_mut().zip(&self.mix) {
            *w *= m;
        }
        let p: f64 = scratch.lead_win.iter().sum();
        if p <= 0.0 {
            return NOT_REACHABLE;
        }
        let mut rng = stream(self.model.seed, trial, WALK_LANE);
        let Some(wins) = self.wins_to_reach(need, p, scratch, &mut rng) else {
            return NOT_REACHABLE;
        };
        let position = wins.saturating_add(misses_before(wins, p, &mut rng));
        if position > self.lead_cap {
            NOT_REACHABLE
        } else {
            position as u32
        }
    }

    /// How many wins, each from segment `j` with probability `w_j / p`,
    /// it takes for their sizes to reach `need`; `None` past the lead cap
    /// (`k` wins take at least `k` leads). Uses the sizes drawn in the
    /// forward run first, then fresh ones.
    fn wins_to_reach(
        &self,
        need: f64,
        p: f64,
        scratch: &mut Scratch,
        rng: &mut Pcg64Mcg,
    ) -> Option<u64> {
        scratch.taken.iter_mut().for_each(|k| *k = 0);
        let mut total = 0.0;
        let mut wins = 0u64;
        while total < need {
            wins += 1;
            if wins > self.lead_cap {
                return None;
            }
            let j = pick(rng, &scratch.lead_win, p);
            let taken = &mut scratch.taken[j];
            total += match scratch.sizes[j].get(*taken) {
                Some(&size) => size,
                None => deal_size(&self.model.segments[j], &scratch.latent, rng),
            };
            *taken += 1;
        }
        Some(wins)
    }
}

/// One segment's per-trial parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameters {
    /// Conversion rate from each stage to the next.
    pub rates: Vec<f64>,
    /// The new leads.
    pub leads: Leads,
    /// The factor on open-deal revenue (1 without slippage).
    pub slippage: f64,
    /// The leads the segment's team can carry this trial (`None` without
    /// a team).
    pub capacity: Option<f64>,
}

/// A trial's new leads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leads {
    /// A drawn (or held) number of leads.
    Count(u64),
    /// Poisson leads with this mean, not drawn: the wins among them are
    /// drawn directly, as a Poisson number with mean `mean * p`.
    Poisson(f64),
}

impl Default for Leads {
    fn default() -> Self {
        Leads::Count(0)
    }
}

/// Draws segment `j`'s parameters for one trial into `out`, from the
/// segment's parameter stream: each rate in stage order, then the activity
/// (unless Poisson), then the slippage, then the team's draws (see
/// `draw_team`). Held inputs are drawn, then replaced, so the order of draws
/// never changes.
///
/// The engine calls this for every trial; analyses that need the draws
/// (rank correlations) call it to replay them exactly.
pub fn draw_parameters(model: &Model, j: usize, trial: u64, hold: &[Hold], out: &mut Parameters) {
    let mut latent = Latent::default();
    if model.has_dependence() {
        latent.draw(model, trial);
    }
    draw_parameters_given(model, j, trial, hold, &latent, out);
}

/// [`draw_parameters`] with the trial's shared draws already made.
fn draw_parameters_given(
    model: &Model,
    j: usize,
    trial: u64,
    hold: &[Hold],
    latent: &Latent,
    out: &mut Parameters,
) {
    let segment = &model.segments[j];
    let couplings = &segment.couplings;
    let rng = &mut stream(model.seed, trial, parameter_lane(j));
    out.rates.clear();
    for (d, c) in segment.rates.iter().zip(&couplings.rates) {
        out.rates.push(match c {
            None => d.sample(rng),
            Some(c) => latent.value(c, rng),
        });
    }
    out.leads = match (&couplings.activity, segment.activity.poisson_mean()) {
        (Some(c), _) => Leads::Count(latent.value(c, rng).max(0.0).round() as u64),
        (None, Some(mean)) => Leads::Poisson(mean),
        (None, None) => Leads::Count(segment.activity.sample(rng).max(0.0) as u64),
    };
    out.slippage = match (&couplings.slippage, &segment.slippage) {
        (Some(c), _) => latent.value(c, rng),
        (None, Some(d)) => d.sample(rng),
        (None, None) => 1.0,
    };
    draw_team(segment, rng, out);
    for h in hold.iter().filter(|h| h.segment == j) {
        match h.input {
            Input::Rate(s) => out.rates[s] = h.value,
            Input::Activity => out.leads = Leads::Count(h.value.max(0.0).round() as u64),
            Input::Slippage => out.slippage = h.value,
            Input::DealSize | Input::Cycle => {}
        }
    }
}

/// The team's draws, after every other parameter so that giving a segment
/// a team leaves its other draws alone: each rep's leave time in listed
/// order (only with attrition), then, when overload lowers conversion, a
/// Poisson activity's lead count. Thinning Poisson leads into Poisson wins
/// is exact only when every lead converts at one rate; past the team's
/// threshold the rate depends on the count, so the count must be drawn.
fn draw_team(segment: &Segment, rng: &mut Pcg64Mcg, out: &mut Parameters) {
    let Some(team) = &segment.team else {
        out.capacity = None;
        return;
    };
    out.capacity = Some(team.draw_capacity(rng));
    if let (true, Leads::Poisson(_)) = (team.degrades(), out.leads) {
        out.leads = Leads::Count(segment.activity.sample(rng).max(0.0) as u64);
    }
}

/// Whether this trial's new leads are past what the team carries at full
/// conversion, and the share of the drawn first-stage rate at which they
/// convert (1 unless the team degrades and is past its threshold).
fn overload(segment: &Segment, params: &Parameters) -> (bool, f64) {
    match (&segment.team, params.capacity, params.leads) {
        (Some(team), Some(capacity), Leads::Count(n)) => {
            let n = n as f64;
            (
                team.overloaded(n, capacity),
                team.conversion_share(n, capacity),
            )
        }
        _ => (false, 1.0),
    }
}

/// A trial's shared draws: the market factor, the rank-correlation
/// matrix's correlated normals, and each deal group's uniform. Each comes
/// from its own stream of the trial, so adding one leaves the others'
/// draws alone.
#[derive(Debug, Clone, Default)]
pub struct Latent {
    /// The market factor `M`, a standard normal (0 when unused).
    market: f64,
    /// The matrix's correlated standard normals, in its input order.
    correlated: Vec<f64>,
    /// Per deal group, its shared uniform `W`.
    groups: Vec<f64>,
}

impl Latent {
    fn draw(&mut self, model: &Model, trial: u64) {
        let dependence = &model.dependence;
        self.market = if model.uses_market_factor() {
            StandardNormal.sample(&mut stream(model.seed, trial, MARKET_LANE))
        } else {
            0.0
        };
        self.correlated.clear();
        if let Some(copula) = &dependence.copula {
            let rng = &mut stream(model.seed, trial, MATRIX_LANE);
            let draws = (0..copula.len()).map(|_| -> f64 { StandardNormal.sample(&mut *rng) });
            self.correlated.extend(draws);
            copula.apply(&mut self.correlated);
        }
        self.groups.clear();
        if !dependence.groups.is_empty() {
            let rng = &mut stream(model.seed, trial, GROUP_LANE);
            let draws = (0..dependence.groups.len()).map(|_| rng.random::<f64>());
            self.groups.extend(draws);
        }
    }

    /// A coupled input's value: its latent normal is
    /// `l M + sqrt(1 - l^2) e`, with `e` its matrix normal or, outside the
    /// matrix, a fresh standard normal from `rng`.
    fn value(&self, c: &Coupling, rng: &mut Pcg64Mcg) -> f64 {
        let own = match c.copula {
            Some(k) => self.correlated[k],
            None => StandardNormal.sample(rng),
        };
        let z = c.loading * self.market + (1.0 - c.loading * c.loading).sqrt() * own;
        c.map.value(z)
    }
}

/// One deal size: from the market-coupled map when the segment's sizes
/// load on the market, a plain draw otherwise.
fn deal_size(segment: &Segment, latent: &Latent, rng: &mut Pcg64Mcg) -> f64 {
    match &segment.couplings.deal_size {
        None => segment.deal_size.sample(rng),
        Some(c) => latent.value(c, rng),
    }
}

/// The stream lane of segment `j`'s parameters.
fn parameter_lane(j: usize) -> u64 {
    2 * j as u64
}

/// The stream lane of segment `j`'s events (wins, sizes, open deals).
fn event_lane(j: usize) -> u64 {
    2 * j as u64 + 1
}

/// One segment's result in one trial.
struct SegmentOutcome {
    new_revenue: f64,
    open_revenue: f64,
}

/// Draws one segment's events for one trial (steps 2 and 3 of the module
/// docs) given its parameters in `scratch.params`, leaving the deal sizes
/// and the chance a lead is a counted win in `scratch` for the reverse
/// walk.
fn simulate_segment(
    segment: &Segment,
    rng: &mut Pcg64Mcg,
    scratch: &mut Scratch,
    j: usize,
    totals: &mut SegmentTotals,
) -> SegmentOutcome {
    let rates = &scratch.params.rates;
    let leads = scratch.params.leads;
    let slip = scratch.params.slippage;

    // win_from[s]: the product of the rates from stage s on.
    let stages = segment.stages.len();
    scratch.win_from.clear();
    scratch.win_from.resize(stages, 1.0);
    for s in (0..stages - 1).rev() {
        scratch.win_from[s] = scratch.win_from[s + 1] * rates[s];
    }
    let win_rate = scratch.win_from[0];
    let counted = (win_rate * segment.in_period).clamp(0.0, 1.0);
    scratch.lead_win[j] = counted;
    // An overloaded team converts this trial's leads at a lower rate; the
    // reverse walk keeps `lead_win` at the full rate: it answers for a team
    // sized to carry the leads it adds.
    let (overloaded, share) = overload(segment, &scratch.params);
    let counted = counted * share;

    // New leads: the counted wins in one draw, then their sizes. Thinning a
    // Poisson(m) number of leads with chance q gives Poisson(m q) wins.
    let wins = match leads {
        Leads::Poisson(m) => Poisson::new(m * counted).map_or(0, |d| d.sample(rng) as u64),
        Leads::Count(n) => Binomial::new(n, counted).map_or(0, |b| b.sample(rng)),
    };
    // The reverse walk reuses at most SIZE_POOL of these sizes (deal sizes
    // are independent, so any of them will do); the rest are summed
    // without being kept, so memory stays bounded however many wins.
    let sizes = &mut scratch.sizes[j];
    sizes.clear();
    let latent = &scratch.latent;
    let kept = wins.min(SIZE_POOL);
    match segment.couplings.deal_size {
        None => segment.deal_size.extend_samples(kept, rng, sizes),
        Some(_) => sizes.extend((0..kept).map(|_| deal_size(segment, latent, rng))),
    }
    let mut new_revenue: f64 = sizes.iter().sum();
    if wins > kept {
        new_revenue += match segment.couplings.deal_size {
            None => segment.deal_size.sample_sum(wins - kept, rng),
            Some(_) => (kept..wins).map(|_| deal_size(segment, latent, rng)).sum(),
        };
    }

    // Open deals: one uniform each against win-and-close-in-time, without
    // a branch (about half of them win: a branch would mispredict).
    let mut open_revenue = 0.0;
    let mut open_won = 0u32;
    for deal in &segment.open_slots {
        let wins = rng.random::<f64>() < scratch.win_from[deal.stage] * deal.close;
        open_revenue += f64::from(u8::from(wins)) * deal.amount;
        open_won += u32::from(wins);
    }
    // Deals in a group share the group's rate in this trial.
    for g in &segment.grouped_slots {
        let p = scratch.win_from[g.slot.stage] * g.slot.close;
        let u = rng.random::<f64>();
        if group_deal_wins(p, g.correlation, scratch.latent.groups[g.group], u) {
            open_revenue += g.slot.amount;
            open_won += 1;
        }
    }
    open_revenue *= slip;

    // Sums: stage volumes as their expectation given the trial's rates and
    // leads (for a Poisson activity, given the rates alone).
    let n = match leads {
        Leads::Poisson(m) => m,
        Leads::Count(n) => n as f64,
    };
    totals.leads += n;
    let mut reach = n;
    totals.stage_volume[0] += reach;
    reach *= share;
    for (s, rate) in scratch.params.rates.iter().enumerate() {
        reach *= rate;
        totals.stage_volume[s + 1] += reach;
    }
    totals.wins_in_period += wins as f64;
    totals.open_won += f64::from(open_won);
    totals.open_revenue += open_revenue;
    totals.new_revenue += new_revenue;
    totals.overloaded += f64::from(u8::from(overloaded));
    SegmentOutcome {
        new_revenue,
        open_revenue,
    }
}

/// The misses before the `k`-th success when each lead succeeds with
/// probability `p`: a negative binomial draw, as a Poisson whose mean is a
/// Gamma(k, (1 - p) / p) draw (the standard mixture).
fn misses_before(k: u64, p: f64, rng: &mut Pcg64Mcg) -> u64 {
    if p >= 1.0 || k == 0 {
        return 0;
    }
    let scale = (1.0 - p) / p;
    let mean = match Gamma::new(k as f64, scale) {
        Ok(g) => g.sample(rng),
        Err(_) => return u64::MAX,
    };
    match Poisson::new(mean) {
        // The Poisson's value is a whole number; `as` saturates.
        Ok(poisson) => poisson.sample(rng) as u64,
        // A zero mean: no misses. Past the Poisson's range: past any cap.
        Err(_) if mean <= 0.0 => 0,
        Err(_) => u64::MAX,
    }
}

/// The segment of a win: `j` with probability `weights[j] / total`.
///
/// Counts the cumulative weights at or below a uniform point instead of
/// branching on each: the segment is random, so branches would mispredict.
/// A segment with zero weight is never picked (its cumulative weight equals
/// the previous one, and the point lies strictly below `total`).
fn pick(rng: &mut Pcg64Mcg, weights: &[f64], total: f64) -> usize {
    if weights.len() == 1 {
        return 0;
    }
    let x = rng.random::<f64>() * total;
    let mut below = 0.0;
    let mut j = 0;
    for w in &weights[..weights.len() - 1] {
        below += w;
        j += usize::from(x >= below);
    }
    // Rounding can put x past the last positive weight's upper end: step
    // back over trailing zero weights.
    while weights[j] == 0.0 && j > 0 {
        j -= 1;
    }
    j
}

/// Weights summing to 1; equal weights when they sum to 0.
fn normalise(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    if total > 0.0 {
        weights.iter().map(|w| w / total).collect()
    } else {
        vec![1.0 / weights.len() as f64; weights.len()]
    }
}

/// The random stream of one trial and lane, derived by hashing the seed,
/// the trial index and the lane (SplitMix64 finalisers), so that streams
/// never depend on which thread runs the trial.
pub fn stream(seed: u64, trial: u64, lane: u64) -> Pcg64Mcg {
    let a = splitmix(splitmix(seed) ^ trial);
    let b = splitmix(a ^ lane.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let c = splitmix(b ^ 0x2545_F491_4F6C_DD1D);
    Pcg64Mcg::new((u128::from(b) << 64) | u128::from(c))
}

/// SplitMix64's output function: a bijective 64-bit mix.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_before_the_kth_win_are_negative_binomial() {
        // NegBin(k, p) misses: mean k(1-p)/p, variance k(1-p)/p^2.
        let (k, p) = (7u64, 0.2);
        let n = 200_000;
        let mut rng = stream(1, 0, 0);
        let draws: Vec<f64> = (0..n)
            .map(|_| misses_before(k, p, &mut rng) as f64)
            .collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let exact_mean = k as f64 * (1.0 - p) / p;
        let exact_var = k as f64 * (1.0 - p) / (p * p);
        let se = (exact_var / n as f64).sqrt();
        assert!(
            (mean - exact_mean).abs() < 5.0 * se,
            "mean {mean} vs {exact_mean}"
        );
        // The variance's standard error is below 2% here (fourth moment of a
        // negative binomial with k = 7); allow 10%.
        assert!(
            (var / exact_var - 1.0).abs() < 0.1,
            "variance {var} vs {exact_var}"
        );
        // P(X = 0) = p^k exactly.
        let zeros = draws.iter().filter(|x| **x == 0.0).count() as f64 / n as f64;
        let p0 = p.powi(k as i32);
        assert!((zeros - p0).abs() < 5.0 * (p0 * (1.0 - p0) / n as f64).sqrt() + 1e-9);
    }

    #[test]
    fn certain_wins_have_no_misses() {
        let mut rng = stream(1, 0, 0);
        assert_eq!(misses_before(5, 1.0, &mut rng), 0);
        assert_eq!(misses_before(0, 0.3, &mut rng), 0);
    }

    #[test]
    fn pick_follows_the_weights() {
        let weights = [0.1, 0.0, 0.3];
        let n = 100_000;
        let mut rng = stream(2, 0, 0);
        let mut counts = [0u32; 3];
        for _ in 0..n {
            counts[pick(&mut rng, &weights, 0.4)] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[0]) / n as f64;
        let se = (0.25f64 * 0.75 / n as f64).sqrt();
        assert!((share - 0.25).abs() < 5.0 * se, "{share}");
    }

    #[test]
    fn streams_differ_by_seed_trial_and_lane() {
        let first = |s, t, l| stream(s, t, l).random::<u64>();
        let base = first(7, 0, 0);
        assert_ne!(base, first(8, 0, 0));
        assert_ne!(base, first(7, 1, 0));
        assert_ne!(base, first(7, 0, 1));
        assert_eq!(base, first(7, 0, 0));
    }
}
