//! Deal size: lognormal and gamma by maximum likelihood, the one with
//! the lower AIC kept (both have two parameters, so this is the higher
//! likelihood), or the historical sizes themselves to resample.

use super::mle::{self, Family, MleFit, Sample};
use serde_json::{json, Value};

/// Fewest sizes a parametric fit accepts: below this the two parameters
/// and the KS distance mean little.
pub const MIN_POINTS: usize = 8;

/// Which deal-size distribution to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeChoice {
    /// Lognormal or gamma, whichever has the lower AIC.
    #[default]
    Auto,
    /// Lognormal only.
    Lognormal,
    /// Gamma only.
    Gamma,
    /// The accepted historical sizes, resampled.
    Empirical,
}

impl std::str::FromStr for SizeChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<SizeChoice, String> {
        match s {
            "auto" => Ok(SizeChoice::Auto),
            "lognormal" => Ok(SizeChoice::Lognormal),
            "gamma" => Ok(SizeChoice::Gamma),
            "empirical" => Ok(SizeChoice::Empirical),
            _ => Err(format!(
                "{s:?}: expected auto, lognormal, gamma or empirical"
            )),
        }
    }
}

/// Why deal sizes cannot be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SizeError {
    /// Too few won deals with an amount.
    #[error("{n} won deals with a positive amount, a {family} fit needs at least {need}; use fewer segments or --deal-size empirical")]
    TooFew {
        /// Sizes available.
        n: usize,
        /// Sizes needed.
        need: usize,
        /// The fit asked for.
        family: &'static str,
    },
    /// Every size is the same: no spread to fit.
    #[error("all {n} won amounts equal {value}: no spread to fit a distribution to; use --deal-size empirical")]
    Identical {
        /// The value.
        value: f64,
        /// How many.
        n: usize,
    },
}

/// The fitted deal size of one segment.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SizeFit {
    /// Sizes used.
    pub n: usize,
    /// Their median.
    pub median: f64,
    /// Their mean.
    pub mean: f64,
    /// The fits tried (empty for `empirical`).
    pub candidates: Vec<MleFit>,
    /// `lognormal`, `gamma` or `empirical`.
    pub chosen: String,
    /// The scenario's `deal_size`.
    pub dist: Value,
    /// Mean of the written distribution (size given to open deals
    /// without an amount).
    pub dist_mean: f64,
}

/// Fits deal sizes (all `> 0`).
///
/// ```
/// use revpipe::fit::size::{fit_sizes, SizeChoice, SizeError};
/// let sizes = [100.0, 120.0, 90.0, 300.0, 150.0, 80.0, 110.0, 95.0];
/// let fit = fit_sizes(&sizes, SizeChoice::Auto).unwrap();
/// assert_eq!(fit.median, 105.0);
/// assert!(matches!(
///     fit_sizes(&[5.0; 10], SizeChoice::Auto),
///     Err(SizeError::Identical { .. })
/// ));
/// ```
pub fn fit_sizes(sizes: &[f64], choice: SizeChoice) -> Result<SizeFit, SizeError> {
    let mut sorted = sizes.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let need = if choice == SizeChoice::Empirical {
        1
    } else {
        MIN_POINTS
    };
    if n < need {
        let family = match choice {
            SizeChoice::Empirical => "empirical",
            SizeChoice::Gamma => "gamma",
            SizeChoice::Lognormal => "lognormal",
            SizeChoice::Auto => "lognormal or gamma",
        };
        return Err(SizeError::TooFew { n, need, family });
    }
    if choice != SizeChoice::Empirical && sorted[0] == sorted[n - 1] {
        return Err(SizeError::Identical {
            value: sorted[0],
            n,
        });
    }
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let families: &[Family] = match choice {
        SizeChoice::Auto => &[Family::Lognormal, Family::Gamma],
        SizeChoice::Lognormal => &[Family::Lognormal],
        SizeChoice::Gamma => &[Family::Gamma],
        SizeChoice::Empirical => &[],
    };
    let sample = Sample {
        exact: sorted.clone(),
        censored: vec![],
    };
    let candidates: Vec<MleFit> = families.iter().map(|&f| mle::fit(f, &sample)).collect();
    let best = candidates.iter().min_by(|a, b| a.aic.total_cmp(&b.aic));
    let (chosen, dist, dist_mean) = match best {
        Some(b) => (family_name(b.family), dist_json(b), b.family.mean(b.params)),
        None => (
            "empirical".into(),
            json!({"dist": "empirical", "values": sorted}),
            mean,
        ),
    };
    Ok(SizeFit {
        n,
        median,
        mean,
        candidates,
        chosen,
        dist,
        dist_mean,
    })
}

pub(crate) fn family_name(f: Family) -> String {
    match f {
        Family::Lognormal => "lognormal".into(),
        Family::Gamma => "gamma".into(),
    }
}

/// A fitted family as a scenario distribution.
pub fn dist_json(fit: &MleFit) -> Value {
    let [a, b] = fit.family.params();
    json!({
        "dist": family_name(fit.family),
        a: round_sig(fit.params[0]),
        b: round_sig(fit.params[1]),
    })
}

// Twelve significant digits: short in the file, far below any error bar.
pub(crate) fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 11 - x.abs().log10().floor() as i32;
    let m = 10f64.powi(digits.clamp(-300, 300));
    (x * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_and_empirical() {
        let err = fit_sizes(&[1.0, 2.0], SizeChoice::Gamma).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 won deals with a positive amount, a gamma fit needs at least 8; use fewer segments or --deal-size empirical"
        );
        let e = fit_sizes(&[3.0, 1.0, 2.0], SizeChoice::Empirical).unwrap();
        assert_eq!(
            e.dist,
            json!({"dist": "empirical", "values": [1.0, 2.0, 3.0]})
        );
        assert_eq!((e.median, e.dist_mean), (2.0, 2.0));
    }

    #[test]
    fn rounding_keeps_twelve_digits() {
        assert_eq!(round_sig(1234.567890123456), 1234.56789012);
        assert_eq!(round_sig(-0.000123456789012345), -0.000123456789012);
    }
}
