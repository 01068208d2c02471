//! The submit request body, its validation against the served models, and the job response.
//!
//! Every row is run through the model's integer reference inference (exactly what the circuit
//! computes and range-checks) at intake: a row that would make the circuit unsatisfiable is
//! refused here (422 `value_overflow`, naming the row, the value and the bound) instead of
//! failing the batch it would share with other clients' rows.

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zkguard_prover::quant::{QuantError, QuantizedModel};

use super::error::ApiError;
use crate::config::AttestationSource;
use crate::model::{InputPolicyContext, Models, ServedModel};
use crate::store::{ClientAttestation, JobView, NewJob};

/// What intake validation needs to know of a served model (no keys: testable and fuzzable
/// without proving keys).
#[derive(Clone, Copy, Debug)]
pub struct IntakeModel<'a> {
    /// Registry id (decimal).
    pub id: &'a str,
    /// The quantized model (features, fixed point, reference inference).
    pub quantized: &'a QuantizedModel,
    /// The circuit's B: most rows per unsalted request (a salted one may hold N * B).
    pub batch_size: usize,
    /// App proofs per transaction (N in batch mode, else 1): a salted request needs that many rows.
    pub proofs_per_batch: usize,
    /// Registry id as a number.
    pub id_u256: alloy::primitives::U256,
    /// Where its attestations come from.
    pub attestation: Option<AttestationSource>,
    /// Its registered input policy, once read from the chain.
    pub input_policy: Option<&'a InputPolicyContext>,
}

impl<'a> From<&'a ServedModel> for IntakeModel<'a> {
    fn from(m: &'a ServedModel) -> Self {
        Self {
            id: &m.id,
            quantized: &m.model,
            batch_size: m.batch_size,
            proofs_per_batch: m.proofs_per_batch(),
            id_u256: m.id_u256,
            attestation: m.attestation,
            input_policy: m.input_policy.get(),
        }
    }
}

/// Checks one row as the circuit will: width, finiteness, the input range, and every
/// intermediate value of the integer reference inference. The error names the row (`rows[i]`),
/// the feature or value, and the bound.
pub fn check_row(model: &QuantizedModel, index: usize, row: &[f64]) -> Result<(), ApiError> {
    let n = model.n_features();
    if row.len() != n {
        return Err(ApiError::invalid(
            "wrong_feature_count",
            format!("rows[{index}] has {} features, the model takes {n}", row.len()),
        ));
    }
    if let Some(j) = row.iter().position(|x| !x.is_finite()) {
        return Err(ApiError::invalid("non_finite", format!("rows[{index}][{j}] is not a finite number")));
    }
    let quantized = model
        .quantize_input(row)
        .map_err(|e| ApiError::invalid("value_out_of_range", format!("rows[{index}]: {e}")))?;
    model.infer(&quantized).map_err(|e| match e {
        QuantError::ValueOutOfRange { what, value, value_bits } => ApiError::invalid(
            "value_overflow",
            format!(
                "rows[{index}]: the model's {what} would be {value} (fixed point, scale 2^{}), outside the \
                 circuit's {value_bits}-bit signed range [-2^{b}, 2^{b}): no proof can hold this row",
                model.fixed.scale_bits,
                b = value_bits - 1
            ),
        ),
        other => ApiError::invalid("value_out_of_range", format!("rows[{index}]: {other}")),
    })?;
    Ok(())
}

/// Whether a (trimmed) request id is printable ASCII; spaces inside are allowed.
pub fn valid_request_id_chars(id: &str) -> bool {
    id.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

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
    parse_submit_for(body, |id| models.get(id).map(|m| IntakeModel::from(m.as_ref())))
}

/// Validates a request against the served models.
pub fn validate(req: SubmitRequest, models: &Models) -> Result<NewJob, ApiError> {
    validate_for(req, |id| models.get(id).map(|m| IntakeModel::from(m.as_ref())))
}

/// Parses and validates a raw body against the models `lookup` finds (for tests and fuzzing
/// without proving keys).
pub fn parse_submit_for<'a>(body: &[u8], lookup: impl Fn(&str) -> Option<IntakeModel<'a>>) -> Result<NewJob, ApiError> {
    let req: SubmitRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad("malformed_json", format!("the body is not a valid request: {e}")))?;
    validate_for(req, lookup)
}

/// Validates a request against the models `lookup` finds.
pub fn validate_for<'a>(
    req: SubmitRequest,
    lookup: impl Fn(&str) -> Option<IntakeModel<'a>>,
) -> Result<NewJob, ApiError> {
    let id = req.request_id.trim();
    if id.is_empty() || id.len() > MAX_REQUEST_ID_LEN || !valid_request_id_chars(id) {
        return Err(ApiError::invalid(
            "invalid_request_id",
            format!("request_id must be 1..={MAX_REQUEST_ID_LEN} printable ASCII characters (spaces allowed inside)"),
        ));
    }
    let model = lookup(&req.model_id).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "unknown_model",
            format!("no model {:?} is served here", req.model_id),
        )
    })?;
    if req.rows.is_empty() {
        return Err(ApiError::invalid("empty_batch", "rows is empty"));
    }
    // A salted request is proved alone, so in batch mode it may fill all N segments of its
    // transaction; unsalted requests are packed together by the batcher, at most B rows each.
    let most = match req.salt {
        Some(_) => model.batch_size * model.proofs_per_batch,
        None => model.batch_size,
    };
    if req.rows.len() > most {
        let salted = if req.salt.is_some() && model.proofs_per_batch > 1 {
            format!(" (a salted request: {} segments of {})", model.proofs_per_batch, model.batch_size)
        } else {
            String::new()
        };
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "oversize_batch",
            format!("{} rows: model {} takes at most {most} per request{salted}", req.rows.len(), req.model_id),
        ));
    }
    for (i, row) in req.rows.iter().enumerate() {
        check_row(model.quantized, i, row)?;
    }
    if let Some(salt) = &req.salt {
        if zkguard_prover::artifact::fr_from_hex(salt).is_none() {
            return Err(ApiError::invalid(
                "invalid_salt",
                "salt must be a 0x hex field element below the BN254 modulus",
            ));
        }
        if req.rows.len() < model.proofs_per_batch {
            return Err(ApiError::invalid(
                "invalid_salt",
                format!(
                    "model {} is served in batch mode ({} proofs per transaction, each with at least one sample): \
                     a salted request is proved alone and needs at least {} rows",
                    req.model_id, model.proofs_per_batch, model.proofs_per_batch
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
        Some(AttestationSource::Client) => Some(check_client_attestation(&req, &model, &subjects)?),
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
    model: &IntakeModel<'_>,
    subjects: &[String],
) -> Result<ClientAttestation, ApiError> {
    let missing = |what: &str| {
        ApiError::invalid(
            "attestation_required",
            format!(
                "model {} takes attested requests only: give salt, nonce (>= 2^63), issued_at and the attesters' signatures (missing: {what})",
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
    let policy = model.input_policy.ok_or_else(|| {
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
        model.quantized,
        &req.rows,
        model.batch_size,
        model.proofs_per_batch,
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
    /// Scores of its samples (the raw fixed-point integers the proof exposes, decimal), once proved.
    pub scores: Option<Vec<String>>,
    /// The same scores as real numbers (`raw / 2^score_scale_bits`), beside the raw ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_values: Option<Vec<f64>>,
    /// The scores' fixed-point scale (fractional bits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_scale_bits: Option<u32>,
    /// Confirming transaction.
    pub tx_hash: Option<String>,
    /// The sender of the confirming transaction when it was not the relayer's (a copy of its
    /// calldata landed first and carried this batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_by: Option<String>,
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
            score_values: None,
            score_scale_bits: None,
            tx_hash: v.batch.as_ref().and_then(|b| b.tx_hash.clone()),
            carried_by: v.batch.as_ref().and_then(|b| b.carried_by.clone()),
            block_number: v.batch.as_ref().and_then(|b| if confirmed { b.block_number } else { None }),
            error: v.job.error.or_else(|| v.batch.as_ref().and_then(|b| b.error.clone())),
            transitions: v.transitions,
        }
    }
}

impl JobResponse {
    /// Adds the scores' real values for a model whose fixed point has `scale_bits` fractional bits.
    pub fn with_score_scale(mut self, scale_bits: u32) -> Self {
        self.score_values = self.scores.as_ref().map(|raw| {
            raw.iter().map(|s| s.parse::<i128>().map_or(f64::NAN, |v| v as f64 / (1u64 << scale_bits) as f64)).collect()
        });
        self.score_scale_bits = Some(scale_bits);
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    pub(crate) fn logistic() -> QuantizedModel {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        zkguard_prover::load::load_quantized(
            &root.join("models/breast_cancer_logistic.json"),
            Some(&root.join("data/breast_cancer_logistic.csv")),
        )
        .expect("the logistic model")
    }

    /// A row every feature of which is in the input range, but whose standardized feature
    /// overflows the circuit's range: the prover cannot prove it.
    pub(crate) fn poisoned_row(model: &QuantizedModel) -> (Vec<f64>, String) {
        let limit = model.fixed.to_f64(model.fixed.bound());
        let good = vec![0.0; model.n_features()];
        for j in 0..model.n_features() {
            let mut row = good.clone();
            row[j] = limit * 0.99;
            let q = model.quantize_input(&row).expect("in the input range");
            if model.infer(&q).is_err() {
                return (row, model.features[j].clone());
            }
        }
        panic!("no feature of the model overflows at the input limit");
    }

    /// Model "1" served at B = 4 with `proofs_per_batch` segments, no attestation.
    fn served<'m>(
        model: &'m QuantizedModel,
        proofs_per_batch: usize,
    ) -> impl Fn(&str) -> Option<IntakeModel<'m>> + Copy {
        move |id| {
            (id == "1").then_some(IntakeModel {
                id: "1",
                quantized: model,
                batch_size: 4,
                proofs_per_batch,
                id_u256: alloy::primitives::U256::from(1u64),
                attestation: None,
                input_policy: None,
            })
        }
    }

    fn request(rows: Vec<Vec<f64>>) -> SubmitRequest {
        SubmitRequest { request_id: "r1".into(), model_id: "1".into(), rows, ..SubmitRequest::default() }
    }

    #[test]
    fn a_row_that_overflows_the_reference_inference_is_refused_naming_row_value_and_bound() {
        let model = logistic();
        let lookup = served(&model, 1);
        let (poison, feature) = poisoned_row(&model);
        let good = data_rows(&model, 1).remove(0);
        assert!(validate_for(request(vec![good.clone()]), lookup).is_ok());
        let err = validate_for(request(vec![good, poison]), lookup).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (422, "value_overflow"), "{}", err.message);
        assert!(err.message.contains("rows[1]"), "names the row: {}", err.message);
        assert!(err.message.contains(&format!("{feature:?}")), "names the feature {feature}: {}", err.message);
        let bits = model.fixed.value_bits - 1;
        assert!(err.message.contains(&format!("[-2^{bits}, 2^{bits})")), "names the bound: {}", err.message);
    }

    #[test]
    fn a_salted_request_may_fill_every_segment_of_a_batch_mode_transaction() {
        let model = logistic();
        let lookup = served(&model, 2);
        let salted = |n: usize| SubmitRequest { salt: Some(format!("0x{:064x}", 7)), ..request(data_rows(&model, n)) };
        if let Err(e) = validate_for(salted(8), lookup) {
            panic!("N * B rows with a salt: {} {}", e.code, e.message);
        }
        let err = validate_for(salted(9), lookup).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (413, "oversize_batch"), "{}", err.message);
        assert!(err.message.contains("at most 8 per request (a salted request: 2 segments of 4)"), "{}", err.message);
        let err = validate_for(request(data_rows(&model, 5)), lookup).unwrap_err();
        assert_eq!(err.code, "oversize_batch", "an unsalted request holds at most B rows: {}", err.message);
        assert!(err.message.contains("at most 4 per request"), "{}", err.message);
    }

    /// The first `n` rows of the calibration data.
    pub(crate) fn data_rows(model: &QuantizedModel, n: usize) -> Vec<Vec<f64>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let data = zkguard_prover::data::load_csv(&root.join("data/breast_cancer_logistic.csv"), &model.features)
            .expect("data");
        data.rows.into_iter().take(n).collect()
    }

    #[test]
    fn scores_show_their_real_value_beside_the_raw_integer() {
        let view = JobView {
            job: crate::store::JobRecord {
                id: "a".into(),
                model_id: "1".into(),
                state: crate::store::JobState::Confirmed,
                rows: vec![vec![0.0]; 2],
                salt: None,
                subjects: vec![],
                batch_id: Some(1),
                offset: Some(0),
                created_ms: 0,
                updated_ms: 0,
                error: None,
            },
            batch: Some(crate::store::BatchRecord {
                scores: Some(vec!["21524524".into(), "-1048576".into()]),
                ..Default::default()
            }),
            transitions: vec![],
        };
        let r = JobResponse::from(view).with_score_scale(20);
        assert_eq!(r.scores.as_deref(), Some(&["21524524".to_string(), "-1048576".to_string()][..]));
        assert_eq!(r.score_values, Some(vec![21524524.0 / 1048576.0, -1.0]));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["score_values"][1], -1.0);
        assert_eq!(json["score_scale_bits"], 20);
    }

    #[test]
    fn request_ids_may_hold_spaces_but_not_control_characters() {
        assert!(super::valid_request_id_chars("window 3 of day 2"));
        assert!(!super::valid_request_id_chars("tab\there"));
        assert!(!super::valid_request_id_chars("é"));
    }
}
