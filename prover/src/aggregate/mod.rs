//! Batch mode: N app proofs (Poseidon transcript) aggregated into one SHPLONK proof with the EVM
//! transcript, whose generated Solidity verifier checks all N at once.
//!
//! - [`config`]: the aggregation shape (app circuit, N, k), its digest and the config policy.
//! - [`keys`]: aggregation keys, generated once per (app circuit, N, k) and cached on disk like the
//!   app keys (`<cache>/aggregation/<digest>-<srs id>/`).
//! - [`prove`]: app proofs as snarks, the aggregation proof, and its native verification
//!   (halo2 proof plus the KZG accumulator's pairing).
//!
//! Batch mode end to end (N proofs bound to one context, aggregation, verifier, revm check,
//! fixture) is [`crate::pipeline::batch`].
//!
//! The aggregation proof's public instances are the 12 accumulator limbs (the KZG pair the
//! on-chain verifier finishes with one pairing: lhs.x, lhs.y, rhs.x, rhs.y, 3 limbs of 88 bits
//! each), followed by every app proof's instances in the layout of
//! [`crate::circuit::instances`], back to back, in the order the proofs were given.

pub mod config;
pub mod keys;
pub mod prove;

pub use config::{AggregationCircuitConfig, AggregationShape};
pub use keys::AggregationKeys;
pub use prove::{aggregate, app_snark, verify_aggregation, AggregationProof};

use std::path::PathBuf;

/// Why an aggregation step failed.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    /// N is outside 1..=MAX_PROOFS.
    #[error("an aggregation takes 1..={max} app proofs, not {found}")]
    ProofsOutOfRange {
        /// N asked for.
        found: usize,
        /// The largest N.
        max: usize,
    },
    /// The number of proofs is not the circuit's N.
    #[error("the aggregation circuit takes {expected} app proofs, got {found}")]
    ProofCount {
        /// N of the circuit.
        expected: usize,
        /// Proofs given.
        found: usize,
    },
    /// k is outside the supported range.
    #[error("aggregation degree k = {k} is outside {min}..={max}")]
    Degree {
        /// k asked for.
        k: u32,
        /// Smallest k.
        min: u32,
        /// Largest k.
        max: u32,
    },
    /// An app proof has the wrong transcript (aggregation needs Poseidon).
    #[error("app proof {index} uses the {found:?} transcript; aggregation needs Poseidon-transcript proofs (`--transcript poseidon`)")]
    Transcript {
        /// Index of the proof.
        index: usize,
        /// Its transcript.
        found: crate::prove::Transcript,
    },
    /// An app proof does not verify against the app circuit's key.
    #[error("app proof {index} does not verify against the app circuit {app_digest}")]
    InvalidAppProof {
        /// Index of the proof.
        index: usize,
        /// Digest of the app circuit.
        app_digest: String,
    },
    /// An app proof has the wrong number of instances.
    #[error("app proof {index} has {found} instances, the app circuit has {expected}")]
    InstanceCount {
        /// Index of the proof.
        index: usize,
        /// Expected count.
        expected: usize,
        /// Found count.
        found: usize,
    },
    /// The keys are for another aggregation shape.
    #[error("the aggregation keys are for {keys}, not {requested}")]
    ShapeMismatch {
        /// The keys' shape.
        keys: String,
        /// The requested shape.
        requested: String,
    },
    /// The aggregation circuit panicked while being laid out (snark-verifier asserts inside).
    #[error("the aggregation circuit could not be built: {0}")]
    Circuit(String),
    /// halo2 keygen or proving failed.
    #[error("halo2 {stage} failed: {message}")]
    Halo2 {
        /// keygen or proving.
        stage: &'static str,
        /// The error.
        message: String,
    },
    /// The fresh aggregation proof does not verify (never expected).
    #[error("the aggregation proof does not verify")]
    SelfCheck,
    /// Cache I/O.
    #[error("aggregation key cache {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A cached config does not parse.
    #[error("aggregation key cache {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// Proving the keygen placeholder app proof failed.
    #[error(transparent)]
    AppProve(#[from] crate::prove::ProveError),
}

/// Runs `f`, turning a panic into [`AggregateError::Circuit`] (snark-verifier and halo2-ecc assert
/// on malformed inputs instead of returning errors).
pub(crate) fn catch<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, AggregateError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string());
        AggregateError::Circuit(format!("{what}: {message}"))
    })
}
