//! Batch mode in a fleet, on a real PostgreSQL (a throwaway server under `target/`), a real anvil
//! and real proofs (the breast-cancer logistic model, B = 4, N = 2 segments aggregated at k = 21;
//! keys cached in `target/zkguard-test-cache`): the batch's two segments are separate jobs proved
//! by two provers, one of which has a memory budget below the aggregation's estimate and never
//! claims it; the big-budget prover that claims the aggregation dies there (a real `abort()` at a
//! TEST-ONLY crash point) and another big-budget prover takes it over once the lease expires.
//! Its own test binary, so its aggregation (~7 GB) never runs next to the other fleet tests.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::chain::{rows, Deployment};
use support::outcomes::assert_exactly_once;
use support::relayer::{Relayer, Setup};
use zkguard_relayer::store::{BatchState, JobStore, PgStore, SegmentState};
use zkguard_test_utils::postgres::TestPostgres;

/// App proofs per transaction (N) and app circuit batch size (B).
const N: usize = 2;
const B: usize = 4;
/// Leases (a takeover within seconds, yet wide enough for heartbeats on 2 loaded cores).
const LEASE_MS: u64 = 3_000;
/// Below the N = 2 aggregation's estimate (7 GB at k = 21), above an app proof's (k = 14).
const SMALL_BUDGET_MB: &str = "1000";
/// Aggregation proving takes minutes on 2 busy cores.
const FINAL: Duration = Duration::from_secs(1_200);

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_spread_and_only_a_big_budget_prover_aggregates_taking_over_a_dead_one() {
    let started = std::time::Instant::now();
    let pg = tokio::task::spawn_blocking(TestPostgres::start).await.unwrap().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.create_database("fleet_batch").unwrap();
    let d = Deployment::start_in_mode(B, Some(N)).await;
    eprintln!("aggregation verifier deployed after {:.1} s", started.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let setup = |role: &str, worker: &str| {
        let wd = dir.path().join(worker);
        std::fs::create_dir_all(&wd).unwrap();
        let mut s = Setup::fleet(&wd, &d, &url, role, worker, LEASE_MS);
        s.max_wait_ms = 600_000; // flush on size only: N * B samples make one batch
        s
    };
    let intake = Relayer::start(&setup("intake", "intake"), &d, None).await;
    let submitter = Relayer::start(&setup("submitter", "submitter"), &d, None).await;
    let mut small = setup("prover", "prover-small");
    small.env = vec![("ZKGUARD_RELAYER_MEMORY_BUDGET_MB".into(), SMALL_BUDGET_MB.into())];
    let small = Relayer::start(&small, &d, None).await;
    let mut big = setup("prover", "prover-big-a");
    big.memory_budget_mb = 16_000;
    let mut dying = Relayer::start(&big, &d, Some(zkguard_relayer::crash::PROVING)).await;
    assert!(small.log_text().contains("never claims its aggregations"), "{}", small.log_text());
    // Only a prover whose budget admits the aggregation holds its keys (gigabytes).
    for (role, relayer) in [("intake", &intake), ("submitter", &submitter), ("small prover", &small)] {
        assert!(relayer.log_text().contains("aggregation keys not loaded"), "{role}: {}", relayer.log_text());
    }
    assert!(!dying.log_text().contains("aggregation keys not loaded"), "{}", dying.log_text());

    let rows = rows(N * B);
    let ids = ["r0".to_string(), "r1".to_string()];
    for (id, chunk) in ids.iter().zip(rows.chunks(B)) {
        intake.client.submit(&support::outcomes::request(id, chunk.to_vec())).await.unwrap();
    }
    // prover-big-a claims the aggregation once both segments are stored, and dies there.
    let status = dying.wait_exit(Duration::from_secs(600)).await;
    assert!(!status.success(), "the crash point aborts the aggregating prover");
    let store = PgStore::connect(&url).unwrap();
    let batch = store.batches_in(&[BatchState::Proving]).unwrap();
    assert_eq!(batch.len(), 1, "the dead prover held the aggregation");
    let id = batch[0].id;
    let segments = store.segments(id).unwrap();
    assert!(segments.iter().all(|s| s.state == SegmentState::Proved), "{segments:?}");
    let provers: BTreeSet<&str> = segments.iter().filter_map(|s| s.proved_by.as_deref()).collect();
    assert_eq!(provers, BTreeSet::from(["prover-small", "prover-big-a"]), "the segments spread over both provers");

    let mut big_b = setup("prover", "prover-big-b");
    big_b.memory_budget_mb = 16_000;
    let rescuer = Relayer::start(&big_b, &d, None).await;
    let mut jobs = vec![];
    for id in &ids {
        let job = intake.client.wait_final(id, FINAL).await.unwrap();
        assert_eq!(job.state, "confirmed", "job {id}: {job:?}\n{}", rescuer.log_text());
        jobs.push(job);
    }
    assert_exactly_once(&d, &jobs).await;
    assert_eq!(d.verified().await, vec![(jobs[0].nonce.unwrap(), (N * B) as u64)], "one Verified, N * B samples");
    assert_eq!(d.relayer_tx_count().await, 1, "one transaction");

    let b = store.batch(id).unwrap().unwrap();
    assert_eq!((b.state, b.proved_by.as_deref(), b.segments), (Some(BatchState::Confirmed), Some("prover-big-b"), N));
    let history: Vec<String> = store.job("r0").unwrap().unwrap().transitions.into_iter().map(|t| t.detail).collect();
    assert!(
        history.iter().any(|h| h.contains("lease of prover-big-a expired; claimed by prover-big-b")),
        "{history:?}"
    );
    let (sm, rm) = (small.metrics().await, rescuer.metrics().await);
    assert_eq!(metric(&sm, "zkguard_relayer_aggregation_claims_total"), 0, "the small prover never aggregates");
    assert_eq!(metric(&sm, "zkguard_relayer_segment_claims_total"), 1);
    assert_eq!(metric(&rm, "zkguard_relayer_aggregation_claims_total"), 1);
    assert_eq!(metric(&rm, "zkguard_relayer_lease_expiries_total"), 1);
    assert_eq!(metric(&rm, "zkguard_relayer_segment_claims_total"), 0);
    let by_worker = store.proofs_by_worker().unwrap();
    assert_eq!(
        by_worker,
        [("prover-big-a".to_string(), 1), ("prover-big-b".to_string(), 1), ("prover-small".to_string(), 1)],
        "two segment proofs and one aggregation"
    );
    eprintln!("fleet batch mode (N = {N}, B = {B}): confirmed after {:.1} s", started.elapsed().as_secs_f64());
}
