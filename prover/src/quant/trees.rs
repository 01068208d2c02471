//! Quantized tree ensembles: every tree padded to a *complete* binary tree of the ensemble's
//! depth, in heap order, so that the circuit's shape (number of trees, depth) reveals nothing of
//! the trees' real structure.
//!
//! Padding: a leaf above the full depth becomes a dummy split (feature 0, threshold 0) whose two
//! subtrees both end in copies of the leaf, so every path through it gives the leaf's value.
//! Splits compare in the model's fixed point: a sample goes *right* iff `x > threshold`. A
//! scikit-learn split `x <= t` keeps `T = q(t)`; an XGBoost split `x < t` becomes
//! `x <= q(t) - 1`.

use serde::{Deserialize, Serialize};

use super::fixed::FixedPoint;
use super::QuantError;
use crate::model::{NodeKind, SplitRule, Tree};

/// The public shape of a tree ensemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TreeShape {
    /// Number of trees.
    pub n_trees: usize,
    /// Depth every tree is padded to (a tree of depth `d` has `2^d` leaves).
    pub depth: usize,
}

impl TreeShape {
    /// Internal nodes per padded tree.
    pub fn internal_nodes(&self) -> usize {
        (1 << self.depth) - 1
    }

    /// Leaves per padded tree.
    pub fn leaves(&self) -> usize {
        1 << self.depth
    }

    /// Private parameters of the ensemble: per tree the feature indices and thresholds of its
    /// internal nodes and its leaf values, plus the base score.
    pub fn param_count(&self) -> usize {
        self.n_trees * (2 * self.internal_nodes() + self.leaves()) + 1
    }
}

/// Bits of a feature index: `ceil(log2(n_features))`, at least 1.
pub fn feature_index_bits(n_features: usize) -> u32 {
    (usize::BITS - n_features.saturating_sub(1).leading_zeros()).max(1)
}

/// One padded tree in fixed point, heap order (node `i` has children `2i+1`, `2i+2`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QTree {
    /// Feature index of each internal node.
    pub features: Vec<i64>,
    /// Threshold of each internal node: right iff `x > threshold`.
    pub thresholds: Vec<i64>,
    /// Leaf values, left to right.
    pub leaves: Vec<i64>,
}

impl QTree {
    /// Quantizes and pads `tree` (which passed validation) to `depth`. `t` names it in errors.
    pub fn from_float(
        tree: &Tree,
        t: usize,
        depth: usize,
        split: SplitRule,
        fixed: FixedPoint,
    ) -> Result<Self, QuantError> {
        let shape = TreeShape { n_trees: 1, depth };
        let mut out = QTree {
            features: vec![0; shape.internal_nodes()],
            thresholds: vec![0; shape.internal_nodes()],
            leaves: vec![0; shape.leaves()],
        };
        // (node in the file, position in the padded heap, level)
        let mut stack = vec![(0usize, 0usize, 0usize)];
        while let Some((node, pos, level)) = stack.pop() {
            let path = format!("model.trees[{t}].nodes[{node}]");
            let kind = tree.nodes[node].kind(&path).expect("validated tree");
            if level == depth {
                let NodeKind::Leaf { value } = kind else { unreachable!("validated depth") };
                out.leaves[pos - shape.internal_nodes()] = quantize(fixed, format!("{path}.value"), value)?;
                continue;
            }
            match kind {
                NodeKind::Split { feature, threshold, left, right } => {
                    let q = quantize(fixed, format!("{path}.threshold"), threshold)?;
                    out.features[pos] = feature as i64;
                    out.thresholds[pos] = match split {
                        SplitRule::Le => q,
                        SplitRule::Lt => q - 1,
                    };
                    stack.push((left, 2 * pos + 1, level + 1));
                    stack.push((right, 2 * pos + 2, level + 1));
                }
                // A shallow leaf: a dummy split (feature 0, threshold 0) over two copies.
                NodeKind::Leaf { .. } => {
                    stack.push((node, 2 * pos + 1, level + 1));
                    stack.push((node, 2 * pos + 2, level + 1));
                }
            }
        }
        Ok(out)
    }

    /// The depth of this padded tree.
    pub fn depth(&self) -> usize {
        self.leaves.len().trailing_zeros() as usize
    }

    /// The heap position of the leaf `x` reaches and its value.
    pub fn walk(&self, x: &[i64]) -> (usize, i64) {
        let mut pos = 0;
        for _ in 0..self.depth() {
            let right = x[self.features[pos] as usize] > self.thresholds[pos];
            pos = 2 * pos + 1 + right as usize;
        }
        let leaf = pos - self.features.len();
        (leaf, self.leaves[leaf])
    }
}

fn quantize(fixed: FixedPoint, path: String, x: f64) -> Result<i64, QuantError> {
    fixed.quantize(x).ok_or(QuantError::ParameterOutOfRange { path, value: x, fixed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TreeNode;

    const FX: FixedPoint = FixedPoint { scale_bits: 4, value_bits: 20 };

    #[test]
    fn feature_index_bits_cover_every_index() {
        assert_eq!(feature_index_bits(1), 1);
        assert_eq!(feature_index_bits(2), 1);
        assert_eq!(feature_index_bits(3), 2);
        assert_eq!(feature_index_bits(30), 5);
        assert_eq!(feature_index_bits(32), 5);
        assert_eq!(feature_index_bits(33), 6);
    }

    #[test]
    fn padding_keeps_every_path_and_splits_compare_like_the_float_rule() {
        // Root splits on x1 <= 0.5: left is a leaf (-1), right splits on x0 <= 2 into 3 / 4.
        let tree = Tree {
            nodes: vec![
                TreeNode::split(1, 0.5, 1, 2),
                TreeNode::leaf(-1.0),
                TreeNode::split(0, 2.0, 3, 4),
                TreeNode::leaf(3.0),
                TreeNode::leaf(4.0),
            ],
        };
        let q = QTree::from_float(&tree, 0, 3, SplitRule::Le, FX).unwrap();
        assert_eq!(q.depth(), 3);
        assert_eq!(q.leaves.len(), 8);
        for (x0, x1) in [(0.0, 0.0), (0.0, 0.5), (0.0, 0.5625), (2.0, 1.0), (2.0625, 1.0), (-5.0, 9.0)] {
            let float = tree.leaf_value(SplitRule::Le, &[x0, x1]);
            let (_, value) = q.walk(&[FX.quantize(x0).unwrap(), FX.quantize(x1).unwrap()]);
            assert_eq!(value, FX.quantize(float).unwrap(), "x = ({x0}, {x1})");
        }
        // XGBoost's strict comparison: x == threshold goes right.
        let lt = QTree::from_float(&tree, 0, 2, SplitRule::Lt, FX).unwrap();
        assert_eq!(lt.walk(&[0, FX.quantize(0.5).unwrap()]).1, FX.quantize(3.0).unwrap());
        assert_eq!(lt.walk(&[0, FX.quantize(0.4375).unwrap()]).1, FX.quantize(-1.0).unwrap());
    }

    #[test]
    fn a_threshold_out_of_range_names_its_node() {
        let tree = Tree { nodes: vec![TreeNode::split(0, 1e9, 1, 2), TreeNode::leaf(0.0), TreeNode::leaf(1.0)] };
        let err = QTree::from_float(&tree, 7, 1, SplitRule::Le, FX).unwrap_err();
        assert!(err.to_string().contains("model.trees[7].nodes[0].threshold"), "{err}");
    }
}
