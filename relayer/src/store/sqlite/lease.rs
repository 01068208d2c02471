//! The fleet's leases on SQLite (one process: the `all` role claims its own batches the same
//! way a fleet's provers do, so one proving pool serves both backends).

use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{get_batch, record, transition_in};
use crate::store::types::*;
use crate::store::{Claim, LeaseToken, StoreError, SubmitterLease};

pub(super) fn claim(
    conn: &mut Connection,
    worker: &str,
    models: &[String],
    lease_ms: i64,
    memory_budget_mb: u64,
) -> Result<Option<Claim>, StoreError> {
    let tx = conn.transaction()?;
    let budget = memory_budget_mb.min(i64::MAX as u64) as i64;
    let now = now_ms();
    let list = models.iter().map(|m| format!("'{}'", m.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    if list.is_empty() {
        return Ok(None);
    }
    let found: Option<(i64, String, Option<String>, i64)> = tx
        .query_row(
            &format!(
                "SELECT id, state, lease_owner, lease_token FROM batches b WHERE model_id IN ({list}) \
                 AND aggregation_mb <= ?2 \
                 AND ((state = 'created' AND segments = \
                         (SELECT COUNT(*) FROM segments s WHERE s.batch_id = b.id AND s.state = 'proved')) \
                      OR (state = 'proving' AND COALESCE(lease_until_ms, 0) < ?1)) \
                 ORDER BY id LIMIT 1"
            ),
            params![now, budget],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((id, state, owner, token)) = found else { return Ok(None) };
    let token = token + 1;
    tx.execute(
        "UPDATE batches SET state = 'proving', lease_owner = ?1, lease_until_ms = ?2, lease_token = ?3, \
         updated_ms = ?4 WHERE id = ?5",
        params![worker, now + lease_ms, token, now, id],
    )?;
    let took_over_from = (state == "proving").then(|| owner.unwrap_or_else(|| "a stopped process".into()));
    let detail = match &took_over_from {
        Some(prev) => format!("lease of {prev} expired; claimed by {worker} (token {token})"),
        None => format!("claimed by {worker} (token {token})"),
    };
    record(&tx, "batch", &id.to_string(), Some(&state), BatchState::Proving.as_str(), &detail)?;
    let batch = get_batch(&tx, id)?.ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
    tx.commit()?;
    Ok(Some(Claim { batch, token: LeaseToken(token), took_over_from }))
}

pub(super) fn renew(conn: &mut Connection, batch_id: i64, token: LeaseToken, lease_ms: i64) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE batches SET lease_until_ms = ?1 WHERE id = ?2 AND state = 'proving' AND lease_token = ?3",
        params![now_ms() + lease_ms, batch_id, token.0],
    )?;
    if n == 0 {
        return Err(StoreError::LeaseLost { batch: batch_id, token: token.0 });
    }
    Ok(())
}

/// Checks inside `tx` that `token` still holds the batch's claim; returns the worker.
pub(super) fn check_claim(tx: &Connection, batch_id: i64, token: LeaseToken) -> Result<String, StoreError> {
    let row: Option<(String, i64, Option<String>)> = tx
        .query_row("SELECT state, lease_token, lease_owner FROM batches WHERE id = ?1", [batch_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        Some((state, held, owner)) if state == "proving" && held == token.0 => Ok(owner.unwrap_or_default()),
        Some(_) => Err(StoreError::LeaseLost { batch: batch_id, token: token.0 }),
        None => Err(StoreError::NotFound(format!("batch {batch_id}"))),
    }
}

pub(super) fn proofs_by_worker(conn: &mut Connection) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT worker, proofs FROM worker_proofs ORDER BY worker")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn acquire_submitter(
    conn: &mut Connection,
    account: &str,
    holder: &str,
    lease_ms: i64,
) -> Result<Option<SubmitterLease>, StoreError> {
    let tx = conn.transaction()?;
    let now = now_ms();
    let current = get_submitter(&tx, account)?;
    let lease = match current {
        Some(l) if l.holder != holder && l.until_ms >= now => return Ok(None),
        Some(l) => {
            let token = if l.holder == holder { l.token } else { l.token + 1 };
            tx.execute(
                "UPDATE submitter_leases SET holder = ?1, until_ms = ?2, token = ?3 WHERE account = ?4",
                params![holder, now + lease_ms, token, account],
            )?;
            SubmitterLease { account: account.into(), holder: holder.into(), until_ms: now + lease_ms, token }
        }
        None => {
            tx.execute(
                "INSERT INTO submitter_leases (account, holder, until_ms, token) VALUES (?1, ?2, ?3, 1)",
                params![account, holder, now + lease_ms],
            )?;
            SubmitterLease { account: account.into(), holder: holder.into(), until_ms: now + lease_ms, token: 1 }
        }
    };
    tx.commit()?;
    Ok(Some(lease))
}

pub(super) fn release_submitter(conn: &mut Connection, account: &str, holder: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE submitter_leases SET until_ms = 0 WHERE account = ?1 AND holder = ?2",
        params![account, holder],
    )?;
    Ok(())
}

pub(super) fn get_submitter(conn: &Connection, account: &str) -> Result<Option<SubmitterLease>, StoreError> {
    Ok(conn
        .query_row("SELECT holder, until_ms, token FROM submitter_leases WHERE account = ?1", [account], |r| {
            Ok(SubmitterLease { account: account.into(), holder: r.get(0)?, until_ms: r.get(1)?, token: r.get(2)? })
        })
        .optional()?)
}

/// Ends a claim while `token` still holds it ([`crate::store::JobStore::finish_claim`]).
pub(super) fn finish(
    conn: &mut Connection,
    batch_id: i64,
    token: LeaseToken,
    to: BatchState,
    u: &BatchUpdate,
    detail: &str,
) -> Result<BatchRecord, StoreError> {
    let tx = conn.transaction()?;
    let worker = check_claim(&tx, batch_id, token)?;
    let mut rec = transition_in(&tx, batch_id, BatchState::Proving, to, u, detail)?;
    tx.execute(
        "UPDATE batches SET lease_owner = NULL, lease_until_ms = NULL, \
         proved_by = CASE WHEN ?1 THEN ?2 ELSE proved_by END WHERE id = ?3",
        params![to == BatchState::Proved, worker, batch_id],
    )?;
    if to == BatchState::Proved {
        tx.execute(
            "INSERT INTO worker_proofs (worker, proofs) VALUES (?1, 1) \
             ON CONFLICT(worker) DO UPDATE SET proofs = proofs + 1",
            [&worker],
        )?;
        rec.proved_by = Some(worker);
    }
    tx.commit()?;
    Ok(rec)
}
