//! The proving pool: work is claimed from the store with a lease (a deadline renewed by a
//! heartbeat while the proof runs, and a fencing token the result must still hold) and proved on
//! tokio's blocking pool ([`crate::proving`]), at most `workers` at a time and within the memory
//! budget (a semaphore of MB: each proof reserves its estimated peak first), with the model's
//! keys shared through `Arc`. The same pool serves one process on SQLite and each prover of a
//! fleet on PostgreSQL: a prover that dies stops renewing, its lease expires and another prover
//! claims the work; its late result is refused.
//!
//! Three kinds of work, claimed in this order:
//! - a direct-mode batch, proved whole ([`JobStore::claim_batch`], [`JobStore::finish_claim`]);
//! - a batch-mode batch's **aggregation**, claimable once its N segment proofs are stored, and
//!   only by a prover whose memory budget covers the aggregation's estimated peak (a prover with a
//!   smaller budget never claims one, and still proves segments);
//! - a batch-mode **segment** (one app proof over its slice of the batch's rows), claimable by any
//!   prover serving the model ([`JobStore::claim_segment`], [`JobStore::finish_segment`]).
//!
//! One client's row must never fail its neighbours: a job whose row is refused (by the screening
//! or by the prover for one sample) is failed alone with its own reason and the batch's other
//! jobs are queued again ([`JobStore::evict`]). A batch-wide failure records a reason that holds
//! no client's input.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use tokio::sync::{watch, Notify, Semaphore};

use crate::metrics::{ClaimKind, Metrics};
use crate::model::{aggregation_memory_mb, Models, ServedModel};
use crate::proving::{
    aggregate_segments, batch_context, job_of_sample, prove_batch, prove_segment, screen, BatchFailure, ProveFailure,
};
use crate::store::{
    BatchState, BatchUpdate, Claim, JobStore, LeaseToken, RefusedJob, SegmentClaim, SegmentProof, StoreError,
};

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
    /// Memory budget of this process's concurrent proofs, MB (0: unlimited); an aggregation whose
    /// estimated peak exceeds it is never claimed here.
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

/// Work claimed from the store.
enum Work {
    /// A batch (direct mode) or a batch-mode batch's aggregation.
    Batch(Claim),
    /// One segment of a batch-mode batch.
    Segment(SegmentClaim),
}

/// The lease a running proof renews.
#[derive(Clone, Copy, Debug)]
enum Lease {
    Batch { id: i64, token: LeaseToken },
    Segment { id: i64, index: usize, token: LeaseToken },
}

impl Lease {
    fn renew(self, store: &dyn JobStore, lease_ms: u64) -> Result<(), StoreError> {
        match self {
            Lease::Batch { id, token } => store.renew_lease(id, token, lease_ms as i64),
            Lease::Segment { id, index, token } => store.renew_segment_lease(id, index, token, lease_ms as i64),
        }
    }
}

/// Why a proof's task produced no result.
#[derive(Debug, thiserror::Error)]
enum TaskError {
    /// The memory semaphore closed (the pool is stopping).
    #[error("the memory budget's semaphore closed")]
    Closed,
    /// The blocking task panicked.
    #[error("the proving task panicked: {0}")]
    Panicked(#[from] tokio::task::JoinError),
}

/// Memory permits (one per MB) for a budget; 0 means unlimited.
fn memory_permits(budget_mb: u64) -> u64 {
    if budget_mb == 0 {
        u32::MAX as u64 / 2
    } else {
        budget_mb.min(u32::MAX as u64 / 2)
    }
}

/// The aggregation's estimated peak of a batch-mode model, MB (0 in direct mode).
pub fn aggregation_mb(model: &ServedModel) -> u64 {
    model.aggregation.as_ref().map_or(0, |a| aggregation_memory_mb(a.shape.k))
}

impl ProverPool {
    /// The budget the store compares aggregations against (`u64::MAX`: unlimited).
    fn aggregation_budget(&self) -> u64 {
        if self.memory_budget_mb == 0 {
            u64::MAX
        } else {
            self.memory_budget_mb
        }
    }

    /// Runs until shutdown, claiming work while a worker is free; in-flight proofs finish in the
    /// background (if the process exits first, their leases expire and they are claimed again).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let permits = Arc::new(Semaphore::new(self.workers));
        let budget = memory_permits(self.memory_budget_mb);
        let memory = Arc::new(Semaphore::new(budget as usize));
        let served: Vec<String> = self.models.keys().cloned().collect();
        let segmented: Vec<String> =
            self.models.values().filter(|m| m.aggregation.is_some()).map(|m| m.id.clone()).collect();
        for model in self.models.values().filter(|m| m.aggregation.is_some()) {
            let need = aggregation_mb(model);
            if need > self.aggregation_budget() {
                tracing::warn!(model = %model.id, aggregation_mb = need, budget_mb = self.memory_budget_mb,
                    "the memory budget is below this model's aggregation estimate: this prover proves its \
                     segments and never claims its aggregations");
            }
        }
        loop {
            while let Ok(permit) = permits.clone().try_acquire_owned() {
                match self.next_claim(&served, &segmented) {
                    Ok(Some(work)) => {
                        let pool = self.clone();
                        let memory = memory.clone();
                        tokio::spawn(async move {
                            match work {
                                Work::Batch(claim) => pool.prove_claim(claim, memory, budget).await,
                                Work::Segment(claim) => pool.prove_segment_claim(claim, memory, budget).await,
                            }
                            drop(permit);
                            pool.new_batch.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "prover pool: cannot claim work");
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

    /// Claims the next work: a batch or an aggregation first (they finish what was started),
    /// then a segment.
    fn next_claim(&self, served: &[String], segmented: &[String]) -> Result<Option<Work>, StoreError> {
        let lease = self.lease_ms as i64;
        if let Some(claim) = self.store.claim_batch(&self.worker, served, lease, self.aggregation_budget())? {
            let kind = if claim.batch.segments > 0 { ClaimKind::Aggregation } else { ClaimKind::Batch };
            self.metrics.claimed(kind, claim.took_over_from.is_some());
            if let Some(prev) = &claim.took_over_from {
                tracing::warn!(batch = claim.batch.id, previous = %prev, token = %claim.token, kind = kind.as_str(),
                    "took over a batch whose prover's lease expired");
            }
            return Ok(Some(Work::Batch(claim)));
        }
        if segmented.is_empty() {
            return Ok(None);
        }
        let Some(claim) = self.store.claim_segment(&self.worker, segmented, lease)? else { return Ok(None) };
        self.metrics.claimed(ClaimKind::Segment, claim.took_over_from.is_some());
        if let Some(prev) = &claim.took_over_from {
            tracing::warn!(batch = claim.batch.id, segment = claim.index, previous = %prev, token = %claim.token,
                "took over a segment whose prover's lease expired");
        }
        Ok(Some(Work::Segment(claim)))
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

    /// Counts and logs a result refused because its lease was lost; true for any other outcome.
    fn refused_as_stale(&self, e: &StoreError) -> bool {
        if matches!(e, StoreError::LeaseLost { .. } | StoreError::SegmentLeaseLost { .. }) {
            self.metrics.stale_result();
            tracing::warn!(error = %e, "the lease expired and another prover claimed the work: this result is refused");
            return true;
        }
        false
    }

    /// Ends a claim (proved or failed) if its lease still holds; a stale claim's result is refused
    /// and counted.
    fn finish(&self, claim: &Claim, to: BatchState, update: &BatchUpdate, detail: &str) -> bool {
        let id = claim.batch.id;
        match self.store.finish_claim(id, claim.token, to, update, detail) {
            Ok(_) => true,
            Err(e) if self.refused_as_stale(&e) => false,
            Err(e) => {
                tracing::error!(batch = id, error = %e, "cannot record the outcome (the lease will expire and another prover retries)");
                false
            }
        }
    }

    /// Renews `lease` until `done`; sets `lost` when another claim took the work.
    fn heartbeat(&self, lease: Lease, done: Arc<Notify>, lost: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let (store, lease_ms) = (self.store.clone(), self.lease_ms);
        tokio::spawn(async move {
            let every = crate::config::FleetConfig::heartbeat(lease_ms);
            loop {
                tokio::select! {
                    _ = done.notified() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let s = store.clone();
                match tokio::task::spawn_blocking(move || lease.renew(s.as_ref(), lease_ms)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e @ (StoreError::LeaseLost { .. } | StoreError::SegmentLeaseLost { .. }))) => {
                        tracing::warn!(?lease, error = %e, "lease lost: another prover claimed the work");
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                    Ok(Err(e)) => tracing::warn!(?lease, error = %e, "cannot renew the lease; retrying"),
                    Err(e) => tracing::warn!(?lease, error = %e, "lease renewal panicked; retrying"),
                }
            }
        })
    }

    /// Runs `prove` on the blocking pool under `lease` (renewed meanwhile) with `need_mb` of the
    /// memory budget reserved; returns its result and the seconds it took.
    async fn run_proof<T: Send + 'static>(
        &self,
        lease: Lease,
        memory: Arc<Semaphore>,
        need_mb: u64,
        budget: u64,
        prove: impl FnOnce() -> T + Send + 'static,
    ) -> Result<(T, f64), TaskError> {
        let (done, lost) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        let heartbeat = self.heartbeat(lease, done.clone(), lost.clone());
        let need = need_mb.clamp(1, budget) as u32;
        let reserved = memory.acquire_many_owned(need).await;
        let started = Instant::now();
        let result = match reserved {
            Ok(reserved) => {
                let result = tokio::task::spawn_blocking(prove).await;
                drop(reserved);
                result.map_err(TaskError::from)
            }
            Err(_) => Err(TaskError::Closed),
        };
        done.notify_one();
        let _ = heartbeat.await;
        if lost.load(Ordering::SeqCst) {
            tracing::warn!(?lease, "finished after losing the lease");
        }
        result.map(|r| (r, started.elapsed().as_secs_f64()))
    }

    /// A batch claim: a direct-mode batch proved whole, or a batch-mode batch's aggregation.
    async fn prove_claim(&self, claim: Claim, memory: Arc<Semaphore>, budget: u64) {
        let batch = claim.batch.clone();
        let id = batch.id;
        let fail = |reason: &dyn std::fmt::Display| {
            tracing::error!(batch = id, %reason, "proving failed");
            let u = BatchUpdate { error: Some(format!("proving failed: {reason}")), ..BatchUpdate::default() };
            self.finish(&claim, BatchState::Failed, &u, "proving failed");
        };
        let Some(model) = self.models.get(&batch.model_id).cloned() else {
            return fail(&format!("model {} is no longer served", batch.model_id));
        };
        if batch.client_proof {
            let u = BatchUpdate {
                error: Some("the batch carries a client's proof, which the relayer cannot prove again".into()),
                ..Default::default()
            };
            self.finish(&claim, BatchState::Failed, &u, "client proof");
            return;
        }
        let ctx = match batch_context(self.chain_id, self.guard, &model, &batch) {
            Ok(ctx) => ctx,
            Err(e) => return fail(&e),
        };
        let lease = Lease::Batch { id, token: claim.token };
        if batch.segments > 0 {
            return self.aggregate_claim(&claim, model, ctx, memory, budget).await;
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
        // Direct mode (or, in batch mode, a batch stored before segment jobs existed: its N
        // segments and the aggregation in this one claim).
        let need = model.proving_memory_mb();
        tracing::info!(batch = id, samples = batch.sample_count, nonce = batch.nonce, token = %claim.token, "proving");
        let jobs_again = jobs.clone();
        let result =
            self.run_proof(lease, memory, need, budget, move || prove_batch(&model, &batch, &jobs, &ctx)).await;
        match result {
            Ok((Ok(update), seconds)) => self.store_proof(&claim, update, seconds),
            Ok((Err(ProveFailure::Batch(e)), _)) => fail(&e),
            Ok((Err(ProveFailure::Sample { index, source }), _)) => match job_of_sample(&jobs_again, index) {
                Some(job) => {
                    let refused =
                        RefusedJob { job_id: job.id.clone(), reason: format!("refused by the prover: {source}") };
                    self.evict(id, BatchState::Proving, &[refused]);
                }
                None => fail(&format!("the prover refused sample {index}, which no job of the batch holds")),
            },
            Err(e) => fail(&e),
        }
    }

    /// Stores a batch's proof (direct, or the aggregation) if the claim still holds.
    fn store_proof(&self, claim: &Claim, mut update: BatchUpdate, seconds: f64) {
        update.prove_ms = Some((seconds * 1000.0) as i64);
        self.metrics.observe_proving(seconds);
        let detail = format!("proof stored by {}", self.worker);
        if self.finish(claim, BatchState::Proved, &update, &detail) {
            self.metrics.proved_here();
            tracing::info!(batch = claim.batch.id, seconds, "proved");
            self.proved.notify_one();
        }
    }

    /// A batch-mode batch's aggregation: its N stored segment proofs aggregated into its proof.
    async fn aggregate_claim(
        &self,
        claim: &Claim,
        model: Arc<ServedModel>,
        ctx: zkguard_prover::evm::SubmissionContext,
        memory: Arc<Semaphore>,
        budget: u64,
    ) {
        let id = claim.batch.id;
        let fail = |reason: &dyn std::fmt::Display| {
            tracing::error!(batch = id, %reason, "aggregation failed");
            let u = BatchUpdate { error: Some(format!("proving failed: {reason}")), ..BatchUpdate::default() };
            self.finish(claim, BatchState::Failed, &u, "aggregation failed");
        };
        let stored = match self.store.segments(id) {
            Ok(s) => s,
            Err(e) => {
                return tracing::error!(batch = id, error = %e, "cannot read the segments (the lease will expire)")
            }
        };
        let proofs: Result<Vec<SegmentProof>, BatchFailure> =
            stored.into_iter().map(|s| s.proof.ok_or(BatchFailure::MissingSegment(s.index))).collect();
        let proofs = match proofs {
            Ok(p) => p,
            Err(e) => return fail(&e),
        };
        let need = aggregation_mb(&model);
        tracing::info!(batch = id, segments = proofs.len(), token = %claim.token, memory_mb = need, "aggregating");
        let lease = Lease::Batch { id, token: claim.token };
        let result =
            self.run_proof(lease, memory, need, budget, move || aggregate_segments(&model, &proofs, &ctx)).await;
        match result {
            Ok((Ok(update), seconds)) => self.store_proof(claim, update, seconds),
            Ok((Err(e), _)) => fail(&e),
            Err(e) => fail(&e),
        }
    }

    /// A segment claim: one app proof over the segment's rows, stored if the claim still holds.
    async fn prove_segment_claim(&self, claim: SegmentClaim, memory: Arc<Semaphore>, budget: u64) {
        let (batch, index, token) = (claim.batch.clone(), claim.index, claim.token);
        let id = batch.id;
        let fail = |reason: &dyn std::fmt::Display| {
            tracing::error!(batch = id, segment = index, %reason, "proving a segment failed");
            match self.store.fail_segment(id, index, token, &reason.to_string()) {
                Ok(_) => {}
                Err(e) if self.refused_as_stale(&e) => {}
                Err(e) => tracing::error!(batch = id, segment = index, error = %e, "cannot record the failure"),
            }
        };
        let Some(model) = self.models.get(&batch.model_id).cloned() else {
            return fail(&format!("model {} is no longer served", batch.model_id));
        };
        let jobs = match self.store.batch_jobs(id) {
            Ok(jobs) => jobs,
            Err(e) => {
                return tracing::error!(batch = id, error = %e, "cannot read the batch's jobs (the lease will expire)")
            }
        };
        let refused = screen(&model.model, &jobs);
        if !refused.is_empty() {
            return self.evict(id, BatchState::Created, &refused);
        }
        let ctx = match batch_context(self.chain_id, self.guard, &model, &batch) {
            Ok(ctx) => ctx,
            Err(e) => return fail(&e),
        };
        let need = model.app_proving_memory_mb();
        tracing::info!(batch = id, segment = index, token = %token, "proving a segment");
        let jobs_again = jobs.clone();
        let lease = Lease::Segment { id, index, token };
        let result = self
            .run_proof(lease, memory, need, budget, move || prove_segment(&model, &batch, &jobs, &ctx, index))
            .await;
        match result {
            Ok((Ok(proof), seconds)) => match self.store.finish_segment(id, index, token, &proof) {
                Ok(_) => {
                    self.metrics.proved_here();
                    tracing::info!(batch = id, segment = index, seconds, "segment proved");
                    self.new_batch.notify_one();
                }
                Err(e) if self.refused_as_stale(&e) => {}
                Err(e) => tracing::error!(batch = id, segment = index, error = %e,
                    "cannot store the segment's proof (the lease will expire and another prover retries)"),
            },
            Ok((Err(ProveFailure::Batch(e)), _)) => fail(&e),
            Ok((Err(ProveFailure::Sample { index: sample, source }), _)) => match job_of_sample(&jobs_again, sample) {
                Some(job) => {
                    let refused =
                        RefusedJob { job_id: job.id.clone(), reason: format!("refused by the prover: {source}") };
                    self.evict(id, BatchState::Created, &[refused]);
                }
                None => fail(&format!("the prover refused sample {sample}, which no job of the batch holds")),
            },
            Err(e) => fail(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory_permits;

    #[test]
    fn a_zero_budget_is_unlimited_and_others_are_capped_to_the_semaphore() {
        assert_eq!(memory_permits(0), u32::MAX as u64 / 2);
        assert_eq!(memory_permits(4_000), 4_000);
        assert_eq!(memory_permits(u64::MAX), u32::MAX as u64 / 2);
    }
}
