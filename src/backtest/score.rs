//! Scores of a forecast against what happened.
//!
//! A probabilistic forecast is the sample of trial revenues, sorted; a
//! point forecast is one number. Every score here is defined for one
//! period; [`Coverage`](super::Coverage) and the means over periods are in
//! [`report`](super::report).
//!
//! - **PIT** (probability integral transform): the share of trials below
//!   the actual, with ties counted half (mid-rank), so an actual equal to
//!   every trial (say 0 revenue, forecast as surely 0) scores 0.5, not 0
//!   or 1. Over periods, the PIT of a calibrated forecast is uniform on
//!   [0, 1].
//! - **CRPS** (continuous ranked probability score), in the currency: the
//!   CRPS of the sample's empirical distribution,
//!   `mean |x_i - y| - 1/(2 n^2) sum_i sum_j |x_i - x_j|`, computed from
//!   the sorted sample in `O(n)`. Lower is better; for a point forecast it
//!   is the absolute error, so the two kinds compare on one scale.
//! - **Brier**: `(p - o)^2` for a forecast probability `p` of hitting the
//!   target and the outcome `o` (1 hit, 0 miss).

/// The PIT of `actual` in a sorted sample: the share of values below it,
/// values equal to it counted half.
///
/// ```
/// use revpipe::backtest::score::pit;
/// assert_eq!(pit(&[1.0, 2.0, 3.0, 4.0], 2.5), 0.5);
/// assert_eq!(pit(&[1.0, 2.0, 2.0, 4.0], 2.0), 0.5);
/// assert_eq!(pit(&[0.0, 0.0], 0.0), 0.5);
/// ```
///
/// # Panics
///
/// On an empty sample.
pub fn pit(sorted: &[f64], actual: f64) -> f64 {
    assert!(!sorted.is_empty(), "PIT of an empty sample");
    let below = sorted.partition_point(|x| *x < actual);
    let not_above = sorted.partition_point(|x| *x <= actual);
    (below as f64 + 0.5 * (not_above - below) as f64) / sorted.len() as f64
}

/// The CRPS of the empirical distribution of a sorted sample at `actual`
/// (see the module docs).
///
/// ```
/// use revpipe::backtest::score::crps;
/// // mean |x - 2.5| = 1; pairwise |x_i - x_j| sum to 20 over 2 * 16.
/// assert!((crps(&[1.0, 2.0, 3.0, 4.0], 2.5) - 0.375).abs() < 1e-12);
/// // One value: the absolute error.
/// assert_eq!(crps(&[7.0], 3.0), 4.0);
/// ```
///
/// # Panics
///
/// On an empty sample.
pub fn crps(sorted: &[f64], actual: f64) -> f64 {
    assert!(!sorted.is_empty(), "CRPS of an empty sample");
    let n = sorted.len() as f64;
    let abs_err = sorted.iter().map(|x| (x - actual).abs()).sum::<f64>() / n;
    // sum_{i,j} |x_i - x_j| = 2 sum_k x_(k) (2k - n + 1), k from 0.
    let spread: f64 = sorted
        .iter()
        .enumerate()
        .map(|(k, x)| x * (2.0 * k as f64 - n + 1.0))
        .sum();
    abs_err - spread / (n * n)
}

/// The Brier score of one forecast probability against the outcome.
///
/// ```
/// use revpipe::backtest::score::brier;
/// assert!((brier(0.8, true) - 0.04).abs() < 1e-12);
/// assert!((brier(0.8, false) - 0.64).abs() < 1e-12);
/// ```
pub fn brier(p: f64, hit: bool) -> f64 {
    let o = if hit { 1.0 } else { 0.0 };
    (p - o) * (p - o)
}

/// Counts of PIT values in `bins` equal bins of [0, 1]; a PIT of exactly
/// 1 goes in the last bin.
///
/// ```
/// use revpipe::backtest::score::histogram;
/// assert_eq!(histogram(&[0.0, 0.19, 0.2, 0.5, 1.0], 5), [2, 1, 1, 0, 1]);
/// ```
pub fn histogram(pits: &[f64], bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    for p in pits {
        let i = ((p * bins as f64).floor() as usize).min(bins - 1);
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    // The CRPS integral of the empirical step CDF, by brute force on a
    // fine grid, against the closed form.
    #[test]
    fn crps_matches_the_integral_of_the_squared_cdf_gap() {
        let sample = [0.0, 0.0, 1.5, 2.0, 6.0];
        for y in [-1.0, 0.0, 1.0, 1.75, 3.0, 9.0] {
            let (lo, hi, steps) = (-2.0, 10.0, 240_000);
            let h = (hi - lo) / steps as f64;
            let integral: f64 = (0..steps)
                .map(|i| {
                    let z = lo + (i as f64 + 0.5) * h;
                    let f = sample.iter().filter(|x| **x <= z).count() as f64 / 5.0;
                    let o = if z >= y { 1.0 } else { 0.0 };
                    (f - o) * (f - o) * h
                })
                .sum();
            assert!((crps(&sample, y) - integral).abs() < 1e-3, "y = {y}");
        }
    }

    #[test]
    fn pit_at_the_ends_of_the_sample() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(pit(&x, 0.5), 0.0);
        assert_eq!(pit(&x, 9.0), 1.0);
        assert_eq!(pit(&x, 1.0), 0.125);
        assert_eq!(pit(&x, 4.0), 0.875);
    }

    #[test]
    fn histogram_puts_bin_edges_in_the_upper_bin() {
        assert_eq!(histogram(&[0.1, 0.5, 0.9999, 0.3], 2), [2, 2]);
        assert_eq!(histogram(&[], 4), [0, 0, 0, 0]);
    }
}
