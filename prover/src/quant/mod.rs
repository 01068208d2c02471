//! Quantization: fixed-point format ([`fixed`]), the quantized model ([`model`]), the integer
//! reference inference ([`mod@reference`]) and scale calibration ([`mod@calibrate`]).

pub mod calibrate;
pub mod fixed;
pub mod model;
pub mod reference;
pub mod trees;

pub use calibrate::{calibrate, DEFAULT_HEADROOM_BITS};
pub use fixed::FixedPoint;
pub use model::{Family, ModelShape, QBody, QLayer, QStandardize, QuantizedModel};
pub use reference::QuantOutput;
pub use trees::{QTree, TreeShape};

/// Why a model or an input cannot be represented in fixed point.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    /// A model parameter does not fit the value range at this scale.
    #[error("model parameter `{path}` = {} does not fit {fixed:?} (|x| * 2^scale_bits must stay below 2^(value_bits-1))", crate::model::validate::number(*value))]
    ParameterOutOfRange {
        /// Field path of the parameter.
        path: String,
        /// Its float value.
        value: f64,
        /// The format it was quantized to.
        fixed: FixedPoint,
    },
    /// An input feature is NaN, infinite, or too large.
    #[error("input feature {feature:?} = {} is not finite or outside the circuit's range (|x| < {})", crate::model::validate::number(*value), crate::model::validate::number(*limit))]
    InputOutOfRange {
        /// Feature name.
        feature: String,
        /// Its value.
        value: f64,
        /// The largest magnitude the circuit accepts.
        limit: f64,
    },
    /// An input row has the wrong width.
    #[error("input row has {found} features, the model expects {expected}")]
    FeatureCount {
        /// Model width.
        expected: usize,
        /// Row width.
        found: usize,
    },
    /// An intermediate value would overflow the circuit's range checks.
    #[error("{what} = {value} overflows the circuit's {value_bits}-bit signed range")]
    ValueOutOfRange {
        /// Which value.
        what: String,
        /// The integer value.
        value: i128,
        /// The width it must fit.
        value_bits: u32,
    },
    /// No scale between the minimum and maximum fits the calibration data.
    #[error("no fixed-point scale fits this model and data: {source}")]
    NoScaleFits {
        /// The failure at the smallest scale tried.
        #[source]
        source: Box<QuantError>,
    },
}

#[cfg(test)]
mod message_tests {
    use super::*;

    /// Huge inputs are named as a person reads them, not as a 301-digit integer.
    #[test]
    fn huge_values_print_in_scientific_form() {
        let e = QuantError::InputOutOfRange { feature: "amount".into(), value: 1e300, limit: 524288.0 };
        let text = e.to_string();
        assert!(text.contains("= 1e300") && text.len() < 120, "{text}");
    }
}
