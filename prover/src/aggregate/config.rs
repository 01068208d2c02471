//! What an aggregation circuit is: N app proofs of one app circuit, verified inside a halo2-base
//! circuit at degree k (snark-verifier-sdk's `AggregationCircuit`, SHPLONK), and its digest.
//!
//! Configuration policy (measured, see `docs/ONCHAIN.md`): the on-chain cost and size of the
//! aggregation verifier grow with its number of columns (and its public instances), not with k,
//! and every app proof costs about 3M advice cells; so k grows with N ([`default_k`]) to keep the
//! circuit at 3 tall advice columns. The lookup table uses `k - 1` bits, which minimises the number of
//! range-check limbs of the non-native field arithmetic.

use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use snark_verifier_sdk::halo2::aggregation::AggregationConfigParams;

use crate::circuit::instances::ACCUMULATOR_LIMBS;

/// Version tag hashed into every aggregation digest; bump when the aggregation changes.
pub const AGGREGATION_VERSION: &str = "zkguard-aggregation/v1";
/// Rows kept free for blinding factors.
pub const MINIMUM_ROWS: usize = 20;
/// Smallest k accepted for an aggregation circuit.
pub const MIN_K: u32 = 18;
/// Largest k accepted (the insecure setup and ceremony files go up to here).
pub const MAX_K: u32 = 23;
/// Most app proofs one aggregation takes.
pub const MAX_PROOFS: usize = 16;

/// The default k for aggregating `proofs` app proofs: `20 + ceil(log2(proofs))`, so that the
/// ~3M advice cells each aggregated proof costs fit in 3 advice columns (measured: N = 1 at k = 20,
/// N = 2 at k = 21 and N = 4 at k = 22 all lay out in 3 advice + 1 lookup column). Three columns
/// keep the verifier small and cheap (N = 2: 19.9 KB and 407k gas at k = 21, against 23.9 KB and
/// 504k gas with 6 columns at k = 20), at the price of a larger SRS and more prover memory.
pub fn default_k(proofs: usize) -> u32 {
    let log2 = usize::BITS - proofs.max(1).saturating_sub(1).leading_zeros();
    (20 + log2).min(MAX_K)
}

/// Everything that determines an aggregation circuit (besides the halo2 column counts, which
/// keygen derives from it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AggregationShape {
    /// Digest of the aggregated app circuit.
    pub app_digest: String,
    /// Public instances of one app proof.
    pub app_num_instance: usize,
    /// App proofs per aggregation (N).
    pub proofs: usize,
    /// Degree of the aggregation circuit.
    pub k: u32,
    /// Lookup-table bits.
    pub lookup_bits: usize,
}

impl AggregationShape {
    /// The shape for `proofs` proofs of an app circuit at `k` (lookup bits `k - 1`).
    pub fn new(app_digest: &str, app_num_instance: usize, proofs: usize, k: u32) -> Self {
        Self { app_digest: app_digest.to_string(), app_num_instance, proofs, k, lookup_bits: k as usize - 1 }
    }

    /// Public instances of the aggregation proof: the accumulator limbs, then every app proof's.
    pub fn num_instance(&self) -> usize {
        ACCUMULATOR_LIMBS + self.proofs * self.app_num_instance
    }

    /// The digest of this aggregation circuit (hex sha256): what its verifier and registry pin.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(AGGREGATION_VERSION.as_bytes());
        hasher.update(serde_json::to_vec(self).unwrap_or_default());
        hex::encode(hasher.finalize())
    }
}

/// A keyed aggregation circuit's configuration: the shape, the column counts keygen chose and
/// the break points.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregationCircuitConfig {
    /// The shape.
    pub shape: AggregationShape,
    /// Columns and k.
    pub params: AggregationConfigParams,
    /// Break points from keygen.
    pub break_points: MultiPhaseThreadBreakPoints,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_k_grows_with_log_n() {
        assert_eq!([1, 2, 3, 4, 5, 8, 9, 64].map(default_k), [20, 21, 22, 22, 23, 23, 23, 23]);
    }

    #[test]
    fn digest_depends_on_every_field() {
        let base = AggregationShape::new("ab", 9, 2, 20);
        let variants = [
            AggregationShape::new("ac", 9, 2, 20),
            AggregationShape::new("ab", 10, 2, 20),
            AggregationShape::new("ab", 9, 3, 20),
            AggregationShape::new("ab", 9, 2, 21),
            AggregationShape { lookup_bits: 18, ..base.clone() },
        ];
        for v in variants {
            assert_ne!(v.digest(), base.digest(), "{v:?}");
        }
        assert_eq!(base.num_instance(), 12 + 18);
        assert_eq!(base.lookup_bits, 19);
    }
}
