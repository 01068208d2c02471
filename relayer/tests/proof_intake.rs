//! `POST /v1/proofs` end to end: a client proves with the prover library for the deployed model
//! and the context the relayer computes, posts the artifact (with the `zkguard-relayer
//! submit-proof` CLI), and the relayer verifies, stores and submits it (real anvil, real SQLite,
//! real proofs of the breast-cancer logistic model at B = 4). Every refusal leaves the store
//! unchanged and sends nothing. One anvil and one relayer for all cases.

mod support;

use std::time::Duration;

use alloy::primitives::U256;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use support::chain::{flagged_and_clean, Deployment, MODEL_ID};
use support::relayer::{relayer_binary, Relayer, Setup, TOKEN};
use zkguard_prover::artifact::{fr_to_hex, ProofArtifact, Provenance, ARTIFACT_VERSION, PROOF_FORMAT};
use zkguard_prover::circuit::{AppInstances, AppWitness};
use zkguard_prover::evm::SubmissionContext;
use zkguard_prover::keys::AppKeys;
use zkguard_prover::prove::{prove, Transcript};
use zkguard_relayer::intake::{JobResponse, SubmitProofRequest};
use zkguard_relayer::store::{JobStore, SqliteStore};

/// The first client nonce (2^63) plus something.
const NONCE: u64 = (1 << 63) + 42;
const CHAIN_ID: u64 = 31337;

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// What `zkguard prove --context <ctx>` writes for `rows`.
fn prove_artifact(
    d: &Deployment,
    keys: &AppKeys,
    params: &halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG<
        halo2_base::halo2_proofs::halo2curves::bn256::Bn256,
    >,
    rows: &[Vec<f64>],
    ctx: &SubmissionContext,
) -> ProofArtifact {
    let model = &d.circuit.model;
    let quantized = rows.iter().map(|r| model.quantize_input(r).unwrap()).collect();
    let witness =
        AppWitness::new(model.clone(), quantized, d.circuit.batch_size, Fr::from(0x5a17), ctx.context()).unwrap();
    let proof = prove(params, keys, &witness, Transcript::Evm).unwrap();
    let decoded = AppInstances::from_slice(keys.config.shape.layout(), &proof.instances).unwrap();
    ProofArtifact {
        format: PROOF_FORMAT.into(),
        version: ARTIFACT_VERSION,
        circuit_digest: keys.digest.clone(),
        model_name: model.name.clone(),
        model_commitment: fr_to_hex(&decoded.model_commitment),
        transcript: Transcript::Evm,
        batch_size: d.circuit.batch_size,
        sample_count: decoded.sample_count,
        instances: proof.instances.iter().map(fr_to_hex).collect(),
        proof: format!("0x{}", hex::encode(&proof.proof)),
        decisions: decoded.decisions[..decoded.sample_count].to_vec(),
        scores: decoded.scores[..decoded.sample_count].iter().map(|s| s.to_string()).collect(),
        produced_by: Provenance { tool: "relayer test".into(), srs: "insecure-dev".into(), insecure_srs: true },
    }
}

fn context(d: &Deployment, nonce: u64, issued_at: u64) -> SubmissionContext {
    SubmissionContext {
        chain_id: CHAIN_ID,
        guard: d.guard,
        model_id: U256::from(MODEL_ID),
        nonce,
        issued_at,
        subjects: vec![],
    }
}

fn submission(id: &str, proof: &ProofArtifact, nonce: u64, issued_at: u64) -> SubmitProofRequest {
    SubmitProofRequest {
        request_id: id.into(),
        model_id: MODEL_ID.to_string(),
        proof: proof.clone(),
        nonce,
        issued_at,
        subjects: vec![],
        attestations: vec![],
    }
}

/// Posts `body` to `/v1/proofs`; returns (status, error code, message).
async fn post(url: &str, body: &SubmitProofRequest, token: Option<&str>) -> (u16, String, String) {
    let mut r = reqwest::Client::new().post(format!("{url}/v1/proofs")).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let json: serde_json::Value = resp.json().await.unwrap();
    let field = |k: &str| json[k].as_str().unwrap_or_default().to_string();
    (status, field("error"), field("message"))
}

fn stored_jobs(setup: &Setup) -> u64 {
    let store = SqliteStore::open(&setup.database()).unwrap();
    store.job_counts().unwrap().iter().map(|(_, n)| n).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_proofs_are_verified_bound_to_their_context_and_submitted() {
    let d = std::sync::Arc::new(Deployment::start(4).await);
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(dir.path(), &d);
    let relayer = Relayer::start(&setup, &d, None).await;
    let url = relayer.url.clone();

    // The client's proofs: a good one, one issued too long ago (max_proof_age_s = 3000 by
    // default, the policy's maxAge is 3600), one bound to a nonce of the relayer's own range.
    let issued_at = now_s() - 15;
    let (flagged, clean) = flagged_and_clean(&d.circuit.model);
    let (good, expired, small_nonce) = {
        let d = d.clone();
        tokio::task::spawn_blocking(move || {
            let (keys, params) = d.app_keys();
            let rows = [clean, flagged];
            let good = prove_artifact(&d, &keys, &params, &rows, &context(&d, NONCE, issued_at));
            let old = issued_at - 3100;
            let expired = prove_artifact(&d, &keys, &params, &rows[..1], &context(&d, NONCE + 1, old));
            let small = prove_artifact(&d, &keys, &params, &rows[..1], &context(&d, 5, issued_at));
            (good, expired, small)
        })
        .await
        .unwrap()
    };
    assert_eq!(good.decisions, [false, true]);

    // Refusals: each a 4xx naming what is wrong; nothing stored, nothing sent.
    let ok = submission("p1", &good, NONCE, issued_at);
    let (status, code, _) = post(&url, &ok, None).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    let (status, code, _) = post(&url, &ok, Some("wrong-token-0123456789")).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));

    let mut tampered = good.clone();
    let mut bytes = hex::decode(&tampered.proof[2..]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    tampered.proof = format!("0x{}", hex::encode(bytes));
    let (status, code, message) = post(&url, &submission("bad-1", &tampered, NONCE, issued_at), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "proof_does_not_verify"), "{message}");
    assert!(message.contains("proof does not verify"), "{message}");

    // The proof is bound to NONCE; claiming it for another nonce is a context mismatch.
    let (status, code, message) = post(&url, &submission("bad-2", &good, NONCE + 7, issued_at), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "context_mismatch"), "{message}");
    assert!(message.contains(&format!("nonce {}", NONCE + 7)), "{message}");

    let mut other_model = good.clone();
    let commitment = zkguard_prover::artifact::fr_from_hex(&other_model.instances[0]).unwrap();
    other_model.instances[0] = fr_to_hex(&(commitment + Fr::one()));
    let (status, code, message) = post(&url, &submission("bad-3", &other_model, NONCE, issued_at), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "model_commitment_mismatch"), "{message}");

    let (status, code, message) = post(&url, &submission("bad-4", &small_nonce, 5, issued_at), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "nonce_out_of_range"), "{message}");
    assert!(message.contains("2^63"), "{message}");

    let (status, code, message) =
        post(&url, &submission("bad-5", &expired, NONCE + 1, issued_at - 3100), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "proof_expired"), "{message}");
    assert!(message.contains("max_proof_age_s = 3000"), "{message}");

    let mut unknown = submission("bad-6", &good, NONCE, issued_at);
    unknown.model_id = "9".into();
    let (status, code, _) = post(&url, &unknown, Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (404, "unknown_model"));

    assert_eq!(stored_jobs(&setup), 0, "a refused proof was stored");
    assert_eq!(d.relayer_pending_tx_count().await, 0, "a refused proof was sent");

    // The good proof, posted with the CLI as a client would: verified, stored `proved`, submitted.
    let proof_file = dir.path().join("proof.json");
    zkguard_prover::artifact::write_json(&proof_file, &good).unwrap();
    let mut cli = std::process::Command::new(relayer_binary());
    cli.args(["submit-proof", "--url", &url, "--model", "1", "--request-id", "p1", "--wait", "300"])
        .arg("--proof")
        .arg(&proof_file)
        .args(["--nonce", &NONCE.to_string(), "--issued-at", &issued_at.to_string()])
        .env("ZKGUARD_RELAYER_TOKEN", TOKEN);
    let output = tokio::task::spawn_blocking(move || cli.output().unwrap()).await.unwrap();
    assert!(output.status.success(), "submit-proof: {}", String::from_utf8_lossy(&output.stderr));
    let job: JobResponse = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(job.state, "confirmed", "{job:?}");
    assert_eq!((job.nonce, job.sample_count), (Some(NONCE), 2));
    assert_eq!(job.decisions, Some(vec![false, true]));
    let states: Vec<&str> = job.transitions.iter().map(|t| t.to.as_str()).collect();
    assert!(!states.contains(&"proving") && !states.contains(&"queued"), "the relayer proved it again: {states:?}");
    assert_eq!(d.verified().await, vec![(NONCE, 2)], "one Verified event with the client's nonce");
    assert!(d.vault_paused().await, "the breaker acted on the client's flagged sample");

    // Idempotent: the same request is the same job; its id with another body is a conflict.
    let again = relayer.client.submit_proof(&ok).await.unwrap();
    assert_eq!((again.id.as_str(), again.state.as_str()), ("p1", "confirmed"));
    let mut other_body = ok.clone();
    other_body.issued_at += 1;
    let (status, code, _) = post(&url, &other_body, Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (409, "request_id_conflict"));
    // The same nonce under another request id: a replay, refused.
    let (status, code, message) = post(&url, &submission("p2", &good, NONCE, issued_at), Some(TOKEN)).await;
    assert_eq!((status, code.as_str()), (422, "nonce_used"), "{message}");
    assert!(message.contains("on chain"), "{message}");

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(stored_jobs(&setup), 1, "exactly the one good job is stored");
    assert_eq!(d.relayer_tx_count().await, 1, "exactly one transaction");
    assert_eq!(d.verified().await.len(), 1);
}
