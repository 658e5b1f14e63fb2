//! The fit report: what was read, what was used, what was fitted with
//! its interval, and every warning. Rendered as text for stderr, or as
//! JSON (`--report-json`) through serde.

use super::conversion::Prior;
use super::layout::Funnel;
use super::load::Source;
use super::mle::MleFit;
use super::options::StaleRule;
use super::segment::SegmentFit;
use super::snapshot::DealAccounting;
use super::Date;
use std::fmt::{self, Write};

/// Everything a reader needs to trace the scenario to the rows.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FitReport {
    /// Only rows known on this day were used.
    pub as_of: Date,
    /// The latest date in the inputs.
    pub latest: Date,
    /// Each input file: rows read, used, set aside (with reasons).
    pub inputs: Vec<Source>,
    /// How the deals were used.
    pub deals: DealAccounting,
    /// The open stages and the won stage.
    pub funnel: Funnel,
    /// Prior of every conversion rate.
    pub prior: Prior,
    /// What was done with stale open deals.
    pub stale_rule: StaleRule,
    /// Period length in days.
    pub period_days: u32,
    /// Currency written to the scenario.
    pub currency: String,
    /// Each segment's fit.
    pub segments: Vec<SegmentFit>,
    /// Warnings that are not about one segment.
    pub warnings: Vec<String>,
}

impl FitReport {
    /// Every warning, segment ones prefixed with the segment's name.
    pub fn all_warnings(&self) -> Vec<String> {
        let mut all = self.warnings.clone();
        for s in &self.segments {
            all.extend(
                s.warnings
                    .iter()
                    .map(|w| format!("segment {:?}: {w}", s.name)),
            );
        }
        all
    }

    /// One paragraph that says where the scenario came from: the
    /// scenario's `description`.
    pub fn provenance(&self) -> String {
        let files: Vec<String> = self
            .inputs
            .iter()
            .map(|s| {
                format!(
                    "{} ({} layout: {} rows read, {} used, {} set aside)",
                    s.file.display(),
                    s.layout,
                    s.rows_read,
                    s.rows_used(),
                    s.set_aside.len()
                )
            })
            .collect();
        let d = &self.deals;
        format!(
            "Fitted by revpipe fit from {} as of {}. Deals used: {} ({} won, {} lost, {} open, {} stale open deals treated as {:?}). Conversion rates: Beta posteriors with prior Beta({}, {}). Open pipeline ages are days to {}.",
            files.join("; "),
            self.as_of,
            d.used,
            d.won,
            d.lost,
            d.open,
            d.stale,
            self.stale_rule,
            self.prior.alpha,
            self.prior.beta,
            self.as_of,
        )
    }
}

impl fmt::Display for FitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.write_inputs(&mut out)?;
        for s in &self.segments {
            write_segment(&mut out, s, self.prior)?;
        }
        let warnings = self.all_warnings();
        if !warnings.is_empty() {
            writeln!(out, "\nwarnings ({}):", warnings.len())?;
            for w in warnings {
                writeln!(out, "  - {w}")?;
            }
        }
        f.write_str(&out)
    }
}

// At most this many set-aside rows are listed per file in the text
// report; the JSON report has them all.
const LISTED: usize = 10;

impl FitReport {
    fn write_inputs(&self, out: &mut String) -> fmt::Result {
        writeln!(
            out,
            "fit as of {} (latest date in the data {})",
            self.as_of, self.latest
        )?;
        for s in &self.inputs {
            writeln!(
                out,
                "{}: {} layout, {} rows read, {} used, {} set aside",
                s.file.display(),
                s.layout,
                s.rows_read,
                s.rows_used(),
                s.set_aside.len()
            )?;
            for n in &s.notes {
                writeln!(out, "  note: {n}")?;
            }
            for r in s.set_aside.iter().take(LISTED) {
                writeln!(out, "  set aside: {r}")?;
            }
            if s.set_aside.len() > LISTED {
                writeln!(
                    out,
                    "  ... and {} more (see --report-json)",
                    s.set_aside.len() - LISTED
                )?;
            }
        }
        let d = &self.deals;
        writeln!(
            out,
            "deals: {} loaded, {} used ({} won, {} lost, {} open); {} created after the as-of date, {} undated left out",
            d.loaded, d.used, d.won, d.lost, d.open, d.created_after_as_of, d.undated_left_out
        )?;
        match d.stale_after_days {
            Some(days) => writeln!(
                out,
                "stale: {} open deals older than {} days (rule: {:?})",
                d.stale, days, self.stale_rule
            )?,
            None => writeln!(out, "stale: no closed deal with both dates, no stale age")?,
        }
        writeln!(
            out,
            "stages: {} -> {}; prior Beta({}, {}); currency {}",
            self.funnel.stages.join(" -> "),
            self.funnel.won,
            self.prior.alpha,
            self.prior.beta,
            self.currency
        )
    }
}

fn write_segment(out: &mut String, s: &SegmentFit, prior: Prior) -> fmt::Result {
    let quadrant = s
        .ansoff
        .map_or(String::new(), |a| format!(" ({})", a.as_str()));
    writeln!(out, "\nsegment {:?}{quadrant}", s.name)?;
    writeln!(
        out,
        "  {:<24} {:>8} {:>8} {:>8} {:>8}  {:>7}  95% interval",
        "stage", "advanced", "failed", "open", "stale", "rate"
    )?;
    for (c, r) in s.stages.iter().zip(&s.rates) {
        writeln!(
            out,
            "  {:<24} {:>8} {:>8} {:>8} {:>8}  {:>6.2}%  {:.2}%-{:.2}%",
            c.stage,
            c.advanced,
            c.failed,
            c.censored,
            c.stale_lost,
            100.0 * r.mean,
            100.0 * r.low,
            100.0 * r.high
        )?;
    }
    let _ = prior;
    let closed = s
        .closed_win_rate
        .map_or("n/a".into(), |w| format!("{:.2}%", 100.0 * w));
    writeln!(
        out,
        "  win rate: {} of closed deals ({} won, {} lost); fitted {:.2}%",
        closed,
        s.won,
        s.lost,
        100.0 * s.fitted_win_rate
    )?;
    if let Some((m, n)) = s.mature_win_rate {
        writeln!(
            out,
            "  win rate of deals older than the stale age: {:.2}% of {n}",
            100.0 * m
        )?;
    }
    write_size(out, s)?;
    write_cycle(out, s)?;
    let a = &s.arrivals;
    let disp = a.dispersion.map_or("n/a".into(), |d| format!("{d:.2}"));
    writeln!(
        out,
        "  activity: {:.2} {} per period (Poisson), {} periods {:?}, variance/mean {}",
        a.mean,
        s.arrivals_of,
        a.counts.len(),
        a.counts,
        disp
    )?;
    let o = &s.open;
    writeln!(
        out,
        "  open pipeline: {} deals, amount {:.2} ({} imputed, {} undated)",
        o.count, o.amount, o.imputed, o.undated
    )
}

fn write_size(out: &mut String, s: &SegmentFit) -> fmt::Result {
    let z = &s.deal_size;
    writeln!(
        out,
        "  deal size: {} wins, median {:.2}, mean {:.2}; written as {}",
        z.n, z.median, z.mean, z.chosen
    )?;
    for c in &z.candidates {
        write_candidate(out, c)?;
        writeln!(out, "; KS {:.4}", c.ks)?;
    }
    Ok(())
}

/// One fitted family's parameters with 95% intervals and its AIC, on one
/// line left open for what the caller adds.
fn write_candidate(out: &mut String, m: &MleFit) -> fmt::Result {
    let [a, b] = m.family.params();
    write!(
        out,
        "    {:<9} {a}={:.4} ± {:.4}, {b}={:.4} ± {:.4}; AIC {:.1}",
        super::size::family_name(m.family),
        m.params[0],
        1.96 * m.std_errors[0],
        m.params[1],
        1.96 * m.std_errors[1],
        m.aic
    )
}

fn write_cycle(out: &mut String, s: &SegmentFit) -> fmt::Result {
    let Some(c) = &s.cycle else {
        return writeln!(out, "  cycle: not fitted");
    };
    let km = c.km_median.map_or("n/a".into(), |m| format!("{m:.1}"));
    writeln!(
        out,
        "  cycle: {} wins, {} open deals censored (weight {:.1}); median days: won only {:.1}, Kaplan-Meier {}, fitted {} {:.1}",
        c.wins, c.censored, c.censored_weight, c.naive_median, km, c.chosen, c.fitted_median
    )?;
    for m in &c.candidates {
        write_candidate(out, m)?;
        writeln!(out)?;
    }
    Ok(())
}
