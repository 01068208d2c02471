//! Mock-prover tests of the fixed-point chip: table tests against the integer reference, and
//! negative tests that tamper with one witness cell and expect the constraints to fail.

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::testing::base_test;
use halo2_base::AssignedValue;

use super::FixedPointChip;
use crate::circuit::field::{fr_from_i128, fr_to_i128};
use crate::quant::FixedPoint;

const FX: FixedPoint = FixedPoint { scale_bits: 8, value_bits: 24 };

fn value(a: &AssignedValue<Fr>) -> i128 {
    fr_to_i128(a.value()).expect("small value")
}

#[test]
fn rescale_matches_floor_division() {
    for v in [0i128, 1, 255, 256, 257, -1, -255, -256, -257, 123_456, -987_654] {
        let q = base_test().k(10).lookup_bits(8).run(|ctx, range| {
            let chip = FixedPointChip::new(range, FX);
            let a = ctx.load_witness(fr_from_i128(v));
            value(&chip.rescale(ctx, a))
        });
        assert_eq!(q, FX.rescale(v), "rescale({v})");
    }
}

#[test]
fn rescale_rejects_a_wrong_quotient() {
    // 1000 = 3 * 256 + 232. Claiming q = 4 (with the same remainder) breaks the recomposition.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let a = ctx.load_witness(fr_from_i128(1000));
        chip.rescale_witnessed(ctx, a, fr_from_i128(4), fr_from_i128(232));
    });
}

#[test]
fn rescale_rejects_an_out_of_range_remainder() {
    // q = 2, rem = 488 recomposes 1000 = 2 * 256 + 488, but 488 >= 2^8 fails the range check.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let a = ctx.load_witness(fr_from_i128(1000));
        chip.rescale_witnessed(ctx, a, fr_from_i128(2), fr_from_i128(488));
    });
    // A negative remainder (q = 4, rem = -24) recomposes too and must fail as well.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let a = ctx.load_witness(fr_from_i128(1000));
        chip.rescale_witnessed(ctx, a, fr_from_i128(4), fr_from_i128(-24));
    });
    // The honest pair passes (the negative tests fail for the stated reason only).
    base_test().k(10).lookup_bits(8).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let a = ctx.load_witness(fr_from_i128(1000));
        chip.rescale_witnessed(ctx, a, fr_from_i128(3), fr_from_i128(232));
    });
}

#[test]
fn values_outside_the_range_are_rejected() {
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let a = ctx.load_witness(fr_from_i128(1 << 23));
        chip.check_value(ctx, a);
    });
    base_test().k(10).lookup_bits(8).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        for v in [(1 << 23) - 1, -(1 << 23), 0, -1] {
            let a = ctx.load_witness(fr_from_i128(v));
            chip.check_value(ctx, a);
        }
    });
}

#[test]
fn relu_and_comparisons_match_the_reference() {
    let cases = [(-5i128, 3i128), (3, -5), (7, 7), (0, 0), (-(1 << 23), (1 << 23) - 1), ((1 << 23) - 1, -(1 << 23))];
    for (a, b) in cases {
        let (relu, gt) = base_test().k(10).lookup_bits(8).run(|ctx, range| {
            let chip = FixedPointChip::new(range, FX);
            let x = chip.load_value(ctx, a as i64);
            let y = chip.load_value(ctx, b as i64);
            (value(&chip.relu(ctx, x)), value(&chip.greater_than(ctx, x, y)))
        });
        assert_eq!(relu, a.max(0), "relu({a})");
        assert_eq!(gt, (a > b) as i128, "{a} > {b}");
    }
}

#[test]
fn a_flipped_sign_bit_is_rejected() {
    // d = 6 at 24 bits: u = 6 + 2^23, so (lo, hi) = (6, 1). Claiming hi = 0 with lo = u keeps
    // the recomposition but lo no longer fits 23 bits.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let d = chip.load_value(ctx, 6);
        chip.is_negative_witnessed(ctx, d, FX.value_bits, fr_from_i128(6 + (1 << 23)), Fr::zero());
    });
    // A non-boolean hi fails too.
    base_test().k(10).lookup_bits(8).expect_satisfied(false).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let d = chip.load_value(ctx, 6);
        chip.is_negative_witnessed(ctx, d, FX.value_bits, fr_from_i128(6 - (1 << 23)), fr_from_i128(2));
    });
    base_test().k(10).lookup_bits(8).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let d = chip.load_value(ctx, 6);
        chip.is_negative_witnessed(ctx, d, FX.value_bits, fr_from_i128(6), Fr::one());
    });
}

#[test]
fn affine_and_squared_error_match_the_reference() {
    let w = [300i64, -200, 55];
    let x = [-1000i64, 512, 7];
    let bias = 17i64;
    let (affine, sq) = base_test().k(11).lookup_bits(8).run(|ctx, range| {
        let chip = FixedPointChip::new(range, FX);
        let w: Vec<_> = w.iter().map(|&v| chip.load_value(ctx, v)).collect();
        let x: Vec<_> = x.iter().map(|&v| chip.load_value(ctx, v)).collect();
        let b = chip.load_value(ctx, bias);
        (value(&chip.affine(ctx, &w, &x, b)), value(&chip.squared_error(ctx, &w, &x)))
    });
    let dot: i128 = w.iter().zip(&x).map(|(&a, &b)| a as i128 * b as i128).sum();
    assert_eq!(affine, FX.rescale(dot) + bias as i128);
    let sq_ref: i128 = w.iter().zip(&x).map(|(&a, &b)| (a as i128 - b as i128).pow(2)).sum();
    assert_eq!(sq, FX.rescale(sq_ref));
}
