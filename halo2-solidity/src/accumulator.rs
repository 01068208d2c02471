//! [`AccumulatorEncoding`]: where an aggregation circuit's KZG accumulator sits in its public
//! instances, and the verifier code that reads it.
//!
//! Derived from PSE's halo2-solidity-verifier (f0626be, MIT), `src/codegen.rs`
//! (`AccumulatorEncoding`) and the accumulator blocks of `templates/Halo2Verifier.sol`, with
//! two changes: the encoding is a constant of the verifier's code (so it is part of the proof
//! system, and the verifier refuses a key whose encoding is not its own), and every limb is
//! range-checked before the limbs are joined (PSE adds shifted limbs without checking them).
//! See `NOTICE`.

use ruint::aliases::U256;

use crate::error::SharedVerifierError;
use crate::meta::Ptr;

/// The KZG accumulator `(lhs, rhs)` of an aggregation circuit, as public instances: from
/// `offset`, the limbs of `lhs.x`, `lhs.y`, `rhs.x`, `rhs.y`, `num_limbs` each, least
/// significant first, `num_limb_bits` bits each (snark-verifier's aggregation circuit: offset 0,
/// 3 limbs of 88 bits, see [`AccumulatorEncoding::snark_verifier`]). The verifier joins them into
/// two G1 points and checks `e(lhs + c·acc_lhs, [1]₂) = e(rhs + c·acc_rhs, [s]₂)`-style, i.e. it
/// folds the accumulator into the proof's own pairing with a random `c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AccumulatorEncoding {
    /// Index of the first limb among the public instances.
    pub offset: usize,
    /// Limbs per coordinate.
    pub num_limbs: usize,
    /// Bits per limb.
    pub num_limb_bits: usize,
}

/// Bits of the BN254 base field modulus: the limbs of one coordinate must cover them.
const BASE_FIELD_BITS: usize = 254;

impl AccumulatorEncoding {
    /// snark-verifier's aggregation circuit (`snark_verifier_sdk`'s `LIMBS` = 3, `BITS` = 88):
    /// the 12 limbs from instance `offset`.
    pub const fn snark_verifier(offset: usize) -> Self {
        Self { offset, num_limbs: 3, num_limb_bits: 88 }
    }

    /// Public instances the accumulator takes (4 coordinates).
    pub const fn len(&self) -> usize {
        4 * self.num_limbs
    }

    /// Whether it takes no instance (never, for a valid encoding).
    pub const fn is_empty(&self) -> bool {
        self.num_limbs == 0
    }

    /// Checks the encoding against a circuit's instance count: limbs of 1..=128 bits covering a
    /// base-field element within 256 bits, and all `4 · num_limbs` limbs among the instances.
    pub fn check(&self, num_instances: usize) -> Result<(), SharedVerifierError> {
        let bits = self.num_limb_bits;
        let total = self.num_limbs.saturating_mul(bits);
        if self.num_limbs == 0 || !(1..=128).contains(&bits) {
            return Err(SharedVerifierError::Accumulator {
                encoding: *self,
                reason: "limbs of 1..=128 bits, at least one",
            });
        }
        if total < BASE_FIELD_BITS || total - bits >= 256 {
            return Err(SharedVerifierError::Accumulator {
                encoding: *self,
                reason: "the limbs must cover 254 bits and every limb must start below bit 256",
            });
        }
        if self.offset.saturating_add(self.len()) > num_instances {
            return Err(SharedVerifierError::Accumulator {
                encoding: *self,
                reason: "the limbs do not fit the public instances",
            });
        }
        Ok(())
    }

    /// The key's four accumulator words (`has_accumulator`, `acc_offset`, `num_acc_limbs`,
    /// `num_acc_limb_bits`); all zero without an accumulator.
    pub(crate) fn words(encoding: Option<&Self>) -> [U256; 4] {
        match encoding {
            None => [U256::ZERO; 4],
            Some(e) => [U256::from(1), U256::from(e.offset), U256::from(e.num_limbs), U256::from(e.num_limb_bits)],
        }
    }

    /// Yul lines that read the accumulator from the instances at `instance_cptr` (calldata), with
    /// `success` and `q` in scope: each limb range-checked, the limbs joined, each coordinate
    /// `< q`, each point on the curve, the points stored at `ACC_{LHS,RHS}_{X,Y}_MPTR`.
    pub(crate) fn read_lines(&self, instance_cptr: Ptr) -> Vec<String> {
        let coords = ["acc_lhs_x", "acc_lhs_y", "acc_rhs_x", "acc_rhs_y"];
        let mut lines = vec![];
        for (c, name) in coords.iter().enumerate() {
            lines.push(format!("let {name} := 0"));
            for i in 0..self.num_limbs {
                let shift = i * self.num_limb_bits;
                // The last limb may be narrower so that the joined value stays within 256 bits.
                let bound = self.num_limb_bits.min(256 - shift);
                let cptr = instance_cptr + (self.offset + c * self.num_limbs + i);
                lines.push("{".to_string());
                lines.push(format!("    let limb := calldataload({cptr})"));
                lines.push(format!("    success := and(success, iszero(shr({bound}, limb)))"));
                lines.push(format!("    {name} := or({name}, shl({shift}, limb))"));
                lines.push("}".to_string());
            }
            lines.push(format!("success := and(success, lt({name}, q))"));
        }
        for (x, y) in [("acc_lhs_x", "acc_lhs_y"), ("acc_rhs_x", "acc_rhs_y")] {
            lines.push(format!(
                "success := and(success, eq(mulmod({y}, {y}, q), addmod(mulmod({x}, mulmod({x}, {x}, q), q), 3, q)))"
            ));
        }
        for name in coords {
            lines.push(format!("mstore({}_MPTR, {name})", name.to_uppercase()));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snark_verifier_encoding_is_valid_and_bad_ones_are_refused() {
        let sv = AccumulatorEncoding::snark_verifier(0);
        assert_eq!(sv.len(), 12);
        assert!(sv.check(12).is_ok());
        assert!(sv.check(11).is_err(), "limbs past the instances");
        assert!(AccumulatorEncoding::snark_verifier(1).check(12).is_err());
        for (limbs, bits) in [(0, 88), (3, 0), (3, 129), (2, 88), (4, 88), (3, 84)] {
            let e = AccumulatorEncoding { offset: 0, num_limbs: limbs, num_limb_bits: bits };
            // (4, 88): the last limb would start at bit 264; (3, 84): 252 bits do not cover q.
            assert!(e.check(64).is_err(), "{e:?}");
        }
        assert!(AccumulatorEncoding { offset: 2, num_limbs: 2, num_limb_bits: 128 }.check(10).is_ok());
        assert_eq!(AccumulatorEncoding::words(None), [U256::ZERO; 4]);
        assert_eq!(AccumulatorEncoding::words(Some(&sv)), [1, 0, 3, 88].map(U256::from));
    }

    #[test]
    fn limbs_are_range_checked_and_joined_in_order() {
        let lines = AccumulatorEncoding::snark_verifier(0).read_lines(Ptr::calldata(0x100)).join("\n");
        assert!(lines.contains("iszero(shr(88, limb))"));
        assert!(lines.contains("acc_lhs_x := or(acc_lhs_x, shl(176, limb))"));
        assert_eq!(lines.matches("calldataload(").count(), 12);
        assert!(lines.contains("mstore(ACC_RHS_Y_MPTR, acc_rhs_y)"));
    }
}
