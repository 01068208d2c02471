//! Model files in the native module: the validator's limits (one source for the Python
//! exporters), validation, quantization (`model import`) and the quantized-vs-float check
//! (`model check`).

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use zkguard_prover::artifact::{fr_to_hex, QuantizedFile};
use zkguard_prover::check::check_model;
use zkguard_prover::circuit::commit::model_commitment;
use zkguard_prover::data::Dataset;
use zkguard_prover::model::format::{FAMILIES, FORMAT_NAME, FORMAT_VERSION};
use zkguard_prover::model::trees::{MAX_TREES, MAX_TREE_DEPTH};
use zkguard_prover::model::validate::{MAX_ABS_PARAM, MAX_FEATURES, MAX_LAYERS, MAX_LAYER_WIDTH, SCALE_BITS};
use zkguard_prover::model::{self, ModelFile};
use zkguard_prover::quant::{self, Family, QuantizedModel};

use crate::errors::{model_error, to_py, InputError};

/// Where a model given as JSON text came from, for error messages.
const ORIGIN: &str = "<model>";

/// The Rust validator's limits and names, as `(key, value)` pairs (see `limits`).
pub fn limit_values() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    vec![
        ("FORMAT_NAME", json!(FORMAT_NAME)),
        ("FORMAT_VERSION", json!(FORMAT_VERSION)),
        ("MAX_FEATURES", json!(MAX_FEATURES)),
        ("MAX_LAYER_WIDTH", json!(MAX_LAYER_WIDTH)),
        ("MAX_LAYERS", json!(MAX_LAYERS)),
        ("MAX_ABS_PARAM", json!(MAX_ABS_PARAM)),
        ("SCALE_BITS_RANGE", json!([SCALE_BITS.start(), SCALE_BITS.end()])),
        ("MAX_TREE_DEPTH", json!(MAX_TREE_DEPTH)),
        ("MAX_TREES", json!(MAX_TREES)),
        ("FAMILIES", json!(FAMILIES)),
    ]
}

/// The limits the Rust validator enforces (`prover/src/model/validate.rs`, `model/trees.rs`,
/// `model/format.rs`), so that the Python exporters read them instead of copying them.
#[pyfunction]
fn limits(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let json = py.import("json")?;
    for (key, value) in limit_values() {
        d.set_item(key, json.call_method1("loads", (value.to_string(),))?)?;
    }
    Ok(d)
}

/// Parses and validates model JSON exactly as `zkguard model import` does.
pub fn parse(py: Python<'_>, json: &str) -> PyResult<ModelFile> {
    model::parse_model(json, ORIGIN).map_err(|e| model_error(py, &e))
}

/// Validates model JSON as the prover does; raises `ModelError` naming the field.
#[pyfunction]
fn validate_model_json(py: Python<'_>, json: &str) -> PyResult<()> {
    parse(py, json).map(|_| ())
}

/// Float inference of a model (the Rust float reference): `(scores, decisions)`.
#[pyfunction]
fn float_scores(py: Python<'_>, json: &str, rows: Vec<Vec<f64>>) -> PyResult<(Vec<f64>, Vec<bool>)> {
    let model = parse(py, json)?;
    check_widths(&model.features, &rows)?;
    let outputs: Vec<_> = rows.iter().map(|r| model::float::infer(&model, r)).collect();
    Ok((outputs.iter().map(|o| o.score).collect(), outputs.iter().map(|o| o.decision).collect()))
}

/// Refuses rows whose width is not the model's feature count, naming the first such row.
pub fn check_widths(features: &[String], rows: &[Vec<f64>]) -> PyResult<()> {
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != features.len()) {
        return Err(InputError::new_err(format!(
            "row {i} has {} features, the model expects {} ({})",
            row.len(),
            features.len(),
            features.join(", ")
        )));
    }
    Ok(())
}

/// A model in fixed point with its Poseidon commitment: what a registry pins.
#[pyclass(name = "QuantizedModel", module = "zkguard", frozen)]
pub struct PyQuantizedModel {
    /// The quantized model.
    pub model: QuantizedModel,
    /// sha256 (hex) of the JSON text it was made from (float or quantized file).
    pub source_sha256: String,
}

#[pymethods]
impl PyQuantizedModel {
    /// The model's name.
    #[getter]
    fn name(&self) -> String {
        self.model.name.clone()
    }
    /// Feature names, in input order.
    #[getter]
    fn features(&self) -> Vec<String> {
        self.model.features.clone()
    }
    /// `linear`, `mlp_autoencoder` or `tree_ensemble`.
    #[getter]
    fn family(&self) -> &'static str {
        match self.model.shape().family {
            Family::Linear => "linear",
            Family::MlpAutoencoder => "mlp_autoencoder",
            Family::TreeEnsemble => "tree_ensemble",
        }
    }
    /// Fractional bits of the fixed-point format.
    #[getter]
    fn scale_bits(&self) -> u32 {
        self.model.fixed.scale_bits
    }
    /// Signed value width the circuit range-checks.
    #[getter]
    fn value_bits(&self) -> u32 {
        self.model.fixed.value_bits
    }
    /// The decision threshold in real units.
    #[getter]
    fn threshold(&self) -> f64 {
        self.model.fixed.to_f64(i128::from(self.model.threshold))
    }
    /// The Poseidon commitment of the quantized model (hex): what a registry pins.
    #[getter]
    fn model_commitment(&self) -> String {
        fr_to_hex(&model_commitment(&self.model.shape(), &self.model.params()))
    }
    /// The `zkguard-quantized` file (as `zkguard model import` writes it), as JSON text.
    fn to_json(&self) -> PyResult<String> {
        let file = QuantizedFile::new(self.model.clone(), self.source_sha256.clone());
        serde_json::to_string_pretty(&file).map_err(|e| to_py::<InputError>(&e))
    }
    /// Quantizes each row (real units) to the circuit's fixed point; refuses a wrong width or
    /// a value out of range, naming the row and the feature.
    fn quantize_rows(&self, rows: Vec<Vec<f64>>) -> PyResult<Vec<Vec<i64>>> {
        quantize_rows(&self.model, &rows)
    }
    fn __repr__(&self) -> String {
        format!(
            "QuantizedModel(name={:?}, family={:?}, features={}, scale_bits={}, commitment={})",
            self.model.name,
            self.family(),
            self.model.features.len(),
            self.model.fixed.scale_bits,
            self.model_commitment()
        )
    }
}

/// Each row quantized, or `InputError` naming the row.
pub fn quantize_rows(model: &QuantizedModel, rows: &[Vec<f64>]) -> PyResult<Vec<Vec<i64>>> {
    check_widths(&model.features, rows)?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            model.quantize_input(row).map_err(|e| InputError::new_err(format!("row {i}: {}", crate::errors::chain(&e))))
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Validates `json` and quantizes it, choosing the scale from `calibration` rows
/// (`zkguard model import`).
#[pyfunction]
fn quantize(py: Python<'_>, json: &str, calibration: Vec<Vec<f64>>) -> PyResult<PyQuantizedModel> {
    let float = parse(py, json)?;
    check_widths(&float.features, &calibration)?;
    if calibration.is_empty() {
        return Err(InputError::new_err(
            "no calibration rows: pass a few samples to choose the fixed-point scale from",
        ));
    }
    let model =
        quant::calibrate(&float, &calibration, quant::DEFAULT_HEADROOM_BITS).map_err(|e| to_py::<InputError>(&e))?;
    Ok(PyQuantizedModel { model, source_sha256: sha256_hex(json) })
}

/// How the quantized model's decisions and scores compare with the float model's.
#[pyclass(name = "CheckReport", module = "zkguard", frozen, get_all)]
pub struct PyCheckReport {
    /// Model name.
    pub model: String,
    /// Samples compared.
    pub samples: usize,
    /// Fractional bits chosen.
    pub scale_bits: u32,
    /// Circuit value width.
    pub value_bits: u32,
    /// Share of samples whose quantized decision equals the float decision.
    pub agreement: f64,
    /// Indices of the samples that disagree.
    pub disagreements: Vec<usize>,
    /// Samples flagged by the float model.
    pub float_flagged: usize,
    /// Samples flagged by the quantized model.
    pub quantized_flagged: usize,
    /// Largest |quantized - float| score, real units.
    pub score_max_abs_error: f64,
    /// Mean |quantized - float| score.
    pub score_mean_abs_error: f64,
    /// Root mean squared score error.
    pub score_rmse: f64,
    /// Accuracy of the float decisions against the labels (None without labels).
    pub float_label_accuracy: Option<f64>,
    /// Accuracy of the quantized decisions against the labels.
    pub quantized_label_accuracy: Option<f64>,
    /// Per-sample float scores.
    pub float_scores: Vec<f64>,
    /// Per-sample quantized scores, real units.
    pub quantized_scores: Vec<f64>,
}

#[pymethods]
impl PyCheckReport {
    fn __repr__(&self) -> String {
        format!(
            "CheckReport(model={:?}, samples={}, agreement={:.4}, score_max_abs_error={:.3e})",
            self.model, self.samples, self.agreement, self.score_max_abs_error
        )
    }
}

/// `zkguard model check`: quantizes with `calibration` (default: `data`) and compares with the
/// float model on `data` (`labels` optional).
#[pyfunction]
#[pyo3(signature = (json, data, labels=None, calibration=None))]
fn check(
    py: Python<'_>,
    json: &str,
    data: Vec<Vec<f64>>,
    labels: Option<Vec<f64>>,
    calibration: Option<Vec<Vec<f64>>>,
) -> PyResult<PyCheckReport> {
    let float = parse(py, json)?;
    check_widths(&float.features, &data)?;
    if data.is_empty() {
        return Err(InputError::new_err("no data rows to check the model on"));
    }
    if let Some(l) = &labels {
        if l.len() != data.len() {
            return Err(InputError::new_err(format!("{} labels for {} rows", l.len(), data.len())));
        }
    }
    let calibration = calibration.unwrap_or_else(|| data.clone());
    check_widths(&float.features, &calibration)?;
    let quantized =
        quant::calibrate(&float, &calibration, quant::DEFAULT_HEADROOM_BITS).map_err(|e| to_py::<InputError>(&e))?;
    let dataset = Dataset { rows: data, labels, float_scores: None, float_decisions: None };
    let r = check_model(&float, &quantized, &dataset).map_err(|e| to_py::<InputError>(&e))?;
    Ok(PyCheckReport {
        model: r.model,
        samples: r.samples,
        scale_bits: r.scale_bits,
        value_bits: r.value_bits,
        agreement: r.agreement,
        disagreements: r.disagreements,
        float_flagged: r.float_flagged,
        quantized_flagged: r.quantized_flagged,
        score_max_abs_error: r.score_max_abs_error,
        score_mean_abs_error: r.score_mean_abs_error,
        score_rmse: r.score_rmse,
        float_label_accuracy: r.float_label_accuracy,
        quantized_label_accuracy: r.quantized_label_accuracy,
        float_scores: r.float_scores,
        quantized_scores: r.quantized_scores,
    })
}

/// Loads a quantized model file (`zkguard-quantized`, from `zkguard model import`) or
/// quantizes a float one with a calibration CSV, as the CLI's `--model`/`--calibration` do.
#[pyfunction]
#[pyo3(signature = (path, calibration=None))]
fn load_quantized(path: PathBuf, calibration: Option<PathBuf>) -> PyResult<PyQuantizedModel> {
    let model = zkguard_prover::load::load_quantized(&path, calibration.as_deref())
        .map_err(|e| to_py::<crate::errors::ModelError>(&e))?;
    let text = std::fs::read_to_string(&path).map_err(|e| to_py::<InputError>(&e))?;
    Ok(PyQuantizedModel { model, source_sha256: sha256_hex(&text) })
}

/// Registers this module's functions and classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyQuantizedModel>()?;
    m.add_class::<PyCheckReport>()?;
    m.add_function(wrap_pyfunction!(limits, m)?)?;
    m.add_function(wrap_pyfunction!(validate_model_json, m)?)?;
    m.add_function(wrap_pyfunction!(float_scores, m)?)?;
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(load_quantized, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_the_validators() {
        let values: std::collections::HashMap<_, _> = limit_values().into_iter().collect();
        assert_eq!(values["MAX_FEATURES"], serde_json::json!(MAX_FEATURES));
        assert_eq!(values["SCALE_BITS_RANGE"], serde_json::json!([4, 24]));
        assert_eq!(values["FAMILIES"], serde_json::json!(["linear", "mlp_autoencoder", "tree_ensemble"]));
    }
}
