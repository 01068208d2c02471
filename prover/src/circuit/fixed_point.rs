//! The fixed-point chip: signed range checks, rescaling, dot products, ReLU, comparisons and
//! squared error over `FixedPoint` values, on top of halo2-base's `RangeChip`.
//!
//! ## Assumptions
//! * A *value* is a signed integer `v` with `-2^(value_bits-1) <= v < 2^(value_bits-1)`, held in
//!   the field as `v mod r`. Functions marked "checked" constrain this; the others require it of
//!   their inputs.
//! * `2 * value_bits + 10 < 250`, so that products and sums of up to 256 products never wrap the
//!   field (the chip's constructor asserts it).
//! * `scale_bits < value_bits`.

use halo2_base::gates::{GateInstructions, RangeChip, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::{Constant, Existing, Witness};

use super::field::{fr_from_i128, fr_to_i128, pow2};
use crate::quant::FixedPoint;

/// Fixed-point arithmetic over a range chip.
#[derive(Clone, Debug)]
pub struct FixedPointChip<'a> {
    range: &'a RangeChip<Fr>,
    fixed: FixedPoint,
}

impl<'a> FixedPointChip<'a> {
    /// A chip for values of format `fixed`.
    pub fn new(range: &'a RangeChip<Fr>, fixed: FixedPoint) -> Self {
        assert!(2 * fixed.value_bits + 10 < 250, "value_bits too large for the field");
        assert!(fixed.scale_bits < fixed.value_bits, "scale_bits must be below value_bits");
        Self { range, fixed }
    }

    /// The underlying range chip.
    pub fn range(&self) -> &RangeChip<Fr> {
        self.range
    }

    /// The fixed-point format.
    pub fn fixed(&self) -> FixedPoint {
        self.fixed
    }

    fn offset(&self, bits: u32) -> Fr {
        pow2((bits - 1) as u64)
    }

    /// Assigns a private signed value and range-checks it (checked).
    pub fn load_value(&self, ctx: &mut Context<Fr>, v: i64) -> AssignedValue<Fr> {
        let a = ctx.load_witness(fr_from_i64(v));
        self.check_value(ctx, a);
        a
    }

    /// Constrains `a` to be a signed value of `value_bits` bits.
    pub fn check_value(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>) {
        self.check_signed(ctx, a, self.fixed.value_bits);
    }

    /// Constrains `a` to be a signed integer of `bits` bits: `a + 2^(bits-1)` is in `[0, 2^bits)`.
    pub fn check_signed(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>, bits: u32) {
        let shifted = self.range.gate().add(ctx, a, Constant(self.offset(bits)));
        self.range.range_check(ctx, shifted, bits as usize);
    }

    /// Returns 1 if `a < 0`, else 0, and constrains `a` to be a signed integer of `bits` bits.
    ///
    /// `u = a + 2^(bits-1)` is decomposed as `hi * 2^(bits-1) + lo` with `lo` range-checked to
    /// `bits - 1` bits and `hi` a bit; `a < 0` exactly when `hi = 0`.
    pub fn is_negative(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>, bits: u32) -> AssignedValue<Fr> {
        let u_val = fr_to_i128(a.value()).expect("a is a small signed value") + (1i128 << (bits - 1));
        let hi_val = u_val >= (1i128 << (bits - 1));
        let lo_val = if hi_val { u_val - (1i128 << (bits - 1)) } else { u_val };
        self.is_negative_witnessed(ctx, a, bits, fr_from_i128(lo_val), Fr::from(hi_val as u64))
    }

    /// [`Self::is_negative`] with the decomposition `(lo, hi)` supplied by the caller; the
    /// constraints are the same, so a wrong decomposition makes the circuit unsatisfied.
    pub(crate) fn is_negative_witnessed(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        bits: u32,
        lo: Fr,
        hi: Fr,
    ) -> AssignedValue<Fr> {
        let gate = self.range.gate();
        let half = self.offset(bits);
        let lo = ctx.load_witness(lo);
        let hi = ctx.load_witness(hi);
        gate.assert_bit(ctx, hi);
        self.range.range_check(ctx, lo, (bits - 1) as usize);
        // a + half == hi * half + lo
        let u = gate.add(ctx, a, Constant(half));
        let recomposed = gate.mul_add(ctx, hi, Constant(half), lo);
        ctx.constrain_equal(&u, &recomposed);
        gate.not(ctx, hi)
    }

    /// Floor division by `2^scale_bits` (checked): returns `q` with `a = q * 2^s + rem`,
    /// `0 <= rem < 2^s` and `q` a value. `a` must be far from the field's wrap-around (see the
    /// module assumptions).
    pub fn rescale(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>) -> AssignedValue<Fr> {
        let s = self.fixed.scale_bits;
        let a_val = fr_to_i128(a.value()).expect("rescale input is a small signed value");
        let q_val = a_val.div_euclid(1i128 << s);
        let rem_val = a_val - q_val * (1i128 << s);
        self.rescale_witnessed(ctx, a, fr_from_i128(q_val), fr_from_i128(rem_val))
    }

    /// [`Self::rescale`] with the quotient and remainder supplied by the caller; the
    /// constraints are the same, so a wrong pair makes the circuit unsatisfied.
    pub(crate) fn rescale_witnessed(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        q: Fr,
        rem: Fr,
    ) -> AssignedValue<Fr> {
        let gate = self.range.gate();
        let s = self.fixed.scale_bits;
        let q = ctx.load_witness(q);
        let rem = ctx.load_witness(rem);
        self.range.range_check(ctx, rem, s as usize);
        self.check_value(ctx, q);
        let recomposed = gate.mul_add(ctx, q, Constant(Fr::from(1u64 << s)), rem);
        ctx.constrain_equal(&a, &recomposed);
        q
    }

    /// `sum_i w_i * x_i` with no rescale (the result carries `2 * scale_bits` fractional bits).
    pub fn dot(&self, ctx: &mut Context<Fr>, w: &[AssignedValue<Fr>], x: &[AssignedValue<Fr>]) -> AssignedValue<Fr> {
        assert_eq!(w.len(), x.len());
        self.range.gate().inner_product(ctx, w.iter().copied(), x.iter().map(|v| Existing(*v)))
    }

    /// `rescale(w · x) + bias`, range-checked (checked).
    pub fn affine(
        &self,
        ctx: &mut Context<Fr>,
        w: &[AssignedValue<Fr>],
        x: &[AssignedValue<Fr>],
        bias: AssignedValue<Fr>,
    ) -> AssignedValue<Fr> {
        let acc = self.dot(ctx, w, x);
        let q = self.rescale(ctx, acc);
        let v = self.range.gate().add(ctx, q, bias);
        self.check_value(ctx, v);
        v
    }

    /// `max(0, a)`; `a` must be a value.
    pub fn relu(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>) -> AssignedValue<Fr> {
        let neg = self.is_negative(ctx, a, self.fixed.value_bits);
        let zero = ctx.load_zero();
        self.range.gate().select(ctx, zero, a, neg)
    }

    /// 1 if `a > b`, else 0; `a` and `b` must be values.
    pub fn greater_than(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>, b: AssignedValue<Fr>) -> AssignedValue<Fr> {
        let gate = self.range.gate();
        // a > b  <=>  !(a - b - 1 < 0); a - b - 1 fits value_bits + 1 signed bits.
        let diff = gate.sub(ctx, a, b);
        let diff_minus_one = gate.sub(ctx, diff, Constant(Fr::one()));
        let neg = self.is_negative(ctx, diff_minus_one, self.fixed.value_bits + 1);
        gate.not(ctx, neg)
    }

    /// `rescale(sum_j (a_j - b_j)^2)` (checked); inputs must be values.
    pub fn squared_error(
        &self,
        ctx: &mut Context<Fr>,
        a: &[AssignedValue<Fr>],
        b: &[AssignedValue<Fr>],
    ) -> AssignedValue<Fr> {
        assert_eq!(a.len(), b.len());
        let gate = self.range.gate();
        let diffs: Vec<_> = a.iter().zip(b).map(|(x, y)| gate.sub(ctx, *x, *y)).collect();
        let sum = gate.inner_product(ctx, diffs.iter().copied(), diffs.iter().map(|d| Existing(*d)));
        self.rescale(ctx, sum)
    }

    /// Assigns a witness with no constraint (callers constrain it).
    pub fn load_unchecked(&self, ctx: &mut Context<Fr>, v: Fr) -> AssignedValue<Fr> {
        ctx.assign_region_last([Witness(v)], [])
    }
}

fn fr_from_i64(v: i64) -> Fr {
    fr_from_i128(v as i128)
}

mod constant;

#[cfg(test)]
mod constant_tests;
#[cfg(test)]
mod tests;
