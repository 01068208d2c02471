//! Calldata: the raw input of a generated verifier, and ABI-encoded calls of the wrapper
//! (`IZkGuardVerifier.verify`) and the Guard (`IGuard.submit`).
//!
//! The generated verifier's `fallback` reads `instances ‖ proof`: every instance as a 32-byte
//! big-endian word, then the proof bytes ([`encode_calldata`]). The wrapper's
//! `verify(uint256[] instances, bytes proof)` re-packs exactly that with `abi.encodePacked`.
//! The ABI types come from `zkguard-contracts` (generated from the contracts' own ABI).

use alloy_primitives::{Bytes, U256};
use alloy_sol_types::SolCall;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_contracts::abi::{Guard, ZkGuardVerifier};
use zkguard_contracts::attestation::Attestation;

use super::context::{fr_to_u256, SubmissionContext};

/// The generated verifier's raw calldata: 32-byte big-endian instances, then the proof.
pub fn encode_calldata(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * instances.len() + proof.len());
    for instance in instances {
        out.extend_from_slice(&crate::circuit::field::fr_to_be_bytes(instance));
    }
    out.extend_from_slice(proof);
    out
}

/// Instances as `uint256` words.
pub fn instance_words(instances: &[Fr]) -> Vec<U256> {
    instances.iter().map(fr_to_u256).collect()
}

/// `IZkGuardVerifier.verify(instances, proof)` calldata.
pub fn verify_call(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    ZkGuardVerifier::verifyCall { instances: instance_words(instances), proof: Bytes::copy_from_slice(proof) }
        .abi_encode()
}

/// `IGuard.submit(modelId, ctx, attestations, instances, proof)` calldata for the context `ctx`
/// was built from.
pub fn submit_call(ctx: &SubmissionContext, attestations: &[Attestation], instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    Guard::submitCall {
        modelId: ctx.model_id,
        ctx: Guard::SubmissionContext { nonce: ctx.nonce, issuedAt: ctx.issued_at, subjects: ctx.subjects.clone() },
        attestations: attestations
            .iter()
            .map(|a| Guard::Attestation { signer: a.signer, signature: a.signature.clone() })
            .collect(),
        instances: instance_words(instances),
        proof: Bytes::copy_from_slice(proof),
    }
    .abi_encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, keccak256};

    #[test]
    fn raw_calldata_is_words_then_proof() {
        let data = encode_calldata(&[Fr::from(1u64), -Fr::one()], &[0xaa, 0xbb]);
        assert_eq!(data.len(), 66);
        assert_eq!(data[31], 1);
        assert_eq!(&data[32..64], &fr_to_u256(&-Fr::one()).to_be_bytes::<32>());
        assert_eq!(&data[64..], &[0xaa, 0xbb]);
    }

    #[test]
    fn selectors_match_the_solidity_signatures() {
        assert_eq!(&verify_call(&[], &[])[..4], &keccak256("verify(uint256[],bytes)")[..4]);
        let ctx = SubmissionContext {
            chain_id: 1,
            guard: address!("00000000000000000000000000000000000000A1"),
            model_id: U256::from(3u64),
            nonce: 1,
            issued_at: 2,
            subjects: vec![],
        };
        let call = submit_call(&ctx, &[], &[Fr::from(5u64)], &[1]);
        assert_eq!(
            &call[..4],
            &keccak256("submit(uint256,(uint64,uint64,address[]),(address,bytes)[],uint256[],bytes)")[..4]
        );
        let decoded = Guard::submitCall::abi_decode(&call).unwrap();
        assert_eq!(decoded.modelId, U256::from(3u64));
        assert_eq!(decoded.instances, vec![U256::from(5u64)]);
    }

    #[test]
    fn verify_call_payload_packs_to_the_raw_calldata() {
        // What the wrapper forwards (abi.encodePacked(instances, proof)) is the raw calldata.
        let instances = [Fr::from(7u64), Fr::from(9u64)];
        let proof = [1u8, 2, 3];
        let call = ZkGuardVerifier::verifyCall::abi_decode(&verify_call(&instances, &proof)).unwrap();
        let mut packed: Vec<u8> = call.instances.iter().flat_map(|w| w.to_be_bytes::<32>()).collect();
        packed.extend_from_slice(&call.proof);
        assert_eq!(packed, encode_calldata(&instances, &proof));
    }
}
