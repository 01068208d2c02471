//! Calibration: choose the fixed-point scale of a model from sample data.
//!
//! A larger scale is more precise but needs more bits. Calibration tries scales from
//! [`MAX_SCALE_BITS`] down and keeps the largest at which the quantized model runs every
//! calibration row with every intermediate value inside the range, with `headroom_bits` to spare
//! (inputs outside the calibration data may be larger).

use super::fixed::{FixedPoint, DEFAULT_VALUE_BITS, MAX_SCALE_BITS, MIN_SCALE_BITS};
use super::model::QuantizedModel;
use super::QuantError;
use crate::model::ModelFile;

/// Bits of spare range calibration leaves for inputs larger than the calibration data.
pub const DEFAULT_HEADROOM_BITS: u32 = 3;

/// Picks the scale for `model` from `rows` (raw feature rows) and returns the quantized model.
/// A scale pinned in the model file (`quantization.scale_bits`) is used as is (and still checked).
pub fn calibrate(model: &ModelFile, rows: &[Vec<f64>], headroom_bits: u32) -> Result<QuantizedModel, QuantError> {
    let pinned = model.quantization.as_ref().and_then(|q| q.scale_bits);
    let candidates: Vec<u32> = match pinned {
        Some(bits) => vec![bits],
        None => (MIN_SCALE_BITS..=MAX_SCALE_BITS).rev().collect(),
    };
    let mut last_err = None;
    for scale_bits in candidates {
        // Run with a narrowed range so that the chosen scale leaves `headroom_bits` spare.
        let narrowed = FixedPoint { scale_bits, value_bits: DEFAULT_VALUE_BITS - headroom_bits };
        let attempt = QuantizedModel::from_float(model, narrowed).and_then(|q| {
            for row in rows {
                q.infer(&q.quantize_input(row)?)?;
            }
            Ok(())
        });
        match attempt {
            Ok(()) => {
                return QuantizedModel::from_float(model, FixedPoint { scale_bits, value_bits: DEFAULT_VALUE_BITS });
            }
            Err(e) => last_err = Some(e),
        }
    }
    Err(QuantError::NoScaleFits { source: Box::new(last_err.expect("at least one candidate scale")) })
}
