//! The batching policy: queued jobs of a model become batches (one transaction each) of up to the
//! model's capacity: B samples in direct mode (one app proof), N * B in batch mode (N app proofs
//! aggregated into one). A batch is closed when it is full or when the next job does not fit, and
//! a partial batch is flushed once its oldest job waited `max_wait_ms` AND it holds at least the
//! model's minimum (1 in direct mode, N in batch mode: each of the N segments proves at least one
//! real sample). Below N samples a batch-mode batch keeps waiting for more requests, however long.
//! Jobs with an explicit salt are proved alone (the salt is the proof's); jobs with subjects and
//! jobs without are never mixed (the Guard takes one subject per sample or none).

use std::sync::Arc;
use std::time::Duration;

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use tokio::sync::{watch, Notify};

use crate::model::Models;
use crate::store::{now_ms, JobRecord, JobStore, NewBatch, StoreError};

/// Seconds subtracted from the wall clock for a batch's `issuedAt`, so that a node whose clock
/// (or latest block) lags a little does not refuse the proof as issued in the future.
pub const ISSUED_AT_MARGIN_S: u64 = 15;

/// Groups `jobs` (oldest first) into batches of job indices of at most `capacity` samples; `now`
/// and the jobs' `created_ms` decide whether a partial batch is due, and a due partial batch is
/// only flushed with at least `min_samples` samples (a batch closed because the next job does not
/// fit always has: jobs hold at most `capacity / min_samples` rows).
pub fn plan(jobs: &[JobRecord], capacity: usize, min_samples: usize, max_wait_ms: u64, now: i64) -> Vec<Vec<usize>> {
    let mut out = vec![];
    let due = |first: &JobRecord| now - first.created_ms >= max_wait_ms as i64;
    for (i, job) in jobs.iter().enumerate() {
        if job.salt.is_some() {
            out.push(vec![i]);
        }
    }
    for with_subjects in [false, true] {
        let mut open: Vec<usize> = vec![];
        let mut samples = 0;
        for (i, job) in jobs.iter().enumerate() {
            if job.salt.is_some() || job.subjects.is_empty() == with_subjects {
                continue;
            }
            let n = job.rows.len();
            if samples + n > capacity && samples >= min_samples {
                out.push(std::mem::take(&mut open));
                samples = 0;
            }
            open.push(i);
            samples += n;
            if samples >= capacity {
                out.push(std::mem::take(&mut open));
                samples = 0;
            }
        }
        if let Some(&first) = open.first() {
            if due(&jobs[first]) && samples >= min_samples {
                out.push(open);
            }
        }
    }
    out
}

/// Forms due batches for every model once; returns how many were created.
pub fn form_batches(store: &dyn JobStore, models: &Models, max_wait_ms: u64) -> Result<usize, StoreError> {
    let mut created = 0;
    for model in models.values() {
        let jobs = store.queued_jobs(&model.id)?;
        if jobs.is_empty() {
            continue;
        }
        for group in plan(&jobs, model.batch_capacity(), model.min_batch_samples(), max_wait_ms, now_ms()) {
            let members: Vec<&JobRecord> = group.iter().map(|&i| &jobs[i]).collect();
            let salt = members[0]
                .salt
                .clone()
                .unwrap_or_else(|| zkguard_prover::artifact::fr_to_hex(&Fr::random(rand::rngs::OsRng)));
            let subjects: Vec<String> = members.iter().flat_map(|j| j.subjects.iter().cloned()).collect();
            let now = now_ms();
            let batch = store.create_batch(&NewBatch {
                model_id: model.id.clone(),
                job_ids: members.iter().map(|j| j.id.clone()).collect(),
                salt,
                issued_at: (now / 1000) as u64 - ISSUED_AT_MARGIN_S,
                subjects,
                nonce_floor: now as u64,
                segments: model.aggregation.as_ref().map_or(0, |a| a.shape.proofs),
                aggregation_mb: crate::worker::aggregation_mb(model),
            })?;
            tracing::info!(batch = batch.id, model = %model.id, jobs = members.len(), samples = batch.sample_count,
                nonce = batch.nonce, "batch formed");
            created += 1;
        }
    }
    Ok(created)
}

/// Runs the batcher until shutdown: wakes on new jobs and on a tick.
pub async fn run(
    store: Arc<dyn JobStore>,
    models: Models,
    max_wait_ms: u64,
    new_job: Arc<Notify>,
    new_batch: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let tick = Duration::from_millis((max_wait_ms / 4).clamp(20, 250));
    loop {
        // On the blocking pool: the store is synchronous and must not stall the async runtime.
        let (s, m) = (store.clone(), models.clone());
        match tokio::task::spawn_blocking(move || form_batches(s.as_ref(), &m, max_wait_ms)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(_)) => new_batch.notify_one(),
            Ok(Err(e)) => tracing::error!(error = %e, "batcher: store error"),
            Err(e) => tracing::error!(error = %e, "batcher: the batching step panicked"),
        }
        tokio::select! {
            _ = new_job.notified() => {}
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::JobState;

    fn job(rows: usize, created_ms: i64, salt: bool, subjects: bool) -> JobRecord {
        JobRecord {
            id: format!("j{created_ms}"),
            model_id: "1".into(),
            state: JobState::Queued,
            rows: vec![vec![0.0]; rows],
            salt: salt.then(|| "0x01".into()),
            subjects: if subjects { vec!["0x00".into(); rows] } else { vec![] },
            batch_id: None,
            offset: None,
            created_ms,
            updated_ms: created_ms,
            error: None,
        }
    }

    #[test]
    fn fills_batches_and_waits_for_partial_ones() {
        let jobs = vec![job(2, 0, false, false), job(2, 1, false, false), job(3, 2, false, false)];
        // B = 4: the first two fill a batch; the third waits until it is due.
        assert_eq!(plan(&jobs, 4, 1, 100, 50), vec![vec![0, 1]]);
        assert_eq!(plan(&jobs, 4, 1, 100, 102), vec![vec![0, 1], vec![2]]);
        // B = 3: 2 + 2 does not fit, so the first closes alone.
        assert_eq!(plan(&jobs, 3, 1, 100, 0), vec![vec![0], vec![1], vec![2]]);
    }

    #[test]
    fn batch_mode_fills_n_times_b_and_never_flushes_below_n() {
        // N = 2, B = 4: capacity 8, at least 2 samples.
        let one = vec![job(1, 0, false, false)];
        assert!(plan(&one, 8, 2, 100, 1_000_000).is_empty(), "a single sample waits for a second one");
        let two = vec![job(1, 0, false, false), job(1, 1, false, false)];
        assert!(plan(&two, 8, 2, 100, 50).is_empty(), "not due yet");
        assert_eq!(plan(&two, 8, 2, 100, 100), vec![vec![0, 1]]);
        let full = vec![job(4, 0, false, false), job(4, 1, false, false), job(3, 2, false, false)];
        assert_eq!(plan(&full, 8, 2, 100, 10), vec![vec![0, 1]], "full at N * B; the rest waits");
        assert_eq!(plan(&full, 8, 2, 100, 200), vec![vec![0, 1], vec![2]]);
        // 3 + 4 = 7 then 4 more does not fit: closes at 7 (>= N).
        let over = vec![job(3, 0, false, false), job(4, 1, false, false), job(4, 2, false, false)];
        assert_eq!(plan(&over, 8, 2, 100, 10), vec![vec![0, 1]]);
        // N = 4, B = 1: four one-row jobs make one batch, three never flush.
        let three: Vec<_> = (0..3).map(|i| job(1, i, false, false)).collect();
        assert!(plan(&three, 4, 4, 0, 1_000_000).is_empty());
        let four: Vec<_> = (0..4).map(|i| job(1, i, false, false)).collect();
        assert_eq!(plan(&four, 4, 4, 1_000_000, 0), vec![vec![0, 1, 2, 3]]);
        // Subjects still never mix: one of each kind is below N for both.
        let mixed = vec![job(1, 0, false, false), job(1, 1, false, true)];
        assert!(plan(&mixed, 8, 2, 0, 10).is_empty());
    }

    #[test]
    fn salted_jobs_go_alone_and_subjects_are_not_mixed() {
        let jobs =
            vec![job(1, 0, false, false), job(1, 1, true, false), job(1, 2, false, true), job(1, 3, false, false)];
        assert_eq!(plan(&jobs, 8, 1, 0, 10), vec![vec![1], vec![0, 3], vec![2]]);
    }
}
