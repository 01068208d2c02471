//! Batch mode's segment jobs: a batch of N segments is proved as N app proofs, each over its
//! slice of the batch's rows, claimed independently by any prover serving the model (a lease,
//! a heartbeat and a fencing token per segment, like a batch's), and stored in the database; the
//! batch's aggregation becomes claimable once all N are proved ([`super::JobStore::claim_batch`]).

use serde::{Deserialize, Serialize};

use super::lease::LeaseToken;
use super::types::BatchRecord;

/// A segment's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    /// Waiting for a prover.
    Created,
    /// Claimed by a prover (under a lease).
    Proving,
    /// Its app proof is stored.
    Proved,
}

impl SegmentState {
    /// The state's name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentState::Created => "created",
            SegmentState::Proving => "proving",
            SegmentState::Proved => "proved",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(SegmentState::Created),
            "proving" => Some(SegmentState::Proving),
            "proved" => Some(SegmentState::Proved),
            _ => None,
        }
    }
}

impl std::fmt::Display for SegmentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Its batch.
    pub batch_id: i64,
    /// Its index in the batch (0..N).
    pub index: usize,
    /// State.
    pub state: SegmentState,
    /// The prover holding its lease while proving.
    pub lease_owner: Option<String>,
    /// The fencing token of its latest claim.
    pub token: LeaseToken,
    /// The app proof, once proved.
    pub proof: Option<SegmentProof>,
    /// The worker whose proof was stored.
    pub proved_by: Option<String>,
}

/// A segment's app proof (Poseidon transcript, bound to the batch's context).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentProof {
    /// Public instances (hex).
    pub instances: Vec<String>,
    /// Proof (hex).
    pub proof: String,
    /// Decisions of the segment's real samples.
    pub decisions: Vec<bool>,
    /// Scores of the segment's real samples (decimal fixed point).
    pub scores: Vec<String>,
    /// Proving time (ms).
    pub prove_ms: i64,
}

/// A segment claimed by a prover.
#[derive(Clone, Debug)]
pub struct SegmentClaim {
    /// The segment's batch (in state `created`).
    pub batch: BatchRecord,
    /// The segment's index.
    pub index: usize,
    /// The claim's fencing token (per segment, strictly increasing with every claim).
    pub token: LeaseToken,
    /// The prover whose lease expired when this claim took the segment over.
    pub took_over_from: Option<String>,
}
