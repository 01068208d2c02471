//! The zkguard model file: one versioned JSON schema for every model family.
//!
//! A model file is what the Python exporters (`scripts/export_model.py`) write and what
//! `zkguard model import` reads. It holds the *float* model exactly as trained; quantization to
//! fixed point happens in [`crate::quant`]. See `docs/MODEL_FORMAT.md` for the full schema.

use serde::{Deserialize, Serialize};

use super::trees::{SplitRule, Tree, TreeKind};

/// The value of the `format` field of every model file.
pub const FORMAT_NAME: &str = "zkguard-model";
/// The schema version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A float model as exported from scikit-learn / XGBoost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Schema version, [`FORMAT_VERSION`].
    pub version: u32,
    /// Human-readable model name (used in artifact names and reports).
    pub name: String,
    /// Feature names, in the column order the model expects. Their count is the input width.
    pub features: Vec<String>,
    /// Optional per-feature standardization `(x - mean) / scale`, applied before the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<Standardization>,
    /// The model body, tagged by `family`.
    pub model: ModelBody,
    /// How the score becomes a decision.
    pub decision: DecisionRule,
    /// Optional quantization settings; calibration chooses them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<QuantizationSettings>,
    /// Free-form provenance (exporter, library versions, training data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<serde_json::Value>,
}

/// Per-feature standardization, as a scikit-learn `StandardScaler` does it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standardization {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Per-feature scale (standard deviation); must be positive.
    pub scale: Vec<f64>,
}

/// The model families zkguard can prove.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelBody {
    /// `score = w·x + b`; for logistic regression the score is the logit.
    Linear {
        /// One weight per feature.
        weights: Vec<f64>,
        /// Intercept.
        bias: f64,
        /// What the score means; `logit` for logistic regression.
        #[serde(default)]
        link: Link,
    },
    /// A dense network trained to reconstruct its input; the score is the sum of squared
    /// reconstruction errors over the (standardized) features.
    MlpAutoencoder {
        /// Layers from input to output; the last layer's width equals the feature count.
        layers: Vec<DenseLayer>,
    },
    /// Tree ensemble: `score = base_score + sum of the values of the leaves the sample reaches`
    /// (see [`super::trees`]).
    TreeEnsemble {
        /// Where the leaf values came from.
        kind: TreeKind,
        /// The split comparison.
        #[serde(default)]
        split: SplitRule,
        /// Added to the sum of leaf values.
        base_score: f64,
        /// The trees.
        trees: Vec<Tree>,
    },
}

impl ModelBody {
    /// The family name as it appears in the file.
    pub fn family(&self) -> &'static str {
        match self {
            ModelBody::Linear { .. } => "linear",
            ModelBody::MlpAutoencoder { .. } => "mlp_autoencoder",
            ModelBody::TreeEnsemble { .. } => "tree_ensemble",
        }
    }
}

/// The meaning of a linear score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// The score is used as is.
    #[default]
    Identity,
    /// The score is a logit; the probability is `sigmoid(score)`. Decisions compare logits.
    Logit,
}

/// A fully connected layer `y = act(W x + b)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseLayer {
    /// `weights[o][i]`: output `o`, input `i` (rows = outputs).
    pub weights: Vec<Vec<f64>>,
    /// One bias per output.
    pub bias: Vec<f64>,
    /// Activation after the affine map.
    pub activation: Activation,
}

/// Activations the circuit supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// No activation.
    Identity,
    /// `max(0, x)`.
    Relu,
}

/// `decision = score > threshold` (1 = flagged: positive class, anomaly, fraud).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRule {
    /// Threshold in the score's own domain (the logit for a logistic model).
    pub threshold: f64,
}

/// Quantization settings a model file may pin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizationSettings {
    /// Fractional bits of the fixed-point representation (scale `2^scale_bits`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_bits: Option<u32>,
}

/// [`ModelFile`] with the model body still raw, for parsing with field paths.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModelFile {
    pub format: String,
    pub version: u32,
    pub name: String,
    pub features: Vec<String>,
    #[serde(default)]
    pub preprocessing: Option<Standardization>,
    pub model: serde_json::Value,
    pub decision: DecisionRule,
    #[serde(default)]
    pub quantization: Option<QuantizationSettings>,
    #[serde(default)]
    pub source: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinearFields {
    weights: Vec<f64>,
    bias: f64,
    #[serde(default)]
    link: Link,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MlpFields {
    layers: Vec<DenseLayer>,
}

/// The fields of a `tree_ensemble` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeFields {
    kind: TreeKind,
    #[serde(default)]
    split: SplitRule,
    base_score: f64,
    trees: Vec<Tree>,
}

/// The families a model file may name.
pub const FAMILIES: &[&str] = &["linear", "mlp_autoencoder", "tree_ensemble"];

/// Parses the `model` object by its `family`; errors are `(field path, message)`.
pub(crate) fn parse_body(mut value: serde_json::Value) -> Result<ModelBody, (String, String)> {
    if !value.is_object() {
        return Err(("model".to_string(), format!("expected an object, found {value}")));
    }
    let obj = value.as_object_mut().expect("checked above");
    let family = match obj.remove("family") {
        Some(serde_json::Value::String(f)) => f,
        Some(other) => return Err(("model.family".into(), format!("expected a string, found {other}"))),
        None => return Err(("model.family".into(), format!("missing field `family` (one of {FAMILIES:?})"))),
    };
    fn fields<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, (String, String)> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { "model".to_string() } else { format!("model.{path}") };
            (path, e.inner().to_string())
        })
    }
    match family.as_str() {
        "linear" => {
            let f: LinearFields = fields(value)?;
            Ok(ModelBody::Linear { weights: f.weights, bias: f.bias, link: f.link })
        }
        "mlp_autoencoder" => {
            let f: MlpFields = fields(value)?;
            Ok(ModelBody::MlpAutoencoder { layers: f.layers })
        }
        "tree_ensemble" => {
            let f: TreeFields = fields(value)?;
            Ok(ModelBody::TreeEnsemble { kind: f.kind, split: f.split, base_score: f.base_score, trees: f.trees })
        }
        other => Err(("model.family".into(), format!("unknown family {other:?}, expected one of {FAMILIES:?}"))),
    }
}
