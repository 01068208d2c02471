//! Mock-prover tests of the constant-operand operations: they equal the integer reference,
//! and a wrong limb, quotient or remainder, or an out-of-range value, is rejected.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::testing::base_test;
use halo2_base::AssignedValue;

use super::FixedPointChip;
use crate::circuit::field::{fr_from_i128, fr_to_i128};
use crate::quant::FixedPoint;

/// 24-bit values over 8-bit lookups: 3 limbs per signed check.
const FX: FixedPoint = FixedPoint { scale_bits: 8, value_bits: 24 };
const HALF: i128 = 1 << 23;

fn value(a: &AssignedValue<Fr>) -> i128 {
    fr_to_i128(a.value()).expect("small value")
}

/// Runs the chained check of `v` at `bits`, expecting it to be satisfied exactly when `fits`.
fn check(v: i128, bits: u32, fits: bool) {
    base_test().k(10).lookup_bits(8).expect_satisfied(fits).run(|ctx, range| {
        let a = ctx.load_witness(fr_from_i128(v));
        FixedPointChip::new(range, FX).check_signed_chained(ctx, a, bits);
    });
}

#[test]
fn the_chained_signed_check_accepts_exactly_the_signed_range() {
    for bits in [24u32, 20, 17] {
        let half = 1i128 << (bits - 1);
        for v in [0, 1, -1, half - 1, -half, 12_345 % half, -(54_321 % half)] {
            check(v, bits, true);
        }
        for v in [half, -half - 1, 1 << 40, -(1 << 40)] {
            check(v, bits, false);
        }
    }
}

#[test]
fn the_chained_signed_check_rejects_limbs_over_the_lookup_width() {
    // 300 + 2^23 = 0x800_12C: limbs (0x2C, 0x01, 0x80). Moving 1 of limb 1 into limb 0 as 256
    // keeps the recomposition but puts limb 0 outside the 8-bit table.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let a = ctx.load_witness(fr_from_i128(300));
        FixedPointChip::new(range, FX).check_signed_chained_witnessed(ctx, a, 24, &[0x2C + 256, 0, 0x80]);
    });
    // The honest limbs pass.
    base_test().k(10).lookup_bits(8).run(|ctx, range| {
        let a = ctx.load_witness(fr_from_i128(300));
        FixedPointChip::new(range, FX).check_signed_chained_witnessed(ctx, a, 24, &[0x2C, 0x01, 0x80]);
    });
}

#[test]
fn standardize_constant_matches_the_reference() {
    for (x, mean, inv) in [(1000i128, 200i64, 300i64), (-5000, 77, 1), (0, -3, 999), (123, 123, 5000), (-1, 0, 255)] {
        let q = base_test().k(10).lookup_bits(8).run(|ctx, range| {
            let a = ctx.load_witness(fr_from_i128(x));
            value(&FixedPointChip::new(range, FX).standardize_constant(ctx, a, mean, inv))
        });
        assert_eq!(q, FX.rescale((x - mean as i128) * inv as i128), "standardize({x}, {mean}, {inv})");
    }
}

#[test]
fn standardize_constant_rejects_a_wrong_quotient_or_remainder_and_an_overflow() {
    // (1000 - 200) * 300 = 240000 = 937 * 256 + 128.
    for (q, r) in [(938, 128 - 256), (938, 128), (936, 384)] {
        base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
            let a = ctx.load_witness(fr_from_i128(1000));
            FixedPointChip::new(range, FX).standardize_constant_witnessed(
                ctx,
                a,
                200,
                300,
                fr_from_i128(q),
                fr_from_i128(r),
            );
        });
    }
    // A standardized value outside 24 signed bits: (2^22 - 0) * 2^10 / 2^8 = 2^24.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let a = ctx.load_witness(fr_from_i128(1 << 22));
        FixedPointChip::new(range, FX).standardize_constant(ctx, a, 0, 1 << 10);
    });
}

#[test]
fn affine_constant_matches_the_reference() {
    let w = [300i64, -7, 0, 1024];
    let xs = [17i128, -4000, 55, 999];
    for bias in [0i64, -100, 5000] {
        let v = base_test().k(10).lookup_bits(8).run(|ctx, range| {
            let x: Vec<_> = xs.iter().map(|&v| ctx.load_witness(fr_from_i128(v))).collect();
            value(&FixedPointChip::new(range, FX).affine_constant(ctx, &w, &x, bias))
        });
        let acc: i128 = w.iter().zip(&xs).map(|(&w, &x)| w as i128 * x).sum();
        assert_eq!(v, FX.rescale(acc) + bias as i128);
    }
}

#[test]
fn affine_constant_rejects_a_wrong_rescale_and_an_overflow() {
    // 3 * 100 = 300 = 1 * 256 + 44.
    for (q, r) in [(2, 44 - 256), (2, 44), (0, 300)] {
        base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
            let x = [ctx.load_witness(fr_from_i128(100))];
            FixedPointChip::new(range, FX).affine_constant_witnessed(
                ctx,
                &[3],
                &x,
                0,
                fr_from_i128(q),
                fr_from_i128(r),
            );
        });
    }
    // The rescaled sum fits but the bias pushes the result out of 24 signed bits.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let x = [ctx.load_witness(fr_from_i128(HALF - 1))];
        FixedPointChip::new(range, FX).affine_constant(ctx, &[256], &x, 1);
    });
}
