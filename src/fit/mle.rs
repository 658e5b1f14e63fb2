//! Maximum likelihood for the two positive families the fit uses
//! (lognormal and gamma), with right-censored points, a small
//! Nelder-Mead minimiser and standard errors from the observed
//! information (a numerical Hessian of the log-likelihood).

use statrs::function::erf::erfc;
use statrs::function::gamma::{gamma_lr, gamma_ur, ln_gamma};
use std::f64::consts::{PI, SQRT_2};

/// A positive distribution family with two parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Parameters `mu`, `sigma` of the log.
    Lognormal,
    /// Parameters `shape`, `scale`.
    Gamma,
}

impl Family {
    /// Names of the two parameters, as the scenario writes them.
    pub fn params(self) -> [&'static str; 2] {
        match self {
            Family::Lognormal => ["mu", "sigma"],
            Family::Gamma => ["shape", "scale"],
        }
    }

    /// Log density at `x > 0`.
    pub fn ln_pdf(self, p: [f64; 2], x: f64) -> f64 {
        match self {
            Family::Lognormal => {
                let z = (x.ln() - p[0]) / p[1];
                -x.ln() - p[1].ln() - 0.5 * (2.0 * PI).ln() - 0.5 * z * z
            }
            Family::Gamma => (p[0] - 1.0) * x.ln() - x / p[1] - ln_gamma(p[0]) - p[0] * p[1].ln(),
        }
    }

    /// Probability of a value at most `x`.
    pub fn cdf(self, p: [f64; 2], x: f64) -> f64 {
        match self {
            Family::Lognormal => 0.5 * erfc(-(x.ln() - p[0]) / (p[1] * SQRT_2)),
            Family::Gamma => gamma_lr(p[0], x / p[1]),
        }
    }

    /// Log of the probability of a value above `x`.
    pub fn ln_sf(self, p: [f64; 2], x: f64) -> f64 {
        let sf = match self {
            Family::Lognormal => 0.5 * erfc((x.ln() - p[0]) / (p[1] * SQRT_2)),
            Family::Gamma => gamma_ur(p[0], x / p[1]),
        };
        sf.max(1e-300).ln()
    }

    /// Mean of the distribution.
    pub fn mean(self, p: [f64; 2]) -> f64 {
        match self {
            Family::Lognormal => (p[0] + 0.5 * p[1] * p[1]).exp(),
            Family::Gamma => p[0] * p[1],
        }
    }

    /// Median (for the gamma, found by bisection on the CDF).
    pub fn median(self, p: [f64; 2]) -> f64 {
        match self {
            Family::Lognormal => p[0].exp(),
            Family::Gamma => {
                let (mut lo, mut hi) = (0.0, self.mean(p) * 10.0 + 1.0);
                for _ in 0..200 {
                    let mid = 0.5 * (lo + hi);
                    if self.cdf(p, mid) < 0.5 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            }
        }
    }
}

/// Observed points: exact values and right-censored ones (known only to
/// exceed a value), each censored point with a weight in `[0, 1]`.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Exact values, all `> 0`.
    pub exact: Vec<f64>,
    /// `(value, weight)`: the true value is above `value`.
    pub censored: Vec<(f64, f64)>,
}

/// A maximum-likelihood fit of one family.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MleFit {
    /// The family.
    pub family: Family,
    /// The two parameters, in the order of [`Family::params`].
    pub params: [f64; 2],
    /// Their standard errors (`NaN` when the information matrix is not
    /// invertible).
    pub std_errors: [f64; 2],
    /// Log-likelihood at the maximum.
    pub log_likelihood: f64,
    /// Akaike information criterion, `4 - 2 log L` (two parameters).
    pub aic: f64,
    /// Kolmogorov-Smirnov distance between the exact values and the
    /// fitted CDF (only meaningful without censoring).
    pub ks: f64,
}

/// Log-likelihood of a sample.
pub fn log_likelihood(family: Family, p: [f64; 2], s: &Sample) -> f64 {
    let exact: f64 = s.exact.iter().map(|&x| family.ln_pdf(p, x)).sum();
    let cens: f64 = s
        .censored
        .iter()
        .map(|&(x, w)| w * family.ln_sf(p, x))
        .sum();
    exact + cens
}

/// Kolmogorov-Smirnov distance of sorted values from a CDF.
pub fn ks_distance(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let n = sorted.len() as f64;
    let mut d: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        d = d.max(f - i as f64 / n).max((i + 1) as f64 / n - f);
    }
    d
}

/// Closed-form (lognormal) or Newton (gamma) estimates from exact values
/// alone; the start point for censored fits.
pub fn uncensored(family: Family, xs: &[f64]) -> [f64; 2] {
    let n = xs.len() as f64;
    let mean_ln = xs.iter().map(|x| x.ln()).sum::<f64>() / n;
    match family {
        Family::Lognormal => {
            let var = xs.iter().map(|x| (x.ln() - mean_ln).powi(2)).sum::<f64>() / n;
            [mean_ln, var.sqrt()]
        }
        Family::Gamma => {
            let mean = xs.iter().sum::<f64>() / n;
            let shape = gamma_shape(mean.ln() - mean_ln);
            [shape, mean / shape]
        }
    }
}

// Solves ln k - digamma(k) = s for the gamma shape, from the usual closed
// approximation refined by Newton steps.
fn gamma_shape(s: f64) -> f64 {
    use statrs::function::gamma::digamma;
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..50 {
        let f = k.ln() - digamma(k) - s;
        let df = 1.0 / k - trigamma(k);
        let next = k - f / df;
        let next = if next <= 0.0 { k / 2.0 } else { next };
        if (next - k).abs() < 1e-12 * k {
            return next;
        }
        k = next;
    }
    k
}

/// The trigamma function (derivative of digamma) for `x > 0`.
pub fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    let series = 1.0 / x
        + x2 / 2.0
        + x2 / x * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)));
    acc + series
}

/// Fits one family to a sample (censored points included) by maximum
/// likelihood. Parameters are searched on the log scale of the positive
/// ones, so the search never leaves the valid region.
pub fn fit(family: Family, s: &Sample) -> MleFit {
    let start = uncensored(family, &s.exact);
    let to_free = |p: [f64; 2]| match family {
        Family::Lognormal => [p[0], p[1].ln()],
        Family::Gamma => [p[0].ln(), p[1].ln()],
    };
    let from_free = |q: [f64; 2]| match family {
        Family::Lognormal => [q[0], q[1].exp()],
        Family::Gamma => [q[0].exp(), q[1].exp()],
    };
    let params = if s.censored.is_empty() {
        start
    } else {
        let nll = |q: [f64; 2]| -log_likelihood(family, from_free(q), s);
        from_free(nelder_mead(nll, to_free(start), 0.3))
    };
    let log_likelihood = log_likelihood(family, params, s);
    let mut sorted = s.exact.clone();
    sorted.sort_by(f64::total_cmp);
    MleFit {
        family,
        params,
        std_errors: std_errors(|p| log_likelihood_at(family, p, s), params),
        log_likelihood,
        aic: 4.0 - 2.0 * log_likelihood,
        ks: ks_distance(&sorted, |x| family.cdf(params, x)),
    }
}

fn log_likelihood_at(family: Family, p: [f64; 2], s: &Sample) -> f64 {
    if p[0].is_nan() || p[1] <= 0.0 || (family == Family::Gamma && p[0] <= 0.0) {
        return f64::NEG_INFINITY;
    }
    log_likelihood(family, p, s)
}

/// Standard errors from the inverse of the negative Hessian of `ll` at
/// `p` (central differences, step relative to each parameter).
pub fn std_errors(ll: impl Fn([f64; 2]) -> f64, p: [f64; 2]) -> [f64; 2] {
    let h = [1e-4 * p[0].abs().max(1e-3), 1e-4 * p[1].abs().max(1e-3)];
    let at = |d0: f64, d1: f64| ll([p[0] + d0, p[1] + d1]);
    let f0 = at(0.0, 0.0);
    let a = (at(h[0], 0.0) - 2.0 * f0 + at(-h[0], 0.0)) / (h[0] * h[0]);
    let c = (at(0.0, h[1]) - 2.0 * f0 + at(0.0, -h[1])) / (h[1] * h[1]);
    let b = (at(h[0], h[1]) - at(h[0], -h[1]) - at(-h[0], h[1]) + at(-h[0], -h[1]))
        / (4.0 * h[0] * h[1]);
    // Information = -Hessian; its inverse is the covariance.
    let det = a * c - b * b;
    if det.is_nan() || det <= 0.0 || a >= 0.0 {
        return [f64::NAN; 2];
    }
    [(-c / det).sqrt(), (-a / det).sqrt()]
}

/// Minimises `f` over two free parameters from `start` with an initial
/// simplex of size `step`; stops when the simplex's values agree to 1e-10
/// or after 2,000 iterations.
pub fn nelder_mead(f: impl Fn([f64; 2]) -> f64, start: [f64; 2], step: f64) -> [f64; 2] {
    let val = |p: [f64; 2]| {
        let v = f(p);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let mut s = [
        start,
        [start[0] + step, start[1]],
        [start[0], start[1] + step],
    ];
    let mut v = s.map(val);
    let lerp =
        |a: [f64; 2], b: [f64; 2], t: f64| [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
    for _ in 0..2000 {
        // Order: best first, worst last.
        let mut idx = [0, 1, 2];
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        s = idx.map(|i| s[i]);
        v = idx.map(|i| v[i]);
        if (v[2] - v[0]).abs() < 1e-10 * (1.0 + v[0].abs()) {
            break;
        }
        let centre = lerp(s[0], s[1], 0.5);
        let reflected = lerp(centre, s[2], -1.0);
        let fr = val(reflected);
        if fr < v[0] {
            let expanded = lerp(centre, s[2], -2.0);
            let fe = val(expanded);
            (s[2], v[2]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < v[1] {
            (s[2], v[2]) = (reflected, fr);
        } else {
            let contracted = lerp(centre, s[2], 0.5);
            let fc = val(contracted);
            if fc < v[2] {
                (s[2], v[2]) = (contracted, fc);
            } else {
                for i in 1..3 {
                    s[i] = lerp(s[0], s[i], 0.5);
                    v[i] = val(s[i]);
                }
            }
        }
    }
    let best = (0..3).min_by(|&i, &j| v[i].total_cmp(&v[j])).unwrap_or(0);
    s[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_known_values() {
        // trigamma(1) = pi^2 / 6, trigamma(1/2) = pi^2 / 2.
        assert!((trigamma(1.0) - PI * PI / 6.0).abs() < 1e-10);
        assert!((trigamma(0.5) - PI * PI / 2.0).abs() < 1e-10);
    }

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let f = |p: [f64; 2]| (p[0] - 3.0).powi(2) + 10.0 * (p[1] + 1.0).powi(2);
        let m = nelder_mead(f, [0.0, 0.0], 1.0);
        assert!((m[0] - 3.0).abs() < 1e-4 && (m[1] + 1.0).abs() < 1e-4);
    }

    #[test]
    fn gamma_shape_of_exponential_data() {
        // Equally spaced quantiles of Exp(1): shape near 1, scale near 1.
        let xs: Vec<f64> = (1..1000).map(|i| -(1.0 - i as f64 / 1000.0).ln()).collect();
        let p = uncensored(Family::Gamma, &xs);
        assert!((p[0] - 1.0).abs() < 0.05, "{p:?}");
        assert!((p[1] - 1.0).abs() < 0.05, "{p:?}");
        assert!((Family::Gamma.median([1.0, 1.0]) - 2f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn standard_errors_of_a_lognormal_match_the_formula() {
        let xs: Vec<f64> = (1..200).map(|i| (i as f64 / 20.0).exp()).collect();
        let s = Sample {
            exact: xs.clone(),
            censored: vec![],
        };
        let f = fit(Family::Lognormal, &s);
        let n = xs.len() as f64;
        let sigma = f.params[1];
        assert!((f.std_errors[0] - sigma / n.sqrt()).abs() < 1e-4 * sigma);
        assert!((f.std_errors[1] - sigma / (2.0 * n).sqrt()).abs() < 1e-4 * sigma);
    }
}
