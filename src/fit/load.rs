//! What every loader shares: options, the account of rows read and set
//! aside, the error type, and column-wide decisions (date order, decimal
//! mark, currency) made before any row is read.

use super::csvread::{CsvError, RowIssue, Table};
use super::layout::{LayoutError, LayoutSpec};
use super::parse::{self, AmountError, DateOrder, DecimalMark};
use super::Date;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How to read the input files.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Column and stage names laid over the recognised layout.
    pub spec: LayoutSpec,
    /// The decimal mark of amounts.
    pub decimal: DecimalMark,
    /// Day/month order for every date column (decided per column when
    /// absent).
    pub date_order: Option<DateOrder>,
    /// Column whose value names a deal's (or lead's) segment.
    pub segment_by: Option<String>,
}

/// The account of one input file.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Source {
    /// The file.
    pub file: PathBuf,
    /// The layout it was read as.
    pub layout: String,
    /// Data rows in the file (the header not counted).
    pub rows_read: usize,
    /// Rows that were not used, each with its line and reason.
    pub set_aside: Vec<RowIssue>,
    /// Facts about the file worth telling (date order chosen, ...).
    pub notes: Vec<String>,
}

impl Source {
    /// Rows used: read minus set aside.
    pub fn rows_used(&self) -> usize {
        self.rows_read - self.set_aside.len()
    }

    pub(crate) fn new(table: &Table, layout: &str) -> Source {
        Source {
            file: table.file.clone(),
            layout: layout.to_string(),
            rows_read: table.rows.len() + table.unreadable.len(),
            set_aside: table.unreadable.clone(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn reject(&mut self, line: u64, col: &str, value: &str, reason: String) {
        self.set_aside.push(RowIssue {
            line,
            column: (!col.is_empty()).then(|| col.to_string()),
            value: (!value.is_empty()).then(|| value.to_string()),
            reason,
        });
    }
}

/// Why an input file cannot be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not readable as CSV.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// Columns cannot be mapped or decided.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The `--segment-by` column is not in the file.
    #[error("{file}: no column {column:?} to take segments from (columns: {columns})")]
    SegmentColumn {
        /// The file.
        file: PathBuf,
        /// The column asked for.
        column: String,
        /// The header.
        columns: String,
    },
    /// No rows left to work with.
    #[error("{file}: no usable rows ({read} read, all set aside; first: {first})")]
    NoRows {
        /// The file.
        file: PathBuf,
        /// Rows read.
        read: usize,
        /// The first reason.
        first: String,
    },
}

/// Index of a column known to exist (checked by the layout).
pub(crate) fn index(table: &Table, name: &str) -> Result<usize, LayoutError> {
    table
        .column(name)
        .ok_or_else(|| LayoutError::MissingColumn {
            file: table.file.clone(),
            role: "column",
            column: name.to_string(),
            columns: table.headers.join(","),
        })
}

/// The segment column, if one was asked for.
pub(crate) fn segment_index(table: &Table, opts: &LoadOptions) -> Result<Option<usize>, LoadError> {
    let Some(name) = &opts.segment_by else {
        return Ok(None);
    };
    match table.column(name) {
        Some(i) => Ok(Some(i)),
        None => Err(LoadError::SegmentColumn {
            file: table.file.clone(),
            column: name.clone(),
            columns: table.headers.join(","),
        }),
    }
}

/// Decides the date order of a column (or takes the flag's).
pub(crate) fn date_order(
    table: &Table,
    col: usize,
    opts: &LoadOptions,
    source: &mut Source,
) -> Result<DateOrder, LayoutError> {
    if let Some(order) = opts.date_order {
        return Ok(order);
    }
    let values = table.rows.iter().map(|r| r.fields[col].as_str());
    let order = DateOrder::detect(values).map_err(|source| LayoutError::DateColumn {
        file: table.file.clone(),
        column: table.headers[col].clone(),
        source,
    })?;
    let order = order.unwrap_or(DateOrder::Ymd);
    let column = &table.headers[col];
    source
        .notes
        .push(format!("dates in {column} read as {order}"));
    Ok(order)
}

/// Reads a date field, setting the row aside on failure.
pub(crate) fn date_field(
    text: &str,
    order: DateOrder,
    line: u64,
    column: &str,
    source: &mut Source,
) -> Result<Option<Date>, ()> {
    parse::parse_date(text, order).map_err(|e| {
        source.reject(line, column, text, e.to_string());
    })
}

/// Refuses a column that is written with the other decimal mark, before
/// any value in it is read one by one.
pub(crate) fn check_decimal_mark(
    table: &Table,
    col: usize,
    mark: DecimalMark,
) -> Result<(), LayoutError> {
    for row in &table.rows {
        let text = &row.fields[col];
        if let Err(e @ AmountError::WrongDecimalMark { .. }) = parse::parse_amount(text, mark) {
            return Err(LayoutError::DecimalMark {
                file: table.file.clone(),
                line: row.line,
                column: table.headers[col].clone(),
                value: text.clone(),
                source: e,
            });
        }
    }
    Ok(())
}

/// The one currency written beside the amounts of a column, if any.
pub(crate) fn column_currency(
    table: &Table,
    col: usize,
    mark: DecimalMark,
) -> Result<Option<String>, LayoutError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for row in &table.rows {
        if let Ok(Some(a)) = parse::parse_amount(&row.fields[col], mark) {
            if let Some(c) = a.currency {
                *seen.entry(normalise_currency(&c)).or_default() += 1;
            }
        }
    }
    if seen.len() > 1 {
        let found: Vec<String> = seen.iter().map(|(c, n)| format!("{c} {n}")).collect();
        return Err(LayoutError::MixedCurrency {
            file: table.file.clone(),
            column: table.headers[col].clone(),
            found: found.join(", "),
        });
    }
    Ok(seen.into_keys().next())
}

/// Currency signs with one meaning become ISO codes; `$` stays `$`.
pub fn normalise_currency(text: &str) -> String {
    match text {
        "€" => "EUR".into(),
        "£" => "GBP".into(),
        "¥" => "JPY".into(),
        "₹" => "INR".into(),
        "R$" => "BRL".into(),
        other => other.to_uppercase(),
    }
}
