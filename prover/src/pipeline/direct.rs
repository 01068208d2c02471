//! Direct mode end to end: one app proof with the EVM (keccak) transcript, checked by a Solidity
//! verifier generated for the app circuit ([`super::verifier::app_verifier`]).
//!
//! [`run`] does the whole path for a batch of rows (keys, proof bound to a [`SubmissionContext`],
//! verifier, revm check, fixture) and is what `zkguard fixture --mode direct` and the tests call.

use std::path::PathBuf;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::fixture::{Fixture, FixtureInput};
use super::verifier::{app_verifier, app_verifier_spec, default_app_name};
use super::PipelineError;
use crate::circuit::{AppInstances, AppShape, AppWitness};
use crate::evm::codegen::GeneratedVerifier;
use crate::evm::context::SubmissionContext;
use crate::evm::encode_calldata;
use crate::evm::exec::{evm_verify, GasReport};
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::{prove, AppProof, Transcript};
use crate::quant::QuantizedModel;

/// A direct-mode run.
#[derive(Debug)]
pub struct DirectRequest {
    /// The quantized model.
    pub model: QuantizedModel,
    /// Quantized rows (1..=batch_size).
    pub rows: Vec<Vec<i64>>,
    /// Circuit batch size.
    pub batch_size: usize,
    /// Advice-column budget of the app circuit.
    pub max_columns: usize,
    /// Input-commitment salt.
    pub salt: Fr,
    /// What the proof is bound to.
    pub ctx: SubmissionContext,
    /// KZG parameters.
    pub srs: SrsSource,
    /// Key and parameter cache.
    pub cache_dir: PathBuf,
    /// The Solidity compiler (`scripts/solc`).
    pub solc: PathBuf,
    /// Verifier directory name (default [`default_app_name`]).
    pub verifier_name: Option<String>,
    /// The command line, for headers and fixtures.
    pub command: String,
}

/// What a direct-mode run produced.
#[derive(Debug)]
pub struct DirectRun {
    /// Keys of the app circuit.
    pub keys: AppKeys,
    /// Its KZG parameters.
    pub params: ParamsKZG<Bn256>,
    /// The generated verifier.
    pub verifier: GeneratedVerifier,
    /// The EVM-transcript proof.
    pub proof: AppProof,
    /// Its decoded instances.
    pub decoded: AppInstances,
    /// Gas of the verifier call in revm.
    pub gas: GasReport,
    /// The fixture (not yet written).
    pub fixture: Fixture,
}

/// Keys, proof, verifier, revm verification and fixture for one batch.
pub fn run(req: &DirectRequest) -> Result<DirectRun, PipelineError> {
    let shape = AppShape::new(req.model.shape(), req.batch_size);
    let witness = AppWitness::new(req.model.clone(), req.rows.clone(), req.batch_size, req.salt, req.ctx.context())?;
    let config = AppKeys::choose_config(&shape, req.max_columns)?;
    let params = load_params(&req.srs, config.k(), &req.cache_dir)?;
    let keys = AppKeys::load_or_generate(config, &params, &req.srs, &req.cache_dir)?;
    let proof = prove(&params, &keys, &witness, Transcript::Evm)?;
    let decoded = AppInstances::from_slice(shape.layout(), &proof.instances)?;
    let name = req.verifier_name.clone().unwrap_or_else(|| default_app_name(&keys));
    let spec = app_verifier_spec(&keys, &req.srs, name, req.command.clone());
    let verifier = app_verifier(&params, &keys, spec, &req.solc)?;
    let gas = evm_verify(&verifier.compiled.creation, &encode_calldata(&proof.instances, &proof.proof))?;
    tracing::info!(
        tx_gas = gas.tx_gas,
        calldata_gas = gas.calldata_gas,
        "the generated verifier accepts the proof in revm"
    );
    let fixture = Fixture::new(FixtureInput {
        description: format!("direct mode: {}", verifier.spec.description),
        generated_by: req.command.clone(),
        srs: req.srs.id(),
        insecure_srs: req.srs.is_insecure(),
        verifier: &verifier,
        app_circuit_digest: &keys.digest,
        layout: shape.layout(),
        score_scale_bits: req.model.fixed.scale_bits,
        ctx: &req.ctx,
        instances: &proof.instances,
        proof: &proof.proof,
        segments: std::slice::from_ref(&decoded),
        gas,
    })?;
    Ok(DirectRun { keys, params, verifier, proof, decoded, gas, fixture })
}
