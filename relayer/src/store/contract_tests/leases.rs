//! The store's contract for provers' leases on batches (run on both backends by `contract!` in
//! the parent module).

use super::*;

/// A claim leases the oldest batch; a live lease keeps it from other provers; an expired one
/// lets another prover take it with a higher token, after which the first prover's renewal and
/// late result are both refused and change nothing; the new holder's result is stored.
pub(super) fn a_claim_leases_a_batch_and_a_stale_result_is_refused(f: &mut dyn Fixture) {
    let s = f.store();
    for id in ["a", "b"] {
        s.insert_job(&job(id, 1)).unwrap();
    }
    let first = batch_of(s, &["a"]);
    let second = batch_of(s, &["b"]);
    let one = models(&["1"]);
    let c1 = s.claim_batch("prover-1", &one, 60_000, u64::MAX).unwrap().expect("a batch to claim");
    assert_eq!(
        (c1.batch.id, c1.batch.state, c1.took_over_from.as_deref()),
        (first.id, Some(BatchState::Proving), None)
    );
    let c2 = s.claim_batch("prover-2", &one, 60_000, u64::MAX).unwrap().expect("the next batch");
    assert_eq!(c2.batch.id, second.id, "a leased batch is skipped");
    assert!(s.claim_batch("prover-3", &one, 60_000, u64::MAX).unwrap().is_none(), "nothing left");
    s.renew_lease(c1.batch.id, c1.token, 60_000).unwrap();

    // prover-1's lease runs out (aged here): prover-3 takes the batch over with a higher token.
    f.sql(&format!("UPDATE batches SET lease_until_ms = 1 WHERE id = {}", first.id));
    let s = f.store();
    let c3 = s.claim_batch("prover-3", &one, 60_000, u64::MAX).unwrap().expect("the expired batch");
    assert_eq!((c3.batch.id, c3.took_over_from.as_deref()), (first.id, Some("prover-1")));
    assert!(c3.token > c1.token);
    assert!(matches!(s.renew_lease(first.id, c1.token, 60_000), Err(StoreError::LeaseLost { .. })));
    let late = BatchUpdate { proof: Some("0xdead".into()), ..Default::default() };
    let refused = s.finish_claim(first.id, c1.token, BatchState::Proved, &late, "late");
    assert!(matches!(refused, Err(StoreError::LeaseLost { batch, .. }) if batch == first.id), "{refused:?}");
    let still = s.batch(first.id).unwrap().unwrap();
    assert_eq!(
        (still.state, still.proof.as_deref()),
        (Some(BatchState::Proving), None),
        "the stale result changed nothing"
    );

    let good = BatchUpdate { proof: Some("0xbeef".into()), prove_ms: Some(5), ..Default::default() };
    let done = s.finish_claim(first.id, c3.token, BatchState::Proved, &good, "proof stored").unwrap();
    assert_eq!(
        (done.state, done.proof.as_deref(), done.proved_by.as_deref()),
        (Some(BatchState::Proved), Some("0xbeef"), Some("prover-3"))
    );
    assert_eq!(s.job("a").unwrap().unwrap().job.state, JobState::Proved);
    // A finished claim cannot be finished again, nor its lease renewed.
    assert!(matches!(
        s.finish_claim(first.id, c3.token, BatchState::Failed, &late, "x"),
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(s.renew_lease(first.id, c3.token, 1), Err(StoreError::LeaseLost { .. })));
    let failed = BatchUpdate { error: Some("proving failed: x".into()), ..Default::default() };
    s.finish_claim(second.id, c2.token, BatchState::Failed, &failed, "proving failed").unwrap();
    assert_eq!(s.proofs_by_worker().unwrap(), vec![("prover-3".to_string(), 1)]);
    let history: Vec<String> = s.job("a").unwrap().unwrap().transitions.into_iter().map(|t| t.detail).collect();
    assert!(history.iter().any(|d| d.contains("lease of prover-1 expired; claimed by prover-3")), "{history:?}");
    // A batch sent back to proving (too old at submission) is claimed again with a new token.
    s.transition(
        first.id,
        BatchState::Proved,
        BatchState::Created,
        &BatchUpdate { clear_proof: true, ..Default::default() },
        "again",
    )
    .unwrap();
    let c4 = s.claim_batch("prover-1", &one, 60_000, u64::MAX).unwrap().unwrap();
    assert!(c4.token > c3.token);
}

/// A prover claims only batches of the models it serves; a client-proof batch sent back to
/// `created` is claimed and failed through the claim.
pub(super) fn claims_skip_unserved_models_and_client_proofs_fail_through_the_claim(f: &mut dyn Fixture) {
    let s = f.store();
    let mut other = job("m2", 1);
    other.model_id = "2".into();
    s.insert_job(&other).unwrap();
    s.create_batch(&NewBatch {
        model_id: "2".into(),
        job_ids: vec!["m2".into()],
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: 0,
        segments: 0,
        aggregation_mb: 0,
    })
    .unwrap();
    assert!(s.claim_batch("p", &models(&["1"]), 1_000, u64::MAX).unwrap().is_none());
    assert!(s.claim_batch("p", &[], 1_000, u64::MAX).unwrap().is_none());
    let c = s.claim_batch("p", &models(&["1", "2"]), 1_000, u64::MAX).unwrap().unwrap();
    assert_eq!(c.batch.model_id, "2");
    let u = BatchUpdate { error: Some("model 2 is no longer served".into()), ..Default::default() };
    let failed = s.finish_claim(c.batch.id, c.token, BatchState::Failed, &u, "failed").unwrap();
    assert_eq!(failed.state, Some(BatchState::Failed));
    assert_eq!(s.job("m2").unwrap().unwrap().job.state, JobState::Failed);
    assert!(s.proofs_by_worker().unwrap().is_empty(), "a failure is no proof");
}
