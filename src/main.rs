//! The `revpipe` command line: arguments in, library calls, rendering out.
//!
//! Exit codes: 0 done, 2 bad input (a scenario or an option), 1 anything
//! else. Results go to stdout; errors and warnings to stderr.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use revpipe::engine::{self, Settings, Solve, Trials};
use revpipe::model::Model;
use revpipe::scenario::{self, FieldError};
use revpipe::{compare, render, report, sensitivity, summary};

mod backtest_cli;
mod fit_cli;

/// Monte Carlo reverse-pipeline forecasting: the probability of making the
/// number, and the activity it takes.
#[derive(Debug, Parser)]
#[command(name = "revpipe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a scenario: P(hit), commit and stretch, activity needed.
    Run(RunArgs),
    /// Validate a scenario and say what is wrong, or that it is fine.
    Check {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// Run scenarios side by side on common random numbers, each later one
    /// against the first: P(hit), commit, stretch, leads needed.
    Compare(CompareArgs),
    /// Fit a scenario from a CRM export (and its stage history and leads).
    Fit(Box<fit_cli::FitArgs>),
    /// Replay the history: fit and forecast each past month or quarter as
    /// of its start, and score the forecasts against what closed.
    Backtest(Box<backtest_cli::BacktestArgs>),
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// Two or more scenario files (JSON); the first is the baseline.
    #[arg(required = true, num_args = 2.., value_name = "SCENARIO")]
    scenarios: Vec<PathBuf>,
    /// Print the result as one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Trials for every scenario (default: the first scenario's).
    #[arg(long)]
    trials: Option<u64>,
    /// The seed for every scenario (default: the first scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

// Negative numbers are parsed as values, so that `--target -5` gets our
// message naming the rule rather than clap's "unexpected argument".
#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
struct RunArgs {
    /// The scenario file (JSON).
    scenario: PathBuf,
    /// Print the result as one JSON document instead of text.
    #[arg(long)]
    json: bool,
    /// Trials to run (overrides the scenario).
    #[arg(long)]
    trials: Option<u64>,
    /// The seed (overrides the scenario).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// The revenue target (overrides the scenario).
    #[arg(long, allow_negative_numbers = true)]
    target: Option<f64>,
    /// A confidence level to solve for; repeat for several (replaces the
    /// scenario's list).
    #[arg(long = "confidence", value_name = "C")]
    confidence: Vec<f64>,
    /// The confidence of the stretch number (overrides the scenario).
    #[arg(long, value_name = "C")]
    stretch: Option<f64>,
    /// Solve for this segment's leads, the others staying as planned
    /// (default: all segments in the planned mix).
    #[arg(long, value_name = "SEGMENT")]
    solve_for: Option<String>,
    /// The reverse solve stops at this multiple of the planned leads.
    #[arg(long, default_value_t = 20.0, value_name = "X")]
    lead_cap: f64,
    /// Also hold each uncertain input at its P10 and its P90 and report
    /// the swing in P(hit) and median revenue, largest first.
    #[arg(long)]
    sensitivity: bool,
    /// Trials per sensitivity run (default: the trials, at most 20,000);
    /// there are two runs per uncertain input, plus one.
    #[arg(long, value_name = "N", requires = "sensitivity")]
    sensitivity_trials: Option<u64>,
    /// Also write the report as one self-contained HTML file, with charts.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// No progress bar and no notes on stderr (errors still go there).
    #[arg(long, short)]
    quiet: bool,
}

/// More worker threads than any machine revpipe runs on has cores.
const MAX_THREADS: usize = 1024;

/// A failure, and the exit code it earns.
enum Failure {
    /// Bad input: exit 2.
    Input(String),
    /// Anything else: exit 1.
    Other(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario } => check(&scenario),
        Command::Compare(args) => compare(&args),
        Command::Fit(args) => fit(&args),
        Command::Backtest(args) => backtest(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Loads a scenario; every failure to do so is bad input (exit 2).
fn load(file: &std::path::Path) -> Result<Model, Failure> {
    scenario::load(file).map_err(|e| Failure::Input(e.to_string()))
}

/// Fits and writes the scenario; the report goes to stderr. Any failure
/// is bad input (exit 2) and leaves no file behind.
fn fit(args: &fit_cli::FitArgs) -> Result<(), Failure> {
    let command = args.command().map_err(Failure::Input)?;
    let fitted = revpipe::fit::run(&command).map_err(|e| Failure::Input(e.to_string()))?;
    eprint!("{}", fitted.report);
    eprintln!("wrote {}", command.output.display());
    Ok(())
}

/// Backtests the export and prints the table (or JSON). Bad flags and
/// unreadable files are bad input (exit 2), and so is a backtest in which
/// no period could be forecast, after its rows are printed.
fn backtest(args: &backtest_cli::BacktestArgs) -> Result<(), Failure> {
    use revpipe::fit;
    let opts = args.options().map_err(Failure::Input)?;
    let input = &args.input;
    let load = input.load_options().map_err(Failure::Input)?;
    let read = |e: fit::LoadError| Failure::Input(e.to_string());
    let deals = fit::load_deals(&input.export, &load).map_err(read)?;
    let history = input
        .history
        .as_ref()
        .map(|h| fit::load_history(h, &load))
        .transpose()
        .map_err(read)?;
    let leads = input
        .leads
        .as_ref()
        .map(|l| fit::load_leads(l, &load))
        .transpose()
        .map_err(read)?;
    let result = revpipe::backtest::backtest(&deals, history.as_ref(), leads.as_ref(), &opts)
        .map_err(|e| match e {
            revpipe::backtest::BacktestError::Threads(_) => Failure::Other(e.to_string()),
            _ => Failure::Input(e.to_string()),
        })?;
    let text = if args.json {
        let mut s =
            serde_json::to_string_pretty(&result).map_err(|e| Failure::Other(e.to_string()))?;
        s.push('\n');
        s
    } else {
        revpipe::backtest::render::text(&result)
    };
    print_out(&text)?;
    if result.scores.is_none() {
        return Err(Failure::Input(format!(
            "none of the {} periods could be forecast; the reasons are in the table",
            result.periods.len()
        )));
    }
    Ok(())
}

fn check(file: &std::path::Path) -> Result<(), Failure> {
    let model = load(file)?;
    let stages: usize = model.segments.iter().map(|s| s.stages.len()).sum();
    println!(
        "{}: ok: {:?}, {} segment(s), {} stages, {} open deal(s), {} trials, seed {}",
        file.display(),
        model.name,
        model.segments.len(),
        stages,
        model.open_deals(),
        model.trials,
        model.seed
    );
    Ok(())
}

fn run(args: &RunArgs) -> Result<(), Failure> {
    let mut model = load(&args.scenario)?;
    let settings = apply(args, &mut model).map_err(|e| Failure::Input(e.to_string()))?;
    let sensitivity_trials = match args.sensitivity_trials {
        Some(n) => scenario::check_trials("--sensitivity-trials", n)
            .map_err(|e| Failure::Input(e.to_string()))?,
        None => sensitivity::default_trials(&model),
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let trials =
        simulate(&model, &settings, show_progress).map_err(|e| Failure::Other(e.to_string()))?;
    let mut result = summary::summarize(&model, &settings, trials);
    if args.sensitivity {
        let found = sensitivity::analyse(&model, &settings, sensitivity_trials, None)
            .map_err(|e| Failure::Other(e.to_string()))?;
        result.sensitivity = Some(found.entries);
        result.sensitivity_base = Some(found.base);
    }
    if let Some(path) = &args.report {
        report::write(path, &result).map_err(|e| Failure::Other(e.to_string()))?;
        if !args.quiet {
            eprintln!("report written to {}", path.display());
        }
    }
    for w in &result.warnings {
        eprintln!("warning: {w}");
    }
    let text = if args.json {
        let mut s =
            serde_json::to_string_pretty(&result).map_err(|e| Failure::Other(e.to_string()))?;
        s.push('\n');
        s
    } else {
        render::text(&result)
    };
    print_out(&text)
}

fn compare(args: &CompareArgs) -> Result<(), Failure> {
    let mut models = args
        .scenarios
        .iter()
        .map(|file| load(file))
        .collect::<Result<Vec<Model>, Failure>>()?;
    let input = |e: FieldError| Failure::Input(e.to_string());
    for model in &mut models {
        if let Some(t) = args.trials {
            model.trials = scenario::check_trials("--trials", t).map_err(input)?;
        }
        if let Some(s) = args.seed {
            model.seed = s;
        }
    }
    let settings = Settings {
        threads: check_threads(args.threads).map_err(input)?,
        ..Settings::default()
    };
    let result =
        compare::compare(&models, &settings, None).map_err(|e| Failure::Other(e.to_string()))?;
    if args.json {
        print_out(&to_json(&result)?)
    } else {
        print_out(&render::comparison(&result))
    }
}

/// Pretty JSON with a final newline.
fn to_json(value: &impl serde::Serialize) -> Result<String, Failure> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| Failure::Other(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Refuses thread counts that cannot run.
fn check_threads(threads: Option<usize>) -> Result<Option<usize>, FieldError> {
    if let Some(t) = threads.filter(|t| !(1..=MAX_THREADS).contains(t)) {
        return Err(FieldError {
            path: "--threads".to_string(),
            message: format!("{t} threads cannot run; use 1 to {MAX_THREADS}"),
        });
    }
    Ok(threads)
}

/// Runs the engine; with `show_progress`, a progress bar on stderr for a
/// run that takes more than a moment. The bar lives on its own thread and
/// reads the engine's counter: the engine knows nothing of it.
fn simulate(
    model: &Model,
    settings: &Settings,
    show_progress: bool,
) -> Result<Trials, rayon::ThreadPoolBuildError> {
    if !show_progress {
        return engine::run(model, settings, None);
    }
    let done = AtomicU64::new(0);
    let (finished, wait) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let done = &done;
        scope.spawn(move || progress_bar(done, model.trials, &wait));
        let trials = engine::run(model, settings, Some(done));
        // Hanging up tells the bar to clear itself.
        drop(finished);
        trials
    })
}

/// Runs of more trials than this take about a second or more: their bar
/// shows at once. Shorter runs show it only once they pass half a second,
/// so a quick run never flickers one.
const LONG_RUN: u64 = 1_000_000;

/// Shows `done` of `total` trials until `finished` hangs up.
fn progress_bar(done: &AtomicU64, total: u64, finished: &mpsc::Receiver<()>) {
    const TICK: Duration = Duration::from_millis(100);
    let quiet_start = if total > LONG_RUN {
        Duration::ZERO
    } else {
        Duration::from_millis(500)
    };
    if finished.recv_timeout(quiet_start) != Err(RecvTimeoutError::Timeout) {
        return;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    // A wide bar takes the width the text leaves, so the line never wraps.
    let style = ProgressStyle::with_template(
        "{spinner} simulating [{wide_bar}] {human_pos}/{human_len} trials, {eta} left",
    )
    .map(|s| s.progress_chars("█▌ "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    loop {
        bar.set_position(done.load(Ordering::Relaxed));
        if finished.recv_timeout(TICK) != Err(RecvTimeoutError::Timeout) {
            break;
        }
    }
    bar.finish_and_clear();
}

/// Applies the command line's overrides to the model, checked like the
/// scenario's own fields, and returns the run settings.
fn apply(args: &RunArgs, model: &mut Model) -> Result<Settings, FieldError> {
    let bad = |path: &str, message: String| FieldError {
        path: path.to_string(),
        message,
    };
    if let Some(t) = args.trials {
        model.trials = scenario::check_trials("--trials", t)?;
    }
    if let Some(s) = args.seed {
        model.seed = s;
    }
    if let Some(t) = args.target {
        if !(t.is_finite() && t >= 0.0) {
            return Err(bad(
                "--target",
                format!("{t} must be a number of 0 or more"),
            ));
        }
        model.target = t;
    }
    if !args.confidence.is_empty() {
        model.confidence = scenario::check_levels("--confidence", &args.confidence)?;
    }
    if let Some(c) = args.stretch {
        model.stretch_confidence = scenario::check_level("--stretch", c)?;
    }
    if !(args.lead_cap.is_finite() && args.lead_cap >= 1.0) {
        return Err(bad(
            "--lead-cap",
            format!("{} must be 1 or more", args.lead_cap),
        ));
    }
    if let Some(path) = &args.report {
        check_report_path(path).map_err(|m| bad("--report", m))?;
    }
    check_threads(args.threads)?;
    let solve = match &args.solve_for {
        None => Solve::PlannedMix,
        Some(name) => Solve::Segment(model.segment_index(name).ok_or_else(|| {
            let names: Vec<String> = model
                .segments
                .iter()
                .map(|s| format!("{:?}", s.name))
                .collect();
            bad(
                "--solve-for",
                format!("{name:?} is not a segment; valid: {}", names.join(", ")),
            )
        })?),
    };
    Ok(Settings {
        threads: args.threads,
        solve,
        lead_cap_factor: args.lead_cap,
        hold: Vec::new(),
    })
}

/// Refuses a report path that cannot be written before the run starts:
/// a folder, or a file in a folder that does not exist.
fn check_report_path(path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "{} is a folder; name an .html file",
            path.display()
        ));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "{}: the folder {} does not exist",
            path.display(),
            parent.display()
        ));
    }
    Ok(())
}

/// Writes to stdout; a closed pipe (`revpipe run x | head`) ends quietly.
fn print_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Other(format!("cannot write the result: {e}"))),
    }
}
