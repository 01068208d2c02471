//! Batch mode end to end: the relayer aggregates the app proofs of a batch into one proof and
//! submits it to a Guard whose model is registered with the shared aggregation verifier and the
//! aggregation's key behind `ZkGuardKeyedVerifier` (proofCount N, 12 accumulator limbs). Real
//! anvil, real contracts, real SQLite, real proofs (the logistic model at B = 4, N = 1 by
//! default, aggregation k = 20; keys and the generated verifier cached in
//! `target/zkguard-test-cache`). Its own test binary, so its aggregation proof (~3.6 GB) never runs
//! next to the direct-mode tests' proofs.

mod support;

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use support::chain::{flagged_and_clean, Deployment};
use support::relayer::{Relayer, Setup};
use zkguard_relayer::intake::SubmitRequest;
use zkguard_relayer::store::{BatchState, JobStore, SqliteStore};

/// App circuit batch size (cheap app proofs: k = 14).
const B: usize = 4;
/// App proofs per aggregation (N). Default 1 (aggregation k = 20: ~3.6 GB, ~2 min of proving on
/// 2 cores); `ZKGUARD_RELAYER_TEST_AGGREGATE=2` runs the same test with two segments and one request
/// straddling them (k = 21: ~7.3 GB and ~6.5 min of proving measured on 2 busy cores, over the CI
/// budget). The segment split for N = 2..4 is unit-tested in `model.rs`.
fn aggregate_n() -> usize {
    std::env::var("ZKGUARD_RELAYER_TEST_AGGREGATE").ok().and_then(|v| v.parse().ok()).unwrap_or(1)
}
/// Aggregation proving is minutes on 2 busy cores.
const FINAL: Duration = Duration::from_secs(900);

fn request(id: &str, rows: Vec<Vec<f64>>) -> SubmitRequest {
    SubmitRequest { request_id: id.into(), model_id: "1".into(), rows, ..SubmitRequest::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_mode_happy_path_aggregated_proof_confirmed_and_the_guard_acts() {
    let started = Instant::now();
    let n = aggregate_n();
    let d = Deployment::start_in_mode(B, Some(n)).await;
    // `zkguard deploy`'s default: the aggregation circuits' shared verifier and the key.
    assert_eq!(d.circuit.verifier.kind(), "shared", "batch mode on the shared aggregation verifier");
    eprintln!("shared aggregation verifier and key deployed after {:.1} s", started.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    // Flush on size only (n * B samples), so the three requests make exactly one batch.
    setup.max_wait_ms = 600_000;
    let (na, nc) = ((n * B - 2) / 2, n * B - 2 - (n * B - 2) / 2);
    let (flagged, clean) = flagged_and_clean(&d.circuit.model);
    assert!(!d.vault_paused().await);

    // First run: dies (abort) at the start of proving the batch.
    let mut relayer = Relayer::start(&setup, &d, Some(zkguard_relayer::crash::PROVING)).await;
    let health: serde_json::Value =
        serde_json::from_str(&reqwest::get(format!("{}/health", relayer.url)).await.unwrap().text().await.unwrap())
            .unwrap();
    assert_eq!(health["modes"]["1"]["mode"], "aggregate", "{health}");
    assert_eq!(health["modes"]["1"]["proofs_per_transaction"], n, "{health}");
    assert_eq!(health["modes"]["1"]["max_samples_per_transaction"], n * B, "{health}");
    let c = &relayer.client;
    // a, then b (clean, flagged: across the segment boundary when N = 2), then c: n * B samples.
    c.submit(&request("a", vec![clean.clone(); na])).await.unwrap();
    c.submit(&request("b", vec![clean.clone(), flagged.clone()])).await.unwrap();
    c.submit(&request("c", vec![clean.clone(); nc])).await.unwrap();
    let status = relayer.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "the crash point aborts the process: {status}");
    {
        let store = SqliteStore::open(&setup.database()).unwrap();
        assert_eq!(store.batches_in(&[BatchState::Proving]).unwrap().len(), 1, "died while proving the batch");
    }
    assert!(d.verified().await.is_empty());
    drop(relayer);

    // Restart on the same database: the batch is proved (N app proofs + aggregation) and confirmed.
    let relayer = Relayer::start(&setup, &d, None).await;
    let proving_started = Instant::now();
    let mut jobs = vec![];
    for id in ["a", "b", "c"] {
        let job = relayer.client.wait_final(id, FINAL).await.unwrap();
        assert_eq!(job.state, "confirmed", "job {id}: {job:?}\n{}", relayer.log_text());
        jobs.push(job);
    }
    eprintln!("proved and confirmed {:.1} s after the restart", proving_started.elapsed().as_secs_f64());
    assert_eq!(jobs[0].decisions, Some(vec![false; na]));
    assert_eq!(jobs[1].decisions, Some(vec![false, true]), "b's decisions, from the aggregated segments");
    assert_eq!(jobs[2].decisions, Some(vec![false; nc]));
    assert!(jobs.iter().all(|j| j.batch_id == jobs[0].batch_id && j.nonce == jobs[0].nonce), "one batch");
    assert!(jobs[0].transitions.iter().any(|t| t.detail.contains("resumed after restart")));

    // On chain: one `Verified` with all n * B samples, and the breaker paused the vault.
    assert_eq!(d.verified().await, vec![(jobs[0].nonce.unwrap(), (n * B) as u64)]);
    assert!(d.vault_paused().await, "the breaker paused the vault on a verified flagged sample");
    let tx: alloy::primitives::B256 = jobs[0].tx_hash.as_deref().unwrap().parse().unwrap();
    let receipt = d.owner.get_transaction_receipt(tx).await.unwrap().unwrap();
    assert!(receipt.status());
    eprintln!("batch-mode Guard.submit gas used: {}", receipt.gas_used);
    assert_eq!(d.relayer_tx_count().await, 1, "one transaction in total");

    // The stored proof is the aggregation's: 12 accumulator limbs, then N app segments.
    let store = SqliteStore::open(&setup.database()).unwrap();
    let batch = store.batch(jobs[0].batch_id.unwrap()).unwrap().unwrap();
    assert_eq!(batch.state, Some(BatchState::Confirmed));
    eprintln!("stored gas used: {:?}, proving {:?} ms", batch.gas_used, batch.prove_ms);
    assert_eq!(batch.instances.unwrap().len(), 12 + n * d.circuit.identity.app_instances);
    let metrics = relayer.client.metrics().await.unwrap();
    assert!(metrics.contains("zkguard_relayer_proving_seconds_count 1"), "{metrics}");
}
