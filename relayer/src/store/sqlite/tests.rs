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
    // and they survive a reopen
    drop(store);
}
