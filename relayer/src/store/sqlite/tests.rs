//! The SQLite store's tests: idempotent jobs, batches and nonces, client proofs, reopening.

use super::*;

fn job(id: &str, rows: usize) -> NewJob {
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

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("jobs.db")).unwrap();
    (dir, store)
}

#[test]
fn a_request_id_submitted_twice_is_one_job() {
    let (_d, s) = open();
    assert!(s.insert_job(&job("a", 1)).unwrap().created);
    assert!(!s.insert_job(&job("a", 1)).unwrap().created);
    let mut other = job("a", 1);
    other.body_hash = "different".into();
    assert!(matches!(s.insert_job(&other), Err(StoreError::Conflict(_))));
    assert_eq!(s.queued_jobs("1").unwrap().len(), 1);
}

#[test]
fn batches_take_nonces_and_move_their_jobs() {
    let (_d, s) = open();
    s.insert_job(&job("a", 2)).unwrap();
    s.insert_job(&job("b", 3)).unwrap();
    let nb = |ids: &[&str], floor| NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: floor,
    };
    let b = s.create_batch(&nb(&["a", "b"], 100)).unwrap();
    assert_eq!((b.nonce, b.sample_count, b.state), (100, 5, Some(BatchState::Created)));
    assert_eq!(s.batch_jobs(b.id).unwrap()[1].offset, Some(2));
    // Already batched: refused, and the failed transaction changed nothing.
    assert!(s.create_batch(&nb(&["a"], 0)).is_err());
    s.insert_job(&job("c", 1)).unwrap();
    assert_eq!(s.create_batch(&nb(&["c"], 0)).unwrap().nonce, 101);

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

#[test]
fn a_client_proof_is_stored_proved_once_per_nonce() {
    let (_d, s) = open();
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
    assert_eq!(s.batch_jobs(b.id).unwrap()[0].id, "p");
}

#[test]
fn reopening_keeps_everything_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    SqliteStore::open(&path).unwrap().insert_job(&job("a", 1)).unwrap();
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.job("a").unwrap().unwrap().job.rows.len(), 1);
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
#[test]
fn attestations_are_stored_with_their_batch() {
    let (_dir, store) = open();
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

    let batch = |ids: &[&str]| NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 42,
        subjects: vec![],
        nonce_floor: 0,
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

fn batch_of(s: &SqliteStore, ids: &[&str]) -> BatchRecord {
    s.create_batch(&NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: 0,
    })
    .unwrap()
}

/// The counts as a full scan sees them (what the counters must always equal).
fn scanned(s: &SqliteStore) -> Vec<(JobState, u64)> {
    s.with(|conn| {
        Ok(JobState::ALL
            .iter()
            .map(|st| {
                let n: i64 =
                    conn.query_row("SELECT COUNT(*) FROM jobs WHERE state = ?1", [st.as_str()], |r| r.get(0)).unwrap();
                (*st, n as u64)
            })
            .collect())
    })
    .unwrap()
}

fn count(s: &SqliteStore, state: JobState) -> u64 {
    s.job_counts().unwrap().into_iter().find(|(st, _)| *st == state).unwrap().1
}

#[test]
fn job_counts_follow_every_transition_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let s = SqliteStore::open(&path).unwrap();
    for id in ["a", "b", "c", "d"] {
        s.insert_job(&job(id, 1)).unwrap();
    }
    s.insert_job(&job("a", 1)).unwrap(); // a retry: no new job
    assert_eq!(count(&s, JobState::Queued), 4);
    let b1 = batch_of(&s, &["a", "b"]);
    assert_eq!((count(&s, JobState::Queued), count(&s, JobState::Proving)), (2, 2));
    let none = BatchUpdate::default();
    s.transition(b1.id, BatchState::Created, BatchState::Proving, &none, "p").unwrap();
    s.transition(b1.id, BatchState::Proving, BatchState::Proved, &none, "p").unwrap();
    s.transition(b1.id, BatchState::Proved, BatchState::Signed, &none, "s").unwrap();
    let gas = BatchUpdate { gas_used: Some(1000), ..Default::default() };
    s.transition(b1.id, BatchState::Signed, BatchState::Confirmed, &gas, "c").unwrap();
    let b2 = batch_of(&s, &["c"]);
    let failed = BatchUpdate { gas_used: Some(30), error: Some("x".into()), ..Default::default() };
    s.transition(b2.id, BatchState::Created, BatchState::Failed, &failed, "f").unwrap();
    assert_eq!(s.job_counts().unwrap(), scanned(&s));
    assert_eq!((count(&s, JobState::Confirmed), count(&s, JobState::Failed)), (2, 1));
    assert_eq!(s.gas_spent().unwrap(), 1030);
    drop(s);
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.job_counts().unwrap(), scanned(&s), "counters survive a restart");
    assert_eq!(s.gas_spent().unwrap(), 1030);
}

#[test]
fn migrating_an_old_database_counts_its_existing_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    {
        // A database at schema version 2 (before the counters), with jobs in it.
        let mut conn = Connection::open(&path).unwrap();
        for (i, sql) in MIGRATIONS.iter().take(2).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
        }
        let tx = conn.transaction().unwrap();
        for (id, state) in [("a", "queued"), ("b", "queued"), ("c", "failed")] {
            tx.execute(
                "INSERT INTO jobs (id, model_id, body_hash, state, rows, subjects, created_ms, updated_ms) \
                 VALUES (?1, '1', 'h', ?2, '[[1.0]]', '[]', 0, 0)",
                params![id, state],
            )
            .unwrap();
        }
        tx.execute(
            "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, gas_used, created_ms, \
             updated_ms) VALUES ('1', 'confirmed', 1, 0, '', '[]', 1, 77, 0, 0)",
            [],
        )
        .unwrap();
        tx.commit().unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.job_counts().unwrap(), scanned(&s));
    assert_eq!((count(&s, JobState::Queued), count(&s, JobState::Failed)), (2, 1));
    assert_eq!(s.gas_spent().unwrap(), 77);
}

#[test]
fn retention_prunes_only_old_finished_work() {
    let (_d, s) = open();
    for id in ["done", "failed", "queued", "proving", "sent", "fresh"] {
        s.insert_job(&job(id, 1)).unwrap();
    }
    let none = BatchUpdate::default();
    let gas = BatchUpdate { gas_used: Some(500), ..Default::default() };
    let done = batch_of(&s, &["done"]);
    s.transition(done.id, BatchState::Created, BatchState::Confirmed, &gas, "c").unwrap();
    let failed = batch_of(&s, &["failed"]);
    s.transition(failed.id, BatchState::Created, BatchState::Failed, &none, "f").unwrap();
    let proving = batch_of(&s, &["proving"]);
    s.transition(proving.id, BatchState::Created, BatchState::Proving, &none, "p").unwrap();
    let sent = batch_of(&s, &["sent"]);
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
    // Everything but "fresh" is old; "fresh" finishes now.
    s.with(|c| {
        c.execute("UPDATE jobs SET updated_ms = 1", [])?;
        c.execute("UPDATE batches SET updated_ms = 1", [])?;
        Ok(())
    })
    .unwrap();
    let fresh = batch_of(&s, &["fresh"]);
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
    assert_eq!(s.job_counts().unwrap(), scanned(&s));
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
        let b = batch_of(&s, &[&format!("x{i}")]);
        s.transition(b.id, BatchState::Created, BatchState::Failed, &none, "f").unwrap();
    }
    assert_eq!(s.prune_finished(i64::MAX, 2).unwrap().jobs, 2);
}

#[test]
fn evicting_fails_the_refused_job_alone_and_requeues_the_others() {
    let (_d, s) = open();
    for id in ["good1", "bad", "good2"] {
        s.insert_job(&job(id, 2)).unwrap();
    }
    let b = batch_of(&s, &["good1", "bad", "good2"]);
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
    assert_eq!(s.job_counts().unwrap(), scanned(&s));
    // The requeued jobs batch again, with offsets from 0.
    let again = batch_of(&s, &["good1", "good2"]);
    assert_eq!(again.sample_count, 4);
    assert_eq!(s.batch_jobs(again.id).unwrap()[1].offset, Some(2));
}
