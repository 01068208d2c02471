//! The prover's pipelines: the steps from a model and rows to something a chain checks, built on
//! the circuit, key, proving, aggregation and [`crate::evm`] modules below them.
//!
//! - [`verifier`]: which Solidity verifier a circuit gets (name, description, spec) and its
//!   generation, for an app circuit (direct mode) or an aggregation circuit (batch mode).
//! - [`direct`]: direct mode end to end (EVM-transcript proof, verifier, revm check, fixture).
//! - [`batch`]: batch mode end to end (N Poseidon-transcript proofs bound to one context,
//!   aggregation, verifier, revm check, fixture).
//! - [`fixture`]: the JSON fixtures the forge tests read (`contracts/fixtures/*.json`).
//! - [`deploy`]: a model's circuit made ready to deploy and register (identity from
//!   [`crate::identity`], the verifier from [`verifier_cache`] or generated now).
//! - [`verifier_cache`]: verifier creation code and proof length cached by circuit digest.

pub mod batch;
pub mod deploy;
pub mod direct;
pub mod fixture;
pub mod verifier;
pub mod verifier_cache;

/// Why a pipeline step (direct mode, batch mode, fixtures) failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
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
    Codegen(#[from] crate::evm::CodegenError),
    /// The generated verifier did not accept the proof in revm.
    #[error(transparent)]
    Verify(#[from] crate::evm::exec::EvmVerifyError),
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
