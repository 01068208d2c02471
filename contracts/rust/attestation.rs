//! Input attestations: the EIP-712 message a data provider (attester) signs to vouch that the
//! inputs behind a submission's input commitments are real, exactly as `Guard.attestationDigest`
//! computes it: `InputAttestation(uint256 modelId,uint64 nonce,uint64 issuedAt,address[] subjects,
//! uint256[] inputCommitments)` in the domain (name "zkguard", version "1", chain id, Guard).
//!
//! One definition for the attester (`zkguard attest`), the relayer and the tests; the digest is
//! checked against the Guard's on a real anvil (tests/) and against a known-answer vector that
//! forge computes too (`GuardAttestation.t.sol`).

use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_sol_types::{eip712_domain, Eip712Domain, SolStruct};
use serde::{Deserialize, Serialize};

alloy_sol_types::sol! {
    /// What attesters sign (`Guard.INPUT_ATTESTATION_TYPEHASH`).
    #[derive(Debug, PartialEq, Eq)]
    struct InputAttestation {
        uint256 modelId;
        uint64 nonce;
        uint64 issuedAt;
        address[] subjects;
        uint256[] inputCommitments;
    }
}

/// The EIP-712 domain of a Guard on a chain.
pub fn domain(chain_id: u64, guard: Address) -> Eip712Domain {
    eip712_domain! { name: "zkguard", version: "1", chain_id: chain_id, verifying_contract: guard, }
}

impl InputAttestation {
    /// The message for a submission.
    pub fn new(model_id: U256, nonce: u64, issued_at: u64, subjects: Vec<Address>, inputs: Vec<U256>) -> Self {
        Self { modelId: model_id, nonce, issuedAt: issued_at, subjects, inputCommitments: inputs }
    }

    /// The digest attesters sign for `guard` on `chain_id` (= `Guard.attestationDigest`).
    pub fn digest(&self, chain_id: u64, guard: Address) -> B256 {
        self.eip712_signing_hash(&domain(chain_id, guard))
    }
}

/// One attester's signature, as the Guard takes it (`Attestation` of `IGuard.sol`) and as the
/// relayer's API and `zkguard attest` write it in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The attester (an account, or an ERC-1271 contract).
    pub signer: Address,
    /// Its signature over the digest (65 bytes `r ‖ s ‖ v` for an account).
    pub signature: Bytes,
}

/// Sorts attestations by signer, as the Guard requires.
pub fn sort_by_signer(attestations: &mut [Attestation]) {
    attestations.sort_by_key(|a| a.signer);
}

/// Why a set of attestations does not satisfy a model's input policy.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// Fewer attestations than the threshold.
    #[error("{got} attestation(s), the model needs {needed}")]
    BelowThreshold {
        /// Attestations given.
        got: usize,
        /// The policy's threshold.
        needed: usize,
    },
    /// The signer is not a registered attester of the model.
    #[error("{0} is not a registered attester of the model")]
    UnknownAttester(Address),
    /// The same signer twice.
    #[error("attester {0} signed twice")]
    DuplicateAttester(Address),
    /// Not sorted by ascending signer.
    #[error("attestations are not sorted by signer ({previous} before {next})")]
    NotSorted {
        /// The earlier signer.
        previous: Address,
        /// The later, smaller one.
        next: Address,
    },
    /// The signature does not recover to its signer over this submission's digest.
    #[error("the signature of {0} does not verify over this submission (wrong message or key, malformed, or high s)")]
    InvalidSignature(Address),
}

#[cfg(feature = "deploy")]
mod signing {
    use alloy::primitives::Signature;
    use alloy::signers::{local::PrivateKeySigner, SignerSync};

    use super::*;

    impl Attestation {
        /// Signs `digest` with an attester key (a low-s 65-byte signature).
        pub fn sign(signer: &PrivateKeySigner, digest: B256) -> Result<Self, alloy::signers::Error> {
            let sig = signer.sign_hash_sync(&digest)?;
            Ok(Self { signer: signer.address(), signature: Bytes::from(sig.as_bytes().to_vec()) })
        }

        /// Whether this is a valid account (ECDSA, low s) signature of `digest` by its signer.
        /// Contract (ERC-1271) attesters are checked by the Guard on chain, not here.
        pub fn verifies(&self, digest: B256) -> bool {
            if self.signature.len() != 65 {
                return false;
            }
            let Ok(sig) = Signature::try_from(&self.signature[..]) else { return false };
            if sig.normalize_s().is_some() {
                return false; // high s: the Guard refuses the malleable twin
            }
            sig.recover_address_from_prehash(&digest).is_ok_and(|a| a == self.signer)
        }
    }

    /// The Guard's rules for `Attested` inputs, checked off chain: sorted distinct signers, each a
    /// registered attester with a valid signature of `digest`, at least `threshold` of them.
    pub fn check(
        digest: B256,
        attestations: &[Attestation],
        threshold: usize,
        is_attester: impl Fn(Address) -> bool,
    ) -> Result<(), AttestationError> {
        if attestations.len() < threshold {
            return Err(AttestationError::BelowThreshold { got: attestations.len(), needed: threshold });
        }
        let mut previous: Option<Address> = None;
        for a in attestations {
            match previous {
                Some(p) if p == a.signer => return Err(AttestationError::DuplicateAttester(a.signer)),
                Some(p) if a.signer < p => return Err(AttestationError::NotSorted { previous: p, next: a.signer }),
                _ => {}
            }
            previous = Some(a.signer);
            if !is_attester(a.signer) {
                return Err(AttestationError::UnknownAttester(a.signer));
            }
            if !a.verifies(digest) {
                return Err(AttestationError::InvalidSignature(a.signer));
            }
        }
        Ok(())
    }
}

#[cfg(feature = "deploy")]
pub use signing::check;

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256};

    fn message() -> InputAttestation {
        InputAttestation::new(
            U256::from(1),
            7,
            1_700_000_000,
            vec![address!("0x00000000000000000000000000000000000000a1")],
            vec![U256::from(0x1234), U256::from(0x5678)],
        )
    }

    /// The type string equals the one the Guard hashes (read from the Solidity source).
    #[test]
    fn type_string_matches_the_guard() {
        let src = std::fs::read_to_string(format!("{}/src/Guard.sol", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let ty = InputAttestation::eip712_encode_type();
        assert!(src.contains(&format!("\"{ty}\"")), "Guard.sol does not hash {ty}");
    }

    /// Known-answer vector, also asserted by forge (`test_attestationDigest_knownAnswer` in
    /// GuardAttestation.t.sol, with the Guard's own code): chain 31337, Guard 0x…a1.
    #[test]
    fn digest_known_answer() {
        let guard = address!("0x00000000000000000000000000000000000000a1");
        assert_eq!(
            message().digest(31337, guard),
            b256!("0xc10ff5dbe146d5cda25f4bedd1b60eaea9b63c32dbcce32a5426ae8fb1c9b8aa")
        );
    }
}
