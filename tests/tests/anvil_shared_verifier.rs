//! Direct mode on the shared verifier, on a real anvil: `register_model` deploys the proof
//! system's `Halo2Verifier` through the deterministic deployer (CREATE2), the model's key and a
//! `ZkGuardKeyedVerifier`; a real proof is accepted through the Guard and a flipped proof byte or
//! a changed instance is refused; a second model of the same proof system reuses the verifier
//! (same address, nothing deployed but its key and wrapper); a wrapper refuses a key of another
//! circuit (constructor: hash mismatch; pinned to it: the proof is refused); a chain without the
//! deterministic deployer, other code at the CREATE2 address and a key whose code hash is not the
//! pinned one are typed errors. The demo model (4 and 5 features, B = 4, 1 advice column: one
//! proof system); keys cached under target/zkguard-test-cache. Anvil's dev keys are PUBLIC.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolInterface, SolValue};
use zkguard_contracts::deploy::shared::{ensure_shared_verifier, shared_verifier_address, DETERMINISTIC_DEPLOYER};
use zkguard_contracts::deploy::{deploy_code, deploy_stack, register_model, ContractArtifacts, DeployError, Stack};
use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs, SharedVerifierCode, VerifierCode};
use zkguard_contracts::revert::decode_revert;
use zkguard_contracts::rpc::{Guard, ZkGuardKeyedVerifier};
use zkguard_prover::circuit::instances::INPUT_COMMITMENT_INDEX;
use zkguard_prover::circuit::{AppShape, AppWitness, Visibility};
use zkguard_prover::demo;
use zkguard_prover::evm::calldata::instance_words;
use zkguard_prover::evm::SubmissionContext;
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::deploy::{prepare, DeployableCircuit, DeployableRequest, VerifierKind};
use zkguard_prover::prove::{prove, Transcript};
use zkguard_test_utils::{cache_dir, repo_root, TestCtx};

const BATCH: usize = 4;

/// The demo model with `n_features` at B = 4 on the shared verifier (keys and pair cached).
async fn circuit(n_features: usize) -> DeployableCircuit {
    tokio::task::spawn_blocking(move || {
        prepare(&DeployableRequest {
            model: demo::demo_model(n_features),
            batch_size: BATCH,
            visibility: Visibility::Committed,
            aggregate: None,
            verifier: VerifierKind::Shared,
            max_columns: 1,
            srs: SrsSource::InsecureDev,
            cache_dir: cache_dir(),
            solc: repo_root().join("scripts/solc"),
            generated_dir: None,
            command: "cargo test -p zkguard-e2e --test anvil_shared_verifier".into(),
        })
        .expect("circuit")
    })
    .await
    .unwrap()
}

fn shared_code(c: &DeployableCircuit) -> &SharedVerifierCode {
    c.verifier.shared().unwrap_or_else(|| panic!("expected the shared verifier, got {}", c.verifier.kind()))
}

/// A real EVM-transcript proof of `c` over the demo rows, bound to `ctx`: instances and proof.
async fn proof(c: &DeployableCircuit, ctx: SubmissionContext) -> (Vec<U256>, Vec<u8>) {
    let (model, batch) = (c.model.clone(), c.batch_size);
    tokio::task::spawn_blocking(move || {
        let srs = SrsSource::InsecureDev;
        let config = AppKeys::choose_config(&AppShape::for_model(&model, batch, Visibility::Committed), 1).unwrap();
        let params = load_params(&srs, config.k(), &cache_dir()).unwrap();
        let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir()).unwrap();
        let rows = demo::demo_rows(model.shape().n_features, batch, 0);
        let salt = zkguard_prover::evm::context::u256_to_fr(U256::from(0x5a17u64));
        let witness = AppWitness::new(model, rows, batch, salt, ctx.context()).unwrap();
        let p = prove(&params, &keys, &witness, Transcript::Evm).unwrap();
        (instance_words(&p.instances), p.proof)
    })
    .await
    .unwrap()
}

fn registration_policy() -> PolicyArgs {
    PolicyArgs { action: Action::None, max_age: u32::MAX, min_flagged: 1, score_threshold: None, window: None }
}

async fn stack(ctx: &TestCtx) -> (Stack, ContractArtifacts) {
    let artifacts = ContractArtifacts::new(repo_root().join("contracts/out"));
    let stack = deploy_stack(&ctx.owner, ctx.address(0), &artifacts, 86_400, U256::from(1u64)).await.unwrap();
    (stack, artifacts)
}

/// The revert data of a contract creation, decoded (the creation must revert).
async fn creation_revert(p: &DynProvider, code: Vec<u8>) -> String {
    let err = p.call(TransactionRequest::default().with_deploy_code(Bytes::from(code))).await.unwrap_err();
    let data = err.as_error_resp().and_then(|e| e.as_revert_data()).expect("revert data");
    match ZkGuardKeyedVerifier::ZkGuardKeyedVerifierErrors::abi_decode(&data) {
        Ok(e) => format!("{e:?}"),
        Err(_) => decode_revert(&data),
    }
}

fn reason(err: alloy::contract::Error) -> String {
    match err.as_revert_data() {
        Some(data) => decode_revert(&data),
        None => format!("no revert data: {err}"),
    }
}

async fn code_hash(p: &DynProvider, a: Address) -> FixedBytes<32> {
    alloy::primitives::keccak256(p.get_code_at(a).await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_on_the_shared_verifier_is_verified_through_the_guard_and_a_second_one_reuses_it() {
    let (a, b) = (circuit(4).await, circuit(5).await);
    let (code_a, code_b) = (shared_code(&a), shared_code(&b));
    // one proof system: the same verifier, another key
    assert_eq!(code_a.proof_system_digest, code_b.proof_system_digest);
    assert_eq!(code_a.verifier_creation, code_b.verifier_creation);
    assert_ne!(code_a.key_codehash, code_b.key_codehash);
    assert_eq!(a.identity.app_instances, b.identity.app_instances, "B = 4 for both: the same instance count");

    let ctx = TestCtx::start().unwrap();
    let (stack, artifacts) = stack(&ctx).await;
    let submitter = ctx.address(1);
    let inputs = || InputPolicyArgs::Submitters { submitters: vec![submitter] };
    let reg_a = a.registration(U256::from(1), registration_policy(), inputs()).unwrap();
    let deployed_a = register_model(&ctx.owner, &stack, &artifacts, &reg_a).await.unwrap();
    assert_eq!(deployed_a.verifier_kind, "shared");
    assert_eq!(deployed_a.raw_verifier, shared_verifier_address(code_a));
    assert!(!deployed_a.raw_verifier_reused && deployed_a.verifier_deploy_gas > 0);
    assert_eq!(code_hash(&ctx.owner, deployed_a.raw_verifier).await, code_a.verifier_runtime_hash);
    let key_a = deployed_a.verifying_key.expect("a key contract");
    assert_eq!(code_hash(&ctx.owner, key_a).await, code_a.key_codehash);
    let wrapper_a = ZkGuardKeyedVerifier::new(deployed_a.verifier, &ctx.owner);
    assert_eq!(wrapper_a.sharedVerifier().call().await.unwrap(), deployed_a.raw_verifier);
    assert_eq!(wrapper_a.verifyingKey().call().await.unwrap(), key_a);
    assert_eq!(wrapper_a.verifyingKeyHash().call().await.unwrap(), code_a.key_codehash);
    assert_eq!(wrapper_a.circuitDigest().call().await.unwrap(), a.identity.digest);
    println!(
        "shared verifier {} gas (once), model A: key {} + wrapper {} = {} gas",
        deployed_a.verifier_deploy_gas,
        deployed_a.key_deploy_gas,
        deployed_a.wrapper_deploy_gas,
        deployed_a.model_deploy_gas()
    );
    assert_eq!(deployed_a.model_deploy_gas(), deployed_a.key_deploy_gas + deployed_a.wrapper_deploy_gas);

    // The second model of the proof system: only its key, its wrapper and its registration.
    let nonce_before = ctx.owner.get_transaction_count(ctx.address(0)).await.unwrap();
    let reg_b = b.registration(U256::from(2), registration_policy(), inputs()).unwrap();
    let deployed_b = register_model(&ctx.owner, &stack, &artifacts, &reg_b).await.unwrap();
    let sent = ctx.owner.get_transaction_count(ctx.address(0)).await.unwrap() - nonce_before;
    assert_eq!(sent, 3, "key, wrapper, registerModel: no second verifier");
    assert_eq!(deployed_b.raw_verifier, deployed_a.raw_verifier);
    assert!(deployed_b.raw_verifier_reused);
    assert_eq!(deployed_b.verifier_deploy_gas, 0);
    let key_b = deployed_b.verifying_key.unwrap();
    assert_ne!(key_b, key_a);

    // A real proof of model A, bound to this chain's Guard: refused tampered, accepted as proved.
    let chain_id = ctx.owner.get_chain_id().await.unwrap();
    let block = ctx.owner.get_block_by_number(Default::default()).await.unwrap().unwrap();
    let sctx = SubmissionContext {
        chain_id,
        guard: stack.guard,
        model_id: U256::from(1),
        nonce: 1,
        issued_at: block.header.timestamp,
        subjects: vec![],
    };
    let (instances, proof_a) = proof(&a, sctx.clone()).await;
    let guard = Guard::new(stack.guard, &ctx.stranger);
    let gctx = Guard::SubmissionContext { nonce: sctx.nonce, issuedAt: sctx.issued_at, subjects: vec![] };
    let submit = |instances: Vec<U256>, proof: Vec<u8>| {
        guard.submit(U256::from(1), gctx.clone(), vec![], instances, Bytes::from(proof))
    };
    for position in [0, proof_a.len() / 2, proof_a.len() - 1] {
        let mut flipped = proof_a.clone();
        flipped[position] ^= 1;
        let refused = reason(submit(instances.clone(), flipped).call().await.unwrap_err());
        assert!(refused.starts_with("ProofRejected"), "byte {position} flipped: {refused}");
    }
    let mut changed = instances.clone();
    changed[INPUT_COMMITMENT_INDEX] += U256::from(1);
    let refused = reason(submit(changed, proof_a.clone()).call().await.unwrap_err());
    assert!(refused.starts_with("ProofRejected"), "input commitment + 1: {refused}");
    let receipt = submit(instances.clone(), proof_a.clone()).send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "the valid proof reverted");
    assert!(guard.isNonceUsed(U256::from(1), 1).call().await.unwrap());
    println!("Guard.submit through the keyed wrapper: {} gas", receipt.gas_used);

    // A key of another circuit: the wrapper's constructor refuses it under A's hash...
    let keyed = artifacts.creation_code("ZkGuardKeyedVerifier.sol", "ZkGuardKeyedVerifier").unwrap();
    let args = |key: Address, hash: FixedBytes<32>| {
        let id = &a.identity;
        let mut code = keyed.clone();
        code.extend(
            (
                deployed_a.raw_verifier,
                key,
                hash,
                id.digest,
                U256::from(id.app_instances),
                U256::from(1),
                U256::ZERO,
                U256::from(a.proof_length),
            )
                .abi_encode_params(),
        );
        code
    };
    let refused = creation_revert(&ctx.owner, args(key_b, code_a.key_codehash)).await;
    assert!(refused.starts_with("VerifyingKeyHashMismatch"), "{refused}");
    // ... and, pinned to it with its own hash, A's valid proof is refused.
    let (pinned_b, _) =
        deploy_code(&ctx.owner, args(key_b, code_b.key_codehash), vec![], "keyed wrapper on B's key").await.unwrap();
    let wrong_key = ZkGuardKeyedVerifier::new(pinned_b, &ctx.owner);
    let refused = reason(wrong_key.verify(instances.clone(), Bytes::from(proof_a.clone())).call().await.unwrap_err());
    assert!(refused.starts_with("ProofRejected"), "A's proof with B's key: {refused}");
    // A's wrapper accepts it (a view call: the nonce is the Guard's, not the wrapper's).
    wrapper_a.verify(instances, Bytes::from(proof_a)).call().await.expect("A's wrapper accepts A's proof");
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_refuses_a_chain_without_the_deployer_other_code_and_another_key() {
    let a = circuit(4).await;
    let code = shared_code(&a).clone();
    let ctx = TestCtx::start().unwrap();

    // No deterministic deployer: a typed error naming it.
    let _: () = ctx.owner.raw_request("anvil_setCode".into(), (DETERMINISTIC_DEPLOYER, Bytes::new())).await.unwrap();
    let err = ensure_shared_verifier(&ctx.owner, &code).await.unwrap_err();
    assert!(
        matches!(err, DeployError::NoDeterministicDeployer { address } if address == DETERMINISTIC_DEPLOYER),
        "{err:?}"
    );
    assert!(err.to_string().to_lowercase().contains("0x4e59b44847b379578588920ca78fbf26c0b4956c"), "{err}");

    // Other code at the predicted address: refused, never used.
    let ctx = TestCtx::start().unwrap();
    let predicted = shared_verifier_address(&code);
    let _: () =
        ctx.owner.raw_request("anvil_setCode".into(), (predicted, Bytes::from(vec![0x60, 0x00]))).await.unwrap();
    let err = ensure_shared_verifier(&ctx.owner, &code).await.unwrap_err();
    match &err {
        DeployError::CodeMismatch { what, address, expected, actual } => {
            assert_eq!((*what, *address, *expected), ("shared verifier", predicted, code.verifier_runtime_hash));
            assert_eq!(*actual, Some(alloy::primitives::keccak256([0x60, 0x00])));
        }
        other => panic!("{other:?}"),
    }

    // Idempotent on a fresh chain: deployed once, then found.
    let ctx = TestCtx::start().unwrap();
    let first = ensure_shared_verifier(&ctx.owner, &code).await.unwrap();
    let again = ensure_shared_verifier(&ctx.owner, &code).await.unwrap();
    assert_eq!((first.address, again.address), (predicted, predicted));
    assert!(first.deploy_gas.is_some() && again.deploy_gas.is_none());

    // A key whose code hash is not the one the circuit names: refused before any wrapper.
    let (stack, artifacts) = stack(&ctx).await;
    let mut reg = a.registration(U256::from(1), registration_policy(), InputPolicyArgs::Open).unwrap();
    let VerifierCode::Shared(c) = &mut reg.verifier else { unreachable!() };
    c.key_codehash = FixedBytes::repeat_byte(0xee);
    let err = register_model(&ctx.owner, &stack, &artifacts, &reg).await.unwrap_err();
    assert!(matches!(err, DeployError::CodeMismatch { what: "verifying key", .. }), "{err:?}");
}
