//! Which column holds what, and the order of the stages.
//!
//! Three exports are recognised from their header alone: Salesforce
//! opportunities, HubSpot deals and the Maven CRM `sales_pipeline.csv`.
//! Anything else is described by a [`LayoutSpec`] (command-line flags or
//! a small JSON mapping file), which can also override single columns of
//! a recognised layout.

use std::path::PathBuf;

/// Column names and stage names that describe an opportunity export.
/// Every field is optional so that a spec can override part of a
/// recognised layout.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayoutSpec {
    /// Column with the opportunity id.
    pub id: Option<String>,
    /// Column with the current stage or outcome.
    pub stage: Option<String>,
    /// Column with the amount.
    pub amount: Option<String>,
    /// Column with the date the deal was created (or entered the funnel).
    pub created: Option<String>,
    /// Column with the date the deal was won or lost.
    pub closed: Option<String>,
    /// Open stages in funnel order, first to last.
    pub stages: Option<Vec<String>>,
    /// Stage value that means won.
    pub won: Option<String>,
    /// Stage values that mean lost.
    pub lost: Option<Vec<String>>,
    /// The open stage a deal is in on its created date (default: the
    /// first).
    pub created_stage: Option<String>,
}

/// A complete description of an export, after recognition and overrides.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Layout {
    /// `salesforce`, `hubspot`, `maven`, or `custom`.
    pub name: String,
    /// Column with the id.
    pub id: String,
    /// Column with the stage.
    pub stage: String,
    /// Column with the amount.
    pub amount: String,
    /// Column with the created date.
    pub created: String,
    /// Column with the close date.
    pub closed: String,
    /// Salesforce-style flags, used only to count disagreements.
    pub is_won: Option<String>,
    /// See `is_won`.
    pub is_closed: Option<String>,
    /// The stages.
    pub funnel: Funnel,
    /// True when the stage list is the layout's built-in default (not
    /// given by the user), so stages no deal uses may be dropped.
    pub default_stages: bool,
}

/// The ordered open stages and the names of the two outcomes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Funnel {
    /// Open stages, first to last. May list stages no deal is in.
    pub stages: Vec<String>,
    /// Stage value meaning won; also the last stage of the scenario.
    pub won: String,
    /// Stage values meaning lost.
    pub lost: Vec<String>,
    /// The open stage a deal is in on its created date.
    pub created_stage: Option<String>,
}

impl Funnel {
    /// Position of an open stage, compared without case.
    pub fn rank(&self, stage: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.eq_ignore_ascii_case(stage))
    }

    /// True when `stage` is the won stage.
    pub fn is_won(&self, stage: &str) -> bool {
        self.won.eq_ignore_ascii_case(stage)
    }

    /// True when `stage` is one of the lost stages.
    pub fn is_lost(&self, stage: &str) -> bool {
        self.lost.iter().any(|l| l.eq_ignore_ascii_case(stage))
    }
}

/// Why the columns of an export cannot be mapped.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The header matches no known export and no mapping was given.
    #[error("{file}: unknown export layout (columns: {columns}); map the columns with --col id=...,stage=...,amount=...,created=...,closed=... or --mapping FILE")]
    Unknown {
        /// The file.
        file: PathBuf,
        /// Its header, comma-separated.
        columns: String,
    },
    /// A mapped column is not in the header.
    #[error("{file}: no column {column:?} for the {role} (columns: {columns})")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// What the column was meant to hold.
        role: &'static str,
        /// The name that was looked for.
        column: String,
        /// The header, comma-separated.
        columns: String,
    },
    /// A mapping file could not be read.
    #[error("{file}: mapping file: {reason}")]
    Mapping {
        /// The mapping file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A date column whose day/month order cannot be decided.
    #[error("{file}: column {column}: {source}")]
    DateColumn {
        /// The file.
        file: PathBuf,
        /// The column.
        column: String,
        /// Why.
        source: super::parse::DateColumnError,
    },
    /// An amount column written with the other decimal mark.
    #[error("{file}: line {line}: column {column}: value {value:?} {source}")]
    DecimalMark {
        /// The file.
        file: PathBuf,
        /// First line that shows it.
        line: u64,
        /// The column.
        column: String,
        /// The value.
        value: String,
        /// Why.
        source: super::parse::AmountError,
    },
    /// Amounts in more than one currency.
    #[error("{file}: column {column}: amounts in several currencies ({found}); revpipe does not convert currencies, export one currency")]
    MixedCurrency {
        /// The file.
        file: PathBuf,
        /// The column.
        column: String,
        /// The currencies with their counts.
        found: String,
    },
}

impl LayoutSpec {
    /// Reads a JSON mapping file.
    pub fn from_file(file: &std::path::Path) -> Result<LayoutSpec, LayoutError> {
        let bad = |reason: String| LayoutError::Mapping {
            file: file.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    }

    /// Sets one column from a `role=COLUMN` flag value.
    ///
    /// ```
    /// use revpipe::fit::LayoutSpec;
    /// let mut spec = LayoutSpec::default();
    /// spec.set("amount=Deal Value").unwrap();
    /// assert_eq!(spec.amount.as_deref(), Some("Deal Value"));
    /// assert!(spec.set("colour=red").is_err());
    /// ```
    pub fn set(&mut self, pair: &str) -> Result<(), String> {
        let (role, column) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?}: expected ROLE=COLUMN"))?;
        let column = Some(column.trim().to_string());
        match role.trim() {
            "id" => self.id = column,
            "stage" => self.stage = column,
            "amount" => self.amount = column,
            "created" => self.created = column,
            "closed" => self.closed = column,
            other => {
                return Err(format!(
                    "{other:?}: unknown role (valid: id, stage, amount, created, closed)"
                ))
            }
        }
        Ok(())
    }
}

fn has(headers: &[String], name: &str) -> bool {
    headers.iter().any(|h| h.eq_ignore_ascii_case(name))
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn salesforce() -> Layout {
    // Salesforce's standard sales process, in its order.
    let stages = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Id. Decision Makers",
        "Perception Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
    ];
    Layout {
        name: "salesforce".into(),
        id: "Id".into(),
        stage: "StageName".into(),
        amount: "Amount".into(),
        created: "CreatedDate".into(),
        closed: "CloseDate".into(),
        is_won: Some("IsWon".into()),
        is_closed: Some("IsClosed".into()),
        default_stages: true,
        funnel: Funnel {
            stages: strings(&stages),
            won: "Closed Won".into(),
            lost: strings(&["Closed Lost"]),
            created_stage: None,
        },
    }
}

fn hubspot(id: &str) -> Layout {
    // HubSpot's default sales pipeline, in its order.
    let stages = [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Presentation Scheduled",
        "Decision Maker Bought-In",
        "Contract Sent",
    ];
    Layout {
        name: "hubspot".into(),
        id: id.into(),
        stage: "Deal Stage".into(),
        amount: "Amount".into(),
        created: "Create Date".into(),
        closed: "Close Date".into(),
        is_won: None,
        is_closed: None,
        default_stages: true,
        funnel: Funnel {
            stages: strings(&stages),
            won: "Closed Won".into(),
            lost: strings(&["Closed Lost"]),
            created_stage: None,
        },
    }
}

fn maven() -> Layout {
    // engage_date is when a deal entered Engaging; Prospecting deals have
    // none, so the created date belongs to the second stage.
    Layout {
        name: "maven".into(),
        id: "opportunity_id".into(),
        stage: "deal_stage".into(),
        amount: "close_value".into(),
        created: "engage_date".into(),
        closed: "close_date".into(),
        is_won: None,
        is_closed: None,
        default_stages: true,
        funnel: Funnel {
            stages: strings(&["Prospecting", "Engaging"]),
            won: "Won".into(),
            lost: strings(&["Lost"]),
            created_stage: Some("Engaging".into()),
        },
    }
}

fn custom() -> Layout {
    Layout {
        name: "custom".into(),
        id: String::new(),
        stage: String::new(),
        amount: String::new(),
        created: String::new(),
        closed: String::new(),
        is_won: None,
        is_closed: None,
        default_stages: true,
        funnel: Funnel {
            stages: Vec::new(),
            won: "Won".into(),
            lost: strings(&["Lost"]),
            created_stage: None,
        },
    }
}

/// Recognises a known export from its header.
///
/// ```
/// use revpipe::fit::layout::recognise;
/// let header: Vec<String> = ["opportunity_id", "sales_agent", "product",
///     "account", "deal_stage", "engage_date", "close_date", "close_value"]
///     .iter().map(|s| s.to_string()).collect();
/// assert_eq!(recognise(&header).unwrap().name, "maven");
/// assert!(recognise(&["a".to_string()]).is_none());
/// ```
pub fn recognise(headers: &[String]) -> Option<Layout> {
    let all = |names: &[&str]| names.iter().all(|n| has(headers, n));
    if all(&["Id", "StageName", "Amount", "CreatedDate", "CloseDate"]) {
        return Some(salesforce());
    }
    if all(&["Deal Stage", "Amount", "Create Date", "Close Date"]) {
        let id = ["Record ID", "Deal ID", "Deal Id"]
            .into_iter()
            .find(|n| has(headers, n))?;
        return Some(hubspot(id));
    }
    let maven_cols = ["opportunity_id", "deal_stage", "engage_date", "close_date"];
    if all(&maven_cols) && has(headers, "close_value") {
        return Some(maven());
    }
    None
}

/// The layout of a file: the recognised one with `spec` laid over it,
/// or `spec` alone. Every column it names must be in the header.
pub fn resolve(
    file: &std::path::Path,
    headers: &[String],
    spec: &LayoutSpec,
) -> Result<Layout, LayoutError> {
    let spec_names_all = spec.id.is_some()
        && spec.stage.is_some()
        && spec.amount.is_some()
        && spec.created.is_some()
        && spec.closed.is_some();
    let mut layout = match recognise(headers) {
        Some(layout) => layout,
        None if spec_names_all => custom(),
        None => {
            return Err(LayoutError::Unknown {
                file: file.to_path_buf(),
                columns: headers.join(","),
            })
        }
    };
    overlay(&mut layout, spec);
    check_columns(file, headers, &layout)?;
    Ok(layout)
}

fn overlay(layout: &mut Layout, spec: &LayoutSpec) {
    let set = |dst: &mut String, src: &Option<String>| {
        if let Some(s) = src {
            *dst = s.clone();
        }
    };
    set(&mut layout.id, &spec.id);
    set(&mut layout.stage, &spec.stage);
    set(&mut layout.amount, &spec.amount);
    set(&mut layout.created, &spec.created);
    set(&mut layout.closed, &spec.closed);
    set(&mut layout.funnel.won, &spec.won);
    if let Some(stages) = &spec.stages {
        layout.funnel.stages = stages.clone();
        layout.default_stages = false;
    }
    if let Some(lost) = &spec.lost {
        layout.funnel.lost = lost.clone();
    }
    if spec.created_stage.is_some() {
        layout.funnel.created_stage = spec.created_stage.clone();
    }
}

fn check_columns(
    file: &std::path::Path,
    headers: &[String],
    layout: &Layout,
) -> Result<(), LayoutError> {
    let roles = [
        ("id", &layout.id),
        ("stage", &layout.stage),
        ("amount", &layout.amount),
        ("created date", &layout.created),
        ("close date", &layout.closed),
    ];
    for (role, column) in roles {
        if !has(headers, column) {
            return Err(LayoutError::MissingColumn {
                file: file.to_path_buf(),
                role,
                column: column.clone(),
                columns: headers.join(","),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn header(names: &[&str]) -> Vec<String> {
        strings(names)
    }

    #[test]
    fn recognises_salesforce_and_hubspot() {
        let sf = header(&["CreatedDate", "Id", "Amount", "CloseDate", "StageName"]);
        assert_eq!(recognise(&sf).unwrap().name, "salesforce");
        let hs = header(&[
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Amount",
            "Create Date",
            "Close Date",
        ]);
        let layout = recognise(&hs).unwrap();
        assert_eq!(
            (layout.name.as_str(), layout.id.as_str()),
            ("hubspot", "Record ID")
        );
    }

    #[test]
    fn spec_overrides_and_missing_columns() {
        let h = header(&["Opp", "Stage", "Value", "Opened", "Closed"]);
        let f = Path::new("x.csv");
        let err = resolve(f, &h, &LayoutSpec::default()).unwrap_err();
        assert!(err.to_string().starts_with("x.csv: unknown export layout"));
        let mut spec = LayoutSpec::default();
        for pair in [
            "id=Opp",
            "stage=Stage",
            "amount=Value",
            "created=Opened",
            "closed=Shut",
        ] {
            spec.set(pair).unwrap();
        }
        let err = resolve(f, &h, &spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv: no column \"Shut\" for the close date (columns: Opp,Stage,Value,Opened,Closed)"
        );
        spec.set("closed=Closed").unwrap();
        assert_eq!(resolve(f, &h, &spec).unwrap().amount, "Value");
    }
}
