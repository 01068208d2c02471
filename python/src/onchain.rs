//! What a chain needs, in the native module: the context field element a Guard expects,
//! aggregation of Poseidon-transcript proofs (batch mode), Solidity verifiers and their
//! execution in revm (the EVM snark-verifier's tests use).

use std::path::PathBuf;
use std::sync::Arc;

use alloy_primitives::{Address, U256};
use pyo3::prelude::*;
use zkguard_prover::aggregate::config::default_k;
use zkguard_prover::aggregate::{aggregate as aggregate_proofs, app_snark, verify_aggregation};
use zkguard_prover::aggregate::{AggregationKeys, AggregationShape};
use zkguard_prover::artifact::fr_to_hex;
use zkguard_prover::evm::codegen::generate_verifier as generate;
use zkguard_prover::evm::exec::evm_verify;
use zkguard_prover::evm::{encode_calldata, SubmissionContext};
use zkguard_prover::keys::load_params;
use zkguard_prover::pipeline::verifier::{app_verifier_spec, default_app_name};

use crate::errors::{chain, to_py, InputError, ProofError, VerificationError, VerifierError};
use crate::proving::{field, PyKeys, PyProof};

/// The context field element (hex) that binds a proof to one submission:
/// `keccak256(abi.encode(chainId, guard, modelId, nonce, issuedAt, keccak256(subjects))) mod r`.
/// Every part is required: a default would silently make a context no Guard accepts.
#[pyfunction]
#[pyo3(signature = (*, chain_id, guard, model_id, nonce, issued_at, subjects=Vec::new()))]
fn context(
    chain_id: u64,
    guard: &str,
    model_id: u128,
    nonce: u64,
    issued_at: u64,
    subjects: Vec<String>,
) -> PyResult<String> {
    let address = |what: &str, s: &str| {
        s.parse::<Address>().map_err(|e| InputError::new_err(format!("{what}={s:?} is not an address: {e}")))
    };
    let ctx = SubmissionContext {
        chain_id,
        guard: address("guard", guard)?,
        model_id: U256::from(model_id),
        nonce,
        issued_at,
        subjects: subjects
            .iter()
            .enumerate()
            .map(|(i, s)| address(&format!("subjects[{i}]"), s))
            .collect::<PyResult<_>>()?,
    };
    Ok(fr_to_hex(&ctx.context()))
}

/// An aggregation proof of N app proofs of one circuit, ready for the batch verifier.
#[pyclass(name = "AggregationProof", module = "zkguard", frozen, get_all)]
pub struct PyAggregationProof {
    /// The aggregation circuit's digest.
    pub circuit_digest: String,
    /// The aggregated app circuit's digest.
    pub app_circuit_digest: String,
    /// Number of app proofs.
    pub proofs: usize,
    /// Degree of the aggregation circuit.
    pub k: u32,
    /// Public instances (hex): 12 accumulator limbs, then each app proof's instances.
    pub instances: Vec<String>,
    /// The proof bytes (EVM transcript).
    pub proof: Vec<u8>,
    /// The verifier's calldata: instances as 32-byte words, then the proof.
    pub calldata: Vec<u8>,
    /// True when made with the INSECURE development setup.
    pub insecure_srs: bool,
}

/// Aggregates Poseidon-transcript `proofs` of `keys`' circuit into one proof (keys of the
/// aggregation circuit are generated or loaded from the keys' cache). `k` defaults to the
/// prover's choice for N proofs (at least 18: this is minutes of work and GBs of memory).
#[pyfunction]
#[pyo3(signature = (keys, proofs, *, k=None))]
fn aggregate(
    py: Python<'_>,
    keys: &PyKeys,
    proofs: Vec<Bound<'_, PyProof>>,
    k: Option<u32>,
) -> PyResult<PyAggregationProof> {
    let proofs: Vec<&PyProof> = proofs.iter().map(Bound::get).collect();
    if proofs.is_empty() {
        return Err(InputError::new_err("aggregate needs at least one proof"));
    }
    let apps = proofs.iter().map(|p| p.app_proof()).collect::<PyResult<Vec<_>>>()?;
    for (i, p) in proofs.iter().enumerate() {
        if p.circuit_digest != keys.keys.digest {
            return Err(InputError::new_err(format!(
                "proofs[{i}] is a proof of circuit {}, not {}: aggregate proofs of one circuit",
                p.circuit_digest, keys.keys.digest
            )));
        }
    }
    let k = k.unwrap_or_else(|| default_k(apps.len()));
    let shape = AggregationShape::new(&keys.keys.digest, keys.keys.config.shape.layout().len(), apps.len(), k);
    AggregationKeys::check_shape(&shape).map_err(|e| to_py::<InputError>(&e))?;
    let (app_keys, app_params, srs, cache) =
        (Arc::clone(&keys.keys), Arc::clone(&keys.params), keys.srs.clone(), keys.cache_dir.clone());
    let (proof, digest) = py
        .detach(move || -> Result<_, String> {
            let snarks = apps
                .iter()
                .enumerate()
                .map(|(i, p)| app_snark(&app_params, &app_keys, p, i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| chain(&e))?;
            let params = load_params(&srs, k, &cache).map_err(|e| chain(&e))?;
            let agg_keys = AggregationKeys::load_or_generate(shape, &app_keys, &app_params, &params, &srs, &cache)
                .map_err(|e| chain(&e))?;
            let proof = aggregate_proofs(&params, &agg_keys, snarks).map_err(|e| chain(&e))?;
            if !verify_aggregation(&params, agg_keys.vk(), &proof.instances, &proof.proof) {
                return Err("the fresh aggregation proof does not verify".to_string());
            }
            Ok((proof, agg_keys.digest.clone()))
        })
        .map_err(ProofError::new_err)?;
    Ok(PyAggregationProof {
        circuit_digest: digest,
        app_circuit_digest: keys.keys.digest.clone(),
        proofs: proof.proofs,
        k,
        instances: proof.instances.iter().map(fr_to_hex).collect(),
        calldata: encode_calldata(&proof.instances, &proof.proof),
        proof: proof.proof,
        insecure_srs: keys.srs.is_insecure(),
    })
}

/// A generated and compiled Solidity verifier.
#[pyclass(name = "Verifier", module = "zkguard", frozen, get_all)]
pub struct PyVerifier {
    /// Its name (directory under `contracts/src/generated/` when written by the CLI).
    pub name: String,
    /// The circuit it verifies.
    pub circuit_digest: String,
    /// Public instances it reads.
    pub num_instance: usize,
    /// The Solidity source, with its provenance header.
    pub source: String,
    /// Creation bytecode.
    pub creation_code: Vec<u8>,
    /// Runtime bytecode (at most 24,576 bytes, EIP-170).
    pub runtime_code: Vec<u8>,
    /// The compiler's version.
    pub compiler: String,
    /// True when the keys come from the INSECURE development setup.
    pub insecure_srs: bool,
}

/// Generates the Solidity verifier of `keys`' (app) circuit and compiles it with `solc` (a
/// solc-compatible compiler, e.g. the repository's `scripts/solc`).
#[pyfunction]
#[pyo3(signature = (keys, *, solc, name=None))]
fn generate_verifier(py: Python<'_>, keys: &PyKeys, solc: PathBuf, name: Option<String>) -> PyResult<PyVerifier> {
    let name = name.unwrap_or_else(|| default_app_name(&keys.keys));
    let spec = app_verifier_spec(&keys.keys, &keys.srs, name, "zkguard (python) generate_verifier".into());
    let (k, p) = (Arc::clone(&keys.keys), Arc::clone(&keys.params));
    let generated = py.detach(move || generate(&p, k.vk(), spec, &solc)).map_err(|e| to_py::<VerifierError>(&e))?;
    Ok(PyVerifier {
        name: generated.spec.name.clone(),
        circuit_digest: generated.spec.circuit_digest.clone(),
        num_instance: generated.spec.num_instance,
        source: generated.source,
        creation_code: generated.compiled.creation,
        runtime_code: generated.compiled.runtime,
        compiler: generated.compiled.compiler,
        insecure_srs: keys.srs.is_insecure(),
    })
}

/// Deploys `verifier` in an in-process EVM (revm) and calls it with `proof`'s calldata;
/// returns the gas used, or raises `VerificationError` when the contract rejects it. The proof
/// must use the `evm` transcript.
#[pyfunction]
fn evm_verify_proof(py: Python<'_>, verifier: &PyVerifier, proof: &PyProof) -> PyResult<u64> {
    if proof.transcript != "evm" {
        return Err(InputError::new_err("only an `evm`-transcript proof can be verified by a Solidity verifier"));
    }
    let instances = proof
        .instances
        .iter()
        .enumerate()
        .map(|(i, h)| field(&format!("instances[{i}]"), h))
        .collect::<PyResult<Vec<_>>>()?;
    let calldata = encode_calldata(&instances, &proof.proof);
    let code = verifier.creation_code.clone();
    let report = py.detach(move || evm_verify(&code, &calldata)).map_err(|e| to_py::<VerificationError>(&e))?;
    Ok(report.tx_gas)
}

/// Registers this module's functions and classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAggregationProof>()?;
    m.add_class::<PyVerifier>()?;
    m.add_function(wrap_pyfunction!(context, m)?)?;
    m.add_function(wrap_pyfunction!(aggregate, m)?)?;
    m.add_function(wrap_pyfunction!(generate_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(evm_verify_proof, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_matches_the_prover_and_requires_addresses() {
        let guard = "0x00000000000000000000000000000000000000aa";
        let subject = "0x00000000000000000000000000000000000000bb";
        let ours = context(31337, guard, 1, 7, 1_700_000_000, vec![subject.into()]).unwrap();
        let theirs = SubmissionContext {
            chain_id: 31337,
            guard: guard.parse().unwrap(),
            model_id: U256::from(1),
            nonce: 7,
            issued_at: 1_700_000_000,
            subjects: vec![subject.parse().unwrap()],
        };
        assert_eq!(ours, fr_to_hex(&theirs.context()));
        assert!(context(1, "0x12", 1, 1, 1, vec![]).is_err());
    }
}
