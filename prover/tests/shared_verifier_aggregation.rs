//! The shared verifier with a KZG accumulator, in revm, with a REAL aggregation proof: the
//! committed batch fixture (`contracts/fixtures/batch.json`: 2 proofs of the demo circuit
//! aggregated at k = 21 by `aggregate_batch`'s `write_batch_fixture`). Only the aggregation
//! circuit's keys are needed (the shape of `aggregate_batch`'s test, so the cache that test fills
//! serves this one; no aggregation proof is made here). A valid proof passes (the unrolled
//! verifier's gas from the fixture is printed beside); a flipped proof byte, a changed app
//! instance, a changed accumulator limb, a limb re-encoded out of range with the same joined value,
//! an instance `>= r`, truncated calldata, the app circuit's key, and a key of the same size whose
//! accumulator words are an app key's (or another limb width) are refused. The app circuit's own
//! shared verifier refuses the aggregation key and still accepts its app proofs. The deployable
//! pair (`deployable_aggregation_pair`) has one verifier bytecode whatever the command.

use alloy_primitives::{Address, U256};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_halo2_solidity::encode_verify_proof;
use zkguard_prover::aggregate::{AggregationKeys, AggregationShape};
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::demo;
use zkguard_prover::evm::context::FIELD_MODULUS;
use zkguard_prover::evm::shared_verifier::{
    aggregation_pair, app_pair, deployable_aggregation_pair, shared_verifier_code, LocalEvm, AGGREGATION_ACCUMULATOR,
    SHARED_AGGREGATION_VERIFIER_COMMAND,
};
use zkguard_prover::evm::CallOutcome;
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::fixture::Fixture;
use zkguard_prover::prove::{prove, Transcript};

mod shared_common;

use shared_common::{cache_dir, root};

const COMMAND: &str = "cargo test -p zkguard-prover --test shared_verifier_aggregation";
const FIXTURE_COMMAND: &str = "cargo test -p zkguard-prover --test aggregate_batch -- --ignored write_batch_fixture";
/// Words of the key before its accumulator words (vk_digest, num_instances, k, n_inv, omega,
/// omega_inv, omega_inv_to_l).
const ACC_WORDS_AT: usize = 7;

fn word(value: U256) -> [u8; 32] {
    value.to_be_bytes::<32>()
}

/// Creation code that deploys `runtime` as is.
fn raw_creation(runtime: &[u8]) -> Vec<u8> {
    let len = u16::try_from(runtime.len()).expect("a key fits 64 KiB");
    let [hi, lo] = len.to_be_bytes();
    // PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN
    let mut code = vec![0x61, hi, lo, 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    code.extend_from_slice(runtime);
    code
}

fn accepted(outcome: &CallOutcome) -> bool {
    matches!(outcome, CallOutcome::Success { output, .. } if output.len() == 32 && output[31] == 1)
}

#[test]
fn shared_aggregation_verifier_accepts_valid_and_refuses_tampered_calls() {
    let solc = root().join("scripts/solc");
    let srs = SrsSource::InsecureDev;
    let fixture = Fixture::read(&root().join("contracts/fixtures/batch.json")).expect("the committed batch fixture");
    let proofs = fixture.proof_count;
    let instances = fixture.instance_values().expect("instances parse");
    let proof = fixture.proof_bytes().expect("proof parses");
    // The fixture's request (model, batches, salt, context), and the keys of its circuits.
    let req = demo::demo_request(proofs, fixture.aggregation_k, cache_dir(), solc.clone(), COMMAND);
    let shape = AppShape::new(req.model.shape(), req.batch_size).with_scores(req.has_scores);
    let app_config = AppKeys::choose_config(&shape, req.max_columns).unwrap();
    let app_params = load_params(&srs, app_config.k(), &cache_dir()).unwrap();
    let app_keys = AppKeys::load_or_generate(app_config, &app_params, &srs, &cache_dir()).unwrap();
    assert_eq!(
        fixture.app_circuit_digest,
        format!("0x{}", app_keys.digest),
        "the app circuit changed: run {FIXTURE_COMMAND}"
    );
    let k = fixture.aggregation_k.expect("a batch fixture names its aggregation k");
    let agg_shape = AggregationShape::new(&app_keys.digest, shape.layout().len(), proofs, k);
    assert_eq!(
        fixture.circuit_digest,
        format!("0x{}", agg_shape.digest()),
        "the aggregation changed: run {FIXTURE_COMMAND}"
    );
    let params = load_params(&srs, k, &cache_dir()).unwrap();
    let keys =
        AggregationKeys::load_or_generate(agg_shape, &app_keys, &app_params, &params, &srs, &cache_dir()).unwrap();
    let agg = aggregation_pair(&keys, &params, &srs, COMMAND, &solc).unwrap();
    let app = app_pair(&app_keys, &app_params, &srs, COMMAND, &solc).unwrap();
    // As deployments render it: the verifier under the canonical header whatever the command (one
    // bytecode, one CREATE2 address), the key under the command's; the same proof system.
    let [deployed_a, deployed_b] = ["zkguard deploy --aggregate 2 ...", "zkguard demo"]
        .map(|command| deployable_aggregation_pair(&keys, &params, &srs, command, &solc).unwrap());
    assert_eq!(deployed_a.compiled.verifier.creation, deployed_b.compiled.verifier.creation);
    assert!(deployed_a.rendered.verifier_sol.contains(SHARED_AGGREGATION_VERIFIER_COMMAND));
    assert!(deployed_a.rendered.vk_sol.contains("zkguard deploy --aggregate 2 ..."));
    assert_eq!(deployed_a.compiled.vk_codehash, deployed_b.compiled.vk_codehash);
    assert_eq!(deployed_a.compiled.vk_codehash, agg.compiled.vk_codehash);
    assert_eq!(deployed_a.rendered.proof_system_digest, agg.rendered.proof_system_digest);
    assert_eq!(deployed_a.rendered.accumulator, Some(AGGREGATION_ACCUMULATOR));
    assert_eq!(shared_verifier_code(&deployed_a).proof_system_digest, agg.rendered.proof_system_digest);
    assert_eq!(agg.rendered.accumulator, Some(AGGREGATION_ACCUMULATOR));
    assert_eq!(app.rendered.accumulator, None);
    assert_ne!(agg.rendered.proof_system_digest, app.rendered.proof_system_digest);
    assert_eq!(agg.rendered.proof_len, proof.len());
    // For inspection (like `shared_verifier`'s `rendered_headers_and_refusals`).
    std::fs::write(root().join("target/Halo2VerifierAggregation.sol"), &agg.rendered.verifier_sol).unwrap();
    std::fs::write(root().join("target/Halo2VerifyingKeyAggregation.sol"), &agg.rendered.vk_sol).unwrap();
    assert!(agg.rendered.verifier_sol.contains(COMMAND) && agg.rendered.vk_sol.contains(&keys.digest));
    assert!(agg.rendered.vk_sol.contains("INSECURE DEVELOPMENT SRS"));

    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&agg.compiled.verifier.creation).unwrap();
    let vk = evm.deploy(&agg.compiled.vk.creation).unwrap();
    let app_verifier = evm.deploy(&app.compiled.verifier.creation).unwrap();
    let app_vk = evm.deploy(&app.compiled.vk.creation).unwrap();
    assert_eq!(vk.runtime, agg.rendered.vk_code, "the key contract's code is not the key's words");
    // The aggregation key with an app key's accumulator words (all zero), same size.
    let mut no_acc = agg.rendered.vk_code.clone();
    no_acc[32 * ACC_WORDS_AT..32 * (ACC_WORDS_AT + 4)].fill(0);
    let vk_no_acc = evm.deploy(&raw_creation(&no_acc)).unwrap();
    assert_eq!(vk_no_acc.runtime, no_acc);
    // ... and with another limb width (the same limbs read as 4 x 64 bits would not join the same).
    let mut other_bits = agg.rendered.vk_code.clone();
    other_bits[32 * (ACC_WORDS_AT + 3) + 31] = 64;
    let vk_other_bits = evm.deploy(&raw_creation(&other_bits)).unwrap();

    let (instances, proof) = (&instances, &proof);
    let n = instances.len();
    let n_app = shape.layout().len();
    assert_eq!(n, AGGREGATION_ACCUMULATOR.len() + proofs * n_app);
    let valid = encode_verify_proof(vk.address, proof, instances);
    let instance_cptr = valid.len() - 32 * n;

    let mut calls: Vec<(String, Address, Vec<u8>)> = vec![("valid".into(), verifier.address, valid.clone())];
    for pos in [0, proof.len() / 2, proof.len() - 1] {
        let mut tampered = proof.to_vec();
        tampered[pos] ^= 1;
        calls.push((
            format!("proof byte {pos} flipped"),
            verifier.address,
            encode_verify_proof(vk.address, &tampered, instances),
        ));
    }
    // Accumulator limbs (lhs.x low, lhs.y high, rhs.y high), then app instances of both segments.
    for index in [0, 5, 11, 12, 12 + 2, 12 + n_app + 4, n - 1] {
        let mut changed = instances.to_vec();
        changed[index] += Fr::one();
        calls.push((
            format!("instance {index} + 1"),
            verifier.address,
            encode_verify_proof(vk.address, proof, &changed),
        ));
    }
    for index in [0, 12, n - 1] {
        let mut data = valid.clone();
        let at = instance_cptr + 32 * index;
        let value = U256::from_be_slice(&data[at..at + 32]) + FIELD_MODULUS;
        data[at..at + 32].copy_from_slice(&word(value));
        calls.push((format!("instance {index} + r"), verifier.address, data));
    }
    // lhs.x = l0 + l1·2^88 + l2·2^176 re-encoded as (l0 + 2^88, l1 - 1, l2): the same sum, a limb
    // out of range.
    {
        let mut data = valid.clone();
        let (at0, at1) = (instance_cptr, instance_cptr + 32);
        let l0 = U256::from_be_slice(&data[at0..at0 + 32]);
        let l1 = U256::from_be_slice(&data[at1..at1 + 32]);
        assert!(l1 > U256::ZERO, "the middle limb of lhs.x is zero (astronomically unlikely)");
        data[at0..at0 + 32].copy_from_slice(&word(l0 + (U256::from(1) << 88)));
        data[at1..at1 + 32].copy_from_slice(&word(l1 - U256::from(1)));
        calls.push(("limb re-encoded out of range (same sum)".into(), verifier.address, data));
    }
    // The two app segments swapped.
    let mut swapped = instances[..12].to_vec();
    swapped.extend_from_slice(&instances[12 + n_app..]);
    swapped.extend_from_slice(&instances[12..12 + n_app]);
    calls.push(("segments swapped".into(), verifier.address, encode_verify_proof(vk.address, proof, &swapped)));
    calls.push(("truncated by 1 byte".into(), verifier.address, valid[..valid.len() - 1].to_vec()));
    calls.push(("truncated by 32 bytes".into(), verifier.address, valid[..valid.len() - 32].to_vec()));
    calls.push(("truncated to the proof".into(), verifier.address, valid[..instance_cptr].to_vec()));
    // Keys that are not this verifier's.
    calls.push((
        "the app circuit's key".into(),
        verifier.address,
        encode_verify_proof(app_vk.address, proof, instances),
    ));
    calls.push((
        "the key with an app key's accumulator words".into(),
        verifier.address,
        encode_verify_proof(vk_no_acc.address, proof, instances),
    ));
    calls.push((
        "the key with 64-bit limbs".into(),
        verifier.address,
        encode_verify_proof(vk_other_bits.address, proof, instances),
    ));
    // An app proof (EVM transcript) of the aggregated circuit: its own verifier accepts it with its
    // key; the aggregation verifier refuses it, and the app verifier refuses the aggregation key.
    let witness =
        AppWitness::new(req.model.clone(), req.batches[0].clone(), req.batch_size, req.salt, req.ctx.context())
            .unwrap()
            .with_scores(req.has_scores);
    let direct = prove(&app_params, &app_keys, &witness, Transcript::Evm).unwrap();
    let direct_data = encode_verify_proof(app_vk.address, &direct.proof, &direct.instances);
    calls.push(("valid: an app proof on the app verifier".into(), app_verifier.address, direct_data.clone()));
    calls.push(("an app proof and key on the aggregation verifier".into(), verifier.address, direct_data));
    calls.push((
        "the aggregation proof and key on the app verifier".into(),
        app_verifier.address,
        encode_verify_proof(vk.address, proof, instances),
    ));
    calls.push((
        "an app proof with the aggregation key on the app verifier".into(),
        app_verifier.address,
        encode_verify_proof(vk.address, &direct.proof, &direct.instances),
    ));

    let mut failures = vec![];
    for (name, to, data) in &calls {
        let outcome = evm.call(*to, data).unwrap();
        if accepted(&outcome) != name.starts_with("valid") {
            failures.push(format!("{name}: {outcome:?}"));
        }
        if name == "valid" {
            eprintln!(
                "shared aggregation verifier: runtime {} B (deploy gas {}), key {} B (deploy gas {}), verify tx gas {} \
                 ({n} instances, calldata {} B); unrolled verifier: runtime {} B, verify tx gas {}",
                verifier.runtime.len(),
                verifier.gas_used,
                vk.runtime.len(),
                vk.gas_used,
                outcome.gas_used(),
                data.len(),
                fixture.verifier_runtime_size,
                fixture.gas.tx_gas
            );
        }
    }
    assert!(failures.is_empty(), "wrong outcomes:\n{}", failures.join("\n"));
}
