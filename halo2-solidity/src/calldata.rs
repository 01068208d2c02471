//! The calldata of `Halo2Verifier.verifyProof(address vk, bytes proof, uint256[] instances)`,
//! in the only (canonical) ABI encoding the verifier accepts.

use alloy_primitives::{keccak256, Address};
use halo2_base::halo2_proofs::halo2curves::{bn256::Fr, ff::PrimeField};

/// The function's signature.
pub const VERIFY_PROOF_SIGNATURE: &str = "verifyProof(address,bytes,uint256[])";

/// Its 4-byte selector.
pub fn verify_proof_selector() -> [u8; 4] {
    let hash = keccak256(VERIFY_PROOF_SIGNATURE.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

fn word(value: usize) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&(value as u64).to_be_bytes());
    word
}

/// A field element as a 32-byte big-endian word.
pub fn fr_word(value: &Fr) -> [u8; 32] {
    let mut word = value.to_repr();
    word.reverse();
    word
}

/// `verifyProof(vk, proof, instances)` ABI-encoded. A proof whose length is not a multiple of
/// 32 is zero-padded as the ABI requires (the verifier refuses such proofs by their length word).
pub fn encode_verify_proof(vk: Address, proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    let padded = proof.len().div_ceil(32) * 32;
    let mut data = Vec::with_capacity(4 + 32 * 5 + padded + 32 * instances.len());
    data.extend_from_slice(&verify_proof_selector());
    data.extend_from_slice(&[0u8; 12]);
    data.extend_from_slice(vk.as_slice());
    data.extend_from_slice(&word(0x60));
    data.extend_from_slice(&word(0x60 + 0x20 + padded));
    data.extend_from_slice(&word(proof.len()));
    data.extend_from_slice(proof);
    data.resize(data.len() + padded - proof.len(), 0);
    data.extend_from_slice(&word(instances.len()));
    for instance in instances {
        data.extend_from_slice(&fr_word(instance));
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_and_layout() {
        // cast sig "verifyProof(address,bytes,uint256[])" = 0xaf83a18d (PSE's constant).
        assert_eq!(verify_proof_selector(), [0xaf, 0x83, 0xa1, 0x8d]);
        let data = encode_verify_proof(Address::repeat_byte(0x11), &[7u8; 64], &[Fr::from(5u64)]);
        assert_eq!(data.len(), 4 + 32 * 4 + 64 + 32 * 2);
        assert_eq!(data[4 + 12..4 + 32], [0x11; 20]);
        assert_eq!(data[4 + 32 + 31], 0x60);
        assert_eq!(data[4 + 64 + 31], 0x60 + 0x20 + 64);
        assert_eq!(data[data.len() - 1], 5);
    }
}
