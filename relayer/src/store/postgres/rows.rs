//! Rows and small queries of the PostgreSQL store: mapping rows to records, the transition log,
//! state checks and the per-model nonce allocator (the same columns as SQLite's `rows.rs`).

use postgres::{GenericClient, Row, Transaction};

use crate::store::types::*;
use crate::store::StoreError;

pub(super) use crate::store::types::{from_json as parse, to_json as json};

/// Any driver error inside a call (the connection-class mapping happens in [`super::db_error`]).
pub(super) fn pg(e: postgres::Error) -> StoreError {
    super::db_error("", e)
}

pub(super) const JOB_COLUMNS: &str =
    "id, model_id, state, rows, salt, subjects, batch_id, sample_offset, created_ms, updated_ms, error";
pub(super) const BATCH_COLUMNS: &str =
    "id, model_id, state, nonce, issued_at, salt, subjects, sample_count, instances, proof, \
     decisions, scores, tx_hash, block_number, gas_used, prove_ms, error, created_ms, updated_ms, client_proof, \
     carried_by, proved_by, segments, aggregation_mb";

pub(super) fn job_of(row: &Row) -> Result<JobRecord, StoreError> {
    let state: String = row.try_get(2).map_err(pg)?;
    Ok(JobRecord {
        id: row.try_get(0).map_err(pg)?,
        model_id: row.try_get(1).map_err(pg)?,
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        rows: parse("jobs.rows", row.try_get::<_, &str>(3).map_err(pg)?)?,
        salt: row.try_get(4).map_err(pg)?,
        subjects: parse("jobs.subjects", row.try_get::<_, &str>(5).map_err(pg)?)?,
        batch_id: row.try_get(6).map_err(pg)?,
        offset: row.try_get::<_, Option<i64>>(7).map_err(pg)?.map(|o| o as usize),
        created_ms: row.try_get(8).map_err(pg)?,
        updated_ms: row.try_get(9).map_err(pg)?,
        error: row.try_get(10).map_err(pg)?,
    })
}

fn opt_json<T: serde::de::DeserializeOwned>(
    row: &Row,
    i: usize,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    row.try_get::<_, Option<&str>>(i).map_err(pg)?.map(|t| parse(column, t)).transpose()
}

pub(super) fn batch_of(row: &Row) -> Result<BatchRecord, StoreError> {
    let state: String = row.try_get(2).map_err(pg)?;
    Ok(BatchRecord {
        id: row.try_get(0).map_err(pg)?,
        model_id: row.try_get(1).map_err(pg)?,
        state: BatchState::parse(&state),
        nonce: row.try_get::<_, i64>(3).map_err(pg)? as u64,
        issued_at: row.try_get::<_, i64>(4).map_err(pg)? as u64,
        salt: row.try_get(5).map_err(pg)?,
        subjects: parse("batches.subjects", row.try_get::<_, &str>(6).map_err(pg)?)?,
        sample_count: row.try_get::<_, i64>(7).map_err(pg)? as usize,
        instances: opt_json(row, 8, "batches.instances")?,
        proof: row.try_get(9).map_err(pg)?,
        decisions: opt_json(row, 10, "batches.decisions")?,
        scores: opt_json(row, 11, "batches.scores")?,
        tx_hash: row.try_get(12).map_err(pg)?,
        block_number: row.try_get::<_, Option<i64>>(13).map_err(pg)?.map(|b| b as u64),
        gas_used: row.try_get::<_, Option<i64>>(14).map_err(pg)?.map(|g| g as u64),
        prove_ms: row.try_get(15).map_err(pg)?,
        error: row.try_get(16).map_err(pg)?,
        created_ms: row.try_get(17).map_err(pg)?,
        updated_ms: row.try_get(18).map_err(pg)?,
        client_proof: row.try_get(19).map_err(pg)?,
        carried_by: row.try_get(20).map_err(pg)?,
        proved_by: row.try_get(21).map_err(pg)?,
        segments: row.try_get::<_, i64>(22).map_err(pg)? as usize,
        aggregation_mb: row.try_get::<_, i64>(23).map_err(pg)? as u64,
    })
}

pub(super) fn record(
    c: &mut impl GenericClient,
    entity: &str,
    id: &str,
    from: Option<&str>,
    to: &str,
    detail: &str,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO transitions (entity, entity_id, from_state, to_state, detail, at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&entity, &id, &from, &to, &detail, &now_ms()],
    )
    .map_err(pg)?;
    Ok(())
}

pub(super) fn get_job(c: &mut impl GenericClient, id: &str) -> Result<Option<JobRecord>, StoreError> {
    let row = c.query_opt(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"), &[&id]).map_err(pg)?;
    row.as_ref().map(job_of).transpose()
}

pub(super) fn get_batch(c: &mut impl GenericClient, id: i64) -> Result<Option<BatchRecord>, StoreError> {
    let row = c.query_opt(&format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = $1"), &[&id]).map_err(pg)?;
    row.as_ref().map(batch_of).transpose()
}

/// Locks batch `batch_id` and refuses unless it is in state `from`.
pub(super) fn expect_state(c: &mut impl GenericClient, batch_id: i64, from: BatchState) -> Result<(), StoreError> {
    let row = c.query_opt("SELECT state FROM batches WHERE id = $1 FOR UPDATE", &[&batch_id]).map_err(pg)?;
    let found: String = row.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?.try_get(0).map_err(pg)?;
    if found != from.as_str() {
        return Err(StoreError::WrongState { batch: batch_id, expected: from.to_string(), found });
    }
    Ok(())
}

/// A job's client attestation, if it has one.
pub(super) fn job_attestation(
    c: &mut impl GenericClient,
    job_id: &str,
) -> Result<Option<ClientAttestation>, StoreError> {
    let row = c
        .query_opt("SELECT nonce, issued_at, attestations FROM job_attestations WHERE job_id = $1", &[&job_id])
        .map_err(pg)?;
    row.map(|r| {
        Ok(ClientAttestation {
            nonce: r.try_get::<_, i64>(0).map_err(pg)? as u64,
            issued_at: r.try_get::<_, i64>(1).map_err(pg)? as u64,
            attestations: parse("job_attestations.attestations", r.try_get::<_, &str>(2).map_err(pg)?)?,
        })
    })
    .transpose()
}

/// Takes the next Guard nonce of a model (at least `floor`), atomically.
pub(super) fn take_nonce(c: &mut impl GenericClient, model_id: &str, floor: u64) -> Result<u64, StoreError> {
    let row = c
        .query_one(
            "INSERT INTO model_nonces (model_id, next_nonce) VALUES ($1, $2::BIGINT + 1) \
             ON CONFLICT (model_id) DO UPDATE SET next_nonce = GREATEST(model_nonces.next_nonce, $2::BIGINT) + 1 \
             RETURNING next_nonce - 1",
            &[&model_id, &(floor as i64)],
        )
        .map_err(pg)?;
    Ok(row.try_get::<_, i64>(0).map_err(pg)? as u64)
}

/// Moves a batch (and its jobs) from `from` to `to` inside `tx` ([`crate::store::JobStore::transition`]).
pub(super) fn transition_in(
    tx: &mut Transaction<'_>,
    batch_id: i64,
    from: BatchState,
    to: BatchState,
    u: &BatchUpdate,
    detail: &str,
) -> Result<BatchRecord, StoreError> {
    expect_state(tx, batch_id, from)?;
    let now = now_ms();
    tx.execute(
        "UPDATE batches SET state = $1, updated_ms = $2, \
           nonce = COALESCE($3, nonce), issued_at = COALESCE($4, issued_at), \
           instances = CASE WHEN $13 THEN NULL ELSE COALESCE($5, instances) END, \
           proof = CASE WHEN $13 THEN NULL ELSE COALESCE($6, proof) END, \
           decisions = CASE WHEN $13 THEN NULL ELSE COALESCE($7, decisions) END, \
           scores = CASE WHEN $13 THEN NULL ELSE COALESCE($8, scores) END, \
           tx_hash = COALESCE($9, tx_hash), block_number = COALESCE($10, block_number), \
           gas_used = COALESCE($11, gas_used), prove_ms = COALESCE($12, prove_ms), \
           error = COALESCE($14, error), carried_by = COALESCE($16, carried_by) \
         WHERE id = $15",
        &[
            &to.as_str(),
            &now,
            &u.nonce.map(|n| n as i64),
            &u.issued_at.map(|n| n as i64),
            &u.instances.as_ref().map(json),
            &u.proof,
            &u.decisions.as_ref().map(json),
            &u.scores.as_ref().map(json),
            &u.tx_hash,
            &u.block_number.map(|n| n as i64),
            &u.gas_used.map(|n| n as i64),
            &u.prove_ms,
            &u.clear_proof,
            &u.error,
            &batch_id,
            &u.carried_by,
        ],
    )
    .map_err(pg)?;
    record(tx, "batch", &batch_id.to_string(), Some(from.as_str()), to.as_str(), detail)?;
    if to == BatchState::Created && u.clear_proof {
        // Proved again with a new context: its segments' proofs are bound to the old one.
        super::segments::reset(tx, batch_id)?;
    }
    let (job_from, job_to) = (from.job_state(), to.job_state());
    if job_from != job_to {
        let rows = tx
            .query(
                "UPDATE jobs SET state = $1, updated_ms = $2, error = COALESCE($3, error) WHERE batch_id = $4 \
                 RETURNING id",
                &[&job_to.as_str(), &now, &u.error, &batch_id],
            )
            .map_err(pg)?;
        for row in rows {
            let id: String = row.try_get(0).map_err(pg)?;
            record(tx, "job", &id, Some(job_from.as_str()), job_to.as_str(), &format!("batch {batch_id}: {detail}"))?;
        }
    }
    get_batch(tx, batch_id)?.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))
}
