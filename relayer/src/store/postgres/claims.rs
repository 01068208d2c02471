//! The fleet's leases on PostgreSQL: provers claim batches with `FOR UPDATE SKIP LOCKED` (two
//! provers never wait on, or take, the same row), renew the lease with heartbeats, and store their
//! result only while their fencing token is still the batch's; one submitter per signing account
//! holds a lease row.

use postgres::{Client, GenericClient};

use super::rows::*;
use crate::store::types::*;
use crate::store::{Claim, LeaseToken, StoreError, SubmitterLease};

pub(super) fn claim(
    c: &mut Client,
    worker: &str,
    models: &[String],
    lease_ms: i64,
    memory_budget_mb: u64,
) -> Result<Option<Claim>, StoreError> {
    if models.is_empty() {
        return Ok(None);
    }
    let mut tx = c.transaction().map_err(pg)?;
    let now = now_ms();
    let budget = memory_budget_mb.min(i64::MAX as u64) as i64;
    let found = tx
        .query_opt(
            "SELECT id, state, lease_owner, lease_token FROM batches b WHERE model_id = ANY($1) \
             AND aggregation_mb <= $3 \
             AND ((state = 'created' AND segments = \
                     (SELECT COUNT(*) FROM segments s WHERE s.batch_id = b.id AND s.state = 'proved')) \
                  OR (state = 'proving' AND COALESCE(lease_until_ms, 0) < $2)) \
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[&models, &now, &budget],
        )
        .map_err(pg)?;
    let Some(row) = found else { return Ok(None) };
    let id: i64 = row.try_get(0).map_err(pg)?;
    let state: String = row.try_get(1).map_err(pg)?;
    let owner: Option<String> = row.try_get(2).map_err(pg)?;
    let token: i64 = row.try_get::<_, i64>(3).map_err(pg)? + 1;
    tx.execute(
        "UPDATE batches SET state = 'proving', lease_owner = $1, lease_until_ms = $2, lease_token = $3, \
         updated_ms = $4 WHERE id = $5",
        &[&worker, &(now + lease_ms), &token, &now, &id],
    )
    .map_err(pg)?;
    let took_over_from = (state == "proving").then(|| owner.unwrap_or_else(|| "a stopped process".into()));
    let detail = match &took_over_from {
        Some(prev) => format!("lease of {prev} expired; claimed by {worker} (token {token})"),
        None => format!("claimed by {worker} (token {token})"),
    };
    record(&mut tx, "batch", &id.to_string(), Some(&state), BatchState::Proving.as_str(), &detail)?;
    let batch = get_batch(&mut tx, id)?.ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
    tx.commit().map_err(pg)?;
    Ok(Some(Claim { batch, token: LeaseToken(token), took_over_from }))
}

pub(super) fn renew(c: &mut Client, batch_id: i64, token: LeaseToken, lease_ms: i64) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE batches SET lease_until_ms = $1 WHERE id = $2 AND state = 'proving' AND lease_token = $3",
            &[&(now_ms() + lease_ms), &batch_id, &token.0],
        )
        .map_err(pg)?;
    if n == 0 {
        return Err(StoreError::LeaseLost { batch: batch_id, token: token.0 });
    }
    Ok(())
}

pub(super) fn finish(
    c: &mut Client,
    batch_id: i64,
    token: LeaseToken,
    to: BatchState,
    update: &BatchUpdate,
    detail: &str,
) -> Result<BatchRecord, StoreError> {
    let mut tx = c.transaction().map_err(pg)?;
    let row = tx
        .query_opt("SELECT state, lease_token, lease_owner FROM batches WHERE id = $1 FOR UPDATE", &[&batch_id])
        .map_err(pg)?
        .ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
    let (state, held, owner): (String, i64, Option<String>) =
        (row.try_get(0).map_err(pg)?, row.try_get(1).map_err(pg)?, row.try_get(2).map_err(pg)?);
    if state != BatchState::Proving.as_str() || held != token.0 {
        return Err(StoreError::LeaseLost { batch: batch_id, token: token.0 });
    }
    let worker = owner.unwrap_or_default();
    let mut rec = transition_in(&mut tx, batch_id, BatchState::Proving, to, update, detail)?;
    let proved = to == BatchState::Proved;
    tx.execute(
        "UPDATE batches SET lease_owner = NULL, lease_until_ms = NULL, \
         proved_by = CASE WHEN $1 THEN $2 ELSE proved_by END WHERE id = $3",
        &[&proved, &worker, &batch_id],
    )
    .map_err(pg)?;
    if proved {
        tx.execute(
            "INSERT INTO worker_proofs (worker, proofs) VALUES ($1, 1) \
             ON CONFLICT (worker) DO UPDATE SET proofs = worker_proofs.proofs + 1",
            &[&worker],
        )
        .map_err(pg)?;
        rec.proved_by = Some(worker);
    }
    tx.commit().map_err(pg)?;
    Ok(rec)
}

pub(super) fn proofs_by_worker(c: &mut Client) -> Result<Vec<(String, u64)>, StoreError> {
    c.query("SELECT worker, proofs FROM worker_proofs ORDER BY worker", &[])
        .map_err(pg)?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get::<_, i64>(1)? as u64)))
        .collect::<Result<_, postgres::Error>>()
        .map_err(pg)
}

pub(super) fn acquire_submitter(
    c: &mut Client,
    account: &str,
    holder: &str,
    lease_ms: i64,
) -> Result<Option<SubmitterLease>, StoreError> {
    let now = now_ms();
    // One statement: insert, or take over an expired lease, or renew our own; otherwise no row.
    let row = c
        .query_opt(
            "INSERT INTO submitter_leases (account, holder, until_ms, token) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (account) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms, \
               token = submitter_leases.token + CASE WHEN submitter_leases.holder = excluded.holder THEN 0 ELSE 1 END \
             WHERE submitter_leases.holder = excluded.holder OR submitter_leases.until_ms < $4 \
             RETURNING until_ms, token",
            &[&account, &holder, &(now + lease_ms), &now],
        )
        .map_err(pg)?;
    row.map(|r| {
        Ok(SubmitterLease {
            account: account.into(),
            holder: holder.into(),
            until_ms: r.try_get(0).map_err(pg)?,
            token: r.try_get(1).map_err(pg)?,
        })
    })
    .transpose()
}

pub(super) fn get_submitter(c: &mut impl GenericClient, account: &str) -> Result<Option<SubmitterLease>, StoreError> {
    let row = c
        .query_opt("SELECT holder, until_ms, token FROM submitter_leases WHERE account = $1", &[&account])
        .map_err(pg)?;
    row.map(|r| {
        Ok(SubmitterLease {
            account: account.into(),
            holder: r.try_get(0).map_err(pg)?,
            until_ms: r.try_get(1).map_err(pg)?,
            token: r.try_get(2).map_err(pg)?,
        })
    })
    .transpose()
}
