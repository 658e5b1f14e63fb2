//! Opportunities: one row per deal, read into typed [`Deal`]s.
//!
//! Loading only reads and checks rows; it makes no statistical choice,
//! so a walk-forward backtest can load once and fit many times.

use super::csvread::Table;
use super::layout::{self, Layout};
use super::load::{self, LoadError, LoadOptions, Source};
use super::parse;
use super::Date;
use std::collections::HashMap;
use std::path::Path;

/// Where a deal stands in the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Still in one of the open stages.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

/// One opportunity as exported.
#[derive(Clone, Debug, PartialEq)]
pub struct Deal {
    /// Line in the export where its row starts.
    pub line: u64,
    /// Its id.
    pub id: String,
    /// Its current stage as written (an open stage, or won/lost).
    pub stage: String,
    /// Open, won or lost, from the stage.
    pub outcome: Outcome,
    /// Amount; `None` when blank (never read as zero).
    pub amount: Option<f64>,
    /// Date created (or entered the funnel).
    pub created: Option<Date>,
    /// Date won or lost; always `None` for open deals (a CRM's close date
    /// on an open deal is only the date expected).
    pub closed: Option<Date>,
    /// Segment value, when segments were asked for and the cell is not
    /// blank.
    pub segment: Option<String>,
}

/// An export read into deals, with its account and layout.
#[derive(Clone, Debug)]
pub struct DealFile {
    /// Rows read, used, set aside.
    pub source: Source,
    /// The layout it was read with.
    pub layout: Layout,
    /// The currency written beside the amounts, if any.
    pub currency: Option<String>,
    /// The column segments were read from, if any: when set, deals are
    /// fitted per segment.
    pub segment_by: Option<String>,
    /// The deals.
    pub deals: Vec<Deal>,
}

/// Reads an opportunity export.
pub fn load_deals(file: &Path, opts: &LoadOptions) -> Result<DealFile, LoadError> {
    deals_from_table(Table::read(file)?, opts)
}

#[derive(Clone, Copy)]
struct Columns {
    id: usize,
    stage: usize,
    amount: usize,
    created: usize,
    closed: usize,
    is_won: Option<usize>,
    is_closed: Option<usize>,
    segment: Option<usize>,
}

/// Reads deals from a table already in memory.
pub fn deals_from_table(table: Table, opts: &LoadOptions) -> Result<DealFile, LoadError> {
    let layout = layout::resolve(&table.file, &table.headers, &opts.spec)?;
    let mut source = Source::new(&table, &layout.name);
    let cols = Columns {
        id: load::index(&table, &layout.id)?,
        stage: load::index(&table, &layout.stage)?,
        amount: load::index(&table, &layout.amount)?,
        created: load::index(&table, &layout.created)?,
        closed: load::index(&table, &layout.closed)?,
        is_won: layout.is_won.as_deref().and_then(|c| table.column(c)),
        is_closed: layout.is_closed.as_deref().and_then(|c| table.column(c)),
        segment: load::segment_index(&table, opts)?,
    };
    load::check_decimal_mark(&table, cols.amount, opts.decimal)?;
    let currency = load::column_currency(&table, cols.amount, opts.decimal)?;
    let created_order = load::date_order(&table, cols.created, opts, &mut source)?;
    let closed_order = load::date_order(&table, cols.closed, opts, &mut source)?;

    let mut reader = RowReader {
        table: &table,
        layout: &layout,
        cols,
        opts,
        orders: (created_order, closed_order),
        seen: HashMap::new(),
        flag_disagreements: 0,
    };
    let mut deals = Vec::new();
    for row in &table.rows {
        if let Some(deal) = reader.read(&row.fields, row.line, &mut source) {
            deals.push(deal);
        }
    }
    if reader.flag_disagreements > 0 {
        source.notes.push(format!(
            "{} rows have IsWon/IsClosed flags that disagree with their stage; the stage was used",
            reader.flag_disagreements
        ));
    }
    source.set_aside.sort_by_key(|r| r.line);
    if deals.is_empty() {
        return Err(no_rows(&source));
    }
    let segment_by = cols.segment.map(|c| table.headers[c].clone());
    Ok(DealFile {
        source,
        layout,
        currency,
        segment_by,
        deals,
    })
}

pub(crate) fn no_rows(source: &Source) -> LoadError {
    LoadError::NoRows {
        file: source.file.clone(),
        read: source.rows_read,
        first: source
            .set_aside
            .first()
            .map_or("the file has no data rows".into(), |r| r.to_string()),
    }
}

struct RowReader<'a> {
    table: &'a Table,
    layout: &'a Layout,
    cols: Columns,
    opts: &'a LoadOptions,
    orders: (parse::DateOrder, parse::DateOrder),
    seen: HashMap<String, u64>,
    flag_disagreements: usize,
}

impl RowReader<'_> {
    fn name(&self, col: usize) -> &str {
        &self.table.headers[col]
    }

    // One row into a deal, or the row set aside with its reason.
    fn read(&mut self, f: &[String], line: u64, src: &mut Source) -> Option<Deal> {
        let c = self.cols;
        let id = f[c.id].clone();
        if id.is_empty() {
            src.reject(line, self.name(c.id), "", "blank id".into());
            return None;
        }
        if let Some(first) = self.seen.get(&id) {
            let reason = format!("duplicate id, first seen on line {first}");
            src.reject(line, self.name(c.id), &id, reason);
            return None;
        }
        let stage = f[c.stage].clone();
        let outcome = self.outcome(&stage, line, src)?;
        self.check_flags(f, outcome);
        let amount = self.amount(&f[c.amount], line, src)?;
        let created = self.date(f, c.created, self.orders.0, line, src)?;
        let mut closed = self.date(f, c.closed, self.orders.1, line, src)?;
        if outcome == Outcome::Open {
            closed = None;
        }
        if let (Some(a), Some(b)) = (created, closed) {
            if b < a {
                let reason = format!("close date {b} is before created date {a}");
                src.reject(line, self.name(c.closed), &f[c.closed], reason);
                return None;
            }
        }
        let segment = c.segment.map(|s| f[s].clone()).filter(|s| !s.is_empty());
        self.seen.insert(id.clone(), line);
        Some(Deal {
            line,
            id,
            stage,
            outcome,
            amount,
            created,
            closed,
            segment,
        })
    }

    fn outcome(&self, stage: &str, line: u64, src: &mut Source) -> Option<Outcome> {
        let funnel = &self.layout.funnel;
        if stage.is_empty() {
            src.reject(line, self.name(self.cols.stage), "", "blank stage".into());
            return None;
        }
        if funnel.is_won(stage) {
            Some(Outcome::Won)
        } else if funnel.is_lost(stage) {
            Some(Outcome::Lost)
        } else {
            Some(Outcome::Open)
        }
    }

    fn check_flags(&mut self, f: &[String], outcome: Outcome) {
        let truth = |col: Option<usize>| {
            col.and_then(|c| match f[c].to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            })
        };
        let won = truth(self.cols.is_won);
        let closed = truth(self.cols.is_closed);
        let disagree = won.is_some_and(|w| w != (outcome == Outcome::Won))
            || closed.is_some_and(|c| c != (outcome != Outcome::Open));
        if disagree {
            self.flag_disagreements += 1;
        }
    }

    fn amount(&self, text: &str, line: u64, src: &mut Source) -> Option<Option<f64>> {
        let col = self.name(self.cols.amount);
        match parse::parse_amount(text, self.opts.decimal) {
            Ok(None) => Some(None),
            Ok(Some(a)) if a.value < 0.0 => {
                src.reject(line, col, text, "negative amount".into());
                None
            }
            Ok(Some(a)) => Some(Some(a.value)),
            Err(e) => {
                src.reject(line, col, text, e.to_string());
                None
            }
        }
    }

    fn date(
        &self,
        f: &[String],
        col: usize,
        order: parse::DateOrder,
        line: u64,
        src: &mut Source,
    ) -> Option<Option<Date>> {
        load::date_field(&f[col], order, line, self.name(col), src).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str, opts: &LoadOptions) -> Result<DealFile, LoadError> {
        let table = Table::from_bytes(Path::new("d.csv"), text.as_bytes()).unwrap();
        deals_from_table(table, opts)
    }

    const SF_HEADER: &str = "Id,StageName,Amount,CreatedDate,CloseDate,IsWon,Type\r\n";

    #[test]
    fn salesforce_rows_with_every_quirk() {
        let text = format!(
            "\u{feff}{SF_HEADER}\
             A1,Closed Won,\"$1,200.50\",31/01/2024,15/02/2024,TRUE,New\r\n\
             A2,Closed Lost,,02/02/2024,20/02/2024,TRUE,New\r\n\
             A3,Prospecting,\"2,000\",03/02/2024,01/03/2024,FALSE,\r\n\
             A4,Closed Won,300,10/02/2024,01/02/2024,TRUE,New\r\n\
             A1,Closed Won,5,10/02/2024,11/02/2024,TRUE,New\r\n\
             A6,Closed Won,-5,10/02/2024,11/02/2024,TRUE,New\r\n\
             A7,Closed Won,12x,10/02/2024,11/02/2024,TRUE,New\r\n\
             A8,Closed Won,7,30/02/2024,11/03/2024,TRUE,New\r\n"
        );
        let opts = LoadOptions {
            segment_by: Some("type".into()),
            ..LoadOptions::default()
        };
        let file = load(&text, &opts).unwrap();
        assert_eq!(file.layout.name, "salesforce");
        assert_eq!(file.source.rows_read, 8);
        assert_eq!(file.deals.len(), 3);
        let a1 = &file.deals[0];
        assert_eq!(a1.amount, Some(1200.5));
        assert_eq!(a1.created.unwrap().to_string(), "2024-01-31");
        assert_eq!(a1.segment.as_deref(), Some("New"));
        assert_eq!(
            file.deals[1].amount, None,
            "blank amount is missing, not zero"
        );
        let a3 = &file.deals[2];
        assert_eq!(
            (a3.outcome, a3.closed, a3.segment.as_deref()),
            (Outcome::Open, None, None)
        );
        let lines: Vec<u64> = file.source.set_aside.iter().map(|r| r.line).collect();
        assert_eq!(lines, [5, 6, 7, 8, 9]);
        let reasons: Vec<String> = file
            .source
            .set_aside
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            reasons[0],
            "line 5, column CloseDate, value \"01/02/2024\": close date 2024-02-01 is before created date 2024-02-10"
        );
        assert_eq!(
            reasons[1],
            "line 6, column Id, value \"A1\": duplicate id, first seen on line 2"
        );
        assert_eq!(
            reasons[2],
            "line 7, column Amount, value \"-5\": negative amount"
        );
        assert!(reasons[3].starts_with("line 8, column Amount, value \"12x\": not an amount"));
        assert!(
            reasons[4].starts_with("line 9, column CreatedDate, value \"30/02/2024\": no such day")
        );
        assert!(file
            .source
            .notes
            .iter()
            .any(|n| n.contains("1 rows have IsWon/IsClosed")));
        assert!(file
            .source
            .notes
            .contains(&"dates in CreatedDate read as day/month/year".into()));
    }

    #[test]
    fn decimal_comma_column_needs_the_flag() {
        let text = format!("{SF_HEADER}A1,Closed Won,\"1.200,50\",2024-01-01,2024-02-01,,\n");
        let err = load(&text, &LoadOptions::default()).unwrap_err();
        assert!(err
            .to_string()
            .contains("line 2: column Amount: value \"1.200,50\" reads as a decimal comma number"));
        let opts = LoadOptions {
            decimal: parse::DecimalMark::Comma,
            ..LoadOptions::default()
        };
        assert_eq!(load(&text, &opts).unwrap().deals[0].amount, Some(1200.5));
    }

    #[test]
    fn ambiguous_date_column_needs_the_flag() {
        let text = format!("{SF_HEADER}A1,Closed Won,1,01/02/2024,03/04/2024,,\n");
        let err = load(&text, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv: column CreatedDate: every date could be day-first or month-first (e.g. \"01/02/2024\"); pass --date-format dmy or mdy"
        );
        let opts = LoadOptions {
            date_order: Some(parse::DateOrder::Mdy),
            ..LoadOptions::default()
        };
        let deal = &load(&text, &opts).unwrap().deals[0];
        assert_eq!(deal.created.unwrap().to_string(), "2024-01-02");
    }

    #[test]
    fn hubspot_export_month_first() {
        let text = "Record ID,Deal Name,Deal Stage,Amount,Create Date,Close Date,Pipeline\n\
                    11,A,Closed Won,\"$12,000\",01/31/2024 09:15,02/15/2024 10:00,Sales\n\
                    12,B,Contract Sent,,02/01/2024,,Sales\n";
        let file = load(text, &LoadOptions::default()).unwrap();
        assert_eq!(file.layout.name, "hubspot");
        assert_eq!(file.currency.as_deref(), Some("$"));
        let d = &file.deals;
        assert_eq!((d[0].outcome, d[0].amount), (Outcome::Won, Some(12_000.0)));
        assert_eq!(d[0].closed.unwrap().to_string(), "2024-02-15");
        assert_eq!(
            (d[1].outcome, d[1].stage.as_str()),
            (Outcome::Open, "Contract Sent")
        );
    }

    #[test]
    fn mixed_currencies_are_refused() {
        let text = format!("{SF_HEADER}A1,Closed Won,EUR 5,2024-01-01,2024-02-01,,\nA2,Closed Won,USD 5,2024-01-01,2024-02-01,,\n");
        let err = load(&text, &LoadOptions::default()).unwrap_err();
        assert!(err
            .to_string()
            .contains("several currencies (EUR 1, USD 1)"));
    }

    #[test]
    fn missing_segment_column_names_the_columns() {
        let text = format!("{SF_HEADER}A1,Closed Won,5,2024-01-01,2024-02-01,,\n");
        let opts = LoadOptions {
            segment_by: Some("Region".into()),
            ..LoadOptions::default()
        };
        let err = load(&text, &opts).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("d.csv: no column \"Region\" to take segments from"));
    }
}
