//! Sample data from CSV: a header row naming the columns, one sample per line.
//!
//! Columns are matched to the model's features by name (any order; extra columns are kept
//! aside). Optional columns: `label` (the true class), `float_score` and `float_decision` (the
//! float model's outputs as computed by the exporter, for `model check`).

use std::path::{Path, PathBuf};

/// Why a data file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read (the cause is printed here, not chained, so it
    /// appears once).
    #[error("cannot read data file {file}: {error}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The CSV/I/O error.
        error: csv::Error,
    },
    /// A row does not have the header's number of cells.
    #[error("{file}: line {line}: {found} cells, but the header has {expected}")]
    RowLength {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Cells in the row.
        found: u64,
        /// Cells in the header.
        expected: u64,
    },
    /// A feature the model needs has no column.
    #[error("{file}: no column named {feature:?} (the model's feature {index}); columns are {columns:?}")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// Feature name.
        feature: String,
        /// Feature index in the model.
        index: usize,
        /// Header of the file.
        columns: Vec<String>,
    },
    /// A cell is not a finite number.
    #[error("{file}: line {line}, column {column:?}: expected a finite number, found {found:?}")]
    BadValue {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        found: String,
    },
    /// The file has a header but no rows.
    #[error("{file}: no data rows")]
    Empty {
        /// The file.
        file: PathBuf,
    },
}

/// Samples in the model's feature order, with the optional reference columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// One row per sample, features in the model's order.
    pub rows: Vec<Vec<f64>>,
    /// True labels, when the file has a `label` column.
    pub labels: Option<Vec<f64>>,
    /// The float model's scores, when the file has `float_score`.
    pub float_scores: Option<Vec<f64>>,
    /// The float model's decisions, when the file has `float_decision`.
    pub float_decisions: Option<Vec<bool>>,
}

/// Reads `path`, selecting `features` by name.
pub fn load_csv(path: &Path, features: &[String]) -> Result<Dataset, DataError> {
    let io = |error| DataError::Io { file: path.to_path_buf(), error };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_path(path).map_err(io)?;
    let header: Vec<String> = reader.headers().map_err(io)?.iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let feature_cols = features
        .iter()
        .enumerate()
        .map(|(index, f)| {
            col(f).ok_or_else(|| DataError::MissingColumn {
                file: path.to_path_buf(),
                feature: f.clone(),
                index,
                columns: header.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (label_col, score_col, decision_col) = (col("label"), col("float_score"), col("float_decision"));
    let mut data = Dataset {
        labels: label_col.map(|_| vec![]),
        float_scores: score_col.map(|_| vec![]),
        float_decisions: decision_col.map(|_| vec![]),
        ..Default::default()
    };
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths { pos, expected_len, len } => DataError::RowLength {
                file: path.to_path_buf(),
                line: pos.as_ref().map_or(0, |p| p.line()),
                found: *len,
                expected: *expected_len,
            },
            _ => io(e),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |c: usize| -> Result<f64, DataError> {
            let text = record.get(c).unwrap_or("");
            text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| DataError::BadValue {
                file: path.to_path_buf(),
                line,
                column: header[c].clone(),
                found: text.to_string(),
            })
        };
        data.rows.push(feature_cols.iter().map(|&c| cell(c)).collect::<Result<_, _>>()?);
        if let (Some(c), Some(v)) = (label_col, data.labels.as_mut()) {
            v.push(cell(c)?);
        }
        if let (Some(c), Some(v)) = (score_col, data.float_scores.as_mut()) {
            v.push(cell(c)?);
        }
        if let (Some(c), Some(v)) = (decision_col, data.float_decisions.as_mut()) {
            v.push(cell(c)? != 0.0);
        }
    }
    if data.rows.is_empty() {
        return Err(DataError::Empty { file: path.to_path_buf() });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Dataset, DataError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        load_csv(&path, &["a".to_string(), "b".to_string()])
    }

    #[test]
    fn errors_name_the_line_of_the_file() {
        // Line 1 is the header, line 2 the first row: the bad cell is on line 3.
        let err = load("a,b\n1,2\n3,x\n").unwrap_err().to_string();
        assert!(err.contains("line 3, column \"b\""), "{err}");
        let err = load("a,b\n1,2\n3,NaN\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        // A short row: its line, once.
        let err = load("a,b\n1,2\n1,2\n3\n").unwrap_err();
        let text = format!("{:#}", anyhow::Error::new(err));
        assert!(text.contains("line 4"), "{text}");
        assert_eq!(text.matches("cells").count(), 1, "the message once: {text}");
    }
}
