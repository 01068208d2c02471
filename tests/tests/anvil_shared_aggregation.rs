//! Batch mode on the shared verifier, on a real anvil, with the COMMITTED real aggregation proof
//! (`contracts/fixtures/batch.json`: 2 proofs of the demo circuit, B = 4, aggregated at k = 21).
//! `prepare` makes the aggregation circuits' shared verifier and the aggregation's key (from the
//! aggregation keys of the fixture's shape: `aggregate_batch` and `shared_verifier_aggregation`
//! use the same ones, so one keygen serves all three; no aggregation proof is made here);
//! `register_model` deploys the verifier through the deterministic deployer (CREATE2), the key and a
//! `ZkGuardKeyedVerifier` with proofCount 2 and 12 accumulator limbs. The fixture's context names
//! chain 31337 and a Guard at 0x…a1, so the deployed Guard's code is placed there (`anvil_setCode`;
//! its immutables come along) and a circuit breaker and vault are deployed for it. Through the
//! Guard: a flipped proof byte and a changed instance (an accumulator limb, an app instance) are
//! refused, the valid proof trips the breaker and pauses the vault (its gas per decision printed,
//! anvil's default hardfork). An app circuit's key on the aggregation verifier and the aggregation
//! key on the app circuits' verifier are refused; a second model of the same aggregation reuses the
//! verifier (same address, only its key and wrapper deployed). Anvil's dev keys are PUBLIC.

use std::path::Path;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::{SolEvent, SolValue};
use zkguard_contracts::deploy::shared::{ensure_shared_verifier, shared_verifier_address};
use zkguard_contracts::deploy::{deploy_code, deploy_stack, register_model, ContractArtifacts, Stack};
use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs, SharedVerifierCode};
use zkguard_contracts::revert::decode_revert;
use zkguard_contracts::rpc::{CircuitBreaker, Guard, ProtectedVault, ZkGuardKeyedVerifier};
use zkguard_prover::circuit::instances::{ACCUMULATOR_LIMBS, INPUT_COMMITMENT_INDEX};
use zkguard_prover::circuit::Visibility;
use zkguard_prover::demo;
use zkguard_prover::keys::SrsSource;
use zkguard_prover::pipeline::deploy::{prepare, DeployableCircuit, DeployableRequest, VerifierKind};
use zkguard_prover::pipeline::fixture::Fixture;
use zkguard_test_utils::{cache_dir, repo_root, TestCtx};

const COMMAND: &str = "cargo test -p zkguard-e2e --test anvil_shared_aggregation";
const FIXTURE_COMMAND: &str = "cargo test -p zkguard-prover --test aggregate_batch -- --ignored write_batch_fixture";

fn fixture() -> Fixture {
    Fixture::read(&repo_root().join(Path::new("contracts/fixtures/batch.json"))).expect("committed batch fixture")
}

/// The demo model at the fixture's B on the shared verifier: batch mode with `aggregate`
/// (`Some(N)`), or direct mode (`None`; keys and pairs cached).
async fn circuit(batch_size: usize, aggregate: Option<usize>) -> DeployableCircuit {
    tokio::task::spawn_blocking(move || {
        prepare(&DeployableRequest {
            model: demo::demo_model(4),
            batch_size,
            visibility: Visibility::Committed,
            aggregate,
            verifier: VerifierKind::Shared,
            max_columns: 1,
            srs: SrsSource::InsecureDev,
            cache_dir: cache_dir(),
            solc: repo_root().join("scripts/solc"),
            generated_dir: None,
            command: COMMAND.into(),
        })
        .expect("circuit")
    })
    .await
    .unwrap()
}

fn shared_code(c: &DeployableCircuit) -> &SharedVerifierCode {
    c.verifier.shared().unwrap_or_else(|| panic!("expected the shared verifier, got {}", c.verifier.kind()))
}

fn reason(err: alloy::contract::Error) -> String {
    match err.as_revert_data() {
        Some(data) => decode_revert(&data),
        None => format!("no revert data: {err}"),
    }
}

fn policy(action: Action) -> PolicyArgs {
    PolicyArgs { action, max_age: u32::MAX, min_flagged: 1, score_threshold: None, window: None }
}

/// The stack with the Guard's code at `guard` (where the fixture's context names it) and a breaker
/// and vault that answer to that Guard.
async fn stack_at(ctx: &TestCtx, artifacts: &ContractArtifacts, guard: Address) -> Stack {
    let owner = ctx.address(0);
    let stack = deploy_stack(&ctx.owner, owner, artifacts, 86_400, U256::from(1u64)).await.unwrap();
    let code = ctx.owner.get_code_at(stack.guard).await.unwrap();
    let _: () = ctx.owner.raw_request("anvil_setCode".into(), (guard, code)).await.unwrap();
    let creation = |file: &str, name: &str| artifacts.creation_code(file, name).unwrap();
    let breaker_args = (guard, owner).abi_encode_params();
    let (breaker, _) =
        deploy_code(&ctx.owner, creation("CircuitBreaker.sol", "CircuitBreaker"), breaker_args, "breaker")
            .await
            .unwrap();
    let vault_args = (owner, breaker).abi_encode_params();
    let (vault, _) =
        deploy_code(&ctx.owner, creation("ProtectedVault.sol", "ProtectedVault"), vault_args, "vault").await.unwrap();
    Stack { guard, breaker, vault, ..stack }
}

/// A `ZkGuardKeyedVerifier` of the aggregation circuit's identity on `verifier` with `key`.
async fn keyed_wrapper(
    p: &DynProvider,
    artifacts: &ContractArtifacts,
    c: &DeployableCircuit,
    verifier: Address,
    key: Address,
) -> Address {
    let id = &c.identity;
    let hash = alloy::primitives::keccak256(p.get_code_at(key).await.unwrap());
    let args = (
        verifier,
        key,
        hash,
        id.digest,
        U256::from(id.app_instances),
        U256::from(id.proof_count),
        U256::from(id.accumulator_limbs),
        U256::from(c.proof_length),
    )
        .abi_encode_params();
    let code = artifacts.creation_code("ZkGuardKeyedVerifier.sol", "ZkGuardKeyedVerifier").unwrap();
    deploy_code(p, code, args, "keyed wrapper").await.unwrap().0
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aggregated_proof_on_the_shared_verifier_trips_the_breaker_and_the_verifier_is_reused() {
    let f = fixture();
    let proofs = f.proof_count;
    let agg = circuit(f.batch_size, Some(proofs)).await;
    let app = circuit(f.batch_size, None).await;
    // The circuit `prepare` makes is the fixture's: same app circuit, same aggregation.
    assert_eq!(format!("0x{}", agg.app_digest), f.app_circuit_digest, "the app circuit changed: run {FIXTURE_COMMAND}");
    assert_eq!(agg.identity.digest.to_string(), f.circuit_digest, "the aggregation changed: run {FIXTURE_COMMAND}");
    assert_eq!(f.aggregation_k, Some(21));
    assert_eq!((agg.identity.proof_count, agg.identity.accumulator_limbs), (proofs, ACCUMULATOR_LIMBS));
    assert_eq!(agg.identity.accumulator_limbs, f.accumulator_limbs);
    let instances: Vec<U256> = f.instances.iter().map(|h| h.parse().unwrap()).collect();
    let proof = f.proof_bytes().expect("proof bytes");
    assert_eq!(instances.len(), ACCUMULATOR_LIMBS + proofs * agg.identity.app_instances);
    assert_eq!(agg.proof_length, proof.len());
    let (agg_code, app_code) = (shared_code(&agg), shared_code(&app));
    assert_ne!(agg_code.proof_system_digest, app_code.proof_system_digest, "another proof system");

    let ctx = TestCtx::start().unwrap();
    let artifacts = ContractArtifacts::new(repo_root().join("contracts/out"));
    assert_eq!((f.chain_id, ctx.owner.get_chain_id().await.unwrap()), (31337, 31337));
    let stack = stack_at(&ctx, &artifacts, f.guard).await;
    let submitter = ctx.address(1);
    let inputs = || InputPolicyArgs::Submitters { submitters: vec![submitter] };
    let model_id = U256::from(f.model_id);
    let reg = agg.registration(model_id, policy(Action::Breaker), inputs()).unwrap();
    let deployed = register_model(&ctx.owner, &stack, &artifacts, &reg).await.unwrap();
    assert_eq!(deployed.verifier_kind, "shared");
    assert_eq!(deployed.raw_verifier, shared_verifier_address(agg_code));
    assert!(!deployed.raw_verifier_reused && deployed.verifier_deploy_gas > 0);
    let key = deployed.verifying_key.expect("a key contract");
    let wrapper = ZkGuardKeyedVerifier::new(deployed.verifier, &ctx.owner);
    assert_eq!(wrapper.sharedVerifier().call().await.unwrap(), deployed.raw_verifier);
    assert_eq!(wrapper.verifyingKey().call().await.unwrap(), key);
    assert_eq!(wrapper.circuitDigest().call().await.unwrap(), agg.identity.digest);
    assert_eq!(wrapper.proofCount().call().await.unwrap(), U256::from(proofs));
    assert_eq!(wrapper.accumulatorLimbs().call().await.unwrap(), U256::from(ACCUMULATOR_LIMBS));
    println!(
        "shared aggregation verifier: {} gas (once per proof system); this model: key {} + wrapper {} = {} gas",
        deployed.verifier_deploy_gas,
        deployed.key_deploy_gas,
        deployed.wrapper_deploy_gas,
        deployed.model_deploy_gas()
    );

    // Through the Guard at the fixture's address: tampered proofs and instances refused.
    let guard = Guard::new(f.guard, &ctx.stranger);
    let gctx = Guard::SubmissionContext { nonce: f.nonce, issuedAt: f.issued_at, subjects: f.subjects.clone() };
    let submit =
        |instances: Vec<U256>, proof: Vec<u8>| guard.submit(model_id, gctx.clone(), vec![], instances, proof.into());
    for position in [0, proof.len() / 2, proof.len() - 1] {
        let mut flipped = proof.clone();
        flipped[position] ^= 1;
        let refused = reason(submit(instances.clone(), flipped).call().await.unwrap_err());
        assert!(refused.starts_with("ProofRejected"), "byte {position} flipped: {refused}");
    }
    let app_n = agg.identity.app_instances;
    for index in [0, ACCUMULATOR_LIMBS - 1, ACCUMULATOR_LIMBS + app_n + INPUT_COMMITMENT_INDEX] {
        let mut changed = instances.clone();
        changed[index] += U256::from(1);
        let refused = reason(submit(changed, proof.clone()).call().await.unwrap_err());
        assert!(refused.starts_with("ProofRejected"), "instance {index} + 1: {refused}");
    }
    let vault = ProtectedVault::new(stack.vault, &ctx.owner);
    assert!(!vault.paused().call().await.unwrap());

    // The valid proof: verified, the breaker trips, the vault is paused.
    let receipt = submit(instances.clone(), proof.clone()).send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "the valid aggregated proof reverted");
    assert!(guard.isNonceUsed(model_id, f.nonce).call().await.unwrap());
    let tripped = receipt
        .inner
        .logs()
        .iter()
        .filter(|l| l.address() == stack.breaker)
        .filter_map(|l| CircuitBreaker::Tripped::decode_log_data(l.data()).ok())
        .collect::<Vec<_>>();
    assert_eq!(tripped.len(), 1, "one Tripped event");
    assert_eq!(tripped[0].flaggedCount, U256::from(f.flagged_count));
    assert!(vault.paused().call().await.unwrap(), "the breaker paused the vault");
    let decisions = f.sample_count as u64;
    let node: serde_json::Value = ctx.owner.raw_request("anvil_nodeInfo".into(), ()).await.unwrap();
    let verify_gas = wrapper.verify(instances.clone(), Bytes::from(proof.clone())).estimate_gas().await.unwrap();
    println!(
        "Guard.submit of the aggregated proof on the shared verifier (anvil, hardfork {}; breaker trips): {} gas, \
         {} gas per decision ({decisions} decisions; {} per decision at the circuit's capacity of {}); the wrapper's \
         verify alone: {verify_gas} gas (estimate)",
        node["hardFork"],
        receipt.gas_used,
        receipt.gas_used / decisions,
        receipt.gas_used / (proofs * f.batch_size) as u64,
        proofs * f.batch_size
    );

    // An app circuit's key on the aggregation verifier, and the aggregation key on the app
    // circuits' verifier: both wrappers hold keys with the right code hash, both refuse the proof.
    let app_verifier = ensure_shared_verifier(&ctx.owner, app_code).await.unwrap().address;
    let (app_key, _) = deploy_code(&ctx.owner, app_code.key_creation.clone(), vec![], "app key").await.unwrap();
    for (what, verifier, key) in [
        ("an app circuit's key on the aggregation verifier", deployed.raw_verifier, app_key),
        ("the aggregation key on the app circuits' verifier", app_verifier, key),
    ] {
        let pinned =
            ZkGuardKeyedVerifier::new(keyed_wrapper(&ctx.owner, &artifacts, &agg, verifier, key).await, &ctx.owner);
        let refused = reason(pinned.verify(instances.clone(), Bytes::from(proof.clone())).call().await.unwrap_err());
        assert!(refused.starts_with("ProofRejected"), "{what}: {refused}");
    }
    // The model's own wrapper accepts it (a view call).
    wrapper.verify(instances.clone(), Bytes::from(proof.clone())).call().await.expect("the wrapper accepts the proof");

    // A second model of the aggregation: only its key, its wrapper and its registration.
    let nonce_before = ctx.owner.get_transaction_count(ctx.address(0)).await.unwrap();
    let second = agg.registration(U256::from(f.model_id + 1), policy(Action::None), inputs()).unwrap();
    let again = register_model(&ctx.owner, &stack, &artifacts, &second).await.unwrap();
    let sent = ctx.owner.get_transaction_count(ctx.address(0)).await.unwrap() - nonce_before;
    assert_eq!(sent, 3, "key, wrapper, registerModel: no second verifier");
    assert_eq!(again.raw_verifier, deployed.raw_verifier);
    assert!(again.raw_verifier_reused && again.verifier_deploy_gas == 0);
    assert_ne!(again.verifying_key, deployed.verifying_key);
    assert_eq!(again.model_deploy_gas(), again.key_deploy_gas + again.wrapper_deploy_gas);
    println!("second model on the shared aggregation verifier: {} gas (key + wrapper)", again.model_deploy_gas());
}
