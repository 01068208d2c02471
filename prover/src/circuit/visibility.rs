//! Model visibility, chosen per model at keygen: how the app circuit holds the parameters.
//!
//! * [`Visibility::Committed`]: the parameters are private witnesses, range-checked and hashed
//!   in the circuit to the model commitment; one circuit (and one key) serves every model of a
//!   shape.
//! * [`Visibility::Fixed`]: the parameters are constants of the circuit (fixed columns), so the
//!   circuit digest and the verifying key pin the model: one circuit per model, no commitment
//!   hashing and no range checks of parameters in the circuit (they are validated natively, by
//!   [`validate_fixed_params`]). The model-commitment instance still carries the same Poseidon
//!   value, computed natively and constrained as a constant, so registries, Guards and relayers
//!   see the same layout in both modes.
//!
//! Neither mode hides the model from whoever holds the proving key or can guess it: the fixed
//! mode's proving key holds the weights, and the commitment is an unsalted hash.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::CircuitError;
use crate::quant::{Family, ModelShape};

/// How a circuit holds the model's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Private witnesses behind the Poseidon model commitment (one circuit per shape).
    #[default]
    Committed,
    /// Constants of the circuit: the verifying key pins the model (one circuit per model).
    Fixed,
}

impl Visibility {
    /// The name used in configuration files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Committed => "committed",
            Visibility::Fixed => "fixed",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Visibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "committed" => Ok(Visibility::Committed),
            "fixed" => Ok(Visibility::Fixed),
            other => Err(format!("unknown model visibility {other:?} (expected \"committed\" or \"fixed\")")),
        }
    }
}

/// Checks natively what the committed circuit range-checks, for parameters that become
/// constants: the count matches the shape, tree feature indices are `< n_features` and every
/// other parameter is a signed value of `value_bits` bits. The error names the first parameter
/// that fails, by its canonical index.
pub fn validate_fixed_params(shape: &ModelShape, params: &[i64]) -> Result<(), CircuitError> {
    let invalid = |index: usize, reason: String| CircuitError::FixedParameter { index, reason };
    if params.len() != shape.param_count() {
        return Err(invalid(
            params.len().min(shape.param_count()),
            format!("the shape has {} parameters, the fixed model {}", shape.param_count(), params.len()),
        ));
    }
    let indices = match shape.family {
        Family::TreeEnsemble => {
            let trees = shape.tree_shape();
            trees.n_trees * trees.internal_nodes()
        }
        _ => 0,
    };
    for (index, &f) in params[..indices].iter().enumerate() {
        if f < 0 || f as usize >= shape.n_features {
            return Err(invalid(index, format!("feature index {f} is not below {}", shape.n_features)));
        }
    }
    for (index, &v) in params.iter().enumerate().skip(indices) {
        if !shape.fixed.fits(v as i128) {
            return Err(invalid(index, format!("{v} does not fit {} signed bits", shape.fixed.value_bits)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{FixedPoint, TreeShape};

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for v in [Visibility::Committed, Visibility::Fixed] {
            assert_eq!(v.as_str().parse::<Visibility>(), Ok(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
        }
        let err = "public".parse::<Visibility>().unwrap_err();
        assert!(err.contains("\"public\"") && err.contains("fixed"), "{err}");
        assert_eq!(Visibility::default(), Visibility::Committed);
    }

    #[test]
    fn fixed_parameters_are_validated_natively() {
        let fixed = FixedPoint { scale_bits: 4, value_bits: 12 };
        let shape = ModelShape {
            family: Family::TreeEnsemble,
            n_features: 3,
            standardize: false,
            layers: vec![],
            fixed,
            trees: Some(TreeShape { n_trees: 1, depth: 1 }),
        };
        // feature, threshold, 2 leaves, base, decision threshold
        assert!(validate_fixed_params(&shape, &[2, 5, -3, 4, 0, 1]).is_ok());
        let err = validate_fixed_params(&shape, &[3, 5, -3, 4, 0, 1]).unwrap_err().to_string();
        assert!(err.contains("parameter 0") && err.contains("feature index 3"), "{err}");
        let err = validate_fixed_params(&shape, &[0, 5, -3, 2048, 0, 1]).unwrap_err().to_string();
        assert!(err.contains("parameter 3") && err.contains("12 signed bits"), "{err}");
        let err = validate_fixed_params(&shape, &[0, 5]).unwrap_err().to_string();
        assert!(err.contains("6 parameters"), "{err}");
    }
}
