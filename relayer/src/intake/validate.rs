//! The submit request body, its validation against the served models, and the job response.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::config::AttestationSource;
use crate::model::Models;
use crate::store::{ClientAttestation, JobView, NewJob};

/// Longest accepted request id.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// `POST /v1/requests` body.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// Client-chosen idempotency key: submitting the same id again returns the same job.
    pub request_id: String,
    /// Registry model id (decimal).
    pub model_id: String,
    /// Feature rows (floats), 1..=batch size of the model.
    pub rows: Vec<Vec<f64>>,
    /// Input-commitment salt (0x hex field element). A salted request is proved alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// One subject address per row (for verdict filters), or none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Client-attested models: the Guard nonce the attesters signed (>= 2^63).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Client-attested models: the issue time the attesters signed (unix s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
    /// Client-attested models: the data provider's signatures over the submission's
    /// `InputAttestation` (sorted by signer; see `zkguard attest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<zkguard_contracts::attestation::Attestation>,
}

/// Parses and validates a raw body into a job to insert.
pub fn parse_submit(body: &[u8], models: &Models) -> Result<NewJob, ApiError> {
    let req: SubmitRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("malformed_json", format!("the body is not a valid request: {e}")))?;
    validate(req, models)
}

/// Validates a request against the served models.
pub fn validate(req: SubmitRequest, models: &Models) -> Result<NewJob, ApiError> {
    let id = req.request_id.trim();
    if id.is_empty() || id.len() > MAX_REQUEST_ID_LEN || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "invalid_request_id",
            format!("request_id must be 1..={MAX_REQUEST_ID_LEN} printable ASCII characters"),
        ));
    }
    let model = models.get(&req.model_id).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_model",
            format!("no model {:?} is served here", req.model_id),
        )
    })?;
    if req.rows.is_empty() {
        return Err(ApiError::invalid("empty_batch", "rows is empty"));
    }
    if req.rows.len() > model.batch_size {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "oversize_batch",
            format!("{} rows: model {} takes at most {} per request", req.rows.len(), req.model_id, model.batch_size),
        ));
    }
    let n = model.n_features();
    for (i, row) in req.rows.iter().enumerate() {
        if row.len() != n {
            return Err(ApiError::invalid(
                "wrong_feature_count",
                format!("rows[{i}] has {} features, model {} takes {n}", row.len(), req.model_id),
            ));
        }
        if let Some(j) = row.iter().position(|x| !x.is_finite()) {
            return Err(ApiError::invalid("non_finite", format!("rows[{i}][{j}] is not a finite number")));
        }
        model
            .model
            .quantize_input(row)
            .map_err(|e| ApiError::invalid("value_out_of_range", format!("rows[{i}]: {e}")))?;
    }
    if let Some(salt) = &req.salt {
        if zkguard_prover::artifact::fr_from_hex(salt).is_none() {
            return Err(ApiError::invalid(
                "invalid_salt",
                "salt must be a 0x hex field element below the BN254 modulus",
            ));
        }
        if req.rows.len() < model.min_batch_samples() {
            return Err(ApiError::invalid(
                "invalid_salt",
                format!(
                    "model {} is served in batch mode ({} proofs per transaction, each with at least one sample): \
                     a salted request is proved alone and needs at least {} rows",
                    req.model_id,
                    model.proofs_per_batch(),
                    model.min_batch_samples()
                ),
            ));
        }
    }
    if !req.subjects.is_empty() && req.subjects.len() != req.rows.len() {
        return Err(ApiError::invalid(
            "subjects_mismatch",
            format!("{} subjects for {} rows: give one per row or none", req.subjects.len(), req.rows.len()),
        ));
    }
    let mut subjects = Vec::with_capacity(req.subjects.len());
    for (i, s) in req.subjects.iter().enumerate() {
        let a: Address =
            s.parse().map_err(|_| ApiError::invalid("invalid_subject", format!("subjects[{i}] is not an address")))?;
        subjects.push(a.to_checksum(None));
    }
    let attestation = match model.attestation {
        Some(AttestationSource::Client) => Some(check_client_attestation(&req, model, &subjects)?),
        _ if req.nonce.is_some() || req.issued_at.is_some() || !req.attestations.is_empty() => {
            return Err(ApiError::invalid(
                "attestations_not_accepted",
                format!(
                    "model {} does not take client attestations here: leave out nonce, issued_at and attestations",
                    req.model_id
                ),
            ))
        }
        _ => None,
    };
    let canonical = SubmitRequest { request_id: id.to_string(), subjects: subjects.clone(), ..req };
    let body_hash = hex::encode(Sha256::digest(serde_json::to_vec(&canonical).expect("plain data serializes")));
    Ok(NewJob {
        id: canonical.request_id,
        model_id: canonical.model_id,
        body_hash,
        rows: canonical.rows,
        salt: canonical.salt,
        subjects,
        attestation,
    })
}

/// A client-attested request: the context its attesters signed, and their signatures checked
/// (threshold, registered attesters, valid signatures over this request's input commitments)
/// before anything is stored or proved.
fn check_client_attestation(
    req: &SubmitRequest,
    model: &crate::model::ServedModel,
    subjects: &[String],
) -> Result<ClientAttestation, ApiError> {
    let missing = |what: &str| {
        ApiError::invalid(
            "attestation_required",
            format!(
                "model {} takes attested requests only: give salt, nonce (>= 2^63), issued_at and the attesters'                  signatures (missing: {what})",
                req.model_id
            ),
        )
    };
    let salt = req.salt.as_deref().ok_or_else(|| missing("salt"))?;
    let nonce = req.nonce.ok_or_else(|| missing("nonce"))?;
    let issued_at = req.issued_at.ok_or_else(|| missing("issued_at"))?;
    if req.attestations.is_empty() {
        return Err(missing("attestations"));
    }
    if nonce < crate::intake::proofs::MIN_CLIENT_NONCE {
        return Err(ApiError::invalid(
            "invalid_nonce",
            format!("nonce {nonce} is below 2^63: client nonces must be >= 2^63 (smaller ones are the relayer's own)"),
        ));
    }
    let policy = model.input_policy.get().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "input_policy_unknown",
            format!("model {}'s input policy has not been read from the chain yet; retry later", req.model_id),
        )
    })?;
    let now = (crate::store::now_ms() / 1000) as u64;
    if issued_at > now + crate::batcher::ISSUED_AT_MARGIN_S || now.saturating_sub(issued_at) > policy.max_age_s {
        return Err(ApiError::invalid(
            "stale_attestation",
            format!("issued_at {issued_at} is not within {} s before now ({now})", policy.max_age_s),
        ));
    }
    let salt = zkguard_prover::artifact::fr_from_hex(salt).ok_or_else(|| missing("a valid salt"))?;
    let commitments = zkguard_prover::inputs::submission_input_commitments(
        &model.model,
        &req.rows,
        model.batch_size,
        model.proofs_per_batch(),
        salt,
    )
    .map_err(|e| ApiError::invalid("invalid_rows", e.to_string()))?;
    let subjects: Vec<Address> = subjects.iter().filter_map(|s| s.parse().ok()).collect();
    let message = zkguard_contracts::attestation::InputAttestation::new(
        model.id_u256,
        nonce,
        issued_at,
        subjects,
        commitments.iter().map(zkguard_prover::evm::context::fr_to_u256).collect(),
    );
    let digest = message.digest(policy.chain_id, policy.guard);
    zkguard_contracts::attestation::check(digest, &req.attestations, policy.registered.threshold, |a| {
        policy.registered.members.contains(&a)
    })
    .map_err(|e| ApiError::invalid("invalid_attestation", format!("model {}: {e}", req.model_id)))?;
    Ok(ClientAttestation { nonce, issued_at, attestations: req.attestations.clone() })
}

/// `GET /v1/jobs/{id}` and `POST /v1/requests` response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobResponse {
    /// Request id.
    pub id: String,
    /// Model id.
    pub model_id: String,
    /// State (`queued`, `proving`, `proved`, `submitted`, `confirmed`, `failed`).
    pub state: String,
    /// Samples in the request.
    pub sample_count: usize,
    /// Batch id, once batched.
    pub batch_id: Option<i64>,
    /// Guard nonce of its submission.
    pub nonce: Option<u64>,
    /// Decisions of its samples, once proved.
    pub decisions: Option<Vec<bool>>,
    /// Scores of its samples (fixed point, decimal), once proved.
    pub scores: Option<Vec<String>>,
    /// Confirming transaction.
    pub tx_hash: Option<String>,
    /// Its block.
    pub block_number: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
    /// State history (job and batch), oldest first.
    pub transitions: Vec<crate::store::Transition>,
}

impl From<JobView> for JobResponse {
    fn from(v: JobView) -> Self {
        // A client's proof has no rows here (its inputs stay with the client): all of its samples.
        let n = match &v.batch {
            Some(b) if b.client_proof => b.sample_count,
            _ => v.job.rows.len(),
        };
        let slice = |offset: Option<usize>| offset.map(|o| o..o + n);
        let range = slice(v.job.offset);
        let decisions = v.batch.as_ref().and_then(|b| {
            let d = b.decisions.as_ref()?;
            d.get(range.clone()?).map(<[bool]>::to_vec)
        });
        let scores = v.batch.as_ref().and_then(|b| {
            let s = b.scores.as_ref()?;
            s.get(range.clone()?).map(<[String]>::to_vec)
        });
        let confirmed = v.job.state == crate::store::JobState::Confirmed;
        Self {
            id: v.job.id,
            model_id: v.job.model_id,
            state: v.job.state.to_string(),
            sample_count: n,
            batch_id: v.job.batch_id,
            nonce: v.batch.as_ref().map(|b| b.nonce),
            decisions,
            scores,
            tx_hash: v.batch.as_ref().and_then(|b| b.tx_hash.clone()),
            block_number: v.batch.as_ref().and_then(|b| if confirmed { b.block_number } else { None }),
            error: v.job.error.or_else(|| v.batch.as_ref().and_then(|b| b.error.clone())),
            transitions: v.transitions,
        }
    }
}
