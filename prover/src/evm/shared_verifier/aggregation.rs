//! Aggregation circuits on the shared verifier: the accumulator encoding of zkguard's
//! aggregation proofs, which proof system an aggregation circuit belongs to, and its rendered and
//! compiled verifier + key pair.
//!
//! An aggregation proof's first [`ACCUMULATOR_LIMBS`] instances are snark-verifier's KZG
//! accumulator (lhs.x, lhs.y, rhs.x, rhs.y, 3 limbs of 88 bits each, see [`crate::aggregate`]);
//! the app instances follow. The encoding is rendered into the verifier (part of its proof
//! system) and the key; the verifier refuses any key whose encoding is not its own, so an
//! aggregation key is refused by an app circuit's verifier and the reverse.
//!
//! The aggregation circuit's constraint system is fixed by its column counts (advice, lookup
//! advice, fixed) and halo2-base's gates; `k`, the lookup bits, N, the app circuit and its key
//! are in the key only. So N = 1 and N = 2 of one column layout share one verifier.

use std::path::Path;

use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use snark_verifier_sdk::{BITS, LIMBS};
use zkguard_halo2_solidity::{render_with_accumulator, AccumulatorEncoding, Provenance};

use super::compile::compile_pair;
use super::pair::AppPair;
use super::SharedPairError;
use crate::aggregate::AggregationKeys;
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::keys::SrsSource;

// The encoding below is snark-verifier's; fail the build if the SDK's limbs change.
const _: () = assert!(LIMBS == 3 && BITS == 88 && ACCUMULATOR_LIMBS == 4 * LIMBS);

/// The accumulator of zkguard's aggregation proofs: instances 0..12, 3 limbs of 88 bits per
/// coordinate.
pub const AGGREGATION_ACCUMULATOR: AccumulatorEncoding = AccumulatorEncoding::snark_verifier(0);

/// The parameters that define an aggregation circuit's proof system, as one line.
pub fn aggregation_proof_system_of(keys: &AggregationKeys) -> String {
    let p = &keys.config.params;
    format!(
        "zkguard aggregation circuits (snark-verifier SHPLONK), halo2-base {} advice, {} lookup advice, {} fixed, \
         1 instance column, KZG accumulator in instances {}..{} ({} limbs of {} bits)",
        p.num_advice,
        p.num_lookup_advice,
        p.num_fixed,
        AGGREGATION_ACCUMULATOR.offset,
        AGGREGATION_ACCUMULATOR.offset + AGGREGATION_ACCUMULATOR.len(),
        AGGREGATION_ACCUMULATOR.num_limbs,
        AGGREGATION_ACCUMULATOR.num_limb_bits,
    )
}

/// The headers of an aggregation circuit's pair.
pub fn aggregation_provenance(keys: &AggregationKeys, srs: &SrsSource, command: &str) -> Provenance {
    let shape = &keys.config.shape;
    Provenance {
        command: command.to_string(),
        proof_system: aggregation_proof_system_of(keys),
        circuit: format!(
            "aggregation circuit {}: {} proofs of app circuit {} ({} instances each), k = {}",
            keys.digest, shape.proofs, shape.app_digest, shape.app_num_instance, shape.k
        ),
        srs: srs.id(),
        insecure_srs: srs.is_insecure(),
    }
}

/// Renders and compiles the pair of `keys`' aggregation circuit (`params` for its k), with the
/// accumulator [`AGGREGATION_ACCUMULATOR`].
pub fn aggregation_pair(
    keys: &AggregationKeys,
    params: &ParamsKZG<Bn256>,
    srs: &SrsSource,
    command: &str,
    solc: &Path,
) -> Result<AppPair, SharedPairError> {
    let rendered = render_with_accumulator(
        keys.vk(),
        params,
        keys.config.shape.num_instance(),
        Some(AGGREGATION_ACCUMULATOR),
        &aggregation_provenance(keys, srs, command),
    )?;
    let compiled = compile_pair(solc, &rendered)?;
    Ok(AppPair { rendered, compiled })
}
