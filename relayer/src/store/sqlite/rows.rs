//! Rows and small queries of the SQLite store: the column lists, mapping rows to records, JSON
//! columns, the transition log and the per-model nonce allocator.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction as SqlTx};

use crate::store::types::*;
use crate::store::StoreError;

pub(super) use crate::store::types::{from_json as parse, to_json as json};

pub(super) const JOB_COLUMNS: &str =
    "id, model_id, state, rows, salt, subjects, batch_id, sample_offset, created_ms, updated_ms, error";
pub(super) const BATCH_COLUMNS: &str =
    "id, model_id, state, nonce, issued_at, salt, subjects, sample_count, instances, proof, \
     decisions, scores, tx_hash, block_number, gas_used, prove_ms, error, created_ms, updated_ms, client_proof, carried_by, proved_by, \
     segments, aggregation_mb";

pub(super) struct RawJob {
    rec: JobRecord,
    rows: String,
    subjects: String,
}

pub(super) fn raw_job(row: &Row<'_>) -> rusqlite::Result<RawJob> {
    let state: String = row.get(2)?;
    Ok(RawJob {
        rec: JobRecord {
            id: row.get(0)?,
            model_id: row.get(1)?,
            state: JobState::parse(&state).unwrap_or(JobState::Failed),
            rows: vec![],
            salt: row.get(4)?,
            subjects: vec![],
            batch_id: row.get(6)?,
            offset: row.get::<_, Option<i64>>(7)?.map(|o| o as usize),
            created_ms: row.get(8)?,
            updated_ms: row.get(9)?,
            error: row.get(10)?,
        },
        rows: row.get(3)?,
        subjects: row.get(5)?,
    })
}

pub(super) fn finish_job(raw: RawJob) -> Result<JobRecord, StoreError> {
    let mut rec = raw.rec;
    rec.rows = parse("jobs.rows", &raw.rows)?;
    rec.subjects = parse("jobs.subjects", &raw.subjects)?;
    Ok(rec)
}

pub(super) struct RawBatch {
    rec: BatchRecord,
    subjects: String,
    instances: Option<String>,
    decisions: Option<String>,
    scores: Option<String>,
}

pub(super) fn raw_batch(row: &Row<'_>) -> rusqlite::Result<RawBatch> {
    let state: String = row.get(2)?;
    Ok(RawBatch {
        rec: BatchRecord {
            id: row.get(0)?,
            model_id: row.get(1)?,
            state: BatchState::parse(&state),
            nonce: row.get::<_, i64>(3)? as u64,
            issued_at: row.get::<_, i64>(4)? as u64,
            salt: row.get(5)?,
            sample_count: row.get::<_, i64>(7)? as usize,
            proof: row.get(9)?,
            tx_hash: row.get(12)?,
            block_number: row.get::<_, Option<i64>>(13)?.map(|b| b as u64),
            gas_used: row.get::<_, Option<i64>>(14)?.map(|g| g as u64),
            prove_ms: row.get(15)?,
            error: row.get(16)?,
            created_ms: row.get(17)?,
            updated_ms: row.get(18)?,
            client_proof: row.get(19)?,
            carried_by: row.get(20)?,
            proved_by: row.get(21)?,
            segments: row.get::<_, i64>(22)? as usize,
            aggregation_mb: row.get::<_, i64>(23)? as u64,
            ..BatchRecord::default()
        },
        subjects: row.get(6)?,
        instances: row.get(8)?,
        decisions: row.get(10)?,
        scores: row.get(11)?,
    })
}

pub(super) fn finish_batch(raw: RawBatch) -> Result<BatchRecord, StoreError> {
    let mut rec = raw.rec;
    rec.subjects = parse("batches.subjects", &raw.subjects)?;
    rec.instances = raw.instances.map(|t| parse("batches.instances", &t)).transpose()?;
    rec.decisions = raw.decisions.map(|t| parse("batches.decisions", &t)).transpose()?;
    rec.scores = raw.scores.map(|t| parse("batches.scores", &t)).transpose()?;
    Ok(rec)
}

pub(super) fn record(
    tx: &SqlTx<'_>,
    entity: &str,
    id: &str,
    from: Option<&str>,
    to: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO transitions (entity, entity_id, from_state, to_state, detail, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![entity, id, from, to, detail, now_ms()],
    )?;
    Ok(())
}

pub(super) fn get_job(tx: &Connection, id: &str) -> Result<Option<JobRecord>, StoreError> {
    let raw = tx.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], raw_job).optional()?;
    raw.map(finish_job).transpose()
}

pub(super) fn get_batch(tx: &Connection, id: i64) -> Result<Option<BatchRecord>, StoreError> {
    let raw =
        tx.query_row(&format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1"), [id], raw_batch).optional()?;
    raw.map(finish_batch).transpose()
}

/// Refuses unless batch `batch_id` exists and is in state `from`.
pub(super) fn expect_state(tx: &Connection, batch_id: i64, from: BatchState) -> Result<(), StoreError> {
    let found: Option<String> =
        tx.query_row("SELECT state FROM batches WHERE id = ?1", [batch_id], |r| r.get(0)).optional()?;
    let found = found.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
    if found != from.as_str() {
        return Err(StoreError::WrongState { batch: batch_id, expected: from.to_string(), found });
    }
    Ok(())
}

/// A job's client attestation, if it has one.
pub(super) fn job_attestation(tx: &Connection, job_id: &str) -> Result<Option<ClientAttestation>, StoreError> {
    let row: Option<(i64, i64, String)> = tx
        .query_row("SELECT nonce, issued_at, attestations FROM job_attestations WHERE job_id = ?1", [job_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(nonce, issued_at, text)| {
        Ok(ClientAttestation {
            nonce: nonce as u64,
            issued_at: issued_at as u64,
            attestations: parse("job_attestations.attestations", &text)?,
        })
    })
    .transpose()
}

/// Takes the next Guard nonce of a model (at least `floor`) inside `tx`.
pub(super) fn take_nonce(tx: &Connection, model_id: &str, floor: u64) -> Result<u64, StoreError> {
    let next: Option<i64> =
        tx.query_row("SELECT next_nonce FROM model_nonces WHERE model_id = ?1", [model_id], |r| r.get(0)).optional()?;
    let nonce = next.map(|n| n as u64).unwrap_or(0).max(floor);
    tx.execute(
        "INSERT INTO model_nonces (model_id, next_nonce) VALUES (?1, ?2) \
         ON CONFLICT(model_id) DO UPDATE SET next_nonce = excluded.next_nonce",
        params![model_id, (nonce + 1) as i64],
    )?;
    Ok(nonce)
}

/// Moves a batch (and its jobs) from `from` to `to` inside `tx` ([`crate::store::JobStore::transition`]).
pub(super) fn transition_in(
    tx: &rusqlite::Transaction<'_>,
    batch_id: i64,
    from: BatchState,
    to: BatchState,
    u: &BatchUpdate,
    detail: &str,
) -> Result<BatchRecord, StoreError> {
    expect_state(tx, batch_id, from)?;
    let now = now_ms();
    tx.execute(
        "UPDATE batches SET state = ?1, updated_ms = ?2, \
               nonce = COALESCE(?3, nonce), issued_at = COALESCE(?4, issued_at), \
               instances = CASE WHEN ?13 THEN NULL ELSE COALESCE(?5, instances) END, \
               proof = CASE WHEN ?13 THEN NULL ELSE COALESCE(?6, proof) END, \
               decisions = CASE WHEN ?13 THEN NULL ELSE COALESCE(?7, decisions) END, \
               scores = CASE WHEN ?13 THEN NULL ELSE COALESCE(?8, scores) END, \
               tx_hash = COALESCE(?9, tx_hash), block_number = COALESCE(?10, block_number), \
               gas_used = COALESCE(?11, gas_used), prove_ms = COALESCE(?12, prove_ms), \
               error = COALESCE(?14, error), carried_by = COALESCE(?16, carried_by) \
             WHERE id = ?15",
        params![
            to.as_str(),
            now,
            u.nonce.map(|n| n as i64),
            u.issued_at.map(|n| n as i64),
            u.instances.as_ref().map(json),
            u.proof,
            u.decisions.as_ref().map(json),
            u.scores.as_ref().map(json),
            u.tx_hash,
            u.block_number.map(|n| n as i64),
            u.gas_used.map(|n| n as i64),
            u.prove_ms,
            u.clear_proof,
            u.error,
            batch_id,
            u.carried_by
        ],
    )?;
    record(tx, "batch", &batch_id.to_string(), Some(from.as_str()), to.as_str(), detail)?;
    if to == BatchState::Created && u.clear_proof {
        // Proved again with a new context: its segments' proofs are bound to the old one.
        super::segments::reset(tx, batch_id)?;
    }
    let (job_from, job_to) = (from.job_state(), to.job_state());
    if job_from != job_to {
        let ids: Vec<String> = {
            let mut stmt = tx.prepare("SELECT id FROM jobs WHERE batch_id = ?1")?;
            let ids = stmt.query_map([batch_id], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            ids
        };
        tx.execute(
            "UPDATE jobs SET state = ?1, updated_ms = ?2, error = COALESCE(?3, error) WHERE batch_id = ?4",
            params![job_to.as_str(), now, u.error, batch_id],
        )?;
        for id in ids {
            record(tx, "job", &id, Some(job_from.as_str()), job_to.as_str(), &format!("batch {batch_id}: {detail}"))?;
        }
    }
    let rec = get_batch(tx, batch_id)?.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
    Ok(rec)
}
