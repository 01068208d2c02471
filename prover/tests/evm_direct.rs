//! Direct mode in an in-process EVM (revm): the verifier generated for an app circuit accepts a
//! real EVM-transcript proof and rejects one flipped proof byte, one changed public instance, a
//! non-canonical instance, truncated calldata, a Poseidon-transcript proof and another circuit's
//! proof. Also keeps `contracts/fixtures/direct.json` honest: it must still verify and match the
//! current circuit.
//!
//! Regenerate the committed fixture with:
//! `cargo test -p zkguard-prover --test evm_direct -- --ignored write_direct_fixture`

use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::demo;
use zkguard_prover::evm::codegen::MAX_RUNTIME_SIZE;
use zkguard_prover::evm::exec::{deploy_and_call_each, evm_verify, CallOutcome};
use zkguard_prover::evm::{context::fr_to_u256, encode_calldata};
use zkguard_prover::keys::{circuit_digest, AppKeys, SrsSource};
use zkguard_prover::pipeline::direct::{self, DirectRequest, DirectRun};
use zkguard_prover::pipeline::fixture::{fr_hex, Fixture};
use zkguard_prover::prove::{prove, Transcript};

const FIXTURE_COMMAND: &str = "cargo test -p zkguard-prover --test evm_direct -- --ignored write_direct_fixture";
const BATCH: usize = 4;
const FEATURES: usize = 4;
/// One advice column: the cheapest direct-mode verifier (about 36k gas less per column dropped).
const MAX_COLUMNS: usize = 1;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the prover crate sits in the workspace").to_path_buf()
}

/// Keys and parameters are cached here across test runs (keygen once per shape).
fn cache_dir() -> PathBuf {
    root().join("target/zkguard-test-cache")
}

fn request(n_features: usize, samples: usize, name: &str) -> DirectRequest {
    DirectRequest {
        model: demo::demo_model(n_features),
        rows: demo::demo_rows(n_features, samples, 0),
        batch_size: BATCH,
        max_columns: MAX_COLUMNS,
        salt: Fr::from(0x5a17u64),
        ctx: demo::demo_context(samples),
        srs: SrsSource::InsecureDev,
        cache_dir: cache_dir(),
        solc: root().join("scripts/solc"),
        verifier_name: Some(name.to_string()),
        command: FIXTURE_COMMAND.to_string(),
    }
}

fn run(n_features: usize, samples: usize, name: &str) -> DirectRun {
    direct::run(&request(n_features, samples, name)).expect("direct-mode run")
}

#[test]
fn generated_verifier_accepts_valid_and_rejects_tampered_proofs() {
    let a = run(FEATURES, 3, "test-direct-a");
    let code = &a.verifier.compiled.creation;
    assert!(a.verifier.compiled.runtime.len() <= MAX_RUNTIME_SIZE);
    assert_eq!(a.decoded.sample_count, 3);
    assert_eq!(a.decoded.decisions, vec![true, false, true, false], "demo rows: even rows flagged, padding false");
    let n = a.proof.instances.len();
    let valid = encode_calldata(&a.proof.instances, &a.proof.proof);

    let mut calls: Vec<(String, Vec<u8>)> = vec![("valid".into(), valid.clone())];
    for pos in [0, a.proof.proof.len() / 2, a.proof.proof.len() - 1] {
        let mut proof = a.proof.proof.clone();
        proof[pos] ^= 1;
        calls.push((format!("proof byte {pos} flipped"), encode_calldata(&a.proof.instances, &proof)));
    }
    for index in 0..n {
        let mut instances = a.proof.instances.clone();
        instances[index] += Fr::one();
        calls.push((format!("instance {index} + 1"), encode_calldata(&instances, &a.proof.proof)));
    }
    // The same instance as a non-canonical uint256 (x + R). The generated verifier reduces
    // instances modulo R and ACCEPTS this; the wrapper (ZkGuardVerifier.verify) refuses any
    // instance >= R with InstanceOutOfField, which is why callers must go through the wrapper.
    let mut non_canonical = valid.clone();
    let word = fr_to_u256(&a.proof.instances[2]) + zkguard_prover::evm::context::FIELD_MODULUS;
    non_canonical[64..96].copy_from_slice(&word.to_be_bytes::<32>());
    calls.push(("non-canonical context (x + R, accepted by the raw verifier)".into(), non_canonical));
    calls.push(("truncated by 1 byte".into(), valid[..valid.len() - 1].to_vec()));
    calls.push(("truncated by 32 bytes".into(), valid[..valid.len() - 32].to_vec()));
    calls.push(("instances only".into(), valid[..32 * n].to_vec()));
    calls.push(("empty".into(), vec![]));
    // Trailing bytes after the proof are ignored by the generated verifier (it reads a fixed
    // length): the proof bytes are malleable that way, which is harmless for the Guard (replay
    // protection is the nonce, not the proof bytes), but nothing may key on the proof's hash.
    let mut extended = valid.clone();
    extended.extend_from_slice(&[0u8; 32]);
    calls.push(("trailing word after the proof (ignored by the raw verifier)".into(), extended));

    // A Poseidon-transcript proof of the same circuit and witness.
    let shape = AppShape::new(demo::demo_shape(FEATURES), BATCH);
    let req = request(FEATURES, 3, "unused");
    let witness = AppWitness::new(req.model.clone(), req.rows.clone(), BATCH, req.salt, req.ctx.context()).unwrap();
    assert_eq!(a.keys.config.shape, shape);
    let poseidon = prove(&a.params, &a.keys, &witness, Transcript::Poseidon).unwrap();
    calls.push(("poseidon transcript".into(), encode_calldata(&poseidon.instances, &poseidon.proof)));

    // Another circuit (5 features) with the same number of instances: its valid proof must not
    // pass this circuit's verifier, and it passes its own.
    let b = run(FEATURES + 1, 3, "test-direct-b");
    assert_ne!(a.keys.digest, b.keys.digest);
    assert_eq!(b.proof.instances.len(), n);
    calls.push(("another circuit's proof".into(), encode_calldata(&b.proof.instances, &b.proof.proof)));
    let b_gas =
        evm_verify(&b.verifier.compiled.creation, &encode_calldata(&b.proof.instances, &b.proof.proof)).unwrap();

    let data: Vec<Vec<u8>> = calls.iter().map(|(_, d)| d.clone()).collect();
    let (deployment, outcomes) = deploy_and_call_each(code, &data).unwrap();
    assert_eq!(deployment.runtime_size, a.verifier.compiled.runtime.len());
    for ((name, _), outcome) in calls.iter().zip(&outcomes) {
        let accepted = matches!(outcome, CallOutcome::Success { .. });
        let expected = name == "valid" || name.starts_with("non-canonical") || name.starts_with("trailing");
        assert_eq!(accepted, expected, "{name}: {outcome:?}");
    }
    eprintln!(
        "direct verifier: runtime {} B, creation {} B, verify tx gas {} (calldata {} B, {} gas), deploy gas {}; \
         5-feature circuit: {} gas",
        a.gas.runtime_size,
        a.verifier.compiled.creation.len(),
        a.gas.tx_gas,
        a.gas.calldata_bytes,
        a.gas.calldata_gas,
        a.gas.deploy_gas,
        b_gas.tx_gas
    );
}

/// The committed fixture still verifies with its committed verifier, was made for the current
/// circuit (same digest), and its context and instances agree with its own fields.
#[test]
fn committed_direct_fixture_is_current() {
    let path = root().join("contracts/fixtures/direct.json");
    let Ok(fixture) = Fixture::read(&path) else {
        panic!("{} is missing or unreadable: run {FIXTURE_COMMAND}", path.display());
    };
    let shape = AppShape::new(demo::demo_shape(FEATURES), BATCH);
    let config = AppKeys::choose_config(&shape, MAX_COLUMNS).unwrap();
    assert_eq!(
        fixture.app_circuit_digest,
        format!("0x{}", circuit_digest(&config)),
        "the app circuit changed since the fixture was written: run {FIXTURE_COMMAND}"
    );
    assert_eq!(fixture.circuit_digest, fixture.app_circuit_digest);
    let model = demo::demo_model(FEATURES);
    let commitment = zkguard_prover::circuit::commit::model_commitment(&model.shape(), &model.params());
    assert_eq!(fixture.model_commitment, fr_hex(&commitment), "the model commitment changed: run {FIXTURE_COMMAND}");
    let instances = fixture.instance_values().expect("instances parse");
    let proof = fixture.proof_bytes().expect("proof parses");
    let code = fixture.verifier_code().expect("bytecode parses");
    assert_eq!(instances.len(), shape.layout().len());
    let mut ctx = demo::demo_context(fixture.subjects.len());
    ctx.subjects = fixture.subjects.clone();
    assert_eq!(fixture.context, fr_hex(&ctx.context()));
    assert_eq!(instances[2], ctx.context());
    let gas = evm_verify(&code, &encode_calldata(&instances, &proof))
        .expect("the committed verifier accepts the committed proof");
    assert_eq!(gas.tx_gas, fixture.gas.tx_gas);
}

/// Writes `contracts/fixtures/direct.json` and `contracts/src/generated/<app-digest>/`.
#[test]
#[ignore = "writes the committed fixture; run explicitly"]
fn write_direct_fixture() {
    let mut req = request(FEATURES, 3, "unused");
    req.verifier_name = None;
    let run = direct::run(&req).unwrap();
    let written =
        zkguard_prover::evm::codegen::write_verifier(&run.verifier, &root().join("contracts/src/generated")).unwrap();
    run.fixture.write(&root().join("contracts/fixtures/direct.json")).unwrap();
    eprintln!("wrote {} and contracts/fixtures/direct.json", written.source.display());
}
