//! Real keygen, proof and verification for each model family in both model visibilities at the
//! smallest k that fits, and verifications that must fail (wrong public input, tampered proof,
//! wrong transcript, a proof of the other visibility's circuit).

mod small_models;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape, AppWitness, Visibility};
use zkguard_prover::evm::{proof_length, ProofShape};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::prove::{prove, verify, Transcript};
use zkguard_prover::quant::ModelShape;

/// Keys and parameters are cached here across test runs (keygen once per shape).
fn cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/zkguard-test-cache")
}

fn features(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("x{i}")).collect()
}

/// Both visibilities of the model's circuit (flex-gate sponge): each proves and verifies, and
/// the other visibility's verifying key refuses the proof.
fn roundtrip(shape: ModelShape, params: Vec<i64>, rows: Vec<Vec<i64>>, batch_size: usize) {
    let model = shape.model_from_params("test", &features(shape.n_features), &params);
    let witness = AppWitness::new(model.clone(), rows, batch_size, Fr::from(1234u64), Fr::from(777u64)).unwrap();
    let srs = SrsSource::InsecureDev;
    let mut proofs = Vec::new();
    for visibility in [Visibility::Committed, Visibility::Fixed] {
        let app_shape = AppShape::for_model(&model, batch_size, visibility);
        let config = AppKeys::choose_config(&app_shape, 4).unwrap();
        let kzg = load_params(&srs, config.k(), &cache_dir()).unwrap();
        let keys = AppKeys::load_or_generate(config, &kzg, &srs, &cache_dir()).unwrap();
        roundtrip_with(&kzg, &keys, &witness, batch_size);
        proofs.push((kzg, keys));
    }
    // Each visibility's proof is its own circuit's: the other verifying key refuses it, though
    // the instances (model commitment included) are the same.
    let [(kzg_c, committed), (kzg_f, fixed)] = &proofs[..] else { unreachable!() };
    assert_ne!(committed.digest, fixed.digest);
    let proof = prove(kzg_f, fixed, &witness, Transcript::Evm).unwrap();
    assert_eq!(proof.instances, witness.expected_instances().unwrap().to_vec());
    if committed.config.k() == fixed.config.k() {
        assert!(!verify(kzg_c, committed.vk(), &proof.instances, &proof.proof, Transcript::Evm));
    }
}

/// The committed circuit hashing with the Poseidon gate: keys generated (or loaded) once, then
/// loaded from the cache, and both must prove.
fn roundtrip_with_the_gate(shape: ModelShape, params: Vec<i64>, rows: Vec<Vec<i64>>, batch_size: usize) {
    let model = shape.model_from_params("test", &features(shape.n_features), &params);
    let witness = AppWitness::new(model, rows, batch_size, Fr::from(1234u64), Fr::from(777u64)).unwrap();
    let app_shape = AppShape::new(shape, batch_size);
    let config = AppCircuitConfig::choose_with(&app_shape, 4, PoseidonBackend::Gate).unwrap();
    let srs = SrsSource::InsecureDev;
    let kzg = load_params(&srs, config.k(), &cache_dir()).unwrap();
    AppKeys::load_or_generate(config.clone(), &kzg, &srs, &cache_dir()).unwrap();
    let keys = AppKeys::load_or_generate(config, &kzg, &srs, &cache_dir()).unwrap();
    assert_eq!(keys.config.poseidon, PoseidonBackend::Gate);
    roundtrip_with(&kzg, &keys, &witness, batch_size);
}

fn roundtrip_with(kzg: &ParamsKZG<Bn256>, keys: &AppKeys, witness: &AppWitness, batch_size: usize) {
    for transcript in [Transcript::Evm, Transcript::Poseidon] {
        let proof = prove(kzg, keys, witness, transcript).unwrap();
        assert_eq!(proof.instances, witness.expected_instances().unwrap().to_vec());
        assert!(verify(kzg, keys.vk(), &proof.instances, &proof.proof, transcript));
        // The length computed from the verifying key alone is the real proof's.
        assert_eq!(proof.proof.len(), proof_length(keys.vk(), transcript), "{transcript:?} proof length");
        let shape = ProofShape::of(keys.vk());
        assert!(shape.witness_commitments > 0 && shape.quotient_chunks > 0 && shape.evaluations > 0, "{shape:?}");

        // One changed public input.
        let layout = witness.shape().layout();
        assert_eq!(layout.batch_size, batch_size);
        for index in [0, 2, 4, layout.len() - 1] {
            let mut wrong = proof.instances.clone();
            wrong[index] += Fr::one();
            assert!(!verify(kzg, keys.vk(), &wrong, &proof.proof, transcript), "instance {index} changed");
        }
        // One flipped proof byte.
        let mut tampered = proof.proof.clone();
        tampered[proof.proof.len() / 2] ^= 1;
        assert!(!verify(kzg, keys.vk(), &proof.instances, &tampered, transcript), "tampered proof");
        // A truncated proof.
        assert!(!verify(kzg, keys.vk(), &proof.instances, &proof.proof[..proof.proof.len() - 32], transcript));
        // The other transcript.
        let other = if transcript == Transcript::Evm { Transcript::Poseidon } else { Transcript::Evm };
        assert!(!verify(kzg, keys.vk(), &proof.instances, &proof.proof, other), "wrong transcript");
    }
}

#[test]
fn linear_filter_proves_and_verifies() {
    let (shape, params) = small_models::linear();
    roundtrip(shape, params, vec![vec![1000, 2000, -500, 30], vec![-4000, 100, 0, 5]], 2);
}

#[test]
fn linear_filter_proves_and_verifies_with_the_poseidon_gate() {
    let (shape, params) = small_models::linear();
    let rows = vec![vec![1000, 2000, -500, 30], vec![-4000, 100, 0, 5]];
    roundtrip_with_the_gate(shape, params, rows, 2);
}

#[test]
fn mlp_autoencoder_proves_and_verifies() {
    let (shape, params) = small_models::autoencoder();
    roundtrip(shape, params, vec![vec![300, -200, 100]], 1);
}

#[test]
fn tree_ensemble_proves_and_verifies() {
    let (shape, params) = small_models::trees();
    roundtrip(shape, params, vec![vec![150, -60, 400], vec![-5, 0, 5]], 2);
}
