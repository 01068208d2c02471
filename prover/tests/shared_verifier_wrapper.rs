//! The shared verifier behind the lead's `ZkGuardKeyedVerifier` wrapper (forge's artifact in
//! `contracts/out`, built by `forge build` before the cargo tests, as `scripts/test` does), in
//! revm with real app proofs: the wrapper accepts a valid proof through `verify(uint256[],bytes)`
//! (STATICCALL into the shared verifier) and refuses a flipped proof byte, an instance `>= r` and
//! another circuit's proof; its constructor refuses a key whose code hash is not the pinned one.

mod shared_common;

use alloy_primitives::{Address, FixedBytes, B256, U256};
use alloy_sol_types::{sol, SolCall, SolValue};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::evm::context::{fr_to_u256, FIELD_MODULUS};
use zkguard_prover::evm::shared_verifier::LocalEvm;
use zkguard_prover::evm::{CallOutcome, ExecError};

use shared_common::{circuit, root, Circuit};

sol! {
    function verify(uint256[] instances, bytes proof) external view;
}

fn wrapper_creation_code() -> Vec<u8> {
    let path = root().join("contracts/out/ZkGuardKeyedVerifier.sol/ZkGuardKeyedVerifier.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: run `forge build` in the workspace first", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hex_code = json.pointer("/bytecode/object").and_then(|v| v.as_str()).expect("bytecode.object");
    hex::decode(hex_code.trim_start_matches("0x")).unwrap()
}

fn deploy_wrapper(
    evm: &mut LocalEvm,
    verifier: Address,
    vk: Address,
    vk_hash: B256,
    c: &Circuit,
) -> Result<(Address, u64), ExecError> {
    let digest: FixedBytes<32> = FixedBytes::from_slice(&hex::decode(&c.keys.digest).unwrap());
    let args = (
        verifier,
        vk,
        vk_hash,
        digest,
        U256::from(c.proof.instances.len()),
        U256::from(1u64),
        U256::ZERO,
        U256::from(c.pair.rendered.proof_len),
    )
        .abi_encode_params();
    let mut code = wrapper_creation_code();
    code.extend_from_slice(&args);
    let deployed = evm.deploy(&code)?;
    Ok((deployed.address, deployed.gas_used))
}

fn verify_call(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    verifyCall { instances: instances.iter().map(fr_to_u256).collect(), proof: proof.to_vec().into() }.abi_encode()
}

#[test]
fn keyed_wrapper_over_the_shared_verifier() {
    let a = circuit(4, 4, 3, PoseidonBackend::FlexGate);
    let b = circuit(5, 8, 5, PoseidonBackend::FlexGate);
    let mut evm = LocalEvm::new();
    let verifier = evm.deploy(&a.pair.compiled.verifier.creation).unwrap();
    let vk_a = evm.deploy(&a.pair.compiled.vk.creation).unwrap();
    let vk_b = evm.deploy(&b.pair.compiled.vk.creation).unwrap();

    // A key whose code hash is not the pinned one: the constructor refuses it.
    let unpinned = deploy_wrapper(&mut evm, verifier.address, vk_a.address, b.pair.compiled.vk_codehash, &a);
    assert!(matches!(unpinned, Err(ExecError::DeployReverted { .. })), "{unpinned:?}");

    let (wrapper_a, wrapper_gas) =
        deploy_wrapper(&mut evm, verifier.address, vk_a.address, a.pair.compiled.vk_codehash, &a).unwrap();
    let (wrapper_b, _) =
        deploy_wrapper(&mut evm, verifier.address, vk_b.address, b.pair.compiled.vk_codehash, &b).unwrap();

    let (instances, proof) = (&a.proof.instances, &a.proof.proof);
    let valid = evm.call(wrapper_a, &verify_call(instances, proof)).unwrap();
    assert!(valid.is_success(), "{valid:?}");
    let valid_b = evm.call(wrapper_b, &verify_call(&b.proof.instances, &b.proof.proof)).unwrap();
    assert!(valid_b.is_success(), "{valid_b:?}");

    let mut flipped = proof.clone();
    flipped[proof.len() / 2] ^= 1;
    let mut refused = vec![
        ("flipped proof byte", evm.call(wrapper_a, &verify_call(instances, &flipped)).unwrap()),
        (
            "circuit B's proof through A's wrapper",
            evm.call(wrapper_a, &verify_call(&b.proof.instances, &b.proof.proof)).unwrap(),
        ),
        ("circuit A's proof through B's wrapper", evm.call(wrapper_b, &verify_call(instances, proof)).unwrap()),
    ];
    // instance 0 + r, encoded by hand (an Fr cannot hold it).
    let mut call = verify_call(instances, proof);
    let first = 4 + 32 * 3; // selector, two offsets, the array's length
    let value = U256::from_be_slice(&call[first..first + 32]) + FIELD_MODULUS;
    call[first..first + 32].copy_from_slice(&value.to_be_bytes::<32>());
    refused.push(("instance 0 + r", evm.call(wrapper_a, &call).unwrap()));
    for (name, outcome) in &refused {
        assert!(matches!(outcome, CallOutcome::Reverted { .. }), "{name}: {outcome:?}");
    }
    eprintln!(
        "through ZkGuardKeyedVerifier: verify tx gas {} ({} instances); circuit B: {}; deploy gas: wrapper {}, key {}",
        valid.gas_used(),
        instances.len(),
        valid_b.gas_used(),
        wrapper_gas,
        vk_a.gas_used
    );
}
