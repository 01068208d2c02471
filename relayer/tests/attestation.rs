//! Input provenance through the relayer, on a real anvil with real proofs (direct mode, B = 4):
//!
//! - `attestation = "client"`: a request signed by the registered data provider is proved and
//!   confirmed; one signed by anyone else is refused at intake (422, the signer named) and leaves
//!   the store unchanged; a model holder's valid proof of invented rows sent straight to the Guard
//!   reverts with `UnattestedInputs`.
//! - `attestation = "relayer"`: the relayer signs with its attester key; killed right after the
//!   attestation is stored and before any transaction, it resubmits the very same signature after
//!   a restart (nothing signed twice, nothing lost).
//! - start-up refuses a configuration that cannot satisfy the registered input policy.
//!
//! Anvil's dev keys are PUBLIC: local chain only.

mod support;

use std::time::Duration;

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use support::chain::{flagged_and_clean, Deployment, MODEL_ID};
use support::relayer::{Relayer, Setup};
use zkguard_contracts::attestation::{Attestation, InputAttestation};
use zkguard_contracts::registration::InputPolicyArgs;
use zkguard_contracts::rpc::Guard;
use zkguard_prover::artifact::fr_to_hex;
use zkguard_prover::circuit::AppWitness;
use zkguard_prover::evm::context::{fr_to_u256, SubmissionContext};
use zkguard_prover::prove::{prove, Transcript};
use zkguard_relayer::client::ClientError;
use zkguard_relayer::intake::proofs::MIN_CLIENT_NONCE;
use zkguard_relayer::intake::SubmitRequest;
use zkguard_relayer::store::{JobStore, SqliteStore};

const CHAIN_ID: u64 = 31337;
const FINAL: Duration = Duration::from_secs(300);

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A client-attested request of `rows`, signed by `signer`.
fn attested_request(
    d: &Deployment,
    signer: &PrivateKeySigner,
    id: &str,
    nonce: u64,
    rows: Vec<Vec<f64>>,
) -> SubmitRequest {
    let salt = Fr::from(0x5a17u64);
    let commitments =
        zkguard_prover::inputs::submission_input_commitments(&d.circuit.model, &rows, d.circuit.batch_size, 1, salt)
            .unwrap();
    let issued_at = now_s() - 15;
    let message = InputAttestation::new(
        U256::from(MODEL_ID),
        nonce,
        issued_at,
        vec![],
        commitments.iter().map(fr_to_u256).collect(),
    );
    let attestation = Attestation::sign(signer, message.digest(CHAIN_ID, d.guard)).unwrap();
    SubmitRequest {
        request_id: id.into(),
        model_id: MODEL_ID.to_string(),
        rows,
        salt: Some(fr_to_hex(&salt)),
        nonce: Some(nonce),
        issued_at: Some(issued_at),
        attestations: vec![attestation],
        ..SubmitRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_attested_requests_pass_and_forged_inputs_are_refused() {
    // The data provider is anvil account 3, the model's only attester.
    let provider_key: PrivateKeySigner =
        "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6".parse().unwrap(); // anvil #3, PUBLIC
    let provider_address = provider_key.address();
    let d = Deployment::start_with_inputs(4, None, move |_| InputPolicyArgs::Attested {
        threshold: 1,
        attesters: vec![provider_address],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.attestation = Some("client".into());
    let relayer = Relayer::start(&setup, &d, None).await;
    let (flagged, clean) = flagged_and_clean(&d.circuit.model);

    // A stranger's signature: 422 naming the signer, nothing stored, nothing proved.
    let stranger = PrivateKeySigner::random();
    let forged = attested_request(&d, &stranger, "forged", MIN_CLIENT_NONCE + 1, vec![flagged.clone(); 4]);
    match relayer.client.submit(&forged).await {
        Err(ClientError::Refused { status, body }) => {
            assert_eq!(status, 422, "{body}");
            assert!(body.contains("invalid_attestation") || body.contains(&stranger.address().to_string()), "{body}");
            assert!(body.contains(&stranger.address().to_string()), "the signer is named: {body}");
        }
        other => panic!("a forged attestation was not refused: {other:?}"),
    }
    assert!(relayer.client.job("forged").await.is_err(), "the refused request was stored");
    // Without any attestation: refused too.
    let mut bare = forged.clone();
    bare.request_id = "bare".into();
    bare.attestations.clear();
    assert!(matches!(relayer.client.submit(&bare).await, Err(ClientError::Refused { status: 422, .. })));

    // The provider's signature: proved alone with its nonce, confirmed, the Guard acted.
    let good = attested_request(&d, &provider_key, "attested", MIN_CLIENT_NONCE + 2, vec![clean, flagged.clone()]);
    relayer.client.submit(&good).await.unwrap();
    let job = relayer.client.wait_final("attested", FINAL).await.unwrap();
    assert_eq!(job.state, "confirmed", "{job:?}");
    assert_eq!(job.nonce, Some(MIN_CLIENT_NONCE + 2), "bound to the nonce the provider signed");
    assert!(d.vault_paused().await, "the attested flagged sample tripped the breaker");
    assert_eq!(d.verified().await.len(), 1);

    // A model holder proves invented rows (a valid proof) and calls the Guard directly.
    let (keys, params) = d.app_keys();
    let ctx = SubmissionContext {
        chain_id: CHAIN_ID,
        guard: d.guard,
        model_id: U256::from(MODEL_ID),
        nonce: 99,
        issued_at: now_s() - 15,
        subjects: vec![],
    };
    let quantized = (0..4).map(|_| d.circuit.model.quantize_input(&flagged).unwrap()).collect();
    let witness = AppWitness::new(d.circuit.model.clone(), quantized, 4, Fr::from(1u64), ctx.context()).unwrap();
    let proof = prove(&params, &keys, &witness, Transcript::Evm).unwrap();
    let holder: PrivateKeySigner = d.anvil.keys()[4].clone().into();
    let holder = ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(holder))
        .connect_http(d.anvil.endpoint_url());
    let call = Guard::submitCall {
        modelId: U256::from(MODEL_ID),
        ctx: Guard::SubmissionContext { nonce: ctx.nonce, issuedAt: ctx.issued_at, subjects: vec![] },
        attestations: vec![],
        instances: proof.instances.iter().map(fr_to_u256).collect(),
        proof: Bytes::from(proof.proof.clone()),
    };
    let tx = alloy::rpc::types::TransactionRequest::default().to(d.guard).input(call.abi_encode().into());
    let err = holder.call(tx).await.unwrap_err();
    let data = err.as_error_resp().and_then(|e| e.as_revert_data()).expect("a revert with data");
    let reason = zkguard_contracts::revert::decode_revert(&data);
    assert!(reason.starts_with("UnattestedInputs(modelId: 1, got: 0, needed: 1)"), "{reason}");
    assert_eq!(d.verified().await.len(), 1, "nothing more was verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayer_attester_crash_after_attesting_resubmits_the_same_signature() {
    // anvil account 2's PUBLIC dev key: the relayer's attester (distinct from its signer, #1)
    let attester: PrivateKeySigner =
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a".parse().unwrap();
    let attester_address = attester.address();
    let d = Deployment::start_with_inputs(4, None, move |_| InputPolicyArgs::Attested {
        threshold: 1,
        attesters: vec![attester_address],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.attestation = Some("relayer".into());
    setup.env = vec![(
        "ZKGUARD_ATTESTER_KEY".into(),
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a".into(),
    )];
    let mut relayer = Relayer::start(&setup, &d, Some(zkguard_relayer::crash::AFTER_ATTESTING)).await;
    let (flagged, _) = flagged_and_clean(&d.circuit.model);
    relayer
        .client
        .submit(&SubmitRequest {
            request_id: "r1".into(),
            model_id: MODEL_ID.to_string(),
            rows: vec![flagged],
            ..SubmitRequest::default()
        })
        .await
        .unwrap();
    let status = relayer.wait_exit(Duration::from_secs(180)).await;
    assert!(!status.success(), "the crash point aborts the process: {status}");
    let stored = {
        let store = SqliteStore::open(&setup.database()).unwrap();
        let batch = store.job("r1").unwrap().unwrap().batch.expect("batched");
        assert!(store.attempts(batch.id).unwrap().is_empty(), "no transaction before the crash");
        store.batch_attestations(batch.id).unwrap().expect("the attestation was stored before the crash")
    };
    assert_eq!(stored.attestations.len(), 1);
    assert_eq!(stored.attestations[0].signer, attester_address);
    assert!(d.verified().await.is_empty());
    drop(relayer);

    let relayer = Relayer::start(&setup, &d, None).await;
    let job = relayer.client.wait_final("r1", FINAL).await.unwrap();
    assert_eq!(job.state, "confirmed", "{job:?}");
    assert_eq!(d.verified().await.len(), 1, "verified exactly once");
    // The confirmed transaction carried exactly the stored signature.
    let hash: alloy::primitives::B256 = job.tx_hash.expect("tx").parse().unwrap();
    let tx = d.owner.get_transaction_by_hash(hash).await.unwrap().expect("mined");
    let input = alloy::consensus::Transaction::input(tx.inner.inner());
    let call = Guard::submitCall::abi_decode(input).unwrap();
    assert_eq!(call.attestations.len(), 1);
    assert_eq!(call.attestations[0].signer, stored.attestations[0].signer);
    assert_eq!(call.attestations[0].signature, stored.attestations[0].signature, "the same signature, not a new one");
    assert!(d.vault_paused().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_refuses_a_relayer_that_cannot_satisfy_the_input_policy() {
    let provider_address: Address = "0x90F79bf6EB2c4f870365E785982E1f101E93b906".parse().unwrap(); // anvil #3
    let d = Deployment::start_with_inputs(4, None, move |_| InputPolicyArgs::Attested {
        threshold: 1,
        attesters: vec![provider_address],
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    // No attestation source for an Attested model.
    let setup = Setup::new(dir.path(), &d);
    let (status, log) = Relayer::run_to_exit(&setup, &d);
    assert!(!status.success());
    assert!(log.contains("requires 1 attester signature(s)"), "{log}");
    // Its own attester key, but not a registered attester (anvil #2, PUBLIC).
    let mut setup = Setup::new(dir.path(), &d);
    setup.attestation = Some("relayer".into());
    setup.env = vec![(
        "ZKGUARD_ATTESTER_KEY".into(),
        "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a".into(),
    )];
    let (status, log) = Relayer::run_to_exit(&setup, &d);
    assert!(!status.success());
    assert!(log.contains("is not a registered attester"), "{log}");
    // The attester key is the transaction signer's.
    setup.env = vec![("ZKGUARD_ATTESTER_KEY".into(), d.relayer_key.clone())];
    let (status, log) = Relayer::run_to_exit(&setup, &d);
    assert!(!status.success());
    assert!(log.contains("must be a different account"), "{log}");
    assert!(!log.contains(&d.relayer_key), "the key leaked into the log");
}
