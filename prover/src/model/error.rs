//! Errors of model loading and validation: each names the file, the field path and what was
//! expected versus found.

use std::path::PathBuf;

/// Why a model file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("cannot read model file {file}: {source}")]
    Io {
        /// The model file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON is malformed or does not match the schema (missing field, wrong type, NaN...).
    #[error("{file}: at `{path}`: {message}")]
    Parse {
        /// The model file (or `<memory>`).
        file: PathBuf,
        /// Field path, e.g. `model.layers[1].bias[3]`.
        path: String,
        /// What serde reported, including line and column.
        message: String,
    },
    /// The JSON parsed, but a value is not acceptable.
    #[error("{file}: at `{path}`: expected {expected}, found {found}")]
    Invalid {
        /// The model file (or `<memory>`).
        file: PathBuf,
        /// Field path, e.g. `model.weights`.
        path: String,
        /// What the schema requires.
        expected: String,
        /// What the file holds.
        found: String,
    },
}

/// One validation problem before a file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Field path.
    pub path: String,
    /// What the schema requires.
    pub expected: String,
    /// What the file holds.
    pub found: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Self { path: path.into(), expected: expected.into(), found: found.into() }
    }

    /// Attaches the file name.
    pub fn in_file(self, file: impl Into<PathBuf>) -> ModelError {
        ModelError::Invalid { file: file.into(), path: self.path, expected: self.expected, found: self.found }
    }
}
