//! Batch mode's segment jobs on PostgreSQL ([`crate::store::segments`]): created with their
//! batch, claimed with `FOR UPDATE SKIP LOCKED`, a lease and a fencing token each, their proofs
//! stored in `segments`. Locks are taken batch first, then segment, everywhere.

use postgres::{Client, GenericClient, Transaction};

use super::rows::*;
use crate::store::types::*;
use crate::store::{LeaseToken, SegmentClaim, SegmentProof, SegmentRecord, SegmentState, StoreError};

/// Creates the `n` segments of a new batch (none in direct mode).
pub(super) fn insert(tx: &mut Transaction<'_>, batch_id: i64, n: usize) -> Result<(), StoreError> {
    for i in 0..n as i64 {
        tx.execute(
            "INSERT INTO segments (batch_id, idx, state, updated_ms) VALUES ($1, $2, 'created', $3)",
            &[&batch_id, &i, &now_ms()],
        )
        .map_err(pg)?;
    }
    Ok(())
}

/// Puts a batch's segments back to `created` without their proofs (tokens keep growing).
pub(super) fn reset(tx: &mut Transaction<'_>, batch_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL, instances = NULL, \
         proof = NULL, decisions = NULL, scores = NULL, proved_by = NULL, prove_ms = NULL, updated_ms = $2 \
         WHERE batch_id = $1",
        &[&batch_id, &now_ms()],
    )
    .map_err(pg)?;
    Ok(())
}

pub(super) fn claim(
    c: &mut Client,
    worker: &str,
    models: &[String],
    lease_ms: i64,
) -> Result<Option<SegmentClaim>, StoreError> {
    if models.is_empty() {
        return Ok(None);
    }
    let mut tx = c.transaction().map_err(pg)?;
    let now = now_ms();
    let found = tx
        .query_opt(
            "SELECT s.batch_id, s.idx, s.state, s.lease_owner, s.lease_token FROM segments s \
             JOIN batches b ON b.id = s.batch_id WHERE b.model_id = ANY($1) AND b.state = 'created' \
             AND (s.state = 'created' OR (s.state = 'proving' AND COALESCE(s.lease_until_ms, 0) < $2)) \
             ORDER BY s.batch_id, s.idx LIMIT 1 FOR UPDATE OF s SKIP LOCKED",
            &[&models, &now],
        )
        .map_err(pg)?;
    let Some(row) = found else { return Ok(None) };
    let batch_id: i64 = row.try_get(0).map_err(pg)?;
    let index: i64 = row.try_get(1).map_err(pg)?;
    let state: String = row.try_get(2).map_err(pg)?;
    let owner: Option<String> = row.try_get(3).map_err(pg)?;
    let token: i64 = row.try_get::<_, i64>(4).map_err(pg)? + 1;
    tx.execute(
        "UPDATE segments SET state = 'proving', lease_owner = $1, lease_until_ms = $2, lease_token = $3, \
         updated_ms = $4 WHERE batch_id = $5 AND idx = $6",
        &[&worker, &(now + lease_ms), &token, &now, &batch_id, &index],
    )
    .map_err(pg)?;
    let took_over_from = (state == "proving").then(|| owner.unwrap_or_else(|| "a stopped process".into()));
    let detail = match &took_over_from {
        Some(prev) => format!("segment {index}: lease of {prev} expired; claimed by {worker} (token {token})"),
        None => format!("segment {index}: claimed by {worker} (token {token})"),
    };
    let created = BatchState::Created.as_str();
    record(&mut tx, "batch", &batch_id.to_string(), Some(created), created, &detail)?;
    let batch = get_batch(&mut tx, batch_id)?.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
    tx.commit().map_err(pg)?;
    Ok(Some(SegmentClaim { batch, index: index as usize, token: LeaseToken(token), took_over_from }))
}

pub(super) fn renew(
    c: &mut Client,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    lease_ms: i64,
) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE segments SET lease_until_ms = $1 WHERE batch_id = $2 AND idx = $3 AND state = 'proving' \
             AND lease_token = $4 AND (SELECT state FROM batches WHERE id = $2) = 'created'",
            &[&(now_ms() + lease_ms), &batch_id, &(index as i64), &token.0],
        )
        .map_err(pg)?;
    if n == 0 {
        return Err(StoreError::SegmentLeaseLost { batch: batch_id, segment: index, token: token.0 });
    }
    Ok(())
}

/// Locks the batch and the segment inside `tx` and checks that `token` still holds the segment's
/// claim and the batch is `created`; returns the worker.
fn check_claim(tx: &mut Transaction<'_>, batch_id: i64, index: usize, token: LeaseToken) -> Result<String, StoreError> {
    let lost = || StoreError::SegmentLeaseLost { batch: batch_id, segment: index, token: token.0 };
    let batch = tx.query_opt("SELECT state FROM batches WHERE id = $1 FOR UPDATE", &[&batch_id]).map_err(pg)?;
    let batch_state: String =
        batch.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?.try_get(0).map_err(pg)?;
    let row = tx
        .query_opt(
            "SELECT state, lease_token, lease_owner FROM segments WHERE batch_id = $1 AND idx = $2 FOR UPDATE",
            &[&batch_id, &(index as i64)],
        )
        .map_err(pg)?
        .ok_or_else(|| StoreError::NotFound(format!("batch {batch_id} segment {index}")))?;
    let (state, held, owner): (String, i64, Option<String>) =
        (row.try_get(0).map_err(pg)?, row.try_get(1).map_err(pg)?, row.try_get(2).map_err(pg)?);
    if state != SegmentState::Proving.as_str() || held != token.0 || batch_state != BatchState::Created.as_str() {
        return Err(lost());
    }
    Ok(owner.unwrap_or_default())
}

pub(super) fn finish(
    c: &mut Client,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    p: &SegmentProof,
) -> Result<SegmentRecord, StoreError> {
    let mut tx = c.transaction().map_err(pg)?;
    let worker = check_claim(&mut tx, batch_id, index, token)?;
    tx.execute(
        "UPDATE segments SET state = 'proved', lease_owner = NULL, lease_until_ms = NULL, instances = $1, proof = $2, \
         decisions = $3, scores = $4, proved_by = $5, prove_ms = $6, updated_ms = $7 WHERE batch_id = $8 AND idx = $9",
        &[
            &json(&p.instances),
            &p.proof,
            &json(&p.decisions),
            &json(&p.scores),
            &worker,
            &p.prove_ms,
            &now_ms(),
            &batch_id,
            &(index as i64),
        ],
    )
    .map_err(pg)?;
    tx.execute(
        "INSERT INTO worker_proofs (worker, proofs) VALUES ($1, 1) \
         ON CONFLICT (worker) DO UPDATE SET proofs = worker_proofs.proofs + 1",
        &[&worker],
    )
    .map_err(pg)?;
    let created = BatchState::Created.as_str();
    let detail = format!("segment {index}: proof stored by {worker}");
    record(&mut tx, "batch", &batch_id.to_string(), Some(created), created, &detail)?;
    let rec = list(&mut tx, batch_id)?.into_iter().find(|s| s.index == index);
    tx.commit().map_err(pg)?;
    rec.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id} segment {index}")))
}

pub(super) fn fail(
    c: &mut Client,
    batch_id: i64,
    index: usize,
    token: LeaseToken,
    reason: &str,
) -> Result<BatchRecord, StoreError> {
    let mut tx = c.transaction().map_err(pg)?;
    check_claim(&mut tx, batch_id, index, token)?;
    tx.execute(
        "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL WHERE batch_id = $1 AND idx = $2",
        &[&batch_id, &(index as i64)],
    )
    .map_err(pg)?;
    let u = BatchUpdate { error: Some(format!("proving failed: segment {index}: {reason}")), ..Default::default() };
    let rec = transition_in(&mut tx, batch_id, BatchState::Created, BatchState::Failed, &u, "proving failed")?;
    tx.commit().map_err(pg)?;
    Ok(rec)
}

pub(super) fn list(c: &mut impl GenericClient, batch_id: i64) -> Result<Vec<SegmentRecord>, StoreError> {
    let rows = c
        .query(
            "SELECT idx, state, lease_owner, lease_token, instances, proof, decisions, scores, proved_by, prove_ms \
             FROM segments WHERE batch_id = $1 ORDER BY idx",
            &[&batch_id],
        )
        .map_err(pg)?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get(1).map_err(pg)?;
            let state = SegmentState::parse(&state).unwrap_or(SegmentState::Created);
            let text = |i: usize| r.try_get::<_, Option<String>>(i).map_err(pg);
            let proof = match (state, text(4)?, text(5)?, text(6)?, text(7)?) {
                (SegmentState::Proved, Some(i), Some(p), Some(d), Some(s)) => Some(SegmentProof {
                    instances: parse("segments.instances", &i)?,
                    proof: p,
                    decisions: parse("segments.decisions", &d)?,
                    scores: parse("segments.scores", &s)?,
                    prove_ms: r.try_get::<_, Option<i64>>(9).map_err(pg)?.unwrap_or_default(),
                }),
                _ => None,
            };
            Ok(SegmentRecord {
                batch_id,
                index: r.try_get::<_, i64>(0).map_err(pg)? as usize,
                state,
                lease_owner: r.try_get(2).map_err(pg)?,
                token: LeaseToken(r.try_get(3).map_err(pg)?),
                proof,
                proved_by: r.try_get(8).map_err(pg)?,
            })
        })
        .collect()
}

pub(super) fn release(c: &mut Client) -> Result<usize, StoreError> {
    let n = c
        .execute(
            "UPDATE segments SET state = 'created', lease_owner = NULL, lease_until_ms = NULL WHERE state = 'proving'",
            &[],
        )
        .map_err(pg)?;
    Ok(n as usize)
}
