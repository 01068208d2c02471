//! What the relayer's end-to-end tests check about their requests: every one confirmed, and
//! every confirmed batch verified on chain exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use zkguard_relayer::client::Client;
use zkguard_relayer::intake::{JobResponse, SubmitRequest};

use crate::chain::Deployment;

/// How long a test waits for a request to reach a final state.
pub const FINAL: Duration = Duration::from_secs(300);

/// A request for the served model (id 1) with `rows`.
pub fn request(id: &str, rows: Vec<Vec<f64>>) -> SubmitRequest {
    SubmitRequest { request_id: id.into(), model_id: "1".into(), rows, ..SubmitRequest::default() }
}

/// Waits for each of `ids` to be final and asserts it is confirmed.
pub async fn confirmed(client: &Client, ids: &[String]) -> Vec<JobResponse> {
    let mut out = vec![];
    for id in ids {
        let job = client.wait_final(id, FINAL).await.unwrap();
        assert_eq!(job.state, "confirmed", "job {id}: {job:?}");
        out.push(job);
    }
    out
}

/// Every confirmed job's batch was verified exactly once on chain: distinct nonces, one
/// `Verified` event per batch, and the events' samples add up to the jobs' samples.
pub async fn assert_exactly_once(d: &Deployment, jobs: &[JobResponse]) {
    let events = d.verified().await;
    let nonces: BTreeSet<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(nonces.len(), events.len(), "a nonce was verified twice: {events:?}");
    let mut batches: BTreeMap<u64, usize> = BTreeMap::new();
    for j in jobs {
        *batches.entry(j.nonce.expect("confirmed job has a nonce")).or_default() += j.sample_count;
    }
    let on_chain: BTreeMap<u64, usize> = events.iter().map(|(n, s)| (*n, *s as usize)).collect();
    assert_eq!(on_chain, batches, "Verified events do not match the confirmed batches");
}
