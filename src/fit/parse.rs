//! Reading one field: amounts and dates as spreadsheets write them.
//!
//! Amounts may carry a currency symbol or code, thousands separators,
//! a minus sign or accounting parentheses. The decimal mark is stated by
//! the caller, never guessed: a value that only makes sense with the
//! other mark is an error, so a column of decimal commas cannot be read
//! as thousands. Dates may be ISO, day-first or month-first; the order is
//! decided once for a whole column by [`DateOrder::detect`].

use super::date::Date;
use std::fmt;

/// Which character separates the decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub enum DecimalMark {
    /// `1,234.50`: point for decimals, comma (or space, apostrophe) for
    /// thousands.
    #[default]
    Point,
    /// `1.234,50`: comma for decimals, point (or space) for thousands.
    Comma,
}

/// A parsed amount with the currency written next to it, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Amount {
    /// The number (negative when written with a minus or parentheses).
    pub value: f64,
    /// A currency code or symbol found beside the number (`USD`, `€`).
    pub currency: Option<String>,
}

/// Why a field is not an amount.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Characters that belong to no amount.
    #[error("not an amount (valid: 1234.5, 1,234.50, $1,234, EUR 1 234,50)")]
    NotANumber,
    /// The separators only make sense with the other decimal mark.
    #[error("reads as a decimal {found} number, but the decimal mark is {stated}; pass the right mark (--decimal-comma)")]
    WrongDecimalMark {
        /// The mark the value looks like it uses.
        found: &'static str,
        /// The mark the caller stated.
        stated: &'static str,
    },
    /// Thousands groups of the wrong size, e.g. `1,23,4`.
    #[error("thousands groups must have 3 digits")]
    BadGrouping,
}

const MISSING: [&str; 8] = ["", "na", "n/a", "null", "nan", "none", "-", "--"];

/// True for the ways exports write "no value": blank, `NA`, `null`, ...
pub fn is_missing(text: &str) -> bool {
    let t = text.trim();
    MISSING.iter().any(|m| t.eq_ignore_ascii_case(m))
}

/// Reads an amount; a blank (or `NA`, `null`, ...) is `Ok(None)`.
///
/// ```
/// use revpipe::fit::parse::{parse_amount, DecimalMark, AmountError};
/// let a = parse_amount("$1,234.50", DecimalMark::Point).unwrap().unwrap();
/// assert_eq!(a.value, 1234.5);
/// let b = parse_amount("1.234,50 EUR", DecimalMark::Comma).unwrap().unwrap();
/// assert_eq!((b.value, b.currency.as_deref()), (1234.5, Some("EUR")));
/// assert!(parse_amount("", DecimalMark::Point).unwrap().is_none());
/// assert!(matches!(
///     parse_amount("12,5", DecimalMark::Point),
///     Err(AmountError::WrongDecimalMark { .. })
/// ));
/// ```
pub fn parse_amount(text: &str, mark: DecimalMark) -> Result<Option<Amount>, AmountError> {
    if is_missing(text) {
        return Ok(None);
    }
    let (negative, body, currency) = strip_sign_and_currency(text.trim())?;
    let value = parse_number(&body, mark)?;
    let value = if negative { -value } else { value };
    Ok(Some(Amount { value, currency }))
}

fn strip_sign_and_currency(text: &str) -> Result<(bool, String, Option<String>), AmountError> {
    let mut negative = false;
    let mut s = text;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negative = true;
        s = inner.trim();
    }
    let digit = |c: char| c.is_ascii_digit();
    let first = s.find(digit).ok_or(AmountError::NotANumber)?;
    let last = s.rfind(digit).ok_or(AmountError::NotANumber)? + 1;
    let (pre, body, post) = (&s[..first], &s[first..last], &s[last..]);

    // Before the number: a currency and at most one minus, in any order.
    let minus = pre.matches('-').count();
    if minus > 1 || (minus == 1 && negative) {
        return Err(AmountError::NotANumber);
    }
    negative |= minus == 1;
    let pre = currency_token(&pre.replace('-', ""))?;
    let post = currency_token(post)?;
    let currency = match (pre, post) {
        (Some(_), Some(_)) => return Err(AmountError::NotANumber),
        (a, b) => a.or(b),
    };
    Ok((negative, body.to_string(), currency))
}

// Blank, or a currency: a sign (`$`, `€`, `R$`) or a three-letter
// upper-case code (`USD`).
fn currency_token(text: &str) -> Result<Option<String>, AmountError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let sign = |c: char| "$€£¥₹₩₽".contains(c);
    let code = t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase());
    let signed = t.chars().any(sign)
        && t.chars().count() <= 3
        && t.chars().all(|c| sign(c) || c.is_ascii_uppercase());
    if code || signed {
        Ok(Some(t.to_string()))
    } else {
        Err(AmountError::NotANumber)
    }
}

fn is_group_char(c: char) -> bool {
    matches!(c, ' ' | '\'' | '\u{a0}' | '\u{202f}')
}

fn parse_number(body: &str, mark: DecimalMark) -> Result<f64, AmountError> {
    let (dec, group) = match mark {
        DecimalMark::Point => ('.', ','),
        DecimalMark::Comma => (',', '.'),
    };
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',' || is_group_char(c))
    {
        return Err(AmountError::NotANumber);
    }
    check_mark(body, mark, dec, group)?;
    let (int, frac) = match body.split_once(dec) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = ungroup(int, group)?;
    let mut plain = digits;
    if let Some(f) = frac {
        if f.is_empty() || !f.chars().all(|c| c.is_ascii_digit()) {
            return Err(AmountError::NotANumber);
        }
        plain.push('.');
        plain.push_str(f);
    }
    plain.parse().map_err(|_| AmountError::NotANumber)
}

// The value uses the other mark when: the decimal mark appears twice, or
// the group mark comes after the decimal mark, or the last group mark is
// not followed by exactly three digits.
fn check_mark(body: &str, mark: DecimalMark, dec: char, group: char) -> Result<(), AmountError> {
    let names = |m: DecimalMark| match m {
        DecimalMark::Point => "point",
        DecimalMark::Comma => "comma",
    };
    let other = match mark {
        DecimalMark::Point => DecimalMark::Comma,
        DecimalMark::Comma => DecimalMark::Point,
    };
    let wrong = AmountError::WrongDecimalMark {
        found: names(other),
        stated: names(mark),
    };
    let dec_count = body.matches(dec).count();
    let last_group = body.rfind(group);
    let first_dec = body.find(dec);
    if dec_count > 1 {
        return Err(wrong);
    }
    if let (Some(g), Some(d)) = (last_group, first_dec) {
        if g > d {
            return Err(wrong);
        }
    }
    if let Some(g) = last_group {
        let tail: String = body[g + 1..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if tail.len() != 3 && first_dec.is_none_or(|d| d < g) {
            return Err(wrong);
        }
    }
    Ok(())
}

// Removes thousands separators after checking the groups are 3 digits.
fn ungroup(int: &str, group: char) -> Result<String, AmountError> {
    let groups: Vec<&str> = int.split(|c| c == group || is_group_char(c)).collect();
    if groups
        .iter()
        .any(|g| !g.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(AmountError::NotANumber);
    }
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return Err(AmountError::BadGrouping);
        }
    }
    let digits: String = groups.concat();
    if digits.is_empty() {
        return Err(AmountError::NotANumber);
    }
    Ok(digits)
}

/// The order of day, month and year in a column of dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// `2024-03-31`
    Ymd,
    /// `31/03/2024`
    Dmy,
    /// `03/31/2024`
    Mdy,
}

impl DateOrder {
    /// Reads `ymd`, `dmy` or `mdy` (the `--date-format` values).
    pub fn from_flag(text: &str) -> Option<DateOrder> {
        match text.to_ascii_lowercase().as_str() {
            "ymd" | "iso" => Some(DateOrder::Ymd),
            "dmy" => Some(DateOrder::Dmy),
            "mdy" => Some(DateOrder::Mdy),
            _ => None,
        }
    }

    /// Decides the order for a column from all its values.
    ///
    /// A first number above 12 proves day-first, a second number above 12
    /// proves month-first. Both in one column is [`DateColumnError::Mixed`];
    /// neither (every value could be either) is
    /// [`DateColumnError::Ambiguous`]. A column of ISO dates is `Ymd`; an
    /// empty column is `Ok(None)`. Unreadable values are left for
    /// [`parse_date`] to report row by row.
    ///
    /// ```
    /// use revpipe::fit::parse::{DateOrder, DateColumnError};
    /// let order = DateOrder::detect(["01/02/2024", "25/02/2024"].into_iter());
    /// assert_eq!(order, Ok(Some(DateOrder::Dmy)));
    /// let unsure = DateOrder::detect(["01/02/2024", "03/04/2024"].into_iter());
    /// assert!(matches!(unsure, Err(DateColumnError::Ambiguous { .. })));
    /// ```
    pub fn detect<'a>(
        values: impl Iterator<Item = &'a str>,
    ) -> Result<Option<DateOrder>, DateColumnError> {
        let mut seen_iso = false;
        let mut slashed = None;
        let mut day_first: Option<String> = None;
        let mut month_first: Option<String> = None;
        for value in values {
            match split_date(value) {
                Some(Parts::Iso(..)) => seen_iso = true,
                Some(Parts::Other(a, b, _)) => {
                    slashed.get_or_insert_with(|| value.to_string());
                    if a > 12 && day_first.is_none() {
                        day_first = Some(value.to_string());
                    }
                    if b > 12 && month_first.is_none() {
                        month_first = Some(value.to_string());
                    }
                }
                None => {}
            }
        }
        match (slashed, day_first, month_first) {
            (None, ..) => Ok(seen_iso.then_some(DateOrder::Ymd)),
            (Some(_), Some(d), Some(m)) => Err(DateColumnError::Mixed {
                day_first: d,
                month_first: m,
            }),
            (Some(_), Some(_), None) => Ok(Some(DateOrder::Dmy)),
            (Some(_), None, Some(_)) => Ok(Some(DateOrder::Mdy)),
            (Some(example), None, None) => Err(DateColumnError::Ambiguous { example }),
        }
    }
}

/// Why a column's date order cannot be decided.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateColumnError {
    /// Every value could be day-first or month-first.
    #[error("every date could be day-first or month-first (e.g. {example:?}); pass --date-format dmy or mdy")]
    Ambiguous {
        /// A value that shows the problem.
        example: String,
    },
    /// Some values are only valid day-first, others only month-first.
    #[error(
        "dates are day-first in places ({day_first:?}) and month-first in others ({month_first:?})"
    )]
    Mixed {
        /// A value that must be day-first.
        day_first: String,
        /// A value that must be month-first.
        month_first: String,
    },
}

/// Why a field is not a date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not in any of the accepted forms.
    #[error(
        "not a date (valid: 2024-03-31, 31/03/2024 or 03/31/2024, optionally followed by a time)"
    )]
    Unreadable,
    /// The form is right but the day does not exist.
    #[error("no such day in the calendar (read as {order:?})")]
    NoSuchDay {
        /// The order the column was read in.
        order: DateOrder,
    },
}

enum Parts {
    Iso(i32, u32, u32),
    Other(u32, u32, i32),
}

// "2024-03-31", "31/03/2024", "3.31.2024", each optionally followed by a
// time after a space or a 'T'.
fn split_date(text: &str) -> Option<Parts> {
    let date = text.trim().split([' ', 'T']).next()?;
    let sep = date.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = date.split(sep).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4) {
        return None;
    }
    if !parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    if parts[0].len() == 4 {
        let y = parts[0].parse().ok()?;
        return Some(Parts::Iso(
            y,
            parts[1].parse().ok()?,
            parts[2].parse().ok()?,
        ));
    }
    if parts[2].len() != 4 || parts[0].len() > 2 || parts[1].len() > 2 {
        return None;
    }
    Some(Parts::Other(
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    ))
}

/// Reads a date in a column whose order is `order`; blank is `Ok(None)`.
/// ISO values are read as ISO whatever the column order.
pub fn parse_date(text: &str, order: DateOrder) -> Result<Option<Date>, DateError> {
    if is_missing(text) {
        return Ok(None);
    }
    let date = match split_date(text).ok_or(DateError::Unreadable)? {
        Parts::Iso(y, m, d) => Date::from_ymd(y, m, d),
        Parts::Other(a, b, y) => match order {
            DateOrder::Dmy => Date::from_ymd(y, b, a),
            DateOrder::Mdy | DateOrder::Ymd => Date::from_ymd(y, a, b),
        },
    };
    date.map(Some).ok_or(DateError::NoSuchDay { order })
}

impl fmt::Display for DateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DateOrder::Ymd => "year-month-day",
            DateOrder::Dmy => "day/month/year",
            DateOrder::Mdy => "month/day/year",
        };
        f.write_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(s: &str) -> Result<Option<f64>, AmountError> {
        parse_amount(s, DecimalMark::Point).map(|a| a.map(|a| a.value))
    }

    fn comma(s: &str) -> Result<Option<f64>, AmountError> {
        parse_amount(s, DecimalMark::Comma).map(|a| a.map(|a| a.value))
    }

    #[test]
    fn amounts_with_point() {
        assert_eq!(point("1234"), Ok(Some(1234.0)));
        assert_eq!(point(" $1,234.56 "), Ok(Some(1234.56)));
        assert_eq!(point("USD 12,345,678"), Ok(Some(12_345_678.0)));
        assert_eq!(point("(1,000)"), Ok(Some(-1000.0)));
        assert_eq!(point("-$5.5"), Ok(Some(-5.5)));
        assert_eq!(point("1 000 000.5"), Ok(Some(1_000_000.5)));
        assert_eq!(point("0.75"), Ok(Some(0.75)));
        assert_eq!(point("NA"), Ok(None));
        assert_eq!(point("  "), Ok(None));
    }

    #[test]
    fn amounts_with_comma() {
        assert_eq!(comma("1.234,56 €"), Ok(Some(1234.56)));
        assert_eq!(comma("12,5"), Ok(Some(12.5)));
        assert_eq!(comma("1 234,5"), Ok(Some(1234.5)));
        assert_eq!(comma("1.234"), Ok(Some(1234.0)));
        let a = parse_amount("EUR 3,5", DecimalMark::Comma)
            .unwrap()
            .unwrap();
        assert_eq!(a.currency.as_deref(), Some("EUR"));
    }

    #[test]
    fn wrong_mark_is_an_error_not_a_guess() {
        let wrong = |s| matches!(point(s), Err(AmountError::WrongDecimalMark { .. }));
        assert!(wrong("12,5"));
        assert!(wrong("1.234,56"));
        assert!(wrong("1.2.3"));
        let wrong_c = |s| matches!(comma(s), Err(AmountError::WrongDecimalMark { .. }));
        assert!(wrong_c("1,234.56"));
        assert!(wrong_c("1.5"));
        assert_eq!(point("1,23,456"), Err(AmountError::BadGrouping));
        assert_eq!(point("12abc34"), Err(AmountError::NotANumber));
        assert_eq!(point("USD EUR 5"), Err(AmountError::NotANumber));
        assert_eq!(point("$"), Err(AmountError::NotANumber));
    }

    #[test]
    fn dates_in_each_order() {
        let d = |s, o| parse_date(s, o).unwrap().unwrap().to_string();
        assert_eq!(d("2024-03-31", DateOrder::Dmy), "2024-03-31");
        assert_eq!(d("31/03/2024", DateOrder::Dmy), "2024-03-31");
        assert_eq!(d("03/31/2024 16:11", DateOrder::Mdy), "2024-03-31");
        assert_eq!(d("2018-02-26 19:58:54", DateOrder::Ymd), "2018-02-26");
        assert_eq!(d("2018-02-26T19:58:54Z", DateOrder::Ymd), "2018-02-26");
        assert_eq!(parse_date("", DateOrder::Ymd), Ok(None));
        assert_eq!(
            parse_date("31/02/2024", DateOrder::Dmy),
            Err(DateError::NoSuchDay {
                order: DateOrder::Dmy
            })
        );
        assert_eq!(
            parse_date("March 3", DateOrder::Dmy),
            Err(DateError::Unreadable)
        );
        assert_eq!(
            parse_date("1/2/24", DateOrder::Dmy),
            Err(DateError::Unreadable)
        );
    }

    #[test]
    fn column_order_detection() {
        let detect = |v: &[&str]| DateOrder::detect(v.iter().copied());
        assert_eq!(detect(&["2024-01-02", ""]), Ok(Some(DateOrder::Ymd)));
        assert_eq!(detect(&["", ""]), Ok(None));
        assert_eq!(
            detect(&["12/31/2024", "01/02/2024"]),
            Ok(Some(DateOrder::Mdy))
        );
        assert_eq!(
            detect(&["13/01/2024", "01/13/2024"]),
            Err(DateColumnError::Mixed {
                day_first: "13/01/2024".into(),
                month_first: "01/13/2024".into()
            })
        );
        assert!(matches!(
            detect(&["01/02/2024"]),
            Err(DateColumnError::Ambiguous { .. })
        ));
    }
}
