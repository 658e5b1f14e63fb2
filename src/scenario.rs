//! The scenario file: plain serde types that mirror the JSON, and the
//! validation that turns them into a [`Model`].
//!
//! Parsing is strict: an unknown field is refused (a typo such as
//! `"tragets"` must not be silently ignored), and every error names the file,
//! the field path (`segments[1].stages[0].to_next.sd`), the offending value
//! and what would be valid.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dependence::Copula;
use crate::dist::{Dist, DistError, Domain};
use crate::model::{
    Ansoff, Capacity, DealGroup, Dependence, Input, Loadings, Model, OpenDeal, Segment, Slip,
};

/// Trials run when a scenario names none.
pub const DEFAULT_TRIALS: u64 = 100_000;
/// The confidence of the commit number.
pub const COMMIT_CONFIDENCE: f64 = 0.9;
/// The confidence of the stretch number when a scenario names none.
pub const DEFAULT_STRETCH: f64 = 0.5;

/// The scenario file as written: see the README for every field.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A name for the forecast, echoed in every output.
    pub name: String,
    /// Free text: where the numbers came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The currency code printed beside amounts.
    #[serde(default = "default_currency")]
    pub currency: String,
    /// The length of the forecast period, in days.
    pub period_days: f64,
    /// The revenue number for the period.
    pub target: f64,
    /// Revenue already closed-won inside the period.
    #[serde(default)]
    pub booked: f64,
    /// How many Monte Carlo trials to run.
    #[serde(default = "default_trials")]
    pub trials: u64,
    /// The seed every random stream is derived from.
    #[serde(default)]
    pub seed: u64,
    /// Confidence levels to solve the activity for.
    #[serde(default = "default_confidence")]
    pub confidence: Vec<f64>,
    /// The confidence of the stretch number (0.5 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretch_confidence: Option<f64>,
    /// The growth motions, each with its own funnel.
    pub segments: Vec<SegmentFile>,
    /// Rank correlations between inputs, and groups of open deals that win
    /// or lose together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependence: Option<DependenceFile>,
}

/// Dependence across the scenario, as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DependenceFile {
    /// A rank-correlation matrix over named per-trial inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_correlation: Option<RankCorrelationFile>,
    /// Groups of open deals that share a rate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deal_groups: Vec<DealGroupFile>,
}

/// A rank-correlation matrix as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RankCorrelationFile {
    /// The inputs, as `SEGMENT/activity`, `SEGMENT/slippage` or
    /// `SEGMENT/rate:STAGE` (the rate from STAGE to the next).
    pub inputs: Vec<String>,
    /// Spearman rank correlations, one row per input.
    pub matrix: Vec<Vec<f64>>,
    /// Shrink an invalid matrix towards independence instead of refusing it.
    #[serde(default)]
    pub repair: bool,
}

/// A group of open deals as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DealGroupFile {
    /// The name open deals refer to in their `group`.
    pub name: String,
    /// The correlation between two deals' outcomes, in [0, 1).
    pub correlation: f64,
}

/// A segment's loadings on the shared market factor, each in [-1, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketFile {
    /// Every stage's conversion rate.
    #[serde(default)]
    pub rates: f64,
    /// The number of new leads.
    #[serde(default)]
    pub activity: f64,
    /// Each won deal's size.
    #[serde(default)]
    pub deal_size: f64,
    /// The open-pipeline slippage factor.
    #[serde(default)]
    pub slippage: f64,
}

/// How a segment's open deals slip, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlipFile {
    /// For each time a deal's close date has moved out before, its chance
    /// of closing in this period is multiplied by this factor, in [0, 1].
    #[serde(default = "one")]
    pub per_slip: f64,
    /// The same factor for particular stages (by stage name).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub stage_per_slip: std::collections::BTreeMap<String, f64>,
    /// Deals older than this many days decay towards lost...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_after_days: Option<f64>,
    /// ...halving their chance every this many days past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_half_life_days: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// One segment (growth motion) as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentFile {
    /// The segment's name; must be unique in the scenario.
    pub name: String,
    /// The Ansoff quadrant, when the segment is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ansoff: Option<Ansoff>,
    /// The funnel, top first; every stage but the last has `to_next`.
    pub stages: Vec<StageFile>,
    /// New leads entering the funnel in the period.
    pub activity: Value,
    /// The value of one won deal.
    pub deal_size: Value,
    /// Days from a lead's arrival to its close; absent: every win counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_days: Option<Value>,
    /// The team working the segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityFile>,
    /// Deals already in the funnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_pipeline: Option<Vec<OpenDealFile>>,
    /// A CSV file of open deals (`stage,amount,age_days[,id]`), relative
    /// to the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_pipeline_csv: Option<String>,
    /// A factor in [0, 1] on open-deal revenue, drawn once per trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage: Option<Value>,
    /// Loadings on the shared market factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub market: Option<MarketFile>,
    /// How open deals slip and go stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slip: Option<SlipFile>,
}

/// One funnel stage as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageFile {
    /// The stage's name, as the open pipeline refers to it.
    pub name: String,
    /// The conversion rate to the next stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_next: Option<Value>,
}

/// A segment's team as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    /// Reps working the segment.
    pub reps: f64,
    /// Working weeks in the period (default: period_days / 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weeks: Option<f64>,
}

/// One open deal as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpenDealFile {
    /// The CRM's id, carried into warnings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The stage the deal is at.
    pub stage: String,
    /// The deal's value if won.
    pub amount: f64,
    /// Days since the deal entered the funnel.
    pub age_days: f64,
    /// The deal group it belongs to (see `dependence.deal_groups`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// How many times its close date has moved out before.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub slips: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn default_currency() -> String {
    "USD".to_string()
}

fn default_trials() -> u64 {
    DEFAULT_TRIALS
}

fn default_confidence() -> Vec<f64> {
    vec![COMMIT_CONFIDENCE, DEFAULT_STRETCH]
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The text is not JSON, or a field has the wrong type or name.
    #[error("{}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// Where and what, with line and column.
        message: String,
    },
    /// A field's value breaks a rule of the model.
    #[error("{}: {error}", file.display())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The field path, the value and what would be valid.
        error: FieldError,
    },
}

/// A rule broken by one field: its path, and a message naming the value
/// and what would be valid.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The JSON path of the field, e.g. `segments[0].target`.
    pub path: String,
    /// The value and what would be valid.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl From<DistError> for FieldError {
    fn from(e: DistError) -> Self {
        FieldError {
            path: e.path,
            message: e.message,
        }
    }
}

fn field(path: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads, parses and validates a scenario file.
///
/// An open pipeline given as `open_pipeline_csv` is read relative to the
/// scenario's folder.
pub fn load(file: &Path) -> Result<Model, ScenarioError> {
    let text = std::fs::read_to_string(file).map_err(|source| ScenarioError::Io {
        file: file.to_path_buf(),
        source,
    })?;
    let parsed = parse_str(&text).map_err(|message| ScenarioError::Syntax {
        file: file.to_path_buf(),
        message,
    })?;
    let base = file.parent().unwrap_or(Path::new("."));
    parsed
        .validate(base)
        .map_err(|error| ScenarioError::Invalid {
            file: file.to_path_buf(),
            error,
        })
}

/// Parses scenario JSON into its file types, without validating values.
///
/// The error names the field path, line and column.
pub fn parse_str(text: &str) -> Result<ScenarioFile, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })
}

impl ScenarioFile {
    /// Checks every value and builds the model. `base` is the folder that
    /// relative file names (`open_pipeline_csv`) start from.
    pub fn validate(&self, base: &Path) -> Result<Model, FieldError> {
        let period_days = positive("period_days", self.period_days)?;
        let target = non_negative("target", self.target)?;
        let booked = non_negative("booked", self.booked)?;
        check_trials("trials", self.trials)?;
        let confidence = check_levels("confidence", &self.confidence)?;
        let stretch = self.stretch_confidence.unwrap_or(DEFAULT_STRETCH);
        check_level("stretch_confidence", stretch)?;
        if self.segments.is_empty() {
            return Err(field(
                "segments",
                "is empty; a scenario needs at least one segment",
            ));
        }
        let dependence_file = self.dependence.clone().unwrap_or_default();
        let groups = deal_groups(&dependence_file.deal_groups)?;
        let group_names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let mut segments = Vec::with_capacity(self.segments.len());
        for (i, seg) in self.segments.iter().enumerate() {
            let path = format!("segments[{i}]");
            if let Some(j) = self.segments[..i].iter().position(|s| s.name == seg.name) {
                let msg = format!(
                    "{:?} is also the name of segments[{j}]; names must be unique",
                    seg.name
                );
                return Err(field(format!("{path}.name"), msg));
            }
            segments.push(seg.validate(&path, period_days, base, &group_names)?);
        }
        let (correlated, copula) = match &dependence_file.rank_correlation {
            Some(rc) => rank_correlation(rc, &segments)?,
            None => (Vec::new(), None),
        };
        let dependence = Dependence {
            correlated,
            copula,
            groups,
        };
        for (i, segment) in segments.iter_mut().enumerate() {
            segment.derive(period_days, &dependence, i);
        }
        Ok(Model {
            dependence,
            name: self.name.clone(),
            currency: self.currency.clone(),
            period_days,
            target,
            booked,
            trials: self.trials,
            seed: self.seed,
            confidence,
            stretch_confidence: stretch,
            segments,
        })
    }
}

impl SegmentFile {
    fn validate(
        &self,
        path: &str,
        period_days: f64,
        base: &Path,
        groups: &[&str],
    ) -> Result<Segment, FieldError> {
        let stages = self.stage_names(path)?;
        let rates = self.rates(path)?;
        let activity = Dist::parse(&self.activity, &format!("{path}.activity"), Domain::Count)?;
        let deal_size = Dist::parse(&self.deal_size, &format!("{path}.deal_size"), Domain::Money)?;
        let cycle = self
            .cycle_days
            .as_ref()
            .map(|v| Dist::parse(v, &format!("{path}.cycle_days"), Domain::Days))
            .transpose()?;
        let slippage = self
            .slippage
            .as_ref()
            .map(|v| Dist::parse(v, &format!("{path}.slippage"), Domain::Rate))
            .transpose()?;
        let capacity = self
            .capacity
            .as_ref()
            .map(|c| c.validate(&format!("{path}.capacity"), period_days))
            .transpose()?;
        let open = self.open_deals(path, &stages, base, groups)?;
        let market = self
            .market
            .map(|m| m.validate(&format!("{path}.market")))
            .transpose()?
            .unwrap_or_default();
        let slip = self
            .slip
            .as_ref()
            .map(|s| s.validate(&format!("{path}.slip"), &stages))
            .transpose()?
            .unwrap_or_default();
        let mut segment = Segment::new(
            self.name.clone(),
            self.ansoff,
            stages,
            rates,
            activity,
            deal_size,
            cycle,
            slippage,
            capacity,
            open,
            period_days,
        );
        segment.market = market;
        segment.slip = slip;
        Ok(segment)
    }

    fn stage_names(&self, path: &str) -> Result<Vec<String>, FieldError> {
        if self.stages.len() < 2 {
            let msg = format!(
                "has {} stage(s); a funnel needs at least two (e.g. lead and won)",
                self.stages.len()
            );
            return Err(field(format!("{path}.stages"), msg));
        }
        let mut names: Vec<String> = Vec::with_capacity(self.stages.len());
        for (s, stage) in self.stages.iter().enumerate() {
            if names.contains(&stage.name) {
                let msg = format!("{:?} appears twice; stage names must be unique", stage.name);
                return Err(field(format!("{path}.stages[{s}].name"), msg));
            }
            names.push(stage.name.clone());
        }
        Ok(names)
    }

    fn rates(&self, path: &str) -> Result<Vec<Dist>, FieldError> {
        let last = self.stages.len() - 1;
        let mut rates = Vec::with_capacity(last);
        for (s, stage) in self.stages.iter().enumerate() {
            let at = format!("{path}.stages[{s}].to_next");
            match (&stage.to_next, s == last) {
                (Some(v), false) => rates.push(Dist::parse(v, &at, Domain::Rate)?),
                (None, false) => {
                    let msg =
                        "is missing; every stage but the last needs a conversion rate to the next";
                    return Err(field(at, msg));
                }
                (Some(_), true) => {
                    let msg = "is given on the last stage, which has no next stage; remove it";
                    return Err(field(at, msg));
                }
                (None, true) => {}
            }
        }
        Ok(rates)
    }

    fn open_deals(
        &self,
        path: &str,
        stages: &[String],
        base: &Path,
        groups: &[&str],
    ) -> Result<Vec<OpenDeal>, FieldError> {
        let mut deals = Vec::new();
        if let Some(list) = &self.open_pipeline {
            for (k, deal) in list.iter().enumerate() {
                let at = format!("{path}.open_pipeline[{k}]");
                deals.push(deal.validate(&at, stages, groups)?);
            }
        }
        if let Some(name) = &self.open_pipeline_csv {
            let at = format!("{path}.open_pipeline_csv");
            for (line, deal) in read_pipeline_csv(&base.join(name), &at)? {
                let at = format!("{at} ({name}, line {line})");
                deals.push(deal.validate(&at, stages, groups)?);
            }
        }
        Ok(deals)
    }
}

impl CapacityFile {
    fn validate(&self, path: &str, period_days: f64) -> Result<Capacity, FieldError> {
        let reps = positive(&format!("{path}.reps"), self.reps)?;
        let weeks = match self.weeks {
            Some(w) => positive(&format!("{path}.weeks"), w)?,
            None => period_days / 7.0,
        };
        Ok(Capacity { reps, weeks })
    }
}

impl OpenDealFile {
    fn validate(
        &self,
        path: &str,
        stages: &[String],
        groups: &[&str],
    ) -> Result<OpenDeal, FieldError> {
        let Some(stage) = stages.iter().position(|s| *s == self.stage) else {
            let msg = format!(
                "{:?} is not a stage of this segment; valid: {}",
                self.stage,
                stages[..stages.len() - 1].join(", ")
            );
            return Err(field(format!("{path}.stage"), msg));
        };
        if stage == stages.len() - 1 {
            let msg = format!(
                "{:?} is the last (won) stage; a won deal is revenue: add it to `booked`",
                self.stage
            );
            return Err(field(format!("{path}.stage"), msg));
        }
        let amount = non_negative(&format!("{path}.amount"), self.amount)?;
        let age_days = non_negative(&format!("{path}.age_days"), self.age_days)?;
        let group = match &self.group {
            None => None,
            Some(name) => Some(groups.iter().position(|g| g == name).ok_or_else(|| {
                let valid = if groups.is_empty() {
                    "the scenario declares no dependence.deal_groups".to_string()
                } else {
                    format!("valid: {}", groups.join(", "))
                };
                field(
                    format!("{path}.group"),
                    format!("{name:?} is not a deal group; {valid}"),
                )
            })?),
        };
        Ok(OpenDeal {
            id: self.id.clone(),
            stage,
            amount,
            age_days,
            group,
            slips: self.slips,
        })
    }
}

/// Reads open deals from a CSV with a header naming `stage`, `amount`,
/// `age_days` and optionally `id`, `group` and `slips`, in any order. Returns each deal with its
/// line number.
fn read_pipeline_csv(file: &Path, at: &str) -> Result<Vec<(u64, OpenDealFile)>, FieldError> {
    let shown = file.display();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| field(at, format!("cannot read {shown}: {e}")))?;
    let header = reader
        .headers()
        .map_err(|e| field(at, format!("{shown}: {e}")))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let (Some(stage), Some(amount), Some(age)) =
        (column("stage"), column("amount"), column("age_days"))
    else {
        let msg = format!(
            "{shown}: the header is {:?}; it must name stage, amount and age_days (id is optional)",
            header.iter().collect::<Vec<_>>()
        );
        return Err(field(at, msg));
    };
    let id = column("id");
    let group = column("group");
    let slips = column("slips");
    let mut deals = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| field(at, format!("{shown}: {e}")))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |col: usize, name: &str| -> Result<f64, FieldError> {
            let text = record.get(col).unwrap_or("");
            text.parse::<f64>().map_err(|_| {
                let msg = format!("{shown}, line {line}: {name} {text:?} is not a number");
                field(at, msg)
            })
        };
        let deal = OpenDealFile {
            id: id.and_then(|c| record.get(c)).map(str::to_string),
            stage: record.get(stage).unwrap_or("").to_string(),
            amount: number(amount, "amount")?,
            age_days: number(age, "age_days")?,
            group: group
                .and_then(|c| record.get(c))
                .filter(|g| !g.is_empty())
                .map(str::to_string),
            slips: match slips.and_then(|c| record.get(c)).filter(|t| !t.is_empty()) {
                None => 0,
                Some(text) => text.parse::<u32>().map_err(|_| {
                    let msg = format!(
                        "{shown}, line {line}: slips {text:?} is not a whole number of 0 or more"
                    );
                    field(at, msg)
                })?,
            },
        };
        deals.push((line, deal));
    }
    Ok(deals)
}

impl MarketFile {
    fn validate(&self, path: &str) -> Result<Loadings, FieldError> {
        let loading = |name: &str, value: f64| -> Result<f64, FieldError> {
            if value.is_finite() && (-1.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                let msg = format!("{value} is not a loading; use a number from -1 to 1 (0: independent of the market)");
                Err(field(format!("{path}.{name}"), msg))
            }
        };
        Ok(Loadings {
            rates: loading("rates", self.rates)?,
            activity: loading("activity", self.activity)?,
            deal_size: loading("deal_size", self.deal_size)?,
            slippage: loading("slippage", self.slippage)?,
        })
    }
}

impl SlipFile {
    fn validate(&self, path: &str, stages: &[String]) -> Result<Slip, FieldError> {
        let unit = |at: String, value: f64| -> Result<f64, FieldError> {
            if value.is_finite() && (0.0..=1.0).contains(&value) {
                Ok(value)
            } else {
                Err(field(at, format!("{value} is not a factor in [0, 1]")))
            }
        };
        let base = unit(format!("{path}.per_slip"), self.per_slip)?;
        let mut per_slip = vec![base; stages.len()];
        for (name, &value) in &self.stage_per_slip {
            let at = format!("{path}.stage_per_slip.{name}");
            let Some(k) = stages[..stages.len() - 1].iter().position(|s| s == name) else {
                let msg = format!(
                    "{name:?} is not an open stage of this segment; valid: {}",
                    stages[..stages.len() - 1].join(", ")
                );
                return Err(field(at, msg));
            };
            per_slip[k] = unit(at, value)?;
        }
        let (after, half_life) = match (self.stale_after_days, self.stale_half_life_days) {
            (None, None) => (None, f64::INFINITY),
            (Some(a), Some(h)) => (
                Some(non_negative(&format!("{path}.stale_after_days"), a)?),
                positive(&format!("{path}.stale_half_life_days"), h)?,
            ),
            _ => {
                let msg =
                    "stale_after_days and stale_half_life_days go together: give both, or neither";
                return Err(field(path, msg));
            }
        };
        Ok(Slip {
            per_slip,
            stale_after_days: after,
            stale_half_life_days: half_life,
        })
    }
}

fn deal_groups(groups: &[DealGroupFile]) -> Result<Vec<DealGroup>, FieldError> {
    let mut out: Vec<DealGroup> = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        let at = format!("dependence.deal_groups[{i}]");
        if out.iter().any(|o| o.name == g.name) {
            return Err(field(
                format!("{at}.name"),
                format!("{:?} appears twice; group names must be unique", g.name),
            ));
        }
        let c = g.correlation;
        if !(c.is_finite() && (0.0..1.0).contains(&c)) {
            let msg = format!("{c} is not a correlation between deals; use a number from 0 (independent) up to, not including, 1");
            return Err(field(format!("{at}.correlation"), msg));
        }
        out.push(DealGroup {
            name: g.name.clone(),
            correlation: c,
        });
    }
    Ok(out)
}

type Correlated = (Vec<(usize, Input)>, Option<Copula>);

fn rank_correlation(
    rc: &RankCorrelationFile,
    segments: &[Segment],
) -> Result<Correlated, FieldError> {
    let at = "dependence.rank_correlation";
    let mut inputs = Vec::with_capacity(rc.inputs.len());
    for (k, name) in rc.inputs.iter().enumerate() {
        let path = format!("{at}.inputs[{k}]");
        let input = resolve_input(name, segments).map_err(|m| field(&path, m))?;
        if inputs.contains(&input) {
            return Err(field(path, format!("{name:?} is named twice")));
        }
        let (j, which) = input;
        if segments[j]
            .input(which)
            .is_none_or(|d| d.fixed_value().is_some())
        {
            return Err(field(
                path,
                format!("{name:?} is a fixed value; only uncertain inputs can be correlated"),
            ));
        }
        inputs.push(input);
    }
    let copula = Copula::new(&rc.matrix, inputs.len(), rc.repair)
        .map_err(|e| field(format!("{at}.matrix"), e.to_string()))?;
    Ok((inputs, Some(copula)))
}

/// Resolves `SEGMENT/activity`, `SEGMENT/slippage` or `SEGMENT/rate:STAGE`.
fn resolve_input(name: &str, segments: &[Segment]) -> Result<(usize, Input), String> {
    let form = "name inputs as SEGMENT/activity, SEGMENT/slippage or SEGMENT/rate:STAGE";
    let Some((seg, what)) = name.rsplit_once('/') else {
        return Err(format!("{name:?} has no '/'; {form}"));
    };
    let Some(j) = segments.iter().position(|s| s.name == seg) else {
        let names: Vec<String> = segments.iter().map(|s| format!("{:?}", s.name)).collect();
        return Err(format!(
            "{seg:?} is not a segment; valid: {}",
            names.join(", ")
        ));
    };
    let segment = &segments[j];
    let input = match what {
        "activity" => Input::Activity,
        "slippage" if segment.slippage.is_some() => Input::Slippage,
        "slippage" => return Err(format!("segment {seg:?} has no slippage")),
        _ => match what.strip_prefix("rate:") {
            Some(stage) => {
                let open = &segment.stages[..segment.stages.len() - 1];
                let k = open.iter().position(|s| s == stage).ok_or_else(|| {
                    format!(
                        "{stage:?} is not a stage with a rate in {seg:?}; valid: {}",
                        open.join(", ")
                    )
                })?;
                Input::Rate(k)
            }
            None => return Err(format!("{what:?} is not an input; {form}")),
        },
    };
    Ok((j, input))
}

fn finite(path: &str, value: f64) -> Result<f64, FieldError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(field(path, format!("{value} is not a finite number")))
    }
}

fn positive(path: &str, value: f64) -> Result<f64, FieldError> {
    if finite(path, value)? > 0.0 {
        Ok(value)
    } else {
        Err(field(path, format!("{value} must be greater than 0")))
    }
}

fn non_negative(path: &str, value: f64) -> Result<f64, FieldError> {
    if finite(path, value)? >= 0.0 {
        Ok(value)
    } else {
        Err(field(
            path,
            format!("{value} is negative; it must be 0 or more"),
        ))
    }
}

/// Checks a trial count (shared with the command line's `--trials`).
pub fn check_trials(path: &str, trials: u64) -> Result<u64, FieldError> {
    const MAX: u64 = 1 << 32;
    if trials == 0 || trials > MAX {
        let msg = format!("{trials} is not a valid number of trials; use 1 to {MAX}");
        return Err(field(path, msg));
    }
    Ok(trials)
}

/// Checks one confidence level: strictly between 0 and 1.
pub fn check_level(path: &str, level: f64) -> Result<f64, FieldError> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(level)
    } else {
        let msg = format!("{level} is not a confidence; use a number between 0 and 1, such as 0.9");
        Err(field(path, msg))
    }
}

/// Checks a list of confidence levels; an empty list is refused.
pub fn check_levels(path: &str, levels: &[f64]) -> Result<Vec<f64>, FieldError> {
    if levels.is_empty() {
        return Err(field(
            path,
            "is empty; give at least one level, such as [0.9, 0.5]",
        ));
    }
    levels
        .iter()
        .enumerate()
        .map(|(i, &c)| check_level(&format!("{path}[{i}]"), c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "name": "t", "period_days": 90, "target": 1000,
        "segments": [{
            "name": "a",
            "stages": [{"name": "lead", "to_next": 0.5}, {"name": "won"}],
            "activity": 10, "deal_size": 100
        }]
    }"#;

    /// MINIMAL with the field at `parent` / `key` set to `value`.
    fn with(parent: &str, key: &str, value: Value) -> Result<Model, FieldError> {
        let mut json: Value = serde_json::from_str(MINIMAL).unwrap();
        json.pointer_mut(parent).unwrap()[key] = value;
        let file: ScenarioFile = serde_json::from_value(json).unwrap();
        file.validate(Path::new("."))
    }

    #[test]
    fn minimal_scenario_takes_defaults() {
        let model = parse_str(MINIMAL)
            .unwrap()
            .validate(Path::new("."))
            .unwrap();
        assert_eq!(model.trials, DEFAULT_TRIALS);
        assert_eq!(model.confidence, vec![0.9, 0.5]);
        assert_eq!(model.stretch_confidence, 0.5);
        assert_eq!(model.booked, 0.0);
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let text = MINIMAL.replace("\"deal_size\"", "\"deal_sise\"");
        let err = parse_str(&text).unwrap_err();
        assert!(err.contains("segments[0]"), "{err}");
        assert!(err.contains("deal_sise"), "{err}");
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = parse_str("{\n\"name\": \"x\",\n}").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn zero_trials_is_refused() {
        let err = with("", "trials", 0.into()).unwrap_err();
        assert_eq!(err.path, "trials");
        assert!(err.message.contains("use 1 to"), "{err}");
    }

    #[test]
    fn negative_target_is_refused() {
        let err = with("", "target", (-5).into()).unwrap_err();
        assert_eq!(err.path, "target");
        assert!(err.message.contains("-5"), "{err}");
    }

    #[test]
    fn confidence_outside_unit_interval_is_refused() {
        let err = with("", "confidence", serde_json::json!([0.9, 1.5])).unwrap_err();
        assert_eq!(err.path, "confidence[1]");
        assert!(err.message.contains("1.5"), "{err}");
    }

    #[test]
    fn open_deal_at_unknown_stage_is_refused() {
        let deals = serde_json::json!([{"stage": "proposal", "amount": 5, "age_days": 1}]);
        let mut json: Value = serde_json::from_str(MINIMAL).unwrap();
        json["segments"][0]["open_pipeline"] = deals;
        let file: ScenarioFile = serde_json::from_value(json).unwrap();
        let err = file.validate(Path::new(".")).unwrap_err();
        assert_eq!(err.path, "segments[0].open_pipeline[0].stage");
        assert!(err.message.contains("\"proposal\""), "{err}");
        assert!(err.message.contains("valid: lead"), "{err}");
    }

    #[test]
    fn missing_rate_is_refused() {
        let stages = serde_json::json!([{"name": "lead"}, {"name": "won"}]);
        let err = with("/segments/0", "stages", stages).unwrap_err();
        assert_eq!(err.path, "segments[0].stages[0].to_next");
    }

    #[test]
    fn duplicate_segment_names_are_refused() {
        let mut json: Value = serde_json::from_str(MINIMAL).unwrap();
        let seg = json["segments"][0].clone();
        json["segments"].as_array_mut().unwrap().push(seg);
        let file: ScenarioFile = serde_json::from_value(json).unwrap();
        let err = file.validate(Path::new(".")).unwrap_err();
        assert_eq!(err.path, "segments[1].name");
    }
}
