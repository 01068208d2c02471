//! The store's maintenance on PostgreSQL, beside the per-request operations (`ops`): dissolving a
//! batch whose requests the model refused (`evict`) and retention (`prune_finished`). Same
//! behaviour as SQLite's (the shared contract tests run both).

use super::rows::*;
use super::PgStore;
use crate::store::types::*;
use crate::store::StoreError;

/// [`crate::store::JobStore::evict`].
pub(super) fn evict(
    store: &PgStore,
    batch_id: i64,
    from: BatchState,
    refused: &[RefusedJob],
) -> Result<Evicted, StoreError> {
    let refused = refused.to_vec();
    store.call(move |c, _| {
        let mut tx = c.transaction().map_err(pg)?;
        expect_state(&mut tx, batch_id, from)?;
        let members: Vec<(String, String)> = tx
            .query("SELECT id, state FROM jobs WHERE batch_id = $1 ORDER BY sample_offset FOR UPDATE", &[&batch_id])
            .map_err(pg)?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, postgres::Error>>()
            .map_err(pg)?;
        let now = now_ms();
        let mut out = Evicted::default();
        for (id, state) in &members {
            if let Some(r) = refused.iter().find(|r| &r.job_id == id) {
                tx.execute(
                    "UPDATE jobs SET state = 'failed', error = $1, updated_ms = $2 WHERE id = $3",
                    &[&r.reason, &now, id],
                )
                .map_err(pg)?;
                record(&mut tx, "job", id, Some(state), JobState::Failed.as_str(), &format!("refused: {}", r.reason))?;
                out.failed += 1;
            } else {
                tx.execute(
                    "UPDATE jobs SET state = 'queued', batch_id = NULL, sample_offset = NULL, updated_ms = $1 \
                     WHERE id = $2",
                    &[&now, id],
                )
                .map_err(pg)?;
                let detail =
                    format!("batch {batch_id} dissolved: another request in it was refused; queued again without it");
                record(&mut tx, "job", id, Some(state), JobState::Queued.as_str(), &detail)?;
                out.requeued += 1;
            }
        }
        let reason = format!(
            "dissolved: {} request(s) refused by the model's reference inference failed alone, {} queued again",
            out.failed, out.requeued
        );
        tx.execute(
            "UPDATE batches SET state = 'failed', error = $1, updated_ms = $2, lease_owner = NULL, \
             lease_until_ms = NULL WHERE id = $3",
            &[&reason, &now, &batch_id],
        )
        .map_err(pg)?;
        record(&mut tx, "batch", &batch_id.to_string(), Some(from.as_str()), BatchState::Failed.as_str(), &reason)?;
        tx.commit().map_err(pg)?;
        Ok(out)
    })
}

/// [`crate::store::JobStore::prune_finished`].
pub(super) fn prune_finished(store: &PgStore, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
    store.call(move |c, _| {
        let mut tx = c.transaction().map_err(pg)?;
        let limit = limit as i64;
        let jobs: Vec<String> = tx
            .query(
                "SELECT j.id FROM jobs j LEFT JOIN batches b ON b.id = j.batch_id \
                 WHERE j.state IN ('confirmed', 'failed') AND j.updated_ms < $1 \
                   AND (b.id IS NULL OR b.state IN ('confirmed', 'failed')) LIMIT $2 FOR UPDATE OF j SKIP LOCKED",
                &[&before_ms, &limit],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(pg)?;
        for id in &jobs {
            tx.execute("DELETE FROM transitions WHERE entity = 'job' AND entity_id = $1", &[id]).map_err(pg)?;
            tx.execute("DELETE FROM jobs WHERE id = $1 AND state IN ('confirmed', 'failed')", &[id]).map_err(pg)?;
        }
        let batches: Vec<i64> = tx
            .query(
                "SELECT b.id FROM batches b WHERE b.state IN ('confirmed', 'failed') AND b.updated_ms < $1 \
                   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id) LIMIT $2 FOR UPDATE SKIP LOCKED",
                &[&before_ms, &limit],
            )
            .map_err(pg)?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(pg)?;
        for id in &batches {
            tx.execute("DELETE FROM transitions WHERE entity = 'batch' AND entity_id = $1", &[&id.to_string()])
                .map_err(pg)?;
            tx.execute("DELETE FROM tx_attempts WHERE batch_id = $1", &[id]).map_err(pg)?;
            tx.execute("DELETE FROM batches WHERE id = $1 AND state IN ('confirmed', 'failed')", &[id]).map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(Pruned { jobs: jobs.len(), batches: batches.len() })
    })
}
