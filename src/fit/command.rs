//! The whole `revpipe fit` command as a library call: load the files,
//! fit, and write the scenario (and the JSON report) only when every step
//! succeeded. The command line maps its flags onto [`FitCommand`] and
//! prints the report; nothing here knows about clap.

use super::load::{LoadError, LoadOptions};
use super::write::{stage, WriteError};
use super::{fit, load_deals, load_history, load_leads, Fit, FitError, FitOptions};
use std::path::PathBuf;

/// Inputs, outputs and options of one `revpipe fit` run.
#[derive(Clone, Debug, Default)]
pub struct FitCommand {
    /// The opportunity export.
    pub export: PathBuf,
    /// A stage-history file.
    pub history: Option<PathBuf>,
    /// A lead file.
    pub leads: Option<PathBuf>,
    /// Where the scenario goes.
    pub output: PathBuf,
    /// Where the JSON report goes, if anywhere.
    pub report_json: Option<PathBuf>,
    /// Overwrite existing output files.
    pub force: bool,
    /// How to read the files.
    pub load: LoadOptions,
    /// What to fit.
    pub fit: FitOptions,
}

/// Why `revpipe fit` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// An input file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The rows do not support a fit.
    #[error(transparent)]
    Fit(#[from] FitError),
    /// An output could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Runs the command: returns the fit after both outputs are written.
pub fn run(cmd: &FitCommand) -> Result<Fit, CommandError> {
    let deals = load_deals(&cmd.export, &cmd.load)?;
    let history = cmd
        .history
        .as_ref()
        .map(|h| load_history(h, &cmd.load))
        .transpose()?;
    let leads = cmd
        .leads
        .as_ref()
        .map(|l| load_leads(l, &cmd.load))
        .transpose()?;
    let fitted = fit(&deals, history.as_ref(), leads.as_ref(), &cmd.fit)?;

    // Stage both outputs before moving either into place, so that a
    // failure leaves every existing file as it was.
    if cmd.report_json.as_ref() == Some(&cmd.output) {
        return Err(WriteError::SamePath(cmd.output.clone()).into());
    }
    let scenario = stage(&cmd.output, fitted.scenario_text().as_bytes(), cmd.force)?;
    let report = match &cmd.report_json {
        Some(path) => {
            let text = serde_json::to_string_pretty(&fitted.report).unwrap_or_default() + "\n";
            Some(stage(path, text.as_bytes(), cmd.force)?)
        }
        None => None,
    };
    scenario.commit()?;
    if let Some(report) = report {
        report.commit()?;
    }
    Ok(fitted)
}
