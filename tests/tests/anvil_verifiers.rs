//! Generated verifiers on a real anvil, in both modes: the committed direct and batch fixtures
//! (made by the prover's pipelines; `prover/tests/{evm_direct,aggregate_batch}.rs` check they
//! match the current circuits) are deployed with the hand-written `ZkGuardVerifier` wrapper, a
//! valid proof verifies in a real transaction, and a flipped proof byte, a changed instance, a
//! truncated or padded proof and another circuit's proof are rejected.

use std::path::Path;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;
use zkguard_contracts::rpc::ZkGuardVerifier as IWrapper;
use zkguard_prover::pipeline::fixture::Fixture;
use zkguard_test_utils::{repo_root, TestCtx};

struct Deployed {
    raw: Address,
    wrapper: Address,
    instances: Vec<U256>,
    proof: Vec<u8>,
}

fn fixture(name: &str) -> Fixture {
    Fixture::read(&repo_root().join(Path::new("contracts/fixtures")).join(name)).expect("committed fixture")
}

fn words(f: &Fixture) -> Vec<U256> {
    f.instances.iter().map(|h| h.parse::<U256>().expect("hex instance")).collect()
}

async fn deploy(ctx: &TestCtx, f: &Fixture) -> anyhow::Result<Deployed> {
    let code = f.verifier_code().expect("verifier bytecode");
    let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
    let receipt = ctx.owner.send_transaction(tx).await?.get_receipt().await?;
    anyhow::ensure!(receipt.status(), "verifier deployment reverted");
    let raw = receipt.contract_address.expect("created");
    let instances = words(f);
    let app_count = (instances.len() - f.accumulator_limbs) / f.proof_count;
    let digest: FixedBytes<32> = f.circuit_digest.parse()?;
    let proof = f.proof_bytes().expect("proof bytes");
    let args = (
        raw,
        digest,
        U256::from(app_count),
        U256::from(f.proof_count),
        U256::from(f.accumulator_limbs),
        U256::from(proof.len()),
    )
        .abi_encode_params();
    let wrapper = ctx.deploy("ZkGuardVerifier.sol", "ZkGuardVerifier", args).await?;
    Ok(Deployed { raw, wrapper, instances, proof })
}

/// Calls the raw generated verifier with `instances ‖ proof`; true if it accepted.
async fn raw_accepts(ctx: &TestCtx, verifier: Address, instances: &[U256], proof: &[u8]) -> bool {
    let mut data: Vec<u8> = instances.iter().flat_map(|w| w.to_be_bytes::<32>()).collect();
    data.extend_from_slice(proof);
    let tx = TransactionRequest::default().with_to(verifier).with_input(Bytes::from(data));
    ctx.owner.call(tx).await.is_ok()
}

async fn check_mode(ctx: &TestCtx, name: &str, other: &Fixture) -> anyhow::Result<u64> {
    let f = fixture(name);
    let d = deploy(ctx, &f).await?;
    let wrapper = IWrapper::new(d.wrapper, &ctx.owner);
    assert_eq!(wrapper.circuitDigest().call().await?, f.circuit_digest.parse::<FixedBytes<32>>()?);

    // A valid proof verifies, as a call and in a mined transaction.
    wrapper.verify(d.instances.clone(), d.proof.clone().into()).call().await?;
    let receipt = wrapper.verify(d.instances.clone(), d.proof.clone().into()).send().await?.get_receipt().await?;
    assert!(receipt.status(), "{name}: valid proof reverted in a transaction");
    assert!(raw_accepts(ctx, d.raw, &d.instances, &d.proof).await, "{name}: raw verifier refused the valid proof");

    let rejected = |what: &str, err: alloy::contract::Error| {
        assert!(err.as_decoded_error::<IWrapper::ProofRejected>().is_some(), "{name}: {what}: unexpected error {err}");
    };
    // One flipped proof byte (start, middle, end).
    for at in [0, d.proof.len() / 2, d.proof.len() - 1] {
        let mut proof = d.proof.clone();
        proof[at] ^= 1;
        rejected("flipped byte", wrapper.verify(d.instances.clone(), proof.into()).call().await.unwrap_err());
    }
    // One changed public instance (first app field, last instance).
    for index in [f.accumulator_limbs, d.instances.len() - 1] {
        let mut instances = d.instances.clone();
        instances[index] += U256::from(1);
        rejected("changed instance", wrapper.verify(instances, d.proof.clone().into()).call().await.unwrap_err());
    }
    // Truncated or padded proof: refused by the wrapper before the verifier runs (the raw
    // verifier ignores trailing bytes: it accepts the padded one).
    let wrong_length = |what: &str, err: alloy::contract::Error| {
        let e = err.as_decoded_error::<IWrapper::ProofLengthMismatch>();
        assert!(e.is_some_and(|e| e.expected == U256::from(d.proof.len())), "{name}: {what}: unexpected error {err}");
    };
    let short = d.proof[..d.proof.len() - 32].to_vec();
    wrong_length("truncated proof", wrapper.verify(d.instances.clone(), short.into()).call().await.unwrap_err());
    let mut padded = d.proof.clone();
    padded.extend_from_slice(&[0u8; 40]);
    assert!(raw_accepts(ctx, d.raw, &d.instances, &padded).await, "{name}: the raw verifier ignores trailing bytes");
    wrong_length("padded proof", wrapper.verify(d.instances.clone(), padded.into()).call().await.unwrap_err());
    // Another circuit's proof: refused by the wrapper (instance count) and by the raw verifier.
    let err = wrapper.verify(words(other), other.proof_bytes().unwrap().into()).call().await.unwrap_err();
    assert!(err.as_decoded_error::<IWrapper::InstanceCountMismatch>().is_some(), "{name}: {err}");
    assert!(
        !raw_accepts(ctx, d.raw, &words(other), &other.proof_bytes().unwrap()).await,
        "{name}: other circuit's proof"
    );
    Ok(receipt.gas_used)
}

#[tokio::test]
async fn generated_verifiers_on_anvil_in_both_modes() -> anyhow::Result<()> {
    let ctx = TestCtx::start()?;
    let (direct, batch) = (fixture("direct.json"), fixture("batch.json"));
    let direct_gas = check_mode(&ctx, "direct.json", &batch).await?;
    let batch_gas = check_mode(&ctx, "batch.json", &direct).await?;
    println!("wrapper.verify tx gas on anvil (default hardfork): direct {direct_gas}, batch {batch_gas}");
    Ok(())
}

/// The full batch-mode path in one test: prove N = 2 app proofs, aggregate, generate and compile
/// the verifier, deploy it on anvil behind the wrapper, verify; and reject a tampered proof.
/// Keys are cached in `target/zkguard-test-cache` (shared with the prover's tests).
#[tokio::test]
async fn fresh_batch_proof_verifies_on_anvil() -> anyhow::Result<()> {
    use zkguard_prover::pipeline::batch;
    let request = zkguard_prover::demo::demo_request(
        2,
        None,
        repo_root().join("target/zkguard-test-cache"),
        repo_root().join("scripts/solc"),
        "cargo test -p zkguard-e2e --test anvil_verifiers",
    );
    let run = tokio::task::spawn_blocking(move || batch::run(&request)).await??;
    let ctx = TestCtx::start()?;
    let d = deploy(&ctx, &run.fixture).await?;
    let wrapper = IWrapper::new(d.wrapper, &ctx.owner);
    let receipt = wrapper.verify(d.instances.clone(), d.proof.clone().into()).send().await?.get_receipt().await?;
    assert!(receipt.status(), "fresh aggregated proof reverted on anvil");
    let mut proof = d.proof.clone();
    proof[100] ^= 1;
    let err = wrapper.verify(d.instances.clone(), proof.into()).call().await.unwrap_err();
    assert!(err.as_decoded_error::<IWrapper::ProofRejected>().is_some(), "{err}");
    let mut instances = d.instances.clone();
    instances[12] += U256::from(1);
    let err = wrapper.verify(instances, d.proof.clone().into()).call().await.unwrap_err();
    assert!(err.as_decoded_error::<IWrapper::ProofRejected>().is_some(), "{err}");
    println!("fresh batch (N = 2) verify tx gas on anvil: {}", receipt.gas_used);
    Ok(())
}
