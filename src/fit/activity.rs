//! Arrivals per period: how many deals (or leads) entered the top of the
//! funnel in each whole period before the as-of date, and whether they
//! vary more than a Poisson count would.

use super::Date;

/// Counts per period and their spread.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Arrivals {
    /// First day of each whole period, oldest first.
    pub period_starts: Vec<Date>,
    /// Arrivals in each period.
    pub counts: Vec<usize>,
    /// Mean count per period: the Poisson mean written to the scenario.
    pub mean: f64,
    /// Sample variance of the counts (`None` with fewer than 2 periods).
    pub variance: Option<f64>,
    /// Variance over mean: about 1 for Poisson counts, above 1 when
    /// arrivals are overdispersed.
    pub dispersion: Option<f64>,
    /// True when fewer than one whole period of data existed, so the mean
    /// was scaled from a shorter span.
    pub scaled_from_partial: bool,
}

/// Arrivals in the whole periods of `period_days` that end on `as_of`
/// (the last one is the `period_days` days up to and including `as_of`)
/// and start on or after `first`, the first day data exists. Dates after
/// `as_of` are not counted. With no whole period, the count over
/// `[first, as_of]` is scaled to a period.
///
/// ```
/// use revpipe::fit::{activity::arrivals, Date};
/// let d = |s| Date::parse_iso(s).unwrap();
/// let dates = [d("2024-01-01"), d("2024-01-05"), d("2024-01-15")];
/// let a = arrivals(&dates, d("2024-01-01"), d("2024-01-20"), 10);
/// assert_eq!(a.counts, [2, 1]);
/// assert_eq!(a.mean, 1.5);
/// ```
pub fn arrivals(dates: &[Date], first: Date, as_of: Date, period_days: u32) -> Arrivals {
    let len = period_days as i32;
    let span = as_of.days_since(first) + 1;
    let whole = (span / len).max(0) as usize;
    if whole == 0 {
        let n = dates
            .iter()
            .filter(|d| **d >= first && **d <= as_of)
            .count();
        let span = span.max(1) as f64;
        return Arrivals {
            period_starts: vec![first],
            counts: vec![n],
            mean: n as f64 * len as f64 / span,
            variance: None,
            dispersion: None,
            scaled_from_partial: true,
        };
    }
    let start = as_of.plus_days(1 - len * whole as i32);
    let mut counts = vec![0usize; whole];
    for d in dates.iter().filter(|d| **d >= start && **d <= as_of) {
        counts[(d.days_since(start) / len) as usize] += 1;
    }
    let starts = (0..whole)
        .map(|k| start.plus_days(len * k as i32))
        .collect();
    summarise(starts, counts)
}

fn summarise(period_starts: Vec<Date>, counts: Vec<usize>) -> Arrivals {
    let n = counts.len() as f64;
    let mean = counts.iter().sum::<usize>() as f64 / n;
    let variance = (counts.len() > 1).then(|| {
        counts
            .iter()
            .map(|&c| (c as f64 - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0)
    });
    let dispersion = variance.filter(|_| mean > 0.0).map(|v| v / mean);
    Arrivals {
        period_starts,
        counts,
        mean,
        variance,
        dispersion,
        scaled_from_partial: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispersion_of_uneven_counts() {
        let d0 = Date::parse_iso("2024-01-01").unwrap();
        let mut dates = vec![d0; 2];
        dates.extend(vec![d0.plus_days(10); 10]);
        dates.push(d0.plus_days(20)); // after the as-of day: not counted
        let a = arrivals(&dates, d0, d0.plus_days(19), 10);
        assert_eq!(a.counts, [2, 10]);
        assert_eq!(a.mean, 6.0);
        assert_eq!(a.variance, Some(32.0));
        assert_eq!(a.dispersion, Some(32.0 / 6.0));
    }

    #[test]
    fn partial_period_is_scaled() {
        let d0 = Date::parse_iso("2024-01-01").unwrap();
        let a = arrivals(&[d0, d0.plus_days(1)], d0, d0.plus_days(4), 10);
        assert!(a.scaled_from_partial);
        assert_eq!(a.mean, 4.0);
    }
}
