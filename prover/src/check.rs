//! `model check`: how far the quantized model drifts from the float one on real data.
//!
//! Decisions are compared sample by sample (the float decisions come from the CSV's
//! `float_decision` column when present, else from the float model); scores are compared in
//! real units. When the CSV carries `float_score`, the Rust float inference is also compared with
//! it, which cross-checks the exporter's semantics against ours.

use serde::Serialize;

use crate::data::Dataset;
use crate::model::float;
use crate::model::ModelFile;
use crate::quant::{QuantError, QuantizedModel};

/// The result of a model check.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// Model name.
    pub model: String,
    /// Samples compared.
    pub samples: usize,
    /// Fractional bits chosen.
    pub scale_bits: u32,
    /// Value width of the circuit.
    pub value_bits: u32,
    /// Where the float decisions came from: `csv` or `recomputed`.
    pub float_source: String,
    /// Share of samples whose quantized decision equals the float decision.
    pub agreement: f64,
    /// Indices of the samples that disagree.
    pub disagreements: Vec<usize>,
    /// Samples flagged by the float model.
    pub float_flagged: usize,
    /// Samples flagged by the quantized model.
    pub quantized_flagged: usize,
    /// Largest |quantized score - float score|, in real units.
    pub score_max_abs_error: f64,
    /// Mean |quantized score - float score|.
    pub score_mean_abs_error: f64,
    /// Root mean squared score error.
    pub score_rmse: f64,
    /// Largest |Rust float score - CSV float_score| (None without that column).
    pub float_reference_max_abs_diff: Option<f64>,
    /// Accuracy of the float decisions against the `label` column.
    pub float_label_accuracy: Option<f64>,
    /// Accuracy of the quantized decisions against the `label` column.
    pub quantized_label_accuracy: Option<f64>,
    /// Per-sample float scores (for plots).
    #[serde(skip)]
    pub float_scores: Vec<f64>,
    /// Per-sample quantized scores in real units (for plots).
    #[serde(skip)]
    pub quantized_scores: Vec<f64>,
}

/// Compares `quantized` with `model` on `data`.
pub fn check_model(model: &ModelFile, quantized: &QuantizedModel, data: &Dataset) -> Result<CheckReport, QuantError> {
    let n = data.rows.len();
    let mut float_scores = Vec::with_capacity(n);
    let mut quant_scores = Vec::with_capacity(n);
    let mut float_decisions = Vec::with_capacity(n);
    let mut quant_decisions = Vec::with_capacity(n);
    for row in &data.rows {
        let f = float::infer(model, row);
        let q = quantized.infer(&quantized.quantize_input(row)?)?;
        float_scores.push(f.score);
        float_decisions.push(f.decision);
        quant_scores.push(quantized.fixed.to_f64(q.score as i128));
        quant_decisions.push(q.decision);
    }
    let (reference_decisions, float_source) = match &data.float_decisions {
        Some(d) => (d.clone(), "csv"),
        None => (float_decisions, "recomputed"),
    };
    let disagreements: Vec<usize> = (0..n).filter(|&i| reference_decisions[i] != quant_decisions[i]).collect();
    let errors: Vec<f64> = float_scores.iter().zip(&quant_scores).map(|(f, q)| (q - f).abs()).collect();
    let accuracy = |decisions: &[bool]| {
        data.labels
            .as_ref()
            .map(|labels| decisions.iter().zip(labels).filter(|(d, l)| **d == (**l != 0.0)).count() as f64 / n as f64)
    };
    Ok(CheckReport {
        model: model.name.clone(),
        samples: n,
        scale_bits: quantized.fixed.scale_bits,
        value_bits: quantized.fixed.value_bits,
        float_source: float_source.to_string(),
        agreement: (n - disagreements.len()) as f64 / n as f64,
        disagreements,
        float_flagged: reference_decisions.iter().filter(|d| **d).count(),
        quantized_flagged: quant_decisions.iter().filter(|d| **d).count(),
        score_max_abs_error: errors.iter().copied().fold(0.0, f64::max),
        score_mean_abs_error: errors.iter().sum::<f64>() / n as f64,
        score_rmse: (errors.iter().map(|e| e * e).sum::<f64>() / n as f64).sqrt(),
        float_reference_max_abs_diff: data
            .float_scores
            .as_ref()
            .map(|csv| csv.iter().zip(&float_scores).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)),
        float_label_accuracy: accuracy(&reference_decisions),
        quantized_label_accuracy: accuracy(&quant_decisions),
        float_scores,
        quantized_scores: quant_scores,
    })
}

impl std::fmt::Display for CheckReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "model check: {} ({} samples)", self.model, self.samples)?;
        writeln!(f, "  fixed point        scale 2^{} , {}-bit values", self.scale_bits, self.value_bits)?;
        writeln!(
            f,
            "  decision agreement {:.2}% ({} of {} differ; float decisions from {})",
            self.agreement * 100.0,
            self.disagreements.len(),
            self.samples,
            self.float_source
        )?;
        writeln!(f, "  flagged            float {} / quantized {}", self.float_flagged, self.quantized_flagged)?;
        writeln!(
            f,
            "  score error        max {:.3e}, mean {:.3e}, rmse {:.3e}",
            self.score_max_abs_error, self.score_mean_abs_error, self.score_rmse
        )?;
        if let Some(d) = self.float_reference_max_abs_diff {
            writeln!(f, "  float vs exporter  max |diff| {d:.3e}")?;
        }
        if let (Some(a), Some(b)) = (self.float_label_accuracy, self.quantized_label_accuracy) {
            writeln!(f, "  label accuracy     float {:.2}% / quantized {:.2}%", a * 100.0, b * 100.0)?;
        }
        Ok(())
    }
}
