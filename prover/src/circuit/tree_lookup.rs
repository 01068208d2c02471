//! Committed tree ensembles evaluated with a dynamic lookup instead of multiplexers
//! ([`TreeSelection::Lookup`], the fast layout's choice; [`super::tree`] keeps the multiplexer
//! path, which the compact layout uses).
//!
//! One table of rows `(key, a, b)` ([`table`]) with disjoint key ranges, keys constants:
//! * input rows `(j, x_j, sample)` for every sample and feature `j < n_features`, and bound rows
//!   `(j, 0, 2^128)`;
//! * node rows `(n_features + t * N + node, feature, threshold)` for the internal nodes of tree
//!   `t` in heap order (`N = 2^(D+1) - 1` heap positions per tree), and leaf rows
//!   `(n_features + t * N + node, leaf, 0)` for its leaves (heap positions `2^D - 1 ..`).
//!
//! The feature, threshold and leaf cells are the committed (range-checked) parameters and the
//! input cells the committed inputs, copy constrained into the table. Each feature index is
//! bounded `< n_features` by looking up `(feature, 0, 2^128)` (once per node and proof; the
//! commitment's packing relies on the bound too).
//!
//! Per sample, tree and level: the node's key is `key' = 2 key + path_bit + 1 - root key`
//! from the root's constant key (one chain of two gates), so it is the heap child the
//! comparison chose; the row `(key, feature, threshold)` is looked up, then
//! `(feature, x, sample)` with `sample` a constant, and `x > threshold` is the path bit
//! (`tree::path_bit`). After `D` levels the key is a leaf's and `(key, leaf, 0)` is
//! looked up.
//!
//! Soundness: node and leaf keys are unique in the table, input keys unique per
//! `(key, sample)` and bound keys per `(key, 2^128)`. The third column tells the row kinds
//! apart for the lookups that rely on it: the bound tag `2^128` is no threshold (a signed value
//! within `2^127` of 0), no leaf row's 0 and no sample index, so only bound rows satisfy a bound
//! lookup (with a tag a threshold can take, such as -1, a node row `(key, 0, -1)` would bound a
//! feature index equal to its key; a test tries it), and a sample index (a constant) only
//! matches its own input rows. A looked-up node key is always in the node range (the
//! key chain starts at a constant and adds path bits, which are boolean); a looked-up input key
//! is a node's feature, bounded. So each lookup pins its other two cells to the one row of its
//! key: the committed feature and threshold, the input of this sample and the leaf. The
//! mock-prover tests in `tree_lookup_tests` try each substitution.
//!
//! Cost per sample, tree and level: the key chain (7 cells), three looked-up witnesses and the
//! comparison, against `2^l - 1` node selects and `2^m - 1` input selects with the
//! multiplexers; and two looked-up rows (one more per tree for the leaf). Per proof: one
//! looked-up row per node instead of a range check of its feature. (The app circuit also checks
//! a tree-lookup circuit's parameter values and inputs in one chain each,
//! `FixedPointChip::check_signed_chained`: fewer cells for the same constraint.)

pub mod table;

use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::{Constant, Existing, Witness};
use serde::{Deserialize, Serialize};

use super::field::fr_from_i64;
use super::fixed_point::FixedPointChip;
use super::tree::{adversary, goes_right};
use crate::quant::trees::TreeShape;
pub use table::{TreeLookupConfig, TreeLookupLayoutError, TreeLookups};

/// How a committed tree ensemble selects its nodes, inputs and leaves: part of the circuit
/// configuration, hence of the circuit digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeSelection {
    /// Multiplexers over a level's nodes and over the inputs ([`super::tree`]); no extra columns.
    /// Every circuit but a committed tree ensemble in the fast layout.
    #[default]
    Multiplexer,
    /// A dynamic lookup (this module) with `sets` groups of looked-up columns.
    Lookup {
        /// Groups of looked-up columns (3 advice and 1 fixed each, one lookup argument each).
        sets: usize,
    },
}

impl TreeSelection {
    /// Whether this is the multiplexer path (configurations omit the field then, so the digests
    /// of every earlier circuit are unchanged).
    pub fn is_multiplexer(&self) -> bool {
        *self == TreeSelection::Multiplexer
    }
}

/// A committed ensemble's parameters as table rows, for lookup-based evaluation.
#[derive(Clone, Debug)]
pub struct LookupTrees {
    shape: TreeShape,
    n_features: usize,
    /// Per tree and internal node: the feature index cell.
    features: Vec<AssignedValue<Fr>>,
    /// Per tree and internal node: the threshold cell.
    thresholds: Vec<AssignedValue<Fr>>,
    /// Per tree and leaf: the leaf cell.
    leaves: Vec<AssignedValue<Fr>>,
    base: AssignedValue<Fr>,
    zero: AssignedValue<Fr>,
}

impl LookupTrees {
    /// Splits the canonical tree parameters as [`super::tree::LoadedTrees::load`] does, bounds
    /// the feature indices `< n_features` (by lookups) and records the node and leaf rows in
    /// `lookups`. `features` are unconstrained cells, `values` range-checked values.
    pub fn load(
        ctx: &mut Context<Fr>,
        shape: TreeShape,
        n_features: usize,
        features: &[AssignedValue<Fr>],
        values: &[AssignedValue<Fr>],
        lookups: &mut TreeLookups,
    ) -> Self {
        let (inner, leaves) = (shape.internal_nodes(), shape.leaves());
        let thresholds = values[..shape.n_trees * inner].to_vec();
        let leaf_cells = values[shape.n_trees * inner..shape.n_trees * (inner + leaves)].to_vec();
        let zero = ctx.load_zero();
        // Feature indices: each must be the key of a bound row `(j, 0, BOUND_TAG)`, `j < n_features`.
        let bound_tag = ctx.load_constant(bound_tag());
        for j in 0..n_features {
            let key = ctx.load_constant(Fr::from(j as u64));
            lookups.add_row([key, zero, bound_tag]);
        }
        for &f in features {
            lookups.look_up([f, zero, bound_tag]);
        }
        for t in 0..shape.n_trees {
            for node in 0..inner {
                let key = ctx.load_constant(Fr::from(node_key(shape, n_features, t, node)));
                let i = t * inner + node;
                lookups.add_row([key, features[i], thresholds[i]]);
                if let Some(value) = adversary::table_threshold(t, node) {
                    lookups.tamper_last_row(2, fr_from_i64(value));
                }
            }
            for leaf in 0..leaves {
                let key = ctx.load_constant(Fr::from(node_key(shape, n_features, t, inner + leaf)));
                lookups.add_row([key, leaf_cells[t * leaves + leaf], zero]);
            }
        }
        let features = features.to_vec();
        Self { shape, n_features, features, thresholds, leaves: leaf_cells, base: values[values.len() - 1], zero }
    }

    /// The ensemble's score on sample `sample`'s range-checked inputs `x`: `base + sum of the
    /// reached leaves`, range-checked. Records the sample's input rows and its lookups.
    pub fn score(
        &self,
        ctx: &mut Context<Fr>,
        chip: &FixedPointChip<'_>,
        lookups: &mut TreeLookups,
        x: &[AssignedValue<Fr>],
        sample: usize,
    ) -> AssignedValue<Fr> {
        let gate = chip.range().gate();
        let shape = self.shape;
        let sample_cell = ctx.load_constant(Fr::from(sample as u64));
        for (j, &xj) in x.iter().enumerate() {
            let key = ctx.load_constant(Fr::from(j as u64));
            lookups.add_row([key, xj, sample_cell]);
        }
        let (inner, leaves) = (shape.internal_nodes(), shape.leaves());
        let mut terms = vec![self.base];
        for t in 0..shape.n_trees {
            let base_key = node_key(shape, self.n_features, t, 0);
            let mut key = ctx.load_constant(Fr::from(base_key));
            for level in 0..shape.depth {
                // The node the key names (natively; the lookup pins the looked-up values to it).
                let node = key_value(&key).and_then(|k| key_to_node(shape, self.n_features, k));
                let i = node.map_or(0, |(tree, n)| tree * inner + n);
                let feature = ctx.load_witness(*self.features[i].value());
                let mut threshold = *self.thresholds[i].value();
                if let Some(value) = node.and_then(|(tree, n)| adversary::table_threshold(tree, n)) {
                    threshold = fr_from_i64(value);
                }
                if adversary::forces_lookup(sample, t, level) {
                    threshold += Fr::one();
                }
                let threshold = ctx.load_witness(threshold);
                lookups.look_up([key, feature, threshold]);
                let index = key_value(&feature).map_or(0, |f| f as usize);
                let mut value = x.get(index).map_or(Fr::zero(), |c| *c.value());
                if let Some(f) = adversary::forced_feature(sample, t, level) {
                    value = *x[f].value();
                }
                let other = adversary::other_sample(sample, t, level);
                if let Some(other) = other {
                    let theirs = lookups.table_value(*feature.value(), Some(Fr::from(other as u64)), 1);
                    value = theirs.expect("an earlier sample's input row");
                }
                let value = ctx.load_witness(value);
                lookups.look_up([feature, value, sample_cell]);
                if let Some(other) = other {
                    lookups.tamper_last_lookup(2, Fr::from(other as u64));
                }
                let bit = goes_right(ctx, chip, value, threshold, adversary::flips(sample, t, level));
                key = next_key(ctx, key, bit, base_key, adversary::forced_key(sample, t, level + 1));
            }
            let leaf = key_value(&key).and_then(|k| key_to_leaf(shape, self.n_features, k));
            let mut value = leaf.map_or(Fr::zero(), |l| *self.leaves[l].value());
            if let Some(l) = adversary::forced_leaf(sample, t) {
                value = *self.leaves[t * leaves + l].value();
            }
            let value = ctx.load_witness(value);
            lookups.look_up([key, value, self.zero]);
            terms.push(value);
        }
        let score = gate.sum(ctx, terms);
        chip.check_value(ctx, score);
        score
    }
}

/// The third column of the bound rows, `2^128`: no other row's third column can equal it (a
/// threshold is range-checked to `value_bits` signed bits, and `FixedPoint` bounds values as
/// `i128`, so it is within `2^127` of 0 in the field; a leaf row's is 0, an input row's a
/// sample index below [`super::app::MAX_BATCH_SIZE`]). A tag a
/// threshold could equal (such as -1) would make that node's row a bound row, letting a feature
/// index equal to its key pass the bound.
fn bound_tag() -> Fr {
    super::field::pow2(128)
}

/// Heap positions per padded tree: `2^(D+1) - 1`.
fn heap_size(shape: TreeShape) -> u64 {
    (1u64 << (shape.depth + 1)) - 1
}

/// The key of heap position `node` of tree `tree`: after the `n_features` input keys.
fn node_key(shape: TreeShape, n_features: usize, tree: usize, node: usize) -> u64 {
    n_features as u64 + tree as u64 * heap_size(shape) + node as u64
}

/// A key cell's value as an integer (natively; `None` when it is not a small integer).
fn key_value(key: &AssignedValue<Fr>) -> Option<u64> {
    let bytes = key.value().to_bytes();
    if bytes[8..].iter().any(|&b| b != 0) {
        return None;
    }
    Some(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")))
}

/// The `(tree, internal node)` a node key names, if it names an internal node.
fn key_to_node(shape: TreeShape, n_features: usize, key: u64) -> Option<(usize, usize)> {
    let key = key.checked_sub(n_features as u64)?;
    let (tree, node) = ((key / heap_size(shape)) as usize, (key % heap_size(shape)) as usize);
    (tree < shape.n_trees && node < shape.internal_nodes()).then_some((tree, node))
}

/// The flat leaf index (over all trees) a leaf key names, if it names a leaf.
fn key_to_leaf(shape: TreeShape, n_features: usize, key: u64) -> Option<usize> {
    let key = key.checked_sub(n_features as u64)?;
    let (tree, node) = ((key / heap_size(shape)) as usize, (key % heap_size(shape)) as usize);
    let leaf = node.checked_sub(shape.internal_nodes())?;
    (tree < shape.n_trees).then_some(tree * shape.leaves() + leaf)
}

/// The heap child's key `2 key + bit + 1 - base` (`base` the tree's root key), as two gates:
/// | bit | key | 2 | t | 1 - base | 1 | out |   bit + key * 2 = t,  t + (1 - base) * 1 = out.
/// `forced` replaces the output's witness (test adversaries only; the gates still apply).
fn next_key(
    ctx: &mut Context<Fr>,
    key: AssignedValue<Fr>,
    bit: AssignedValue<Fr>,
    base: u64,
    forced: Option<u64>,
) -> AssignedValue<Fr> {
    let t = *bit.value() + *key.value() * Fr::from(2u64);
    let offset = Fr::one() - Fr::from(base);
    let out = forced.map_or(t + offset, Fr::from);
    let cells = [
        Existing(bit),
        Existing(key),
        Constant(Fr::from(2u64)),
        Witness(t),
        Constant(offset),
        Constant(Fr::one()),
        Witness(out),
    ];
    ctx.assign_region(cells, [0, 3]);
    ctx.get(-1)
}
