//! A circuit's pair as deployments take it: the shared verifier rendered with one canonical
//! header per proof system (solc's metadata hashes the whole source, header included, so the
//! header decides the bytecode and with it the CREATE2 address: every command must produce the
//! same one), the key rendered with the real command line; and the facts a chain needs
//! ([`SharedVerifierCode`]: creation codes, the verifier's runtime hash, the key's code hash, the
//! proof-system digest as CREATE2 salt). For app circuits (direct mode, [`deployable_pair`]) and
//! aggregation circuits (batch mode, [`deployable_aggregation_pair`]: the KZG accumulator
//! [`super::AGGREGATION_ACCUMULATOR`] in the verifier and the key).

use std::path::Path;

use alloy_primitives::keccak256;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkguard_contracts::registration::SharedVerifierCode;
use zkguard_halo2_solidity::{render_with_accumulator, AccumulatorEncoding, Provenance, Rendered};

use super::aggregation::{aggregation_provenance, AGGREGATION_ACCUMULATOR};
use super::compile::{compile_one, CompiledPair, VERIFIER_CONTRACT, VK_CONTRACT};
use super::pair::{app_provenance, AppPair};
use super::SharedPairError;
use crate::aggregate::AggregationKeys;
use crate::keys::{AppKeys, SrsSource};

/// The command the shared verifier's header names, whatever command rendered it: one header per
/// proof system, hence one bytecode and one CREATE2 address per chain.
pub const SHARED_VERIFIER_COMMAND: &str =
    "zkguard deploy --verifier shared --model <any model of this proof system> (or zkguard demo)";

/// [`SHARED_VERIFIER_COMMAND`] of the aggregation circuits' shared verifiers (batch mode).
pub const SHARED_AGGREGATION_VERIFIER_COMMAND: &str = "zkguard deploy --verifier shared --aggregate <N> --model <any \
                                                       model whose aggregation has this proof system> (or zkguard demo)";

/// Renders and compiles `keys`' circuit's pair for deployment: the verifier with the canonical
/// header ([`SHARED_VERIFIER_COMMAND`]), the key with `command`'s.
pub fn deployable_pair(
    keys: &AppKeys,
    params: &ParamsKZG<Bn256>,
    srs: &SrsSource,
    command: &str,
    solc: &Path,
) -> Result<AppPair, SharedPairError> {
    let num_instances = keys.config.shape.layout().len();
    let provenance = app_provenance(keys, srs, command);
    canonical_pair(keys.vk(), params, num_instances, None, provenance, SHARED_VERIFIER_COMMAND, solc)
}

/// Renders and compiles the pair of `keys`' aggregation circuit (`params` for its k) for
/// deployment, with the accumulator [`AGGREGATION_ACCUMULATOR`]: the verifier with the canonical
/// header ([`SHARED_AGGREGATION_VERIFIER_COMMAND`]), the key with `command`'s.
pub fn deployable_aggregation_pair(
    keys: &AggregationKeys,
    params: &ParamsKZG<Bn256>,
    srs: &SrsSource,
    command: &str,
    solc: &Path,
) -> Result<AppPair, SharedPairError> {
    canonical_pair(
        keys.vk(),
        params,
        keys.config.shape.num_instance(),
        Some(AGGREGATION_ACCUMULATOR),
        aggregation_provenance(keys, srs, command),
        SHARED_AGGREGATION_VERIFIER_COMMAND,
        solc,
    )
}

/// The pair of `vk` with the verifier's header naming `canonical_command` and the key's
/// `provenance`'s command.
fn canonical_pair(
    vk: &VerifyingKey<G1Affine>,
    params: &ParamsKZG<Bn256>,
    num_instances: usize,
    accumulator: Option<AccumulatorEncoding>,
    provenance: Provenance,
    canonical_command: &str,
    solc: &Path,
) -> Result<AppPair, SharedPairError> {
    let canonical = Provenance { command: canonical_command.to_string(), ..provenance.clone() };
    let for_key = render_with_accumulator(vk, params, num_instances, accumulator, &provenance)?;
    let for_verifier = render_with_accumulator(vk, params, num_instances, accumulator, &canonical)?;
    let verifier = compile_one(solc, &for_verifier.verifier_sol, VERIFIER_CONTRACT)?;
    let mut vk = compile_one(solc, &for_key.vk_sol, VK_CONTRACT)?;
    // solc's deployedBytecode is the empty contract's; the deployed code is the key's words.
    vk.runtime = for_key.vk_code.clone();
    let vk_codehash = keccak256(&for_key.vk_code);
    let rendered = Rendered { verifier_sol: for_verifier.verifier_sol, ..for_key };
    Ok(AppPair { rendered, compiled: CompiledPair { verifier, vk, vk_codehash } })
}

/// What a chain needs of `pair`.
pub fn shared_verifier_code(pair: &AppPair) -> SharedVerifierCode {
    SharedVerifierCode {
        proof_system_digest: pair.rendered.proof_system_digest,
        verifier_creation: pair.compiled.verifier.creation.clone(),
        verifier_runtime_hash: keccak256(&pair.compiled.verifier.runtime),
        key_creation: pair.compiled.vk.creation.clone(),
        key_codehash: pair.compiled.vk_codehash,
    }
}
