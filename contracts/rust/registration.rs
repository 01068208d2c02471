//! What registering a model takes, as plain data: the circuit's identity, the verifier, the
//! policy, the breaker's sliding window and the input policy. Built by the CLI, the demo and the
//! tests from a prepared circuit; sent by [`crate::deploy::register_model`].

use alloy_primitives::{Address, FixedBytes, I256, U256};
use serde::Serialize;

use crate::abi::InputMode;

/// What a registered model does when its proofs verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "deploy", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The circuit breaker pauses the protected vault.
    Breaker,
    /// The verdict filter records a verdict per subject (needs subjects).
    Filter,
    /// Nothing (the Guard only records the verified batch).
    None,
}

/// The model's policy (see `IModelRegistry.Policy`) and the breaker's window for it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PolicyArgs {
    /// What acts on verified outputs.
    pub action: Action,
    /// Oldest acceptable proof (s).
    pub max_age: u32,
    /// Flagged samples in one submission for the action to fire (0: the rule is off).
    pub min_flagged: u32,
    /// Fire when the highest score reaches this fixed-point value.
    pub score_threshold: Option<I256>,
    /// Breaker only: fire when `(seconds, flagged)`: this many flagged samples arrive within the
    /// sliding window, over any number of submissions.
    pub window: Option<(u32, u32)>,
}

/// Who vouches for a model's inputs (`IModelRegistry.InputPolicy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "mode")]
pub enum InputPolicyArgs {
    /// At least `threshold` of `attesters` sign each submission's input commitments.
    Attested {
        /// Signatures required.
        threshold: u8,
        /// The attesters.
        attesters: Vec<Address>,
    },
    /// Only these accounts may submit (they are trusted for the data).
    Submitters {
        /// The allowed submitters.
        submitters: Vec<Address>,
    },
    /// Anyone may submit anything (refused by the registry for a pausing action).
    Open,
}

impl InputPolicyArgs {
    /// The mode.
    pub fn mode(&self) -> InputMode {
        match self {
            Self::Attested { .. } => InputMode::Attested,
            Self::Submitters { .. } => InputMode::Submitters,
            Self::Open => InputMode::Open,
        }
    }

    /// `(mode, threshold, members)` as the registry takes them.
    pub fn to_abi(&self) -> (u8, u8, Vec<Address>) {
        match self {
            Self::Attested { threshold, attesters } => (InputMode::Attested as u8, *threshold, attesters.clone()),
            Self::Submitters { submitters } => (InputMode::Submitters as u8, 0, submitters.clone()),
            Self::Open => (InputMode::Open as u8, 0, vec![]),
        }
    }
}

/// What a registration pins about a model's circuit: the one definition of these facts, derived
/// from the model and the circuit shape without keys (`zkguard_prover::identity`), registered by
/// [`ModelRegistration`] and compared with a registry entry by the relayer's start-up check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitIdentity {
    /// The digest the registry pins and the verifier reports: the app circuit's in direct mode,
    /// the aggregation circuit's in batch mode.
    pub digest: FixedBytes<32>,
    /// The model's Poseidon commitment.
    pub commitment: U256,
    /// App proofs per verified proof (1 in direct mode, N in batch mode).
    pub proof_count: usize,
    /// Accumulator limbs in front of the app instances (0 in direct mode, 12 in batch mode).
    pub accumulator_limbs: usize,
    /// Public instances of one app proof.
    pub app_instances: usize,
    /// Width of the app proof's packed scores (0: no scores).
    pub score_bits: u8,
}

/// The verifier a registration deploys behind its wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifierCode {
    /// A verifier generated for this circuit alone (snark-verifier's unrolled code: the key and
    /// the instance count are in its code), behind `ZkGuardVerifier`.
    Unrolled {
        /// Its creation code.
        creation: Vec<u8>,
    },
    /// The proof system's shared `Halo2Verifier` (deployed once per chain through CREATE2) and
    /// this circuit's `Halo2VerifyingKey` contract, behind `ZkGuardKeyedVerifier` (in batch mode
    /// the aggregation circuits' verifier, with the KZG accumulator, and the aggregation circuit's
    /// key).
    Shared(SharedVerifierCode),
}

impl VerifierCode {
    /// `unrolled` or `shared`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unrolled { .. } => "unrolled",
            Self::Shared(_) => "shared",
        }
    }

    /// The shared verifier's and the key's code, or `None` for an unrolled verifier.
    pub fn shared(&self) -> Option<&SharedVerifierCode> {
        match self {
            Self::Shared(code) => Some(code),
            Self::Unrolled { .. } => None,
        }
    }
}

/// A circuit's code on the shared verifier: what `deploy::shared` puts on a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedVerifierCode {
    /// keccak256 of the verifier's source without its header (`Rendered::proof_system_digest`):
    /// names the proof system; the CREATE2 salt.
    pub proof_system_digest: FixedBytes<32>,
    /// Creation code of the shared verifier (the same for every circuit of the proof system).
    pub verifier_creation: Vec<u8>,
    /// keccak256 of the shared verifier's runtime code (what must be at its CREATE2 address).
    pub verifier_runtime_hash: FixedBytes<32>,
    /// Creation code of the circuit's verifying-key contract.
    pub key_creation: Vec<u8>,
    /// keccak256 of the key contract's runtime code (`extcodehash`; the wrapper pins it).
    pub key_codehash: FixedBytes<32>,
}

/// A verifier and the registration of the model it verifies.
#[derive(Clone, Debug)]
pub struct ModelRegistration {
    /// Registry model id.
    pub model_id: U256,
    /// The verifier to deploy (the wrapper follows from it).
    pub verifier: VerifierCode,
    /// The circuit the verifier checks and the model it commits to.
    pub identity: CircuitIdentity,
    /// Samples per app proof.
    pub batch_size: u16,
    /// The circuit's exact proof length in bytes (the wrapper refuses any other).
    pub proof_length: usize,
    /// Fixed-point scale of the scores.
    pub score_scale_bits: u8,
    /// The policy.
    pub policy: PolicyArgs,
    /// Who vouches for the inputs.
    pub inputs: InputPolicyArgs,
}
