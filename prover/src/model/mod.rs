//! Model files: the schema ([`format`]), loading with precise errors, validation, and float
//! inference (the reference the quantized model is measured against).

pub mod error;
pub mod float;
pub mod format;
pub mod validate;

use std::path::{Path, PathBuf};

pub use error::{ModelError, Problem};
pub use format::{Activation, DecisionRule, DenseLayer, Link, ModelBody, ModelFile, Standardization};

/// Parses and validates a model from JSON text. `origin` names the source in errors.
pub fn parse_model(json: &str, origin: impl Into<PathBuf>) -> Result<ModelFile, ModelError> {
    let origin = origin.into();
    let de = &mut serde_json::Deserializer::from_str(json);
    let model: ModelFile = serde_path_to_error::deserialize(de).map_err(|e| ModelError::Parse {
        file: origin.clone(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    validate::validate(&model).map_err(|p| p.in_file(origin))?;
    Ok(model)
}

/// Reads, parses and validates a model file.
pub fn load_model(path: &Path) -> Result<ModelFile, ModelError> {
    let json = std::fs::read_to_string(path).map_err(|source| ModelError::Io { file: path.to_path_buf(), source })?;
    parse_model(&json, path)
}
