//! `zkguard._zkguard`: the native half of the `zkguard` Python package (PyO3).
//!
//! It binds the prover in-process: model validation and quantization ([`model`]), keys,
//! proving and verification ([`proving`]), and what a chain needs ([`onchain`]: the context
//! field element, aggregation and Solidity verifiers). The Python half (`zkguard/`) converts
//! numpy arrays to rows and wraps these in the documented API; errors are raised as the
//! exceptions of [`errors`], carrying the Rust error's message (with its sources) and, for model
//! files, the field path.

pub mod errors;
pub mod model;
pub mod onchain;
pub mod proving;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _zkguard(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ZkguardError", py.get_type::<errors::ZkguardError>())?;
    m.add("ModelError", py.get_type::<errors::ModelError>())?;
    m.add("InputError", py.get_type::<errors::InputError>())?;
    m.add("KeysError", py.get_type::<errors::KeysError>())?;
    m.add("ProofError", py.get_type::<errors::ProofError>())?;
    m.add("VerificationError", py.get_type::<errors::VerificationError>())?;
    m.add("VerifierError", py.get_type::<errors::VerifierError>())?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("INSECURE_WARNING", zkguard_prover::keys::srs::INSECURE_WARNING)?;
    model::register(m)?;
    proving::register(m)?;
    onchain::register(m)?;
    Ok(())
}
