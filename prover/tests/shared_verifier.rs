//! The shared verifier in revm with real app proofs (the demo's linear model, 1 advice column,
//! flex-gate Poseidon, insecure dev SRS): a valid proof passes; a flipped proof byte, a changed
//! instance, an instance `>= r`, truncated or padded calldata, non-canonical ABI offsets, the key
//! of another circuit of the same proof system, and a key address with the wrong code (or none)
//! are refused. Two circuits of one proof system render a byte-identical verifier, which checks
//! both circuits' proofs with their own keys.

use alloy_primitives::{Address, U256};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_halo2_solidity::encode_verify_proof;
use zkguard_halo2_solidity::SharedVerifierError;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape};
use zkguard_prover::demo;
use zkguard_prover::evm::context::FIELD_MODULUS;
use zkguard_prover::evm::shared_verifier::proof_system_of;
use zkguard_prover::evm::shared_verifier::LocalEvm;
use zkguard_prover::evm::CallOutcome;
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};

mod shared_common;

use shared_common::{cache_dir, circuit, root, COMMAND};

fn word(value: U256) -> [u8; 32] {
    value.to_be_bytes::<32>()
}

#[test]
fn shared_verifier_accepts_valid_and_refuses_tampered_calls() {
    let a = circuit(4, 4, 3, PoseidonBackend::FlexGate);
    // Another model and batch of the same proof system.
    let b = circuit(5, 8, 5, PoseidonBackend::FlexGate);
    assert_ne!(a.keys.digest, b.keys.digest);
    assert_eq!(proof_system_of(&a.keys.config), proof_system_of(&b.keys.config), "not one proof system");
    assert_eq!(a.pair.rendered.verifier_sol, b.pair.rendered.verifier_sol, "the verifier source differs");
    assert_eq!(a.pair.rendered.proof_system_digest, b.pair.rendered.proof_system_digest);
    assert_eq!(a.pair.compiled.verifier.runtime, b.pair.compiled.verifier.runtime, "the verifier bytecode differs");
    assert_ne!(a.pair.compiled.vk_codehash, b.pair.compiled.vk_codehash);

    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&a.pair.compiled.verifier.creation).unwrap();
    let vk_a = evm.deploy(&a.pair.compiled.vk.creation).unwrap();
    let vk_b = evm.deploy(&b.pair.compiled.vk.creation).unwrap();
    assert_eq!(vk_a.runtime, a.pair.rendered.vk_code, "the key contract's code is not the key's words");
    assert_eq!(alloy_primitives::keccak256(&vk_b.runtime), b.pair.compiled.vk_codehash);

    let (instances, proof) = (&a.proof.instances, &a.proof.proof);
    let valid = encode_verify_proof(vk_a.address, proof, instances);
    let n = instances.len();
    let instance_cptr = valid.len() - 32 * n;

    let mut calls: Vec<(String, Address, Vec<u8>)> = vec![("valid".into(), vk_a.address, valid.clone())];
    for pos in [0, proof.len() / 2, proof.len() - 1] {
        let mut tampered = proof.clone();
        tampered[pos] ^= 1;
        calls.push((
            format!("proof byte {pos} flipped"),
            vk_a.address,
            encode_verify_proof(vk_a.address, &tampered, instances),
        ));
    }
    for index in 0..n {
        let mut changed = instances.clone();
        changed[index] += Fr::one();
        calls.push((format!("instance {index} + 1"), vk_a.address, encode_verify_proof(vk_a.address, proof, &changed)));
    }
    for index in [0, n - 1] {
        // The same instance plus r: equal modulo r, refused as non-canonical.
        let mut data = valid.clone();
        let at = instance_cptr + 32 * index;
        let value = U256::from_be_slice(&data[at..at + 32]) + FIELD_MODULUS;
        data[at..at + 32].copy_from_slice(&word(value));
        calls.push((format!("instance {index} + r"), vk_a.address, data));
    }
    calls.push(("truncated by 1 byte".into(), vk_a.address, valid[..valid.len() - 1].to_vec()));
    calls.push(("truncated by 32 bytes".into(), vk_a.address, valid[..valid.len() - 32].to_vec()));
    calls.push(("selector only".into(), vk_a.address, valid[..4].to_vec()));
    calls.push(("empty".into(), vk_a.address, vec![]));
    for extra in [1, 32] {
        let mut padded = valid.clone();
        padded.extend(std::iter::repeat_n(0u8, extra));
        calls.push((format!("padded by {extra} zero byte(s)"), vk_a.address, padded));
    }
    // The instances array moved one word further (a valid ABI encoding, not the canonical one).
    let mut moved = valid[..instance_cptr - 32].to_vec();
    moved.extend_from_slice(&[0u8; 32]);
    moved.extend_from_slice(&valid[instance_cptr - 32..]);
    let offset = U256::from_be_slice(&moved[0x44..0x64]) + U256::from(32);
    moved[0x44..0x64].copy_from_slice(&word(offset));
    calls.push(("non-canonical instances offset".into(), vk_a.address, moved));
    calls.push(("key of another circuit".into(), vk_b.address, encode_verify_proof(vk_b.address, proof, instances)));
    calls.push((
        "key address with no code".into(),
        Address::repeat_byte(0x42),
        encode_verify_proof(Address::repeat_byte(0x42), proof, instances),
    ));
    calls.push((
        "the verifier as key".into(),
        verifier.address,
        encode_verify_proof(verifier.address, proof, instances),
    ));
    // B's valid proof with B's key through the same verifier: accepted; with A's key: refused.
    let b_valid = encode_verify_proof(vk_b.address, &b.proof.proof, &b.proof.instances);
    calls.push(("valid: circuit B with its key".into(), vk_b.address, b_valid));
    calls.push((
        "circuit B's proof with A's key".into(),
        vk_a.address,
        encode_verify_proof(vk_a.address, &b.proof.proof, &b.proof.instances),
    ));

    let mut failures = vec![];
    for (name, _, data) in &calls {
        let outcome = evm.call(verifier.address, data).unwrap();
        let accepted = matches!(&outcome, CallOutcome::Success { output, .. } if output.len() == 32 && output[31] == 1);
        if accepted != name.starts_with("valid") {
            failures.push(format!("{name}: {outcome:?}"));
        }
        if name == "valid" {
            eprintln!(
                "shared verifier: runtime {} B, key runtime {} B (deploy gas {}), verify tx gas {} ({} instances, calldata {} B)",
                verifier.runtime.len(),
                vk_a.runtime.len(),
                vk_a.gas_used,
                outcome.gas_used(),
                n,
                data.len()
            );
        }
    }
    assert!(failures.is_empty(), "wrong outcomes:\n{}", failures.join("\n"));
}

/// The Poseidon-gate circuit (dense 9 x 9 MDS gates) is another proof system: its own verifier,
/// which still compiles (no stack overflow) and checks its proofs.
#[test]
fn poseidon_gate_circuit_has_its_own_verifier() {
    let gate = circuit(4, 2, 2, PoseidonBackend::Gate);
    let flex = circuit(4, 2, 2, PoseidonBackend::FlexGate);
    assert_ne!(proof_system_of(&gate.keys.config), proof_system_of(&flex.keys.config));
    assert_ne!(gate.pair.rendered.verifier_sol, flex.pair.rendered.verifier_sol);
    assert_ne!(gate.pair.rendered.proof_system_digest, flex.pair.rendered.proof_system_digest);

    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&gate.pair.compiled.verifier.creation).unwrap();
    let vk = evm.deploy(&gate.pair.compiled.vk.creation).unwrap();
    let flex_vk = evm.deploy(&flex.pair.compiled.vk.creation).unwrap();
    let (instances, proof) = (&gate.proof.instances, &gate.proof.proof);
    let valid = evm.call(verifier.address, &encode_verify_proof(vk.address, proof, instances)).unwrap();
    assert!(valid.is_success(), "{valid:?}");
    let mut tampered = proof.clone();
    tampered[proof.len() / 3] ^= 1;
    let flipped = evm.call(verifier.address, &encode_verify_proof(vk.address, &tampered, instances)).unwrap();
    assert!(!flipped.is_success(), "{flipped:?}");
    // Another proof system's key has another size: refused before any work.
    let other = evm.call(verifier.address, &encode_verify_proof(flex_vk.address, proof, instances)).unwrap();
    assert!(!other.is_success(), "{other:?}");
    eprintln!(
        "Poseidon-gate shared verifier: runtime {} B, key {} B, verify tx gas {}",
        verifier.runtime.len(),
        vk.runtime.len(),
        valid.gas_used()
    );
}

/// The headers name the command; the verifier's names no circuit (its text is the proof
/// system's), the key's names its circuit and the insecure SRS. Also writes both sources to
/// `target/` for inspection (`DUMP_POSEIDON=gate`: the Poseidon-gate circuit's, batch 2).
#[test]
fn rendered_headers_and_refusals() {
    let srs = SrsSource::InsecureDev;
    let gate = std::env::var("DUMP_POSEIDON").is_ok_and(|v| v == "gate");
    let (backend, batch) = if gate { (PoseidonBackend::Gate, 2) } else { (PoseidonBackend::FlexGate, 4) };
    let shape = AppShape::new(demo::demo_shape(4), batch);
    let config = AppCircuitConfig::choose_with(&shape, 1, backend).unwrap();
    let params = load_params(&srs, config.k(), &cache_dir()).unwrap();
    let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir()).unwrap();
    let provenance = zkguard_prover::evm::shared_verifier::app_provenance(&keys, &srs, COMMAND);
    let n = keys.config.shape.layout().len();
    let rendered = zkguard_halo2_solidity::render(keys.vk(), &params, n, &provenance).unwrap();
    std::fs::write(root().join("target/Halo2Verifier.sol"), &rendered.verifier_sol).unwrap();
    std::fs::write(root().join("target/Halo2VerifyingKey.sol"), &rendered.vk_sol).unwrap();
    for source in [&rendered.verifier_sol, &rendered.vk_sol] {
        assert!(source.starts_with("// GENERATED FILE: never edit by hand. Regenerate with:\n//   "), "{source:.200}");
        assert!(source.contains(COMMAND));
        assert!(source.contains("halo2-solidity-verifier (commit f0626be, MIT"));
    }
    assert!(!rendered.verifier_sol.contains(&keys.digest), "the verifier must not name a circuit");
    assert!(rendered.vk_sol.contains(&keys.digest));
    assert!(rendered.vk_sol.contains("INSECURE DEVELOPMENT SRS"));
    assert_eq!(rendered.vk_code.len(), rendered.vk_len);
    assert_eq!(rendered.num_instances, n);

    // Refused: parameters of another k, more instances than usable rows.
    let other_k = load_params(&srs, keys.config.k() - 1, &cache_dir()).unwrap();
    let err = zkguard_halo2_solidity::render(keys.vk(), &other_k, n, &provenance).unwrap_err();
    assert!(matches!(err, SharedVerifierError::ParamsMismatch { .. }), "{err}");
    let err = zkguard_halo2_solidity::render(keys.vk(), &params, 1 << keys.config.k(), &provenance).unwrap_err();
    assert!(matches!(err, SharedVerifierError::TooManyInstances { .. }), "{err}");
}
