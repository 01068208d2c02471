//! Semantic validation of a parsed [`ModelFile`]: shapes, finiteness, ranges. Parsing (types,
//! missing fields) is serde's job; everything the type system cannot say is checked here, and
//! the first problem is reported with its field path.

use super::error::Problem;
use super::format::{ModelBody, ModelFile, FORMAT_NAME, FORMAT_VERSION};

/// Largest feature count a circuit accepts.
pub const MAX_FEATURES: usize = 256;
/// Largest layer width of an MLP.
pub const MAX_LAYER_WIDTH: usize = 256;
/// Largest number of layers of an MLP.
pub const MAX_LAYERS: usize = 8;
/// Largest absolute value of any float parameter; larger values cannot be quantized usefully.
pub const MAX_ABS_PARAM: f64 = 1.0e9;
/// The `quantization.scale_bits` a file may pin (fractional bits of the fixed-point format).
pub const SCALE_BITS: std::ops::RangeInclusive<u32> = 4..=24;

/// Checks everything about `model` that parsing could not. Returns the first problem.
pub fn validate(model: &ModelFile) -> Result<(), Problem> {
    if model.format != FORMAT_NAME {
        return Err(Problem::new("format", format!("\"{FORMAT_NAME}\""), format!("{:?}", model.format)));
    }
    if model.version != FORMAT_VERSION {
        return Err(Problem::new("version", format!("schema version {FORMAT_VERSION}"), model.version.to_string()));
    }
    if model.name.trim().is_empty() {
        return Err(Problem::new("name", "a non-empty name", "\"\""));
    }
    let n = model.features.len();
    if n == 0 || n > MAX_FEATURES {
        return Err(Problem::new("features", format!("1..={MAX_FEATURES} feature names"), n.to_string()));
    }
    for (i, name) in model.features.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(Problem::new(format!("features[{i}]"), "a non-empty feature name", "\"\""));
        }
        if model.features[..i].contains(name) {
            return Err(Problem::new(format!("features[{i}]"), "a unique feature name", format!("duplicate {name:?}")));
        }
    }
    if let Some(std) = &model.preprocessing {
        check_len("preprocessing.mean", std.mean.len(), n)?;
        check_len("preprocessing.scale", std.scale.len(), n)?;
        check_finite("preprocessing.mean", &std.mean)?;
        for (i, &s) in std.scale.iter().enumerate() {
            if !(s.is_finite() && s > 0.0) {
                return Err(Problem::new(format!("preprocessing.scale[{i}]"), "a positive finite scale", number(s)));
            }
        }
    }
    check_finite_one("decision.threshold", model.decision.threshold)?;
    if let Some(q) = &model.quantization {
        if let Some(bits) = q.scale_bits {
            if !SCALE_BITS.contains(&bits) {
                let expected = format!("{}..={}", SCALE_BITS.start(), SCALE_BITS.end());
                return Err(Problem::new("quantization.scale_bits", expected, bits.to_string()));
            }
        }
    }
    match &model.model {
        ModelBody::Linear { weights, bias, .. } => {
            check_len("model.weights", weights.len(), n)?;
            check_finite("model.weights", weights)?;
            check_finite_one("model.bias", *bias)?;
        }
        ModelBody::MlpAutoencoder { layers } => {
            if layers.is_empty() || layers.len() > MAX_LAYERS {
                return Err(Problem::new("model.layers", format!("1..={MAX_LAYERS} layers"), layers.len().to_string()));
            }
            let mut width = n;
            for (l, layer) in layers.iter().enumerate() {
                let path = format!("model.layers[{l}]");
                let outs = layer.weights.len();
                if outs == 0 || outs > MAX_LAYER_WIDTH {
                    return Err(Problem::new(
                        format!("{path}.weights"),
                        format!("1..={MAX_LAYER_WIDTH} rows (one per output)"),
                        outs.to_string(),
                    ));
                }
                for (o, row) in layer.weights.iter().enumerate() {
                    check_len(&format!("{path}.weights[{o}]"), row.len(), width)?;
                    check_finite(&format!("{path}.weights[{o}]"), row)?;
                }
                check_len(&format!("{path}.bias"), layer.bias.len(), outs)?;
                check_finite(&format!("{path}.bias"), &layer.bias)?;
                width = outs;
            }
            if width != n {
                return Err(Problem::new(
                    format!("model.layers[{}].weights", layers.len() - 1),
                    format!("{n} outputs (an autoencoder reconstructs its {n} features)"),
                    width.to_string(),
                ));
            }
        }
        ModelBody::TreeEnsemble { base_score, trees, .. } => {
            if model.preprocessing.is_some() {
                return Err(Problem::new(
                    "preprocessing",
                    "no preprocessing for a tree ensemble (fold a scaler into the thresholds; the exporter does)",
                    "a standardization",
                ));
            }
            check_finite_one("model.base_score", *base_score)?;
            super::trees::check_trees(trees, n)?;
        }
    }
    Ok(())
}

fn check_len(path: &str, found: usize, expected: usize) -> Result<(), Problem> {
    if found == expected {
        Ok(())
    } else {
        Err(Problem::new(path, format!("{expected} values"), format!("{found} values")))
    }
}

fn check_finite(path: &str, values: &[f64]) -> Result<(), Problem> {
    for (i, &v) in values.iter().enumerate() {
        check_finite_one(&format!("{path}[{i}]"), v)?;
    }
    Ok(())
}

pub(crate) fn check_finite_one(path: &str, v: f64) -> Result<(), Problem> {
    if v.is_finite() && v.abs() <= MAX_ABS_PARAM {
        Ok(())
    } else {
        Err(Problem::new(path, format!("a finite number with |x| <= {MAX_ABS_PARAM:e}"), number(v)))
    }
}

/// A float as a person reads it: plain when moderate, scientific when huge or tiny (a 1e300
/// weight is `1e300`, not a 301-digit integer).
pub fn number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod number_tests {
    #[test]
    fn huge_and_tiny_numbers_are_short() {
        assert_eq!(super::number(1e300), "1e300");
        assert_eq!(super::number(-2.5e-9), "-2.5e-9");
        assert_eq!(super::number(0.5), "0.5");
        assert_eq!(super::number(123456.0), "123456");
    }
}
