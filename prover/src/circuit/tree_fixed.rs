//! Tree ensembles with a fixed model ([`super::Visibility::Fixed`]): every node's feature
//! index and threshold and every leaf are constants of the circuit.
//!
//! The path is followed as in [`super::tree`], but nothing about a node is witnessed: at level
//! `l` the compared input is `x[feature_j]` for one of the level's `2^l` nodes `j`, all known
//! cells, and the threshold one of `2^l` constants. Both are picked by the path bits through
//! multiplexers over *slots* (a constant or a cell), which cost nothing where a pair is equal
//! (padded subtrees repeat the same leaf, nodes often share a feature), 4 cells where both are
//! constants, 4 cells where both are inputs whose difference is already known (one
//! difference per input pair and sample, see `tree::pair_differences`) and 8 otherwise. The
//! root needs no selection at all: its input cell and threshold are known.
//!
//! Soundness: the constants are in the verifying key, path bits are outputs of constrained
//! comparisons (range-checked as in the committed circuit), and every select is a
//! `b + sel (a - b)` gate with a boolean selector, so the prover chooses nothing (the
//! mock-prover tests flip a comparison, force a leaf and force another feature).

use std::collections::HashMap;

use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::{self, Constant, Existing, Witness};

use super::field::fr_from_i64;
use super::fixed_point::FixedPointChip;
use super::tree::{adversary, comparison_offset, difference, path_bit, select, select_known};
use crate::quant::QTree;

/// A fixed tree ensemble: the parameters as constants.
#[derive(Debug)]
pub struct FixedTrees {
    trees: Vec<QTree>,
    base: i64,
}

/// Differences `x[a] - x[b]` of one sample's inputs, by feature pair `(a, b)`, constrained once.
type InputDifferences = HashMap<(usize, usize), AssignedValue<Fr>>;

/// A multiplexer input: a constant, input `x[f]` (identified by `f`), or a select's output.
/// Identities are by value or position, never by cell (halo2-base drops cell positions when it
/// only generates witnesses, and the layout must not depend on the stage).
#[derive(Clone, Copy, Debug)]
enum Slot {
    Const(Fr),
    Input(usize, AssignedValue<Fr>),
    Cell(AssignedValue<Fr>),
}

impl Slot {
    fn quantum(self) -> QuantumCell<Fr> {
        match self {
            Slot::Const(c) => Constant(c),
            Slot::Input(_, a) | Slot::Cell(a) => Existing(a),
        }
    }

    /// Whether both are the same constant or the same input (a select's output is unique).
    fn same(&self, other: &Slot) -> bool {
        match (self, other) {
            (Slot::Const(a), Slot::Const(b)) => a == b,
            (Slot::Input(a, _), Slot::Input(b, _)) => a == b,
            _ => false,
        }
    }
}

impl FixedTrees {
    /// The ensemble `trees` (padded, validated natively) with base score `base`.
    pub fn new(trees: &[QTree], base: i64) -> Self {
        Self { trees: trees.to_vec(), base }
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
        let mut diffs = InputDifferences::new();
        let offset = comparison_offset(chip);
        let mut constant = fr_from_i64(self.base);
        let mut cells = Vec::new();
        for (t, tree) in self.trees.iter().enumerate() {
            // Path bits, first decision first (the most significant bit of the node index).
            let mut path: Vec<AssignedValue<Fr>> = Vec::with_capacity(tree.depth());
            for level in 0..tree.depth() {
                let nodes = (1 << level) - 1..(1 << (level + 1)) - 1;
                let lsb_first: Vec<_> = path.iter().rev().copied().collect();
                let inputs: Vec<_> =
                    nodes.clone().map(|j| tree.features[j] as usize).map(|f| Slot::Input(f, x[f])).collect();
                // x > t  <=>  the top bit of x - t + offset (see `path_bit`)
                let shifts: Vec<_> = nodes.map(|j| Slot::Const(offset - fr_from_i64(tree.thresholds[j]))).collect();
                let forced = adversary::forced_feature(sample, t, level).map(|f| *x[f].value());
                let value = mux(ctx, &inputs, &lsb_first, forced, &mut diffs);
                let shift = mux(ctx, &shifts, &lsb_first, None, &mut diffs);
                let shifted = gate.add(ctx, value.quantum(), shift.quantum());
                let flip = adversary::flips(sample, t, level);
                path.push(path_bit(ctx, chip, shifted, flip));
            }
            let lsb_first: Vec<_> = path.iter().rev().copied().collect();
            let leaves: Vec<_> = tree.leaves.iter().map(|&v| Slot::Const(fr_from_i64(v))).collect();
            let forced = adversary::forced_leaf(sample, t).map(|leaf| fr_from_i64(tree.leaves[leaf]));
            match mux(ctx, &leaves, &lsb_first, forced, &mut diffs) {
                Slot::Const(c) => constant += c,
                Slot::Input(_, a) | Slot::Cell(a) => cells.push(a),
            }
        }
        let score = gate.sum(ctx, cells.into_iter().map(Existing).chain([Constant(constant)]));
        chip.check_value(ctx, score);
        score
    }
}

/// Selects `values[index]` where `index = sum_i bits[i] 2^i` (bits boolean, least significant
/// first; `values.len() == 2^bits.len()`). Equal pairs pass through without a gate unless
/// `forced` (a test adversary's replacement of the final output) applies.
fn mux(
    ctx: &mut Context<Fr>,
    values: &[Slot],
    bits: &[AssignedValue<Fr>],
    forced: Option<Fr>,
    diffs: &mut InputDifferences,
) -> Slot {
    assert_eq!(values.len(), 1 << bits.len(), "multiplexer width");
    let mut layer = values.to_vec();
    for (stage, &bit) in bits.iter().enumerate() {
        let forced = forced.filter(|_| stage + 1 == bits.len());
        layer = layer.chunks(2).map(|pair| select_slot(ctx, pair[1], pair[0], bit, forced, diffs)).collect();
    }
    layer[0]
}

/// `sel ? a : b` over slots.
fn select_slot(
    ctx: &mut Context<Fr>,
    a: Slot,
    b: Slot,
    sel: AssignedValue<Fr>,
    forced: Option<Fr>,
    diffs: &mut InputDifferences,
) -> Slot {
    if forced.is_none() && a.same(&b) {
        return a;
    }
    let out = match (a, b) {
        (Slot::Const(a), Slot::Const(b)) => {
            let out = forced.unwrap_or(b + *sel.value() * (a - b));
            // | b | sel | a - b | out |   b + sel * (a - b) = out
            ctx.assign_region_last([Constant(b), Existing(sel), Constant(a - b), Witness(out)], [0])
        }
        (Slot::Input(fa, a), Slot::Input(fb, b)) => {
            let diff = *diffs.entry((fa, fb)).or_insert_with(|| difference(ctx, a, b));
            select_known(ctx, b, diff, sel, forced)
        }
        (a, b) => select(ctx, a.quantum(), b.quantum(), sel, forced),
    };
    Slot::Cell(out)
}
