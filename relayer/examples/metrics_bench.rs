//! Bench (not a test) of `GET /metrics` and `GET /health` on a store of many jobs: fills a
//! temp-dir SQLite store with `--jobs` finished and unfinished jobs (default 100,000), serves the
//! real router on loopback, and prints the latency of `/metrics`, of `/health`, of the store's
//! counters, and of the full `GROUP BY` scan the counters replace, plus how long a job lookup
//! takes while `/metrics` is hammered.
//!
//! `cargo run --example metrics_bench -p zkguard-relayer -- --jobs 100000`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::providers::{Provider, ProviderBuilder};
use rusqlite::params;
use zkguard_relayer::intake::{router, AppState, ProofIntake};
use zkguard_relayer::metrics::Metrics;
use zkguard_relayer::secret::Secret;
use zkguard_relayer::store::{JobStore, SqliteStore};

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let jobs: usize =
        args.iter().position(|a| a == "--jobs").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    drop(SqliteStore::open(&path)?); // schema and counters
    let fill = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(&path)?;
        let tx = conn.transaction()?;
        let states = ["confirmed", "confirmed", "confirmed", "failed", "queued", "proving", "submitted"];
        for i in 0..jobs {
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, subjects, created_ms, updated_ms) \
                 VALUES (?1, '1', 'h', ?2, '[[1.0,2.0,3.0]]', '[]', ?3, ?3)",
                params![format!("job-{i:08}"), states[i % states.len()], i as i64],
            )?;
        }
        tx.commit()?;
    }
    println!("filled {jobs} jobs in {:.1} s", fill.elapsed().as_secs_f64());
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::open(&path)?);

    // The store alone: counters vs the full scan they replace.
    let mut counters = vec![];
    for _ in 0..200 {
        let t = Instant::now();
        store.job_counts()?;
        store.gas_spent()?;
        counters.push(ms(t.elapsed()));
    }
    let scan_conn = rusqlite::Connection::open(&path)?;
    let mut scans = vec![];
    for _ in 0..20 {
        let t = Instant::now();
        let mut stmt = scan_conn.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
        let _: Vec<(String, i64)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        scans.push(ms(t.elapsed()));
    }

    let provider = ProviderBuilder::new().connect_http("http://127.0.0.1:9".parse()?).erased();
    let state = AppState {
        store: store.clone(),
        models: Arc::new(BTreeMap::new()),
        token: Secret::new("bench-token-0123456789"),
        metrics: Arc::new(Metrics::default()),
        new_job: Arc::default(),
        proofs: ProofIntake {
            chain_id: 31337,
            guard: Default::default(),
            max_proof_age_s: 3000,
            provider,
            verify_slots: Arc::new(tokio::sync::Semaphore::new(2)),
        },
        proved: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let http = reqwest::Client::new();
    let time = |path: &'static str, n: usize| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let mut out = vec![];
            for _ in 0..n {
                let t = Instant::now();
                let r = http.get(format!("{url}{path}")).bearer_auth("bench-token-0123456789").send().await.unwrap();
                assert!(r.status().is_success() || path.starts_with("/v1/jobs"), "{path}: {}", r.status());
                r.bytes().await.unwrap();
                out.push(ms(t.elapsed()));
            }
            out
        }
    };
    let metrics = time("/metrics", 500).await;
    let health = time("/health", 500).await;
    // A job lookup while 4 scrapers hammer /metrics.
    let hammer: Vec<_> = (0..4).map(|_| tokio::spawn(time("/metrics", 300))).collect();
    let lookups = time("/v1/jobs/job-00000042", 200).await;
    for h in hammer {
        h.await?;
    }
    let line = |name: &str, v: Vec<f64>| {
        println!("{name:<44} p50 {:>8.3} ms  p99 {:>8.3} ms", percentile(v.clone(), 0.5), percentile(v, 0.99))
    };
    println!("at {jobs} jobs:");
    line("store counters (job_counts + gas_spent)", counters);
    line("full scan (SELECT state, COUNT(*) GROUP BY)", scans);
    line("GET /metrics", metrics);
    line("GET /health", health);
    line("GET /v1/jobs/{id} under 4 /metrics scrapers", lookups);
    Ok(())
}
