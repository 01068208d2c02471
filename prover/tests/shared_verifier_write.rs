//! Writing a pair: the verifier under its proof system's directory, the key under `keys/<name>/`,
//! sources with their headers and artifacts whose code hash is the key's runtime's keccak256;
//! two circuits of one proof system share the verifier's directory; a bad name is refused.

mod shared_common;

use alloy_primitives::keccak256;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::evm::shared_verifier::{proof_system_id, write_pair, SharedPairError};

use shared_common::{circuit, COMMAND};

fn bytes_at(json: &serde_json::Value, pointer: &str) -> Vec<u8> {
    hex::decode(json.pointer(pointer).and_then(|v| v.as_str()).unwrap().trim_start_matches("0x")).unwrap()
}

#[test]
fn writes_the_pair_and_refuses_bad_names() {
    let a = circuit(4, 4, 3, PoseidonBackend::FlexGate);
    let b = circuit(5, 8, 5, PoseidonBackend::FlexGate);
    let dir = tempfile::tempdir().unwrap();
    let wa = write_pair(dir.path(), "model-a", &a.pair.rendered, &a.pair.compiled).unwrap();
    let wb = write_pair(dir.path(), "model-b", &b.pair.rendered, &b.pair.compiled).unwrap();
    assert_eq!(proof_system_id(&a.pair.rendered), proof_system_id(&b.pair.rendered));
    assert_eq!(wa.verifier_source, wb.verifier_source, "one verifier per proof system");
    assert_ne!(wa.vk_source, wb.vk_source);

    let source = std::fs::read_to_string(&wa.vk_source).unwrap();
    assert!(source.starts_with("// GENERATED FILE") && source.contains(COMMAND));
    let vk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&wa.vk_artifact).unwrap()).unwrap();
    let runtime = bytes_at(&vk, "/deployedBytecode/object");
    assert_eq!(runtime, a.pair.rendered.vk_code);
    assert_eq!(vk["codeHash"].as_str().unwrap(), format!("{}", keccak256(&runtime)));
    assert_eq!(vk["numInstances"].as_u64().unwrap() as usize, a.proof.instances.len());
    assert_eq!(vk["proofLength"].as_u64().unwrap() as usize, a.proof.proof.len());
    let verifier: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&wa.verifier_artifact).unwrap()).unwrap();
    assert_eq!(bytes_at(&verifier, "/bytecode/object"), a.pair.compiled.verifier.creation);

    for bad in ["", "../escape", ".hidden", "a/b"] {
        let err = write_pair(dir.path(), bad, &a.pair.rendered, &a.pair.compiled).unwrap_err();
        assert!(matches!(err, SharedPairError::InvalidName(_)), "{bad:?}: {err}");
    }
}
