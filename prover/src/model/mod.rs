//! Model files: the schema ([`mod@format`]), loading with precise errors, validation, and float
//! inference (the reference the quantized model is measured against).

pub mod error;
pub mod float;
pub mod format;
pub mod trees;
pub mod validate;

use std::path::{Path, PathBuf};

pub use error::{ModelError, Problem};
pub use format::{Activation, DecisionRule, DenseLayer, Link, ModelBody, ModelFile, Standardization};
pub use trees::{NodeKind, SplitRule, Tree, TreeKind, TreeNode};

/// Parses and validates a model from JSON text. `origin` names the source in errors.
///
/// Parsing goes through a `serde_json::Value` so that errors inside the family-tagged `model`
/// object keep their field path (serde's internally tagged enums would lose it).
pub fn parse_model(json: &str, origin: impl Into<PathBuf>) -> Result<ModelFile, ModelError> {
    let origin = origin.into();
    let parse_err = |path: String, message: String| ModelError::Parse { file: origin.clone(), path, message };
    let value = crate::strict_json::parse(json).map_err(|e| parse_err(e.path, e.message))?;
    if value.get("format").and_then(|f| f.as_str()) == Some(crate::artifact::QUANTIZED_FORMAT) {
        return Err(parse_err(
            "format".into(),
            format!(
                "this is a quantized model ({:?}, written by `zkguard model import`), not a float model file: \
                 pass the float model it was imported from (its sha256 is the file's `source_sha256`)",
                crate::artifact::QUANTIZED_FORMAT
            ),
        ));
    }
    let raw: format::RawModelFile =
        serde_path_to_error::deserialize(value).map_err(|e| parse_err(e.path().to_string(), e.inner().to_string()))?;
    let model = format::parse_body(raw.model).map_err(|(path, message)| parse_err(path, message))?;
    let model = ModelFile {
        format: raw.format,
        version: raw.version,
        name: raw.name,
        features: raw.features,
        preprocessing: raw.preprocessing,
        model,
        decision: raw.decision,
        quantization: raw.quantization,
        source: raw.source,
    };
    validate::validate(&model).map_err(|p| p.in_file(origin))?;
    Ok(model)
}

/// Reads, parses and validates a model file.
pub fn load_model(path: &Path) -> Result<ModelFile, ModelError> {
    let json = std::fs::read_to_string(path).map_err(|source| ModelError::Io { file: path.to_path_buf(), source })?;
    parse_model(&json, path)
}
