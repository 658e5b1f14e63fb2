//! Leads: one row per lead with the date it arrived, for the top of the
//! funnel (the Olist marketing-qualified-leads layout, or any file with
//! an id and a date column).

use super::csvread::Table;
use super::load::{self, LoadError, LoadOptions, Source};
use super::Date;
use std::path::Path;

/// One lead.
#[derive(Clone, Debug, PartialEq)]
pub struct Lead {
    /// Line in the lead file.
    pub line: u64,
    /// Its id (matched against deal ids to find which became deals).
    pub id: String,
    /// The day it arrived.
    pub date: Date,
    /// The day it became a deal, when the file says so.
    pub converted: Option<Date>,
    /// Segment value, from the `--segment-by` column when the file has it.
    pub segment: Option<String>,
}

/// A lead file read into leads.
#[derive(Clone, Debug)]
pub struct LeadFile {
    /// Rows read, used and set aside.
    pub source: Source,
    /// The leads.
    pub leads: Vec<Lead>,
}

const ID: [&str; 5] = ["mql_id", "lead_id", "Lead ID", "Id", "Record ID"];
const DATE: [&str; 5] = [
    "first_contact_date",
    "created_date",
    "CreatedDate",
    "Create Date",
    "date",
];
const CONVERTED: [&str; 4] = [
    "ConvertedDate",
    "converted_date",
    "Converted Date",
    "won_date",
];

/// Reads a lead file.
pub fn load_leads(file: &Path, opts: &LoadOptions) -> Result<LeadFile, LoadError> {
    leads_from_table(Table::read(file)?, opts)
}

/// Reads leads from a table already in memory.
pub fn leads_from_table(table: Table, opts: &LoadOptions) -> Result<LeadFile, LoadError> {
    let find = |names: &[&str]| names.iter().find_map(|n| table.column(n));
    let missing = |role, names: &[&str]| {
        LoadError::Layout(super::layout::LayoutError::MissingColumn {
            file: table.file.clone(),
            role,
            column: names.join("|"),
            columns: table.headers.join(","),
        })
    };
    let id = find(&ID).ok_or_else(|| missing("lead id", &ID))?;
    let date = find(&DATE).ok_or_else(|| missing("lead date", &DATE))?;
    let converted = find(&CONVERTED);
    let segment = opts.segment_by.as_deref().and_then(|s| table.column(s));
    let layout = if table.column("mql_id").is_some() {
        "olist leads"
    } else {
        "leads"
    };
    let mut source = Source::new(&table, layout);
    let order = load::date_order(&table, date, opts, &mut source)?;
    let conv_order = match converted {
        Some(c) => Some(load::date_order(&table, c, opts, &mut source)?),
        None => None,
    };
    let mut leads = Vec::new();
    for row in &table.rows {
        let (f, line) = (&row.fields, row.line);
        let name = |c: usize| table.headers[c].clone();
        let Ok(day) = load::date_field(&f[date], order, line, &name(date), &mut source) else {
            continue;
        };
        let Some(day) = day else {
            source.reject(line, &name(date), "", "blank lead date".into());
            continue;
        };
        let conv = match (converted, conv_order) {
            (Some(c), Some(o)) => match load::date_field(&f[c], o, line, &name(c), &mut source) {
                Ok(d) => d,
                Err(()) => continue,
            },
            _ => None,
        };
        if conv.is_some_and(|c| c < day) {
            let reason = "converted before the lead arrived".to_string();
            source.reject(line, &name(converted.unwrap_or(date)), "", reason);
            continue;
        }
        leads.push(Lead {
            line,
            id: f[id].clone(),
            date: day,
            converted: conv,
            segment: segment.map(|s| f[s].clone()).filter(|s| !s.is_empty()),
        });
    }
    if leads.is_empty() {
        return Err(super::deals::no_rows(&source));
    }
    Ok(LeadFile { source, leads })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn olist_layout_and_bad_rows() {
        let text = "mql_id,first_contact_date,landing_page_id,origin\n\
                    a,2018-02-01,p,social\nb,,p,email\nc,2018-13-01,p,\nd,2018-03-01,p,\n";
        let t = Table::from_bytes(Path::new("l.csv"), text.as_bytes()).unwrap();
        let opts = LoadOptions {
            segment_by: Some("origin".into()),
            ..LoadOptions::default()
        };
        let file = leads_from_table(t, &opts).unwrap();
        assert_eq!(file.source.layout, "olist leads");
        assert_eq!(file.leads.len(), 2);
        assert_eq!(file.leads[0].segment.as_deref(), Some("social"));
        assert_eq!(file.leads[1].segment, None);
        let lines: Vec<u64> = file.source.set_aside.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4]);
    }
}
