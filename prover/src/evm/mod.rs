//! On-chain verification primitives: everything between an app (or aggregation) proof and a
//! Solidity contract that checks it, without the pipelines that use them ([`crate::pipeline`]).
//!
//! - [`context`]: the `context` public instance, computed like the Guard does on chain.
//! - [`codegen`]: Solidity verifier generation from a verifying key, compilation through
//!   `scripts/solc`, the EIP-170 size check, and the files under `contracts/src/generated/`.
//! - [`exec`]: in-process EVM (revm) deployment and calls, with gas.
//! - [`calldata`]: the verifier's raw calldata and the wrapper / Guard calls (`alloy-sol-types`).
//! - [`mod@proof_length`]: the exact byte length of a circuit's proofs, from its verifying key.
//! - [`shared_verifier`]: app circuits on the shared verifier (`zkguard-halo2-solidity`): the
//!   verifier of a proof system and one small key contract per circuit.

pub mod calldata;
pub mod codegen;
pub mod context;
pub mod exec;
pub mod proof_length;
pub mod shared_verifier;

pub use calldata::encode_calldata;
pub use codegen::{CodegenError, GeneratedVerifier, VerifierSpec};
pub use context::SubmissionContext;
pub use exec::{CallOutcome, ExecError};
pub use proof_length::{proof_length, ProofShape};
