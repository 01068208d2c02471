//! The axum router: `POST /v1/requests`, `GET /v1/jobs/{id}` (both need the bearer token),
//! `GET /health` and `GET /metrics`.

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
}

/// The router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/requests", post(submit))
        .route("/v1/jobs/{id}", get(job))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn rejected(state: &AppState, e: ApiError) -> Response {
    if e.status.is_client_error() {
        state.metrics.rejected();
        tracing::info!(code = e.code, status = e.status.as_u16(), "request refused");
    }
    e.into_response()
}

async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let result = async {
        auth::check(&headers, &state.token)?;
        let body = body.map_err(|e| {
            ApiError::new(
                e.status(),
                "body_rejected",
                format!("{} (bodies are limited to {MAX_BODY_BYTES} bytes)", e.body_text()),
            )
        })?;
        let job = parse_submit(&body, &state.models)?;
        let inserted = state.store.insert_job(&job).map_err(|e| match e {
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
        let view =
            state.store.job(&job.id).map_err(ApiError::internal)?.ok_or_else(|| ApiError::internal("job vanished"))?;
        let status = if inserted.created { StatusCode::CREATED } else { StatusCode::OK };
        Ok::<_, ApiError>((status, Json(JobResponse::from(view))).into_response())
    }
    .await;
    result.unwrap_or_else(|e| rejected(&state, e))
}

async fn job(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let result = (|| {
        auth::check(&headers, &state.token)?;
        let view = state.store.job(&id).map_err(ApiError::internal)?;
        let view = view.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_job", format!("no job {id:?}")))?;
        Ok::<_, ApiError>(Json(JobResponse::from(view)).into_response())
    })();
    result.unwrap_or_else(|e| rejected(&state, e))
}

async fn health(State(state): State<AppState>) -> Response {
    match state.store.job_counts() {
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
    match state.metrics.render(state.store.as_ref()) {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
