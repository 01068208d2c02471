//! Batch mode end to end: N app proofs of one model over N row batches, all bound to one
//! [`SubmissionContext`], aggregated into one proof; its Solidity verifier generated, compiled and
//! run in revm; and the fixture the forge test reads (`contracts/fixtures/batch.json`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::fixture::{Fixture, FixtureInput};
use super::verifier::{aggregation_verifier, aggregation_verifier_spec, default_batch_name};
use super::PipelineError;
use crate::aggregate::config::{default_k, AggregationShape};
use crate::aggregate::{aggregate, app_snark, AggregationKeys, AggregationProof};
use crate::circuit::config::Layout;
use crate::circuit::{AppCircuitConfig, AppInstances, AppShape, AppWitness};
use crate::evm::codegen::GeneratedVerifier;
use crate::evm::context::SubmissionContext;
use crate::evm::encode_calldata;
use crate::evm::exec::{evm_verify, GasReport};
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::{prove, AppProof, Transcript};
use crate::quant::QuantizedModel;

/// A batch-mode run.
#[derive(Debug)]
pub struct BatchRequest {
    /// The quantized model.
    pub model: QuantizedModel,
    /// N batches of quantized rows (each 1..=batch_size rows), one app proof each.
    pub batches: Vec<Vec<Vec<i64>>>,
    /// App circuit batch size.
    pub batch_size: usize,
    /// Whether the app proofs expose packed scores (every score word is an instance of the
    /// aggregation verifier: large batches fit EIP-170 only without them).
    pub has_scores: bool,
    /// Advice-column budget of the app circuit (its compact layout only).
    pub max_columns: usize,
    /// The app circuit's layout ([`Layout::Fast`]: the app proofs are verified inside the
    /// aggregation circuit, never by their own Solidity verifier).
    pub layout: Layout,
    /// Input-commitment salt of batch `i` is `salt + i`.
    pub salt: Fr,
    /// What every proof is bound to.
    pub ctx: SubmissionContext,
    /// Aggregation degree (default [`default_k`]).
    pub k: Option<u32>,
    /// KZG parameters.
    pub srs: SrsSource,
    /// Key and parameter cache.
    pub cache_dir: PathBuf,
    /// The Solidity compiler (`scripts/solc`).
    pub solc: PathBuf,
    /// Verifier directory name (default [`default_batch_name`]).
    pub verifier_name: Option<String>,
    /// The command line, for headers and fixtures.
    pub command: String,
}

/// Wall-clock times of the steps of a run (keygen times include loading from the cache).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchTimings {
    /// App keys and the N app proofs.
    pub app_prove: Duration,
    /// Aggregation keys (generated or loaded).
    pub aggregation_keygen: Duration,
    /// The aggregation proof.
    pub aggregation_prove: Duration,
    /// Verifier generation and compilation.
    pub verifier: Duration,
}

/// What a batch-mode run produced.
#[derive(Debug)]
pub struct BatchRun {
    /// App circuit keys.
    pub app_keys: AppKeys,
    /// App circuit parameters.
    pub app_params: ParamsKZG<Bn256>,
    /// Aggregation keys.
    pub keys: AggregationKeys,
    /// Aggregation parameters.
    pub params: ParamsKZG<Bn256>,
    /// The N app proofs (Poseidon transcript).
    pub app_proofs: Vec<AppProof>,
    /// Their decoded instances.
    pub decoded: Vec<AppInstances>,
    /// The aggregation proof.
    pub proof: AggregationProof,
    /// Its generated verifier.
    pub verifier: GeneratedVerifier,
    /// Gas in revm.
    pub gas: GasReport,
    /// The fixture (not yet written).
    pub fixture: Fixture,
    /// Step times.
    pub timings: BatchTimings,
}

/// App keys, N app proofs, aggregation keys and proof, verifier, revm check and fixture.
pub fn run(req: &BatchRequest) -> Result<BatchRun, PipelineError> {
    let n = req.batches.len();
    let shape = AppShape::new(req.model.shape(), req.batch_size).with_scores(req.has_scores);
    let started = Instant::now();
    let app_config = AppCircuitConfig::for_layout(&shape, req.layout, req.max_columns)?;
    let app_params = load_params(&req.srs, app_config.k(), &req.cache_dir)?;
    let app_keys = AppKeys::load_or_generate(app_config, &app_params, &req.srs, &req.cache_dir)?;
    let context = req.ctx.context();
    let mut app_proofs = Vec::with_capacity(n);
    let mut decoded = Vec::with_capacity(n);
    for (i, rows) in req.batches.iter().enumerate() {
        let salt = req.salt + Fr::from(i as u64);
        let witness = AppWitness::new(req.model.clone(), rows.clone(), req.batch_size, salt, context)?
            .with_scores(req.has_scores);
        let proof = prove(&app_params, &app_keys, &witness, Transcript::Poseidon)?;
        decoded.push(AppInstances::from_slice(shape.layout(), &proof.instances)?);
        app_proofs.push(proof);
    }
    let app_prove = started.elapsed();

    let started = Instant::now();
    let k = req.k.unwrap_or_else(|| default_k(n));
    let agg_shape = AggregationShape::new(&app_keys.digest, shape.layout().len(), n, k);
    AggregationKeys::check_shape(&agg_shape)?;
    let params = load_params(&req.srs, k, &req.cache_dir)?;
    let keys = AggregationKeys::load_or_generate(agg_shape, &app_keys, &app_params, &params, &req.srs, &req.cache_dir)?;
    let aggregation_keygen = started.elapsed();

    let started = Instant::now();
    let snarks = app_proofs
        .iter()
        .enumerate()
        .map(|(i, p)| app_snark(&app_params, &app_keys, p, i))
        .collect::<Result<Vec<_>, _>>()?;
    let proof = aggregate(&params, &keys, snarks)?;
    let aggregation_prove = started.elapsed();

    let started = Instant::now();
    let name = req.verifier_name.clone().unwrap_or_else(|| default_batch_name(&keys));
    let spec = aggregation_verifier_spec(&keys, &app_keys, &req.srs, name, req.command.clone());
    let verifier = aggregation_verifier(&params, &keys, spec, &req.solc)?;
    let verifier_time = started.elapsed();
    let gas = evm_verify(&verifier.compiled.creation, &encode_calldata(&proof.instances, &proof.proof))?;
    tracing::info!(
        tx_gas = gas.tx_gas,
        calldata_gas = gas.calldata_gas,
        "the aggregation verifier accepts the proof in revm"
    );

    let fixture = Fixture::new(FixtureInput {
        description: format!("batch mode: {}", verifier.spec.description),
        generated_by: req.command.clone(),
        srs: req.srs.id(),
        insecure_srs: req.srs.is_insecure(),
        verifier: &verifier,
        app_circuit_digest: &app_keys.digest,
        layout: shape.layout(),
        score_scale_bits: req.model.fixed.scale_bits,
        ctx: &req.ctx,
        instances: &proof.instances,
        proof: &proof.proof,
        segments: &decoded,
        gas,
    })?;
    let fixture = Fixture { aggregation_k: Some(k), ..fixture };
    let timings = BatchTimings { app_prove, aggregation_keygen, aggregation_prove, verifier: verifier_time };
    Ok(BatchRun { app_keys, app_params, keys, params, app_proofs, decoded, proof, verifier, gas, fixture, timings })
}
