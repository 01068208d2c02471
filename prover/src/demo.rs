//! DEMO DATA, not for production: a small built-in model, data and context for fixtures, tests,
//! benchmarks and `zkguard fixture` without files: a standardized linear filter over `n` features
//! (fixed point 10/40 bits) with deterministic parameters, rows that flag some samples and pass
//! others, a context at a fixed Guard address (where the forge fixture test deploys the Guard),
//! and the demo batch-mode request ([`demo_request`]).
//!
//! The committed `contracts/fixtures/direct.json` uses `demo_model(4)` with batch size 4.

use std::path::PathBuf;

use alloy_primitives::{address, keccak256, Address, U256};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use crate::evm::context::SubmissionContext;
use crate::keys::SrsSource;
use crate::pipeline::batch::BatchRequest;
use crate::quant::{Family, FixedPoint, ModelShape, QuantizedModel};

/// Fixed-point format of the demo model.
pub const DEMO_FIXED: FixedPoint = FixedPoint { scale_bits: 10, value_bits: 40 };
/// Chain id of the demo context (anvil's).
pub const DEMO_CHAIN_ID: u64 = 31337;
/// Guard address of the demo context (the forge fixture test deploys the Guard there).
pub const DEMO_GUARD: Address = address!("00000000000000000000000000000000000000A1");
/// Model id of the demo context.
pub const DEMO_MODEL_ID: u64 = 1;
/// Nonce of the demo context.
pub const DEMO_NONCE: u64 = 7;
/// Issue time of the demo context.
pub const DEMO_ISSUED_AT: u64 = 1_700_000_000;

/// The demo model's shape over `n_features` features.
pub fn demo_shape(n_features: usize) -> ModelShape {
    ModelShape { family: Family::Linear, n_features, standardize: true, layers: vec![], fixed: DEMO_FIXED, trees: None }
}

/// The demo model: mean `10 i`, inverse scale 1.0 (1024), weights alternating 0.5 / -0.25,
/// bias 0, threshold 0.5 (512).
pub fn demo_model(n_features: usize) -> QuantizedModel {
    let shape = demo_shape(n_features);
    let mut params: Vec<i64> = (0..n_features as i64).map(|i| 10 * i).collect();
    params.extend(std::iter::repeat_n(1024, n_features));
    params.extend((0..n_features).map(|i| if i % 2 == 0 { 512 } else { -256 }));
    params.push(0);
    params.push(512);
    let features: Vec<String> = (0..n_features).map(|i| format!("x{i}")).collect();
    shape.model_from_params("zkguard-demo-linear", &features, &params)
}

/// `count` deterministic quantized rows for the demo model: even rows score high (flagged),
/// odd rows low.
pub fn demo_rows(n_features: usize, count: usize, offset: usize) -> Vec<Vec<i64>> {
    (offset..offset + count)
        .map(|r| {
            (0..n_features)
                .map(|i| {
                    let base = 10 * i as i64;
                    let spread = ((r * 7 + i * 3) % 5) as i64 * 100;
                    match (r % 2, i % 2) {
                        (0, 0) => base + 2048 + spread,
                        (0, _) => base - 1024 - spread,
                        (_, 0) => base - 2048 - spread,
                        (_, _) => base + 1024 + spread,
                    }
                })
                .collect()
        })
        .collect()
}

/// A deterministic subject address per sample.
pub fn demo_subjects(count: usize) -> Vec<Address> {
    (0..count).map(|i| Address::from_slice(&keccak256(format!("zkguard-demo-subject-{i}"))[12..])).collect()
}

/// The demo context (anvil chain id, Guard at [`DEMO_GUARD`], model 1, nonce 7) with `samples`
/// subjects.
pub fn demo_context(samples: usize) -> SubmissionContext {
    SubmissionContext {
        chain_id: DEMO_CHAIN_ID,
        guard: DEMO_GUARD,
        model_id: U256::from(DEMO_MODEL_ID),
        nonce: DEMO_NONCE,
        issued_at: DEMO_ISSUED_AT,
        subjects: demo_subjects(samples),
    }
}

/// The demo batch the tests, fixtures and benchmarks share: `proofs` app proofs of the built-in
/// 4-feature demo circuit (batch 4, one advice column); batch `i` has `3 + i % 2` real rows so
/// padding is exercised, with one subject per real row, all bound to the demo context.
pub fn demo_request(proofs: usize, k: Option<u32>, cache_dir: PathBuf, solc: PathBuf, command: &str) -> BatchRequest {
    demo_request_sized(proofs, 4, true, k, cache_dir, solc, command)
}

/// [`demo_request`] with app proofs of `batch_size` samples (batch `i` has `batch_size - 1 +
/// i % 2` real rows), with or without scores.
pub fn demo_request_sized(
    proofs: usize,
    batch_size: usize,
    has_scores: bool,
    k: Option<u32>,
    cache_dir: PathBuf,
    solc: PathBuf,
    command: &str,
) -> BatchRequest {
    const FEATURES: usize = 4;
    let mut batches = vec![];
    let mut offset = 0;
    for i in 0..proofs {
        let rows = batch_size - 1 + i % 2;
        batches.push(demo_rows(FEATURES, rows, offset));
        offset += rows;
    }
    BatchRequest {
        model: demo_model(FEATURES),
        batches,
        batch_size,
        has_scores,
        max_columns: 1,
        layout: crate::circuit::config::Layout::Compact,
        salt: Fr::from(0xba7cu64),
        ctx: demo_context(offset),
        k,
        srs: SrsSource::InsecureDev,
        cache_dir,
        solc,
        verifier_name: None,
        command: command.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_rows_flag_even_rows_only() {
        let model = demo_model(4);
        for (r, row) in demo_rows(4, 6, 0).iter().enumerate() {
            let out = model.infer(row).unwrap();
            assert_eq!(out.decision, r % 2 == 0, "row {r}: score {}", out.score);
        }
    }
}
