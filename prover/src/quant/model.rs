//! The quantized model: integer parameters in a canonical order plus the public shape.
//!
//! The *shape* (family, widths, activations, fixed-point format) is public: it determines the
//! circuit. The *parameters* (standardization, weights, biases, threshold) are private witnesses
//! bound by the model commitment, so one circuit serves every model of a shape.

use serde::{Deserialize, Serialize};

use super::fixed::FixedPoint;
use super::trees::{feature_index_bits, QTree, TreeShape};
use super::QuantError;
use crate::model::{Activation, ModelBody, ModelFile};

/// The public, circuit-determining description of a quantized model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelShape {
    /// `linear` or `mlp_autoencoder`.
    pub family: Family,
    /// Input width.
    pub n_features: usize,
    /// Whether inputs are standardized in the circuit.
    pub standardize: bool,
    /// MLP only: `(outputs, relu)` per layer; empty for linear models.
    pub layers: Vec<(usize, bool)>,
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// Tree ensembles only: number of trees and padded depth. (Absent from the serialized
    /// shape of the other families, so their shape tags and circuit digests are unchanged.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<TreeShape>,
}

/// Model families, as the circuit knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Linear / logistic score.
    Linear,
    /// Dense autoencoder, score = sum of squared reconstruction errors.
    MlpAutoencoder,
    /// Tree ensemble, score = base + sum of the reached leaves.
    TreeEnsemble,
}

impl Family {
    /// Stable numeric id, hashed into the model commitment.
    pub fn id(self) -> u64 {
        match self {
            Family::Linear => 1,
            Family::MlpAutoencoder => 2,
            Family::TreeEnsemble => 3,
        }
    }
}

/// Per-feature standardization in fixed point: `z = rescale((x - mean) * inv_scale)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QStandardize {
    /// Quantized means.
    pub mean: Vec<i64>,
    /// Quantized reciprocals of the scales.
    pub inv_scale: Vec<i64>,
}

/// One quantized dense layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLayer {
    /// `weights[o][i]`.
    pub weights: Vec<Vec<i64>>,
    /// One bias per output.
    pub bias: Vec<i64>,
    /// ReLU after the affine map.
    pub relu: bool,
}

/// Quantized model bodies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QBody {
    /// `score = rescale(w·z) + bias`.
    Linear {
        /// Weights.
        weights: Vec<i64>,
        /// Bias.
        bias: i64,
    },
    /// Dense layers; `score = rescale(sum_j (out_j - z_j)^2)`.
    Mlp {
        /// Layers from input to output.
        layers: Vec<QLayer>,
    },
    /// Padded trees; `score = base + sum_t leaf_t(x)`.
    Trees {
        /// The trees, all of the same depth.
        trees: Vec<QTree>,
        /// Base score.
        base: i64,
    },
}

/// A model in fixed point, ready for the integer reference and the circuit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantizedModel {
    /// The model's name.
    pub name: String,
    /// Feature names (for error messages).
    pub features: Vec<String>,
    /// Fixed-point format.
    pub fixed: FixedPoint,
    /// Standardization, if the model has one.
    pub standardize: Option<QStandardize>,
    /// The body.
    pub body: QBody,
    /// Decision threshold (`decision = score > threshold`).
    pub threshold: i64,
}

impl QuantizedModel {
    /// Quantizes `model` at `fixed`. Fails if a parameter does not fit the value range.
    pub fn from_float(model: &ModelFile, fixed: FixedPoint) -> Result<Self, QuantError> {
        let q = |path: String, x: f64| -> Result<i64, QuantError> {
            fixed.quantize(x).ok_or(QuantError::ParameterOutOfRange { path, value: x, fixed })
        };
        let standardize = match &model.preprocessing {
            Some(s) => Some(QStandardize {
                mean: s
                    .mean
                    .iter()
                    .enumerate()
                    .map(|(i, &m)| q(format!("preprocessing.mean[{i}]"), m))
                    .collect::<Result<_, _>>()?,
                inv_scale: s
                    .scale
                    .iter()
                    .enumerate()
                    .map(|(i, &sc)| q(format!("preprocessing.scale[{i}] (as 1/scale)"), 1.0 / sc))
                    .collect::<Result<_, _>>()?,
            }),
            None => None,
        };
        let body = match &model.model {
            ModelBody::Linear { weights, bias, .. } => QBody::Linear {
                weights: weights
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| q(format!("model.weights[{i}]"), w))
                    .collect::<Result<_, _>>()?,
                bias: q("model.bias".into(), *bias)?,
            },
            ModelBody::MlpAutoencoder { layers } => QBody::Mlp {
                layers: layers
                    .iter()
                    .enumerate()
                    .map(|(l, layer)| {
                        Ok(QLayer {
                            weights: layer
                                .weights
                                .iter()
                                .enumerate()
                                .map(|(o, row)| {
                                    row.iter()
                                        .enumerate()
                                        .map(|(i, &w)| q(format!("model.layers[{l}].weights[{o}][{i}]"), w))
                                        .collect::<Result<Vec<_>, _>>()
                                })
                                .collect::<Result<_, _>>()?,
                            bias: layer
                                .bias
                                .iter()
                                .enumerate()
                                .map(|(o, &b)| q(format!("model.layers[{l}].bias[{o}]"), b))
                                .collect::<Result<_, _>>()?,
                            relu: layer.activation == Activation::Relu,
                        })
                    })
                    .collect::<Result<_, QuantError>>()?,
            },
            ModelBody::TreeEnsemble { split, base_score, trees, .. } => {
                let depth = crate::model::trees::check_trees(trees, model.features.len())
                    .expect("the model file was validated");
                QBody::Trees {
                    trees: trees
                        .iter()
                        .enumerate()
                        .map(|(t, tree)| QTree::from_float(tree, t, depth, *split, fixed))
                        .collect::<Result<_, _>>()?,
                    base: q("model.base_score".into(), *base_score)?,
                }
            }
        };
        Ok(Self {
            name: model.name.clone(),
            features: model.features.clone(),
            fixed,
            standardize,
            body,
            threshold: q("decision.threshold".into(), model.decision.threshold)?,
        })
    }

    /// Input width.
    pub fn n_features(&self) -> usize {
        self.features.len()
    }

    /// The public shape that selects the circuit.
    pub fn shape(&self) -> ModelShape {
        let (family, layers, trees) = match &self.body {
            QBody::Linear { .. } => (Family::Linear, vec![], None),
            QBody::Mlp { layers } => {
                (Family::MlpAutoencoder, layers.iter().map(|l| (l.bias.len(), l.relu)).collect(), None)
            }
            QBody::Trees { trees, .. } => {
                let depth = trees.first().map_or(0, QTree::depth);
                (Family::TreeEnsemble, vec![], Some(TreeShape { n_trees: trees.len(), depth }))
            }
        };
        ModelShape {
            family,
            n_features: self.n_features(),
            standardize: self.standardize.is_some(),
            layers,
            fixed: self.fixed,
            trees,
        }
    }

    /// All private parameters in the canonical order the circuit loads and commits them:
    /// standardization means, inverse scales, then the body (linear: weights, bias; MLP: per
    /// layer the weights row by row, then the biases; trees: all feature indices, all
    /// thresholds, all leaves, tree by tree in heap order, then the base), then the threshold.
    pub fn params(&self) -> Vec<i64> {
        let mut out = Vec::new();
        if let Some(s) = &self.standardize {
            out.extend(&s.mean);
            out.extend(&s.inv_scale);
        }
        match &self.body {
            QBody::Linear { weights, bias } => {
                out.extend(weights);
                out.push(*bias);
            }
            QBody::Mlp { layers } => {
                for layer in layers {
                    for row in &layer.weights {
                        out.extend(row);
                    }
                    out.extend(&layer.bias);
                }
            }
            QBody::Trees { trees, base } => {
                out.extend(trees.iter().flat_map(|t| &t.features));
                out.extend(trees.iter().flat_map(|t| &t.thresholds));
                out.extend(trees.iter().flat_map(|t| &t.leaves));
                out.push(*base);
            }
        }
        out.push(self.threshold);
        out
    }
}

impl ModelShape {
    /// Number of private parameters a model of this shape has (length of [`QuantizedModel::params`]).
    pub fn param_count(&self) -> usize {
        let std = if self.standardize { 2 * self.n_features } else { 0 };
        let body = match self.family {
            Family::Linear => self.n_features + 1,
            Family::MlpAutoencoder => {
                let mut width = self.n_features;
                let mut total = 0;
                for &(outs, _) in &self.layers {
                    total += outs * width + outs;
                    width = outs;
                }
                total
            }
            Family::TreeEnsemble => self.tree_shape().param_count(),
        };
        std + body + 1
    }

    /// The tree shape of a tree ensemble (panics for the other families).
    pub fn tree_shape(&self) -> TreeShape {
        self.trees.expect("a tree ensemble shape has a tree shape")
    }

    /// How the canonical parameters are packed into the model commitment: consecutive runs of
    /// `(count, bits)`. Feature indices of trees are packed at their own small width; every
    /// other parameter at `value_bits`.
    pub fn param_packing(&self) -> Vec<(usize, u32)> {
        match self.family {
            Family::TreeEnsemble => {
                let trees = self.tree_shape();
                let indices = trees.n_trees * trees.internal_nodes();
                vec![
                    (indices, feature_index_bits(self.n_features) + 1),
                    (self.param_count() - indices, self.fixed.value_bits),
                ]
            }
            _ => vec![(self.param_count(), self.fixed.value_bits)],
        }
    }

    /// Rebuilds a quantized model of this shape from a canonical parameter vector (the inverse of
    /// [`QuantizedModel::params`]); used by tests that tamper with parameters.
    pub fn model_from_params(&self, name: &str, features: &[String], params: &[i64]) -> QuantizedModel {
        assert_eq!(params.len(), self.param_count(), "parameter count does not match the shape");
        let mut it = params.iter().copied();
        let mut take = |n: usize| it.by_ref().take(n).collect::<Vec<i64>>();
        let standardize =
            self.standardize.then(|| QStandardize { mean: take(self.n_features), inv_scale: take(self.n_features) });
        let body = match self.family {
            Family::Linear => QBody::Linear { weights: take(self.n_features), bias: take(1)[0] },
            Family::MlpAutoencoder => {
                let mut width = self.n_features;
                let mut layers = Vec::new();
                for &(outs, relu) in &self.layers {
                    let weights = (0..outs).map(|_| take(width)).collect();
                    layers.push(QLayer { weights, bias: take(outs), relu });
                    width = outs;
                }
                QBody::Mlp { layers }
            }
            Family::TreeEnsemble => {
                let shape = self.tree_shape();
                let features = take(shape.n_trees * shape.internal_nodes());
                let thresholds = take(shape.n_trees * shape.internal_nodes());
                let leaves = take(shape.n_trees * shape.leaves());
                let trees = (0..shape.n_trees)
                    .map(|t| {
                        let nodes = t * shape.internal_nodes()..(t + 1) * shape.internal_nodes();
                        QTree {
                            features: features[nodes.clone()].to_vec(),
                            thresholds: thresholds[nodes].to_vec(),
                            leaves: leaves[t * shape.leaves()..(t + 1) * shape.leaves()].to_vec(),
                        }
                    })
                    .collect();
                QBody::Trees { trees, base: take(1)[0] }
            }
        };
        let threshold = take(1)[0];
        QuantizedModel {
            name: name.to_string(),
            features: features.to_vec(),
            fixed: self.fixed,
            standardize,
            body,
            threshold,
        }
    }
}
