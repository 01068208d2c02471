//! Direct mode end to end: one app proof with the EVM (keccak) transcript, checked by a Solidity
//! verifier generated for the app circuit.
//!
//! [`app_verifier`] generates and compiles the verifier of an app circuit; [`run`] does the whole
//! path for a batch of rows (keys, proof bound to a [`SubmissionContext`], verifier, revm check,
//! fixture) and is what `zkguard fixture --mode direct` and the tests call.

use std::path::PathBuf;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::codegen::{generate_verifier, GeneratedVerifier, VerifierSpec};
use super::context::SubmissionContext;
use super::exec::{evm_verify, GasReport};
use super::fixture::{Fixture, FixtureInput};
use super::{encode_calldata, OnchainError};
use crate::circuit::{AppInstances, AppShape, AppWitness};
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::{prove, AppProof, Transcript};
use crate::quant::{Family, QuantizedModel};

/// A one-line description of an app circuit.
pub fn describe_app(shape: &AppShape, k: u32, advice_columns: usize) -> String {
    let m = &shape.model;
    let family = match m.family {
        Family::Linear => "linear".to_string(),
        Family::MlpAutoencoder => format!("MLP autoencoder {:?}", m.layers.iter().map(|l| l.0).collect::<Vec<_>>()),
        Family::TreeEnsemble => {
            let trees = m.tree_shape();
            format!("tree ensemble of {} trees of depth {}", trees.n_trees, trees.depth)
        }
    };
    format!(
        "app circuit: {family}, {} features{}, batch {}, fixed point {}/{} bits, k = {k}, {advice_columns} advice columns",
        m.n_features,
        if m.standardize { " (standardized)" } else { "" },
        shape.batch_size,
        m.fixed.scale_bits,
        m.fixed.value_bits,
    )
}

/// The default directory name of an app circuit's verifier: `app-<first 12 digest digits>`.
pub fn default_app_name(keys: &AppKeys) -> String {
    format!("app-{}", &keys.digest[..12.min(keys.digest.len())])
}

/// The spec of the direct-mode verifier of `keys`' circuit.
pub fn app_verifier_spec(keys: &AppKeys, srs: &SrsSource, name: String, command: String) -> VerifierSpec {
    let config = &keys.config;
    VerifierSpec {
        name,
        circuit_digest: keys.digest.clone(),
        description: describe_app(&config.shape, config.k(), config.params.num_advice_per_phase.iter().sum()),
        num_instance: config.shape.layout().len(),
        accumulator_limbs: 0,
        command,
        srs: srs.id(),
        insecure_srs: srs.is_insecure(),
    }
}

/// Generates and compiles the direct-mode verifier of `keys`' circuit.
pub fn app_verifier(
    params: &ParamsKZG<Bn256>,
    keys: &AppKeys,
    spec: VerifierSpec,
    solc: &std::path::Path,
) -> Result<GeneratedVerifier, OnchainError> {
    Ok(generate_verifier(params, keys.vk(), spec, solc)?)
}

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
pub fn run(req: &DirectRequest) -> Result<DirectRun, OnchainError> {
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
