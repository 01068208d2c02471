//! Batch mode on the shared verifier: N app proofs of the built-in 4-feature demo circuit (batch
//! B, with or without packed scores, one advice column) aggregated at the default k for N, then
//! verified in revm (Prague) by the shared aggregation verifier + key
//! ([`crate::evm::shared_verifier::aggregation_pair`]) and by snark-verifier's unrolled verifier
//! of the same proof when that one fits EIP-170. Reports instances, k, prove times, peak memory
//! (the process's: run one case per process), bytes, deployment gas, verify gas and gas per
//! decision. Keys come from (and go to) the given cache.

use std::path::Path;
use std::time::Instant;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::peak_rss_mb;
use crate::aggregate::config::{default_k, AggregationShape};
use crate::aggregate::{aggregate, app_snark, AggregationKeys};
use crate::circuit::config::Layout;
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::{AppCircuitConfig, AppShape, AppWitness};
use crate::demo::demo_request_sized;
use crate::evm::codegen::{compile, verifier_source, MAX_RUNTIME_SIZE};
use crate::evm::exec::{calldata_gas, deploy_and_call};
use crate::evm::shared_verifier::{aggregation_pair, LocalEvm};
use crate::evm::{encode_calldata, CallOutcome};
use crate::keys::{load_params, AppKeys};
use crate::prove::{prove, Transcript};
use zkguard_halo2_solidity::encode_verify_proof;

/// The header command of the bench's generated sources.
pub const BENCH_COMMAND: &str = "cargo run -p zkguard-prover --bin shared-verifier-bench -- --aggregate";

/// One batch-mode case on the shared verifier.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedAggregationCase {
    /// The app circuit's layout (`compact` in the records made before it was recorded).
    #[serde(default)]
    pub layout: Layout,
    /// App proofs aggregated (N).
    pub proofs: usize,
    /// Samples per app proof (B).
    pub batch_size: usize,
    /// Whether the app proofs expose packed scores.
    pub scores: bool,
    /// Real samples (decisions) over all app proofs (batch `i` has `B - 1 + i % 2` rows).
    pub decisions: usize,
    /// App circuit k.
    pub app_k: u32,
    /// Public instances of one app proof.
    pub app_instances: usize,
    /// Public instances of the aggregation proof (12 limbs + N app proofs').
    pub instances: usize,
    /// Aggregation circuit k.
    pub k: u32,
    /// Aggregation advice columns (and lookup advice columns).
    pub advice_columns: usize,
    /// Aggregation lookup advice columns.
    pub lookup_columns: usize,
    /// App keys and N app proofs, seconds (shared machine).
    pub app_prove_s: f64,
    /// Aggregation keys (generated, or loaded when cached), seconds.
    pub keygen_s: f64,
    /// Whether the aggregation keys were generated in this run (else loaded from the cache).
    pub keygen_fresh: bool,
    /// The aggregation proof, seconds.
    pub prove_s: f64,
    /// Peak resident memory of the process, MB.
    pub peak_rss_mb: f64,
    /// Aggregation proof bytes.
    pub proof_bytes: usize,
    /// Shared verifier runtime bytes.
    pub verifier_runtime_bytes: usize,
    /// Gas of deploying the shared verifier (once per proof system).
    pub verifier_deploy_gas: u64,
    /// Key contract runtime bytes.
    pub vk_runtime_bytes: usize,
    /// Gas of deploying the key (once per aggregation circuit).
    pub vk_deploy_gas: u64,
    /// Whole-transaction gas of `verifyProof` on the shared verifier.
    pub verify_gas: u64,
    /// Its calldata bytes.
    pub calldata_bytes: usize,
    /// Its calldata gas.
    pub calldata_gas: u64,
    /// `verify_gas / decisions`.
    pub gas_per_decision: f64,
    /// The unrolled verifier's runtime bytes.
    pub unrolled_runtime_bytes: usize,
    /// The unrolled verifier's verify gas (raw calldata), when it fits EIP-170.
    pub unrolled_verify_gas: Option<u64>,
    /// `/proc/loadavg` at the end of the case.
    pub load: String,
}

/// Runs one case: `proofs` app proofs of batch `batch_size` in `layout`, keys in `cache`.
pub fn run_shared_aggregation_case(
    root: &Path,
    proofs: usize,
    batch_size: usize,
    scores: bool,
    layout: Layout,
    cache: &Path,
) -> anyhow::Result<SharedAggregationCase> {
    let solc = root.join("scripts/solc");
    let req = demo_request_sized(proofs, batch_size, scores, None, cache.to_path_buf(), solc.clone(), BENCH_COMMAND);
    let started = Instant::now();
    let shape = AppShape::new(req.model.shape(), batch_size).with_scores(scores);
    let app_config = AppCircuitConfig::for_layout(&shape, layout, req.max_columns)?;
    let app_params = load_params(&req.srs, app_config.k(), cache)?;
    let app_keys = AppKeys::load_or_generate(app_config, &app_params, &req.srs, cache)?;
    let mut snarks = vec![];
    for (i, rows) in req.batches.iter().enumerate() {
        let witness = AppWitness::new(
            req.model.clone(),
            rows.clone(),
            batch_size,
            req.salt + Fr::from(i as u64),
            req.ctx.context(),
        )?
        .with_scores(scores);
        let proof = prove(&app_params, &app_keys, &witness, Transcript::Poseidon)?;
        snarks.push(app_snark(&app_params, &app_keys, &proof, i)?);
    }
    let app_prove_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let k = default_k(proofs);
    let agg_shape = AggregationShape::new(&app_keys.digest, shape.layout().len(), proofs, k);
    let keygen_fresh = !AggregationKeys::cache_path(&agg_shape.digest(), &req.srs, cache).join("pk.bin").exists();
    let params = load_params(&req.srs, k, cache)?;
    let keys = AggregationKeys::load_or_generate(agg_shape, &app_keys, &app_params, &params, &req.srs, cache)?;
    let keygen_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proof = aggregate(&params, &keys, snarks)?;
    let prove_s = started.elapsed().as_secs_f64();

    let pair = aggregation_pair(&keys, &params, &req.srs, BENCH_COMMAND, &solc)?;
    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&pair.compiled.verifier.creation)?;
    let vk = evm.deploy(&pair.compiled.vk.creation)?;
    let calldata = encode_verify_proof(vk.address, &proof.proof, &proof.instances);
    let outcome = evm.call(verifier.address, &calldata)?;
    let CallOutcome::Success { gas_used: verify_gas, output } = &outcome else {
        anyhow::bail!("the shared aggregation verifier refused a valid proof: {outcome:?}");
    };
    anyhow::ensure!(output.len() == 32 && output[31] == 1, "unexpected return data {output:?}");

    let unrolled_source = verifier_source(&params, keys.vk(), keys.config.shape.num_instance(), ACCUMULATOR_LIMBS)?;
    let unrolled_source = unrolled_source.replacen("pragma solidity 0.8.19;", "pragma solidity ^0.8.19;", 1);
    let unrolled = compile(&solc, &unrolled_source, "Halo2Verifier")?;
    let unrolled_verify_gas = if unrolled.runtime.len() <= MAX_RUNTIME_SIZE {
        let (_, outcome) = deploy_and_call(&unrolled.creation, &encode_calldata(&proof.instances, &proof.proof))?;
        anyhow::ensure!(outcome.is_success(), "the unrolled verifier refused a valid proof: {outcome:?}");
        Some(outcome.gas_used())
    } else {
        None
    };
    let decisions: usize = req.batches.iter().map(Vec::len).sum();
    let p = &keys.config.params;
    Ok(SharedAggregationCase {
        layout,
        proofs,
        batch_size,
        scores,
        decisions,
        app_k: app_keys.config.k(),
        app_instances: shape.layout().len(),
        instances: proof.instances.len(),
        k: p.degree,
        advice_columns: p.num_advice,
        lookup_columns: p.num_lookup_advice,
        app_prove_s,
        keygen_s,
        keygen_fresh,
        prove_s,
        peak_rss_mb: peak_rss_mb(),
        proof_bytes: proof.proof.len(),
        verifier_runtime_bytes: verifier.runtime.len(),
        verifier_deploy_gas: verifier.gas_used,
        vk_runtime_bytes: vk.runtime.len(),
        vk_deploy_gas: vk.gas_used,
        verify_gas: *verify_gas,
        calldata_bytes: calldata.len(),
        calldata_gas: calldata_gas(&calldata),
        gas_per_decision: *verify_gas as f64 / decisions.max(1) as f64,
        unrolled_runtime_bytes: unrolled.runtime.len(),
        unrolled_verify_gas,
        load: std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_string(),
    })
}

/// The cases as a markdown table.
pub fn shared_aggregation_table(cases: &[SharedAggregationCase]) -> String {
    let mut out = String::from(
        "| N | B | scores | decisions | instances | k | app prove s | agg keygen s | agg prove s | peak MB | shared verifier B | vk B | vk deploy gas | verify gas (shared) | gas / decision | unrolled verifier B | verify gas (unrolled) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cases {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0}{} | {:.0} | {:.0} | {} | {} | {} | {} | {:.0} | {}{} | {} |\n",
            c.proofs,
            c.batch_size,
            if c.scores { "packed" } else { "none" },
            c.decisions,
            c.instances,
            c.k,
            c.app_prove_s,
            c.keygen_s,
            if c.keygen_fresh { "" } else { " (cached)" },
            c.prove_s,
            c.peak_rss_mb,
            c.verifier_runtime_bytes,
            c.vk_runtime_bytes,
            c.vk_deploy_gas,
            c.verify_gas,
            c.gas_per_decision,
            c.unrolled_runtime_bytes,
            if c.unrolled_runtime_bytes > MAX_RUNTIME_SIZE { " (over EIP-170)" } else { "" },
            c.unrolled_verify_gas.map_or("-".to_string(), |g| g.to_string()),
        ));
    }
    out
}
