//! On-chain verification: everything between an app (or aggregation) proof and a Solidity
//! contract that checks it.
//!
//! - [`context`]: the `context` public instance, computed like the Guard does on chain.
//! - [`codegen`]: Solidity verifier generation from a verifying key, compilation through
//!   `scripts/solc`, the EIP-170 size check, and the files under `contracts/src/generated/`.
//! - [`exec`]: in-process EVM (revm) deployment and calls, with gas.
//! - [`calldata`]: the verifier's raw calldata and the wrapper / Guard calls (`alloy-sol-types`).
//! - [`fixture`]: the JSON fixtures the forge tests read (`contracts/fixtures/*.json`).
//! - [`direct`]: direct mode end to end (EVM-transcript proof, verifier, revm check, fixture).
//! - [`mod@proof_length`]: the exact byte length of a circuit's proofs, from its verifying key.
//! - [`demo`]: a built-in demo model, rows and context (fixtures, tests, demos without files).
//! - [`cli_args`]: the `zkguard verifier generate`, `aggregate`, `fixture` and `context` commands.
//!
//! Batch mode (aggregation) lives in [`crate::aggregate`].

pub mod calldata;
pub mod cli_args;
pub mod codegen;
pub mod context;
pub mod demo;
pub mod direct;
pub mod exec;
pub mod fixture;
pub mod proof_length;
pub mod shared_verifier;

pub use calldata::encode_calldata;
pub use codegen::{CodegenError, GeneratedVerifier, VerifierSpec};
pub use context::SubmissionContext;
pub use exec::{CallOutcome, ExecError};
pub use proof_length::{proof_length, ProofShape};

/// Why an on-chain pipeline step (direct mode, fixtures) failed.
#[derive(Debug, thiserror::Error)]
pub enum OnchainError {
    /// The witness does not fit the circuit.
    #[error(transparent)]
    Circuit(#[from] crate::circuit::CircuitError),
    /// Keys could not be made or loaded.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// KZG parameters could not be loaded.
    #[error(transparent)]
    Srs(#[from] crate::keys::SrsError),
    /// Proving failed.
    #[error(transparent)]
    Prove(#[from] crate::prove::ProveError),
    /// The verifier could not be generated or compiled.
    #[error(transparent)]
    Codegen(#[from] CodegenError),
    /// The generated verifier did not accept the proof in revm.
    #[error(transparent)]
    Verify(#[from] exec::EvmVerifyError),
    /// The proof's instances do not decode.
    #[error(transparent)]
    Layout(#[from] crate::circuit::instances::LayoutError),
    /// Aggregation failed.
    #[error(transparent)]
    Aggregate(#[from] crate::aggregate::AggregateError),
    /// The fixture could not be built or written.
    #[error(transparent)]
    Fixture(#[from] fixture::FixtureError),
}
