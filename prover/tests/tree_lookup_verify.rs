//! A committed tree ensemble evaluated by lookups (`TreeSelection::Lookup`, the fast layout's
//! choice) proves and verifies: natively with both transcripts, in snark-verifier's native
//! verifier (succinct verification and the KZG decider: what the aggregation circuit checks in
//! circuit), and in the shared Solidity verifier on revm; a tampered proof or instance is
//! refused by each. Small circuits (k = 10): CI starts from an empty key cache.

#[allow(dead_code)] // the tree model only
mod small_models;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use snark_verifier::pcs::kzg::KzgDecidingKey;
use snark_verifier::verifier::SnarkVerifier;
use snark_verifier_sdk::halo2::{PoseidonTranscript, POSEIDON_SPEC};
use snark_verifier_sdk::{NativeLoader, PlonkVerifier, SHPLONK};
use zkguard_halo2_solidity::encode_verify_proof;
use zkguard_prover::aggregate::app_snark;
use zkguard_prover::circuit::config::Layout;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::tree_lookup::TreeSelection;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape, AppWitness, Visibility};
use zkguard_prover::evm::shared_verifier::{app_pair, proof_system_of, LocalEvm};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::prove::{prove, verify, AppProof, Transcript};

const COMMAND: &str = "cargo test -p zkguard-prover --test tree_lookup_verify";

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn cache_dir() -> std::path::PathBuf {
    root().join("target/zkguard-test-cache")
}

/// snark-verifier's native verification of a Poseidon-transcript proof: succinct verification
/// of the compiled protocol, then the KZG decider on the accumulator.
fn snark_verifier_accepts(snark: &snark_verifier_sdk::Snark, params: &ParamsKZG<Bn256>) -> bool {
    use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
    let dk: KzgDecidingKey<Bn256> = (params.get_g()[0], params.g2(), params.s_g2()).into();
    let mut transcript =
        PoseidonTranscript::<NativeLoader, &[u8]>::from_spec(snark.proof.as_slice(), POSEIDON_SPEC.clone());
    let Ok(proof) = PlonkVerifier::<SHPLONK>::read_proof(&dk, &snark.protocol, &snark.instances, &mut transcript)
    else {
        return false;
    };
    // The full verifier: succinct verification, then the decider on the accumulator.
    PlonkVerifier::<SHPLONK>::verify(&dk, &snark.protocol, &snark.instances, &proof).is_ok()
}

/// The small committed tree model and a witness of it (2 samples).
fn model_and_witness() -> (zkguard_prover::quant::QuantizedModel, AppWitness) {
    let (shape, params) = small_models::trees();
    let features: Vec<String> = (0..shape.n_features).map(|i| format!("x{i}")).collect();
    let model = shape.model_from_params("lookup-trees", &features, &params);
    let rows = vec![vec![150, -60, 10], vec![-200, 40, 400]];
    let witness = AppWitness::new(model.clone(), rows, 2, Fr::from(99u64), Fr::from(5u64)).unwrap();
    (model, witness)
}

/// Keys of `config` (a tree-lookup circuit) from the test cache.
fn keys(config: AppCircuitConfig) -> (ParamsKZG<Bn256>, AppKeys) {
    assert!(matches!(config.tree_selection, TreeSelection::Lookup { .. }), "{:?}", config.tree_selection);
    assert!(config.k() <= 16, "k = {}", config.k());
    assert!(proof_system_of(&config).contains("tree lookup"), "{}", proof_system_of(&config));
    let srs = SrsSource::InsecureDev;
    let kzg = load_params(&srs, config.k(), &cache_dir()).unwrap();
    // Generated (or loaded) once, then loaded from the cache: the cached configuration carries
    // the selection the proving key is read with.
    AppKeys::load_or_generate(config.clone(), &kzg, &srs, &cache_dir()).unwrap();
    let keys = AppKeys::load_or_generate(config.clone(), &kzg, &srs, &cache_dir()).unwrap();
    assert_eq!(keys.config.tree_selection, config.tree_selection);
    (kzg, keys)
}

/// Proves with `transcript`; the proof verifies natively, a changed instance or a flipped byte
/// does not.
fn prove_and_verify(kzg: &ParamsKZG<Bn256>, keys: &AppKeys, witness: &AppWitness, transcript: Transcript) -> AppProof {
    let proof = prove(kzg, keys, witness, transcript).unwrap();
    assert_eq!(proof.instances, witness.expected_instances().unwrap().to_vec());
    assert!(verify(kzg, keys.vk(), &proof.instances, &proof.proof, transcript), "{transcript:?}");
    let mut wrong = proof.instances.clone();
    *wrong.last_mut().unwrap() += Fr::one();
    assert!(!verify(kzg, keys.vk(), &wrong, &proof.proof, transcript), "{transcript:?}: changed instance");
    let mut flipped = proof.proof.clone();
    flipped[proof.proof.len() / 2] ^= 1;
    assert!(!verify(kzg, keys.vk(), &proof.instances, &flipped, transcript), "{transcript:?}: flipped byte");
    proof
}

/// The fast layout's circuit: native verification with both transcripts, and snark-verifier's
/// (what the aggregation circuit checks) on the Poseidon-transcript proof.
#[test]
fn a_fast_layout_lookup_tree_proof_verifies_natively_and_in_snark_verifier() {
    let (model, witness) = model_and_witness();
    let app_shape = AppShape::for_model(&model, 2, Visibility::Committed);
    let (kzg, keys) = keys(AppCircuitConfig::for_layout(&app_shape, Layout::Fast, 4).unwrap());
    prove_and_verify(&kzg, &keys, &witness, Transcript::Evm);
    let proof = prove_and_verify(&kzg, &keys, &witness, Transcript::Poseidon);
    let snark = app_snark(&kzg, &keys, &proof, 0).unwrap();
    assert!(snark_verifier_accepts(&snark, &kzg));
    let mut wrong = snark.clone();
    wrong.instances[0][0] += Fr::one();
    assert!(!snark_verifier_accepts(&wrong, &kzg));
}

/// The shared Solidity verifier on revm checks the lookup argument: the Poseidon gate and the
/// tree lookup with one halo2-base column (as the shared-verifier tests lay circuits out; the
/// fast layout's two columns for this model rendered a verifier of 25,055 B, just over EIP-170).
#[test]
fn a_lookup_tree_proof_verifies_in_the_shared_verifier() {
    let (model, witness) = model_and_witness();
    let app_shape = AppShape::for_model(&model, 2, Visibility::Committed);
    let config = AppCircuitConfig::choose_with_selection(&app_shape, 1, PoseidonBackend::Gate, true).unwrap();
    let (kzg, keys) = keys(config);
    let proof = prove_and_verify(&kzg, &keys, &witness, Transcript::Evm);
    let pair = app_pair(&keys, &kzg, &SrsSource::InsecureDev, COMMAND, &root().join("scripts/solc")).unwrap();
    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&pair.compiled.verifier.creation).unwrap();
    let vk = evm.deploy(&pair.compiled.vk.creation).unwrap();
    let (instances, proof) = (&proof.instances, &proof.proof);
    let valid = evm.call(verifier.address, &encode_verify_proof(vk.address, proof, instances)).unwrap();
    assert!(valid.is_success(), "{valid:?}");
    let mut tampered = proof.clone();
    tampered[proof.len() / 3] ^= 1;
    let flipped = evm.call(verifier.address, &encode_verify_proof(vk.address, &tampered, instances)).unwrap();
    assert!(!flipped.is_success(), "{flipped:?}");
    let mut wrong = instances.clone();
    wrong[0] += Fr::one();
    let changed = evm.call(verifier.address, &encode_verify_proof(vk.address, proof, &wrong)).unwrap();
    assert!(!changed.is_success(), "{changed:?}");
    eprintln!(
        "tree lookup (k = {}, {} halo2-base column(s)): shared verifier runtime {} B, key {} B, verify tx gas {}",
        keys.config.k(),
        keys.config.params.num_advice_per_phase[0],
        verifier.runtime.len(),
        vk.runtime.len(),
        valid.gas_used()
    );
}
