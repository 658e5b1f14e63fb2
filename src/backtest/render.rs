//! The backtest for people: a table of periods, then calibration, then
//! accuracy against the baselines, then the notes.

use super::report::{Backtest, BaselineScore, Coverage, PeriodResult, Scores, PIT_BINS};
use std::fmt::Write;

/// An amount in three significant digits: 950, 9.53k, 95.3k, 705k, 1.02M.
pub fn compact(x: f64) -> String {
    let a = x.abs();
    let (scaled, unit) = match a {
        a if a < 999.5 => return format!("{x:.0}"),
        a if a < 999_500.0 => (x / 1e3, "k"),
        a if a < 999_500_000.0 => (x / 1e6, "M"),
        _ => (x / 1e9, "B"),
    };
    let digits = match scaled.abs() {
        s if s < 9.995 => 2,
        s if s < 99.95 => 1,
        _ => 0,
    };
    format!("{scaled:.digits$}{unit}")
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".into(), compact)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// Renders the backtest as plain text.
pub fn text(b: &Backtest) -> String {
    let mut out = String::new();
    headline(&mut out, b);
    table(&mut out, b);
    match &b.scores {
        Some(s) => {
            calibration(&mut out, s);
            accuracy(&mut out, b, s);
        }
        None => {
            let _ = writeln!(
                out,
                "\nNo period could be forecast, so there is nothing to score."
            );
        }
    }
    let _ = writeln!(out, "\nNotes");
    for n in &b.notes {
        wrap(&mut out, "  - ", "    ", n);
    }
    out
}

/// Writes `text` in lines of at most [`WIDTH`] columns, the first after
/// `first`, the rest after `rest`.
fn wrap(out: &mut String, first: &str, rest: &str, text: &str) {
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            let _ = writeln!(out, "{line}");
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    let _ = writeln!(out, "{line}");
}

/// Width of wrapped prose.
const WIDTH: usize = 88;

fn headline(out: &mut String, b: &Backtest) {
    let scored = b.scored().count();
    let skipped = b.periods.len() - scored;
    let first = b
        .periods
        .first()
        .map_or(String::new(), |p| p.period.clone());
    let last = b.periods.last().map_or(String::new(), |p| p.period.clone());
    let _ = writeln!(
        out,
        "Backtest of {}: {}, {first} to {last}",
        b.export,
        b.period.adjective()
    );
    let text = format!(
        "{scored} periods scored, {skipped} skipped; {} trials a period, seed {} (plus the \
         period's index); amounts in {}",
        crate::render::amount(b.trials as f64),
        b.seed,
        b.currency
    );
    wrap(out, "", "", &text);
    wrap(out, "Target: ", "  ", &b.target_rule);
}

fn table(out: &mut String, b: &Backtest) {
    let back = match b.period {
        super::PeriodKind::Month => "3 back",
        super::PeriodKind::Quarter => "4 back",
    };
    let _ = writeln!(
        out,
        "\n{:<8} {:>7} {:>7} {:>7} {:>7} {:>5} {:>5} {:>6} {:>7} | {:>7} {:>7} {:>8}",
        "period",
        "P10",
        "P50",
        "P90",
        "actual",
        "PIT",
        "in",
        "P(hit)",
        "target",
        "last",
        back,
        "weighted"
    );
    for p in &b.periods {
        row(out, p);
    }
    let _ = writeln!(
        out,
        "in: the actual lay inside P10-P90 (80) and P25-P75 (50); last, {back}, weighted: the \
         baselines"
    );
}

fn row(out: &mut String, p: &PeriodResult) {
    let bl = &p.baselines;
    let Some(f) = &p.forecast else {
        let reason = p.skipped.as_deref().unwrap_or("");
        let actual = p.actual.map_or("unknown".into(), |a| compact(a.revenue));
        let text = format!("skipped: {reason}; actual {actual}");
        wrap(out, &format!("{:<8} ", p.period), "         ", &text);
        return;
    };
    let inside = match (f.in_p10_p90, f.in_p25_p75) {
        (true, true) => "80,50",
        (true, false) => "80",
        (false, true) => "50",
        (false, false) => "-",
    };
    let _ = writeln!(
        out,
        "{:<8} {:>7} {:>7} {:>7} {:>7} {:>5.2} {:>5} {:>6} {:>7} | {:>7} {:>7} {:>8}",
        p.period,
        compact(f.p10),
        compact(f.p50),
        compact(f.p90),
        opt(p.actual.map(|a| a.revenue)),
        f.pit,
        inside,
        f.p_hit.map_or("-".into(), pct),
        opt(p.target),
        opt(bl.last_period),
        opt(bl.cycle_back),
        opt(bl.weighted_pipeline),
    );
}

fn coverage_line(out: &mut String, name: &str, c: &Coverage) {
    let _ = writeln!(
        out,
        "  {name} held the actual  {:>2} of {:<2} = {:>5}   nominal {:.0}%, SE {:.1} pts: {:+.1} SE",
        c.inside,
        c.periods,
        pct(c.rate),
        100.0 * c.nominal,
        100.0 * c.se,
        c.z
    );
}

fn calibration(out: &mut String, s: &Scores) {
    let _ = writeln!(out, "\nCalibration over {} periods", s.periods);
    coverage_line(out, "P10-P90", &s.coverage_p10_p90);
    coverage_line(out, "P25-P75", &s.coverage_p25_p75);
    let _ = writeln!(
        out,
        "  mean PIT {:.3}   nominal 0.500, SE {:.3}: {:+.1} SE ({})",
        s.pit_mean,
        s.pit_mean_se,
        (s.pit_mean - 0.5) / s.pit_mean_se,
        if s.pit_mean > 0.5 {
            "actuals land high: the forecast ran low"
        } else {
            "actuals land low: the forecast ran high"
        }
    );
    let width = 1.0 / PIT_BINS as f64;
    let bins: Vec<String> = s
        .pit_histogram
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{:.1}-{:.1}: {c}", i as f64 * width, (i + 1) as f64 * width))
        .collect();
    let _ = writeln!(
        out,
        "  PIT histogram  {}   (calibrated: {:.1} in each)",
        bins.join("  "),
        s.periods as f64 / PIT_BINS as f64
    );
}

fn accuracy(out: &mut String, b: &Backtest, s: &Scores) {
    let _ = writeln!(
        out,
        "\nAccuracy (mean actual {}; CRPS and bias in {})",
        compact(s.actual_mean),
        b.currency
    );
    let _ = writeln!(
        out,
        "  {:<31} {:>7} {:>8} {:>8} {:>6} {:>9} {:>7} {:>9}",
        "forecast", "periods", "CRPS", "bias", "Brier", "sim CRPS", "skill", "sim wins"
    );
    let brier = s.brier.map_or("-".into(), |x| format!("{x:.3}"));
    let _ = writeln!(
        out,
        "  {:<31} {:>7} {:>8} {:>8} {:>6}",
        "simulation (median for bias)",
        s.periods,
        compact(s.crps_mean),
        compact(s.bias_p50),
        brier,
    );
    for bs in &b.baselines {
        baseline_row(out, bs);
    }
    let text = format!(
        "skill: 1 - sim CRPS / baseline CRPS on the same periods (above 0: the simulation \
         does better); sim wins: periods where the simulation's CRPS is the lower; a \
         baseline's CRPS is its absolute error, its Brier that of the call \
         \"baseline >= target\"; MAE of the simulation's median {}",
        compact(s.mae_p50)
    );
    wrap(out, "  ", "  ", &text);
}

fn baseline_row(out: &mut String, bs: &BaselineScore) {
    if bs.periods == 0 {
        let _ = writeln!(out, "  {:<31} {:>7}   not available", bs.name, 0);
        return;
    }
    let _ = writeln!(
        out,
        "  {:<31} {:>7} {:>8} {:>8} {:>6} {:>9} {:>7} {:>9}",
        bs.name,
        bs.periods,
        opt(bs.crps_mean),
        opt(bs.bias),
        bs.brier.map_or("-".into(), |x| format!("{x:.3}")),
        opt(bs.simulation_crps),
        bs.skill.map_or("-".into(), |x| format!("{x:+.2}")),
        format!("{} of {}", bs.simulation_better, bs.periods),
    );
}

#[cfg(test)]
mod tests {
    use super::compact;

    #[test]
    fn compact_amounts_keep_three_digits() {
        let cases = [
            (0.0, "0"),
            (950.0, "950"),
            (9_534.0, "9.53k"),
            (95_300.0, "95.3k"),
            (705_249.0, "705k"),
            (999_700.0, "1.00M"),
            (1_023_456.0, "1.02M"),
            (-12_345.0, "-12.3k"),
            (2.5e9, "2.50B"),
        ];
        for (x, s) in cases {
            assert_eq!(compact(x), s, "{x}");
        }
    }
}
