//! The demo's two attackers, played before the real feed arrives (the vault must stay open):
//!
//! 1. A relayer API client (it holds the API token) sends 16 invented drain rows, "attested" by a
//!    key that is not a registered attester: the relayer refuses it at intake (422, the signer
//!    named) and proves nothing.
//! 2. Someone holding the model file proves 16 invented drain rows (a real, valid proof) and
//!    submits it straight to the Guard: the Guard refuses it with `UnattestedInputs`, because no
//!    registered attester vouched for those inputs.

use alloy::primitives::{Address, Bytes};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_contracts::attestation::{Attestation, InputAttestation};
use zkguard_contracts::rpc::Guard;
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::evm::context::{fr_to_u256, SubmissionContext};
use zkguard_prover::keys::{load_params, AppKeys, SrsSource};
use zkguard_prover::pipeline::deploy::DeployableCircuit;
use zkguard_prover::prove::{prove, Transcript};
use zkguard_relayer::client::{Client, ClientError};
use zkguard_relayer::intake::SubmitRequest;

use super::{model_id, BREAKER_MODEL_ID};

/// One attack and how it was refused.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttackOutcome {
    /// Who attacked, and how.
    pub attacker: String,
    /// The refusal (or what went through: then the demo fails).
    pub refusal: String,
}

/// Attack 1: invented rows through the relayer's API with a stranger's "attestation".
pub(crate) async fn forged_api_request(
    client: &Client,
    chain_id: u64,
    guard: Address,
    rows: Vec<Vec<f64>>,
    model: &zkguard_prover::quant::QuantizedModel,
    batch_size: usize,
) -> anyhow::Result<AttackOutcome> {
    let forger = PrivateKeySigner::random();
    let salt = crate::attest::random_salt();
    let commitments = zkguard_prover::inputs::submission_input_commitments(
        model,
        &rows,
        batch_size,
        1,
        zkguard_prover::artifact::fr_from_hex(&salt).context("salt")?,
    )?;
    let (nonce, issued_at) = (u64::MAX - 1, super::provider::now_s() - 15);
    let digest = InputAttestation::new(
        model_id(BREAKER_MODEL_ID),
        nonce,
        issued_at,
        vec![],
        commitments.iter().map(fr_to_u256).collect(),
    )
    .digest(chain_id, guard);
    let req = SubmitRequest {
        request_id: "attacker-invented-drain".into(),
        model_id: BREAKER_MODEL_ID.to_string(),
        rows,
        salt: Some(salt),
        nonce: Some(nonce),
        issued_at: Some(issued_at),
        attestations: vec![Attestation::sign(&forger, digest)?],
        ..SubmitRequest::default()
    };
    let refusal = match client.submit(&req).await {
        Ok(job) => bail!("the relayer accepted invented rows with a stranger's attestation: job {}", job.id),
        Err(ClientError::Refused { status, body }) => {
            let mentions = body.contains(&forger.address().to_string());
            if status != 422 || !mentions {
                bail!("unexpected refusal of the forged request: {status} {body}");
            }
            format!("HTTP {status}: {body}")
        }
        Err(e) => bail!("the forged request failed oddly: {e}"),
    };
    // nothing was stored: the job does not exist
    if client.job(&req.request_id).await.is_ok() {
        bail!("the refused request was stored");
    }
    Ok(AttackOutcome {
        attacker: format!("API client with invented rows, signed by non-attester {}", forger.address()),
        refusal,
    })
}

/// Attack 2: a real proof of invented rows, made by someone holding the model, sent straight to
/// the Guard without an attestation (as an `eth_call` from the attacker's account).
pub(crate) async fn model_holder_direct_submission(
    attacker: &DynProvider,
    chain_id: u64,
    guard: Address,
    circuit: &DeployableCircuit,
    cache_dir: std::path::PathBuf,
    rows: Vec<Vec<f64>>,
) -> anyhow::Result<AttackOutcome> {
    let ctx = SubmissionContext {
        chain_id,
        guard,
        model_id: model_id(BREAKER_MODEL_ID),
        nonce: 1 << 40,
        issued_at: super::provider::now_s() - 15,
        subjects: vec![],
    };
    let (model, batch_size, visibility, ctx_for_proof) =
        (circuit.model.clone(), circuit.batch_size, circuit.visibility, ctx.clone());
    let proof = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let shape = AppShape::for_model(&model, batch_size, visibility);
        let config = AppKeys::choose_config(&shape, zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS)?;
        let srs = SrsSource::InsecureDev;
        let params = load_params(&srs, config.k(), &cache_dir)?;
        let keys = AppKeys::load_or_generate(config, &params, &srs, &cache_dir)?;
        let quantized = rows.iter().map(|r| model.quantize_input(r)).collect::<Result<Vec<_>, _>>()?;
        let witness = AppWitness::new(model, quantized, batch_size, Fr::from(7u64), ctx_for_proof.context())?;
        Ok(prove(&params, &keys, &witness, Transcript::Evm)?)
    })
    .await??;
    let flagged = proof.instances.len();
    let guard_contract = Guard::new(guard, attacker);
    let call = guard_contract.submit(
        model_id(BREAKER_MODEL_ID),
        Guard::SubmissionContext { nonce: ctx.nonce, issuedAt: ctx.issued_at, subjects: vec![] },
        vec![],
        proof.instances.iter().map(fr_to_u256).collect(),
        Bytes::from(proof.proof),
    );
    let refusal = match call.call().await {
        Ok(_) => bail!("the Guard accepted a proof of unattested inputs ({flagged} instances)"),
        Err(e) => match e.as_decoded_error::<Guard::UnattestedInputs>() {
            Some(u) => {
                format!("Guard reverted UnattestedInputs(modelId: {}, got: {}, needed: {})", u.modelId, u.got, u.needed)
            }
            None => bail!("the Guard refused the unattested proof, but not with UnattestedInputs: {e}"),
        },
    };
    Ok(AttackOutcome {
        attacker: "model holder: a valid proof of invented rows, straight to the Guard".into(),
        refusal,
    })
}
