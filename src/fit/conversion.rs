//! Stage-to-stage conversion as a Beta posterior from counts.
//!
//! Each stage's rate gets `Beta(advanced + a, failed + b)` for a stated
//! prior `Beta(a, b)`. Only resolved deals count: a deal still open in a
//! stage has neither advanced nor failed there (it is censored), so open
//! deals neither inflate nor deflate the rate. The prior must be proper
//! (`a, b > 0`), so a stage with no wins or no losses, or no history at
//! all, still has a proper distribution; such stages are flagged.

use serde_json::{json, Value};
use statrs::distribution::{Beta, ContinuousCDF};

/// A Beta prior for conversion rates.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Prior {
    /// Prior successes.
    pub alpha: f64,
    /// Prior failures.
    pub beta: f64,
}

impl Prior {
    /// `Beta(1, 1)`: every rate equally likely.
    pub const UNIFORM: Prior = Prior {
        alpha: 1.0,
        beta: 1.0,
    };
    /// `Beta(1/2, 1/2)`: Jeffreys' prior.
    pub const JEFFREYS: Prior = Prior {
        alpha: 0.5,
        beta: 0.5,
    };

    /// Reads `uniform`, `jeffreys` or `A,B` (both `> 0`).
    ///
    /// ```
    /// use revpipe::fit::Prior;
    /// assert_eq!(Prior::from_flag("jeffreys"), Ok(Prior::JEFFREYS));
    /// assert_eq!(Prior::from_flag("2,8").unwrap().beta, 8.0);
    /// assert!(Prior::from_flag("0,1").is_err());
    /// ```
    pub fn from_flag(text: &str) -> Result<Prior, String> {
        match text {
            "uniform" => return Ok(Prior::UNIFORM),
            "jeffreys" => return Ok(Prior::JEFFREYS),
            _ => {}
        }
        let bad = || format!("{text:?}: expected uniform, jeffreys or ALPHA,BETA with both > 0");
        let (a, b) = text.split_once(',').ok_or_else(bad)?;
        let a: f64 = a.trim().parse().map_err(|_| bad())?;
        let b: f64 = b.trim().parse().map_err(|_| bad())?;
        if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
            Ok(Prior { alpha: a, beta: b })
        } else {
            Err(bad())
        }
    }
}

impl Default for Prior {
    fn default() -> Prior {
        Prior::UNIFORM
    }
}

/// A stage with fewer resolved deals than this is flagged as thin.
pub const THIN: u64 = 10;

/// What happened to deals that reached one stage.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct StageCount {
    /// The stage.
    pub stage: String,
    /// Went on to the next stage (or further, or won).
    pub advanced: u64,
    /// Lost while this was their furthest stage (stale deals counted as
    /// lost included).
    pub failed: u64,
    /// Still open here: neither advanced nor failed.
    pub censored: u64,
    /// Of `failed`, open deals counted lost because they are stale.
    pub stale_lost: u64,
    /// Deals counted as passing this stage without a history row for it.
    pub skipped: u64,
}

/// The Beta posterior of one stage's rate.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RateFit {
    /// Posterior mean.
    pub mean: f64,
    /// 2.5 % posterior quantile.
    pub low: f64,
    /// 97.5 % posterior quantile.
    pub high: f64,
    /// `advanced / (advanced + failed)`, when any resolved.
    pub raw: Option<f64>,
}

impl StageCount {
    /// Resolved deals: advanced plus failed.
    pub fn entered(&self) -> u64 {
        self.advanced + self.failed
    }

    /// The posterior under `prior`.
    pub fn posterior(&self, prior: Prior) -> RateFit {
        let a = self.advanced as f64 + prior.alpha;
        let b = self.failed as f64 + prior.beta;
        let (low, high) = match Beta::new(a, b) {
            Ok(d) => (d.inverse_cdf(0.025), d.inverse_cdf(0.975)),
            Err(_) => (f64::NAN, f64::NAN),
        };
        let n = self.entered();
        RateFit {
            mean: a / (a + b),
            low,
            high,
            raw: (n > 0).then(|| self.advanced as f64 / n as f64),
        }
    }

    /// The scenario's `to_next`: an `observed` distribution with the
    /// counts and the prior.
    pub fn dist(&self, prior: Prior) -> Value {
        json!({
            "dist": "observed",
            "advanced": self.advanced,
            "entered": self.entered(),
            "prior_alpha": prior.alpha,
            "prior_beta": prior.beta,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posterior_with_no_losses_is_proper() {
        let c = StageCount {
            stage: "s".into(),
            advanced: 5,
            ..StageCount::default()
        };
        let r = c.posterior(Prior::UNIFORM);
        assert_eq!(r.mean, 6.0 / 7.0);
        assert_eq!(r.raw, Some(1.0));
        // Beta(6, 1): quantile q is q^(1/6).
        assert!((r.low - 0.025f64.powf(1.0 / 6.0)).abs() < 1e-9);
        assert!(r.high < 1.0);
        let empty = StageCount::default().posterior(Prior::JEFFREYS);
        assert_eq!((empty.mean, empty.raw), (0.5, None));
    }
}
