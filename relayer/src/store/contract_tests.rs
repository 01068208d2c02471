//! The store's contract: one body per test, run against both backends (the `contract!` macro
//! makes a `sqlite::` and a `postgres::` test of each), the PostgreSQL ones on a throwaway server
//! (`zkguard_test_utils::postgres`) with a fresh database per test.

use std::path::PathBuf;

use super::*;
use zkguard_test_utils::postgres::TestPostgres;

mod leases;
mod segments;
use leases::*;
use segments::*;

/// A store under test, with raw SQL beside it (to age rows, to count by scanning) and reopening.
pub(crate) trait Fixture {
    fn store(&self) -> &dyn JobStore;
    /// Runs `sql` outside the store; returns the first column of the first row as text.
    fn sql(&self, sql: &str) -> String;
    /// Drops the store and opens the same database again.
    fn reopen(&mut self) {
        self.try_reopen().unwrap()
    }
    /// Drops the store and tries to open the same database again.
    fn try_reopen(&mut self) -> Result<(), StoreError>;
    /// Sets the stored schema version (as a newer binary would have).
    fn bump_schema(&mut self, version: i64);
    /// The stored schema version, read outside the store.
    fn schema_in_file(&self) -> i64;
}

pub(crate) struct SqliteFixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Option<SqliteStore>,
}

impl Fixture for SqliteFixture {
    fn store(&self) -> &dyn JobStore {
        self.store.as_ref().expect("open")
    }
    fn sql(&self, sql: &str) -> String {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let mut rows = stmt.query([]).unwrap();
        match rows.next().unwrap() {
            Some(row) => match row.get_ref(0).unwrap() {
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                other => format!("{other:?}"),
            },
            None => String::new(),
        }
    }
    fn try_reopen(&mut self) -> Result<(), StoreError> {
        self.store = None;
        self.store = Some(SqliteStore::open(&self.path)?);
        Ok(())
    }
    fn bump_schema(&mut self, version: i64) {
        self.store = None;
        rusqlite::Connection::open(&self.path).unwrap().pragma_update(None, "user_version", version).unwrap();
    }
    fn schema_in_file(&self) -> i64 {
        self.sql("PRAGMA user_version").parse().unwrap()
    }
}

pub(crate) fn sqlite_fixture() -> SqliteFixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = Some(SqliteStore::open(&path).unwrap());
    SqliteFixture { _dir: dir, path, store }
}

pub(crate) struct PgFixture {
    server: &'static TestPostgres,
    db: String,
    url: String,
    store: Option<PgStore>,
}

impl Fixture for PgFixture {
    fn store(&self) -> &dyn JobStore {
        self.store.as_ref().expect("open")
    }
    fn sql(&self, sql: &str) -> String {
        self.server.psql(&self.db, sql).unwrap().lines().next().unwrap_or_default().to_string()
    }
    fn try_reopen(&mut self) -> Result<(), StoreError> {
        self.store = None;
        self.store = Some(PgStore::connect(&self.url)?);
        Ok(())
    }
    fn bump_schema(&mut self, version: i64) {
        self.sql(&format!("INSERT INTO zkguard_schema (version) VALUES ({version})"));
    }
    fn schema_in_file(&self) -> i64 {
        self.sql("SELECT MAX(version) FROM zkguard_schema").parse().unwrap()
    }
}

pub(crate) fn pg_fixture() -> PgFixture {
    let server = TestPostgres::shared().unwrap_or_else(|e| panic!("{e}"));
    let url = server.fresh_database().unwrap();
    let db = url.rsplit('/').next().unwrap().to_string();
    let store = Some(PgStore::connect(&url).unwrap());
    PgFixture { server, db, url, store }
}

macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        mod sqlite_backend {
            $( #[test] fn $name() { super::$name(&mut super::sqlite_fixture()) } )+
        }
        mod postgres_backend {
            $( #[test] fn $name() { super::$name(&mut super::pg_fixture()) } )+
        }
    };
}

contract!(
    a_request_id_submitted_twice_is_one_job,
    batches_take_nonces_and_move_their_jobs,
    a_client_proof_is_stored_proved_once_per_nonce,
    reopening_keeps_everything_and_does_not_migrate_twice,
    attestations_are_stored_with_their_batch,
    job_counts_follow_every_transition_and_survive_reopening,
    retention_prunes_only_old_finished_work,
    evicting_fails_the_refused_job_alone_and_requeues_the_others,
    a_claim_leases_a_batch_and_a_stale_result_is_refused,
    claims_skip_unserved_models_and_client_proofs_fail_through_the_claim,
    one_submitter_holds_an_account_until_its_lease_expires,
    a_newer_schema_is_refused_and_left_untouched,
    segments_are_claimed_apart_and_the_aggregation_waits_for_all_of_them,
    stale_segment_and_aggregation_results_are_refused,
    segment_proofs_survive_a_restart_and_a_new_context_clears_them,
);

pub(crate) fn job(id: &str, rows: usize) -> NewJob {
    NewJob {
        id: id.into(),
        model_id: "1".into(),
        body_hash: format!("h-{id}"),
        rows: vec![vec![1.0, 2.0]; rows],
        salt: None,
        subjects: vec![],
        attestation: None,
    }
}

fn batch_of(s: &dyn JobStore, ids: &[&str]) -> BatchRecord {
    s.create_batch(&NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: 0,
        segments: 0,
        aggregation_mb: 0,
    })
    .unwrap()
}

/// The counts as a full scan sees them (what the counters must always equal).
fn scanned(f: &dyn Fixture) -> Vec<(JobState, u64)> {
    JobState::ALL
        .iter()
        .map(|st| {
            let n = f.sql(&format!("SELECT COUNT(*) FROM jobs WHERE state = '{}'", st.as_str()));
            (*st, n.parse().unwrap())
        })
        .collect()
}

fn count(s: &dyn JobStore, state: JobState) -> u64 {
    s.job_counts().unwrap().into_iter().find(|(st, _)| *st == state).unwrap().1
}

fn a_request_id_submitted_twice_is_one_job(f: &mut dyn Fixture) {
    let s = f.store();
    assert!(s.insert_job(&job("a", 1)).unwrap().created);
    assert!(!s.insert_job(&job("a", 1)).unwrap().created);
    let mut other = job("a", 1);
    other.body_hash = "different".into();
    assert!(matches!(s.insert_job(&other), Err(StoreError::Conflict(_))));
    assert_eq!(s.queued_jobs("1").unwrap().len(), 1);
}

fn batches_take_nonces_and_move_their_jobs(f: &mut dyn Fixture) {
    let s = f.store();
    s.insert_job(&job("a", 2)).unwrap();
    s.insert_job(&job("b", 3)).unwrap();
    let nb = |ids: &[&str], floor| NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: floor,
        segments: 0,
        aggregation_mb: 0,
    };
    let b = s.create_batch(&nb(&["a", "b"], 100)).unwrap();
    assert_eq!((b.nonce, b.sample_count, b.state), (100, 5, Some(BatchState::Created)));
    assert_eq!(s.batch_jobs(b.id).unwrap()[1].offset, Some(2));
    // Already batched: refused, and the failed transaction changed nothing.
    assert!(s.create_batch(&nb(&["a"], 0)).is_err());
    s.insert_job(&job("c", 1)).unwrap();
    assert_eq!(s.create_batch(&nb(&["c"], 0)).unwrap().nonce, 101);
    assert_eq!(s.next_nonce("1", 0).unwrap(), 102);
    assert_eq!(s.next_nonce("1", 500).unwrap(), 500, "the floor wins when higher");
    assert_eq!(s.next_nonce("2", 7).unwrap(), 7, "nonces are per model");

    let err = s.transition(b.id, BatchState::Proving, BatchState::Proved, &BatchUpdate::default(), "x");
    assert!(matches!(err, Err(StoreError::WrongState { .. })));
    s.transition(b.id, BatchState::Created, BatchState::Proving, &BatchUpdate::default(), "proving").unwrap();
    let u = BatchUpdate { gas_used: Some(7), tx_hash: Some("0xab".into()), ..Default::default() };
    s.transition(b.id, BatchState::Proving, BatchState::Confirmed, &u, "done").unwrap();
    let view = s.job("a").unwrap().unwrap();
    assert_eq!(view.job.state, JobState::Confirmed);
    assert_eq!(view.batch.unwrap().gas_used, Some(7));
    let states: Vec<_> = view.transitions.iter().map(|t| t.to.as_str()).collect();
    assert_eq!(states, ["queued", "created", "proving", "proving", "confirmed", "confirmed"]);
    assert_eq!(s.gas_spent().unwrap(), 7);
    let counts = s.job_counts().unwrap();
    assert!(counts.contains(&(JobState::Confirmed, 2)) && counts.contains(&(JobState::Proving, 1)));
}

fn a_client_proof_is_stored_proved_once_per_nonce(f: &mut dyn Fixture) {
    let s = f.store();
    let proved = |nonce| NewProvedBatch {
        model_id: "1".into(),
        nonce,
        issued_at: 5,
        subjects: vec![],
        sample_count: 2,
        instances: vec!["0x01".into()],
        proof: "0xab".into(),
        decisions: vec![true, false],
        scores: vec!["1".into(), "2".into()],
        attestations: vec![],
    };
    let mut j = job("p", 0);
    j.rows.clear();
    let big = (1u64 << 63) + 7;
    let first = s.insert_proved_job(&j, &proved(big)).unwrap();
    assert!(first.created);
    assert_eq!(first.job.state, JobState::Proved);
    assert_eq!(s.body_hash("p").unwrap().as_deref(), Some("h-p"));
    // The same request again is the same job; another id with the same nonce is refused.
    assert!(!s.insert_proved_job(&j, &proved(big)).unwrap().created);
    let mut other = job("q", 0);
    other.rows.clear();
    assert!(
        matches!(s.insert_proved_job(&other, &proved(big)), Err(StoreError::NonceTaken { nonce, .. }) if nonce == big)
    );
    assert!(s.job("q").unwrap().is_none(), "the refused insert left nothing behind");
    let mut conflicting = j.clone();
    conflicting.body_hash = "other".into();
    assert!(matches!(s.insert_proved_job(&conflicting, &proved(big + 1)), Err(StoreError::Conflict(_))));
    // The batch is proved, a client's, and its nonce (>= 2^63) round-trips.
    let batches = s.batches_in(&[BatchState::Proved]).unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert!(b.client_proof);
    assert_eq!((b.nonce, b.sample_count, b.proof.as_deref()), (big, 2, Some("0xab")));
    assert_eq!(b.decisions.as_deref(), Some(&[true, false][..]));
    assert_eq!(s.batch_jobs(b.id).unwrap()[0].id, "p");
}

fn reopening_keeps_everything_and_does_not_migrate_twice(f: &mut dyn Fixture) {
    f.store().insert_job(&job("a", 1)).unwrap();
    f.reopen();
    assert_eq!(f.store().job("a").unwrap().unwrap().job.rows.len(), 1);
    assert_eq!(f.store().schema_version().unwrap(), (schema::LATEST, schema::LATEST));
}

fn attestation(signer: u8) -> zkguard_contracts::attestation::Attestation {
    zkguard_contracts::attestation::Attestation {
        signer: alloy::primitives::Address::repeat_byte(signer),
        signature: vec![signer; 65].into(),
    }
}

/// A client-attested job's batch takes the nonce and issue time its attesters signed and their
/// signatures, which the relayer's own attestations never replace; a relayer batch's own
/// attestations are stored, replaced and cleared.
fn attestations_are_stored_with_their_batch(f: &mut dyn Fixture) {
    let store = f.store();
    let nonce = (1u64 << 63) + 5;
    let mut attested = job("a", 2);
    attested.salt = Some("0x01".into());
    attested.attestation =
        Some(ClientAttestation { nonce, issued_at: 1_700_000_000, attestations: vec![attestation(1)] });
    store.insert_job(&attested).unwrap();
    // the same client nonce again is refused at intake
    let mut again = job("a2", 1);
    again.attestation = attested.attestation.clone();
    assert!(matches!(store.insert_job(&again), Err(StoreError::NonceTaken { .. })));
    assert!(store.job("a2").unwrap().is_none(), "the refused insert left nothing behind");

    let batch = |ids: &[&str]| NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 42,
        subjects: vec![],
        nonce_floor: 0,
        segments: 0,
        aggregation_mb: 0,
    };
    let b = store.create_batch(&batch(&["a"])).unwrap();
    assert_eq!((b.nonce, b.issued_at), (nonce, 1_700_000_000));
    let stored = store.batch_attestations(b.id).unwrap().unwrap();
    assert!(stored.fixed_context);
    assert_eq!(stored.attestations, vec![attestation(1)]);
    store.set_batch_attestations(b.id, &[attestation(2)]).unwrap();
    store.clear_relayer_attestations(b.id).unwrap();
    assert_eq!(store.batch_attestations(b.id).unwrap().unwrap().attestations, vec![attestation(1)]);

    store.insert_job(&job("r", 1)).unwrap();
    let r = store.create_batch(&batch(&["r"])).unwrap();
    assert_eq!(r.issued_at, 42);
    assert!(store.batch_attestations(r.id).unwrap().is_none());
    store.set_batch_attestations(r.id, &[attestation(3)]).unwrap();
    store.set_batch_attestations(r.id, &[attestation(4)]).unwrap();
    let own = store.batch_attestations(r.id).unwrap().unwrap();
    assert!(!own.fixed_context);
    assert_eq!(own.attestations, vec![attestation(4)]);
    store.clear_relayer_attestations(r.id).unwrap();
    assert!(store.batch_attestations(r.id).unwrap().is_none());
}

fn job_counts_follow_every_transition_and_survive_reopening(f: &mut dyn Fixture) {
    let s = f.store();
    for id in ["a", "b", "c", "d"] {
        s.insert_job(&job(id, 1)).unwrap();
    }
    s.insert_job(&job("a", 1)).unwrap(); // a retry: no new job
    assert_eq!(count(s, JobState::Queued), 4);
    let b1 = batch_of(s, &["a", "b"]);
    assert_eq!((count(s, JobState::Queued), count(s, JobState::Proving)), (2, 2));
    let none = BatchUpdate::default();
    s.transition(b1.id, BatchState::Created, BatchState::Proving, &none, "p").unwrap();
    s.transition(b1.id, BatchState::Proving, BatchState::Proved, &none, "p").unwrap();
    s.transition(b1.id, BatchState::Proved, BatchState::Signed, &none, "s").unwrap();
    let gas = BatchUpdate { gas_used: Some(1000), ..Default::default() };
    s.transition(b1.id, BatchState::Signed, BatchState::Confirmed, &gas, "c").unwrap();
    let b2 = batch_of(s, &["c"]);
    let failed = BatchUpdate { gas_used: Some(30), error: Some("x".into()), ..Default::default() };
    s.transition(b2.id, BatchState::Created, BatchState::Failed, &failed, "f").unwrap();
    assert_eq!(s.job_counts().unwrap(), scanned(f));
    let s = f.store();
    assert_eq!((count(s, JobState::Confirmed), count(s, JobState::Failed)), (2, 1));
    assert_eq!(s.gas_spent().unwrap(), 1030);
    f.reopen();
    assert_eq!(f.store().job_counts().unwrap(), scanned(f), "counters survive a restart");
    assert_eq!(f.store().gas_spent().unwrap(), 1030);
}

fn retention_prunes_only_old_finished_work(f: &mut dyn Fixture) {
    let s = f.store();
    for id in ["done", "failed", "queued", "proving", "sent", "fresh"] {
        s.insert_job(&job(id, 1)).unwrap();
    }
    let none = BatchUpdate::default();
    let gas = BatchUpdate { gas_used: Some(500), ..Default::default() };
    let done = batch_of(s, &["done"]);
    s.transition(done.id, BatchState::Created, BatchState::Confirmed, &gas, "c").unwrap();
    let failed = batch_of(s, &["failed"]);
    s.transition(failed.id, BatchState::Created, BatchState::Failed, &none, "f").unwrap();
    let proving = batch_of(s, &["proving"]);
    s.transition(proving.id, BatchState::Created, BatchState::Proving, &none, "p").unwrap();
    let sent = batch_of(s, &["sent"]);
    s.transition(sent.id, BatchState::Created, BatchState::Sent, &none, "s").unwrap();
    s.add_attempt(&TxAttempt {
        batch_id: done.id,
        tx_hash: "0x01".into(),
        guard_nonce: done.nonce,
        account_nonce: 0,
        max_fee: 1,
        priority_fee: 1,
        gas_limit: 1,
        raw: "0x".into(),
        created_ms: 0,
    })
    .unwrap();
    assert_eq!(s.attempts(done.id).unwrap().len(), 1);
    // Everything but "fresh" is old; "fresh" finishes now.
    f.sql("UPDATE jobs SET updated_ms = 1");
    f.sql("UPDATE batches SET updated_ms = 1");
    let s = f.store();
    let fresh = batch_of(s, &["fresh"]);
    s.transition(fresh.id, BatchState::Created, BatchState::Confirmed, &none, "c").unwrap();

    let pruned = s.prune_finished(1_000, 100).unwrap();
    assert_eq!(pruned, Pruned { jobs: 2, batches: 2 });
    for gone in ["done", "failed"] {
        assert!(s.job(gone).unwrap().is_none(), "{gone} is old and finished");
    }
    for kept in ["queued", "proving", "sent", "fresh"] {
        assert!(s.job(kept).unwrap().is_some(), "{kept} must be kept");
    }
    assert!(s.batch(done.id).unwrap().is_none() && s.attempts(done.id).unwrap().is_empty());
    assert!(s.batch(sent.id).unwrap().is_some());
    assert_eq!(s.job_counts().unwrap(), scanned(f));
    let s = f.store();
    assert_eq!(s.gas_spent().unwrap(), 500, "pruning never lowers the gas counter");
    // Even with a cut-off in the future, nothing unfinished goes.
    s.prune_finished(i64::MAX, 100).unwrap();
    for kept in ["queued", "proving", "sent"] {
        assert!(s.job(kept).unwrap().is_some(), "{kept} is unfinished");
    }
    assert!(s.job("fresh").unwrap().is_none());
    assert_eq!(s.queued_jobs("1").unwrap().len(), 1);
    assert_eq!(s.batches_in(&[BatchState::Proving, BatchState::Sent]).unwrap().len(), 2);
    // The limit bounds one call.
    for i in 0..5 {
        s.insert_job(&job(&format!("x{i}"), 1)).unwrap();
        let b = batch_of(s, &[&format!("x{i}")]);
        s.transition(b.id, BatchState::Created, BatchState::Failed, &none, "f").unwrap();
    }
    assert_eq!(s.prune_finished(i64::MAX, 2).unwrap().jobs, 2);
}

fn evicting_fails_the_refused_job_alone_and_requeues_the_others(f: &mut dyn Fixture) {
    let s = f.store();
    for id in ["good1", "bad", "good2"] {
        s.insert_job(&job(id, 2)).unwrap();
    }
    let b = batch_of(s, &["good1", "bad", "good2"]);
    let refused = [RefusedJob { job_id: "bad".into(), reason: "refused: rows[1] overflows".into() }];
    // Only from the state the caller saw.
    assert!(matches!(s.evict(b.id, BatchState::Proving, &refused), Err(StoreError::WrongState { .. })));
    let out = s.evict(b.id, BatchState::Created, &refused).unwrap();
    assert_eq!(out, Evicted { failed: 1, requeued: 2 });
    let bad = s.job("bad").unwrap().unwrap();
    assert_eq!(bad.job.state, JobState::Failed);
    assert_eq!(bad.job.error.as_deref(), Some("refused: rows[1] overflows"));
    let queued = s.queued_jobs("1").unwrap();
    assert_eq!(queued.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["good1", "good2"], "same order");
    for j in &queued {
        assert_eq!((j.batch_id, j.offset, j.error.as_deref()), (None, None, None));
        let view = s.job(&j.id).unwrap().unwrap();
        assert!(
            view.transitions.iter().all(|t| !t.detail.contains("overflows")),
            "the other job's reason leaked into {}",
            j.id
        );
    }
    let dissolved = s.batch(b.id).unwrap().unwrap();
    assert_eq!(dissolved.state, Some(BatchState::Failed));
    assert!(!dissolved.error.unwrap().contains("overflows"));
    assert_eq!(s.job_counts().unwrap(), scanned(f));
    // The requeued jobs batch again, with offsets from 0.
    let s = f.store();
    let again = batch_of(s, &["good1", "good2"]);
    assert_eq!(again.sample_count, 4);
    assert_eq!(s.batch_jobs(again.id).unwrap()[1].offset, Some(2));
}

fn models(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// One submitter holds an account's lease; a standby gets nothing while it is live, takes it over
/// once expired (a new token), and the old holder cannot renew it then; a released lease is free.
fn one_submitter_holds_an_account_until_its_lease_expires(f: &mut dyn Fixture) {
    let s = f.store();
    let acct = "0x00000000000000000000000000000000000000aa";
    assert!(s.submitter_lease(acct).unwrap().is_none());
    let a = s.acquire_submitter(acct, "sub-a", 60_000).unwrap().expect("free");
    assert_eq!((a.holder.as_str(), a.token), ("sub-a", 1));
    assert!(s.acquire_submitter(acct, "sub-b", 60_000).unwrap().is_none(), "the standby waits");
    let renewed = s.acquire_submitter(acct, "sub-a", 60_000).unwrap().expect("renewal");
    assert_eq!(renewed.token, 1, "a renewal keeps the token");
    assert!(
        s.acquire_submitter("0x00000000000000000000000000000000000000bb", "sub-b", 60_000).unwrap().is_some(),
        "per account"
    );
    f.sql(&format!("UPDATE submitter_leases SET until_ms = 1 WHERE account = '{acct}'"));
    let s = f.store();
    let b = s.acquire_submitter(acct, "sub-b", 60_000).unwrap().expect("takes over the expired lease");
    assert_eq!((b.holder.as_str(), b.token), ("sub-b", 2));
    assert!(s.acquire_submitter(acct, "sub-a", 60_000).unwrap().is_none(), "the old holder lost it");
    assert_eq!(s.submitter_lease(acct).unwrap().unwrap().holder, "sub-b");
    s.release_submitter(acct, "sub-a").unwrap(); // not the holder: no effect
    assert!(s.acquire_submitter(acct, "sub-a", 60_000).unwrap().is_none());
    s.release_submitter(acct, "sub-b").unwrap();
    assert_eq!(s.acquire_submitter(acct, "sub-a", 60_000).unwrap().unwrap().token, 3);
}

/// A database a newer binary migrated is refused with a clear error, and left as it was.
fn a_newer_schema_is_refused_and_left_untouched(f: &mut dyn Fixture) {
    f.store().insert_job(&job("kept", 1)).unwrap();
    let newer = schema::LATEST + 1;
    f.bump_schema(newer);
    let err = f.try_reopen().expect_err("a newer schema must be refused");
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported, .. } if found == newer && supported == schema::LATEST),
        "{text}"
    );
    assert!(text.contains(&format!("schema version {newer} is newer than this binary's {}", schema::LATEST)), "{text}");
    assert_eq!(f.sql("SELECT COUNT(*) FROM jobs"), "1", "nothing changed");
    assert_eq!(f.schema_in_file(), newer, "the version was not touched");
}
