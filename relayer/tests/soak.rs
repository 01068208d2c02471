//! Soak test (bounded, loopback only): requests from concurrent clients while the relayer is
//! SIGKILLed and restarted at random points and the RPC proxy in front of anvil drops every
//! connection at random points. At the end every request is `confirmed` or `failed` with a
//! reason, and the Guard's `Verified` events match the store's confirmed batches one to one
//! (same nonces, same sample counts, no nonce twice).
//!
//! The short form runs by default (CI: 120 requests, 6 clients, 2 kills, 3 connection drops; B =
//! 32). The long form: `ZKGUARD_SOAK_REQUESTS=600 ZKGUARD_SOAK_KILLS=8 ZKGUARD_SOAK_DROPS=12
//! cargo test -p zkguard-relayer --test soak -- --nocapture` (`ZKGUARD_SOAK_SEED` replays a run).
//! The test prints one `soak result` line with what it did and what held.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use support::chain::{rows, Deployment};
use support::proxy::Proxy;
use support::relayer::{Relayer, Setup};
use tokio::sync::RwLock;
use zkguard_relayer::client::{Client, ClientError};
use zkguard_relayer::intake::SubmitRequest;
use zkguard_relayer::store::{BatchState, JobStore, SqliteStore};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The relayer currently serving (None while it is down).
type Current = Arc<RwLock<Option<Client>>>;

/// Submits until the relayer accepts (201) or recognises (200) the request; transport errors and
/// 5xx (the relayer killed or restarting) are retried, a 4xx is a bug.
async fn submit_until_accepted(current: &Current, req: &SubmitRequest) {
    loop {
        let client = current.read().await.clone();
        let Some(client) = client else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        match client.submit(req).await {
            Ok(job) => {
                assert_eq!(job.id, req.request_id);
                return;
            }
            Err(ClientError::Refused { status, body }) if status < 500 => {
                panic!("request {} refused: {status} {body}", req.request_id)
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_kills_and_connection_drops_lose_and_duplicate_nothing() {
    let requests = env_or("ZKGUARD_SOAK_REQUESTS", 120) as usize;
    let max_kills = env_or("ZKGUARD_SOAK_KILLS", 2);
    let max_drops = env_or("ZKGUARD_SOAK_DROPS", 3);
    let clients = env_or("ZKGUARD_SOAK_CLIENTS", 6) as usize;
    let seed = env_or("ZKGUARD_SOAK_SEED", rand::random::<u32>() as u64);
    let final_timeout = Duration::from_secs(env_or("ZKGUARD_SOAK_TIMEOUT_S", 600));
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    eprintln!("soak: seed {seed}, {requests} requests, {clients} clients, {max_kills} kills, {max_drops} drops");

    let d = Deployment::start(32).await;
    let proxy = Proxy::start(d.anvil.endpoint_url().socket_addrs(|| None).unwrap()[0]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(dir.path(), &d);
    setup.rpc_url = proxy.url();
    setup.max_wait_ms = 1500;
    let started = Instant::now();
    let mut relayer = Relayer::start(&setup, &d, None).await;
    let current: Current = Arc::new(RwLock::new(Some(relayer.client.clone())));

    // Requests of 1..=3 rows, spread over the clients.
    let data = rows(requests * 3);
    let reqs: Vec<SubmitRequest> = (0..requests)
        .map(|i| {
            let n = rng.gen_range(1..=3);
            SubmitRequest {
                request_id: format!("soak-{i}"),
                model_id: "1".into(),
                rows: data[i * 3..i * 3 + n].to_vec(),
                ..SubmitRequest::default()
            }
        })
        .collect();
    let mut tasks = vec![];
    for c in 0..clients {
        let mine: Vec<SubmitRequest> = reqs.iter().skip(c).step_by(clients).cloned().collect();
        let current = current.clone();
        let pause = rng.gen_range(20..120);
        tasks.push(tokio::spawn(async move {
            for req in mine {
                submit_until_accepted(&current, &req).await;
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }));
    }

    // Faults at random points until both budgets are spent (and the clients are done).
    let (mut kills, mut drops) = (0, 0);
    while kills < max_kills || drops < max_drops {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(2_000..7_000))).await;
        let kill = drops >= max_drops || (kills < max_kills && rng.gen_bool(0.5));
        if kill {
            *current.write().await = None;
            relayer.kill();
            kills += 1;
            eprintln!("soak: SIGKILL #{kills} at {:.1} s", started.elapsed().as_secs_f64());
            relayer = Relayer::start(&setup, &d, None).await;
            *current.write().await = Some(relayer.client.clone());
        } else {
            proxy.stop();
            drops += 1;
            let down = rng.gen_range(500..3_000);
            eprintln!(
                "soak: RPC connections dropped #{drops} at {:.1} s for {down} ms",
                started.elapsed().as_secs_f64()
            );
            tokio::time::sleep(Duration::from_millis(down)).await;
            proxy.resume().await;
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let submitted_s = started.elapsed().as_secs_f64();

    // Every request ends confirmed, or failed with a reason.
    let client = relayer.client.clone();
    let (mut confirmed, mut failed) = (vec![], vec![]);
    for req in &reqs {
        let job = client.wait_final(&req.request_id, final_timeout).await.unwrap();
        match job.state.as_str() {
            "confirmed" => confirmed.push(job),
            "failed" => {
                let reason = job.error.clone().unwrap_or_default();
                assert!(!reason.trim().is_empty(), "{} failed without a reason", job.id);
                failed.push(job)
            }
            other => panic!("{} is still {other} after {final_timeout:?}: {job:?}", job.id),
        }
    }
    let wall_s = started.elapsed().as_secs_f64();

    // The Guard's Verified events and the store's confirmed batches, one to one.
    let events = d.verified().await;
    let event_nonces: BTreeSet<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(event_nonces.len(), events.len(), "a nonce was verified twice: {events:?}");
    let on_chain: BTreeMap<u64, u64> = events.iter().copied().collect();
    let store = SqliteStore::open(&setup.database()).unwrap();
    let stored: BTreeMap<u64, u64> =
        store.batches_in(&[BatchState::Confirmed]).unwrap().iter().map(|b| (b.nonce, b.sample_count as u64)).collect();
    assert_eq!(on_chain, stored, "Verified events and confirmed batches differ");
    let mut by_nonce: BTreeMap<u64, u64> = BTreeMap::new();
    for j in &confirmed {
        *by_nonce.entry(j.nonce.unwrap()).or_default() += j.sample_count as u64;
    }
    assert_eq!(by_nonce, on_chain, "confirmed jobs' samples do not add up to the Verified events");
    let samples: usize = reqs.iter().map(|r| r.rows.len()).sum();
    let failed_samples: usize = failed.iter().map(|j| j.sample_count).sum();
    assert_eq!(on_chain.values().sum::<u64>() as usize + failed_samples, samples);
    let unfinished = store
        .batches_in(&[
            BatchState::Created,
            BatchState::Proving,
            BatchState::Proved,
            BatchState::Signed,
            BatchState::Sent,
        ])
        .unwrap();
    assert!(unfinished.is_empty(), "batches left unfinished: {unfinished:?}");
    let rpc_retries = client.metrics().await.unwrap();
    let retries = rpc_retries
        .lines()
        .find_map(|l| l.strip_prefix("zkguard_relayer_rpc_retries_total "))
        .unwrap_or("?")
        .to_string();
    println!(
        "soak result: seed {seed}; {requests} requests ({samples} samples) from {clients} clients; {kills} SIGKILLs, \
         {drops} RPC connection drops; {} confirmed, {} failed; {} Verified events = {} confirmed batches, no nonce \
         twice; rpc retries since the last start {retries}; submitted in {submitted_s:.0} s, all final in {wall_s:.0} s",
        confirmed.len(),
        failed.len(),
        events.len(),
        stored.len()
    );
}
