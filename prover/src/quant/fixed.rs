//! Fixed-point arithmetic shared by the quantizer, the integer reference and the circuit.
//!
//! A real number `x` is represented by the integer `round(x * 2^scale_bits)`. Every value the
//! circuit range-checks is a signed integer of at most `value_bits` bits, i.e. in
//! `[-2^(value_bits-1), 2^(value_bits-1))`. Products carry `2 * scale_bits` fractional bits and
//! are brought back by [`rescale`], a floor division by `2^scale_bits` (the circuit proves it
//! with a range-checked remainder), so the reference and the circuit agree bit for bit.

use serde::{Deserialize, Serialize};

/// Default value width: |v| < 2^39 leaves room for raw features like 4254.0 at 2^20.
pub const DEFAULT_VALUE_BITS: u32 = 40;
/// Smallest scale the calibration considers.
pub const MIN_SCALE_BITS: u32 = 6;
/// Largest scale the calibration considers.
pub const MAX_SCALE_BITS: u32 = 20;

/// The fixed-point format of one quantized model (part of the circuit shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedPoint {
    /// Fractional bits: the scale is `2^scale_bits`.
    pub scale_bits: u32,
    /// Width of every range-checked signed value.
    pub value_bits: u32,
}

impl FixedPoint {
    /// The scale `2^scale_bits` as a float.
    pub fn scale(&self) -> f64 {
        (1u64 << self.scale_bits) as f64
    }

    /// Exclusive bound on |v| for a range-checked value.
    pub fn bound(&self) -> i128 {
        1i128 << (self.value_bits - 1)
    }

    /// Whether `v` fits the signed value range.
    pub fn fits(&self, v: i128) -> bool {
        -self.bound() <= v && v < self.bound()
    }

    /// `round(x * 2^s)` with ties away from zero; `None` if `x` is not finite or does not fit.
    pub fn quantize(&self, x: f64) -> Option<i64> {
        if !x.is_finite() {
            return None;
        }
        let v = (x * self.scale()).round();
        if v.abs() >= self.bound() as f64 {
            return None;
        }
        Some(v as i64)
    }

    /// The real value of a fixed-point integer.
    pub fn to_f64(&self, v: i128) -> f64 {
        v as f64 / self.scale()
    }

    /// Floor division by `2^scale_bits`: the circuit's rescale.
    pub fn rescale(&self, v: i128) -> i128 {
        rescale(v, self.scale_bits)
    }
}

/// Floor division of `v` by `2^bits` (towards negative infinity), with `0 <= remainder < 2^bits`.
pub fn rescale(v: i128, bits: u32) -> i128 {
    v.div_euclid(1i128 << bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_floors_towards_negative_infinity() {
        assert_eq!(rescale(7, 2), 1);
        assert_eq!(rescale(-7, 2), -2);
        assert_eq!(rescale(-8, 2), -2);
        assert_eq!(rescale(0, 5), 0);
        for v in -1000i128..1000 {
            let q = rescale(v, 3);
            let r = v - q * 8;
            assert!((0..8).contains(&r), "remainder of {v} is {r}");
        }
    }

    #[test]
    fn quantize_rounds_and_refuses_what_does_not_fit() {
        let fp = FixedPoint { scale_bits: 4, value_bits: 12 };
        assert_eq!(fp.quantize(1.0), Some(16));
        assert_eq!(fp.quantize(-0.03125), Some(-1)); // -0.5 ulp rounds away from zero
        assert_eq!(fp.quantize(127.9), Some(2046));
        assert_eq!(fp.quantize(128.0), None);
        assert_eq!(fp.quantize(f64::NAN), None);
        assert_eq!(fp.quantize(f64::INFINITY), None);
    }
}
