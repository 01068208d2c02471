//! The store's contract for batch mode's segment jobs and aggregation job (run on both backends
//! by `contract!` in the parent module).

use super::*;

const AGGREGATION_MB: u64 = 7_168;

/// A batch of `ids` in batch mode: `n` segments, an aggregation of [`AGGREGATION_MB`].
fn segmented(s: &dyn JobStore, ids: &[&str], n: usize) -> BatchRecord {
    s.create_batch(&NewBatch {
        model_id: "1".into(),
        job_ids: ids.iter().map(|s| s.to_string()).collect(),
        salt: "0x01".into(),
        issued_at: 5,
        subjects: vec![],
        nonce_floor: 0,
        segments: n,
        aggregation_mb: AGGREGATION_MB,
    })
    .unwrap()
}

fn proof(tag: &str) -> SegmentProof {
    SegmentProof {
        instances: vec![format!("0x{tag}1"), format!("0x{tag}2")],
        proof: format!("0x{tag}{tag}"),
        decisions: vec![true, false],
        scores: vec!["1.5".into(), "-2".into()],
        prove_ms: 42,
    }
}

fn one() -> Vec<String> {
    vec!["1".to_string()]
}

/// N segments are claimed independently (one lease each, oldest first), their proofs stored; the
/// aggregation is not claimable until all N are proved, then only with a budget that covers it;
/// its result makes the batch proved.
pub(super) fn segments_are_claimed_apart_and_the_aggregation_waits_for_all_of_them(f: &mut dyn Fixture) {
    let s = f.store();
    s.insert_job(&job("a", 3)).unwrap();
    s.insert_job(&job("b", 2)).unwrap();
    let b = segmented(s, &["a", "b"], 2);
    assert_eq!((b.segments, b.aggregation_mb, b.state), (2, AGGREGATION_MB, Some(BatchState::Created)));
    let listed = s.segments(b.id).unwrap();
    assert_eq!(
        listed.iter().map(|x| (x.index, x.state)).collect::<Vec<_>>(),
        [(0, SegmentState::Created), (1, SegmentState::Created)]
    );
    assert!(s.claim_batch("big", &one(), 60_000, u64::MAX).unwrap().is_none(), "no segment is proved yet");
    let c0 = s.claim_segment("p1", &one(), 60_000).unwrap().expect("segment 0");
    let c1 = s.claim_segment("p2", &one(), 60_000).unwrap().expect("segment 1");
    assert_eq!((c0.batch.id, c0.index, c1.index, c0.took_over_from.as_deref()), (b.id, 0, 1, None));
    assert!(s.claim_segment("p3", &one(), 60_000).unwrap().is_none(), "both segments are leased");
    assert!(s.claim_segment("p3", &models(&["2"]), 60_000).unwrap().is_none(), "another model's prover");
    s.renew_segment_lease(b.id, 0, c0.token, 60_000).unwrap();
    s.finish_segment(b.id, 0, c0.token, &proof("a")).unwrap();
    assert!(s.claim_batch("big", &one(), 60_000, u64::MAX).unwrap().is_none(), "1 of 2 segments proved");
    let stored = s.finish_segment(b.id, 1, c1.token, &proof("b")).unwrap();
    assert_eq!((stored.state, stored.proved_by.as_deref()), (SegmentState::Proved, Some("p2")));
    assert_eq!(s.batch(b.id).unwrap().unwrap().state, Some(BatchState::Created), "segments never move the batch");

    assert!(
        s.claim_batch("small", &one(), 60_000, AGGREGATION_MB - 1).unwrap().is_none(),
        "a budget below the aggregation's estimate never claims it"
    );
    let agg = s.claim_batch("big", &one(), 60_000, AGGREGATION_MB).unwrap().expect("the aggregation");
    assert_eq!((agg.batch.id, agg.batch.state, agg.batch.segments), (b.id, Some(BatchState::Proving), 2));
    assert!(s.claim_segment("p3", &one(), 60_000).unwrap().is_none(), "nothing left to prove");
    let segments = s.segments(b.id).unwrap();
    assert_eq!(segments.iter().map(|x| x.proof.clone().unwrap()).collect::<Vec<_>>(), [proof("a"), proof("b")]);
    assert_eq!(segments.iter().map(|x| x.proved_by.as_deref()).collect::<Vec<_>>(), [Some("p1"), Some("p2")]);
    let u = BatchUpdate { proof: Some("0xagg".into()), ..Default::default() };
    let done = s.finish_claim(b.id, agg.token, BatchState::Proved, &u, "aggregated").unwrap();
    assert_eq!((done.state, done.proved_by.as_deref()), (Some(BatchState::Proved), Some("big")));
    assert_eq!(s.job("a").unwrap().unwrap().job.state, JobState::Proved);
    let by_worker = s.proofs_by_worker().unwrap();
    assert_eq!(by_worker, [("big".to_string(), 1), ("p1".to_string(), 1), ("p2".to_string(), 1)]);
    let history: Vec<String> = s.job("a").unwrap().unwrap().transitions.into_iter().map(|t| t.detail).collect();
    assert!(history.iter().any(|d| d == "segment 1: proof stored by p2"), "{history:?}");
    // A direct-mode batch beside it is claimable by any budget.
    s.insert_job(&job("d", 1)).unwrap();
    let direct = batch_of(s, &["d"]);
    assert_eq!(s.claim_batch("small", &one(), 60_000, 1).unwrap().unwrap().batch.id, direct.id);
}

/// A segment whose lease expired is taken over with a higher token: the first prover's renewal
/// and late result are refused and change nothing. An aggregation's stale result is refused the
/// same way. A dissolved batch refuses its segments' results.
pub(super) fn stale_segment_and_aggregation_results_are_refused(f: &mut dyn Fixture) {
    let s = f.store();
    s.insert_job(&job("a", 2)).unwrap();
    let b = segmented(s, &["a"], 2);
    let first = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    f.sql(&format!("UPDATE segments SET lease_until_ms = 1 WHERE batch_id = {} AND idx = 0", b.id));
    let s = f.store();
    let thief = s.claim_segment("p2", &one(), 60_000).unwrap().expect("the expired segment");
    assert_eq!((thief.index, thief.took_over_from.as_deref()), (0, Some("p1")));
    assert!(thief.token > first.token);
    let lost = |r: Result<(), StoreError>| matches!(r, Err(StoreError::SegmentLeaseLost { segment: 0, .. }));
    assert!(lost(s.renew_segment_lease(b.id, 0, first.token, 60_000)));
    assert!(lost(s.finish_segment(b.id, 0, first.token, &proof("late")).map(|_| ())));
    assert!(lost(s.fail_segment(b.id, 0, first.token, "late").map(|_| ())));
    let segs = s.segments(b.id).unwrap();
    let seg = &segs[0];
    assert_eq!((seg.state, seg.proof.as_ref(), seg.lease_owner.as_deref()), (SegmentState::Proving, None, Some("p2")));
    assert_eq!(s.batch(b.id).unwrap().unwrap().state, Some(BatchState::Created), "the late failure changed nothing");
    s.finish_segment(b.id, 0, thief.token, &proof("a")).unwrap();
    assert!(lost(s.finish_segment(b.id, 0, thief.token, &proof("again")).map(|_| ())), "finished once");
    assert_eq!(s.segments(b.id).unwrap()[0].proof, Some(proof("a")));
    let c1 = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    s.finish_segment(b.id, 1, c1.token, &proof("b")).unwrap();

    // The aggregation: p-big's lease expires, p-big-2 takes it; p-big's late result is refused.
    let agg = s.claim_batch("p-big", &one(), 60_000, u64::MAX).unwrap().unwrap();
    f.sql(&format!("UPDATE batches SET lease_until_ms = 1 WHERE id = {}", b.id));
    let s = f.store();
    let agg2 = s.claim_batch("p-big-2", &one(), 60_000, u64::MAX).unwrap().expect("the expired aggregation");
    assert_eq!(agg2.took_over_from.as_deref(), Some("p-big"));
    let late = BatchUpdate { proof: Some("0xdead".into()), ..Default::default() };
    assert!(matches!(
        s.finish_claim(b.id, agg.token, BatchState::Proved, &late, "late"),
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(s.batch(b.id).unwrap().unwrap().proof, None);

    // A batch dissolved (a refused row) while a segment is being proved refuses its result.
    s.insert_job(&job("x", 1)).unwrap();
    s.insert_job(&job("y", 1)).unwrap();
    let d = segmented(s, &["x", "y"], 2);
    let live = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    assert_eq!(live.batch.id, d.id);
    let refused = [RefusedJob { job_id: "y".into(), reason: "refused: overflow".into() }];
    s.evict(d.id, BatchState::Created, &refused).unwrap();
    assert!(matches!(
        s.finish_segment(d.id, live.index, live.token, &proof("x")),
        Err(StoreError::SegmentLeaseLost { .. })
    ));
    assert!(s.claim_segment("p1", &one(), 60_000).unwrap().is_none(), "a failed batch's segments are not claimable");
}

/// Stored segment proofs survive a restart; the leases of a process that stopped are released
/// (`all` role); a failed segment fails its batch; a batch sent back to be proved again with a
/// new context gets its segments back to `created`, without their proofs.
pub(super) fn segment_proofs_survive_a_restart_and_a_new_context_clears_them(f: &mut dyn Fixture) {
    let s = f.store();
    s.insert_job(&job("a", 2)).unwrap();
    let b = segmented(s, &["a"], 2);
    let c0 = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    s.finish_segment(b.id, 0, c0.token, &proof("a")).unwrap();
    let c1 = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    f.reopen();
    let s = f.store();
    assert_eq!(s.segments(b.id).unwrap()[0].proof, Some(proof("a")), "the stored proof survived");
    assert_eq!(s.batch(b.id).unwrap().unwrap().segments, 2);
    assert!(s.claim_segment("p2", &one(), 60_000).unwrap().is_none(), "segment 1 is still leased");
    assert_eq!(s.release_segment_leases().unwrap(), 1);
    let again = s.claim_segment("p2", &one(), 60_000).unwrap().expect("released");
    assert_eq!(again.index, 1);
    assert!(again.token > c1.token);
    s.finish_segment(b.id, 1, again.token, &proof("b")).unwrap();
    let agg = s.claim_batch("big", &one(), 60_000, u64::MAX).unwrap().unwrap();
    s.finish_claim(b.id, agg.token, BatchState::Proved, &BatchUpdate::default(), "aggregated").unwrap();
    // Too old at submission: proved again with a new issue time, so with new segment proofs.
    let retime = BatchUpdate { issued_at: Some(99), clear_proof: true, ..Default::default() };
    s.transition(b.id, BatchState::Proved, BatchState::Created, &retime, "too old").unwrap();
    let reset = s.segments(b.id).unwrap();
    assert!(reset.iter().all(|x| x.state == SegmentState::Created && x.proof.is_none()), "{reset:?}");
    assert!(s.claim_batch("big", &one(), 60_000, u64::MAX).unwrap().is_none(), "its segments are proved again first");
    assert!(matches!(s.finish_segment(b.id, 1, again.token, &proof("old")), Err(StoreError::SegmentLeaseLost { .. })));

    // A batch-wide failure of a segment fails the batch and its jobs.
    let c = s.claim_segment("p1", &one(), 60_000).unwrap().unwrap();
    let failed = s.fail_segment(b.id, c.index, c.token, "the prover ran out of memory").unwrap();
    assert_eq!(failed.state, Some(BatchState::Failed));
    assert_eq!(failed.error.as_deref(), Some("proving failed: segment 0: the prover ran out of memory"));
    assert_eq!(s.job("a").unwrap().unwrap().job.state, JobState::Failed);
    assert!(s.claim_segment("p1", &one(), 60_000).unwrap().is_none());
    // Retention deletes a finished batch's segments with it.
    assert_eq!(s.prune_finished(i64::MAX, 100).unwrap().batches, 1);
    assert!(s.segments(b.id).unwrap().is_empty());
}
