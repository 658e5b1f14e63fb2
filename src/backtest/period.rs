//! Calendar periods of a walk-forward backtest: months or quarters.
//!
//! A period runs from its first day to its last, both included. Its
//! forecast is made as of the day before it starts, so a deal closed on
//! the first day of the period is part of what the period is scored on,
//! never part of what its forecast knew.

use crate::fit::Date;
use std::fmt;
use std::str::FromStr;

/// How long each backtested period is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    /// Calendar months.
    Month,
    /// Calendar quarters (January, April, July, October).
    Quarter,
}

impl PeriodKind {
    /// Months in one period.
    fn months(self) -> i32 {
        match self {
            PeriodKind::Month => 1,
            PeriodKind::Quarter => 3,
        }
    }

    /// Periods in one seasonal cycle: a month is compared with the same
    /// month of the previous quarter (3 back), a quarter with the same
    /// quarter of the previous year (4 back).
    pub fn cycle(self) -> i32 {
        match self {
            PeriodKind::Month => 3,
            PeriodKind::Quarter => 4,
        }
    }

    /// "same month of the last quarter" or "same quarter of last year".
    pub fn cycle_name(self) -> &'static str {
        match self {
            PeriodKind::Month => "same month of the last quarter",
            PeriodKind::Quarter => "same quarter of last year",
        }
    }

    /// "month" or "quarter".
    pub fn noun(self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
        }
    }

    /// "monthly" or "quarterly".
    pub fn adjective(self) -> &'static str {
        match self {
            PeriodKind::Month => "monthly",
            PeriodKind::Quarter => "quarterly",
        }
    }
}

impl FromStr for PeriodKind {
    type Err = String;
    fn from_str(s: &str) -> Result<PeriodKind, String> {
        match s {
            "month" => Ok(PeriodKind::Month),
            "quarter" => Ok(PeriodKind::Quarter),
            _ => Err(format!("{s:?}: expected month or quarter")),
        }
    }
}

/// One calendar month or quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    // Months since year 0 of the period's first month (January = 0);
    // first, so that periods order by time.
    first_month: i32,
    kind: PeriodKind,
}

impl Period {
    /// The period of this kind that holds `date`.
    ///
    /// ```
    /// use revpipe::backtest::{Period, PeriodKind};
    /// use revpipe::fit::Date;
    /// let d = Date::parse_iso("2017-05-17").unwrap();
    /// let q = Period::containing(PeriodKind::Quarter, d);
    /// assert_eq!((q.label(), q.start().to_string(), q.end().to_string()),
    ///            ("2017-Q2".into(), "2017-04-01".into(), "2017-06-30".into()));
    /// assert_eq!(q.shift(-4).label(), "2016-Q2");
    /// ```
    pub fn containing(kind: PeriodKind, date: Date) -> Period {
        let (y, m, _) = date.ymd();
        let month = y * 12 + m as i32 - 1;
        let first_month = month - month.rem_euclid(kind.months());
        Period { kind, first_month }
    }

    /// The period `n` periods later (earlier when negative).
    pub fn shift(self, n: i32) -> Period {
        Period {
            first_month: self.first_month + n * self.kind.months(),
            ..self
        }
    }

    /// Month or quarter.
    pub fn kind(self) -> PeriodKind {
        self.kind
    }

    /// Its first day.
    pub fn start(self) -> Date {
        let (y, m) = (
            self.first_month.div_euclid(12),
            self.first_month.rem_euclid(12),
        );
        Date::from_ymd(y, m as u32 + 1, 1).expect("the first of a month exists")
    }

    /// Its last day.
    pub fn end(self) -> Date {
        self.shift(1).start().plus_days(-1)
    }

    /// Its length in days.
    pub fn days(self) -> u32 {
        (self.end().days_since(self.start()) + 1) as u32
    }

    /// The day its forecast is made as of: the day before it starts.
    pub fn as_of(self) -> Date {
        self.start().plus_days(-1)
    }

    /// Whether `date` falls inside it.
    pub fn contains(self, date: Date) -> bool {
        self.start() <= date && date <= self.end()
    }

    /// `2017-04` for a month, `2017-Q2` for a quarter.
    pub fn label(self) -> String {
        let (y, m) = (
            self.first_month.div_euclid(12),
            self.first_month.rem_euclid(12),
        );
        match self.kind {
            PeriodKind::Month => format!("{y:04}-{:02}", m + 1),
            PeriodKind::Quarter => format!("{y:04}-Q{}", m / 3 + 1),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The whole periods inside `[from, to]`: from the first that starts on
/// or after `from` to the last that ends on or before `to`. Empty when no
/// whole period fits.
pub fn whole_periods(kind: PeriodKind, from: Date, to: Date) -> Vec<Period> {
    let mut p = Period::containing(kind, from);
    if p.start() < from {
        p = p.shift(1);
    }
    let mut out = Vec::new();
    while p.end() <= to {
        out.push(p);
        p = p.shift(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    #[test]
    fn months_and_quarters_have_their_calendar_lengths() {
        let feb = Period::containing(PeriodKind::Month, d("2016-02-10"));
        assert_eq!((feb.days(), feb.label()), (29, "2016-02".to_string()));
        assert_eq!(feb.as_of(), d("2016-01-31"));
        let q4 = Period::containing(PeriodKind::Quarter, d("2017-12-31"));
        assert_eq!(
            (q4.start(), q4.end(), q4.days()),
            (d("2017-10-01"), d("2017-12-31"), 92)
        );
        assert_eq!(q4.shift(1).label(), "2018-Q1");
        assert_eq!(feb.shift(-3).label(), "2015-11");
        assert!(q4.contains(d("2017-10-01")) && !q4.contains(d("2018-01-01")));
    }

    #[test]
    fn whole_periods_keep_only_full_periods_inside_the_range() {
        let labels = |k, a, b| -> Vec<String> {
            whole_periods(k, d(a), d(b))
                .iter()
                .map(|p| p.label())
                .collect()
        };
        assert_eq!(
            labels(PeriodKind::Month, "2017-03-02", "2017-06-30"),
            ["2017-04", "2017-05", "2017-06"]
        );
        assert_eq!(
            labels(PeriodKind::Quarter, "2017-01-01", "2017-12-30"),
            ["2017-Q1", "2017-Q2", "2017-Q3"]
        );
        assert!(labels(PeriodKind::Quarter, "2017-01-02", "2017-06-30").len() == 1);
        assert!(labels(PeriodKind::Month, "2017-05-02", "2017-05-31").is_empty());
    }

    #[test]
    fn kinds_parse_from_their_flag_values() {
        assert_eq!("month".parse::<PeriodKind>(), Ok(PeriodKind::Month));
        assert!("week"
            .parse::<PeriodKind>()
            .unwrap_err()
            .contains("month or quarter"));
    }
}
