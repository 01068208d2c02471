//! Float inference of a [`ModelFile`]: the model exactly as trained, used to measure how far the
//! quantized model drifts from it.

use super::format::{Activation, ModelBody, ModelFile};

/// Score and decision of the float model for one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatOutput {
    /// The score (logit, linear score or reconstruction error).
    pub score: f64,
    /// `score > threshold`.
    pub decision: bool,
}

/// Standardizes a raw feature row as the model's preprocessing says.
pub fn standardize(model: &ModelFile, row: &[f64]) -> Vec<f64> {
    match &model.preprocessing {
        Some(std) => row.iter().zip(&std.mean).zip(&std.scale).map(|((x, m), s)| (x - m) / s).collect(),
        None => row.to_vec(),
    }
}

/// Runs the float model on one raw feature row (`row.len()` must equal the feature count).
pub fn infer(model: &ModelFile, row: &[f64]) -> FloatOutput {
    let z = standardize(model, row);
    let score = match &model.model {
        ModelBody::Linear { weights, bias, .. } => weights.iter().zip(&z).map(|(w, x)| w * x).sum::<f64>() + bias,
        ModelBody::MlpAutoencoder { layers } => {
            let mut a = z.clone();
            for layer in layers {
                a = layer
                    .weights
                    .iter()
                    .zip(&layer.bias)
                    .map(|(row, b)| {
                        let v = row.iter().zip(&a).map(|(w, x)| w * x).sum::<f64>() + b;
                        match layer.activation {
                            Activation::Relu => v.max(0.0),
                            Activation::Identity => v,
                        }
                    })
                    .collect();
            }
            a.iter().zip(&z).map(|(r, x)| (r - x) * (r - x)).sum()
        }
        ModelBody::TreeEnsemble { split, base_score, trees, .. } => {
            base_score + trees.iter().map(|t| t.leaf_value(*split, &z)).sum::<f64>()
        }
    };
    FloatOutput { score, decision: score > model.decision.threshold }
}
