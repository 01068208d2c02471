//! Fixed-point operations with constant operands, for fixed models ([`crate::circuit::Visibility::Fixed`]):
//! standardization and dense layers whose parameters are circuit constants, in fewer cells
//! than [`FixedPointChip`]'s general operations, with the same results and range checks.
//!
//! halo2-base's gate constrains `a + b * c = d` on four consecutive cells; a chain of gates
//! overlapping at their `a`/`d` cells computes `c_0 + sum_i b_i * c_i` in 3 cells per term, and a
//! constant is an advice cell copied from the constant column. So:
//! * a signed range check of `a` decomposes `a + 2^(bits-1)` in the chain that recomposes `a`
//!   from `-2^(bits-1)` (no separate shift cell): `1 + 3n` cells for `n` lookup limbs;
//! * a standardization `q = floor((x - m) * s / 2^S)` is one chain
//!   `[-m*s, x, s, v, q, -2^S, r]` (`v = x*s - m*s`, `r = v - q*2^S`), `r` checked to `S` bits
//!   and `q` to a value;
//! * a dense neuron continues its dot product's chain with `[q, -2^S, r]` (its rescale).

use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::decompose_fe_to_u64_limbs;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::{Constant, Existing, Witness};

use super::super::field::{fr_from_i128, fr_to_i128, pow2};
use super::FixedPointChip;

impl FixedPointChip<'_> {
    /// Constrains `a` to be a signed integer of `bits` bits (as [`FixedPointChip::check_signed`])
    /// in one chain: limbs `l_i` of `u = a + 2^(bits-1)` at the lookup width `L`,
    /// `-2^(bits-1) + sum_i l_i * 2^(i*L) = a`, each limb looked up (the top one at its width).
    pub fn check_signed_chained(&self, ctx: &mut Context<Fr>, a: AssignedValue<Fr>, bits: u32) {
        let lookup = self.range.lookup_bits();
        let bits = bits as usize;
        let n = bits.div_ceil(lookup);
        if n < 2 {
            return self.check_signed(ctx, a, bits as u32);
        }
        let shift = pow2((bits - 1) as u64);
        // The low n*L bits of u: an out-of-range `a` gets limbs that do not recompose it.
        let limbs = decompose_fe_to_u64_limbs(&(*a.value() + shift), n, lookup);
        self.check_signed_chained_witnessed(ctx, a, bits as u32, &limbs);
    }

    /// [`Self::check_signed_chained`] with the limbs supplied by the caller (at least two); the
    /// constraints are the same, so wrong limbs make the circuit unsatisfied.
    pub(crate) fn check_signed_chained_witnessed(
        &self,
        ctx: &mut Context<Fr>,
        a: AssignedValue<Fr>,
        bits: u32,
        limbs: &[u64],
    ) {
        let lookup = self.range.lookup_bits();
        let bits = bits as usize;
        let n = limbs.len();
        assert_eq!(n, bits.div_ceil(lookup), "one limb per lookup width");
        let shift = pow2((bits - 1) as u64);
        let start = ctx.advice.len() as isize;
        let mut acc = -shift;
        let mut cells = vec![Constant(-shift)];
        for (i, &limb) in limbs.iter().enumerate() {
            let base = pow2((i * lookup) as u64);
            acc += Fr::from(limb) * base;
            cells.extend([Witness(Fr::from(limb)), Constant(base), Witness(acc)]);
        }
        ctx.assign_region(cells, (0..n).map(|i| 3 * i as isize));
        let recomposed = ctx.last().expect("the chain was assigned");
        ctx.constrain_equal(&recomposed, &a);
        for i in 0..n {
            let limb = ctx.get(start + 1 + 3 * i as isize);
            let width = if i + 1 < n { lookup } else { bits - (n - 1) * lookup };
            self.range.range_check(ctx, limb, width);
        }
    }

    /// `floor((x - mean) * inv_scale / 2^scale_bits)` for constant `mean` and `inv_scale`
    /// (checked: a value), as one chain plus the remainder's and the quotient's range checks.
    /// `x` must be a value.
    pub fn standardize_constant(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        mean: i64,
        inv_scale: i64,
    ) -> AssignedValue<Fr> {
        let s = self.fixed.scale_bits;
        let x_val = fr_to_i128(x.value()).expect("an input is a small signed value");
        let prod = (x_val - mean as i128) * inv_scale as i128;
        let (q, r) = (prod.div_euclid(1i128 << s), prod.rem_euclid(1i128 << s));
        self.standardize_constant_witnessed(ctx, x, mean, inv_scale, fr_from_i128(q), fr_from_i128(r))
    }

    /// [`Self::standardize_constant`] with the quotient and remainder supplied by the caller; the
    /// constraints are the same, so a wrong pair makes the circuit unsatisfied.
    pub(crate) fn standardize_constant_witnessed(
        &self,
        ctx: &mut Context<Fr>,
        x: AssignedValue<Fr>,
        mean: i64,
        inv_scale: i64,
        q: Fr,
        r: Fr,
    ) -> AssignedValue<Fr> {
        let s = self.fixed.scale_bits;
        let prod = *x.value() * fr_from_i128(inv_scale as i128) - fr_from_i128(mean as i128 * inv_scale as i128);
        let start = ctx.advice.len() as isize;
        ctx.assign_region(
            [
                Constant(fr_from_i128(-(mean as i128) * inv_scale as i128)),
                Existing(x),
                Constant(fr_from_i128(inv_scale as i128)),
                Witness(prod),
                Witness(q),
                Constant(-pow2(s as u64)),
                Witness(r),
            ],
            [0, 3],
        );
        let q = ctx.get(start + 4);
        let r = ctx.get(start + 6);
        self.range.range_check(ctx, r, s as usize);
        self.check_signed_chained(ctx, q, self.fixed.value_bits);
        q
    }

    /// `rescale(w · x) + bias` for constant weights and bias (checked: the rescaled sum and the
    /// result are values, as [`FixedPointChip::affine`]); `x` must be values.
    pub fn affine_constant(
        &self,
        ctx: &mut Context<Fr>,
        w: &[i64],
        x: &[AssignedValue<Fr>],
        bias: i64,
    ) -> AssignedValue<Fr> {
        assert_eq!(w.len(), x.len());
        let s = self.fixed.scale_bits;
        let acc: i128 = w.iter().zip(x).map(|(&wi, xi)| wi as i128 * fr_to_i128(xi.value()).expect("a value")).sum();
        let (q, r) = (acc.div_euclid(1i128 << s), acc.rem_euclid(1i128 << s));
        self.affine_constant_witnessed(ctx, w, x, bias, fr_from_i128(q), fr_from_i128(r))
    }

    /// [`Self::affine_constant`] with the rescale's quotient and remainder supplied by the
    /// caller; the constraints are the same, so a wrong pair makes the circuit unsatisfied.
    pub(crate) fn affine_constant_witnessed(
        &self,
        ctx: &mut Context<Fr>,
        w: &[i64],
        x: &[AssignedValue<Fr>],
        bias: i64,
        q: Fr,
        r: Fr,
    ) -> AssignedValue<Fr> {
        assert_eq!(w.len(), x.len());
        assert!(!w.is_empty(), "a neuron has inputs");
        let gate = self.range.gate();
        let s = self.fixed.scale_bits;
        gate.inner_product(ctx, x.iter().copied(), w.iter().map(|&wi| Constant(fr_from_i128(wi as i128))));
        // acc + q * (-2^S) = r, the gate on the dot product's last cell (acc).
        let start = ctx.advice.len() as isize;
        ctx.assign_region([Witness(q), Constant(-pow2(s as u64)), Witness(r)], [-1]);
        let q = ctx.get(start);
        let r = ctx.get(start + 2);
        self.range.range_check(ctx, r, s as usize);
        self.check_signed_chained(ctx, q, self.fixed.value_bits);
        let v = gate.add(ctx, q, Constant(fr_from_i128(bias as i128)));
        self.check_signed_chained(ctx, v, self.fixed.value_bits);
        v
    }
}
