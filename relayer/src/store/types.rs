//! The records the store reads and writes, and the two state enums.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// A JSON column's text (both backends store lists and rows as JSON text).
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// Decodes a JSON column, naming it when the stored text is corrupt.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> Result<T, super::StoreError> {
    serde_json::from_str(text).map_err(|source| super::StoreError::Corrupt { column, source })
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every state.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The state's name in the database and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses a stored name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// A job's state (mirrors its batch's).
    JobState {
        /// Accepted, waiting for a batch.
        Queued => "queued",
        /// In a batch that is being proved.
        Proving => "proving",
        /// Proved, waiting for submission.
        Proved => "proved",
        /// The transaction is signed or sent.
        Submitted => "submitted",
        /// On chain with the configured depth; the Guard consumed the nonce.
        Confirmed => "confirmed",
        /// Final failure (see the error).
        Failed => "failed",
    }
}

string_enum! {
    /// A batch's state.
    BatchState {
        /// Nonce, salt and issue time assigned; not yet proving.
        Created => "created",
        /// A worker is proving it.
        Proving => "proving",
        /// Proof stored.
        Proved => "proved",
        /// Transaction signed and stored, maybe not broadcast.
        Signed => "signed",
        /// Transaction accepted by the node.
        Sent => "sent",
        /// Confirmed.
        Confirmed => "confirmed",
        /// Failed for good.
        Failed => "failed",
    }
}

impl BatchState {
    /// The state of the batch's jobs.
    pub fn job_state(self) -> JobState {
        match self {
            BatchState::Created | BatchState::Proving => JobState::Proving,
            BatchState::Proved => JobState::Proved,
            BatchState::Signed | BatchState::Sent => JobState::Submitted,
            BatchState::Confirmed => JobState::Confirmed,
            BatchState::Failed => JobState::Failed,
        }
    }
}

/// A job to insert.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// The client's request id.
    pub id: String,
    /// The model id (decimal).
    pub model_id: String,
    /// sha256 of the canonical request, to tell a retry from a conflicting reuse of the id.
    pub body_hash: String,
    /// Feature rows.
    pub rows: Vec<Vec<f64>>,
    /// Explicit input-commitment salt (hex), if any.
    pub salt: Option<String>,
    /// Subject addresses (hex), one per row, or empty.
    pub subjects: Vec<String>,
    /// The data provider's attestation (client-attested models): the job is proved alone, bound
    /// to this nonce and issue time.
    pub attestation: Option<ClientAttestation>,
}

/// A client's attestation of a request: the context it signs and the signatures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientAttestation {
    /// The Guard nonce the attesters signed (in the clients' range, >= 2^63).
    pub nonce: u64,
    /// The issue time the attesters signed (unix s).
    pub issued_at: u64,
    /// The signatures, sorted by signer.
    pub attestations: Vec<zkguard_contracts::attestation::Attestation>,
}

/// The attestations stored with a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchAttestations {
    /// The signatures submitted with the batch, sorted by signer.
    pub attestations: Vec<zkguard_contracts::attestation::Attestation>,
    /// The batch's nonce and issue time are the ones a client's attesters signed: the batch is
    /// never re-nonced or re-timed (it fails instead).
    pub fixed_context: bool,
}

/// The outcome of [`super::JobStore::insert_job`].
#[derive(Clone, Debug)]
pub struct Inserted {
    /// The job.
    pub job: JobRecord,
    /// False when the request id was already known (an idempotent retry).
    pub created: bool,
}

/// A stored job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobRecord {
    /// Request id.
    pub id: String,
    /// Model id.
    pub model_id: String,
    /// State.
    pub state: JobState,
    /// Feature rows.
    pub rows: Vec<Vec<f64>>,
    /// Explicit salt.
    pub salt: Option<String>,
    /// Subjects.
    pub subjects: Vec<String>,
    /// Its batch.
    pub batch_id: Option<i64>,
    /// Index of its first sample in the batch.
    pub offset: Option<usize>,
    /// Accepted at (ms).
    pub created_ms: i64,
    /// Last change (ms).
    pub updated_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
}

/// One recorded transition or event.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Transition {
    /// State before.
    pub from: Option<String>,
    /// State after.
    pub to: String,
    /// What happened.
    pub detail: String,
    /// When (ms).
    pub at_ms: i64,
}

/// A job with its batch and history, for the status API.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobView {
    /// The job.
    pub job: JobRecord,
    /// Its batch, if any.
    pub batch: Option<BatchRecord>,
    /// The job's and its batch's transitions, oldest first.
    pub transitions: Vec<Transition>,
}

/// A batch to create.
#[derive(Clone, Debug)]
pub struct NewBatch {
    /// Model id.
    pub model_id: String,
    /// Jobs, in sample order.
    pub job_ids: Vec<String>,
    /// Salt (hex field element).
    pub salt: String,
    /// Issue time (unix s).
    pub issued_at: u64,
    /// Subjects (hex), one per sample or empty.
    pub subjects: Vec<String>,
    /// The lowest Guard nonce to use if the model has none yet.
    pub nonce_floor: u64,
    /// Batch mode: the number of segment jobs (N app proofs) to prove before the batch's
    /// aggregation; 0: the batch is proved whole (direct mode).
    pub segments: usize,
    /// Batch mode: the aggregation's estimated peak memory (MB); only a prover whose budget
    /// covers it claims the aggregation.
    pub aggregation_mb: u64,
}

/// A stored batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchRecord {
    /// Id.
    pub id: i64,
    /// Model id.
    pub model_id: String,
    /// State.
    pub state: Option<BatchState>,
    /// Guard nonce.
    pub nonce: u64,
    /// Issue time (unix s).
    pub issued_at: u64,
    /// Salt (hex).
    pub salt: String,
    /// Subjects.
    pub subjects: Vec<String>,
    /// Samples.
    pub sample_count: usize,
    /// Public instances (hex), once proved.
    pub instances: Option<Vec<String>>,
    /// Proof (hex), once proved.
    #[serde(skip_serializing)]
    pub proof: Option<String>,
    /// Decisions per sample, once proved.
    pub decisions: Option<Vec<bool>>,
    /// Scores per sample (decimal fixed point), once proved.
    pub scores: Option<Vec<String>>,
    /// Transaction hash that confirmed (or the latest attempt).
    pub tx_hash: Option<String>,
    /// Block of the confirmation.
    pub block_number: Option<u64>,
    /// Gas used.
    pub gas_used: Option<u64>,
    /// Proving time (ms).
    pub prove_ms: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Created at (ms).
    pub created_ms: i64,
    /// Updated at (ms).
    pub updated_ms: i64,
    /// The proof is a client's (`POST /v1/proofs`): the relayer cannot prove this batch again.
    #[serde(default)]
    pub client_proof: bool,
    /// The sender of the transaction that carried the batch when it was not the relayer's (someone
    /// landed a copy of the relayer's calldata first).
    #[serde(default)]
    pub carried_by: Option<String>,
    /// The worker whose proof was stored (a prover of the fleet, or this process).
    #[serde(default)]
    pub proved_by: Option<String>,
    /// Batch mode: its segment jobs (N; 0: proved whole, direct mode).
    #[serde(default)]
    pub segments: usize,
    /// Batch mode: the aggregation's estimated peak memory (MB).
    #[serde(default)]
    pub aggregation_mb: u64,
}

/// A batch that arrives proved: a client's ready proof (`POST /v1/proofs`), stored with its one
/// job directly in state `proved`.
#[derive(Clone, Debug)]
pub struct NewProvedBatch {
    /// Model id.
    pub model_id: String,
    /// The Guard nonce the proof is bound to (client-chosen).
    pub nonce: u64,
    /// The issue time the proof is bound to (unix s).
    pub issued_at: u64,
    /// Subjects (hex), one per sample or empty.
    pub subjects: Vec<String>,
    /// Real samples in the proof.
    pub sample_count: usize,
    /// Public instances (hex).
    pub instances: Vec<String>,
    /// Proof (hex).
    pub proof: String,
    /// Decisions per sample (decoded from the instances).
    pub decisions: Vec<bool>,
    /// Scores per sample (decoded from the instances).
    pub scores: Vec<String>,
    /// The client's attestations of the proof's inputs (empty when the model needs none).
    pub attestations: Vec<zkguard_contracts::attestation::Attestation>,
}

/// Fields a transition may set (None: unchanged).
#[derive(Clone, Debug, Default)]
pub struct BatchUpdate {
    /// New Guard nonce (re-nonce after a collision).
    pub nonce: Option<u64>,
    /// New issue time.
    pub issued_at: Option<u64>,
    /// Instances.
    pub instances: Option<Vec<String>>,
    /// Proof.
    pub proof: Option<String>,
    /// Decisions.
    pub decisions: Option<Vec<bool>>,
    /// Scores.
    pub scores: Option<Vec<String>>,
    /// Tx hash.
    pub tx_hash: Option<String>,
    /// Block.
    pub block_number: Option<u64>,
    /// Gas used.
    pub gas_used: Option<u64>,
    /// Proving time.
    pub prove_ms: Option<i64>,
    /// Error.
    pub error: Option<String>,
    /// Clear the proof (to prove again).
    pub clear_proof: bool,
    /// Sender of the carrying transaction when it is not the relayer's.
    pub carried_by: Option<String>,
}

/// A job refused while its batch was being formed or proved (its own sample fails the model's
/// reference inference): it fails alone, with its own reason.
#[derive(Clone, Debug)]
pub struct RefusedJob {
    /// The job.
    pub job_id: String,
    /// Why (about this job's own input only).
    pub reason: String,
}

/// What [`super::JobStore::evict`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evicted {
    /// Jobs failed with their own reason.
    pub failed: usize,
    /// Jobs queued again (to be batched without the refused ones).
    pub requeued: usize,
}

/// What [`super::JobStore::prune_finished`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Finished jobs deleted.
    pub jobs: usize,
    /// Finished batches deleted (with their transactions and transitions).
    pub batches: usize,
}

/// A signed transaction of a batch.
#[derive(Clone, Serialize, Deserialize)]
pub struct TxAttempt {
    /// Batch.
    pub batch_id: i64,
    /// Transaction hash.
    pub tx_hash: String,
    /// The batch's Guard nonce this transaction submits.
    pub guard_nonce: u64,
    /// Sender account nonce.
    pub account_nonce: u64,
    /// Max fee per gas (wei).
    pub max_fee: u128,
    /// Max priority fee per gas (wei).
    pub priority_fee: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// EIP-2718 encoded signed transaction (hex).
    pub raw: String,
    /// Signed at (ms).
    pub created_ms: i64,
}

impl std::fmt::Debug for TxAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxAttempt")
            .field("batch_id", &self.batch_id)
            .field("tx_hash", &self.tx_hash)
            .field("guard_nonce", &self.guard_nonce)
            .field("account_nonce", &self.account_nonce)
            .field("max_fee", &self.max_fee)
            .field("priority_fee", &self.priority_fee)
            .field("gas_limit", &self.gas_limit)
            .finish_non_exhaustive()
    }
}
