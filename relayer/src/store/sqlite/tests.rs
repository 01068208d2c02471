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
