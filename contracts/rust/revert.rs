//! Every way `Guard.submit` can revert, decoded from the revert data: the Guard's own errors, the
//! verifier wrapper's (bubbled up through `verify`), the policy actions' (through `onVerified`),
//! `Error(string)` and `Panic(uint256)`. [`SubmitRevert::disposition`] is the relayer's retry
//! policy over them; its `match` names every Guard and wrapper error, so a new error in the
//! contracts (regenerated ABI) does not compile until the policy decides what it means.

use alloy_primitives::U256;
use alloy_sol_types::{Panic, Revert, SolInterface};

use crate::abi::CircuitBreaker::CircuitBreakerErrors;
use crate::abi::Guard::GuardErrors;
use crate::abi::VerdictFilter::VerdictFilterErrors;
use crate::abi::ZkGuardVerifier::ZkGuardVerifierErrors;

/// A decoded revert of `Guard.submit`.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitRevert {
    /// A Guard error (checks, input policy, replay, time).
    Guard(GuardErrors),
    /// The verifier wrapper refused (instances, proof length, the proof itself).
    Verifier(ZkGuardVerifierErrors),
    /// The circuit breaker action refused.
    Breaker(CircuitBreakerErrors),
    /// The verdict filter action refused.
    Filter(VerdictFilterErrors),
    /// `Error(string)`.
    Message(String),
    /// `Panic(uint256)`.
    Panic(U256),
    /// A custom error of none of the above (e.g. of a protected target), by its data.
    Unknown(Vec<u8>),
    /// Reverted without data (out of gas, or a bare `revert()`).
    Empty,
}

/// What the relayer does about a revert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The nonce is already used: look for the `Verified` event (someone may have landed this
    /// very submission first, e.g. a copied transaction).
    NonceUsed,
    /// The submission can never pass as is: fail it with the reason.
    Permanent,
    /// May pass later (a clock ahead of the chain, a target or node state): retry with back-off.
    Transient,
}

impl SubmitRevert {
    /// Decodes revert data.
    pub fn decode(data: &[u8]) -> Self {
        if data.is_empty() {
            return Self::Empty;
        }
        if let Ok(e) = GuardErrors::abi_decode(data) {
            return Self::Guard(e);
        }
        if let Ok(e) = ZkGuardVerifierErrors::abi_decode(data) {
            return Self::Verifier(e);
        }
        if let Ok(e) = CircuitBreakerErrors::abi_decode(data) {
            return Self::Breaker(e);
        }
        if let Ok(e) = VerdictFilterErrors::abi_decode(data) {
            return Self::Filter(e);
        }
        if let Ok(r) = <Revert as alloy_sol_types::SolError>::abi_decode(data) {
            return Self::Message(r.reason);
        }
        if let Ok(p) = <Panic as alloy_sol_types::SolError>::abi_decode(data) {
            return Self::Panic(p.code);
        }
        Self::Unknown(data.to_vec())
    }

    /// Whether this is one of zkguard's own contract errors.
    pub fn is_known(&self) -> bool {
        matches!(self, Self::Guard(_) | Self::Verifier(_) | Self::Breaker(_) | Self::Filter(_))
    }

    /// The relayer's retry policy for this revert.
    pub fn disposition(&self) -> Disposition {
        use GuardErrors as G;
        use ZkGuardVerifierErrors as V;
        match self {
            Self::Guard(e) => match e {
                G::NonceAlreadyUsed(_) => Disposition::NonceUsed,
                // the chain's clock is behind ours: the same submission passes a little later
                G::IssuedInFuture(_) => Disposition::Transient,
                G::ReentrancyGuardReentrantCall(_) => Disposition::Transient,
                G::AttestersNotSorted(_)
                | G::ContextMismatch(_)
                | G::DecisionWordOutOfRange(_)
                | G::DuplicateAttester(_)
                | G::InstanceCountMismatch(_)
                | G::InvalidAttestation(_)
                | G::InvalidSampleCount(_)
                | G::InvalidShortString(_)
                | G::ModelCommitmentMismatch(_)
                | G::ModelIsRetired(_)
                | G::RegistryHasNoCode(_)
                | G::StaleSubmission(_)
                | G::StringTooLong(_)
                | G::SubjectsLengthMismatch(_)
                | G::SubmitterNotAllowed(_)
                | G::UnattestedInputs(_)
                | G::UnknownAttester(_)
                | G::UnknownModel(_) => Disposition::Permanent,
            },
            Self::Verifier(e) => match e {
                V::InstanceCountMismatch(_)
                | V::InstanceOutOfField(_)
                | V::InvalidProofLength(_)
                | V::InvalidVerifierLayout(_)
                | V::ProofLengthMismatch(_)
                | V::ProofRejected(_)
                | V::VerifierHasNoCode(_) => Disposition::Permanent,
            },
            // an action's refusal (no target configured, subjects missing) is the deployment's
            // to fix; the same proof may pass once it is fixed, so it is retried with back-off
            Self::Breaker(_) | Self::Filter(_) => Disposition::Transient,
            Self::Message(_) | Self::Panic(_) | Self::Unknown(_) | Self::Empty => Disposition::Transient,
        }
    }
}

impl std::fmt::Display for SubmitRevert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Guard(e) => f.write_str(&readable(&format!("{e:?}"))),
            Self::Verifier(e) => f.write_str(&readable(&format!("{e:?}"))),
            Self::Breaker(e) => f.write_str(&readable(&format!("{e:?}"))),
            Self::Filter(e) => f.write_str(&readable(&format!("{e:?}"))),
            Self::Message(m) => write!(f, "Error({m:?})"),
            Self::Panic(code) => write!(f, "Panic({code:#x})"),
            Self::Unknown(data) => write!(f, "unknown custom error 0x{}", hex::encode(&data[..data.len().min(4)])),
            Self::Empty => f.write_str("reverted without data"),
        }
    }
}

/// `Variant(Variant { a: 1, b: 2 })` (the derived `Debug`) as `Variant(a: 1, b: 2)`.
fn readable(debug: &str) -> String {
    let Some(open) = debug.find('(') else { return debug.to_string() };
    let variant = &debug[..open];
    let fields = match (debug.find('{'), debug.rfind('}')) {
        (Some(a), Some(b)) if a < b => debug[a + 1..b].trim(),
        _ => "",
    };
    format!("{variant}({fields})")
}

/// A readable reason for revert data.
pub fn decode_revert(data: &[u8]) -> String {
    SubmitRevert::decode(data).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{Guard, ZkGuardVerifier};
    use alloy_json_abi::JsonAbi;
    use alloy_sol_types::SolError;

    #[test]
    fn decodes_each_family_with_arguments() {
        let data = Guard::ModelIsRetired { modelId: U256::from(7) }.abi_encode();
        assert_eq!(decode_revert(&data), "ModelIsRetired(modelId: 7)");
        assert_eq!(SubmitRevert::decode(&data).disposition(), Disposition::Permanent);
        let data = Guard::NonceAlreadyUsed { modelId: U256::from(1), nonce: 9 }.abi_encode();
        assert_eq!(SubmitRevert::decode(&data).disposition(), Disposition::NonceUsed);
        let data = ZkGuardVerifier::ProofRejected {}.abi_encode();
        assert_eq!(decode_revert(&data), "ProofRejected()");
        assert!(SubmitRevert::decode(&data).is_known());
        let data =
            Guard::UnattestedInputs { modelId: U256::from(1), got: U256::ZERO, needed: U256::from(2) }.abi_encode();
        assert_eq!(decode_revert(&data), "UnattestedInputs(modelId: 1, got: 0, needed: 2)");
        assert_eq!(decode_revert(&Revert::from("nope").abi_encode()), "Error(\"nope\")");
        assert_eq!(decode_revert(&[1, 2, 3, 4, 5]), "unknown custom error 0x01020304");
        assert_eq!(decode_revert(&[]), "reverted without data");
        assert_eq!(SubmitRevert::decode(&[]).disposition(), Disposition::Transient);
    }

    /// Every custom error in the ABIs of the contracts a submission runs through (the Guard, the
    /// wrapper, both actions) is decoded as a known error, so none reaches the retry policy as
    /// "unknown". (Which of them the Guard can raise is the contracts' business; that the policy
    /// names every Guard and wrapper error is checked by the compiler in `disposition`.)
    #[test]
    fn every_error_a_submission_can_raise_is_known() {
        let mut seen = 0;
        for name in ["Guard", "ZkGuardVerifier", "CircuitBreaker", "VerdictFilter"] {
            let path = format!("{}/abi/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let abi: JsonAbi = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for error in abi.errors() {
                // zero arguments of the right shape: each static parameter is one word
                let mut data = error.selector().to_vec();
                data.extend(vec![0u8; 32 * error.inputs.len()]);
                let decoded = SubmitRevert::decode(&data);
                assert!(decoded.is_known(), "{name}.{} is not known to the retry policy: {decoded}", error.name);
                seen += 1;
            }
        }
        assert!(seen > 30, "{seen}");
    }

    /// The keyed wrapper (shared verifier) raises the unrolled wrapper's errors during `verify`
    /// (both inherit them from `ZkGuardVerifierBase`), so the retry policy decodes them alike; its
    /// one own error, `VerifyingKeyHashMismatch`, is raised by its constructor only.
    #[test]
    fn the_keyed_wrappers_errors_are_the_wrappers_plus_a_constructor_error() {
        let abi = |name: &str| -> JsonAbi {
            let path = format!("{}/abi/{name}.json", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        let (unrolled, keyed) = (abi("ZkGuardVerifier"), abi("ZkGuardKeyedVerifier"));
        let unrolled: Vec<_> = unrolled.errors().map(|e| e.selector()).collect();
        let own: Vec<_> =
            keyed.errors().filter(|e| !unrolled.contains(&e.selector())).map(|e| e.name.as_str()).collect();
        assert_eq!(own, ["VerifyingKeyHashMismatch"]);
        assert_eq!(keyed.errors().count(), unrolled.len() + 1);
        for error in keyed.errors().filter(|e| e.name != "VerifyingKeyHashMismatch") {
            let mut data = error.selector().to_vec();
            data.extend(vec![0u8; 32 * error.inputs.len()]);
            let decoded = SubmitRevert::decode(&data);
            assert!(decoded.is_known(), "{}: {decoded}", error.name);
            assert_eq!(decoded.disposition(), Disposition::Permanent, "{}", error.name);
        }
    }
}
