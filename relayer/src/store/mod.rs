//! The job store: every job, every proof batch and every state transition, behind [`JobStore`]:
//! the embedded SQLite default ([`sqlite::SqliteStore`], one machine) or PostgreSQL
//! ([`postgres::PgStore`], a fleet of provers sharing one database), chosen by the configured
//! database URL ([`DatabaseUrl`], [`open`]).
//!
//! A *job* is one client request (its id is the client's request id, so a request submitted twice
//! is one job). A *batch* is one app proof and one `Guard.submit` transaction carrying the rows of
//! one or more jobs; a job's state follows its batch's state:
//!
//! ```text
//! job:   queued ─▶ proving ─▶ proved ─▶ submitted ─▶ confirmed
//!                     │          │          │
//!                     └──────────┴──────────┴──────▶ failed
//! batch: created ─▶ proving ─▶ proved ─▶ signed ─▶ sent ─▶ confirmed | failed
//! ```
//!
//! `signed` means the transaction is signed and persisted but maybe not broadcast (a crash between
//! the two re-broadcasts the same bytes); `sent` means the node accepted it. Every change of state,
//! and every notable event in a state (retries, fee bumps), is appended to the transitions table.

pub mod lease;
pub mod postgres;
pub mod schema;
pub mod segments;
pub mod sqlite;
pub mod types;
mod url;

#[cfg(test)]
mod contract_tests;

pub use lease::{Claim, LeaseToken, SubmitterLease};
pub use postgres::PgStore;
pub use segments::{SegmentClaim, SegmentProof, SegmentRecord, SegmentState};
pub use sqlite::SqliteStore;
pub use types::*;
pub use url::{open, DatabaseUrl, DatabaseUrlError};

/// The database engine behind a store (named in errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        })
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused the operation.
    #[error("{backend} database: {source}")]
    Db {
        /// Which database.
        backend: Backend,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The database cannot be reached (connection refused, authentication failed, timed out).
    #[error("{backend} database at {target} is unavailable: {reason}")]
    Unavailable {
        /// Which database.
        backend: Backend,
        /// Where (the URL without its password).
        target: String,
        /// Why.
        reason: String,
    },
    /// The database was migrated by a newer binary: this one does not know its schema.
    #[error(
        "{backend} database schema version {found} is newer than this binary's {supported}: \
         upgrade the relayer (refusing to touch the database)"
    )]
    SchemaTooNew {
        /// Which database.
        backend: Backend,
        /// The database's version.
        found: i64,
        /// The newest version this binary knows.
        supported: i64,
    },
    /// A prover's lease on a batch is gone (it expired and another prover claimed the batch):
    /// its result is refused (fencing).
    #[error("batch {batch}: the lease with token {token} is no longer held (stale result refused)")]
    LeaseLost {
        /// The batch.
        batch: i64,
        /// The stale token.
        token: i64,
    },
    /// A prover's lease on a segment is gone (it expired and another prover claimed the segment,
    /// or the batch left `created`): its result is refused (fencing).
    #[error("batch {batch} segment {segment}: the lease with token {token} is no longer held (stale result refused)")]
    SegmentLeaseLost {
        /// The batch.
        batch: i64,
        /// The segment.
        segment: usize,
        /// The stale token.
        token: i64,
    },
    /// A stored JSON column does not decode.
    #[error("corrupt stored value in {column}: {source}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// A job with this request id exists with a different body.
    #[error("request id {0:?} was already used for a different request")]
    Conflict(String),
    /// The state machine forbids this transition (another worker moved the entity first).
    #[error("batch {batch}: expected state {expected}, found {found}")]
    WrongState {
        /// The batch.
        batch: i64,
        /// The state the caller expected.
        expected: String,
        /// The state found.
        found: String,
    },
    /// No such entity.
    #[error("not found: {0}")]
    NotFound(String),
    /// A batch of the model already holds this Guard nonce.
    #[error("model {model_id}: Guard nonce {nonce} is already taken by a stored batch")]
    NonceTaken {
        /// The model.
        model_id: String,
        /// The nonce.
        nonce: u64,
    },
}

/// Persistence of jobs, batches and their transitions.
///
/// Implementations must make every method atomic (one database transaction), so that a crash
/// leaves either the old or the new state. Calls are short and synchronous; async callers may call
/// them directly (SQLite in WAL mode answers in well under a millisecond) or from `spawn_blocking`.
pub trait JobStore: Send + Sync + 'static {
    /// Inserts a job, or returns the existing one when `job.id` is known with the same body hash.
    fn insert_job(&self, job: &NewJob) -> Result<Inserted, StoreError>;
    /// Inserts a job that arrives with its proof, and its batch directly in state `proved`
    /// (marked `client_proof`), or returns the existing job when `job.id` is known with the same
    /// body hash. Refuses ([`StoreError::NonceTaken`]) a nonce a batch of the model already holds.
    fn insert_proved_job(&self, job: &NewJob, batch: &NewProvedBatch) -> Result<Inserted, StoreError>;
    /// The body hash a job was accepted with (to answer a retried request before checking it again).
    fn body_hash(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// A job and its transitions.
    fn job(&self, id: &str) -> Result<Option<JobView>, StoreError>;
    /// Queued jobs of a model, oldest first.
    fn queued_jobs(&self, model_id: &str) -> Result<Vec<JobRecord>, StoreError>;
    /// Creates a batch of `job_ids` (all queued) with the next Guard nonce of the model.
    fn create_batch(&self, batch: &NewBatch) -> Result<BatchRecord, StoreError>;
    /// Takes the next Guard nonce of a model (at least `floor`).
    fn next_nonce(&self, model_id: &str, floor: u64) -> Result<u64, StoreError>;
    /// A batch.
    fn batch(&self, id: i64) -> Result<Option<BatchRecord>, StoreError>;
    /// Batches in any of `states`, oldest first.
    fn batches_in(&self, states: &[BatchState]) -> Result<Vec<BatchRecord>, StoreError>;
    /// The jobs of a batch, in sample order.
    fn batch_jobs(&self, batch_id: i64) -> Result<Vec<JobRecord>, StoreError>;
    /// Moves a batch (and its jobs) from `from` to `to`, applying `update`, and records it.
    fn transition(
        &self,
        batch_id: i64,
        from: BatchState,
        to: BatchState,
        update: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError>;
    /// Records an event that does not change state (a retry, a fee bump).
    fn note(&self, batch_id: i64, detail: &str) -> Result<(), StoreError>;
    /// Records a signed transaction attempt of a batch (before it is broadcast).
    fn add_attempt(&self, attempt: &TxAttempt) -> Result<(), StoreError>;
    /// The transaction attempts of a batch, oldest first.
    fn attempts(&self, batch_id: i64) -> Result<Vec<TxAttempt>, StoreError>;
    /// The attestations stored with a batch (none: `None`).
    fn batch_attestations(&self, batch_id: i64) -> Result<Option<BatchAttestations>, StoreError>;
    /// Stores the relayer's own attestations of a batch (replacing earlier ones of the relayer;
    /// a batch with a client's fixed context keeps the client's).
    fn set_batch_attestations(
        &self,
        batch_id: i64,
        attestations: &[zkguard_contracts::attestation::Attestation],
    ) -> Result<(), StoreError>;
    /// Forgets the relayer's own attestations of a batch (it is proved again with a new context);
    /// a client's are kept.
    fn clear_relayer_attestations(&self, batch_id: i64) -> Result<(), StoreError>;
    /// Takes refused jobs out of a batch in state `from` (created or proving): each fails alone
    /// with its own reason; the batch's other jobs are queued again (keeping their place in the
    /// queue) and the batch fails as dissolved, with a reason that names none of its jobs' input.
    fn evict(&self, batch_id: i64, from: BatchState, refused: &[RefusedJob]) -> Result<Evicted, StoreError>;
    /// Jobs by state (for metrics), from counters kept as jobs change (no scan).
    fn job_counts(&self) -> Result<Vec<(JobState, u64)>, StoreError>;
    /// Total gas used by finished batches (a counter that pruning never lowers).
    fn gas_spent(&self) -> Result<u64, StoreError>;
    /// Deletes up to `limit` finished (confirmed or failed) jobs last changed before `before_ms`,
    /// then the finished batches of that age left without jobs, with their transactions and
    /// transitions. Never touches an unfinished job or batch.
    fn prune_finished(&self, before_ms: i64, limit: usize) -> Result<Pruned, StoreError>;

    /// The schema version of the database and the newest this binary knows.
    fn schema_version(&self) -> Result<(i64, i64), StoreError>;

    // The fleet's leases ([`lease`]). SQLite implements them too (one process: the `all` role).

    /// Claims the oldest batch of one of `models` that is `created`, or `proving` under a lease
    /// that expired, for `worker` until `now + lease_ms`; the claim's token is one more than the
    /// batch's last. On PostgreSQL concurrent claimers skip each other's rows (`FOR UPDATE SKIP
    /// LOCKED`). `None`: nothing to claim.
    ///
    /// A batch-mode batch (`segments > 0`) is its aggregation job here: claimable only once all
    /// its segments are proved, and only when `memory_budget_mb` covers its `aggregation_mb`
    /// (`u64::MAX`: no budget).
    fn claim_batch(
        &self,
        worker: &str,
        models: &[String],
        lease_ms: i64,
        memory_budget_mb: u64,
    ) -> Result<Option<Claim>, StoreError>;
    /// Extends a claim's lease (a heartbeat); [`StoreError::LeaseLost`] when the batch was claimed
    /// again (or left `proving`).
    fn renew_lease(&self, batch_id: i64, token: LeaseToken, lease_ms: i64) -> Result<(), StoreError>;
    /// Moves a claimed batch out of `proving` (to `proved` with its proof, or `failed`), only
    /// while `token` is still the batch's claim: a late result of an expired lease is refused
    /// with [`StoreError::LeaseLost`] and changes nothing. Records the worker as the prover.
    fn finish_claim(
        &self,
        batch_id: i64,
        token: LeaseToken,
        to: BatchState,
        update: &BatchUpdate,
        detail: &str,
    ) -> Result<BatchRecord, StoreError>;
    /// Claims the oldest segment (`created`, or `proving` under a lease that expired) of a
    /// `created` batch of one of `models`, for `worker` until `now + lease_ms`, with a token one
    /// more than the segment's last ([`segments`]). `None`: nothing to claim.
    fn claim_segment(&self, worker: &str, models: &[String], lease_ms: i64)
        -> Result<Option<SegmentClaim>, StoreError>;
    /// Extends a segment claim's lease; [`StoreError::SegmentLeaseLost`] when it was claimed again
    /// (or the segment or its batch moved on).
    fn renew_segment_lease(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        lease_ms: i64,
    ) -> Result<(), StoreError>;
    /// Stores a segment's proof (`proved`) while `token` still holds its claim and its batch is
    /// still `created`; a stale result is refused with [`StoreError::SegmentLeaseLost`] and
    /// changes nothing. Counts the proof for the worker.
    fn finish_segment(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        proof: &SegmentProof,
    ) -> Result<SegmentRecord, StoreError>;
    /// Fails a segment's batch (`created` to `failed`, with `reason`) while `token` still holds
    /// the segment's claim (a batch-wide proving failure).
    fn fail_segment(
        &self,
        batch_id: i64,
        index: usize,
        token: LeaseToken,
        reason: &str,
    ) -> Result<BatchRecord, StoreError>;
    /// The segments of a batch, by index (none in direct mode).
    fn segments(&self, batch_id: i64) -> Result<Vec<SegmentRecord>, StoreError>;
    /// Ends every segment lease, putting `proving` segments back to `created` (one process
    /// restarting on its own database owns them all); returns how many.
    fn release_segment_leases(&self) -> Result<usize, StoreError>;
    /// Proofs stored per worker (a counter kept as claims finish, never lowered by pruning).
    fn proofs_by_worker(&self) -> Result<Vec<(String, u64)>, StoreError>;
    /// Takes or renews the submitter lease of `account` for `holder` until `now + lease_ms`: held
    /// when free, expired, or already `holder`'s. `None`: another submitter holds it.
    fn acquire_submitter(
        &self,
        account: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<SubmitterLease>, StoreError>;
    /// Gives the submitter lease up (a clean shutdown), if `holder` holds it.
    fn release_submitter(&self, account: &str, holder: &str) -> Result<(), StoreError>;
    /// The submitter lease of `account`, if any was ever taken.
    fn submitter_lease(&self, account: &str) -> Result<Option<SubmitterLease>, StoreError>;
}
