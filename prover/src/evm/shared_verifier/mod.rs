//! zkguard's circuits on the shared verifier (`zkguard-halo2-solidity`): one `Halo2Verifier` per
//! proof system, one `Halo2VerifyingKey` contract per circuit (docs/ONCHAIN.md, "The shared
//! verifier").
//!
//! - [`pair`]: which proof system an app circuit belongs to, and its rendered and compiled pair.
//! - [`aggregation`]: the same for aggregation circuits (the KZG accumulator in the first
//!   instances is part of the verifier and the key).
//! - [`compile`]: both contracts through [`super::codegen::compile`] (the one solc path), the
//!   key's runtime and code hash.
//! - [`mod@write`]: the pair as files (sources with headers, forge-style artifacts).
//! - [`local_evm`]: revm holding several contracts (verifier, key, wrapper) for tests and the bench.
//! - [`deployable`]: the pair as deployments take it, of app and of aggregation circuits (the
//!   verifier's canonical header, so one bytecode and one CREATE2 address per proof system) and
//!   what a chain needs of it.

pub mod aggregation;
pub mod compile;
pub mod deployable;
pub mod local_evm;
pub mod pair;
pub mod write;

use std::path::PathBuf;

pub use aggregation::{aggregation_pair, aggregation_proof_system_of, aggregation_provenance, AGGREGATION_ACCUMULATOR};
pub use compile::{compile_pair, CompiledPair};
pub use deployable::{
    deployable_aggregation_pair, deployable_pair, shared_verifier_code, SHARED_AGGREGATION_VERIFIER_COMMAND,
    SHARED_VERIFIER_COMMAND,
};
pub use local_evm::{Deployed, LocalEvm};
pub use pair::{app_pair, app_provenance, proof_system_of, AppPair};
pub use write::{proof_system_id, write_pair, WrittenPair};

/// Why a shared verifier pair could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum SharedPairError {
    /// Rendering failed.
    #[error(transparent)]
    Render(#[from] zkguard_halo2_solidity::SharedVerifierError),
    /// The Solidity compiler failed or refused a source.
    #[error("cannot compile {contract}: {source}")]
    Compile {
        /// Which contract.
        contract: &'static str,
        /// The compiler error.
        #[source]
        source: super::CodegenError,
    },
    /// A circuit name that is not a safe directory name.
    #[error("invalid circuit name {0:?}: use letters, digits, `-`, `_` and `.`")]
    InvalidName(String),
    /// Writing a generated file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
