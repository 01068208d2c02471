//! The `context` public instance, computed exactly as the Guard recomputes it on chain
//! (`InstanceLayout.contextHash` in `contracts/src/InstanceLayout.sol`):
//!
//! ```text
//! subjectsHash = keccak256(abi.encodePacked(address[] subjects))   // each address padded to 32 bytes
//! context      = uint256(keccak256(abi.encode(uint256 chainId, address guard, uint256 modelId,
//!                                             uint64 nonce, uint64 issuedAt, bytes32 subjectsHash))) % R
//! ```
//!
//! where `R` is the BN254 scalar field modulus. A proof carries this value at
//! [`crate::circuit::instances::CONTEXT_INDEX`], so it is valid for one chain, one Guard, one model
//! and one nonce only.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::SolValue;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::circuit::field::fr_from_be_bytes;

/// The BN254 scalar field modulus `R` (every public instance is below it).
pub const FIELD_MODULUS: U256 =
    alloy_primitives::uint!(21888242871839275222246405745257275088548364400416034343698204186575808495617_U256);

/// What a proof is bound to: the Solidity `SubmissionContext` plus the chain and the Guard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionContext {
    /// Chain id (`block.chainid`).
    pub chain_id: u64,
    /// The Guard contract that will accept the proof.
    pub guard: Address,
    /// Registry model id.
    pub model_id: U256,
    /// Single-use nonce (per model).
    pub nonce: u64,
    /// Issue time, unix seconds.
    pub issued_at: u64,
    /// One account per real sample, in sample order, or empty.
    pub subjects: Vec<Address>,
}

impl SubmissionContext {
    /// `keccak256(abi.encodePacked(subjects))`: keccak of the 32-byte left-padded addresses.
    pub fn subjects_hash(&self) -> B256 {
        subjects_hash(&self.subjects)
    }

    /// The context as a `uint256` (already reduced modulo `R`).
    pub fn context_u256(&self) -> U256 {
        let encoded =
            (U256::from(self.chain_id), self.guard, self.model_id, self.nonce, self.issued_at, self.subjects_hash())
                .abi_encode_params();
        U256::from_be_bytes(keccak256(encoded).0).reduce_mod(FIELD_MODULUS)
    }

    /// The context as the field element the circuit exposes.
    pub fn context(&self) -> Fr {
        u256_to_fr(self.context_u256())
    }
}

/// `keccak256(abi.encodePacked(address[] subjects))`.
pub fn subjects_hash(subjects: &[Address]) -> B256 {
    let mut packed = Vec::with_capacity(32 * subjects.len());
    for subject in subjects {
        packed.extend_from_slice(&[0u8; 12]);
        packed.extend_from_slice(subject.as_slice());
    }
    keccak256(packed)
}

/// A `uint256` reduced modulo `R` as a field element.
pub fn u256_to_fr(value: U256) -> Fr {
    let reduced = value.reduce_mod(FIELD_MODULUS);
    // A value below R always parses; the fallback is unreachable.
    fr_from_be_bytes(&reduced.to_be_bytes::<32>()).unwrap_or_default()
}

/// A field element as a `uint256`.
pub fn fr_to_u256(value: &Fr) -> U256 {
    U256::from_be_bytes(crate::circuit::field::fr_to_be_bytes(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    fn known() -> SubmissionContext {
        SubmissionContext {
            chain_id: 31337,
            guard: address!("00000000000000000000000000000000000000A1"),
            model_id: U256::from(1u64),
            nonce: 7,
            issued_at: 1_700_000_000,
            subjects: vec![
                address!("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                address!("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
            ],
        }
    }

    #[test]
    fn known_answer_matches_solidity() {
        let ctx = known();
        assert_eq!(ctx.subjects_hash(), b256!("954d47c62c658330584768e7cc0742a4b80ebe26baf5eb5f94795db969818388"));
        let expected: U256 =
            "321420112393109081887600119227572554560628260741574193697391883437081978075".parse().unwrap();
        assert_eq!(ctx.context_u256(), expected);
        assert_eq!(fr_to_u256(&ctx.context()), expected);
    }

    #[test]
    fn every_field_changes_the_context() {
        let base = known().context_u256();
        let mut variants = vec![];
        let mut c = known();
        c.chain_id = 1;
        variants.push(c);
        let mut c = known();
        c.guard = address!("00000000000000000000000000000000000000A2");
        variants.push(c);
        let mut c = known();
        c.model_id = U256::from(2u64);
        variants.push(c);
        let mut c = known();
        c.nonce = 8;
        variants.push(c);
        let mut c = known();
        c.issued_at += 1;
        variants.push(c);
        let mut c = known();
        c.subjects.reverse();
        variants.push(c);
        let mut c = known();
        c.subjects.clear();
        variants.push(c);
        for v in variants {
            assert_ne!(v.context_u256(), base, "{v:?}");
        }
    }

    #[test]
    fn empty_subjects_hash_is_keccak_of_nothing() {
        assert_eq!(subjects_hash(&[]), keccak256([]));
    }

    #[test]
    fn modulus_matches_the_field() {
        assert_eq!(fr_to_u256(&-Fr::one()) + U256::from(1u64), FIELD_MODULUS);
        assert_eq!(u256_to_fr(FIELD_MODULUS + U256::from(5u64)), Fr::from(5u64));
    }
}
