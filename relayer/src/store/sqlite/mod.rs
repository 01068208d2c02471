//! [`JobStore`] on an embedded SQLite file (WAL mode, `synchronous = FULL`, migrations in code).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::schema::{LATEST, MIGRATIONS};
use super::types::*;
use super::{
    Backend, Claim, JobStore, LeaseToken, SegmentClaim, SegmentProof, SegmentRecord, StoreError, SubmitterLease,
};

mod lease;
mod maintenance;
mod rows;
mod segments;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db { backend: Backend::Sqlite, source: Box::new(e) }
    }
}

use rows::*;

/// SQLite job store. One connection behind a mutex: every method is one short transaction.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        // Read the version before switching the journal mode (which writes the file header).
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > LATEST {
            return Err(StoreError::SchemaTooNew { backend: Backend::Sqlite, found: version, supported: LATEST });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrate(&mut conn)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut conn)
    }
}

/// Applies the migrations the database has not seen yet; refuses a database a newer binary
/// migrated (before writing anything).
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > LATEST {
        return Err(StoreError::SchemaTooNew { backend: Backend::Sqlite, found: version, supported: LATEST });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied store migration");
    }
    Ok(())
}

/// The job already stored under `job.id` (the same request again), or a conflict when that id
/// was used for another body; `None` when the id is new.
fn existing_job(tx: &rusqlite::Transaction<'_>, job: &NewJob) -> Result<Option<Inserted>, StoreError> {
    let existing: Option<String> =
        tx.query_row("SELECT body_hash FROM jobs WHERE id = ?1", [&job.id], |r| r.get(0)).optional()?;
    match existing {
        None => Ok(None),
        Some(hash) if hash != job.body_hash => Err(StoreError::Conflict(job.id.clone())),
        Some(_) => {
            let rec = get_job(tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            Ok(Some(Inserted { job: rec, created: false }))
        }
    }
}

impl JobStore for SqliteStore {
    fn insert_job(&self, job: &NewJob) -> Result<Inserted, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            if let Some(existing) = existing_job(&tx, job)? {
                return Ok(existing);
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, salt, subjects, created_ms, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    job.id,
                    job.model_id,
                    job.body_hash,
                    JobState::Queued.as_str(),
                    json(&job.rows),
                    job.salt,
                    json(&job.subjects),
                    now
                ],
            )?;
            if let Some(a) = &job.attestation {
                let taken: Option<i64> = tx
                    .query_row(
                        "SELECT 1 FROM batches WHERE model_id = ?1 AND nonce = ?2 UNION ALL \
                         SELECT 1 FROM job_attestations a JOIN jobs j ON j.id = a.job_id \
                         WHERE j.model_id = ?1 AND a.nonce = ?2",
                        params![job.model_id, a.nonce as i64],
                        |r| r.get(0),
                    )
                    .optional()?;
                if taken.is_some() {
                    return Err(StoreError::NonceTaken { model_id: job.model_id.clone(), nonce: a.nonce });
                }
                tx.execute(
                    "INSERT INTO job_attestations (job_id, nonce, issued_at, attestations) VALUES (?1, ?2, ?3, ?4)",
                    params![job.id, a.nonce as i64, a.issued_at as i64, json(&a.attestations)],
                )?;
            }
            record(&tx, "job", &job.id, None, JobState::Queued.as_str(), "accepted")?;
            let rec = get_job(&tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            tx.commit()?;
            Ok(Inserted { job: rec, created: true })
        })
    }

    fn insert_proved_job(&self, job: &NewJob, batch: &NewProvedBatch) -> Result<Inserted, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            if let Some(existing) = existing_job(&tx, job)? {
                return Ok(existing);
            }
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM batches WHERE model_id = ?1 AND nonce = ?2",
                    params![batch.model_id, batch.nonce as i64],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::NonceTaken { model_id: batch.model_id.clone(), nonce: batch.nonce });
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, instances, proof, \
                   decisions, scores, client_proof, created_ms, updated_ms) \
                 VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?11)",
                params![
                    batch.model_id,
                    BatchState::Proved.as_str(),
                    batch.nonce as i64,
                    batch.issued_at as i64,
                    json(&batch.subjects),
                    batch.sample_count as i64,
                    json(&batch.instances),
                    batch.proof,
                    json(&batch.decisions),
                    json(&batch.scores),
                    now
                ],
            )?;
            let batch_id = tx.last_insert_rowid();
            if !batch.attestations.is_empty() {
                tx.execute(
                    "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES (?1, ?2, 1)",
                    params![batch_id, json(&batch.attestations)],
                )?;
            }
            let detail = format!("client proof, guard nonce {}", batch.nonce);
            record(&tx, "batch", &batch_id.to_string(), None, BatchState::Proved.as_str(), &detail)?;
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, salt, subjects, batch_id, sample_offset, \
                   created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7, 0, ?8, ?8)",
                params![
                    job.id,
                    job.model_id,
                    job.body_hash,
                    JobState::Proved.as_str(),
                    json(&job.rows),
                    json(&job.subjects),
                    batch_id,
                    now
                ],
            )?;
            record(&tx, "job", &job.id, None, JobState::Proved.as_str(), &format!("accepted with a client proof: batch {batch_id}"))?;
            let rec = get_job(&tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            tx.commit()?;
            Ok(Inserted { job: rec, created: true })
        })
    }

    fn body_hash(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.with(|conn| {
            Ok(conn.query_row("SELECT body_hash FROM jobs WHERE id = ?1", [id], |r| r.get(0)).optional()?)
        })
    }

    fn job(&self, id: &str) -> Result<Option<JobView>, StoreError> {
        self.with(|conn| {
            let Some(job) = get_job(conn, id)? else { return Ok(None) };
            let batch = job.batch_id.map(|b| get_batch(conn, b)).transpose()?.flatten();
            let batch_key = job.batch_id.map(|b| b.to_string()).unwrap_or_default();
            let mut stmt = conn.prepare(
                "SELECT from_state, to_state, detail, at_ms FROM transitions \
                 WHERE (entity = 'job' AND entity_id = ?1) OR (entity = 'batch' AND entity_id = ?2) ORDER BY id",
            )?;
            let transitions = stmt
                .query_map(params![id, batch_key], |r| {
                    Ok(Transition { from: r.get(0)?, to: r.get(1)?, detail: r.get(2)?, at_ms: r.get(3)? })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(JobView { job, batch, transitions }))
        })
    }

    fn queued_jobs(&self, model_id: &str) -> Result<Vec<JobRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE model_id = ?1 AND state = 'queued' ORDER BY created_ms, id"
            ))?;
            let raws = stmt.query_map([model_id], raw_job)?.collect::<Result<Vec<_>, _>>()?;
            raws.into_iter().map(finish_job).collect()
        })
    }

    fn create_batch(&self, batch: &NewBatch) -> Result<BatchRecord, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            // A client-attested job is batched alone, bound to the nonce and issue time its
            // attesters signed.
            let attested = match batch.job_ids.as_slice() {
                [only] => job_attestation(&tx, only)?,
                _ => None,
            };
            let (nonce, issued_at) = match &attested {
                Some(a) => (a.nonce, a.issued_at),
                None => (take_nonce(&tx, &batch.model_id, batch.nonce_floor)?, batch.issued_at),
            };
            let now = now_ms();
            tx.execute(
                "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, created_ms, updated_ms, \
                   segments, aggregation_mb) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7, ?8, ?9)",
                params![
                    batch.model_id,
                    BatchState::Created.as_str(),
                    nonce as i64,
                    issued_at as i64,
                    batch.salt,
                    json(&batch.subjects),
                    now,
                    batch.segments as i64,
                    batch.aggregation_mb.min(i64::MAX as u64) as i64
                ],
            )?;
            let id = tx.last_insert_rowid();
            segments::insert(&tx, id, batch.segments)?;
            if let Some(a) = &attested {
                tx.execute(
                    "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES (?1, ?2, 1)",
                    params![id, json(&a.attestations)],
                )?;
            }
            record(&tx, "batch", &id.to_string(), None, BatchState::Created.as_str(), &format!("guard nonce {nonce}"))?;
            let mut offset = 0usize;
            for job_id in &batch.job_ids {
                let job = get_job(&tx, job_id)?.ok_or_else(|| StoreError::NotFound(job_id.clone()))?;
                if job.state != JobState::Queued {
                    return Err(StoreError::NotFound(format!("queued job {job_id}")));
                }
                tx.execute(
                    "UPDATE jobs SET state = ?1, batch_id = ?2, sample_offset = ?3, updated_ms = ?4 WHERE id = ?5",
                    params![JobState::Proving.as_str(), id, offset as i64, now, job_id],
                )?;
                record(&tx, "job", job_id, Some("queued"), JobState::Proving.as_str(), &format!("in batch {id}"))?;
                offset += job.rows.len();
            }
            tx.execute("UPDATE batches SET sample_count = ?1 WHERE id = ?2", params![offset as i64, id])?;
            let rec = get_batch(&tx, id)?.ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
            tx.commit()?;
            Ok(rec)
        })
    }

    fn batch_attestations(&self, batch_id: i64) -> Result<Option<BatchAttestations>, StoreError> {
        self.with(|conn| {
            let row: Option<(String, bool)> = conn
                .query_row(
                    "SELECT attestations, fixed_context FROM batch_attestations WHERE batch_id = ?1",
                    [batch_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(text, fixed_context)| {
                Ok(BatchAttestations { attestations: parse("batch_attestations.attestations", &text)?, fixed_context })
            })
            .transpose()
        })
    }

    fn set_batch_attestations(
        &self,
        batch_id: i64,
        attestations: &[zkguard_contracts::attestation::Attestation],
    ) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES (?1, ?2, 0) \
                 ON CONFLICT(batch_id) DO UPDATE SET attestations = excluded.attestations \
                 WHERE batch_attestations.fixed_context = 0",
                params![batch_id, json(&attestations)],
            )?;
            Ok(())
        })
    }

    fn clear_relayer_attestations(&self, batch_id: i64) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute("DELETE FROM batch_attestations WHERE batch_id = ?1 AND fixed_context = 0", [batch_id])?;
            Ok(())
        })
    }

    fn next_nonce(&self, model_id: &str, floor: u64) -> Result<u64, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let nonce = take_nonce(&tx, model_id, floor)?;
            tx.commit()?;
            Ok(nonce)
        })
    }

    fn batch(&self, id: i64) -> Result<Option<BatchRecord>, StoreError> {
        self.with(|conn| get_batch(conn, id))
    }

    fn batches_in(&self, states: &[BatchState]) -> Result<Vec<BatchRecord>, StoreError> {
        self.with(|conn| {
            let list = states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
            let mut stmt =
                conn.prepare(&format!("SELECT {BATCH_COLUMNS} FROM batches WHERE state IN ({list}) ORDER BY id"))?;
            let raws = stmt.query_map([], raw_batch)?.collect::<Result<Vec<_>, _>>()?;
            raws.into_iter().map(finish_batch).collect()
        })
    }

    fn batch_jobs(&self, batch_id: i64) -> Result<Vec<JobRecord>, StoreError> {
        self.with(|conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE batch_id = ?1 ORDER BY sample_offset"))?;
            let raws = stmt.query_map([batch_id], raw_job)?.collect::<Result<Vec<_>, _>>()?;
            raws.into_iter().map(finish_job).collect()
        })
    }

    fn transition(
        &self,
        batch_id: i64,
        from: BatchState,
        to: BatchState,
        u: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let rec = transition_in(&tx, batch_id, from, to, u, detail)?;
            tx.commit()?;
            Ok(rec)
        })
    }

    fn note(&self, batch_id: i64, detail: &str) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let state: String = tx.query_row("SELECT state FROM batches WHERE id = ?1", [batch_id], |r| r.get(0))?;
            record(&tx, "batch", &batch_id.to_string(), Some(&state), &state, detail)?;
            tx.commit()?;
            Ok(())
        })
    }

    fn add_attempt(&self, a: &TxAttempt) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT OR IGNORE INTO tx_attempts (tx_hash, batch_id, account_nonce, max_fee, priority_fee, gas_limit, raw, created_ms, guard_nonce) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    a.tx_hash,
                    a.batch_id,
                    a.account_nonce as i64,
                    a.max_fee.to_string(),
                    a.priority_fee.to_string(),
                    a.gas_limit as i64,
                    a.raw,
                    a.created_ms,
                    a.guard_nonce as i64
                ],
            )?;
            Ok(())
        })
    }

    fn attempts(&self, batch_id: i64) -> Result<Vec<TxAttempt>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT tx_hash, account_nonce, max_fee, priority_fee, gas_limit, raw, created_ms, guard_nonce FROM tx_attempts \
                 WHERE batch_id = ?1 ORDER BY created_ms, rowid",
            )?;
            let rows = stmt
                .query_map([batch_id], |r| {
                    Ok(TxAttempt {
                        batch_id,
                        tx_hash: r.get(0)?,
                        account_nonce: r.get::<_, i64>(1)? as u64,
                        max_fee: r.get::<_, String>(2)?.parse().unwrap_or_default(),
                        priority_fee: r.get::<_, String>(3)?.parse().unwrap_or_default(),
                        gas_limit: r.get::<_, i64>(4)? as u64,
                        raw: r.get(5)?,
                        created_ms: r.get(6)?,
                        guard_nonce: r.get::<_, i64>(7)? as u64,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    fn evict(&self, batch_id: i64, from: BatchState, refused: &[RefusedJob]) -> Result<Evicted, StoreError> {
        maintenance::evict(self, batch_id, from, refused)
    }

    fn job_counts(&self) -> Result<Vec<(JobState, u64)>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached("SELECT state, count FROM job_counts")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(JobState::ALL
                .iter()
                .map(|s| {
                    let count = rows.iter().find(|(n, _)| n == s.as_str()).map(|(_, c)| *c).unwrap_or(0);
                    (*s, count.max(0) as u64)
                })
                .collect())
        })
    }

    fn gas_spent(&self) -> Result<u64, StoreError> {
        self.with(|conn| {
            let gas: Option<i64> = conn
                .prepare_cached("SELECT value FROM counters WHERE name = 'gas_spent'")?
                .query_row([], |r| r.get(0))
                .optional()?;
            Ok(gas.unwrap_or(0).max(0) as u64)
        })
    }

    fn prune_finished(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
        maintenance::prune_finished(self, before_ms, limit)
    }

    fn schema_version(&self) -> Result<(i64, i64), StoreError> {
        self.with(|conn| Ok((conn.pragma_query_value(None, "user_version", |r| r.get(0))?, LATEST)))
    }

    fn claim_batch(
        &self,
        worker: &str,
        models: &[String],
        lease_ms: i64,
        memory_budget_mb: u64,
    ) -> Result<Option<Claim>, StoreError> {
        self.with(|conn| lease::claim(conn, worker, models, lease_ms, memory_budget_mb))
    }

    fn claim_segment(
        &self,
        worker: &str,
        models: &[String],
        lease_ms: i64,
    ) -> Result<Option<SegmentClaim>, StoreError> {
        self.with(|conn| segments::claim(conn, worker, models, lease_ms))
    }

    fn renew_segment_lease(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        lease_ms: i64,
    ) -> Result<(), StoreError> {
        self.with(|conn| segments::renew(conn, batch_id, index, token, lease_ms))
    }

    fn finish_segment(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        proof: &SegmentProof,
    ) -> Result<SegmentRecord, StoreError> {
        self.with(|conn| segments::finish(conn, batch_id, index, token, proof))
    }

    fn fail_segment(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        reason: &str,
    ) -> Result<BatchRecord, StoreError> {
        self.with(|conn| segments::fail(conn, batch_id, index, token, reason))
    }

    fn segments(&self, batch_id: i64) -> Result<Vec<SegmentRecord>, StoreError> {
        self.with(|conn| segments::list(conn, batch_id))
    }

    fn release_segment_leases(&self) -> Result<usize, StoreError> {
        self.with(segments::release)
    }

    fn renew_lease(&self, batch_id: i64, token: LeaseToken, lease_ms: i64) -> Result<(), StoreError> {
        self.with(|conn| lease::renew(conn, batch_id, token, lease_ms))
    }

    fn finish_claim(
        &self,
        batch_id: i64,
        token: LeaseToken,
        to: BatchState,
        u: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError> {
        self.with(|conn| lease::finish(conn, batch_id, token, to, u, detail))
    }

    fn proofs_by_worker(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.with(lease::proofs_by_worker)
    }

    fn acquire_submitter(
        &self,
        account: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<SubmitterLease>, StoreError> {
        self.with(|conn| lease::acquire_submitter(conn, account, holder, lease_ms))
    }

    fn release_submitter(&self, account: &str, holder: &str) -> Result<(), StoreError> {
        self.with(|conn| lease::release_submitter(conn, account, holder))
    }

    fn submitter_lease(&self, account: &str) -> Result<Option<SubmitterLease>, StoreError> {
        self.with(|conn| lease::get_submitter(conn, account))
    }
}

#[cfg(test)]
mod tests;
