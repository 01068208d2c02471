//! Batch mode for real: two app proofs (Poseidon transcript) of the demo model, bound to one
//! context, aggregated at the default k (21; or `ZKGUARD_AGG_K`), verified natively and by the generated
//! Solidity verifier in revm; tampered proofs, instances and calldata are rejected, and bad app
//! proofs are refused before aggregation. Also keeps `contracts/fixtures/batch.json` honest.
//!
//! This is the expensive test (about 4 min and 6.5 GB on 2 cores at k = 21, plus keygen once). Keys are cached
//! in `target/zkguard-test-cache`, so only the first run pays keygen. Regenerate the committed
//! fixture with (never alongside another proving job):
//! `cargo test -p zkguard-prover --test aggregate_batch -- --ignored write_batch_fixture`

use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::aggregate::config::default_k;
use zkguard_prover::aggregate::{app_snark, verify_aggregation, AggregateError, AggregationShape};
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::demo;
use zkguard_prover::evm::codegen::MAX_RUNTIME_SIZE;
use zkguard_prover::evm::exec::{deploy_and_call_each, evm_verify, CallOutcome};
use zkguard_prover::evm::{encode_calldata, proof_length};
use zkguard_prover::keys::{circuit_digest, load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::batch::{self, BatchRequest};
use zkguard_prover::pipeline::fixture::{fr_hex, Fixture};
use zkguard_prover::prove::{prove, Transcript};

const FIXTURE_COMMAND: &str = "cargo test -p zkguard-prover --test aggregate_batch -- --ignored write_batch_fixture";
const FEATURES: usize = 4;
const BATCH: usize = 4;
const MAX_COLUMNS: usize = 1;
const PROOFS: usize = 2;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the prover crate sits in the workspace").to_path_buf()
}

fn cache_dir() -> PathBuf {
    root().join("target/zkguard-test-cache")
}

fn agg_k() -> u32 {
    std::env::var("ZKGUARD_AGG_K").ok().and_then(|k| k.parse().ok()).unwrap_or_else(|| default_k(PROOFS))
}

/// The shared demo batch (see `demo::demo_request`) at this test's cache and k.
fn request(proofs: usize) -> BatchRequest {
    assert_eq!((FEATURES, BATCH, MAX_COLUMNS), (4, 4, 1), "demo_request's circuit");
    demo::demo_request(proofs, Some(agg_k()), cache_dir(), root().join("scripts/solc"), FIXTURE_COMMAND)
}

#[test]
fn batch_mode_end_to_end() {
    let req = request(PROOFS);
    let run = batch::run(&req).expect("batch-mode run");
    let p = &run.keys.config.params;
    eprintln!(
        "batch N={PROOFS} k={} ({} advice, {} lookup advice, {} fixed): timings {:?}; proof {} B, {} instances, calldata {} B \
         ({} gas); verifier runtime {} B, creation {} B; verify tx gas {} (revm)",
        p.degree,
        p.num_advice,
        p.num_lookup_advice,
        p.num_fixed,
        run.timings,
        run.proof.proof.len(),
        run.proof.instances.len(),
        run.gas.calldata_bytes,
        run.gas.calldata_gas,
        run.gas.runtime_size,
        run.verifier.compiled.creation.len(),
        run.gas.tx_gas
    );
    let n_app = run.app_keys.config.shape.layout().len();
    assert!(run.verifier.compiled.runtime.len() <= MAX_RUNTIME_SIZE);
    assert_eq!(run.proof.instances.len(), 12 + PROOFS * n_app);
    for (i, app) in run.app_proofs.iter().enumerate() {
        assert_eq!(run.proof.app_instances(i), Some(&app.instances[..]), "app proof {i} carried through in order");
    }
    assert!(verify_aggregation(&run.params, run.keys.vk(), &run.proof.instances, &run.proof.proof));
    // Exact proof lengths from the verifying keys alone: the aggregation proof (EVM transcript)
    // and the app proofs it aggregates (Poseidon transcript).
    assert_eq!(run.proof.proof.len(), proof_length(run.keys.vk(), Transcript::Evm), "aggregation proof length");
    for app in &run.app_proofs {
        assert_eq!(app.proof.len(), proof_length(run.app_keys.vk(), Transcript::Poseidon), "app proof length");
    }
    assert_eq!(run.fixture.sample_count, 7);
    assert_eq!(run.fixture.flagged_count, run.fixture.decisions.iter().filter(|d| **d).count());
    assert!(run.fixture.flagged_count > 0);

    // Natively: one changed limb or app instance breaks the proof.
    for index in [0, 11, 12 + 2, run.proof.instances.len() - 1] {
        let mut wrong = run.proof.instances.clone();
        wrong[index] += Fr::one();
        assert!(!verify_aggregation(&run.params, run.keys.vk(), &wrong, &run.proof.proof), "instance {index}");
    }

    // In revm.
    let valid = encode_calldata(&run.proof.instances, &run.proof.proof);
    let mut calls: Vec<(String, Vec<u8>)> = vec![("valid".into(), valid.clone())];
    for pos in [0, run.proof.proof.len() / 2, run.proof.proof.len() - 1] {
        let mut proof = run.proof.proof.clone();
        proof[pos] ^= 1;
        calls.push((format!("proof byte {pos} flipped"), encode_calldata(&run.proof.instances, &proof)));
    }
    // A limb, the first segment's context, the second segment's decision word and last score.
    for index in [0, 5, 11, 12 + 2, 12 + n_app + 4, run.proof.instances.len() - 1] {
        let mut instances = run.proof.instances.clone();
        instances[index] += Fr::one();
        calls.push((format!("instance {index} + 1"), encode_calldata(&instances, &run.proof.proof)));
    }
    // The two app segments swapped: the accumulator no longer matches the instances.
    let mut swapped = run.proof.instances[..12].to_vec();
    swapped.extend_from_slice(&run.proof.instances[12 + n_app..]);
    swapped.extend_from_slice(&run.proof.instances[12..12 + n_app]);
    calls.push(("segments swapped".into(), encode_calldata(&swapped, &run.proof.proof)));
    calls.push(("truncated by 1 byte".into(), valid[..valid.len() - 1].to_vec()));
    calls.push(("truncated by 32 bytes".into(), valid[..valid.len() - 32].to_vec()));
    calls.push(("instances only".into(), valid[..32 * run.proof.instances.len()].to_vec()));
    // Another circuit's proof: an app proof (EVM transcript) of the aggregated circuit itself.
    let witness =
        AppWitness::new(req.model.clone(), req.batches[0].clone(), BATCH, req.salt, req.ctx.context()).unwrap();
    let direct = prove(&run.app_params, &run.app_keys, &witness, Transcript::Evm).unwrap();
    calls.push(("an app proof".into(), encode_calldata(&direct.instances, &direct.proof)));
    let data: Vec<Vec<u8>> = calls.iter().map(|(_, d)| d.clone()).collect();
    let (_, outcomes) = deploy_and_call_each(&run.verifier.compiled.creation, &data).unwrap();
    for ((name, _), outcome) in calls.iter().zip(&outcomes) {
        assert_eq!(matches!(outcome, CallOutcome::Success { .. }), name == "valid", "{name}: {outcome:?}");
    }

    // Bad app proofs are refused before they reach the aggregation circuit.
    let err = app_snark(&run.app_params, &run.app_keys, &direct, 0).unwrap_err();
    assert!(matches!(err, AggregateError::Transcript { index: 0, .. }), "{err}");
    let mut tampered = run.app_proofs[1].clone();
    tampered.instances[2] += Fr::one();
    let err = app_snark(&run.app_params, &run.app_keys, &tampered, 1).unwrap_err();
    assert!(matches!(err, AggregateError::InvalidAppProof { index: 1, .. }), "{err}");
    let other_model = demo::demo_model(FEATURES + 1);
    let other_shape = AppShape::new(other_model.shape(), BATCH);
    let other_config = AppKeys::choose_config(&other_shape, MAX_COLUMNS).unwrap();
    let other_params = load_params(&SrsSource::InsecureDev, other_config.k(), &cache_dir()).unwrap();
    let other_keys =
        AppKeys::load_or_generate(other_config, &other_params, &SrsSource::InsecureDev, &cache_dir()).unwrap();
    let other_witness =
        AppWitness::new(other_model, demo::demo_rows(FEATURES + 1, 3, 0), BATCH, req.salt, req.ctx.context()).unwrap();
    let other = prove(&other_params, &other_keys, &other_witness, Transcript::Poseidon).unwrap();
    assert_eq!(other.instances.len(), n_app);
    let err = app_snark(&run.app_params, &run.app_keys, &other, 0).unwrap_err();
    assert!(matches!(err, AggregateError::InvalidAppProof { index: 0, .. }), "another circuit's proof: {err}");
    let snark = app_snark(&run.app_params, &run.app_keys, &run.app_proofs[0], 0).unwrap();
    let err = zkguard_prover::aggregate::aggregate(&run.params, &run.keys, vec![snark]).unwrap_err();
    assert!(matches!(err, AggregateError::ProofCount { expected: PROOFS, found: 1 }), "{err}");
}

/// The committed batch fixture still verifies with its committed verifier and was made for the
/// current app circuit and aggregation shape.
#[test]
fn committed_batch_fixture_is_current() {
    let path = root().join("contracts/fixtures/batch.json");
    let Ok(fixture) = Fixture::read(&path) else {
        panic!("{} is missing or unreadable: run {FIXTURE_COMMAND}", path.display());
    };
    let shape = AppShape::new(demo::demo_shape(FEATURES), BATCH);
    let config = AppKeys::choose_config(&shape, MAX_COLUMNS).unwrap();
    let app_digest = circuit_digest(&config);
    assert_eq!(fixture.app_circuit_digest, format!("0x{app_digest}"), "the app circuit changed: run {FIXTURE_COMMAND}");
    let k = fixture.aggregation_k.expect("a batch fixture names its aggregation k");
    let agg = AggregationShape::new(&app_digest, shape.layout().len(), fixture.proof_count, k);
    assert_eq!(fixture.circuit_digest, format!("0x{}", agg.digest()), "the aggregation changed: run {FIXTURE_COMMAND}");
    assert_eq!(fixture.accumulator_limbs, 12);
    let model = demo::demo_model(FEATURES);
    let commitment = zkguard_prover::circuit::commit::model_commitment(&model.shape(), &model.params());
    assert_eq!(fixture.model_commitment, fr_hex(&commitment), "the model commitment changed: run {FIXTURE_COMMAND}");
    let instances = fixture.instance_values().expect("instances parse");
    assert_eq!(instances.len(), agg.num_instance());
    let mut ctx = demo::demo_context(0);
    ctx.subjects = fixture.subjects.clone();
    for i in 0..fixture.proof_count {
        assert_eq!(instances[12 + i * shape.layout().len() + 2], ctx.context(), "segment {i} context");
    }
    let code = fixture.verifier_code().expect("bytecode parses");
    let proof = fixture.proof_bytes().expect("proof parses");
    let gas = evm_verify(&code, &encode_calldata(&instances, &proof))
        .expect("the committed verifier accepts the committed proof");
    assert_eq!(gas.tx_gas, fixture.gas.tx_gas);
}

/// Writes `contracts/fixtures/batch.json` and `contracts/src/generated/batch<N>-<digest>/`.
#[test]
#[ignore = "writes the committed fixture (minutes of proving); run explicitly"]
fn write_batch_fixture() {
    let run = batch::run(&request(PROOFS)).unwrap();
    let written =
        zkguard_prover::evm::codegen::write_verifier(&run.verifier, &root().join("contracts/src/generated")).unwrap();
    run.fixture.write(&root().join("contracts/fixtures/batch.json")).unwrap();
    eprintln!("wrote {} and contracts/fixtures/batch.json; timings {:?}", written.source.display(), run.timings);
}
