//! Stage history: one row per stage change, as Salesforce's opportunity
//! history export gives it, and the path each deal took through the
//! funnel.
//!
//! A deal is credited with every stage up to the furthest one it ever
//! reached: going back to an earlier stage does not make it enter the
//! later ones twice, and a skipped stage counts as passed (the model
//! pushes every win through every stage). Both are counted and reported.

use super::csvread::Table;
use super::layout::Funnel;
use super::load::{self, LoadError, LoadOptions, Source};
use super::Date;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// One stage change.
#[derive(Clone, Debug, PartialEq)]
pub struct StageChange {
    /// Line in the history file.
    pub line: u64,
    /// The deal's id.
    pub id: String,
    /// When the deal entered the stage.
    pub date: Date,
    /// The stage entered.
    pub stage: String,
    /// The stage's rank in the CRM (Salesforce `SortOrder`), if given.
    pub order: Option<i64>,
}

/// A history file read into stage changes.
#[derive(Clone, Debug)]
pub struct HistoryFile {
    /// Rows read, used and set aside.
    pub source: Source,
    /// The changes, in file order.
    pub changes: Vec<StageChange>,
}

const ID: [&str; 5] = [
    "OppID",
    "OpportunityId",
    "Opportunity ID",
    "Opportunity Id",
    "Id",
];
const DATE: [&str; 5] = [
    "CreatedDate",
    "Created Date",
    "ChangeDate",
    "Change Date",
    "Date",
];
const STAGE: [&str; 4] = ["StageName", "Stage", "To Stage", "ToStage"];

fn find(table: &Table, names: &[&str], role: &'static str) -> Result<usize, LoadError> {
    names.iter().find_map(|n| table.column(n)).ok_or_else(|| {
        LoadError::Layout(super::layout::LayoutError::MissingColumn {
            file: table.file.clone(),
            role,
            column: names.join("|"),
            columns: table.headers.join(","),
        })
    })
}

/// Reads a stage-history file (`OppID,CreatedDate,StageName,SortOrder`
/// or the same roles under common alternative names).
pub fn load_history(file: &Path, opts: &LoadOptions) -> Result<HistoryFile, LoadError> {
    history_from_table(Table::read(file)?, opts)
}

/// Reads stage changes from a table already in memory.
pub fn history_from_table(table: Table, opts: &LoadOptions) -> Result<HistoryFile, LoadError> {
    let id = find(&table, &ID, "deal id")?;
    let date = find(&table, &DATE, "change date")?;
    let stage = find(&table, &STAGE, "stage")?;
    let order_col = table.column("SortOrder");
    let mut source = Source::new(&table, "stage history");
    let order = load::date_order(&table, date, opts, &mut source)?;
    let mut changes = Vec::new();
    for row in &table.rows {
        let f = &row.fields;
        let (line, col) = (row.line, &table.headers[date]);
        if f[id].is_empty() || f[stage].is_empty() {
            source.reject(line, "", "", "blank id or stage".into());
            continue;
        }
        let Ok(day) = load::date_field(&f[date], order, line, col, &mut source) else {
            continue;
        };
        let Some(day) = day else {
            source.reject(line, col, "", "blank date".into());
            continue;
        };
        changes.push(StageChange {
            line,
            id: f[id].clone(),
            date: day,
            stage: f[stage].clone(),
            order: order_col.and_then(|c| f[c].parse().ok()),
        });
    }
    if changes.is_empty() {
        return Err(super::deals::no_rows(&source));
    }
    Ok(HistoryFile { source, changes })
}

/// Open stages in the order the history's `SortOrder` gives them (lowest
/// rank each stage was seen with), or `None` when it has no ranks.
pub fn stage_order(changes: &[StageChange], funnel: &Funnel) -> Option<Vec<String>> {
    let mut rank: BTreeMap<String, i64> = BTreeMap::new();
    for c in changes {
        let open = !funnel.is_won(&c.stage) && !funnel.is_lost(&c.stage);
        if let (true, Some(o)) = (open, c.order) {
            let r = rank.entry(c.stage.clone()).or_insert(o);
            *r = (*r).min(o);
        }
    }
    if rank.is_empty() {
        return None;
    }
    let mut stages: Vec<(i64, String)> = rank.into_iter().map(|(s, o)| (o, s)).collect();
    stages.sort();
    Some(stages.into_iter().map(|(_, s)| s).collect())
}

/// What one deal's history says, up to a date.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DealPath {
    /// Furthest open stage reached (index into the funnel's stages).
    pub furthest: Option<usize>,
    /// The name of that stage.
    pub furthest_name: Option<String>,
    /// The last stage entered (as written).
    pub last: Option<String>,
    /// Moves to an earlier open stage.
    pub backwards: usize,
    /// Rows that repeat the stage the deal was already in.
    pub repeats: usize,
    /// Open stages jumped over on the way to the furthest one (or to a
    /// close), by index.
    pub skipped: Vec<usize>,
}

/// The paths of all deals, from changes dated on or before `as_of`.
/// Stages not in `stages` (and not won or lost) are ignored and returned
/// with their count.
pub fn paths(
    changes: &[StageChange],
    funnel: &Funnel,
    as_of: Date,
) -> (HashMap<String, DealPath>, BTreeMap<String, usize>) {
    let mut by_deal: HashMap<&str, Vec<&StageChange>> = HashMap::new();
    for c in changes.iter().filter(|c| c.date <= as_of) {
        by_deal.entry(&c.id).or_default().push(c);
    }
    let mut unknown = BTreeMap::new();
    let mut out = HashMap::new();
    for (id, mut rows) in by_deal {
        rows.sort_by_key(|c| (c.date, c.line));
        out.insert(id.to_string(), walk(&rows, funnel, &mut unknown));
    }
    (out, unknown)
}

fn walk(rows: &[&StageChange], funnel: &Funnel, unknown: &mut BTreeMap<String, usize>) -> DealPath {
    let mut path = DealPath::default();
    let mut current: Option<usize> = None;
    let mut visited = vec![false; funnel.stages.len()];
    for c in rows {
        if path.last.as_deref() == Some(c.stage.as_str()) {
            path.repeats += 1;
        }
        path.last = Some(c.stage.clone());
        if funnel.is_won(&c.stage) || funnel.is_lost(&c.stage) {
            continue;
        }
        let Some(rank) = funnel.rank(&c.stage) else {
            *unknown.entry(c.stage.clone()).or_default() += 1;
            continue;
        };
        if current.is_some_and(|cur| rank < cur) {
            path.backwards += 1;
        }
        visited[rank] = true;
        current = Some(rank);
        path.furthest = path.furthest.max(Some(rank));
    }
    path.furthest_name = path.furthest.map(|i| funnel.stages[i].clone());
    // Stages below the furthest (or all, for a deal that was won) that
    // the deal never entered.
    let won = path.last.as_deref().is_some_and(|s| funnel.is_won(s));
    let top = if won {
        Some(funnel.stages.len())
    } else {
        path.furthest
    };
    if let Some(top) = top {
        let first = visited.iter().position(|v| *v).unwrap_or(top);
        path.skipped = (first..top).filter(|&i| !visited[i]).collect();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn funnel() -> Funnel {
        Funnel {
            stages: ["A", "B", "C"].map(String::from).to_vec(),
            won: "Won".into(),
            lost: vec!["Lost".into()],
            created_stage: None,
        }
    }

    fn history(text: &str) -> HistoryFile {
        let t = Table::from_bytes(Path::new("h.csv"), text.as_bytes()).unwrap();
        history_from_table(t, &LoadOptions::default()).unwrap()
    }

    #[test]
    fn backwards_repeats_and_skips() {
        let h = history(
            "\u{feff}OppID,CreatedDate,StageName,SortOrder\n\
             x,2024-01-01,A,1\nx,2024-01-02,A,1\nx,2024-01-03,C,3\n\
             x,2024-01-04,B,2\nx,2024-01-09,Won,9\n\
             y,2024-01-01,A,1\ny,2024-01-05,Lost,10\n\
             z,2024-01-01,A,1\nz,,B,2\nz,2024-02-01,Zed,5\n",
        );
        assert_eq!(h.source.set_aside.len(), 1);
        assert_eq!(h.source.set_aside[0].line, 10);
        let as_of = Date::parse_iso("2024-01-31").unwrap();
        let (paths, unknown) = paths(&h.changes, &funnel(), as_of);
        let x = &paths["x"];
        assert_eq!((x.furthest, x.backwards, x.repeats), (Some(2), 1, 1));
        assert!(x.skipped.is_empty(), "B was entered on the way back");
        let y = &paths["y"];
        assert_eq!((y.furthest, y.last.as_deref()), (Some(0), Some("Lost")));
        assert!(unknown.is_empty(), "Zed is after the as-of date");
        let order = stage_order(&h.changes, &funnel()).unwrap();
        assert_eq!(order, ["A", "B", "C", "Zed"]);
    }

    #[test]
    fn skipped_stages_of_a_win() {
        let h = history("OppID,CreatedDate,StageName\nw,2024-01-01,A\nw,2024-01-02,Won\n");
        let as_of = Date::parse_iso("2024-12-31").unwrap();
        let (paths, _) = paths(&h.changes, &funnel(), as_of);
        assert_eq!(paths["w"].skipped, [1, 2]);
        assert_eq!(stage_order(&h.changes, &funnel()), None);
    }
}
