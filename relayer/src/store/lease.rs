//! Leases of the fleet: a prover's claim on a batch (a deadline it renews with heartbeats and a
//! fencing token that grows with every claim, so a prover whose lease expired cannot store a late
//! result), and the submitter lease of a signing account (one active submitter per account; a
//! standby takes over once the active one stops renewing).

use serde::{Deserialize, Serialize};

use super::types::BatchRecord;

/// A batch claimed by a prover.
#[derive(Clone, Debug)]
pub struct Claim {
    /// The batch, now in state `proving` and leased to the claimer.
    pub batch: BatchRecord,
    /// The fencing token of this claim: every later write of the prover names it, and the store
    /// refuses it once another claim of the batch took a higher one.
    pub token: LeaseToken,
    /// The prover whose lease expired when this claim took the batch over (`None`: a fresh batch).
    pub took_over_from: Option<String>,
}

/// A claim's fencing token (per batch, strictly increasing with every claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LeaseToken(pub i64);

impl std::fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The submitter lease of one signing account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitterLease {
    /// The signing account (0x address).
    pub account: String,
    /// The submitter holding it (its worker name).
    pub holder: String,
    /// Held until (ms since the epoch) unless renewed.
    pub until_ms: i64,
    /// Grows each time the lease changes hands.
    pub token: i64,
}

/// A worker name for leases: host name, process id and a caller's suffix (`prover-1`), unless
/// the configuration names the worker.
pub fn default_worker_name(role: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = if host.is_empty() { "localhost".to_string() } else { host };
    format!("{host}:{}:{role}", std::process::id())
}
