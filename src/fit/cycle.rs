//! Cycle time: days from a deal's created date to its win, fitted with
//! open deals as right-censored points (an open deal of age `a` will, if
//! it wins, take longer than `a`). Since only some open deals will win,
//! each censored point is weighted by the deal's probability of winning
//! from its stage, so the cycle of winners is not stretched by deals that
//! will be lost.

use super::mle::{self, Family, MleFit, Sample};
use serde_json::Value;

/// Fewest won cycles a fit accepts.
pub const MIN_EVENTS: usize = 8;

/// A cycle of 0 days (won on the day it was created) is read as half a
/// day, since both families live on `(0, inf)`.
pub const ZERO_DAY: f64 = 0.5;

/// The fitted cycle time of one segment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CycleFit {
    /// Won deals with both dates.
    pub wins: usize,
    /// Open deals entered as censored points.
    pub censored: usize,
    /// Sum of the censored points' weights.
    pub censored_weight: f64,
    /// Wins closed on their created day (read as half a day).
    pub zero_day: usize,
    /// Median of the won cycles alone (biased short when many deals are
    /// open).
    pub naive_median: f64,
    /// Kaplan-Meier median with the same weighted censoring, if the
    /// survival curve reaches one half.
    pub km_median: Option<f64>,
    /// Both fits.
    pub candidates: Vec<MleFit>,
    /// The one with the lower AIC.
    pub chosen: String,
    /// Median of the chosen fit.
    pub fitted_median: f64,
    /// The scenario's `cycle_days`.
    pub dist: Value,
}

/// Fits cycle days of won deals, with `(age, weight)` of open deals as
/// censored points. `None` with fewer than [`MIN_EVENTS`] wins or when
/// every won cycle is the same.
pub fn fit_cycle(won_days: &[f64], open: &[(f64, f64)]) -> Option<CycleFit> {
    if won_days.len() < MIN_EVENTS {
        return None;
    }
    let zero_day = won_days.iter().filter(|d| **d <= 0.0).count();
    let exact: Vec<f64> = won_days.iter().map(|d| d.max(ZERO_DAY)).collect();
    let first = exact[0];
    if exact.iter().all(|d| *d == first) {
        return None;
    }
    let censored: Vec<(f64, f64)> = open
        .iter()
        .filter(|(_, w)| *w > 0.0)
        .map(|&(a, w)| (a.max(ZERO_DAY), w))
        .collect();
    let sample = Sample { exact, censored };
    let candidates: Vec<MleFit> = [Family::Lognormal, Family::Gamma]
        .iter()
        .map(|&f| mle::fit(f, &sample))
        .collect();
    let best = candidates.iter().min_by(|a, b| a.aic.total_cmp(&b.aic))?;
    Some(CycleFit {
        wins: won_days.len(),
        censored: sample.censored.len(),
        censored_weight: sample.censored.iter().map(|c| c.1).sum(),
        zero_day,
        naive_median: median(&sample.exact),
        km_median: km_median(&sample),
        chosen: super::size::family_name(best.family),
        fitted_median: best.family.median(best.params),
        dist: super::size::dist_json(best),
        candidates,
    })
}

fn median(xs: &[f64]) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Kaplan-Meier median with weighted censored points: the first time the
/// survival estimate drops to one half or below.
pub fn km_median(s: &Sample) -> Option<f64> {
    // (time, weight, is_event); at equal times events come first.
    let mut points: Vec<(f64, f64, bool)> = s.exact.iter().map(|&x| (x, 1.0, true)).collect();
    points.extend(s.censored.iter().map(|&(x, w)| (x, w, false)));
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.2.cmp(&a.2)));
    let mut at_risk: f64 = points.iter().map(|p| p.1).sum();
    let mut surv = 1.0;
    let mut i = 0;
    while i < points.len() {
        let t = points[i].0;
        let (mut events, mut leaving) = (0.0, 0.0);
        while i < points.len() && points[i].0 == t {
            if points[i].2 {
                events += points[i].1;
            }
            leaving += points[i].1;
            i += 1;
        }
        if events > 0.0 {
            surv *= 1.0 - events / at_risk;
            if surv <= 0.5 {
                return Some(t);
            }
        }
        at_risk -= leaving;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn km_median_with_and_without_censoring() {
        let s = Sample {
            exact: vec![1.0, 2.0, 3.0, 4.0],
            censored: vec![],
        };
        assert_eq!(km_median(&s), Some(2.0));
        // Two points censored early: the survivors carry their weight.
        let s = Sample {
            exact: vec![3.0, 4.0, 5.0],
            censored: vec![(1.0, 1.0), (1.0, 1.0)],
        };
        assert_eq!(km_median(&s), Some(4.0));
    }

    #[test]
    fn too_few_wins_give_no_fit() {
        assert!(fit_cycle(&[1.0, 2.0, 3.0], &[]).is_none());
        assert!(fit_cycle(&[7.0; 20], &[]).is_none());
    }
}
