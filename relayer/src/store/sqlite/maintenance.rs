//! The store's maintenance on SQLite, beside the per-request operations (`mod.rs`): dissolving a
//! batch whose requests the model refused (`evict`) and retention (`prune_finished`).

use rusqlite::params;

use super::rows::*;
use super::*;

/// [`crate::store::JobStore::evict`].
pub(super) fn evict(
    store: &SqliteStore,
    batch_id: i64,
    from: BatchState,
    refused: &[RefusedJob],
) -> Result<Evicted, StoreError> {
    store.with(|conn| {
        let tx = conn.transaction()?;
        expect_state(&tx, batch_id, from)?;
        let members: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT id, state FROM jobs WHERE batch_id = ?1 ORDER BY sample_offset")?;
            let rows = stmt.query_map([batch_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
            rows
        };
        let now = now_ms();
        let mut out = Evicted::default();
        for (id, state) in &members {
            if let Some(r) = refused.iter().find(|r| &r.job_id == id) {
                tx.execute(
                    "UPDATE jobs SET state = 'failed', error = ?1, updated_ms = ?2 WHERE id = ?3",
                    params![r.reason, now, id],
                )?;
                record(&tx, "job", id, Some(state), JobState::Failed.as_str(), &format!("refused: {}", r.reason))?;
                out.failed += 1;
            } else {
                tx.execute(
                    "UPDATE jobs SET state = 'queued', batch_id = NULL, sample_offset = NULL, updated_ms = ?1 \
                     WHERE id = ?2",
                    params![now, id],
                )?;
                let detail =
                    format!("batch {batch_id} dissolved: another request in it was refused; queued again without it");
                record(&tx, "job", id, Some(state), JobState::Queued.as_str(), &detail)?;
                out.requeued += 1;
            }
        }
        let reason = format!(
            "dissolved: {} request(s) refused by the model's reference inference failed alone, {} queued again",
            out.failed, out.requeued
        );
        tx.execute(
            "UPDATE batches SET state = 'failed', error = ?1, updated_ms = ?2 WHERE id = ?3",
            params![reason, now, batch_id],
        )?;
        record(&tx, "batch", &batch_id.to_string(), Some(from.as_str()), BatchState::Failed.as_str(), &reason)?;
        tx.commit()?;
        Ok(out)
    })
}

/// [`crate::store::JobStore::prune_finished`].
pub(super) fn prune_finished(store: &SqliteStore, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
    store.with(|conn| {
        let tx = conn.transaction()?;
        // Finished jobs whose batch (if any) is finished too.
        let jobs: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT j.id FROM jobs j LEFT JOIN batches b ON b.id = j.batch_id \
                 WHERE j.state IN ('confirmed', 'failed') AND j.updated_ms < ?1 \
                   AND (b.id IS NULL OR b.state IN ('confirmed', 'failed')) LIMIT ?2",
            )?;
            let ids = stmt.query_map(params![before_ms, limit as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
            ids
        };
        for id in &jobs {
            tx.execute("DELETE FROM transitions WHERE entity = 'job' AND entity_id = ?1", [id])?;
            tx.execute("DELETE FROM jobs WHERE id = ?1 AND state IN ('confirmed', 'failed')", [id])?;
        }
        let batches: Vec<i64> = {
            let mut stmt = tx.prepare(
                "SELECT b.id FROM batches b WHERE b.state IN ('confirmed', 'failed') AND b.updated_ms < ?1 \
                   AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id) LIMIT ?2",
            )?;
            let ids = stmt.query_map(params![before_ms, limit as i64], |r| r.get(0))?.collect::<Result<_, _>>()?;
            ids
        };
        for id in &batches {
            tx.execute("DELETE FROM transitions WHERE entity = 'batch' AND entity_id = ?1", [id.to_string()])?;
            tx.execute("DELETE FROM tx_attempts WHERE batch_id = ?1", [id])?;
            tx.execute("DELETE FROM batches WHERE id = ?1 AND state IN ('confirmed', 'failed')", [id])?;
        }
        tx.commit()?;
        Ok(Pruned { jobs: jobs.len(), batches: batches.len() })
    })
}
