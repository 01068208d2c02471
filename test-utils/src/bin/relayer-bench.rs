//! End-to-end throughput of the relayer in direct mode, or in batch mode with `--aggregate N`:
//! starts a local anvil (PUBLIC dev keys, local only) with the contracts and the breast-cancer
//! logistic model registered at batch size B (on the shared verifier; in batch mode the shared
//! aggregation verifier and the key of the aggregation of N proofs), runs the `zkguard-relayer`
//! binary (build it first: it must sit next to this one), sends `--requests` one-row requests
//! from `--clients` concurrent clients, waits until every job is confirmed, prints a table and
//! writes JSON: decisions per minute, p50/p95 latency from request to confirmed, gas per decision.
//!
//! With `--provers N` it runs a fleet instead of one process: a throwaway PostgreSQL under
//! `target/` ([`zkguard_test_utils::postgres`]), one intake, N prover processes and one submitter,
//! all on this machine (so the provers share its cores).
//!
//! `cargo build --release -p zkguard-relayer -p zkguard-test-utils --bins && target/release/relayer-bench --batch-size 16`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use zkguard_relayer::intake::SubmitRequest;
use zkguard_test_utils::chain::{rows, Deployment};
use zkguard_test_utils::relayer::{Relayer, Setup};

/// Options.
#[derive(Debug, Parser)]
struct Args {
    /// Circuit batch size B (samples per app proof).
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// One-row requests to send.
    #[arg(long, default_value_t = 64)]
    requests: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Proving workers.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Batch flush window (ms).
    #[arg(long, default_value_t = 500)]
    max_wait_ms: u64,
    /// Batch mode: aggregate N app proofs per transaction (absent: direct mode). Aggregation keys
    /// are generated on the first run (minutes) and cached.
    #[arg(long)]
    aggregate: Option<usize>,
    /// Run a fleet on a throwaway PostgreSQL with this many prover processes (absent: one process
    /// in the `all` role on SQLite).
    #[arg(long)]
    provers: Option<usize>,
    /// JSON output.
    #[arg(long, default_value = "bench/results/relayer.json")]
    out: PathBuf,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let d = Deployment::start_in_mode(args.batch_size, args.aggregate).await;
    let mode = args.aggregate.map_or("direct".to_string(), |n| format!("batch (N = {n})"));
    let dir = tempfile::tempdir()?;
    let mut setup = Setup::new(dir.path(), &d);
    setup.workers = args.workers;
    setup.max_wait_ms = args.max_wait_ms;
    // A fleet: the database first, then the intake (served below as `relayer`), provers, submitter.
    let mut fleet = vec![];
    let pg = match args.provers {
        Some(_) => Some(zkguard_test_utils::postgres::TestPostgres::start()?),
        None => None,
    };
    let relayer = match (&pg, args.provers) {
        (Some(pg), Some(n)) => {
            let url = pg.create_database("bench")?;
            let role = |role: &str, name: &str| {
                let dir = dir.path().join(name);
                std::fs::create_dir_all(&dir).expect("bench dir");
                let mut s = Setup::fleet(&dir, &d, &url, role, name, 30_000);
                s.workers = args.workers;
                s.max_wait_ms = args.max_wait_ms;
                s
            };
            for i in 1..=n {
                fleet.push(Relayer::start(&role("prover", &format!("prover-{i}")), &d, None).await);
            }
            fleet.push(Relayer::start(&role("submitter", "submitter"), &d, None).await);
            Relayer::start(&role("intake", "intake"), &d, None).await
        }
        _ => Relayer::start(&setup, &d, None).await,
    };
    let all = rows(args.requests);
    let started = Instant::now();
    let mut tasks = vec![];
    for c in 0..args.clients {
        let client = relayer.client.clone();
        let mine: Vec<(usize, Vec<f64>)> =
            all.iter().cloned().enumerate().filter(|(i, _)| i % args.clients == c).collect();
        tasks.push(tokio::spawn(async move {
            for (i, row) in mine {
                let req = SubmitRequest {
                    request_id: format!("bench-{i}"),
                    model_id: "1".into(),
                    rows: vec![row],
                    ..SubmitRequest::default()
                };
                client.submit(&req).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let mut latencies = vec![];
    let mut batches = std::collections::BTreeSet::new();
    for i in 0..args.requests {
        let job = relayer.client.wait_final(&format!("bench-{i}"), Duration::from_secs(3600)).await?;
        anyhow::ensure!(job.state == "confirmed", "job bench-{i} ended {}: {:?}", job.state, job.error);
        let at = |state: &str| job.transitions.iter().filter(|t| t.to == state).map(|t| t.at_ms).next_back();
        let (queued, done) = (at("queued").context("no queued")?, at("confirmed").context("no confirmed")?);
        latencies.push((done - queued) as f64 / 1000.0);
        batches.insert(job.batch_id);
    }
    let wall = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let metrics = relayer.client.metrics().await?;
    let gas: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("zkguard_relayer_gas_spent_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let per_min = args.requests as f64 / wall * 60.0;
    let by_worker: Vec<(String, u64)> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("zkguard_relayer_proofs_by_worker{worker=\""))
        .filter_map(|l| l.split_once("\"} "))
        .map(|(w, n)| (w.to_string(), n.parse().unwrap_or(0)))
        .collect();
    let layout = match args.provers {
        Some(n) => format!("fleet: {n} prover(s)"),
        None => "one process".into(),
    };
    let (p50, p95) = (percentile(&latencies, 50.0), percentile(&latencies, 95.0));
    println!(
        "| layout | mode | B | requests | clients | proofs | wall s | decisions/min | p50 s | p95 s | gas/decision |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
        layout,
        mode,
        args.batch_size,
        args.requests,
        args.clients,
        batches.len(),
        wall,
        per_min,
        p50,
        p95,
        gas / args.requests as u64
    );
    let json = serde_json::json!({
        "layout": layout,
        "provers": args.provers,
        "proofs_by_worker": by_worker,
        "mode": mode,
        "batch_size": args.batch_size,
        "requests": args.requests,
        "clients": args.clients,
        "workers": args.workers,
        "proofs": batches.len(),
        "wall_s": wall,
        "decisions_per_min": per_min,
        "latency_p50_s": p50,
        "latency_p95_s": p95,
        "gas_total": gas,
        "gas_per_decision": gas / args.requests as u64,
        "srs": "INSECURE dev SRS (local benchmark only)",
    });
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&json)?)?;
    if !by_worker.is_empty() {
        println!("proofs by worker: {by_worker:?}");
    }
    println!("wrote {}", args.out.display());
    drop(fleet);
    Ok(())
}
