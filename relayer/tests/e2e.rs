//! The relayer end to end, on a real anvil with the real contracts, real SQLite files in temp
//! dirs and real proofs of the breast-cancer logistic model (direct mode; keys cached in
//! `target/zkguard-test-cache`). The relayer runs as a child process of the test; crashes are
//! real process deaths (`abort()` at a TEST-ONLY crash point, or SIGKILL).

mod support;

use std::time::Duration;

use support::chain::{flagged_and_clean, rows, Deployment};
use support::eventually;
use support::outcomes::{assert_exactly_once, confirmed, request, FINAL};
use support::proxy::Proxy;
use support::relayer::{Relayer, Setup, TOKEN};
use zkguard_relayer::client::Client;
use zkguard_relayer::intake::JobResponse;
use zkguard_relayer::store::{BatchState, JobStore, SqliteStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_happy_path_the_guard_acts() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let relayer = Relayer::start(&Setup::new(dir.path(), &d), &d, None).await;
    let (flagged, clean) = flagged_and_clean(&d.circuit.model);
    assert!(!d.vault_paused().await);

    let c = &relayer.client;
    c.submit(&request("a", vec![clean.clone()])).await.unwrap();
    c.submit(&request("b", vec![clean.clone(), flagged.clone()])).await.unwrap();
    c.submit(&request("c", vec![clean.clone()])).await.unwrap();
    let mut salted = request("d", vec![clean.clone()]);
    salted.salt = Some(format!("0x{:064x}", 0x5a17));
    c.submit(&salted).await.unwrap();
    let ids: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    let jobs = confirmed(c, &ids).await;

    assert_eq!(jobs[1].decisions, Some(vec![false, true]), "b's decisions");
    assert_eq!(jobs[0].decisions, Some(vec![false]));
    assert_eq!(jobs[0].batch_id, jobs[2].batch_id, "a, b, c fill one batch of 4");
    assert_ne!(jobs[3].batch_id, jobs[0].batch_id, "a salted request is proved alone");
    assert!(d.vault_paused().await, "the breaker paused the vault on a verified flagged sample");
    assert_exactly_once(&d, &jobs).await;
    let states: Vec<&str> = jobs[0].transitions.iter().map(|t| t.to.as_str()).collect();
    for s in ["queued", "proving", "proved", "signed", "sent", "submitted", "confirmed"] {
        assert!(states.contains(&s), "transition {s} missing: {states:?}");
    }

    // Idempotent intake: the same request again is the same (confirmed) job, nothing new on chain.
    let again = c.submit(&request("a", vec![clean.clone()])).await.unwrap();
    assert_eq!((again.state.as_str(), again.nonce), ("confirmed", jobs[0].nonce));
    assert_eq!(d.verified().await.len(), 2);

    let metrics = c.metrics().await.unwrap();
    assert!(metrics.contains("zkguard_relayer_jobs{state=\"confirmed\"} 4"), "{metrics}");
    assert!(metrics.contains("zkguard_relayer_proving_seconds_count 2"), "{metrics}");
    let gas: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("zkguard_relayer_gas_spent_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(gas > 200_000, "gas spent {gas}");

    // The CLI client: `zkguard-relayer status b`.
    let out = std::process::Command::new(support::relayer::relayer_binary())
        .args(["status", "b", "--url", &relayer.url])
        .env("ZKGUARD_RELAYER_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: JobResponse = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown.state, "confirmed");
    assert!(!relayer.log_text().contains(TOKEN), "the token was logged");
    assert!(!relayer.log_text().contains(&d.relayer_key), "the key was logged");

    // Graceful shutdown on SIGTERM.
    let mut relayer = relayer;
    let status = relayer.terminate().await;
    assert!(status.success(), "SIGTERM: {status}\n{}", relayer.log_text());
    assert!(relayer.log_text().contains("shutting down"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_while_proving_then_restart_completes_exactly_once() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(dir.path(), &d);
    let mut relayer = Relayer::start(&setup, &d, Some(zkguard_relayer::crash::PROVING)).await;
    let rows = rows(3);
    relayer.client.submit(&request("p1", vec![rows[0].clone()])).await.unwrap();
    relayer.client.submit(&request("p2", vec![rows[1].clone()])).await.unwrap();
    let status = relayer.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "the crash point aborts the process: {status}");
    {
        let store = SqliteStore::open(&setup.database()).unwrap();
        let proving = store.batches_in(&[BatchState::Proving]).unwrap();
        assert_eq!(proving.len(), 1, "the batch was being proved when the process died");
    }
    assert!(d.verified().await.is_empty());
    drop(relayer);

    let relayer = Relayer::start(&setup, &d, None).await;
    relayer.client.submit(&request("p3", vec![rows[2].clone()])).await.unwrap();
    let jobs = confirmed(&relayer.client, &["p1".into(), "p2".into(), "p3".into()]).await;
    assert_exactly_once(&d, &jobs).await;
    assert!(jobs[0].transitions.iter().any(|t| t.detail.contains("resumed after restart")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_right_after_send_then_restart_completes_exactly_once() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup::new(dir.path(), &d);
    let mut relayer = Relayer::start(&setup, &d, Some(zkguard_relayer::crash::AFTER_SEND)).await;
    let ids: Vec<String> = (0..4).map(|i| format!("s{i}")).collect();
    for (id, row) in ids.iter().zip(rows(4)) {
        relayer.client.submit(&request(id, vec![row])).await.unwrap();
    }
    let status = relayer.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "the crash point aborts the process: {status}");
    {
        let store = SqliteStore::open(&setup.database()).unwrap();
        assert_eq!(store.batches_in(&[BatchState::Signed]).unwrap().len(), 1, "died between broadcast and `sent`");
    }
    assert_eq!(d.verified().await.len(), 1, "the transaction was sent (anvil mined it) before the crash");
    drop(relayer);

    let relayer = Relayer::start(&setup, &d, None).await;
    let jobs = confirmed(&relayer.client, &ids).await;
    assert_exactly_once(&d, &jobs).await;
    assert_eq!(d.verified().await.len(), 1, "nothing was submitted twice");
    assert_eq!(d.relayer_tx_count().await, 1, "one transaction in total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_outage_is_retried_until_the_node_is_back() {
    let d = Deployment::start(4).await;
    let proxy = Proxy::start(std::net::SocketAddr::from(([127, 0, 0, 1], d.anvil.port()))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.rpc_url = proxy.url();
    // The node is away from the start: the relayer still starts, takes and proves requests.
    proxy.stop();
    let relayer = Relayer::start(&setup, &d, None).await;
    let mut all = vec![];
    for round in 0..2 {
        let ids: Vec<String> = (0..4).map(|i| format!("o{round}-{i}")).collect();
        for (id, row) in ids.iter().zip(rows(4)) {
            relayer.client.submit(&request(id, vec![row])).await.unwrap();
        }
        // The proof is made while the chain is away; submission keeps retrying.
        let before = retries(&relayer.client).await;
        eventually("retries against the stopped node", FINAL, || async {
            let job = relayer.client.job(&ids[0]).await.ok()?;
            (retries(&relayer.client).await >= before + 3 && job.state == "proved").then_some(())
        })
        .await;
        proxy.resume().await;
        all.extend(confirmed(&relayer.client, &ids).await);
        assert_exactly_once(&d, &all).await;
        // Second round: the node goes away in the middle of a run (open connections are cut).
        proxy.stop();
    }
}

async fn retries(client: &Client) -> u64 {
    let m = client.metrics().await.unwrap();
    m.lines().find_map(|l| l.strip_prefix("zkguard_relayer_rpc_retries_total ")).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverting_submission_fails_with_the_decoded_reason_and_is_not_retried() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let relayer = Relayer::start(&Setup::new(dir.path(), &d), &d, None).await;
    // Retired after start-up (a relayer started on a retired model refuses to start).
    d.retire().await;
    relayer.client.submit(&request("r1", vec![rows(1)[0].clone()])).await.unwrap();
    let job = relayer.client.wait_final("r1", FINAL).await.unwrap();
    assert_eq!(job.state, "failed");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("ModelIsRetired(modelId: 1)"), "error: {error}");
    let failures = job.transitions.iter().filter(|t| t.to == "failed").count();
    assert_eq!(failures, 2, "one failed transition for the batch and one for the job: {:?}", job.transitions);
    assert_eq!(d.relayer_tx_count().await, 0, "a submission that reverts in estimation is never sent");
    // A later job is processed normally (and fails the same way), the first one stays as it was.
    relayer.client.submit(&request("r2", vec![rows(2)[1].clone()])).await.unwrap();
    assert_eq!(relayer.client.wait_final("r2", FINAL).await.unwrap().state, "failed");
    let again = relayer.client.job("r1").await.unwrap();
    assert_eq!(again.transitions.len(), job.transitions.len(), "r1 was retried");
    assert!(relayer.client.metrics().await.unwrap().contains("zkguard_relayer_jobs{state=\"failed\"} 2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_mined_then_reverted_fails_with_the_decoded_reason_and_is_not_resent() {
    let d = Deployment::start(4).await;
    d.set_automine(false).await;
    let dir = tempfile::tempdir().unwrap();
    let relayer = Relayer::start(&Setup::new(dir.path(), &d), &d, None).await;
    relayer.client.submit(&request("m1", vec![rows(1)[0].clone()])).await.unwrap();
    // Gas estimation passes (the model is active); the transaction waits in the mempool.
    let sent = eventually("the relayer's transaction in the mempool", FINAL, || async {
        let job = relayer.client.job("m1").await.ok()?;
        let sent = job.state == "submitted" && job.transitions.iter().any(|t| t.to == "sent");
        (sent && d.relayer_pending_tx_count().await == 1).then_some(job)
    })
    .await;
    let relayer_tx: alloy::primitives::B256 = sent.tx_hash.clone().unwrap().parse().unwrap();
    assert_eq!(d.receipt_of(relayer_tx).await, None, "not mined yet");
    // The owner retires the model with a far higher tip: ordered first in the same block.
    let retire_tx = d.send_retire_with_priority_fee(100_000_000_000).await;
    d.mine().await;
    let (retire_ok, retire_block, retire_index) = d.receipt_of(retire_tx).await.expect("retire mined");
    let (relayer_ok, relayer_block, relayer_index) = d.receipt_of(relayer_tx).await.expect("relayer tx mined");
    assert!(retire_ok, "retireModel succeeded");
    assert_eq!(relayer_block, retire_block, "both in the one mined block");
    assert!(retire_index < relayer_index, "the retirement is ordered first");
    assert!(!relayer_ok, "the relayer's transaction is mined and reverts (receipt status 0)");

    let job = relayer.client.wait_final("m1", FINAL).await.unwrap();
    assert_eq!(job.state, "failed", "{job:?}");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.contains("reverted on chain") && error.contains("ModelIsRetired(modelId: 1)"), "error: {error}");
    assert_eq!(job.tx_hash.as_deref(), sent.tx_hash.as_deref());
    // Failed for good: nothing is sent again (the mempool stays empty, no new nonce is used).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(d.relayer_pending_tx_count().await, 1, "the relayer sent another transaction");
    d.mine().await;
    assert_eq!(d.relayer_tx_count().await, 1);
    let again = relayer.client.job("m1").await.unwrap();
    assert_eq!(again.transitions.len(), job.transitions.len(), "the failed job moved again");
    assert!(d.verified().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_auth_are_refused_and_the_store_stays_consistent() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let relayer = Relayer::start(&Setup::new(dir.path(), &d), &d, None).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/requests", relayer.url);
    let row = rows(1)[0].clone();
    let good = serde_json::json!({"request_id": "ok-1", "model_id": "1", "rows": [row]});
    let post = |body: String, token: Option<&str>| {
        let mut r = http.post(&url).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let check = |status: u16, code: &'static str| {
        move |resp: reqwest::Response| async move {
            let got = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await.unwrap();
            assert_eq!((got, body["error"].as_str().unwrap()), (status, code), "{body}");
        }
    };
    check(401, "unauthorized")(post(good.to_string(), None).await.unwrap()).await;
    check(401, "unauthorized")(post(good.to_string(), Some("wrong-token-0123456789")).await.unwrap()).await;
    check(400, "malformed_json")(post("{\"request_id\": ".into(), Some(TOKEN)).await.unwrap()).await;
    check(400, "malformed_json")(post("[1, 2]".into(), Some(TOKEN)).await.unwrap()).await;
    let with = |patch: serde_json::Value| {
        let mut v = good.clone();
        for (k, val) in patch.as_object().unwrap() {
            v[k] = val.clone();
        }
        v.to_string()
    };
    check(400, "malformed_json")(post(with(serde_json::json!({"extra": 1})), Some(TOKEN)).await.unwrap()).await;
    check(404, "unknown_model")(post(with(serde_json::json!({"model_id": "7"})), Some(TOKEN)).await.unwrap()).await;
    check(422, "wrong_feature_count")(
        post(with(serde_json::json!({"rows": [[1.0, 2.0]]})), Some(TOKEN)).await.unwrap(),
    )
    .await;
    check(413, "oversize_batch")(
        post(with(serde_json::json!({"rows": vec![row.clone(); 5]})), Some(TOKEN)).await.unwrap(),
    )
    .await;
    check(422, "empty_batch")(post(with(serde_json::json!({"rows": []})), Some(TOKEN)).await.unwrap()).await;
    let mut huge = row.clone();
    huge[0] = 1e300;
    check(422, "value_out_of_range")(post(with(serde_json::json!({"rows": [huge]})), Some(TOKEN)).await.unwrap()).await;
    let two_subjects = serde_json::json!({"subjects": ["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"]});
    check(422, "subjects_mismatch")(post(with(two_subjects), Some(TOKEN)).await.unwrap()).await;
    check(422, "invalid_salt")(post(with(serde_json::json!({"salt": "0xzz"})), Some(TOKEN)).await.unwrap()).await;
    // Over the 1 MiB limit: refused with 413 before the body is read. The server may close the
    // connection while the client is still uploading; then the client sees the reset instead.
    match post(" ".repeat((1 << 20) + 1024), Some(TOKEN)).await {
        Ok(resp) => check(413, "body_rejected")(resp).await,
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    check(422, "invalid_request_id")(post(with(serde_json::json!({"request_id": ""})), Some(TOKEN)).await.unwrap())
        .await;

    // The good request: created once, a retry is the same job, a different body under its id is refused.
    assert_eq!(post(good.to_string(), Some(TOKEN)).await.unwrap().status().as_u16(), 201);
    assert_eq!(post(good.to_string(), Some(TOKEN)).await.unwrap().status().as_u16(), 200);
    check(409, "request_id_conflict")(
        post(with(serde_json::json!({"rows": [row.clone(), row.clone()]})), Some(TOKEN)).await.unwrap(),
    )
    .await;
    let status = |id: &str, token: Option<&str>| {
        let mut r = http.get(format!("{}/v1/jobs/{id}", relayer.url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    check(401, "unauthorized")(status("ok-1", None).await.unwrap()).await;
    check(404, "unknown_job")(status("nope", Some(TOKEN)).await.unwrap()).await;
    assert_eq!(status("ok-1", Some(TOKEN)).await.unwrap().status().as_u16(), 200);

    // The store holds exactly the one good job, and it goes through.
    let store = SqliteStore::open(&Setup::new(dir.path(), &d).database()).unwrap();
    let total: u64 = store.job_counts().unwrap().iter().map(|(_, n)| n).sum();
    assert_eq!(total, 1);
    let jobs = confirmed(&relayer.client, &["ok-1".into()]).await;
    assert_exactly_once(&d, &jobs).await;
    let health = http.get(format!("{}/health", relayer.url)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_test_concurrent_clients_lose_and_duplicate_nothing() {
    const CLIENTS: usize = 8;
    const PER_CLIENT: usize = 25;
    let d = Deployment::start(32).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.max_wait_ms = 1000;
    let relayer = Relayer::start(&setup, &d, None).await;
    let all_rows = rows(CLIENTS * PER_CLIENT);
    let mut tasks = vec![];
    for c in 0..CLIENTS {
        let client = relayer.client.clone();
        let mine: Vec<Vec<f64>> = all_rows[c * PER_CLIENT..(c + 1) * PER_CLIENT].to_vec();
        tasks.push(tokio::spawn(async move {
            let mut ids = vec![];
            for (i, row) in mine.into_iter().enumerate() {
                let id = format!("load-{c}-{i}");
                let req = request(&id, vec![row]);
                let first = client.submit(&req).await.unwrap();
                if i % 5 == 0 {
                    // A client retry: the same request id is the same job.
                    let again = client.submit(&req).await.unwrap();
                    assert_eq!(again.id, first.id);
                }
                ids.push(id);
            }
            ids
        }));
    }
    let mut ids = vec![];
    for t in tasks {
        ids.extend(t.await.unwrap());
    }
    assert_eq!(ids.len(), CLIENTS * PER_CLIENT);
    let jobs = confirmed(&relayer.client, &ids).await;
    assert_exactly_once(&d, &jobs).await;
    let samples: u64 = d.verified().await.iter().map(|e| e.1).sum();
    assert_eq!(samples as usize, CLIENTS * PER_CLIENT, "every request verified exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_transaction_is_replaced_with_higher_fees_and_waits_for_depth() {
    let d = Deployment::start(4).await;
    d.set_automine(false).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.stuck_after_ms = 1500;
    setup.confirmations = 2;
    let relayer = Relayer::start(&setup, &d, None).await;
    let ids: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    for (id, row) in ids.iter().zip(rows(4)) {
        relayer.client.submit(&request(id, vec![row])).await.unwrap();
    }
    // No blocks: the transaction sits in the mempool until the relayer replaces it.
    eventually("a fee bump", FINAL, || async {
        let job = relayer.client.job("f0").await.ok()?;
        job.transitions.iter().any(|t| t.detail.starts_with("fee bump")).then_some(())
    })
    .await;
    d.mine().await;
    let job = eventually("inclusion noticed", FINAL, || async {
        let job = relayer.client.job("f0").await.ok()?;
        job.transitions.iter().any(|t| t.detail.contains("waiting for 2 confirmations")).then_some(job)
    })
    .await;
    assert_eq!(job.state, "submitted", "one block is not two confirmations");
    d.mine().await;
    let jobs = confirmed(&relayer.client, &ids).await;
    assert_exactly_once(&d, &jobs).await;
    assert_eq!(d.relayer_tx_count().await, 1, "the replacement took the original's place");
    assert!(relayer.client.metrics().await.unwrap().contains("zkguard_relayer_fee_bumps_total 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_in_the_middle_of_a_run_then_restart_completes_exactly_once() {
    let d = Deployment::start(4).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    // Two workers, but a memory budget below one proof's estimate: proofs still run, one at a time.
    setup.workers = 2;
    setup.memory_budget_mb = 1;
    let mut relayer = Relayer::start(&setup, &d, None).await;
    let ids: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
    for (id, row) in ids.iter().zip(rows(12)) {
        relayer.client.submit(&request(id, vec![row])).await.unwrap();
    }
    // Kill -9 once the first batch is confirmed and the rest are still in flight.
    eventually("the first confirmation", FINAL, || async {
        (relayer.client.job("k0").await.ok()?.state == "confirmed").then_some(())
    })
    .await;
    relayer.kill();
    let unfinished = {
        let store = SqliteStore::open(&setup.database()).unwrap();
        store
            .batches_in(&[
                BatchState::Created,
                BatchState::Proving,
                BatchState::Proved,
                BatchState::Signed,
                BatchState::Sent,
            ])
            .unwrap()
            .len()
    };
    assert!(unfinished > 0, "the kill left work in flight");
    drop(relayer);
    let relayer = Relayer::start(&setup, &d, None).await;
    let jobs = confirmed(&relayer.client, &ids).await;
    assert_exactly_once(&d, &jobs).await;
}
