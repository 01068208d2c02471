//! On-chain cost benchmarks in direct mode: for the built-in demo circuit (a standardized linear
//! filter over 4 features, fixed point 10/40 bits, one advice column) at batch size B, with or
//! without packed scores: instances, verifier runtime bytes, deployment gas, and the verify
//! transaction's gas in revm (its default hardfork, Prague), per proof and per decision. A
//! verifier over EIP-170 is recorded as undeployable with its size, not as an error.

use std::path::Path;
use std::time::Instant;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::circuit::{AppShape, AppWitness};
use crate::demo::{demo_context, demo_model, demo_rows, demo_shape};
use crate::evm::codegen::CodegenError;
use crate::evm::encode_calldata;
use crate::evm::exec::evm_verify;
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::pipeline::verifier::{app_verifier, app_verifier_spec};
use crate::pipeline::PipelineError;
use crate::prove::{prove, Transcript};

/// Features of the benchmarked demo model.
pub const FEATURES: usize = 4;

/// One direct-mode case's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OnchainResult {
    /// Samples per proof.
    pub batch_size: usize,
    /// Whether the proof exposes packed scores.
    pub scores: bool,
    /// App circuit k (one advice column).
    pub k: u32,
    /// Public instances of the proof.
    pub instances: usize,
    /// Proving seconds (EVM transcript, keys cached or generated before).
    pub prove_s: f64,
    /// Generated verifier runtime bytes (EIP-170 limit 24,576).
    pub verifier_runtime_bytes: usize,
    /// Whether the verifier fits EIP-170 (the rest is empty when it does not).
    pub deployable: bool,
    /// Gas of the verifier's deployment in revm.
    pub deploy_gas: Option<u64>,
    /// Gas of the raw verify transaction in revm (21k base and calldata included).
    pub verify_gas: Option<u64>,
    /// Gas of its calldata.
    pub calldata_gas: Option<u64>,
    /// `verify_gas / batch_size`.
    pub verify_gas_per_decision: Option<f64>,
}

/// Proves a full batch of `batch_size` demo rows and measures its verifier in revm.
pub fn run_onchain_case(
    batch_size: usize,
    scores: bool,
    cache: &Path,
    solc: &Path,
) -> Result<OnchainResult, PipelineError> {
    let srs = SrsSource::InsecureDev;
    let shape = AppShape::new(demo_shape(FEATURES), batch_size).with_scores(scores);
    let ctx = demo_context(0);
    let rows = demo_rows(FEATURES, batch_size, 0);
    let witness =
        AppWitness::new(demo_model(FEATURES), rows, batch_size, Fr::from(7u64), ctx.context())?.with_scores(scores);
    let config = AppKeys::choose_config(&shape, 1)?;
    let k = config.k();
    let params = load_params(&srs, k, cache)?;
    let keys = AppKeys::load_or_generate(config, &params, &srs, cache)?;
    let started = Instant::now();
    let proof = prove(&params, &keys, &witness, Transcript::Evm)?;
    let prove_s = started.elapsed().as_secs_f64();
    let spec = app_verifier_spec(&keys, &srs, format!("bench-b{batch_size}"), "zkguard-bench --onchain".into());
    let mut result = OnchainResult {
        batch_size,
        scores,
        k,
        instances: proof.instances.len(),
        prove_s,
        verifier_runtime_bytes: 0,
        deployable: false,
        deploy_gas: None,
        verify_gas: None,
        calldata_gas: None,
        verify_gas_per_decision: None,
    };
    let verifier = match app_verifier(&params, &keys, spec, solc) {
        Ok(v) => v,
        Err(PipelineError::Codegen(CodegenError::RuntimeTooLarge { size, .. })) => {
            result.verifier_runtime_bytes = size;
            return Ok(result);
        }
        Err(e) => return Err(e),
    };
    let gas = evm_verify(&verifier.compiled.creation, &encode_calldata(&proof.instances, &proof.proof))?;
    result.verifier_runtime_bytes = gas.runtime_size;
    result.deployable = true;
    result.deploy_gas = Some(gas.deploy_gas);
    result.verify_gas = Some(gas.tx_gas);
    result.calldata_gas = Some(gas.calldata_gas);
    result.verify_gas_per_decision = Some(gas.tx_gas as f64 / batch_size as f64);
    Ok(result)
}

/// Renders results as a markdown table.
pub fn onchain_table(results: &[OnchainResult]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |g| g.to_string());
    let mut out = String::from(
        "| B | scores | k | instances | prove (s) | verifier runtime (B) | deploy gas | verify gas (revm) | calldata gas | verify gas / decision |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} | {}{} | {} | {} | {} | {} |\n",
            r.batch_size,
            if r.scores { "packed" } else { "none" },
            r.k,
            r.instances,
            r.prove_s,
            r.verifier_runtime_bytes,
            if r.deployable { "" } else { " (over EIP-170)" },
            opt(r.deploy_gas),
            opt(r.verify_gas),
            opt(r.calldata_gas),
            r.verify_gas_per_decision.map_or("-".to_string(), |g| format!("{g:.0}")),
        ));
    }
    out
}
