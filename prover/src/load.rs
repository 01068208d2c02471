//! Loading the model to prove from a file: a quantized model file (`zkguard model import`'s
//! output) as is, or a float model file quantized with a calibration CSV. One entry point for
//! the CLI and for services (the relayer), so both apply the same rules and errors.

use std::path::{Path, PathBuf};

use crate::artifact::{self, ArtifactError, QuantizedFile, QUANTIZED_FORMAT};
use crate::data::{self, DataError};
use crate::model::{self, ModelError};
use crate::quant::{self, QuantError, QuantizedModel};

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A malformed quantized model file.
    #[error(transparent)]
    Quantized(#[from] ArtifactError),
    /// A malformed float model file.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A float model without calibration data.
    #[error("{0} is a float model: give a calibration CSV to choose its fixed-point scale (or run `zkguard model import` first)")]
    NoCalibration(PathBuf),
    /// Unreadable calibration data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// No fixed-point scale fits the model and data.
    #[error(transparent)]
    Quantize(#[from] QuantError),
}

/// Loads a quantized model file, or quantizes a float model file with `calibration`.
pub fn load_quantized(path: &Path, calibration: Option<&Path>) -> Result<QuantizedModel, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_path_buf(), source })?;
    let format = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_string));
    if format.as_deref() == Some(QUANTIZED_FORMAT) {
        let file: QuantizedFile = artifact::read_json(path)?;
        return Ok(file.model);
    }
    let float = model::parse_model(&text, path)?;
    let calibration = calibration.ok_or_else(|| LoadError::NoCalibration(path.to_path_buf()))?;
    let data = data::load_csv(calibration, &float.features)?;
    Ok(quant::calibrate(&float, &data.rows, quant::DEFAULT_HEADROOM_BITS)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn float_models_need_calibration_and_quantized_files_load_as_they_are() {
        let float = root().join("models/breast_cancer_decision_tree.json");
        let err = load_quantized(&float, None).unwrap_err();
        assert!(matches!(err, LoadError::NoCalibration(_)), "{err}");
        let csv = root().join("data/breast_cancer_decision_tree.csv");
        let model = load_quantized(&float, Some(&csv)).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let quantized = dir.path().join("q.json");
        artifact::write_json(&quantized, &QuantizedFile::new(model.clone(), "0".repeat(64))).unwrap();
        assert_eq!(load_quantized(&quantized, None).unwrap(), model);

        let err = load_quantized(&dir.path().join("missing.json"), None).unwrap_err();
        assert!(err.to_string().contains("missing.json"), "{err}");
    }
}
