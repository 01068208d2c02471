//! The job store: every job, every proof batch and every state transition, behind [`JobStore`]
//! so that a server database can replace the embedded SQLite default ([`sqlite::SqliteStore`]).
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

pub mod schema;
pub mod sqlite;
pub mod types;

pub use sqlite::SqliteStore;
pub use types::*;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused the operation.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
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
    /// Jobs by state (for metrics).
    fn job_counts(&self) -> Result<Vec<(JobState, u64)>, StoreError>;
    /// Total gas used by confirmed batches.
    fn gas_spent(&self) -> Result<u64, StoreError>;
}
