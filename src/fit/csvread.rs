//! Reading CSV exports as they come out of CRMs and spreadsheets.
//!
//! The whole file is read into memory (exports are thousands of rows, not
//! millions), a UTF-8 byte-order mark is dropped, quoted fields and CRLF
//! line ends are handled by the `csv` crate, and every row that cannot be
//! read is kept as a [`RowIssue`] with its line number instead of being
//! dropped silently.

use std::fmt;
use std::path::{Path, PathBuf};

/// A row that was read but not used, and why.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RowIssue {
    /// 1-based line in the file where the row starts.
    pub line: u64,
    /// The column the problem is in, when there is one.
    pub column: Option<String>,
    /// The offending text, when there is one.
    pub value: Option<String>,
    /// What is wrong and, where it helps, what would be valid.
    pub reason: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value {value:?}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A file that could not be read as CSV at all.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no header row.
    #[error("{file}: empty file, expected a header row")]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// The header row is not valid UTF-8 or not valid CSV.
    #[error("{file}: line 1: unreadable header: {reason}")]
    Header {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// One data row: its line number and its fields, trimmed of spaces.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// 1-based line in the file where the row starts.
    pub line: u64,
    /// The fields, one per header column.
    pub fields: Vec<String>,
}

/// A CSV file read into memory: its header, its good rows, its bad rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file it came from.
    pub file: PathBuf,
    /// Column names, trimmed.
    pub headers: Vec<String>,
    /// Rows with as many fields as the header.
    pub rows: Vec<Row>,
    /// Rows that could not be read (bad UTF-8, wrong field count).
    pub unreadable: Vec<RowIssue>,
}

impl Table {
    /// Reads a CSV file.
    pub fn read(file: &Path) -> Result<Table, CsvError> {
        let bytes = std::fs::read(file).map_err(|source| CsvError::Io {
            file: file.to_path_buf(),
            source,
        })?;
        Table::from_bytes(file, &bytes)
    }

    /// Reads CSV text already in memory; `file` is only used in messages.
    ///
    /// ```
    /// use revpipe::fit::csvread::Table;
    /// let text = b"\xEF\xBB\xBFid,amount\r\n1,\"1,200\"\r\n2\r\n";
    /// let table = Table::from_bytes("x.csv".as_ref(), text).unwrap();
    /// assert_eq!(table.headers, ["id", "amount"]);
    /// assert_eq!(table.rows[0].fields, ["1", "1,200"]);
    /// assert_eq!(table.unreadable[0].line, 3);
    /// ```
    pub fn from_bytes(file: &Path, bytes: &[u8]) -> Result<Table, CsvError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut records = reader.byte_records();
        let header = match records.next() {
            None => {
                return Err(CsvError::Empty {
                    file: file.to_path_buf(),
                })
            }
            Some(header) => header_fields(file, header)?,
        };
        // The csv crate's own line count skips blank lines and newlines
        // inside quotes, so lines are counted here from byte offsets.
        let newlines: Vec<u64> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i as u64)
            .collect();
        let mut table = Table {
            file: file.to_path_buf(),
            headers: header,
            rows: Vec::new(),
            unreadable: Vec::new(),
        };
        for record in records {
            table.push(record, bytes, &newlines);
        }
        Ok(table)
    }

    /// The index of a column, compared without case or spaces around it.
    pub fn column(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    fn push(&mut self, record: csv::Result<csv::ByteRecord>, bytes: &[u8], newlines: &[u64]) {
        // A record's position is where the reader started looking for it,
        // which is before any blank lines it skipped.
        let line_of = |pos: Option<&csv::Position>| {
            let Some(pos) = pos else { return 0 };
            let mut start = pos.byte() as usize;
            while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
                start += 1;
            }
            newlines.partition_point(|&n| n < start as u64) as u64 + 1
        };
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = line_of(err.position());
                self.unreadable.push(issue(line, err.to_string()));
                return;
            }
        };
        let line = line_of(record.position());
        if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
            return; // a blank line carries no row
        }
        if record.len() != self.headers.len() {
            let reason = format!(
                "{} fields, the header has {}",
                record.len(),
                self.headers.len()
            );
            self.unreadable.push(issue(line, reason));
            return;
        }
        match decode(&record) {
            Ok(fields) => self.rows.push(Row { line, fields }),
            Err(col) => {
                let reason = "not valid UTF-8 text; re-export as UTF-8".into();
                let mut row = issue(line, reason);
                row.column = Some(self.headers[col].clone());
                self.unreadable.push(row);
            }
        }
    }
}

fn issue(line: u64, reason: String) -> RowIssue {
    RowIssue {
        line,
        column: None,
        value: None,
        reason,
    }
}

fn header_fields(
    file: &Path,
    header: csv::Result<csv::ByteRecord>,
) -> Result<Vec<String>, CsvError> {
    let bad = |reason: String| CsvError::Header {
        file: file.to_path_buf(),
        reason,
    };
    let record = header.map_err(|e| bad(e.to_string()))?;
    decode(&record).map_err(|col| bad(format!("column {} is not UTF-8", col + 1)))
}

// The fields as trimmed strings, or the index of the first non-UTF-8 one.
fn decode(record: &csv::ByteRecord) -> Result<Vec<String>, usize> {
    record
        .iter()
        .enumerate()
        .map(|(i, field)| {
            std::str::from_utf8(field)
                .map(|s| s.trim().to_string())
                .map_err(|_| i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &[u8]) -> Table {
        Table::from_bytes(Path::new("t.csv"), text).unwrap()
    }

    #[test]
    fn bom_crlf_and_quotes() {
        let t =
            table(b"\xEF\xBB\xBFId,Name\r\n1,\"a, \"\"b\"\"\"\r\n2,\"two\r\nlines\"\r\n3,c\r\n");
        assert_eq!(t.headers, ["Id", "Name"]);
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0].fields[1], "a, \"b\"");
        assert_eq!(t.rows[1].fields[1], "two\r\nlines");
        assert_eq!(t.rows[2].line, 5);
        assert_eq!(t.column("name"), Some(1));
    }

    #[test]
    fn short_long_and_non_utf8_rows_are_reported_with_lines() {
        let t = table(b"a,b\n1,2\n3\n4,5,6\n\xFF,7\n\n8,9\n");
        let lines: Vec<u64> = t.unreadable.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert_eq!(t.unreadable[0].reason, "1 fields, the header has 2");
        assert_eq!(t.unreadable[2].column.as_deref(), Some("a"));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].line, 7);
    }

    #[test]
    fn empty_file_is_an_error() {
        let err = Table::from_bytes(Path::new("e.csv"), b"").unwrap_err();
        assert_eq!(err.to_string(), "e.csv: empty file, expected a header row");
    }
}
