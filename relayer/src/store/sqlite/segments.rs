//! Batch mode's segment jobs on SQLite ([`crate::store::segments`]): created with their batch,
//! claimed with a lease and a fencing token each, their proofs stored in `segments`.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::rows::{get_batch, json, parse, record, transition_in};
use crate::store::types::*;
use crate::store::{LeaseToken, SegmentClaim, SegmentProof, SegmentRecord, SegmentState, StoreError};

/// Creates the `n` segments of a new batch (none in direct mode).
pub(super) fn insert(tx: &Transaction<'_>, batch_id: i64, n: usize) -> Result<(), StoreError> {
    for i in 0..n {
        tx.execute(
            "INSERT INTO segments (batch_id, idx, state, updated_ms) VALUES (?1, ?2, 'created', ?3)",
            params![batch_id, i as i64, now_ms()],
        )?;
    }
    Ok(())
}

/// Puts a batch's segments back to `created` without their proofs (tokens keep growing, so a
/// claim from before cannot store its result).
pub(super) fn reset(tx: &Transaction<'_>, batch_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL, instances = NULL, \
         proof = NULL, decisions = NULL, scores = NULL, proved_by = NULL, prove_ms = NULL, updated_ms = ?2 \
         WHERE batch_id = ?1",
        params![batch_id, now_ms()],
    )?;
    Ok(())
}

pub(super) fn claim(
    conn: &mut Connection,
    worker: &str,
    models: &[String],
    lease_ms: i64,
) -> Result<Option<SegmentClaim>, StoreError> {
    let list = models.iter().map(|m| format!("'{}'", m.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    if list.is_empty() {
        return Ok(None);
    }
    let tx = conn.transaction()?;
    let now = now_ms();
    let found: Option<(i64, i64, String, Option<String>, i64)> = tx
        .query_row(
            &format!(
                "SELECT s.batch_id, s.idx, s.state, s.lease_owner, s.lease_token FROM segments s \
                 JOIN batches b ON b.id = s.batch_id WHERE b.model_id IN ({list}) AND b.state = 'created' \
                 AND (s.state = 'created' OR (s.state = 'proving' AND COALESCE(s.lease_until_ms, 0) < ?1)) \
                 ORDER BY s.batch_id, s.idx LIMIT 1"
            ),
            [now],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((batch_id, index, state, owner, token)) = found else { return Ok(None) };
    let token = token + 1;
    tx.execute(
        "UPDATE segments SET state = 'proving', lease_owner = ?1, lease_until_ms = ?2, lease_token = ?3, \
         updated_ms = ?4 WHERE batch_id = ?5 AND idx = ?6",
        params![worker, now + lease_ms, token, now, batch_id, index],
    )?;
    let took_over_from = (state == "proving").then(|| owner.unwrap_or_else(|| "a stopped process".into()));
    let detail = match &took_over_from {
        Some(prev) => format!("segment {index}: lease of {prev} expired; claimed by {worker} (token {token})"),
        None => format!("segment {index}: claimed by {worker} (token {token})"),
    };
    let created = BatchState::Created.as_str();
    record(&tx, "batch", &batch_id.to_string(), Some(created), created, &detail)?;
    let batch = get_batch(&tx, batch_id)?.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
    tx.commit()?;
    Ok(Some(SegmentClaim { batch, index: index as usize, token: LeaseToken(token), took_over_from }))
}

pub(super) fn renew(
    conn: &mut Connection,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    lease_ms: i64,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE segments SET lease_until_ms = ?1 WHERE batch_id = ?2 AND idx = ?3 AND state = 'proving' \
         AND lease_token = ?4 AND (SELECT state FROM batches WHERE id = ?2) = 'created'",
        params![now_ms() + lease_ms, batch_id, index as i64, token.0],
    )?;
    if n == 0 {
        return Err(StoreError::SegmentLeaseLost { batch: batch_id, segment: index, token: token.0 });
    }
    Ok(())
}

/// Checks inside `tx` that `token` still holds the segment's claim and its batch is `created`;
/// returns the worker.
pub(super) fn check_claim(
    tx: &Connection,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
) -> Result<String, StoreError> {
    let row: Option<(String, i64, Option<String>, String)> = tx
        .query_row(
            "SELECT s.state, s.lease_token, s.lease_owner, b.state FROM segments s JOIN batches b ON b.id = s.batch_id \
             WHERE s.batch_id = ?1 AND s.idx = ?2",
            params![batch_id, index as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match row {
        Some((state, held, owner, batch)) if state == "proving" && held == token.0 && batch == "created" => {
            Ok(owner.unwrap_or_default())
        }
        Some(_) => Err(StoreError::SegmentLeaseLost { batch: batch_id, segment: index, token: token.0 }),
        None => Err(StoreError::NotFound(format!("batch {batch_id} segment {index}"))),
    }
}

pub(super) fn finish(
    conn: &mut Connection,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    p: &SegmentProof,
) -> Result<SegmentRecord, StoreError> {
    let tx = conn.transaction()?;
    let worker = check_claim(&tx, batch_id, index, token)?;
    let now = now_ms();
    tx.execute(
        "UPDATE segments SET state = 'proved', lease_owner = NULL, lease_until_ms = NULL, instances = ?1, proof = ?2, \
         decisions = ?3, scores = ?4, proved_by = ?5, prove_ms = ?6, updated_ms = ?7 WHERE batch_id = ?8 AND idx = ?9",
        params![
            json(&p.instances),
            p.proof,
            json(&p.decisions),
            json(&p.scores),
            worker,
            p.prove_ms,
            now,
            batch_id,
            index as i64
        ],
    )?;
    tx.execute(
        "INSERT INTO worker_proofs (worker, proofs) VALUES (?1, 1) ON CONFLICT(worker) DO UPDATE SET proofs = proofs + 1",
        [&worker],
    )?;
    let created = BatchState::Created.as_str();
    let detail = format!("segment {index}: proof stored by {worker}");
    record(&tx, "batch", &batch_id.to_string(), Some(created), created, &detail)?;
    let rec = list(&tx, batch_id)?.into_iter().find(|s| s.index == index);
    tx.commit()?;
    rec.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id} segment {index}")))
}

pub(super) fn list(conn: &Connection, batch_id: i64) -> Result<Vec<SegmentRecord>, StoreError> {
    type Raw = (i64, String, Option<String>, i64, Option<String>, Option<String>, Option<String>, Option<String>);
    let mut stmt = conn.prepare_cached(
        "SELECT idx, state, lease_owner, lease_token, instances, proof, decisions, scores, proved_by, prove_ms \
         FROM segments WHERE batch_id = ?1 ORDER BY idx",
    )?;
    let rows = stmt
        .query_map([batch_id], |r| {
            let raw: Raw = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
            Ok((raw, r.get::<_, Option<String>>(8)?, r.get::<_, Option<i64>>(9)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|((idx, state, owner, token, instances, proof, decisions, scores), proved_by, prove_ms)| {
            let state = SegmentState::parse(&state).unwrap_or(SegmentState::Created);
            let proof = match (state, instances, proof, decisions, scores) {
                (SegmentState::Proved, Some(i), Some(p), Some(d), Some(s)) => Some(SegmentProof {
                    instances: parse("segments.instances", &i)?,
                    proof: p,
                    decisions: parse("segments.decisions", &d)?,
                    scores: parse("segments.scores", &s)?,
                    prove_ms: prove_ms.unwrap_or_default(),
                }),
                _ => None,
            };
            Ok(SegmentRecord {
                batch_id,
                index: idx as usize,
                state,
                lease_owner: owner,
                token: LeaseToken(token),
                proof,
                proved_by,
            })
        })
        .collect()
}

/// Fails a segment's batch while `token` holds the segment's claim ([`crate::store::JobStore::fail_segment`]).
pub(super) fn fail(
    conn: &mut Connection,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    reason: &str,
) -> Result<BatchRecord, StoreError> {
    let tx = conn.transaction()?;
    check_claim(&tx, batch_id, index, token)?;
    tx.execute(
        "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL \
         WHERE batch_id = ?1 AND idx = ?2",
        params![batch_id, index as i64],
    )?;
    let u = BatchUpdate { error: Some(format!("proving failed: segment {index}: {reason}")), ..Default::default() };
    let rec = transition_in(&tx, batch_id, BatchState::Created, BatchState::Failed, &u, "proving failed")?;
    tx.commit()?;
    Ok(rec)
}

/// Puts every `proving` segment back to `created` ([`crate::store::JobStore::release_segment_leases`]).
pub(super) fn release(conn: &mut Connection) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL WHERE state = 'proving'",
        [],
    )?)
}
