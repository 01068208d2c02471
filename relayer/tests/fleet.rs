//! The proving fleet on a real PostgreSQL (a throwaway server under `target/`), a real anvil and
//! real proofs of the breast-cancer logistic model (direct mode, B = 4, keys cached in
//! `target/zkguard-test-cache`): one intake, provers and submitters as separate processes of the
//! relayer binary (`--role`), sharing one database. Crashes are real process deaths (`abort()` at
//! a TEST-ONLY crash point, SIGKILL), a frozen prover is SIGSTOPped.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::chain::{rows, Deployment};
use support::eventually;
use support::outcomes::{assert_exactly_once, confirmed, request};
use support::relayer::{Relayer, Setup};
use zkguard_relayer::store::{BatchState, JobStore, PgStore};
use zkguard_test_utils::postgres::TestPostgres;

/// Leases short enough for takeovers within seconds.
const LEASE_MS: u64 = 1_500;

/// A fleet's shared pieces: the database server, the chain, a working directory.
struct Fleet {
    pg: TestPostgres,
    url: String,
    d: Deployment,
    dir: tempfile::TempDir,
}

impl Fleet {
    async fn start() -> Self {
        let pg = tokio::task::spawn_blocking(TestPostgres::start).await.unwrap().unwrap_or_else(|e| panic!("{e}"));
        let url = pg.create_database("fleet").unwrap();
        let d = Deployment::start(4).await;
        Self { pg, url, d, dir: tempfile::tempdir().unwrap() }
    }

    fn setup(&self, role: &str, worker: &str) -> Setup {
        let dir = self.dir.path().join(worker);
        std::fs::create_dir_all(&dir).unwrap();
        Setup::fleet(&dir, &self.d, &self.url, role, worker, LEASE_MS)
    }

    async fn spawn(&self, role: &str, worker: &str, env: &[(&str, &str)]) -> Relayer {
        let mut setup = self.setup(role, worker);
        setup.env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Relayer::start(&setup, &self.d, None).await
    }

    async fn spawn_crashing(&self, role: &str, worker: &str, point: &str) -> Relayer {
        Relayer::start(&self.setup(role, worker), &self.d, Some(point)).await
    }

    fn store(&self) -> PgStore {
        PgStore::connect(&self.url).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_provers_and_one_submitter_confirm_every_request_exactly_once() {
    let started = std::time::Instant::now();
    let f = Fleet::start().await;
    let intake = f.spawn("intake", "intake", &[]).await;
    let mut provers = vec![];
    for i in 1..=3 {
        provers.push(f.spawn("prover", &format!("prover-{i}"), &[]).await);
    }
    let submitter = f.spawn("submitter", "submitter-a", &[]).await;
    let rows = rows(40);
    let mut ids = vec![];
    for (i, row) in rows.iter().enumerate() {
        let id = format!("r{i}");
        intake.client.submit(&request(&id, vec![row.clone()])).await.unwrap();
        ids.push(id);
    }
    let jobs = confirmed(&intake.client, &ids).await;
    assert_exactly_once(&f.d, &jobs).await;

    let store = f.store();
    let by_worker = store.proofs_by_worker().unwrap();
    let batches: BTreeSet<i64> = jobs.iter().filter_map(|j| j.batch_id).collect();
    assert_eq!(by_worker.iter().map(|(_, n)| *n).sum::<u64>() as usize, batches.len(), "{by_worker:?}");
    assert!(by_worker.iter().all(|(w, _)| w.starts_with("prover-")), "{by_worker:?}");
    assert!(by_worker.len() >= 2, "the work did not spread over the provers: {by_worker:?}");
    let lease = store.submitter_lease(&f.d.relayer_address.to_string()).unwrap().unwrap();
    assert_eq!(lease.holder, "submitter-a");

    let m = submitter.metrics().await;
    assert!(m.contains("zkguard_relayer_submitter_active 1"), "{m}");
    assert!(m.contains("holder=\"submitter-a\"} 1"), "{m}");
    let claims: u64 = {
        let mut total = 0;
        for p in &provers {
            let m = p.metrics().await;
            total += m
                .lines()
                .find_map(|l| l.strip_prefix("zkguard_relayer_claims_total "))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap();
        }
        total
    };
    assert_eq!(claims as usize, batches.len(), "one claim per batch");
    let im = intake.metrics().await;
    assert!(im.contains("zkguard_relayer_jobs{state=\"confirmed\"} 40"), "{im}");
    for (w, n) in &by_worker {
        assert!(im.contains(&format!("zkguard_relayer_proofs_by_worker{{worker=\"{w}\"}} {n}")), "{im}");
    }
    eprintln!("fleet: 40 requests, {} batches, {by_worker:?}, {:.1} s", batches.len(), started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_or_frozen_prover_loses_its_batch_and_its_late_result_is_refused() {
    let f = Fleet::start().await;
    let intake = f.spawn("intake", "intake", &[]).await;
    let _submitter = f.spawn("submitter", "submitter-a", &[]).await;
    let store = f.store();
    let rows = rows(2);

    // A prover dies mid-proof (abort at the crash point): its lease expires, another finishes.
    let mut dying = f.spawn_crashing("prover", "prover-dies", zkguard_relayer::crash::PROVING).await;
    intake.client.submit(&request("k1", vec![rows[0].clone()])).await.unwrap();
    let status = dying.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "the crash point aborts");
    let mut rescuer = f.spawn("prover", "prover-rescuer", &[]).await;
    let first = confirmed(&intake.client, &["k1".to_string()]).await;
    let batch = first[0].batch_id.unwrap();
    assert_eq!(store.batch(batch).unwrap().unwrap().proved_by.as_deref(), Some("prover-rescuer"));
    let history: Vec<String> = store.job("k1").unwrap().unwrap().transitions.into_iter().map(|t| t.detail).collect();
    assert!(
        history.iter().any(|h| h.contains("lease of prover-dies expired; claimed by prover-rescuer")),
        "{history:?}"
    );
    rescuer.kill();

    // A prover frozen mid-proof (SIGSTOP during a slow proof): the batch is taken over and
    // finished; thawed, the frozen prover's result is refused by the fencing token.
    let slow = f
        .spawn(
            "prover",
            "prover-frozen",
            &[(zkguard_relayer::crash::STALL_ENV, "proving"), (zkguard_relayer::crash::STALL_MS_ENV, "4000")],
        )
        .await;
    intake.client.submit(&request("k2", vec![rows[1].clone()])).await.unwrap();
    let claimed = eventually("prover-frozen to claim k2's batch", Duration::from_secs(60), || {
        let b = store.batches_in(&[BatchState::Proving]).unwrap();
        let log = slow.log_text();
        async move { (log.contains("stalling here") && !b.is_empty()).then(|| b[0].id) }
    })
    .await;
    slow.signal("STOP");
    let _thief = f.spawn("prover", "prover-thief", &[]).await;
    let second = confirmed(&intake.client, &["k2".to_string()]).await;
    assert_eq!(second[0].batch_id, Some(claimed));
    assert_eq!(store.batch(claimed).unwrap().unwrap().proved_by.as_deref(), Some("prover-thief"));
    slow.signal("CONT");
    eventually("the frozen prover's late result to be refused", Duration::from_secs(120), || {
        let log = slow.log_text();
        async move { log.contains("this result is refused").then_some(()) }
    })
    .await;
    let m = slow.metrics().await;
    assert!(m.contains("zkguard_relayer_stale_results_total 1"), "{m}");
    assert!(m.contains("zkguard_relayer_proofs_total 0"), "{m}");
    let b = store.batch(claimed).unwrap().unwrap();
    assert_eq!((b.state, b.proved_by.as_deref()), (Some(BatchState::Confirmed), Some("prover-thief")));
    let mut all = first;
    all.extend(second);
    assert_exactly_once(&f.d, &all).await;
    assert_eq!(f.d.relayer_tx_count().await, 2, "one transaction per batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_submitter_sends_the_transaction_the_dead_active_one_signed() {
    let f = Fleet::start().await;
    let intake = f.spawn("intake", "intake", &[]).await;
    let _prover = f.spawn("prover", "prover-1", &[]).await;
    let mut active = f.spawn_crashing("submitter", "submitter-a", zkguard_relayer::crash::AFTER_SIGNING).await;
    let store = f.store();
    let account = f.d.relayer_address.to_string();
    eventually("submitter-a to hold the lease", Duration::from_secs(30), || {
        let lease = store.submitter_lease(&account).unwrap();
        async move { lease.filter(|l| l.holder == "submitter-a").map(|_| ()) }
    })
    .await;
    let standby = f.spawn("submitter", "submitter-b", &[]).await;
    assert!(standby.metrics().await.contains("zkguard_relayer_submitter_active 0"), "b stands by");

    intake.client.submit(&request("s1", vec![rows(1)[0].clone()])).await.unwrap();
    let status = active.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "the crash point aborts after signing");
    let signed = store.batches_in(&[BatchState::Signed]).unwrap();
    assert_eq!(signed.len(), 1, "the dead submitter left a signed, unsent transaction");
    let stored = store.attempts(signed[0].id).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(f.d.relayer_tx_count().await, 0, "nothing was sent before the crash");

    let jobs = confirmed(&intake.client, &["s1".to_string()]).await;
    assert_exactly_once(&f.d, &jobs).await;
    assert_eq!(f.d.relayer_tx_count().await, 1, "exactly one transaction");
    assert_eq!(store.attempts(signed[0].id).unwrap().len(), 1, "no second signature");
    assert_eq!(jobs[0].tx_hash.as_deref(), Some(stored[0].tx_hash.as_str()), "the stored bytes were sent");
    let lease = store.submitter_lease(&account).unwrap().unwrap();
    assert_eq!((lease.holder.as_str(), lease.token), ("submitter-b", 2));
    assert!(standby.metrics().await.contains("zkguard_relayer_submitter_active 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_reconnects_after_the_database_restarts() {
    let f = Fleet::start().await;
    let intake = f.spawn("intake", "intake", &[]).await;
    let _prover = f.spawn("prover", "prover-1", &[]).await;
    let _submitter = f.spawn("submitter", "submitter-a", &[]).await;
    let rows = rows(8);
    let ids: Vec<String> = (0..8).map(|i| format!("d{i}")).collect();
    for (id, row) in ids.iter().zip(&rows).take(4) {
        intake.client.submit(&request(id, vec![row.clone()])).await.unwrap();
    }
    confirmed(&intake.client, &ids[..1]).await;
    f.pg.stop().unwrap();
    let refused = intake.client.submit(&request("while-down", vec![rows[4].clone()])).await;
    assert!(refused.is_err(), "no request is accepted while the database is down");
    tokio::time::sleep(Duration::from_millis(2 * LEASE_MS)).await;
    f.pg.restart().unwrap();
    for (id, row) in ids.iter().zip(&rows).skip(4) {
        let accepted = eventually("the intake to accept again", Duration::from_secs(30), || {
            let (c, r) = (&intake.client, request(id, vec![row.clone()]));
            async move { c.submit(&r).await.ok() }
        })
        .await;
        assert_eq!(accepted.id, *id);
    }
    let jobs = confirmed(&intake.client, &ids).await;
    assert_exactly_once(&f.d, &jobs).await;
    let store = f.store();
    assert!(store.job("while-down").unwrap().is_none(), "the refused request was not half-written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_database_configuration_is_refused_before_anything_is_written() {
    let f = Fleet::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let wrong_password = f.url.replace(zkguard_test_utils::postgres::PASSWORD, "not-the-password");
    let cases = [
        (format!("postgres://postgres:x@127.0.0.1:{port}/fleet"), "intake", "is unavailable"),
        (wrong_password, "prover", "password authentication failed"),
        (f.url.replace("/fleet", "/no_such_db"), "submitter", "does not exist"),
    ];
    for (url, role, says) in &cases {
        let mut setup = f.setup(role, &format!("bad-{role}"));
        setup.database_url = Some(url.clone());
        let (status, log) = Relayer::run_to_exit(&setup, &f.d);
        assert!(!status.success(), "{url}: {log}");
        assert!(log.contains(says), "{url}: expected {says:?} in:\n{log}");
        assert!(!log.contains("not-the-password") && !log.contains(":x@"), "a password was logged:\n{log}");
    }
    // A role of the fleet on the embedded database is refused.
    let mut setup = f.setup("prover", "sqlite-prover");
    setup.database_url = None;
    let (status, log) = Relayer::run_to_exit(&setup, &f.d);
    assert!(!status.success() && log.contains("--role prover needs a database the fleet shares"), "{log}");

    // A schema newer than the binary's: refused, and the database left as it was.
    drop(f.store()); // migrated to this binary's version
    let newer = zkguard_relayer::store::schema::LATEST + 1;
    f.pg.psql("fleet", &format!("INSERT INTO zkguard_schema (version) VALUES ({newer})")).unwrap();
    let before = f.pg.psql("fleet", "SELECT COUNT(*) FROM transitions").unwrap();
    let (status, log) = Relayer::run_to_exit(&f.setup("intake", "newer"), &f.d);
    assert!(!status.success());
    assert!(log.contains(&format!("schema version {newer} is newer than this binary's")), "{log}");
    assert_eq!(f.pg.psql("fleet", "SELECT MAX(version) FROM zkguard_schema").unwrap(), newer.to_string());
    assert_eq!(f.pg.psql("fleet", "SELECT COUNT(*) FROM transitions").unwrap(), before);
}
