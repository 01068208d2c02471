//! Tree-ensemble evaluation in the circuit with a committed model by multiplexers, sound whatever
//! the witness (the fixed-model evaluation is [`super::tree_fixed`], the lookup-based one
//! [`super::tree_lookup`]).
//!
//! Layout (chosen for cost, see below): every tree is a *complete* binary tree of the
//! ensemble's depth `D` in heap order (`quant::trees` pads shallower leaves), with private
//! feature indices, thresholds and leaves behind the model commitment, so the circuit fixes only
//! the number of trees and `D`, never a tree's real shape. Per sample and tree, only the `D`
//! nodes on the sample's path are evaluated:
//!
//! 1. level `l`: the current node's feature index and threshold are *selected* from the level's
//!    `2^l` nodes by a multiplexer over the path bits so far (`2^l - 1` constrained selects each);
//! 2. the feature index is decomposed into `m = ceil(log2 n_features)` constrained bits, which
//!    select `x[feature]` through a multiplexer over the (zero-padded) inputs;
//! 3. the path bit is `x[feature] > threshold`: the top bit of the range-checked shifted
//!    difference (`path_bit`);
//! 4. after `D` levels the leaf is selected from the `2^D` leaves by the `D` path bits.
//!
//! Soundness: path bits are outputs of constrained comparisons, feature-index bits are boolean
//! and recompose to the selected index, and each multiplexer stage is a `b + sel (a - b)` gate
//! with a boolean selector and a constrained difference, so the selected leaf is exactly the one
//! the comparisons lead to: the prover cannot choose a leaf, flip a comparison or substitute a
//! value (the mock-prover tests try each). Feature indices are checked `< n_features` once per
//! model, so padding inputs are never selected.
//!
//! Cost: evaluating all `2^D - 1` comparisons per tree would need a feature selection for each
//! node; following the path needs `D` of them plus the node multiplexers, about 3x fewer cells
//! at `D = 4` and exponentially fewer as `D` grows. The feature multiplexer dominates
//! (`2^m - 1` selects per level). Its first stage always selects between the same input pairs,
//! so their differences are constrained once per sample and shared (`pair_differences`: 4
//! cells per select instead of 8); node-parameter pairs likewise once per proof. (Sharing is by
//! position, never by cell identity: halo2-base drops cell positions when it only generates
//! witnesses, and the layout must not depend on the stage.) The fast layout replaces every
//! multiplexer by a dynamic lookup ([`super::tree_lookup`], `TreeSelection::Lookup`); the
//! compact layout keeps this path (no extra columns: its verifier and digests are unchanged).

use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::{self, Constant, Existing, Witness};

use super::field::{fr_to_i128, pow2};
use super::fixed_point::FixedPointChip;
use crate::quant::trees::{feature_index_bits, TreeShape};

/// One padded tree's parameters as assigned cells.
#[derive(Clone, Debug)]
pub struct LoadedTree {
    /// Feature index of each internal node (checked `< n_features`).
    pub features: Vec<AssignedValue<Fr>>,
    /// Bits of the root's feature index (decomposed once per proof).
    pub root_feature_bits: Vec<AssignedValue<Fr>>,
    /// Threshold of each internal node (range-checked values).
    pub thresholds: Vec<AssignedValue<Fr>>,
    /// Leaf values (range-checked values).
    pub leaves: Vec<AssignedValue<Fr>>,
    /// Per level, the first-stage differences of its feature indices ([`pair_differences`];
    /// empty at the root), of its thresholds, and of the leaves: constrained once per proof.
    diffs: NodeDifferences,
}

/// The first-stage differences of one tree's multiplexers.
#[derive(Clone, Debug)]
struct NodeDifferences {
    features: Vec<Vec<AssignedValue<Fr>>>,
    thresholds: Vec<Vec<AssignedValue<Fr>>>,
    leaves: Vec<AssignedValue<Fr>>,
}

/// A tree ensemble's parameters as assigned cells.
#[derive(Clone, Debug)]
pub struct LoadedTrees {
    /// The trees.
    pub trees: Vec<LoadedTree>,
    /// The base score.
    pub base: AssignedValue<Fr>,
    /// Bits per feature index.
    pub index_bits: usize,
}

impl LoadedTrees {
    /// Splits the canonical tree parameters (`quant::QuantizedModel::params` order: feature
    /// indices, thresholds, leaves, base) and constrains the feature indices.
    ///
    /// `features` are unconstrained cells, checked here to be `< n_features` (which also bounds
    /// them for the commitment's packing); `values` (thresholds, leaves, base) must already be
    /// range-checked values.
    pub fn load(
        ctx: &mut Context<Fr>,
        chip: &FixedPointChip<'_>,
        shape: TreeShape,
        n_features: usize,
        features: &[AssignedValue<Fr>],
        values: &[AssignedValue<Fr>],
    ) -> Self {
        let range = chip.range();
        let index_bits = feature_index_bits(n_features) as usize;
        for &f in features {
            range.check_less_than_safe(ctx, f, n_features as u64);
        }
        let (inner, leaves) = (shape.internal_nodes(), shape.leaves());
        let thresholds = &values[..shape.n_trees * inner];
        let leaf_values = &values[shape.n_trees * inner..shape.n_trees * (inner + leaves)];
        let trees = (0..shape.n_trees)
            .map(|t| {
                let features = features[t * inner..(t + 1) * inner].to_vec();
                let root_feature_bits = match features.first() {
                    Some(&root) => range.gate().num_to_bits(ctx, root, index_bits),
                    None => vec![],
                };
                let thresholds = thresholds[t * inner..(t + 1) * inner].to_vec();
                let leaves = leaf_values[t * leaves..(t + 1) * leaves].to_vec();
                let per_level = |ctx: &mut Context<Fr>, cells: &[AssignedValue<Fr>]| {
                    (0..shape.depth)
                        .map(|level| pair_differences(ctx, &cells[(1 << level) - 1..(1 << (level + 1)) - 1]))
                        .collect()
                };
                let diffs = NodeDifferences {
                    features: per_level(ctx, &features),
                    thresholds: per_level(ctx, &thresholds),
                    leaves: pair_differences(ctx, &leaves),
                };
                LoadedTree { features, root_feature_bits, thresholds, leaves, diffs }
            })
            .collect();
        Self { trees, base: values[values.len() - 1], index_bits }
    }

    /// The ensemble's score on one sample of range-checked inputs `x`: `base + sum of the
    /// reached leaves`, range-checked. `sample` only identifies the sample to test adversaries.
    pub fn score(
        &self,
        ctx: &mut Context<Fr>,
        chip: &FixedPointChip<'_>,
        x: &[AssignedValue<Fr>],
        sample: usize,
    ) -> AssignedValue<Fr> {
        let gate = chip.range().gate();
        let zero = ctx.load_zero();
        let mut padded = x.to_vec();
        padded.resize(1 << self.index_bits, zero);
        let mut terms = vec![self.base];
        // The inputs' first-stage differences: the same pairs for every tree and level.
        let x_diffs = pair_differences(ctx, &padded);
        for (t, tree) in self.trees.iter().enumerate() {
            let depth = tree.leaves.len().trailing_zeros() as usize;
            // Path bits, first decision first (the most significant bit of the node index).
            let mut path: Vec<AssignedValue<Fr>> = Vec::with_capacity(depth);
            for level in 0..depth {
                let nodes = (1 << level) - 1..(1 << (level + 1)) - 1;
                let lsb_first: Vec<_> = path.iter().rev().copied().collect();
                let feature_bits = if level == 0 {
                    tree.root_feature_bits.clone()
                } else {
                    let features = &tree.features[nodes.clone()];
                    let feature = mux(ctx, features, &tree.diffs.features[level], &lsb_first, None);
                    gate.num_to_bits(ctx, feature, self.index_bits)
                };
                let threshold = mux(ctx, &tree.thresholds[nodes], &tree.diffs.thresholds[level], &lsb_first, None);
                let forced = adversary::forced_feature(sample, t, level).map(|f| *padded[f].value());
                let value = mux(ctx, &padded, &x_diffs, &feature_bits, forced);
                let flip = adversary::flips(sample, t, level);
                path.push(goes_right(ctx, chip, value, threshold, flip));
            }
            let lsb_first: Vec<_> = path.iter().rev().copied().collect();
            let forced = adversary::forced_leaf(sample, t).map(|leaf| *tree.leaves[leaf].value());
            terms.push(mux(ctx, &tree.leaves, &tree.diffs.leaves, &lsb_first, forced));
        }
        let score = gate.sum(ctx, terms);
        chip.check_value(ctx, score);
        score
    }
}

/// Selects `values[index]` where `index = sum_i bits[i] 2^i` (bits boolean, least significant
/// first; `values.len() == 2^bits.len()`), with one `b + sel (a - b)` gate per pair and stage;
/// the first stage uses the pairs' precomputed differences `first` ([`pair_differences`]).
/// `forced` replaces the final output's witness (test adversaries only; the gate still applies).
fn mux(
    ctx: &mut Context<Fr>,
    values: &[AssignedValue<Fr>],
    first: &[AssignedValue<Fr>],
    bits: &[AssignedValue<Fr>],
    forced: Option<Fr>,
) -> AssignedValue<Fr> {
    assert_eq!(values.len(), 1 << bits.len(), "multiplexer width");
    let mut layer = values.to_vec();
    for (stage, &bit) in bits.iter().enumerate() {
        let last = stage + 1 == bits.len();
        let forced = forced.filter(|_| last);
        layer = layer
            .chunks(2)
            .enumerate()
            .map(|(i, pair)| match stage {
                0 => select_known(ctx, pair[0], first[i], bit, forced),
                _ => select(ctx, Existing(pair[1]), Existing(pair[0]), bit, forced),
            })
            .collect();
    }
    layer[0]
}

/// The differences `values[2i+1] - values[2i]` of consecutive pairs, each constrained by one
/// gate. A multiplexer's first stage always selects within these pairs, so with them known each
/// of its selects is one gate ([`select_known`]: 4 cells, against 8 with its own difference):
/// the inputs' differences serve every tree and level of a sample, the nodes' every sample.
pub(super) fn pair_differences(ctx: &mut Context<Fr>, values: &[AssignedValue<Fr>]) -> Vec<AssignedValue<Fr>> {
    values.chunks(2).filter(|pair| pair.len() == 2).map(|pair| difference(ctx, pair[1], pair[0])).collect()
}

/// `a - b`, constrained: | diff | 1 | b | a |   diff + 1 * b = a
pub(super) fn difference(ctx: &mut Context<Fr>, a: AssignedValue<Fr>, b: AssignedValue<Fr>) -> AssignedValue<Fr> {
    ctx.assign_region([Witness(*a.value() - b.value()), Constant(Fr::one()), Existing(b), Existing(a)], [0]);
    ctx.get(-4)
}

/// `sel ? b + diff : b` as one gate `b + sel * diff = out`, for a `diff` constrained to `a - b`
/// (`sel` a constrained bit). `forced` replaces the output's witness (test adversaries only).
pub(super) fn select_known(
    ctx: &mut Context<Fr>,
    b: AssignedValue<Fr>,
    diff: AssignedValue<Fr>,
    sel: AssignedValue<Fr>,
    forced: Option<Fr>,
) -> AssignedValue<Fr> {
    let out = forced.unwrap_or(*b.value() + *sel.value() * diff.value());
    // | b | sel | diff | out |   b + sel * diff = out
    ctx.assign_region_last([Existing(b), Existing(sel), Existing(diff), Witness(out)], [0])
}

/// `sel ? a : b` as the gate `b + sel * (a - b) = out` (`sel` must be a constrained bit; `a`
/// and `b` cells or constants). `forced` replaces the output's witness (test adversaries only).
pub(super) fn select(
    ctx: &mut Context<Fr>,
    a: QuantumCell<Fr>,
    b: QuantumCell<Fr>,
    sel: AssignedValue<Fr>,
    forced: Option<Fr>,
) -> AssignedValue<Fr> {
    let diff = *a.value() - b.value();
    let out = forced.unwrap_or(*b.value() + *sel.value() * diff);
    // | diff | 1 | b | a |      diff + 1 * b = a
    // | b | sel | diff | out |   b + sel * diff = out   (the layout of halo2-base's `select`)
    let cells = [Witness(diff), Constant(Fr::one()), b, a, b, Existing(sel), Witness(diff), Witness(out)];
    ctx.assign_region_smart(cells, [0, 4], [(0, 6)], []);
    ctx.last().expect("just assigned")
}

/// 1 if `x > threshold` (both range-checked values), else 0.
pub(super) fn goes_right(
    ctx: &mut Context<Fr>,
    chip: &FixedPointChip<'_>,
    x: AssignedValue<Fr>,
    threshold: AssignedValue<Fr>,
    flip: bool,
) -> AssignedValue<Fr> {
    let gate = chip.range().gate();
    let diff = gate.sub(ctx, x, threshold);
    let shifted = gate.add(ctx, diff, Constant(comparison_offset(chip)));
    path_bit(ctx, chip, shifted, flip)
}

/// The constant `2^value_bits - 1` that shifts `x - threshold` (two values) into
/// `[0, 2^(value_bits + 1))` so that `x > threshold` is the shifted difference's top bit.
pub(super) fn comparison_offset(chip: &FixedPointChip<'_>) -> Fr {
    pow2(chip.fixed().value_bits as u64) - Fr::one()
}

/// The path bit `x > threshold` from `shifted = x - threshold + 2^value_bits - 1` (see
/// [`comparison_offset`]; in `[0, 2^(value_bits + 1))` for two values): its top bit `hi`, with
/// `shifted = hi * 2^value_bits + lo`, `hi` boolean and `lo` range-checked to `value_bits` bits,
/// so the decomposition is unique and `hi = 1` exactly when `x - threshold - 1 >= 0`. The
/// decomposition is witnessed here so a test adversary can `flip` it (the constraints are the
/// same and reject the flipped one).
pub(super) fn path_bit(
    ctx: &mut Context<Fr>,
    chip: &FixedPointChip<'_>,
    shifted: AssignedValue<Fr>,
    flip: bool,
) -> AssignedValue<Fr> {
    let gate = chip.range().gate();
    let low_bits = chip.fixed().value_bits;
    let half = pow2(low_bits as u64);
    let u = fr_to_i128(shifted.value()).expect("a shifted difference of values");
    let hi = (u >= 1i128 << low_bits) ^ flip;
    let hi = ctx.load_witness(Fr::from(hi as u64));
    gate.assert_bit(ctx, hi);
    // | lo | hi | 2^value_bits | shifted |   lo + hi * 2^value_bits = shifted
    let lo = *shifted.value() - *hi.value() * half;
    ctx.assign_region([Witness(lo), Existing(hi), Constant(half), Existing(shifted)], [0]);
    let lo = ctx.get(-4);
    chip.range().range_check(ctx, lo, low_bits as usize);
    hi
}

/// Test-only adversaries: a dishonest prover's witness choices, injected at one point of the
/// evaluation while everything downstream is computed honestly from them.
pub(crate) mod adversary {
    #[cfg(test)]
    use std::cell::Cell;

    /// A dishonest choice for one (sample, tree).
    #[cfg(test)]
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Tamper {
        /// Flip the comparison at `level` (and follow the other branch).
        FlipComparison { sample: usize, tree: usize, level: usize },
        /// Output leaf `leaf`'s value instead of the reached leaf's.
        ForceLeaf { sample: usize, tree: usize, leaf: usize },
        /// Compare input `feature` instead of the node's feature at `level`.
        ForceFeature { sample: usize, tree: usize, level: usize, feature: usize },
        /// Lookup path: look up a threshold that is not in the table at `level`.
        ForceLookup { sample: usize, tree: usize, level: usize },
        /// Lookup path: the key after `level` path bits (`level` = depth: the leaf's) is `key`
        /// instead of the one the path bits give; the looked-up values are that key's row.
        ForceKey { sample: usize, tree: usize, level: usize, key: u64 },
        /// Lookup path: the table row of (`tree`, `node`) lays out threshold `value` instead of
        /// the committed one, and every lookup of that node uses it.
        TableThreshold { tree: usize, node: usize, value: i64 },
        /// Lookup path: compare sample `other`'s input (an earlier sample) at `level`, its
        /// looked-up sample cell laid out as `other`.
        OtherSample { sample: usize, tree: usize, level: usize, other: usize },
    }

    #[cfg(test)]
    thread_local! {
        static TAMPER: Cell<Option<Tamper>> = const { Cell::new(None) };
    }

    /// Runs `f` with `tamper` active on this thread.
    #[cfg(test)]
    pub(crate) fn with<T>(tamper: Tamper, f: impl FnOnce() -> T) -> T {
        TAMPER.with(|c| c.set(Some(tamper)));
        let out = f();
        TAMPER.with(|c| c.set(None));
        out
    }

    pub(in crate::circuit) fn flips(sample: usize, tree: usize, level: usize) -> bool {
        #[cfg(test)]
        if let Some(Tamper::FlipComparison { sample: s, tree: t, level: l }) = TAMPER.with(Cell::get) {
            return (s, t, l) == (sample, tree, level);
        }
        let _ = (sample, tree, level);
        false
    }

    pub(in crate::circuit) fn forced_feature(sample: usize, tree: usize, level: usize) -> Option<usize> {
        #[cfg(test)]
        if let Some(Tamper::ForceFeature { sample: s, tree: t, level: l, feature }) = TAMPER.with(Cell::get) {
            return ((s, t, l) == (sample, tree, level)).then_some(feature);
        }
        let _ = (sample, tree, level);
        None
    }

    pub(in crate::circuit) fn forces_lookup(sample: usize, tree: usize, level: usize) -> bool {
        #[cfg(test)]
        if let Some(Tamper::ForceLookup { sample: s, tree: t, level: l }) = TAMPER.with(Cell::get) {
            return (s, t, l) == (sample, tree, level);
        }
        let _ = (sample, tree, level);
        false
    }

    pub(in crate::circuit) fn forced_key(sample: usize, tree: usize, level: usize) -> Option<u64> {
        #[cfg(test)]
        if let Some(Tamper::ForceKey { sample: s, tree: t, level: l, key }) = TAMPER.with(Cell::get) {
            return ((s, t, l) == (sample, tree, level)).then_some(key);
        }
        let _ = (sample, tree, level);
        None
    }

    pub(in crate::circuit) fn table_threshold(tree: usize, node: usize) -> Option<i64> {
        #[cfg(test)]
        if let Some(Tamper::TableThreshold { tree: t, node: n, value }) = TAMPER.with(Cell::get) {
            return ((t, n) == (tree, node)).then_some(value);
        }
        let _ = (tree, node);
        None
    }

    pub(in crate::circuit) fn other_sample(sample: usize, tree: usize, level: usize) -> Option<usize> {
        #[cfg(test)]
        if let Some(Tamper::OtherSample { sample: s, tree: t, level: l, other }) = TAMPER.with(Cell::get) {
            return ((s, t, l) == (sample, tree, level)).then_some(other);
        }
        let _ = (sample, tree, level);
        None
    }

    pub(in crate::circuit) fn forced_leaf(sample: usize, tree: usize) -> Option<usize> {
        #[cfg(test)]
        if let Some(Tamper::ForceLeaf { sample: s, tree: t, leaf }) = TAMPER.with(Cell::get) {
            return ((s, t) == (sample, tree)).then_some(leaf);
        }
        let _ = (sample, tree);
        None
    }
}
