//! The integer reference inference: exactly what the circuit computes, in plain Rust.
//!
//! Every value the circuit range-checks is checked here first, so a sample that would make the
//! circuit unsatisfiable is a clear error naming the value, never a silently wrong proof. The
//! circuit's outputs equal this function's outputs bit for bit (property-tested in
//! `circuit::tests`).

use super::fixed::FixedPoint;
use super::model::{QBody, QuantizedModel};
use super::QuantError;

/// Output of the integer model for one sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantOutput {
    /// Score in fixed point (scale `2^scale_bits`).
    pub score: i64,
    /// `score > threshold`.
    pub decision: bool,
}

fn fit(fixed: FixedPoint, v: i128, what: impl FnOnce() -> String) -> Result<i128, QuantError> {
    if fixed.fits(v) {
        Ok(v)
    } else {
        Err(QuantError::ValueOutOfRange { what: what(), value: v, value_bits: fixed.value_bits })
    }
}

impl QuantizedModel {
    /// Quantizes one raw feature row; a non-finite or out-of-range feature is an error naming it.
    pub fn quantize_input(&self, row: &[f64]) -> Result<Vec<i64>, QuantError> {
        if row.len() != self.n_features() {
            return Err(QuantError::FeatureCount { expected: self.n_features(), found: row.len() });
        }
        row.iter()
            .zip(&self.features)
            .map(|(&x, name)| {
                self.fixed.quantize(x).ok_or_else(|| QuantError::InputOutOfRange {
                    feature: name.clone(),
                    value: x,
                    limit: self.fixed.to_f64(self.fixed.bound()),
                })
            })
            .collect()
    }

    /// Runs the integer model on one quantized input row.
    pub fn infer(&self, x: &[i64]) -> Result<QuantOutput, QuantError> {
        let fx = self.fixed;
        if x.len() != self.n_features() {
            return Err(QuantError::FeatureCount { expected: self.n_features(), found: x.len() });
        }
        for (j, &v) in x.iter().enumerate() {
            fit(fx, v as i128, || format!("input feature {:?}", self.features[j]))?;
        }
        let z: Vec<i128> = match &self.standardize {
            Some(s) => x
                .iter()
                .enumerate()
                .map(|(j, &v)| {
                    let prod = (v as i128 - s.mean[j] as i128) * s.inv_scale[j] as i128;
                    fit(fx, fx.rescale(prod), || format!("standardized feature {:?}", self.features[j]))
                })
                .collect::<Result<_, _>>()?,
            None => x.iter().map(|&v| v as i128).collect(),
        };
        let score = match &self.body {
            QBody::Linear { weights, bias } => {
                let acc: i128 = weights.iter().zip(&z).map(|(&w, &v)| w as i128 * v).sum();
                fit(fx, fx.rescale(acc), || "linear score before bias".into())?;
                fit(fx, fx.rescale(acc) + *bias as i128, || "linear score".into())?
            }
            QBody::Mlp { layers } => {
                let mut a = z.clone();
                for (l, layer) in layers.iter().enumerate() {
                    a = layer
                        .weights
                        .iter()
                        .zip(&layer.bias)
                        .enumerate()
                        .map(|(o, (row, &b))| {
                            let acc: i128 = row.iter().zip(&a).map(|(&w, &v)| w as i128 * v).sum();
                            let q = fit(fx, fx.rescale(acc), || format!("layer {l} neuron {o} before bias"))?;
                            let v = fit(fx, q + b as i128, || format!("layer {l} neuron {o}"))?;
                            Ok(if layer.relu { v.max(0) } else { v })
                        })
                        .collect::<Result<_, QuantError>>()?;
                }
                let sq: i128 = a.iter().zip(&z).map(|(&r, &v)| (r - v) * (r - v)).sum();
                fit(fx, fx.rescale(sq), || "reconstruction error".into())?
            }
            QBody::Trees { trees, base } => {
                for (t, tree) in trees.iter().enumerate() {
                    if let Some(bad) = tree.features.iter().find(|&&f| f < 0 || f as usize >= x.len()) {
                        return Err(QuantError::ValueOutOfRange {
                            what: format!("tree {t} feature index"),
                            value: *bad as i128,
                            value_bits: super::trees::feature_index_bits(x.len()),
                        });
                    }
                }
                let sum: i128 = trees.iter().map(|tree| tree.walk(x).1 as i128).sum();
                fit(fx, *base as i128 + sum, || "tree ensemble score".into())?
            }
        };
        Ok(QuantOutput { score: score as i64, decision: score > self.threshold as i128 })
    }
}
