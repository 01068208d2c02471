//! The shared verifier's costs against the batch size, next to snark-verifier's unrolled
//! verifier of the same circuit (the `shared-verifier-bench` binary prints and stores them).
//!
//! One case: the demo circuit (the standardized linear filter over 4 features,
//! fixed point 10/40 bits, one advice column, insecure dev SRS) at batch B with or without
//! packed scores and a Poseidon backend. Keys are generated (or loaded from the cache), the pair
//! is rendered and compiled, the key is deployed in revm; when `prove` is set, a full batch is
//! proved and verified through the shared verifier and through the unrolled one (when the
//! latter fits EIP-170). Gas is revm's (default hardfork, Prague), whole transactions.

use std::path::Path;
use std::time::Instant;

use crate::circuit::poseidon::PoseidonBackend;
use crate::circuit::{AppCircuitConfig, AppShape, AppWitness};
use crate::demo::{demo_context, demo_model, demo_rows, demo_shape};
use crate::evm::codegen::{compile, verifier_source, MAX_RUNTIME_SIZE};
use crate::evm::exec::{calldata_gas, deploy_and_call};
use crate::evm::{encode_calldata, CallOutcome};
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::{prove, Transcript};
use alloy_primitives::keccak256;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::evm::shared_verifier::{app_pair, proof_system_of, LocalEvm};
use zkguard_halo2_solidity::encode_verify_proof;

/// Features of the benchmarked demo model.
pub const FEATURES: usize = 4;
/// The header command of the bench's generated sources.
pub const BENCH_COMMAND: &str = "cargo run -p zkguard-prover --bin shared-verifier-bench";

/// One case's measurements.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedCase {
    /// `flex_gate` or `gate`.
    pub poseidon: PoseidonBackend,
    /// Samples per proof.
    pub batch_size: usize,
    /// Whether the proof exposes packed scores.
    pub scores: bool,
    /// Circuit k.
    pub k: u32,
    /// Public instances.
    pub instances: usize,
    /// The proof system's parameters ([`proof_system_of`]).
    pub proof_system: String,
    /// keccak256 of the shared verifier's creation code (equal across cases of one proof system
    /// rendered by one command).
    pub verifier_creation_keccak: String,
    /// The proof system's digest (the verifier's source without its header).
    #[serde(default)]
    pub proof_system_digest: String,
    /// Shared verifier runtime bytes.
    pub verifier_runtime_bytes: usize,
    /// Gas of deploying the shared verifier (once per proof system).
    pub verifier_deploy_gas: u64,
    /// Key contract runtime bytes.
    pub vk_runtime_bytes: usize,
    /// Gas of deploying the key contract (once per circuit).
    pub vk_deploy_gas: u64,
    /// Proof bytes.
    pub proof_bytes: usize,
    /// Whether a proof was made and verified (the gas fields below are set only then).
    pub proven: bool,
    /// Whole-transaction gas of `verifyProof` on the shared verifier.
    pub verify_gas: Option<u64>,
    /// Its calldata bytes.
    pub calldata_bytes: Option<usize>,
    /// Its calldata gas.
    pub calldata_gas: Option<u64>,
    /// snark-verifier's unrolled verifier of the same circuit: runtime bytes.
    pub unrolled_runtime_bytes: usize,
    /// Its verify gas (raw calldata), when proven and deployable.
    pub unrolled_verify_gas: Option<u64>,
    /// Keygen or key-loading seconds (shared machine).
    pub keys_s: f64,
    /// Proving seconds (shared machine).
    pub prove_s: Option<f64>,
}

/// Runs one case.
pub fn run_case(
    batch_size: usize,
    scores: bool,
    poseidon: PoseidonBackend,
    prove_it: bool,
    cache: &Path,
    solc: &Path,
) -> anyhow::Result<SharedCase> {
    let srs = SrsSource::InsecureDev;
    let shape = AppShape::new(demo_shape(FEATURES), batch_size).with_scores(scores);
    let config = AppCircuitConfig::choose_with(&shape, 1, poseidon)?;
    let params = load_params(&srs, config.k(), cache)?;
    let started = Instant::now();
    let keys = AppKeys::load_or_generate(config, &params, &srs, cache)?;
    let keys_s = started.elapsed().as_secs_f64();
    let pair = app_pair(&keys, &params, &srs, BENCH_COMMAND, solc)?;
    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&pair.compiled.verifier.creation)?;
    let vk = evm.deploy(&pair.compiled.vk.creation)?;
    anyhow::ensure!(vk.runtime == pair.rendered.vk_code, "the key contract's code is not the key's words");

    let num_instances = keys.config.shape.layout().len();
    let unrolled_source = verifier_source(&params, keys.vk(), num_instances, 0)?;
    // snark-verifier pins `0.8.19`; our solc is 0.8.30 (codegen::with_header relaxes it the same way).
    let unrolled_source = unrolled_source.replacen("pragma solidity 0.8.19;", "pragma solidity ^0.8.19;", 1);
    let unrolled = compile(solc, &unrolled_source, "Halo2Verifier")?;

    let mut case = SharedCase {
        poseidon,
        batch_size,
        scores,
        k: keys.config.k(),
        instances: num_instances,
        proof_system: proof_system_of(&keys.config),
        verifier_creation_keccak: format!("{}", keccak256(&pair.compiled.verifier.creation)),
        proof_system_digest: format!("{}", pair.rendered.proof_system_digest),
        verifier_runtime_bytes: verifier.runtime.len(),
        verifier_deploy_gas: verifier.gas_used,
        vk_runtime_bytes: vk.runtime.len(),
        vk_deploy_gas: vk.gas_used,
        proof_bytes: pair.rendered.proof_len,
        proven: false,
        verify_gas: None,
        calldata_bytes: None,
        calldata_gas: None,
        unrolled_runtime_bytes: unrolled.runtime.len(),
        unrolled_verify_gas: None,
        keys_s,
        prove_s: None,
    };
    if !prove_it {
        return Ok(case);
    }
    let ctx = demo_context(0);
    let rows = demo_rows(FEATURES, batch_size, 0);
    let witness =
        AppWitness::new(demo_model(FEATURES), rows, batch_size, Fr::from(7u64), ctx.context())?.with_scores(scores);
    let started = Instant::now();
    let proof = prove(&params, &keys, &witness, Transcript::Evm)?;
    case.prove_s = Some(started.elapsed().as_secs_f64());
    let calldata = encode_verify_proof(vk.address, &proof.proof, &proof.instances);
    let outcome = evm.call(verifier.address, &calldata)?;
    let CallOutcome::Success { gas_used, output } = &outcome else {
        anyhow::bail!("the shared verifier refused a valid proof at B = {batch_size}: {outcome:?}");
    };
    anyhow::ensure!(output.len() == 32 && output[31] == 1, "unexpected return data {output:?}");
    case.proven = true;
    case.verify_gas = Some(*gas_used);
    case.calldata_bytes = Some(calldata.len());
    case.calldata_gas = Some(calldata_gas(&calldata));
    if unrolled.runtime.len() <= MAX_RUNTIME_SIZE {
        let (_, outcome) = deploy_and_call(&unrolled.creation, &encode_calldata(&proof.instances, &proof.proof))?;
        anyhow::ensure!(outcome.is_success(), "the unrolled verifier refused a valid proof: {outcome:?}");
        case.unrolled_verify_gas = Some(outcome.gas_used());
    }
    Ok(case)
}

/// The cases as a markdown table.
pub fn table(cases: &[SharedCase]) -> String {
    let opt = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mut out = String::from(
        "| poseidon | B | scores | k | instances | shared verifier B | vk B | vk deploy gas | verify gas (shared) | unrolled verifier B | verify gas (unrolled) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cases {
        out.push_str(&format!(
            "| {:?} | {} | {} | {} | {} | {} | {} | {} | {} | {}{} | {} |\n",
            c.poseidon,
            c.batch_size,
            if c.scores { "packed" } else { "none" },
            c.k,
            c.instances,
            c.verifier_runtime_bytes,
            c.vk_runtime_bytes,
            c.vk_deploy_gas,
            opt(c.verify_gas),
            c.unrolled_runtime_bytes,
            if c.unrolled_runtime_bytes > MAX_RUNTIME_SIZE { " (over EIP-170)" } else { "" },
            opt(c.unrolled_verify_gas),
        ));
    }
    out
}
