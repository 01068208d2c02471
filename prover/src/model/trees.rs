//! Tree ensembles in the model file: the node schema, structural validation (children in range,
//! every node reached exactly once from the root, depth limit, feature indices) and the float
//! walk that the quantized trees are measured against.
//!
//! One schema serves decision trees, random forests, gradient-boosted ensembles (scikit-learn and
//! XGBoost) and isolation forests: `score = base_score + sum over trees of the reached leaf's
//! value`. The exporters bake each family's arithmetic into the leaf values (see
//! `docs/MODEL_FORMAT.md`), so the prover evaluates all of them the same way.

use serde::{Deserialize, Serialize};

use super::error::Problem;

/// Deepest tree accepted (root at depth 0). The circuit pads every tree to a complete tree of
/// the ensemble's depth, so its cost doubles with each level.
pub const MAX_TREE_DEPTH: usize = 12;
/// Most trees in one ensemble.
pub const MAX_TREES: usize = 1024;

/// Where the leaf values came from (informational: the arithmetic is the same for all kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeKind {
    /// One `DecisionTreeClassifier`: leaf = P(class 1).
    DecisionTree,
    /// `RandomForestClassifier`: leaf = P(class 1) / n_trees (mean of probabilities).
    RandomForest,
    /// `GradientBoostingClassifier`: leaf = learning rate x value, base = prior log-odds.
    GradientBoosting,
    /// An XGBoost booster: leaf values as dumped, base = margin of `base_score`.
    Xgboost,
    /// `IsolationForest`: leaf = -(depth + c(n_leaf)) / (n_trees c(max_samples)).
    IsolationForest,
}

/// The comparison at a split node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitRule {
    /// Left iff `x <= threshold` (scikit-learn).
    #[default]
    Le,
    /// Left iff `x < threshold`, compared in float32 (XGBoost).
    Lt,
}

impl SplitRule {
    /// Whether a float sample goes left at `threshold`.
    pub fn goes_left(self, x: f64, threshold: f64) -> bool {
        match self {
            SplitRule::Le => x <= threshold,
            // XGBoost casts both sides to float32 before comparing.
            SplitRule::Lt => (x as f32) < (threshold as f32),
        }
    }
}

/// One tree: `nodes[0]` is the root.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// Split and leaf nodes; children are indices into this list.
    pub nodes: Vec<TreeNode>,
}

/// A node as written in the file: a split has `feature`, `threshold`, `left`, `right`; a leaf
/// has `value` only. The flat form keeps serde's error paths precise; [`TreeNode::kind`] gives
/// the checked view.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeNode {
    /// Split: index into the model's `features`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<usize>,
    /// Split: the threshold in raw feature units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Split: index of the left child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<usize>,
    /// Split: index of the right child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<usize>,
    /// Leaf: its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// The checked view of a node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeKind {
    /// `x[feature]` against `threshold`, then `left` or `right`.
    Split {
        /// Feature index.
        feature: usize,
        /// Threshold.
        threshold: f64,
        /// Left child.
        left: usize,
        /// Right child.
        right: usize,
    },
    /// A leaf.
    Leaf {
        /// Its value.
        value: f64,
    },
}

impl TreeNode {
    /// A split node.
    pub fn split(feature: usize, threshold: f64, left: usize, right: usize) -> Self {
        Self { feature: Some(feature), threshold: Some(threshold), left: Some(left), right: Some(right), value: None }
    }

    /// A leaf node.
    pub fn leaf(value: f64) -> Self {
        Self { value: Some(value), ..Self::default() }
    }

    /// The node's kind, or what is wrong with its fields (`path` names the node).
    pub fn kind(&self, path: &str) -> Result<NodeKind, Problem> {
        match (self.feature, self.threshold, self.left, self.right, self.value) {
            (Some(feature), Some(threshold), Some(left), Some(right), None) => {
                Ok(NodeKind::Split { feature, threshold, left, right })
            }
            (None, None, None, None, Some(value)) => Ok(NodeKind::Leaf { value }),
            _ => Err(Problem::new(
                path,
                "a split {feature, threshold, left, right} or a leaf {value}",
                self.describe_fields(),
            )),
        }
    }

    fn describe_fields(&self) -> String {
        let present: Vec<&str> = [
            ("feature", self.feature.is_some()),
            ("threshold", self.threshold.is_some()),
            ("left", self.left.is_some()),
            ("right", self.right.is_some()),
            ("value", self.value.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        format!("fields {{{}}}", present.join(", "))
    }
}

impl Tree {
    /// Checks the tree (`path` names it, e.g. `model.trees[3]`) and returns its depth.
    ///
    /// Walks from the root with an explicit stack, so a cycle, a shared child or an unreachable
    /// node is reported instead of looping: every node must be reached exactly once.
    pub fn check(&self, path: &str, n_features: usize) -> Result<usize, Problem> {
        let nodes = &self.nodes;
        if nodes.is_empty() {
            return Err(Problem::new(format!("{path}.nodes"), "at least one node", "an empty list"));
        }
        let mut parent: Vec<Option<usize>> = vec![None; nodes.len()];
        let mut seen = vec![false; nodes.len()];
        seen[0] = true;
        let mut depth = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((index, level)) = stack.pop() {
            let node_path = format!("{path}.nodes[{index}]");
            depth = depth.max(level);
            if level > MAX_TREE_DEPTH {
                return Err(Problem::new(
                    node_path,
                    format!("a tree of depth <= {MAX_TREE_DEPTH}"),
                    format!("a node at depth {level}"),
                ));
            }
            match nodes[index].kind(&node_path)? {
                NodeKind::Leaf { value } => check_number(&format!("{node_path}.value"), value)?,
                NodeKind::Split { feature, threshold, left, right } => {
                    if feature >= n_features {
                        return Err(Problem::new(
                            format!("{node_path}.feature"),
                            format!("a feature index < {n_features}"),
                            feature.to_string(),
                        ));
                    }
                    check_number(&format!("{node_path}.threshold"), threshold)?;
                    for (side, child) in [("left", left), ("right", right)] {
                        let child_path = format!("{node_path}.{side}");
                        if child >= nodes.len() {
                            return Err(Problem::new(
                                child_path,
                                format!("a node index < {}", nodes.len()),
                                child.to_string(),
                            ));
                        }
                        if seen[child] {
                            let found = if child == 0 || is_ancestor(&parent, child, index) {
                                format!("{child}, an ancestor (a cycle)")
                            } else {
                                format!("{child}, already the child of another node")
                            };
                            return Err(Problem::new(child_path, "a node reached only once from the root", found));
                        }
                        seen[child] = true;
                        parent[child] = Some(index);
                        stack.push((child, level + 1));
                    }
                }
            }
        }
        if let Some(orphan) = seen.iter().position(|s| !s) {
            return Err(Problem::new(
                format!("{path}.nodes[{orphan}]"),
                "a node reachable from the root (nodes[0])",
                "an unreachable node",
            ));
        }
        Ok(depth)
    }

    /// The value of the leaf `x` reaches. The tree must have passed [`Tree::check`].
    pub fn leaf_value(&self, split: SplitRule, x: &[f64]) -> f64 {
        let mut index = 0;
        loop {
            match self.nodes[index].kind("").expect("checked tree") {
                NodeKind::Leaf { value } => return value,
                NodeKind::Split { feature, threshold, left, right } => {
                    index = if split.goes_left(x[feature], threshold) { left } else { right };
                }
            }
        }
    }
}

fn is_ancestor(parent: &[Option<usize>], candidate: usize, mut node: usize) -> bool {
    loop {
        if node == candidate {
            return true;
        }
        match parent[node] {
            Some(p) => node = p,
            None => return false,
        }
    }
}

fn check_number(path: &str, v: f64) -> Result<(), Problem> {
    super::validate::check_finite_one(path, v)
}

/// Checks every tree of an ensemble; returns the ensemble's depth (the deepest tree's).
pub fn check_trees(trees: &[Tree], n_features: usize) -> Result<usize, Problem> {
    if trees.is_empty() || trees.len() > MAX_TREES {
        return Err(Problem::new("model.trees", format!("1..={MAX_TREES} trees"), trees.len().to_string()));
    }
    let mut depth = 0;
    for (t, tree) in trees.iter().enumerate() {
        depth = depth.max(tree.check(&format!("model.trees[{t}]"), n_features)?);
    }
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Tree {
        Tree { nodes: vec![TreeNode::split(1, 0.5, 1, 2), TreeNode::leaf(-1.0), TreeNode::leaf(2.0)] }
    }

    #[test]
    fn a_valid_tree_has_its_depth_and_walks_both_ways() {
        let tree = stump();
        assert_eq!(tree.check("t", 2), Ok(1));
        assert_eq!(tree.leaf_value(SplitRule::Le, &[0.0, 0.5]), -1.0);
        assert_eq!(tree.leaf_value(SplitRule::Lt, &[0.0, 0.5]), 2.0);
        assert_eq!(tree.leaf_value(SplitRule::Le, &[0.0, 0.6]), 2.0);
        let single = Tree { nodes: vec![TreeNode::leaf(3.0)] };
        assert_eq!(single.check("t", 1), Ok(0));
    }

    fn problem(tree: &Tree, n_features: usize) -> Problem {
        tree.check("model.trees[0]", n_features).unwrap_err()
    }

    #[test]
    fn structural_errors_name_the_node_and_the_problem() {
        let mut t = stump();
        t.nodes[0].right = Some(7);
        let p = problem(&t, 2);
        assert_eq!(p.path, "model.trees[0].nodes[0].right");
        assert!(p.expected.contains("< 3"), "{p:?}");

        let mut t = stump();
        t.nodes[0].feature = Some(2);
        assert_eq!(problem(&t, 2).path, "model.trees[0].nodes[0].feature");

        let mut t = stump();
        t.nodes[0].left = Some(0);
        let p = problem(&t, 2);
        assert!(p.found.contains("cycle"), "{p:?}");

        let t = Tree {
            nodes: vec![
                TreeNode::split(0, 0.0, 1, 2),
                TreeNode::split(0, 1.0, 2, 3),
                TreeNode::leaf(0.0),
                TreeNode::leaf(1.0),
            ],
        };
        assert!(problem(&t, 1).found.contains("another node"));

        let mut t = stump();
        t.nodes.push(TreeNode::leaf(9.0));
        let p = problem(&t, 2);
        assert_eq!((p.path.as_str(), p.found.as_str()), ("model.trees[0].nodes[3]", "an unreachable node"));

        let mut t = stump();
        t.nodes[1] = TreeNode { value: Some(1.0), feature: Some(0), ..TreeNode::default() };
        let p = problem(&t, 2);
        assert_eq!(p.path, "model.trees[0].nodes[1]");
        assert_eq!(p.found, "fields {feature, value}");

        let mut t = stump();
        t.nodes[0].threshold = Some(f64::NAN);
        assert_eq!(problem(&t, 2).path, "model.trees[0].nodes[0].threshold");
    }

    #[test]
    fn trees_deeper_than_the_limit_are_refused() {
        // A chain: node 2i splits into leaf 2i+1 and node 2i+2.
        let levels = MAX_TREE_DEPTH + 1;
        let mut nodes = Vec::new();
        for i in 0..levels {
            nodes.push(TreeNode::split(0, i as f64, 2 * i + 1, 2 * i + 2));
            nodes.push(TreeNode::leaf(i as f64));
        }
        nodes.push(TreeNode::leaf(-1.0));
        let p = problem(&Tree { nodes }, 1);
        assert!(p.found.contains(&format!("depth {}", MAX_TREE_DEPTH + 1)), "{p:?}");
    }
}
