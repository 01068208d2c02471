//! The axum router: `POST /v1/requests`, `POST /v1/proofs` (a client's ready proof, see
//! [`super::proofs`]), `GET /v1/jobs/{id}` (all three need the bearer token), `GET /health` and
//! `GET /metrics`.
//!
//! Every store call runs on tokio's blocking pool (`on_store`): the store is synchronous (one
//! SQLite connection behind a lock), and a slow query must never stall the async runtime that
//! also serves the other requests. `/health` and `/metrics` read counters the store keeps
//! incrementally (no scan of the jobs).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::sync::Notify;

use super::auth;
use super::error::ApiError;
use super::proofs::{self, ProofIntake, ProofRefusal, SubmitProofRequest};
use super::validate::{parse_submit, JobResponse};
use crate::metrics::Metrics;
use crate::model::Models;
use crate::secret::Secret;
use crate::store::{JobStore, StoreError};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The job store.
    pub store: Arc<dyn JobStore>,
    /// Served models.
    pub models: Models,
    /// Bearer token.
    pub token: Secret,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the batcher when a job arrives.
    pub new_job: Arc<Notify>,
    /// The ready-proof intake (`POST /v1/proofs`).
    pub proofs: ProofIntake,
    /// Wakes the submitter when a ready proof is stored.
    pub proved: Arc<Notify>,
}

/// The router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/requests", post(submit))
        .route("/v1/proofs", post(submit_proof))
        .route("/v1/jobs/{id}", get(job))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Runs a store call on the blocking pool.
async fn on_store<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn JobStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || f(store.as_ref()))
        .await
        .unwrap_or_else(|e| Err(StoreError::NotFound(format!("the store call panicked: {e}"))))
}

/// The job's response, with its scores' real values when its model is served.
fn response(state: &AppState, view: crate::store::JobView) -> JobResponse {
    let scale = state.models.get(&view.job.model_id).map(|m| m.model.fixed.scale_bits);
    let r = JobResponse::from(view);
    match scale {
        Some(bits) => r.with_score_scale(bits),
        None => r,
    }
}

fn rejected(state: &AppState, e: ApiError) -> Response {
    if e.status.is_client_error() {
        state.metrics.rejected();
        tracing::info!(code = e.code, status = e.status.as_u16(), "request refused");
    }
    e.into_response()
}

/// A body axum could not read (too large, wrong content): a 4xx naming the limit.
fn body_rejected(e: BytesRejection) -> ApiError {
    ApiError::new(
        e.status(),
        "body_rejected",
        format!("{} (bodies are limited to {MAX_BODY_BYTES} bytes)", e.body_text()),
    )
}

async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let result = async {
        auth::check(&headers, &state.token)?;
        let body = body.map_err(body_rejected)?;
        let job = parse_submit(&body, &state.models)?;
        let new = job.clone();
        let inserted = on_store(&state, move |s| s.insert_job(&new)).await.map_err(|e| match e {
            StoreError::Conflict(id) => ApiError::new(
                StatusCode::CONFLICT,
                "request_id_conflict",
                format!("request id {id:?} was already used for a different request"),
            ),
            other => ApiError::internal(other),
        })?;
        if inserted.created {
            tracing::info!(job = %job.id, model = %job.model_id, rows = job.rows.len(), "job accepted");
            state.new_job.notify_one();
        }
        let status = if inserted.created { StatusCode::CREATED } else { StatusCode::OK };
        job_view(&state, &job.id, status).await
    }
    .await;
    result.unwrap_or_else(|e| rejected(&state, e))
}

async fn submit_proof(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        auth::check(&headers, &state.token)?;
        let body = body.map_err(body_rejected)?;
        let req: SubmitProofRequest = serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad("malformed_json", format!("the body is not a valid proof submission: {e}")))?;
        let (model, body_hash) = proofs::parse(&req, &state.models)?;
        let id = req.request_id.trim().to_string();
        // Idempotency first: a retry is answered even once its nonce is consumed or its proof aged.
        let key = id.clone();
        match on_store(&state, move |s| s.body_hash(&key)).await.map_err(ApiError::internal)? {
            Some(hash) if hash == body_hash => return job_view(&state, &id, StatusCode::OK).await,
            Some(_) => return Err(conflict(&id)),
            None => {}
        }
        let now_s = (crate::store::now_ms() / 1000) as u64;
        let prepared = proofs::prepare(&req, &model, body_hash, &state.proofs, now_s)?;
        let (instances, proof) = (prepared.instances.clone(), prepared.proof.clone());
        let verifier = model.clone();
        let slot = state.proofs.verify_slots.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(move || proofs::verify(&verifier, &instances, &proof))
            .await
            .map_err(|e| ApiError::internal(format!("verification panicked: {e}")))??;
        drop(slot);
        if proofs::nonce_used_on_chain(&state.proofs, model.id_u256, req.nonce).await? {
            return Err(ProofRefusal::NonceUsed { model: model.id.clone(), nonce: req.nonce, place: "on chain" }.into());
        }
        let (new_job, new_batch) = (prepared.job.clone(), prepared.batch.clone());
        let inserted =
            on_store(&state, move |s| s.insert_proved_job(&new_job, &new_batch)).await.map_err(|e| match e {
                StoreError::Conflict(id) => conflict(&id),
                StoreError::NonceTaken { model_id, nonce } => {
                    ProofRefusal::NonceUsed { model: model_id, nonce, place: "by another stored job" }.into()
                }
                other => ApiError::internal(other),
            })?;
        if inserted.created {
            tracing::info!(job = %id, model = %model.id, nonce = req.nonce, samples = prepared.batch.sample_count,
                "client proof accepted");
            state.proved.notify_one();
        }
        job_view(&state, &id, if inserted.created { StatusCode::CREATED } else { StatusCode::OK }).await
    }
    .await;
    result.unwrap_or_else(|e| rejected(&state, e))
}

fn conflict(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "request_id_conflict",
        format!("request id {id:?} was already used for a different request"),
    )
}

async fn job_view(state: &AppState, id: &str, status: StatusCode) -> Result<Response, ApiError> {
    let key = id.to_string();
    let view = on_store(state, move |s| s.job(&key))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal("job vanished"))?;
    Ok((status, Json(response(state, view))).into_response())
}

async fn job(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = async {
        auth::check(&headers, &state.token)?;
        let key = id.clone();
        let view = on_store(&state, move |s| s.job(&key)).await.map_err(ApiError::internal)?;
        let view = view.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_job", format!("no job {id:?}")))?;
        Ok::<_, ApiError>(Json(response(&state, view)).into_response())
    }
    .await;
    result.unwrap_or_else(|e| rejected(&state, e))
}

async fn health(State(state): State<AppState>) -> Response {
    match on_store(&state, |s| s.job_counts()).await {
        Ok(_) => {
            let modes: serde_json::Map<String, serde_json::Value> = state
                .models
                .values()
                .map(|m| {
                    let mode = serde_json::json!({
                        "mode": m.mode(),
                        "batch_size": m.batch_size,
                        "proofs_per_transaction": m.proofs_per_batch(),
                        "max_samples_per_transaction": m.batch_capacity(),
                        "min_samples_per_transaction": m.min_batch_samples(),
                    });
                    (m.id.clone(), mode)
                })
                .collect();
            Json(serde_json::json!({
                "status": "ok",
                "models": state.models.keys().collect::<Vec<_>>(),
                "modes": modes,
            }))
            .into_response()
        }
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable", e.to_string()).into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = state.metrics.clone();
    match on_store(&state, move |s| metrics.render(s)).await {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
