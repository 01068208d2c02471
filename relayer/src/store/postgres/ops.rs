//! The [`JobStore`] methods on PostgreSQL: each is one transaction on a store thread, with the
//! same behaviour as SQLite's (the shared contract tests in `store/contract_tests.rs` run both).
//! Rows a transaction changes are locked first (`FOR UPDATE`), so concurrent processes serialise
//! on them under READ COMMITTED.

use postgres::Transaction;

use super::rows::*;
use super::PgStore;
use crate::store::types::*;
use crate::store::{
    Claim, JobStore, LeaseToken, SegmentClaim, SegmentProof, SegmentRecord, StoreError, SubmitterLease,
};

/// The job already stored under `job.id`, or a conflict when that id was used for another body.
fn existing_job(tx: &mut Transaction<'_>, job: &NewJob) -> Result<Option<Inserted>, StoreError> {
    let row = tx.query_opt("SELECT body_hash FROM jobs WHERE id = $1", &[&job.id]).map_err(pg)?;
    match row.map(|r| r.try_get::<_, String>(0)).transpose().map_err(pg)? {
        None => Ok(None),
        Some(hash) if hash != job.body_hash => Err(StoreError::Conflict(job.id.clone())),
        Some(_) => {
            let rec = get_job(tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            Ok(Some(Inserted { job: rec, created: false }))
        }
    }
}

/// Serialises inserts of one request id (two intakes racing on a retried request).
fn lock_request_id(tx: &mut Transaction<'_>, id: &str) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 17))", &[&id]).map_err(pg)?;
    Ok(())
}

fn nonce_taken(tx: &mut Transaction<'_>, model_id: &str, nonce: u64, with_jobs: bool) -> Result<bool, StoreError> {
    let sql = if with_jobs {
        "SELECT 1 FROM batches WHERE model_id = $1 AND nonce = $2 UNION ALL \
         SELECT 1 FROM job_attestations a JOIN jobs j ON j.id = a.job_id WHERE j.model_id = $1 AND a.nonce = $2"
    } else {
        "SELECT 1 FROM batches WHERE model_id = $1 AND nonce = $2"
    };
    Ok(!tx.query(sql, &[&model_id, &(nonce as i64)]).map_err(pg)?.is_empty())
}

impl JobStore for PgStore {
    fn insert_job(&self, job: &NewJob) -> Result<Inserted, StoreError> {
        let job = job.clone();
        self.call(move |c, _| {
            let mut tx = c.transaction().map_err(pg)?;
            lock_request_id(&mut tx, &job.id)?;
            if let Some(existing) = existing_job(&mut tx, &job)? {
                return Ok(existing);
            }
            let now = now_ms();
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, salt, subjects, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                &[
                    &job.id,
                    &job.model_id,
                    &job.body_hash,
                    &JobState::Queued.as_str(),
                    &json(&job.rows),
                    &job.salt,
                    &json(&job.subjects),
                    &now,
                ],
            )
            .map_err(pg)?;
            if let Some(a) = &job.attestation {
                if nonce_taken(&mut tx, &job.model_id, a.nonce, true)? {
                    return Err(StoreError::NonceTaken { model_id: job.model_id.clone(), nonce: a.nonce });
                }
                tx.execute(
                    "INSERT INTO job_attestations (job_id, nonce, issued_at, attestations) VALUES ($1, $2, $3, $4)",
                    &[&job.id, &(a.nonce as i64), &(a.issued_at as i64), &json(&a.attestations)],
                )
                .map_err(pg)?;
            }
            record(&mut tx, "job", &job.id, None, JobState::Queued.as_str(), "accepted")?;
            let rec = get_job(&mut tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            tx.commit().map_err(pg)?;
            Ok(Inserted { job: rec, created: true })
        })
    }

    fn insert_proved_job(&self, job: &NewJob, batch: &NewProvedBatch) -> Result<Inserted, StoreError> {
        let (job, batch) = (job.clone(), batch.clone());
        self.call(move |c, _| {
            let mut tx = c.transaction().map_err(pg)?;
            lock_request_id(&mut tx, &job.id)?;
            if let Some(existing) = existing_job(&mut tx, &job)? {
                return Ok(existing);
            }
            if nonce_taken(&mut tx, &batch.model_id, batch.nonce, false)? {
                return Err(StoreError::NonceTaken { model_id: batch.model_id.clone(), nonce: batch.nonce });
            }
            let now = now_ms();
            let row = tx
                .query_one(
                    "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, instances, \
                       proof, decisions, scores, client_proof, created_ms, updated_ms) \
                     VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8, $9, $10, TRUE, $11, $11) RETURNING id",
                    &[
                        &batch.model_id,
                        &BatchState::Proved.as_str(),
                        &(batch.nonce as i64),
                        &(batch.issued_at as i64),
                        &json(&batch.subjects),
                        &(batch.sample_count as i64),
                        &json(&batch.instances),
                        &batch.proof,
                        &json(&batch.decisions),
                        &json(&batch.scores),
                        &now,
                    ],
                )
                .map_err(pg)?;
            let batch_id: i64 = row.try_get(0).map_err(pg)?;
            if !batch.attestations.is_empty() {
                tx.execute(
                    "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES ($1, $2, TRUE)",
                    &[&batch_id, &json(&batch.attestations)],
                )
                .map_err(pg)?;
            }
            let detail = format!("client proof, guard nonce {}", batch.nonce);
            record(&mut tx, "batch", &batch_id.to_string(), None, BatchState::Proved.as_str(), &detail)?;
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, salt, subjects, batch_id, sample_offset, \
                   created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, 0, $8, $8)",
                &[
                    &job.id,
                    &job.model_id,
                    &job.body_hash,
                    &JobState::Proved.as_str(),
                    &json(&job.rows),
                    &json(&job.subjects),
                    &batch_id,
                    &now,
                ],
            )
            .map_err(pg)?;
            let detail = format!("accepted with a client proof: batch {batch_id}");
            record(&mut tx, "job", &job.id, None, JobState::Proved.as_str(), &detail)?;
            let rec = get_job(&mut tx, &job.id)?.ok_or_else(|| StoreError::NotFound(job.id.clone()))?;
            tx.commit().map_err(pg)?;
            Ok(Inserted { job: rec, created: true })
        })
    }

    fn body_hash(&self, id: &str) -> Result<Option<String>, StoreError> {
        let id = id.to_string();
        self.call(move |c, _| {
            let row = c.query_opt("SELECT body_hash FROM jobs WHERE id = $1", &[&id]).map_err(pg)?;
            row.map(|r| r.try_get(0)).transpose().map_err(pg)
        })
    }

    fn job(&self, id: &str) -> Result<Option<JobView>, StoreError> {
        let id = id.to_string();
        self.call(move |c, _| {
            let Some(job) = get_job(c, &id)? else { return Ok(None) };
            let batch = job.batch_id.map(|b| get_batch(c, b)).transpose()?.flatten();
            let batch_key = job.batch_id.map(|b| b.to_string()).unwrap_or_default();
            let rows = c
                .query(
                    "SELECT from_state, to_state, detail, at_ms FROM transitions \
                     WHERE (entity = 'job' AND entity_id = $1) OR (entity = 'batch' AND entity_id = $2) ORDER BY id",
                    &[&id, &batch_key],
                )
                .map_err(pg)?;
            let transitions = rows
                .iter()
                .map(|r| {
                    Ok(Transition {
                        from: r.try_get(0)?,
                        to: r.try_get(1)?,
                        detail: r.try_get(2)?,
                        at_ms: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, postgres::Error>>()
                .map_err(pg)?;
            Ok(Some(JobView { job, batch, transitions }))
        })
    }

    fn queued_jobs(&self, model_id: &str) -> Result<Vec<JobRecord>, StoreError> {
        let model_id = model_id.to_string();
        self.call(move |c, _| {
            let sql = format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE model_id = $1 AND state = 'queued' ORDER BY created_ms, id"
            );
            c.query(&sql, &[&model_id]).map_err(pg)?.iter().map(job_of).collect()
        })
    }

    fn create_batch(&self, batch: &NewBatch) -> Result<BatchRecord, StoreError> {
        let batch = batch.clone();
        self.call(move |c, _| {
            let mut tx = c.transaction().map_err(pg)?;
            let attested = match batch.job_ids.as_slice() {
                [only] => job_attestation(&mut tx, only)?,
                _ => None,
            };
            let (nonce, issued_at) = match &attested {
                Some(a) => (a.nonce, a.issued_at),
                None => (take_nonce(&mut tx, &batch.model_id, batch.nonce_floor)?, batch.issued_at),
            };
            let now = now_ms();
            let row = tx
                .query_one(
                    "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, \
                       created_ms, updated_ms, segments, aggregation_mb) \
                     VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $8, $9) RETURNING id",
                    &[
                        &batch.model_id,
                        &BatchState::Created.as_str(),
                        &(nonce as i64),
                        &(issued_at as i64),
                        &batch.salt,
                        &json(&batch.subjects),
                        &now,
                        &(batch.segments as i64),
                        &(batch.aggregation_mb.min(i64::MAX as u64) as i64),
                    ],
                )
                .map_err(pg)?;
            let id: i64 = row.try_get(0).map_err(pg)?;
            super::segments::insert(&mut tx, id, batch.segments)?;
            if let Some(a) = &attested {
                tx.execute(
                    "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES ($1, $2, TRUE)",
                    &[&id, &json(&a.attestations)],
                )
                .map_err(pg)?;
            }
            record(
                &mut tx,
                "batch",
                &id.to_string(),
                None,
                BatchState::Created.as_str(),
                &format!("guard nonce {nonce}"),
            )?;
            let mut offset = 0usize;
            for job_id in &batch.job_ids {
                let locked = tx
                    .query_opt(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 FOR UPDATE"), &[job_id])
                    .map_err(pg)?;
                let job =
                    locked.as_ref().map(job_of).transpose()?.ok_or_else(|| StoreError::NotFound(job_id.clone()))?;
                if job.state != JobState::Queued {
                    return Err(StoreError::NotFound(format!("queued job {job_id}")));
                }
                tx.execute(
                    "UPDATE jobs SET state = $1, batch_id = $2, sample_offset = $3, updated_ms = $4 WHERE id = $5",
                    &[&JobState::Proving.as_str(), &id, &(offset as i64), &now, job_id],
                )
                .map_err(pg)?;
                record(&mut tx, "job", job_id, Some("queued"), JobState::Proving.as_str(), &format!("in batch {id}"))?;
                offset += job.rows.len();
            }
            tx.execute("UPDATE batches SET sample_count = $1 WHERE id = $2", &[&(offset as i64), &id]).map_err(pg)?;
            let rec = get_batch(&mut tx, id)?.ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
            tx.commit().map_err(pg)?;
            Ok(rec)
        })
    }

    fn next_nonce(&self, model_id: &str, floor: u64) -> Result<u64, StoreError> {
        let model_id = model_id.to_string();
        self.call(move |c, _| take_nonce(c, &model_id, floor))
    }

    fn batch(&self, id: i64) -> Result<Option<BatchRecord>, StoreError> {
        self.call(move |c, _| get_batch(c, id))
    }

    fn batches_in(&self, states: &[BatchState]) -> Result<Vec<BatchRecord>, StoreError> {
        let states: Vec<String> = states.iter().map(|s| s.as_str().to_string()).collect();
        self.call(move |c, _| {
            let sql = format!("SELECT {BATCH_COLUMNS} FROM batches WHERE state = ANY($1) ORDER BY id");
            c.query(&sql, &[&states]).map_err(pg)?.iter().map(batch_of).collect()
        })
    }

    fn batch_jobs(&self, batch_id: i64) -> Result<Vec<JobRecord>, StoreError> {
        self.call(move |c, _| {
            let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE batch_id = $1 ORDER BY sample_offset");
            c.query(&sql, &[&batch_id]).map_err(pg)?.iter().map(job_of).collect()
        })
    }

    fn transition(
        &self,
        batch_id: i64,
        from: BatchState,
        to: BatchState,
        update: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError> {
        let (update, detail) = (update.clone(), detail.to_string());
        self.call(move |c, _| {
            let mut tx = c.transaction().map_err(pg)?;
            let rec = transition_in(&mut tx, batch_id, from, to, &update, &detail)?;
            tx.commit().map_err(pg)?;
            Ok(rec)
        })
    }

    fn note(&self, batch_id: i64, detail: &str) -> Result<(), StoreError> {
        let detail = detail.to_string();
        self.call(move |c, _| {
            let mut tx = c.transaction().map_err(pg)?;
            let row = tx.query_opt("SELECT state FROM batches WHERE id = $1", &[&batch_id]).map_err(pg)?;
            let state: String =
                row.ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?.try_get(0).map_err(pg)?;
            record(&mut tx, "batch", &batch_id.to_string(), Some(&state), &state, &detail)?;
            tx.commit().map_err(pg)
        })
    }

    fn add_attempt(&self, a: &TxAttempt) -> Result<(), StoreError> {
        let a = a.clone();
        self.call(move |c, _| {
            c.execute(
                "INSERT INTO tx_attempts (tx_hash, batch_id, account_nonce, max_fee, priority_fee, gas_limit, raw, \
                   created_ms, guard_nonce) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tx_hash) DO NOTHING",
                &[
                    &a.tx_hash,
                    &a.batch_id,
                    &(a.account_nonce as i64),
                    &a.max_fee.to_string(),
                    &a.priority_fee.to_string(),
                    &(a.gas_limit as i64),
                    &a.raw,
                    &a.created_ms,
                    &(a.guard_nonce as i64),
                ],
            )
            .map_err(pg)?;
            Ok(())
        })
    }

    fn attempts(&self, batch_id: i64) -> Result<Vec<TxAttempt>, StoreError> {
        self.call(move |c, _| {
            let rows = c
                .query(
                    "SELECT tx_hash, account_nonce, max_fee, priority_fee, gas_limit, raw, created_ms, guard_nonce \
                     FROM tx_attempts WHERE batch_id = $1 ORDER BY created_ms, seq",
                    &[&batch_id],
                )
                .map_err(pg)?;
            rows.iter()
                .map(|r| {
                    Ok(TxAttempt {
                        batch_id,
                        tx_hash: r.try_get(0)?,
                        account_nonce: r.try_get::<_, i64>(1)? as u64,
                        max_fee: r.try_get::<_, String>(2)?.parse().unwrap_or_default(),
                        priority_fee: r.try_get::<_, String>(3)?.parse().unwrap_or_default(),
                        gas_limit: r.try_get::<_, i64>(4)? as u64,
                        raw: r.try_get(5)?,
                        created_ms: r.try_get(6)?,
                        guard_nonce: r.try_get::<_, i64>(7)? as u64,
                    })
                })
                .collect::<Result<Vec<_>, postgres::Error>>()
                .map_err(pg)
        })
    }

    fn batch_attestations(&self, batch_id: i64) -> Result<Option<BatchAttestations>, StoreError> {
        self.call(move |c, _| {
            let row = c
                .query_opt(
                    "SELECT attestations, fixed_context FROM batch_attestations WHERE batch_id = $1",
                    &[&batch_id],
                )
                .map_err(pg)?;
            row.map(|r| {
                Ok(BatchAttestations {
                    attestations: parse("batch_attestations.attestations", r.try_get::<_, &str>(0).map_err(pg)?)?,
                    fixed_context: r.try_get(1).map_err(pg)?,
                })
            })
            .transpose()
        })
    }

    fn set_batch_attestations(
        &self,
        batch_id: i64,
        attestations: &[zkguard_contracts::attestation::Attestation],
    ) -> Result<(), StoreError> {
        let text = json(&attestations);
        self.call(move |c, _| {
            c.execute(
                "INSERT INTO batch_attestations (batch_id, attestations, fixed_context) VALUES ($1, $2, FALSE) \
                 ON CONFLICT (batch_id) DO UPDATE SET attestations = excluded.attestations \
                 WHERE batch_attestations.fixed_context = FALSE",
                &[&batch_id, &text],
            )
            .map_err(pg)?;
            Ok(())
        })
    }

    fn clear_relayer_attestations(&self, batch_id: i64) -> Result<(), StoreError> {
        self.call(move |c, _| {
            c.execute("DELETE FROM batch_attestations WHERE batch_id = $1 AND fixed_context = FALSE", &[&batch_id])
                .map_err(pg)?;
            Ok(())
        })
    }

    fn evict(&self, batch_id: i64, from: BatchState, refused: &[RefusedJob]) -> Result<Evicted, StoreError> {
        super::maintenance::evict(self, batch_id, from, refused)
    }

    fn job_counts(&self) -> Result<Vec<(JobState, u64)>, StoreError> {
        self.call(move |c, _| {
            let rows = c.query("SELECT state, count FROM job_counts", &[]).map_err(pg)?;
            let rows: Vec<(String, i64)> = rows
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, postgres::Error>>()
                .map_err(pg)?;
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
        self.call(move |c, _| {
            let row = c.query_opt("SELECT value FROM counters WHERE name = 'gas_spent'", &[]).map_err(pg)?;
            let gas: i64 = row.map(|r| r.try_get(0)).transpose().map_err(pg)?.unwrap_or(0);
            Ok(gas.max(0) as u64)
        })
    }

    fn prune_finished(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError> {
        super::maintenance::prune_finished(self, before_ms, limit)
    }

    fn schema_version(&self) -> Result<(i64, i64), StoreError> {
        self.call(|c, target| Ok((super::schema_version_of(c, target)?, crate::store::schema::LATEST)))
    }

    fn claim_batch(
        &self,
        worker: &str,
        models: &[String],
        lease_ms: i64,
        budget: u64,
    ) -> Result<Option<Claim>, StoreError> {
        let (worker, models) = (worker.to_string(), models.to_vec());
        self.call(move |c, _| super::claims::claim(c, &worker, &models, lease_ms, budget))
    }

    fn claim_segment(
        &self,
        worker: &str,
        models: &[String],
        lease_ms: i64,
    ) -> Result<Option<SegmentClaim>, StoreError> {
        let (worker, models) = (worker.to_string(), models.to_vec());
        self.call(move |c, _| super::segments::claim(c, &worker, &models, lease_ms))
    }

    fn renew_segment_lease(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        lease_ms: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c, _| super::segments::renew(c, batch_id, index, token, lease_ms))
    }

    fn finish_segment(
        &self,
        batch: i64,
        index: usize,
        token: LeaseToken,
        p: &SegmentProof,
    ) -> Result<SegmentRecord, StoreError> {
        let p = p.clone();
        self.call(move |c, _| super::segments::finish(c, batch, index, token, &p))
    }

    fn fail_segment(
        &self,
        batch: i64,
        index: usize,
        token: LeaseToken,
        reason: &str,
    ) -> Result<BatchRecord, StoreError> {
        let reason = reason.to_string();
        self.call(move |c, _| super::segments::fail(c, batch, index, token, &reason))
    }

    fn segments(&self, batch_id: i64) -> Result<Vec<SegmentRecord>, StoreError> {
        self.call(move |c, _| super::segments::list(c, batch_id))
    }

    fn release_segment_leases(&self) -> Result<usize, StoreError> {
        self.call(|c, _| super::segments::release(c))
    }

    fn renew_lease(&self, batch_id: i64, token: LeaseToken, lease_ms: i64) -> Result<(), StoreError> {
        self.call(move |c, _| super::claims::renew(c, batch_id, token, lease_ms))
    }

    fn finish_claim(
        &self,
        batch_id: i64,
        token: LeaseToken,
        to: BatchState,
        update: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError> {
        let (update, detail) = (update.clone(), detail.to_string());
        self.call(move |c, _| super::claims::finish(c, batch_id, token, to, &update, &detail))
    }

    fn proofs_by_worker(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.call(|c, _| super::claims::proofs_by_worker(c))
    }

    fn acquire_submitter(
        &self,
        account: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<SubmitterLease>, StoreError> {
        let (account, holder) = (account.to_string(), holder.to_string());
        self.call(move |c, _| super::claims::acquire_submitter(c, &account, &holder, lease_ms))
    }

    fn release_submitter(&self, account: &str, holder: &str) -> Result<(), StoreError> {
        let (account, holder) = (account.to_string(), holder.to_string());
        self.call(move |c, _| {
            c.execute(
                "UPDATE submitter_leases SET until_ms = 0 WHERE account = $1 AND holder = $2",
                &[&account, &holder],
            )
            .map_err(pg)?;
            Ok(())
        })
    }

    fn submitter_lease(&self, account: &str) -> Result<Option<SubmitterLease>, StoreError> {
        let account = account.to_string();
        self.call(move |c, _| super::claims::get_submitter(c, &account))
    }
}
