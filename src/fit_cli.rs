//! `revpipe fit` flags: parsed by clap here, turned into the library's
//! [`FitCommand`] (validated, typed) before any file is read.
//!
//! The files and their column mapping ([`InputArgs`]) and the fit's
//! statistical choices ([`ChoiceArgs`]) are argument groups of their own,
//! shared with `revpipe backtest`, so both commands read an export the
//! same way.

use std::path::PathBuf;

use clap::Args;

use revpipe::fit::parse::{DateOrder, DecimalMark};
use revpipe::fit::{
    Ansoff, Date, FitCommand, FitOptions, LayoutSpec, LoadOptions, Prior, SizeChoice, StaleRule,
};

/// The input files and how their columns map.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The opportunity export (CSV): Salesforce, HubSpot, the Maven CRM
    /// layout, or any layout mapped with --col / --mapping.
    pub export: PathBuf,
    /// Stage history (CSV, one row per stage change).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Leads (CSV, one row per lead with its date).
    #[arg(long, value_name = "FILE")]
    pub leads: Option<PathBuf>,
    /// Column whose value is a deal's segment (e.g. product, Type).
    #[arg(long, value_name = "COLUMN", help_heading = "Columns and stages")]
    segment_by: Option<String>,
    /// Open stages in funnel order, comma-separated.
    #[arg(long, value_name = "A,B,...", help_heading = "Columns and stages")]
    stages: Option<String>,
    /// Map a column: ROLE=COLUMN with ROLE id, stage, amount, created or
    /// closed; repeat per role.
    #[arg(
        long = "col",
        value_name = "ROLE=COLUMN",
        help_heading = "Columns and stages"
    )]
    columns: Vec<String>,
    /// A JSON mapping file (columns, stages, won and lost stage names).
    #[arg(long, value_name = "FILE", help_heading = "Columns and stages")]
    mapping: Option<PathBuf>,
    /// Stage value that means won.
    #[arg(long, value_name = "STAGE", help_heading = "Columns and stages")]
    won: Option<String>,
    /// Stage value that means lost; repeat for several.
    #[arg(long, value_name = "STAGE", help_heading = "Columns and stages")]
    lost: Vec<String>,
    /// Amounts use a decimal comma (1.234,50).
    #[arg(long, help_heading = "Columns and stages")]
    decimal_comma: bool,
    /// Day/month order of every date column: dmy, mdy or ymd (default:
    /// decided per column, refused when a column is ambiguous).
    #[arg(long, value_name = "ORDER", help_heading = "Columns and stages")]
    date_format: Option<String>,
}

/// The fit's statistical choices.
#[derive(Debug, Args)]
pub struct ChoiceArgs {
    /// Currency code (default: the one beside the amounts).
    #[arg(long, help_heading = "Fit choices")]
    currency: Option<String>,
    /// Prior of the conversion rates: uniform, jeffreys, or ALPHA,BETA.
    #[arg(long, default_value = "uniform", help_heading = "Fit choices")]
    prior: String,
    /// Deal-size distribution: auto (lognormal or gamma by AIC),
    /// lognormal, gamma, or empirical.
    #[arg(long, default_value = "auto", help_heading = "Fit choices")]
    deal_size: String,
    /// Open deals older than any closed deal's cycle: lost, open, drop, or
    /// decay (kept open, and the scenario's slip rule halves their chance
    /// of closing every --stale-half-life days past the stale age).
    #[arg(long, default_value = "lost", help_heading = "Fit choices")]
    stale: String,
    /// With --stale decay: days over which a stale deal's chance halves.
    #[arg(
        long,
        default_value_t = 30,
        value_name = "DAYS",
        help_heading = "Fit choices"
    )]
    stale_half_life: u32,
    /// Age in days past which an open deal is stale (default: the longest
    /// cycle of any closed deal).
    #[arg(long, value_name = "DAYS", help_heading = "Fit choices")]
    stale_after: Option<u32>,
    /// Ansoff quadrant of a segment, SEGMENT=QUADRANT; repeat per segment.
    #[arg(long, value_name = "SEGMENT=QUADRANT", help_heading = "Fit choices")]
    ansoff: Vec<String>,
}

/// Flags of `revpipe fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Where to write the scenario.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Overwrite the output files if they exist.
    #[arg(long)]
    force: bool,
    /// Also write the fit report as JSON.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Revenue target of the period.
    #[arg(long)]
    target: f64,
    /// Length of the period in days.
    #[arg(long, value_name = "DAYS")]
    period_days: u32,
    /// Revenue already booked in the period.
    #[arg(long, default_value_t = 0.0)]
    booked: f64,
    /// Use only rows known on this day (YYYY-MM-DD; default: the latest
    /// date in the files).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Scenario name.
    #[arg(long)]
    name: Option<String>,
    /// Trials the scenario asks for.
    #[arg(long, default_value_t = 20_000)]
    trials: u64,
    /// Seed the scenario asks for.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A confidence level for the scenario; repeat for several (default
    /// 0.9 and 0.5).
    #[arg(long = "confidence", value_name = "C")]
    confidence: Vec<f64>,
    #[command(flatten)]
    choices: ChoiceArgs,
}

fn flag<T>(name: &str, parsed: Result<T, String>) -> Result<T, String> {
    parsed.map_err(|e| format!("--{name}: {e}"))
}

/// A `YYYY-MM-DD` flag value.
pub fn date_flag(name: &str, value: &str) -> Result<Date, String> {
    Date::parse_iso(value).ok_or_else(|| format!("--{name}: {value:?}: expected a date YYYY-MM-DD"))
}

impl InputArgs {
    /// How to read the files, or the first bad flag.
    pub fn load_options(&self) -> Result<LoadOptions, String> {
        let mut spec = match &self.mapping {
            Some(file) => LayoutSpec::from_file(file).map_err(|e| e.to_string())?,
            None => LayoutSpec::default(),
        };
        for pair in &self.columns {
            flag("col", spec.set(pair))?;
        }
        if self.won.is_some() {
            spec.won = self.won.clone();
        }
        if !self.lost.is_empty() {
            spec.lost = Some(self.lost.clone());
        }
        let date_order = match &self.date_format {
            None => None,
            Some(f) => Some(
                DateOrder::from_flag(f)
                    .ok_or_else(|| format!("--date-format: {f:?}: expected dmy, mdy or ymd"))?,
            ),
        };
        Ok(LoadOptions {
            spec,
            decimal: if self.decimal_comma {
                DecimalMark::Comma
            } else {
                DecimalMark::Point
            },
            date_order,
            segment_by: self.segment_by.clone(),
        })
    }

    /// `--stages`, split.
    fn stages(&self) -> Option<Vec<String>> {
        self.stages
            .as_ref()
            .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
    }
}

impl ChoiceArgs {
    /// The fit options these flags (and `--stages`) set, on top of the
    /// defaults; the caller sets the period, target and the rest.
    pub fn fit_options(&self, input: &InputArgs) -> Result<FitOptions, String> {
        let mut ansoff = std::collections::BTreeMap::new();
        for pair in &self.ansoff {
            let (segment, quadrant) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("--ansoff: {pair:?}: expected SEGMENT=QUADRANT"))?;
            ansoff.insert(
                segment.to_string(),
                flag("ansoff", quadrant.parse::<Ansoff>())?,
            );
        }
        Ok(FitOptions {
            currency: self.currency.clone(),
            prior: flag("prior", Prior::from_flag(&self.prior))?,
            deal_size: flag("deal-size", self.deal_size.parse::<SizeChoice>())?,
            stale: flag("stale", self.stale.parse::<StaleRule>())?,
            stale_after_days: self.stale_after,
            stale_half_life_days: self.stale_half_life,
            stages: input.stages(),
            ansoff,
            ..FitOptions::default()
        })
    }
}

impl FitArgs {
    /// The typed command, or the first bad flag.
    pub fn command(&self) -> Result<FitCommand, String> {
        Ok(FitCommand {
            export: self.input.export.clone(),
            history: self.input.history.clone(),
            leads: self.input.leads.clone(),
            output: self.output.clone(),
            report_json: self.report_json.clone(),
            force: self.force,
            load: self.input.load_options()?,
            fit: self.fit_options()?,
        })
    }

    fn fit_options(&self) -> Result<FitOptions, String> {
        let as_of = match &self.as_of {
            None => None,
            Some(d) => Some(date_flag("as-of", d)?),
        };
        Ok(FitOptions {
            as_of,
            target: self.target,
            period_days: self.period_days,
            booked: self.booked,
            name: self.name.clone(),
            trials: self.trials,
            seed: self.seed,
            confidence: if self.confidence.is_empty() {
                FitOptions::default().confidence
            } else {
                self.confidence.clone()
            },
            ..self.choices.fit_options(&self.input)?
        })
    }
}
