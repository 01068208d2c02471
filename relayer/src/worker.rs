//! Proving workers: batches are claimed from the store ([`JobStore::claim_batch`]: a lease with a
//! deadline, renewed by a heartbeat while the proof runs, and a fencing token the result must
//! still hold) and proved on tokio's blocking pool, at most `workers` at a time (a semaphore: each
//! proof holds its circuit's memory), with the model's keys shared through `Arc`. The same pool
//! serves one process on SQLite and each prover of a fleet on PostgreSQL: a prover that dies stops
//! renewing, its lease expires and another prover claims the batch; its late result is refused
//! ([`JobStore::finish_claim`]). Direct mode: one EVM-transcript app proof per batch. Batch mode: N Poseidon-transcript
//! app proofs (the batch's rows split in order) aggregated into one proof. A proof is bound to its batch's Guard context (chain, Guard, model, nonce, issue time,
//! subjects); the proof, its instances and the decoded outputs are stored before the batch moves
//! to `proved`.
//!
//! One client's row must never fail its neighbours: before proving, every row of the batch is run
//! through the model's integer reference inference ([`screen`]; intake does the same, this
//! catches jobs stored before that check or by another version); a job whose row is refused, here
//! or by the prover for one sample, is failed alone with its own reason and the batch's other jobs
//! are queued again ([`JobStore::evict`]). A batch-wide failure records a reason that holds no
//! client's input.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use tokio::sync::{watch, Notify, Semaphore};
use zkguard_prover::aggregate::{aggregate, app_snark};
use zkguard_prover::artifact::{fr_from_hex, fr_to_hex};
use zkguard_prover::circuit::AppWitness;
use zkguard_prover::evm::SubmissionContext;
use zkguard_prover::prove::{prove, Transcript};

use crate::metrics::Metrics;
use crate::model::{segment_sizes, Aggregation, Models, ServedModel};
use crate::store::{BatchRecord, BatchState, BatchUpdate, Claim, JobRecord, JobStore, RefusedJob, StoreError};

/// Why proving a batch failed: because of one sample (then only its job is refused), or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProveFailure {
    /// Sample `index` of the batch (in batch order) cannot be proved.
    Sample {
        /// Index in the batch.
        index: usize,
        /// Why (about that sample's own input).
        reason: String,
    },
    /// Anything else (keys, memory, the prover); holds no client's input.
    Batch(String),
}

impl From<String> for ProveFailure {
    fn from(s: String) -> Self {
        ProveFailure::Batch(s)
    }
}

impl From<&str> for ProveFailure {
    fn from(s: &str) -> Self {
        ProveFailure::Batch(s.to_string())
    }
}

/// Maps a circuit error to a failure, locating a sample error at `offset + index` of the batch.
fn circuit_failure(e: zkguard_prover::circuit::CircuitError, offset: usize, what: &str) -> ProveFailure {
    match e {
        zkguard_prover::circuit::CircuitError::Sample { index, source } => {
            ProveFailure::Sample { index: offset + index, reason: source.to_string() }
        }
        other => ProveFailure::Batch(format!("{what}{other}")),
    }
}

/// Runs every row of `jobs` through the model's checks and integer reference inference (what the
/// circuit computes); the jobs with a row that cannot be proved, each with its own reason.
pub fn screen(model: &zkguard_prover::quant::QuantizedModel, jobs: &[JobRecord]) -> Vec<RefusedJob> {
    jobs.iter()
        .filter_map(|job| {
            job.rows
                .iter()
                .enumerate()
                .find_map(|(i, row)| crate::intake::validate::check_row(model, i, row).err())
                .map(|e| RefusedJob {
                    job_id: job.id.clone(),
                    reason: format!("refused before proving ({}): {}", e.code, e.message),
                })
        })
        .collect()
}

/// The job holding sample `index` of a batch whose jobs are `jobs` (in sample order).
pub fn job_of_sample(jobs: &[JobRecord], index: usize) -> Option<&JobRecord> {
    let mut start = 0;
    for job in jobs {
        if index < start + job.rows.len() {
            return Some(job);
        }
        start += job.rows.len();
    }
    None
}

/// What a worker needs.
#[derive(Clone)]
pub struct ProverPool {
    /// Store.
    pub store: Arc<dyn JobStore>,
    /// Models.
    pub models: Models,
    /// Chain id the proofs are bound to.
    pub chain_id: u64,
    /// The Guard the proofs are bound to.
    pub guard: Address,
    /// Concurrent proofs.
    pub workers: usize,
    /// Memory budget of the concurrent proofs, MB (0: unlimited).
    pub memory_budget_mb: u64,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Wakes the pool (new batch).
    pub new_batch: Arc<Notify>,
    /// Wakes the submitter (batch proved).
    pub proved: Arc<Notify>,
    /// This worker's name in leases and metrics.
    pub worker: String,
    /// A claim's lease (ms); renewed every third of it while proving.
    pub lease_ms: u64,
}

/// The Guard context a batch's proof is bound to.
pub fn batch_context(
    chain_id: u64,
    guard: Address,
    model: &ServedModel,
    batch: &BatchRecord,
) -> Result<SubmissionContext, String> {
    let subjects = batch
        .subjects
        .iter()
        .map(|s| s.parse::<Address>().map_err(|_| format!("stored subject {s:?} is not an address")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubmissionContext {
        chain_id,
        guard,
        model_id: model.id_u256,
        nonce: batch.nonce,
        issued_at: batch.issued_at,
        subjects,
    })
}

/// Proves a batch (blocking). Returns the store update of a proved batch.
pub fn prove_batch(
    model: &ServedModel,
    batch: &BatchRecord,
    jobs: &[JobRecord],
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, ProveFailure> {
    let mut rows = vec![];
    for job in jobs {
        for row in &job.rows {
            let index = rows.len();
            rows.push(
                model.model.quantize_input(row).map_err(|e| ProveFailure::Sample { index, reason: e.to_string() })?,
            );
        }
    }
    let salt = fr_from_hex(&batch.salt).ok_or("stored salt is not a field element")?;
    match &model.aggregation {
        None => prove_direct(model, rows, salt, ctx),
        Some(aggregation) => prove_aggregated(model, aggregation, rows, salt, ctx),
    }
}

fn prove_direct(
    model: &ServedModel,
    rows: Vec<Vec<i64>>,
    salt: Fr,
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, ProveFailure> {
    let witness = AppWitness::new(model.model.clone(), rows, model.batch_size, salt, ctx.context())
        .map_err(|e| circuit_failure(e, 0, ""))?;
    crate::crash::point(crate::crash::PROVING);
    let proof = prove(&model.params, &model.keys, &witness, Transcript::Evm).map_err(|e| e.to_string())?;
    let decoded = model.decode(&proof.instances).ok_or("the proof's instances do not decode")?;
    let n = decoded.sample_count;
    Ok(BatchUpdate {
        instances: Some(proof.instances.iter().map(fr_to_hex).collect()),
        proof: Some(format!("0x{}", hex::encode(&proof.proof))),
        decisions: Some(decoded.decisions[..n].to_vec()),
        scores: Some(decoded.scores[..n].iter().map(|s| s.to_string()).collect()),
        ..BatchUpdate::default()
    })
}

/// Batch mode: the rows split in order into N segments ([`segment_sizes`]), one Poseidon-transcript
/// app proof each, all bound to the batch's one context (segment `i` salted `salt + i`, as the
/// prover's batch mode does), aggregated into one proof whose instances are the accumulator limbs
/// followed by the N segments' instances. Decisions and scores are the segments' real samples in
/// order, i.e. the batch's samples in order.
fn prove_aggregated(
    model: &ServedModel,
    aggregation: &Aggregation,
    rows: Vec<Vec<i64>>,
    salt: Fr,
    ctx: &SubmissionContext,
) -> Result<BatchUpdate, ProveFailure> {
    let sizes = segment_sizes(rows.len(), aggregation.proofs, model.batch_size).ok_or_else(|| {
        format!(
            "{} samples cannot fill {} segments of 1..={} samples",
            rows.len(),
            aggregation.proofs,
            model.batch_size
        )
    })?;
    let context = ctx.context();
    let mut witnesses = Vec::with_capacity(sizes.len());
    let mut rest = rows.into_iter();
    let mut start = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let segment: Vec<Vec<i64>> = rest.by_ref().take(size).collect();
        let witness =
            AppWitness::new(model.model.clone(), segment, model.batch_size, salt + Fr::from(i as u64), context)
                .map_err(|e| circuit_failure(e, start, &format!("segment {i}: ")))?;
        witnesses.push(witness);
        start += size;
    }
    crate::crash::point(crate::crash::PROVING);
    let (mut snarks, mut decisions, mut scores) = (vec![], vec![], vec![]);
    for (i, witness) in witnesses.iter().enumerate() {
        let proof = prove(&model.params, &model.keys, witness, Transcript::Poseidon)
            .map_err(|e| format!("segment {i}: {e}"))?;
        let decoded = model.decode(&proof.instances).ok_or_else(|| format!("segment {i}: instances do not decode"))?;
        let n = decoded.sample_count;
        if n != sizes[i] {
            return Err(format!("segment {i}: the proof counts {n} samples, the segment has {}", sizes[i]).into());
        }
        decisions.extend_from_slice(&decoded.decisions[..n]);
        scores.extend(decoded.scores[..n].iter().map(|s| s.to_string()));
        snarks.push(app_snark(&model.params, &model.keys, &proof, i).map_err(|e| format!("segment {i}: {e}"))?);
    }
    let proof = aggregate(&aggregation.params, &aggregation.keys, snarks).map_err(|e| format!("aggregation: {e}"))?;
    Ok(BatchUpdate {
        instances: Some(proof.instances.iter().map(fr_to_hex).collect()),
        proof: Some(format!("0x{}", hex::encode(&proof.proof))),
        decisions: Some(decisions),
        scores: Some(scores),
        ..BatchUpdate::default()
    })
}

/// Memory permits (one per MB) for a budget; 0 means unlimited.
fn memory_permits(budget_mb: u64) -> u64 {
    if budget_mb == 0 {
        u32::MAX as u64 / 2
    } else {
        budget_mb.min(u32::MAX as u64 / 2)
    }
}

impl ProverPool {
    /// Runs until shutdown, claiming batches while a worker is free; in-flight proofs finish in the
    /// background (if the process exits first, their leases expire and they are claimed again).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.workers));
        let budget = memory_permits(self.memory_budget_mb);
        let memory = Arc::new(Semaphore::new(budget as usize));
        let served: Vec<String> = self.models.keys().cloned().collect();
        loop {
            while let Ok(permit) = permits.clone().try_acquire_owned() {
                match self.store.claim_batch(&self.worker, &served, self.lease_ms as i64) {
                    Ok(Some(claim)) => {
                        self.metrics.claimed(claim.took_over_from.is_some());
                        if let Some(prev) = &claim.took_over_from {
                            tracing::warn!(batch = claim.batch.id, previous = %prev, token = %claim.token,
                                "took over a batch whose prover's lease expired");
                        }
                        let pool = self.clone();
                        let memory = memory.clone();
                        tokio::spawn(async move {
                            pool.prove_claim(claim, memory, budget).await;
                            drop(permit);
                            pool.new_batch.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "prover pool: cannot claim a batch");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.new_batch.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Fails the refused jobs alone and queues the batch's other jobs again.
    fn evict(&self, id: i64, from: BatchState, refused: &[RefusedJob]) {
        match self.store.evict(id, from, refused) {
            Ok(e) => tracing::warn!(
                batch = id,
                failed = e.failed,
                requeued = e.requeued,
                "a request's row cannot be proved: it fails alone, the rest of the batch is queued again"
            ),
            Err(e) => tracing::error!(batch = id, error = %e, "cannot dissolve the batch"),
        }
    }

    /// Ends a claim (proved or failed) if its lease still holds; a stale claim's result is refused
    /// and counted.
    fn finish(&self, claim: &Claim, to: BatchState, update: &BatchUpdate, detail: &str) -> bool {
        let id = claim.batch.id;
        match self.store.finish_claim(id, claim.token, to, update, detail) {
            Ok(_) => true,
            Err(StoreError::LeaseLost { .. }) => {
                self.metrics.stale_result();
                tracing::warn!(batch = id, token = %claim.token, outcome = %to,
                    "the lease expired and another prover claimed the batch: this result is refused");
                false
            }
            Err(e) => {
                tracing::error!(batch = id, error = %e, "cannot record the outcome (the lease will expire and another prover retries)");
                false
            }
        }
    }

    /// Renews the claim's lease until `done`; sets `lost` when another claim took the batch.
    fn heartbeat(&self, claim: &Claim, done: Arc<Notify>, lost: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let (store, id, token, lease_ms) = (self.store.clone(), claim.batch.id, claim.token, self.lease_ms);
        tokio::spawn(async move {
            let every = crate::config::FleetConfig::heartbeat(lease_ms);
            loop {
                tokio::select! {
                    _ = done.notified() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let s = store.clone();
                let renewed = tokio::task::spawn_blocking(move || s.renew_lease(id, token, lease_ms as i64)).await;
                match renewed {
                    Ok(Ok(())) => {}
                    Ok(Err(StoreError::LeaseLost { .. })) => {
                        tracing::warn!(batch = id, token = %token, "lease lost: another prover claimed the batch");
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Ok(Err(e)) => tracing::warn!(batch = id, error = %e, "cannot renew the lease; retrying"),
                    Err(e) => tracing::warn!(batch = id, error = %e, "lease renewal panicked; retrying"),
                }
            }
        })
    }

    async fn prove_claim(&self, claim: Claim, memory: Arc<Semaphore>, budget: u64) {
        let batch = claim.batch.clone();
        let id = batch.id;
        let fail = |reason: String| {
            tracing::error!(batch = id, %reason, "proving failed");
            let u = BatchUpdate { error: Some(format!("proving failed: {reason}")), ..BatchUpdate::default() };
            self.finish(&claim, BatchState::Failed, &u, "proving failed");
        };
        let Some(model) = self.models.get(&batch.model_id).cloned() else {
            return fail(format!("model {} is no longer served", batch.model_id));
        };
        if batch.client_proof {
            let u = BatchUpdate {
                error: Some("the batch carries a client's proof, which the relayer cannot prove again".into()),
                ..Default::default()
            };
            self.finish(&claim, BatchState::Failed, &u, "client proof");
            return;
        }
        let jobs = match self.store.batch_jobs(id) {
            Ok(jobs) => jobs,
            Err(e) => {
                return tracing::error!(batch = id, error = %e, "cannot read the batch's jobs (the lease will expire)")
            }
        };
        let refused = screen(&model.model, &jobs);
        if !refused.is_empty() {
            return self.evict(id, BatchState::Proving, &refused);
        }
        let ctx = match batch_context(self.chain_id, self.guard, &model, &batch) {
            Ok(ctx) => ctx,
            Err(e) => return fail(e),
        };
        let (done, lost) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        let heartbeat = self.heartbeat(&claim, done.clone(), lost.clone());
        let need = model.proving_memory_mb().clamp(1, budget) as u32;
        let reserved = match memory.acquire_many_owned(need).await {
            Ok(r) => r,
            Err(_) => return,
        };
        tracing::info!(batch = id, samples = batch.sample_count, nonce = batch.nonce, token = %claim.token, "proving");
        let started = Instant::now();
        let jobs_again = jobs.clone();
        let result = tokio::task::spawn_blocking(move || prove_batch(&model, &batch, &jobs, &ctx)).await;
        drop(reserved);
        done.notify_one();
        let _ = heartbeat.await;
        let seconds = started.elapsed().as_secs_f64();
        if lost.load(Ordering::SeqCst) {
            tracing::warn!(batch = id, "finished after losing the lease");
        }
        match result {
            Ok(Ok(mut update)) => {
                update.prove_ms = Some((seconds * 1000.0) as i64);
                self.metrics.observe_proving(seconds);
                let detail = format!("proof stored by {}", self.worker);
                if self.finish(&claim, BatchState::Proved, &update, &detail) {
                    self.metrics.proved_here();
                    tracing::info!(batch = id, seconds, "proved");
                    self.proved.notify_one();
                }
            }
            Ok(Err(ProveFailure::Batch(reason))) => fail(reason),
            Ok(Err(ProveFailure::Sample { index, reason })) => match job_of_sample(&jobs_again, index) {
                Some(job) => {
                    let refused =
                        RefusedJob { job_id: job.id.clone(), reason: format!("refused by the prover: {reason}") };
                    self.evict(id, BatchState::Proving, &[refused]);
                }
                None => fail(format!("the prover refused sample {index}, which no job of the batch holds")),
            },
            Err(join) => fail(format!("the proving task panicked: {join}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::validate::tests::{data_rows, logistic, poisoned_row};
    use crate::store::JobState;

    fn job(id: &str, rows: Vec<Vec<f64>>) -> JobRecord {
        JobRecord {
            id: id.into(),
            model_id: "1".into(),
            state: JobState::Proving,
            rows,
            salt: None,
            subjects: vec![],
            batch_id: Some(1),
            offset: None,
            created_ms: 0,
            updated_ms: 0,
            error: None,
        }
    }

    #[test]
    fn screening_refuses_only_the_job_with_the_unprovable_row() {
        let model = logistic();
        let (poison, feature) = poisoned_row(&model);
        let good = data_rows(&model, 3);
        let jobs = vec![
            job("a", vec![good[0].clone()]),
            job("b", vec![good[1].clone(), poison]),
            job("c", vec![good[2].clone()]),
        ];
        let refused = screen(&model, &jobs);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].job_id, "b");
        assert!(refused[0].reason.contains("value_overflow") && refused[0].reason.contains(&feature));
        assert!(refused[0].reason.contains("rows[1]"), "{}", refused[0].reason);
        assert!(screen(&model, &[jobs[0].clone(), jobs[2].clone()]).is_empty());
    }

    #[test]
    fn a_sample_index_maps_to_the_job_holding_it() {
        let jobs = vec![job("a", vec![vec![]; 2]), job("b", vec![vec![]; 1]), job("c", vec![vec![]; 3])];
        let at = |i| job_of_sample(&jobs, i).map(|j| j.id.as_str());
        assert_eq!(
            [at(0), at(1), at(2), at(3), at(5), at(6)],
            [Some("a"), Some("a"), Some("b"), Some("c"), Some("c"), None]
        );
    }

    #[test]
    fn a_circuit_sample_error_is_located_in_the_batch() {
        let source = zkguard_prover::quant::QuantError::FeatureCount { expected: 1, found: 2 };
        let e = zkguard_prover::circuit::CircuitError::Sample { index: 1, source };
        assert!(matches!(circuit_failure(e, 4, "segment 1: "), ProveFailure::Sample { index: 5, .. }));
    }
}
