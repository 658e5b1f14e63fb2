//! The people who do the work: a segment's team of reps, how fast they ramp
//! up, how likely they are to leave, and how much activity they can carry.
//!
//! # Capacity
//!
//! Days are counted from the period's first day (day 0; the period is
//! `[0, L)`). A rep who starts on day `s` works at `ramp[0]` of full
//! productivity in their first month (`[s, s + M)`, with `M` =
//! [`DAYS_PER_MONTH`]), `ramp[1]` in the second, and so on; the last value
//! holds from then on. One fully productive rep carries `leads_per_rep_week`
//! leads a working week, and `availability` is the share of the calendar
//! that is working time (holidays and training excluded). So a rep
//! contributes
//!
//! ```text
//! leads_per_rep_week * availability / 7 * ∫ ramp(t - s) dt
//! ```
//!
//! over the days `t` of the period they are on the team: from
//! `max(s, 0)` to the period's end, or to the day they leave.
//!
//! # Attrition
//!
//! With `attrition_per_year` = `λ`, each rep leaves after an exponential
//! time with rate `λ` a year ([`DAYS_PER_YEAR`] days), counted from the day
//! they are first on the team inside the period (`max(s, 0)`): the team as
//! listed is the team on the period's first day. The chance a rep is still
//! there a year later is `exp(-λ)` (0.15 a year keeps 86%). The engine draws
//! each rep's leave time once per trial ([`Team::draw_capacity`]); the
//! expected capacity ([`Team::expected_capacity`]) is the same integral
//! weighted by the chance of still being there, `exp(-λ (t - max(s, 0)))`,
//! in closed form.
//!
//! # Overload
//!
//! A trial's leads `N` above what the team can carry are either refused as a
//! plan (checked once, at validation, against the expected capacity) or
//! convert at a lower rate: past `T` = `threshold` times the trial's
//! capacity, the extra leads convert at `conversion_factor` times the drawn
//! first-stage rate, so the first-stage rate of every lead of the trial
//! becomes `r (min(N, T) + f max(N - T, 0)) / N` (the team spreads its
//! attention over all of them).

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use serde::Serialize;

use crate::model::Capacity;

/// The length of a ramp month in days: a year over twelve.
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// The length of a year in days, for the attrition rate.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// The hire days the reverse solve answers for when a team names none:
/// 90, 60 and 30 days before the period starts, and its first day.
pub const DEFAULT_HIRE_DAYS: [f64; 4] = [-90.0, -60.0, -30.0, 0.0];

/// One member of a team.
#[derive(Debug, Clone, PartialEq)]
pub struct Rep {
    /// The rep's name, when the scenario gives one.
    pub name: Option<String>,
    /// The day they start, relative to the period's first day (negative:
    /// before the period).
    pub start_day: f64,
}

/// What happens to activity beyond what the team can carry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Overload {
    /// A plan whose mean activity is above the expected capacity is refused
    /// at validation; trials run as drawn.
    Refuse,
    /// Leads past `threshold` times the trial's capacity convert at the
    /// first stage at `conversion_factor` times the drawn rate.
    Degrade {
        /// The share of capacity the team carries at full conversion.
        threshold: f64,
        /// The factor on the first-stage rate of the leads past it.
        conversion_factor: f64,
    },
}

impl Overload {
    /// The mode's name as the scenario writes it.
    pub fn name(self) -> &'static str {
        match self {
            Overload::Refuse => "refuse",
            Overload::Degrade { .. } => "degrade",
        }
    }
}

/// The new hires needed on top of the current team if they start on one
/// day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hire {
    /// The day the hires start, relative to the period's first day.
    pub hire_day: f64,
    /// How many hires; `null` when a hire starting that day adds nothing
    /// inside the period.
    pub hires: Option<u64>,
}

/// A segment's team: who, how fast they ramp, how likely they leave, and
/// what they can carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    /// The reps, in the order the scenario lists them (the order of their
    /// leave-time draws).
    pub reps: Vec<Rep>,
    /// Share of full productivity in month 1, 2, ... after a rep starts;
    /// the last value holds. Never empty.
    pub ramp: Vec<f64>,
    /// Leads one fully productive rep carries in a working week.
    pub leads_per_rep_week: f64,
    /// The share of calendar time that is working time.
    pub availability: f64,
    /// The yearly rate at which reps leave (0: nobody leaves).
    pub attrition_per_year: f64,
    /// What happens to activity beyond the team's capacity.
    pub overload: Overload,
    /// The hire days the reverse solve answers for.
    pub hire_days: Vec<f64>,
    /// The period's length `L`, in days.
    pub period_days: f64,
    /// Capacity in leads when nobody leaves.
    full_capacity: f64,
    /// Expected capacity in leads, after expected attrition.
    expected_capacity: f64,
}

impl Team {
    /// Builds a team and computes its capacity. The values are assumed
    /// valid (the scenario checks them): a non-empty ramp of values in
    /// `[0, 1]`, positive leads per rep-week, availability in `(0, 1]`,
    /// attrition `>= 0`.
    #[allow(clippy::too_many_arguments)] // a plain constructor: one argument per field
    pub fn new(
        reps: Vec<Rep>,
        ramp: Vec<f64>,
        leads_per_rep_week: f64,
        availability: f64,
        attrition_per_year: f64,
        overload: Overload,
        hire_days: Vec<f64>,
        period_days: f64,
    ) -> Team {
        let mut team = Team {
            reps,
            ramp,
            leads_per_rep_week,
            availability,
            attrition_per_year,
            overload,
            hire_days,
            period_days,
            full_capacity: 0.0,
            expected_capacity: 0.0,
        };
        team.full_capacity = team.capacity_with_decay(0.0);
        team.expected_capacity = team.capacity_with_decay(team.daily_attrition());
        team
    }

    /// The capacity in leads when nobody leaves during the period.
    pub fn full_capacity(&self) -> f64 {
        self.full_capacity
    }

    /// The expected capacity in leads over the period, after the expected
    /// attrition.
    pub fn expected_capacity(&self) -> f64 {
        self.expected_capacity
    }

    /// Expected full-productivity rep-weeks in the period: the expected
    /// capacity over `leads_per_rep_week`.
    pub fn fte_weeks(&self) -> f64 {
        self.expected_capacity / self.leads_per_rep_week
    }

    /// The expected leads one fully ramped rep, on the team from the
    /// period's first day, carries over the period (with attrition).
    pub fn rep_capacity(&self) -> f64 {
        self.per_day() * decayed_length(0.0, self.period_days, self.daily_attrition())
    }

    /// The expected leads one new hire starting on `day` carries over the
    /// period, with the team's ramp and attrition.
    pub fn hire_capacity(&self, day: f64) -> f64 {
        let from = day.max(0.0);
        let days = self.ramp_integral(day, from, self.period_days, self.daily_attrition());
        self.per_day() * days
    }

    /// Fully ramped reps, on the team from the period's first day, that
    /// carry `leads` over the period: `leads / rep_capacity()`.
    pub fn reps_needed(&self, leads: f64) -> f64 {
        leads / self.rep_capacity()
    }

    /// For each hire day, the new hires beyond the current team needed so
    /// that the expected capacity reaches `leads` (rounded up; 0 when the
    /// team already carries them).
    pub fn hires_needed(&self, leads: f64) -> Vec<Hire> {
        let gap = leads - self.expected_capacity;
        self.hire_days
            .iter()
            .map(|&day| Hire {
                hire_day: day,
                hires: hires_for(gap, self.hire_capacity(day)),
            })
            .collect()
    }

    /// The team as a simple capacity for per-rep-per-week volumes: expected
    /// full-productivity reps over the period's weeks, so that a volume
    /// per rep per week is a volume per fully ramped rep-week. `None` when
    /// the team has no capacity in the period.
    pub fn as_capacity(&self) -> Option<Capacity> {
        let weeks = self.period_days / 7.0;
        let reps = self.fte_weeks() / weeks;
        (reps > 0.0).then_some(Capacity { reps, weeks })
    }

    /// Whether leads past the threshold convert at a lower rate.
    pub fn degrades(&self) -> bool {
        matches!(self.overload, Overload::Degrade { .. })
    }

    /// One trial's capacity in leads: each rep's leave time drawn from
    /// `rng` in listed order (nothing is drawn without attrition).
    pub fn draw_capacity<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let rate = self.daily_attrition();
        if rate == 0.0 {
            return self.full_capacity;
        }
        let days: f64 = self
            .reps
            .iter()
            .map(|rep| {
                let from = rep.start_day.max(0.0);
                let stay: f64 = Exp1.sample(rng);
                let until = (from + stay / rate).min(self.period_days);
                self.ramp_integral(rep.start_day, from, until, 0.0)
            })
            .sum();
        self.per_day() * days
    }

    /// Whether a trial's `leads` are past what the team carries at full
    /// conversion given the trial's `capacity`: `threshold * capacity` in
    /// degrade mode, never in refuse mode (trials are not limited).
    pub fn overloaded(&self, leads: f64, capacity: f64) -> bool {
        match self.overload {
            Overload::Degrade { threshold, .. } => leads > threshold * capacity,
            Overload::Refuse => false,
        }
    }

    /// The share of the drawn first-stage rate at which a trial's `leads`
    /// convert, given the trial's `capacity`: 1 unless the team is
    /// [overloaded](Team::overloaded), then `(T + f (N - T)) / N` with
    /// `T = threshold * capacity`.
    pub fn conversion_share(&self, leads: f64, capacity: f64) -> f64 {
        match self.overload {
            Overload::Degrade {
                threshold,
                conversion_factor,
            } if self.overloaded(leads, capacity) => {
                let carried = threshold * capacity;
                (carried + conversion_factor * (leads - carried)) / leads
            }
            _ => 1.0,
        }
    }

    /// The attrition rate per day.
    fn daily_attrition(&self) -> f64 {
        self.attrition_per_year / DAYS_PER_YEAR
    }

    /// Leads a fully productive rep carries per calendar day.
    fn per_day(&self) -> f64 {
        self.leads_per_rep_week * self.availability / 7.0
    }

    /// Expected capacity when each rep stays with daily hazard `rate`.
    fn capacity_with_decay(&self, rate: f64) -> f64 {
        let days: f64 = self
            .reps
            .iter()
            .map(|rep| {
                let from = rep.start_day.max(0.0);
                self.ramp_integral(rep.start_day, from, self.period_days, rate)
            })
            .sum();
        self.per_day() * days
    }

    /// `∫ ramp(t - start) exp(-rate (t - from)) dt` over `[from, to)`, for
    /// `from >= start`: the ramp is a step function of whole months, so the
    /// integral is a sum over the months the interval crosses.
    fn ramp_integral(&self, start: f64, from: f64, to: f64, rate: f64) -> f64 {
        if to <= from {
            return 0.0;
        }
        let last = self.ramp.len() - 1;
        let month = ((from - start) / DAYS_PER_MONTH).floor().max(0.0);
        let mut k = month.min(last as f64) as usize;
        let mut a = from;
        let mut total = 0.0;
        loop {
            let end = if k >= last {
                f64::INFINITY
            } else {
                start + (k + 1) as f64 * DAYS_PER_MONTH
            };
            let b = end.min(to);
            if b > a {
                total += self.ramp[k.min(last)] * decayed_length(a - from, b - from, rate);
            }
            if end >= to {
                return total;
            }
            a = a.max(end);
            k += 1;
        }
    }
}

/// `∫ exp(-rate x) dx` over `[x0, x1)`; the length when `rate` is 0.
fn decayed_length(x0: f64, x1: f64, rate: f64) -> f64 {
    if rate == 0.0 {
        x1 - x0
    } else {
        (-rate * x0).exp() * -(-rate * (x1 - x0)).exp_m1() / rate
    }
}

/// Whole hires, each carrying `per_hire`, that close a `gap` in leads; 0
/// when there is no gap, `None` when a hire carries nothing.
fn hires_for(gap: f64, per_hire: f64) -> Option<u64> {
    if gap <= 0.0 {
        Some(0)
    } else if per_hire > 0.0 {
        // A hair below a whole number is that number, not one more hire.
        Some((gap / per_hire - 1e-9).ceil() as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: f64 = DAYS_PER_MONTH;

    fn team(starts: &[f64], ramp: &[f64], attrition: f64) -> Team {
        let reps = starts
            .iter()
            .map(|&s| Rep {
                name: None,
                start_day: s,
            })
            .collect();
        Team::new(
            reps,
            ramp.to_vec(),
            30.0,
            1.0,
            attrition,
            Overload::Refuse,
            DEFAULT_HIRE_DAYS.to_vec(),
            90.0,
        )
    }

    #[test]
    fn a_month_is_a_twelfth_of_a_year() {
        assert_eq!(M, 30.4375);
    }

    #[test]
    fn ramped_days_by_hand() {
        // Ramp [0.25, 0.5, 0.8, 1.0] in a 90-day period, months of 30.4375
        // days.
        let t = team(&[-400.0, -45.0, 20.0], &[0.25, 0.5, 0.8, 1.0], 0.0);
        // Day -400: fully ramped long before; 90 days at 1.0.
        let old = 90.0;
        // Day -45: month 2 ends on day 15.875, month 3 on day 46.3125.
        let ramping: f64 = 0.5 * 15.875 + 0.8 * 30.4375 + 1.0 * (90.0 - 46.3125);
        assert!((ramping - 75.975).abs() < 1e-12);
        // Day 20: month 1 to day 50.4375, month 2 to 80.875, then 0.8.
        let new = 0.25 * 30.4375 + 0.5 * 30.4375 + 0.8 * 9.125;
        let expected = 30.0 / 7.0 * (old + ramping + new);
        assert!((t.full_capacity() - expected).abs() < 1e-9);
        assert_eq!(t.full_capacity(), t.expected_capacity());
        assert!((t.fte_weeks() - (old + ramping + new) / 7.0).abs() < 1e-12);
    }

    #[test]
    fn a_rep_starting_after_the_period_adds_nothing() {
        let t = team(&[90.0, 200.0], &[1.0], 0.5);
        assert_eq!(t.expected_capacity(), 0.0);
        assert!(t.as_capacity().is_none());
        assert_eq!(t.hire_capacity(95.0), 0.0);
    }

    #[test]
    fn attrition_discounts_a_fully_ramped_rep_in_closed_form() {
        // One rep, fully ramped: ∫_0^90 exp(-λ t) dt = (1 - e^{-90 λ}) / λ.
        let lambda = 0.4 / DAYS_PER_YEAR;
        let t = team(&[-1000.0], &[0.2, 1.0], 0.4);
        let days = (1.0 - (-90.0 * lambda).exp()) / lambda;
        assert!((t.expected_capacity() - 30.0 / 7.0 * days).abs() < 1e-9);
        assert!((t.rep_capacity() - t.expected_capacity()).abs() < 1e-9);
    }

    #[test]
    fn hire_capacity_by_hand() {
        // A hire on day -60 with ramp [0.5, 1]: month 1 ends on day
        // -29.5625, so the whole period is at 1.0. A hire on day 0: half
        // for 30.4375 days, then full.
        let t = team(&[-1000.0], &[0.5, 1.0], 0.0);
        assert!((t.hire_capacity(-60.0) - 30.0 / 7.0 * 90.0).abs() < 1e-9);
        let day0 = 0.5 * M + (90.0 - M);
        assert!((t.hire_capacity(0.0) - 30.0 / 7.0 * day0).abs() < 1e-9);
    }

    #[test]
    fn hires_round_up_and_say_when_none_can_help() {
        assert_eq!(hires_for(-5.0, 10.0), Some(0));
        assert_eq!(hires_for(20.0, 10.0), Some(2));
        assert_eq!(hires_for(20.000_000_000_1, 10.0), Some(2));
        assert_eq!(hires_for(21.0, 10.0), Some(3));
        assert_eq!(hires_for(1.0, 0.0), None);
    }

    #[test]
    fn degrade_blends_the_rate_past_the_threshold() {
        let mut t = team(&[-1000.0], &[1.0], 0.0);
        t.overload = Overload::Degrade {
            threshold: 1.0,
            conversion_factor: 0.5,
        };
        assert_eq!(t.conversion_share(40.0, 40.0), 1.0);
        assert_eq!(t.conversion_share(60.0, 40.0), (40.0 + 0.5 * 20.0) / 60.0);
        assert_eq!(t.conversion_share(0.0, 0.0), 1.0);
        t.overload = Overload::Refuse;
        assert_eq!(t.conversion_share(60.0, 40.0), 1.0);
    }
}
