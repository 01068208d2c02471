//! `POST /v1/proofs`: a client submits a ready proof (the `zkguard-proof` artifact that
//! `zkguard prove --context ...` writes) for a direct-mode model, with the Guard context it is
//! bound to (nonce, `issuedAt`, subjects). The relayer only submits it: the proof is checked and
//! stored as a job whose batch is already `proved`, and the submitter takes over (fees, receipts,
//! revert decoding, crash recovery), exactly as for the relayer's own proofs.
//!
//! Checks, cheapest first; every refusal is a 4xx JSON naming what is wrong ([`ProofRefusal`]):
//! the request id, the model (served, direct mode), the artifact (format, EVM transcript, the
//! served circuit, instance count and encoding), the subjects, the nonce (client nonces are
//! `>= 2^63`, a range disjoint from the relayer's own allocator), the issue time (not in the
//! future, not older than `max_proof_age_s`: the relayer cannot prove a client's proof again), the
//! model-commitment instance (the served model's), the context instance (recomputed from chain id,
//! Guard, model, nonce, issue time and subjects as the relayer's worker binds its own proofs), the
//! proof itself (verified natively with the served keys, on the blocking pool), and last the nonce
//! on chain (`Guard.isNonceUsed`) and in the store. The request id is an idempotency key as for
//! `/v1/requests`: the same id with the same body is the same job (checked first, so a retry is
//! answered even once the nonce is consumed), another body under it is a 409.

use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use axum::http::StatusCode;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use zkguard_prover::artifact::{fr_from_hex, fr_to_hex, ProofArtifact, ARTIFACT_VERSION, PROOF_FORMAT};
use zkguard_prover::circuit::instances::{CONTEXT_INDEX, INPUT_COMMITMENT_INDEX, MODEL_COMMITMENT_INDEX};
use zkguard_prover::evm::SubmissionContext;
use zkguard_prover::prove::Transcript;

use super::error::ApiError;
use super::validate::valid_request_id_chars;
use super::validate::MAX_REQUEST_ID_LEN;
use crate::chain::bindings::IGuard;
use crate::model::{Models, ServedModel};
use crate::store::{NewJob, NewProvedBatch};

/// Client nonces start here: the relayer's own allocator counts up from the chain's state (wall
/// clock milliseconds), far below, so the two never collide.
pub const MIN_CLIENT_NONCE: u64 = 1 << 63;

/// How long the intake waits for `Guard.isNonceUsed` before answering 503.
const CHAIN_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the proof intake needs besides the store and the models.
#[derive(Clone, Debug)]
pub struct ProofIntake {
    /// Chain id the proofs must be bound to.
    pub chain_id: u64,
    /// The Guard the proofs must be bound to.
    pub guard: Address,
    /// Oldest accepted `issued_at`, seconds before now.
    pub max_proof_age_s: u64,
    /// The node (for `Guard.isNonceUsed`).
    pub provider: DynProvider,
    /// Native verifications running at once are bounded (each takes a blocking thread for a few
    /// milliseconds; a flood of proofs waits here instead of starving the proving pool).
    pub verify_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

/// Concurrent native verifications in the intake.
pub const MAX_CONCURRENT_VERIFICATIONS: usize = 2;

/// `POST /v1/proofs` body.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitProofRequest {
    /// Client-chosen idempotency key (as for `/v1/requests`).
    pub request_id: String,
    /// Registry model id (decimal); the model must be served in direct mode.
    pub model_id: String,
    /// The proof artifact `zkguard prove` writes (`format: "zkguard-proof"`, EVM transcript).
    pub proof: ProofArtifact,
    /// The Guard nonce the proof's context binds (>= 2^63; a JSON number or a decimal string).
    #[serde(deserialize_with = "u64_number_or_string")]
    pub nonce: u64,
    /// The issue time the proof's context binds (unix seconds; number or decimal string).
    #[serde(deserialize_with = "u64_number_or_string")]
    pub issued_at: u64,
    /// The subjects the proof's context binds, one per real sample, or none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Client-attested models: the data provider's signatures over the proof's
    /// `InputAttestation` (sorted by signer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<zkguard_contracts::attestation::Attestation>,
}

fn u64_number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(u64),
        Text(String),
    }
    match Either::deserialize(d)? {
        Either::Number(n) => Ok(n),
        Either::Text(t) => t.trim().parse().map_err(|_| serde::de::Error::custom(format!("{t:?} is not a u64"))),
    }
}

/// Why a submitted proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofRefusal {
    /// The request id is empty, too long or not printable ASCII.
    #[error("request_id must be 1..={MAX_REQUEST_ID_LEN} printable ASCII characters (spaces allowed inside)")]
    InvalidRequestId,
    /// No such model is served.
    #[error("no model {0:?} is served here")]
    UnknownModel(String),
    /// Batch-mode models take inference requests only.
    #[error("model {0} is served in batch mode; submit inference requests")]
    BatchModeModel(String),
    /// The artifact is not a usable `zkguard-proof`.
    #[error("proof artifact: {0}")]
    InvalidArtifact(String),
    /// A Poseidon-transcript proof (made for aggregation) cannot be verified on chain directly.
    #[error("the proof uses the {0:?} transcript; the Guard's direct verifier takes EVM-transcript proofs (`zkguard prove --transcript evm`)")]
    WrongTranscript(Transcript),
    /// The artifact is of another circuit than the served model's.
    #[error("the proof is of circuit {got}, model {model} is served with circuit {expected}")]
    CircuitMismatch {
        /// Model id.
        model: String,
        /// The served circuit's digest.
        expected: String,
        /// The artifact's.
        got: String,
    },
    /// The subjects do not fit the proof.
    #[error("{0}")]
    SubjectsMismatch(String),
    /// A subject is not an address.
    #[error("subjects[{0}] is not an address")]
    InvalidSubject(usize),
    /// The nonce is in the relayer's own range.
    #[error("nonce {0} is below 2^63 = {MIN_CLIENT_NONCE}: client nonces must be >= 2^63 (smaller ones are the relayer's own)")]
    NonceOutOfRange(u64),
    /// `issued_at` is after the relayer's clock.
    #[error("issued_at {issued_at} is in the future (now {now}); the Guard refuses it")]
    IssuedInFuture {
        /// Claimed.
        issued_at: u64,
        /// Now.
        now: u64,
    },
    /// The proof is older than the relayer submits.
    #[error("the proof was issued at {issued_at}, {age} s ago, over max_proof_age_s = {max}; the relayer cannot prove a client's proof again: prove it with a fresh issued_at")]
    Expired {
        /// Claimed.
        issued_at: u64,
        /// Its age.
        age: u64,
        /// The limit.
        max: u64,
    },
    /// The model-commitment instance is not the served model's.
    #[error("the proof's model commitment {got} is not model {model}'s {expected}")]
    ModelCommitmentMismatch {
        /// Model id.
        model: String,
        /// Served model's commitment.
        expected: String,
        /// The proof's.
        got: String,
    },
    /// The context instance is not the context of the claimed submission.
    #[error("the proof's context instance {got} is not the context of (chain {chain_id}, Guard {guard}, model {model}, nonce {nonce}, issued_at {issued_at}, {subjects} subjects), which is {expected}")]
    ContextMismatch {
        /// Chain id.
        chain_id: u64,
        /// Guard.
        guard: Address,
        /// Model id.
        model: String,
        /// Claimed nonce.
        nonce: u64,
        /// Claimed issue time.
        issued_at: u64,
        /// Subjects given.
        subjects: usize,
        /// The recomputed context.
        expected: String,
        /// The proof's.
        got: String,
    },
    /// Native verification failed.
    #[error("proof does not verify with model {0}'s verifying key")]
    DoesNotVerify(String),
    /// The nonce is consumed or taken.
    #[error("Guard nonce {nonce} of model {model} is already used {place}")]
    NonceUsed {
        /// Model id.
        model: String,
        /// Nonce.
        nonce: u64,
        /// "on chain" or "by another stored job".
        place: &'static str,
    },
    /// The node could not say whether the nonce is used.
    #[error("cannot check the nonce on chain now ({0}); retry later")]
    ChainUnavailable(String),
    /// The attestations do not satisfy the model's input policy (or were given where none are taken).
    #[error("{0}")]
    InvalidAttestation(String),
}

impl ProofRefusal {
    /// HTTP status and stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use ProofRefusal::*;
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        match self {
            InvalidRequestId => (invalid, "invalid_request_id"),
            UnknownModel(_) => (StatusCode::NOT_FOUND, "unknown_model"),
            BatchModeModel(_) => (invalid, "batch_mode_model"),
            InvalidArtifact(_) => (invalid, "invalid_proof_artifact"),
            WrongTranscript(_) => (invalid, "wrong_transcript"),
            CircuitMismatch { .. } => (invalid, "circuit_mismatch"),
            SubjectsMismatch(_) => (invalid, "subjects_mismatch"),
            InvalidSubject(_) => (invalid, "invalid_subject"),
            NonceOutOfRange(_) => (invalid, "nonce_out_of_range"),
            IssuedInFuture { .. } => (invalid, "issued_in_future"),
            Expired { .. } => (invalid, "proof_expired"),
            ModelCommitmentMismatch { .. } => (invalid, "model_commitment_mismatch"),
            ContextMismatch { .. } => (invalid, "context_mismatch"),
            DoesNotVerify(_) => (invalid, "proof_does_not_verify"),
            NonceUsed { .. } => (invalid, "nonce_used"),
            ChainUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "chain_unavailable"),
            InvalidAttestation(_) => (invalid, "invalid_attestation"),
        }
    }
}

impl From<ProofRefusal> for ApiError {
    fn from(r: ProofRefusal) -> Self {
        let (status, code) = r.status_and_code();
        ApiError::new(status, code, r.to_string())
    }
}

/// A request that passed the checks that need neither the prover nor the chain.
#[derive(Debug)]
pub struct PreparedProof {
    /// The job to insert (no rows: the inputs are the client's).
    pub job: NewJob,
    /// Its batch, proved.
    pub batch: NewProvedBatch,
    /// Parsed instances.
    pub instances: Vec<Fr>,
    /// Proof bytes.
    pub proof: Vec<u8>,
}

/// Parses the request and checks everything that needs no context: the id, the model and the
/// artifact's shape. Returns the model and the canonical body hash (for the idempotency lookup).
pub fn parse(req: &SubmitProofRequest, models: &Models) -> Result<(std::sync::Arc<ServedModel>, String), ProofRefusal> {
    let id = req.request_id.trim();
    if id.is_empty() || id.len() > MAX_REQUEST_ID_LEN || !valid_request_id_chars(id) {
        return Err(ProofRefusal::InvalidRequestId);
    }
    let model = models.get(&req.model_id).ok_or_else(|| ProofRefusal::UnknownModel(req.model_id.clone()))?;
    if model.aggregation.is_some() {
        return Err(ProofRefusal::BatchModeModel(req.model_id.clone()));
    }
    let subjects = req
        .subjects
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse::<Address>().map(|a| a.to_checksum(None)).map_err(|_| ProofRefusal::InvalidSubject(i)))
        .collect::<Result<Vec<_>, _>>()?;
    let canonical = SubmitProofRequest { request_id: id.to_string(), subjects, ..req.clone() };
    let mut hasher = Sha256::new();
    hasher.update(b"zkguard-relayer/v1/proofs\0");
    hasher.update(serde_json::to_vec(&canonical).expect("plain data serializes"));
    Ok((model.clone(), hex::encode(hasher.finalize())))
}

/// Every check but the proof's verification and the nonce's use: the artifact, the subjects, the
/// nonce range, the issue time, the model commitment and the context (`now_s`: the relayer's clock).
pub fn prepare(
    req: &SubmitProofRequest,
    model: &ServedModel,
    body_hash: String,
    intake: &ProofIntake,
    now_s: u64,
) -> Result<PreparedProof, ProofRefusal> {
    let a = &req.proof;
    let bad = |m: String| ProofRefusal::InvalidArtifact(m);
    if a.format != PROOF_FORMAT || a.version != ARTIFACT_VERSION {
        return Err(bad(format!(
            "format {:?} version {} (expected {PROOF_FORMAT:?} version {ARTIFACT_VERSION})",
            a.format, a.version
        )));
    }
    if a.transcript != Transcript::Evm {
        return Err(ProofRefusal::WrongTranscript(a.transcript));
    }
    if a.circuit_digest != model.keys.digest {
        return Err(ProofRefusal::CircuitMismatch {
            model: model.id.clone(),
            expected: model.keys.digest.clone(),
            got: a.circuit_digest.clone(),
        });
    }
    let layout = model.keys.config.shape.layout();
    if a.instances.len() != layout.len() {
        return Err(bad(format!("{} instances, the circuit has {}", a.instances.len(), layout.len())));
    }
    let instances = a
        .instances
        .iter()
        .enumerate()
        .map(|(i, h)| fr_from_hex(h).ok_or_else(|| bad(format!("instances[{i}] is not a 32-byte hex field element"))))
        .collect::<Result<Vec<_>, _>>()?;
    let proof = hex::decode(a.proof.strip_prefix("0x").unwrap_or(&a.proof))
        .map_err(|_| bad("proof is not hex".into()))
        .and_then(|p| if p.is_empty() { Err(bad("proof is empty".into())) } else { Ok(p) })?;
    let decoded = model
        .decode(&instances)
        .ok_or_else(|| bad("the instances do not decode (sample count or decision words out of range)".into()))?;
    let n = decoded.sample_count;
    if n == 0 || n > model.batch_size {
        return Err(bad(format!("the proof counts {n} samples; the Guard takes 1..={}", model.batch_size)));
    }
    let subjects: Vec<Address> = req.subjects.iter().filter_map(|s| s.parse().ok()).collect();
    if !subjects.is_empty() && subjects.len() != n {
        return Err(ProofRefusal::SubjectsMismatch(format!(
            "{} subjects for a proof of {n} samples: give one per sample or none",
            subjects.len()
        )));
    }
    if req.nonce < MIN_CLIENT_NONCE {
        return Err(ProofRefusal::NonceOutOfRange(req.nonce));
    }
    if req.issued_at > now_s {
        return Err(ProofRefusal::IssuedInFuture { issued_at: req.issued_at, now: now_s });
    }
    let age = now_s - req.issued_at;
    if age > intake.max_proof_age_s {
        return Err(ProofRefusal::Expired { issued_at: req.issued_at, age, max: intake.max_proof_age_s });
    }
    if instances[MODEL_COMMITMENT_INDEX] != model.commitment {
        return Err(ProofRefusal::ModelCommitmentMismatch {
            model: model.id.clone(),
            expected: fr_to_hex(&model.commitment),
            got: fr_to_hex(&instances[MODEL_COMMITMENT_INDEX]),
        });
    }
    let ctx = SubmissionContext {
        chain_id: intake.chain_id,
        guard: intake.guard,
        model_id: model.id_u256,
        nonce: req.nonce,
        issued_at: req.issued_at,
        subjects: subjects.clone(),
    };
    let expected = ctx.context();
    if instances[CONTEXT_INDEX] != expected {
        return Err(ProofRefusal::ContextMismatch {
            chain_id: intake.chain_id,
            guard: intake.guard,
            model: model.id.clone(),
            nonce: req.nonce,
            issued_at: req.issued_at,
            subjects: subjects.len(),
            expected: fr_to_hex(&expected),
            got: fr_to_hex(&instances[CONTEXT_INDEX]),
        });
    }
    let attestations = check_proof_attestations(model, req, &subjects, instances[INPUT_COMMITMENT_INDEX])?;
    let subjects: Vec<String> = subjects.iter().map(|a| a.to_checksum(None)).collect();
    Ok(PreparedProof {
        job: NewJob {
            id: req.request_id.trim().to_string(),
            model_id: model.id.clone(),
            body_hash,
            rows: vec![],
            salt: None,
            subjects: subjects.clone(),
            attestation: None,
        },
        batch: NewProvedBatch {
            model_id: model.id.clone(),
            nonce: req.nonce,
            issued_at: req.issued_at,
            subjects,
            sample_count: n,
            instances: instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex::encode(&proof)),
            decisions: decoded.decisions[..n].to_vec(),
            scores: decoded.scores.iter().take(n).map(|s| s.to_string()).collect(),
            attestations,
        },
        instances,
        proof,
    })
}

/// A client-attested model's proof must carry threshold attestations over its input commitment
/// and context; other models take none.
fn check_proof_attestations(
    model: &ServedModel,
    req: &SubmitProofRequest,
    subjects: &[Address],
    input_commitment: Fr,
) -> Result<Vec<zkguard_contracts::attestation::Attestation>, ProofRefusal> {
    use crate::config::AttestationSource;
    if model.attestation != Some(AttestationSource::Client) {
        if !req.attestations.is_empty() {
            return Err(ProofRefusal::InvalidAttestation(format!(
                "model {} does not take client attestations here",
                model.id
            )));
        }
        return Ok(vec![]);
    }
    let policy = model.input_policy.get().ok_or_else(|| {
        ProofRefusal::ChainUnavailable(format!("model {}'s input policy has not been read yet", model.id))
    })?;
    let message = zkguard_contracts::attestation::InputAttestation::new(
        model.id_u256,
        req.nonce,
        req.issued_at,
        subjects.to_vec(),
        vec![zkguard_prover::evm::context::fr_to_u256(&input_commitment)],
    );
    let digest = message.digest(policy.chain_id, policy.guard);
    zkguard_contracts::attestation::check(digest, &req.attestations, policy.registered.threshold, |a| {
        policy.registered.members.contains(&a)
    })
    .map_err(|e| ProofRefusal::InvalidAttestation(format!("model {}: {e}", model.id)))?;
    Ok(req.attestations.clone())
}

/// Verifies the proof natively with the model's keys (blocking: call it on the blocking pool).
pub fn verify(model: &ServedModel, instances: &[Fr], proof: &[u8]) -> Result<(), ProofRefusal> {
    if zkguard_prover::prove::verify(&model.params, model.keys.vk(), instances, proof, Transcript::Evm) {
        Ok(())
    } else {
        Err(ProofRefusal::DoesNotVerify(model.id.clone()))
    }
}

/// `Guard.isNonceUsed(modelId, nonce)`, bounded by `CHAIN_CHECK_TIMEOUT`.
pub async fn nonce_used_on_chain(intake: &ProofIntake, model_id: U256, nonce: u64) -> Result<bool, ProofRefusal> {
    let call = IGuard::isNonceUsedCall { modelId: model_id, nonce };
    let tx = TransactionRequest::default().with_to(intake.guard).with_input(call.abi_encode());
    let out = tokio::time::timeout(CHAIN_CHECK_TIMEOUT, intake.provider.call(tx))
        .await
        .map_err(|_| ProofRefusal::ChainUnavailable("the node does not answer".into()))?
        .map_err(|e| ProofRefusal::ChainUnavailable(e.to_string()))?;
    IGuard::isNonceUsedCall::abi_decode_returns(&out).map_err(|e| ProofRefusal::ChainUnavailable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_numbers_or_decimal_strings() {
        let parse = |nonce: &str| {
            let body = format!(
                r#"{{"request_id":"r","model_id":"1","nonce":{nonce},"issued_at":"5","proof":{{"format":"zkguard-proof","version":1,
                "circuit_digest":"d","model_name":"m","model_commitment":"0x00","transcript":"evm","batch_size":4,"sample_count":1,
                "instances":[],"proof":"0x","decisions":[],"scores":[],"produced_by":{{"tool":"t","srs":"s","insecure_srs":true}}}}}}"#
            );
            serde_json::from_str::<SubmitProofRequest>(&body).map(|r| (r.nonce, r.issued_at))
        };
        assert_eq!(parse("9223372036854775809").unwrap(), (MIN_CLIENT_NONCE + 1, 5));
        assert_eq!(parse("\"18446744073709551615\"").unwrap(), (u64::MAX, 5));
        assert!(parse("\"18446744073709551616\"").is_err());
        assert!(parse("-1").is_err());
    }

    #[test]
    fn refusals_are_4xx_with_a_stable_code() {
        let r = ProofRefusal::BatchModeModel("3".into());
        assert_eq!(r.status_and_code(), (StatusCode::UNPROCESSABLE_ENTITY, "batch_mode_model"));
        assert_eq!(r.to_string(), "model 3 is served in batch mode; submit inference requests");
        let e = ApiError::from(ProofRefusal::NonceOutOfRange(7));
        assert_eq!((e.status.as_u16(), e.code), (422, "nonce_out_of_range"));
        assert!(e.message.contains("2^63"));
        assert_eq!(ProofRefusal::ChainUnavailable("x".into()).status_and_code().0, StatusCode::SERVICE_UNAVAILABLE);
    }
}
