//! Sensitivity of the result to each uncertain input.
//!
//! Only the shape of a result for now: the report draws it as a tornado.
// TODO: the computation (issue 5) lands from the sensitivity branch.

use serde::Serialize;

/// How the result moves when one input is held at its P10, then its P90.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityEntry {
    /// The input, such as "Core accounts: lead -> qualified rate".
    pub input: String,
    /// The segment it belongs to.
    pub segment: String,
    /// The input's P10.
    pub low_value: f64,
    /// The input's P90.
    pub high_value: f64,
    /// P(hit) with the input held at its P10.
    pub p_hit_low: f64,
    /// P(hit) with the input held at its P90.
    pub p_hit_high: f64,
    /// Median revenue with the input held at its P10.
    pub p50_low: f64,
    /// Median revenue with the input held at its P90.
    pub p50_high: f64,
    /// `|p_hit_high - p_hit_low|`.
    pub swing: f64,
    /// The rank correlation of the input's per-trial draw with revenue.
    pub rank_correlation: Option<f64>,
}
