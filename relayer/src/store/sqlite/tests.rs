//! The SQLite store's own tests (the behaviour both backends share is in
//! `store/contract_tests.rs`): migrating a database written by an older version.

use super::*;

fn count(s: &SqliteStore, state: JobState) -> u64 {
    s.job_counts().unwrap().into_iter().find(|(st, _)| *st == state).unwrap().1
}

/// The counts as a full scan sees them.
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
fn a_version_4_database_gains_the_lease_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        for (i, sql) in MIGRATIONS.iter().take(4).enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
            tx.commit().unwrap();
        }
        conn.execute(
            "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, created_ms, \
             updated_ms) VALUES ('1', 'created', 1, 0, '', '[]', 1, 0, 0)",
            [],
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), (LATEST, LATEST));
    let c = s.claim_batch("w", &["1".to_string()], 1_000, u64::MAX).unwrap().expect("the old batch is claimable");
    assert_eq!(c.token, LeaseToken(1));
}

#[test]
fn a_version_5_database_counts_its_proofs_per_worker() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        for (i, sql) in MIGRATIONS.iter().take(5).enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
            tx.commit().unwrap();
        }
        for nonce in 1..=3 {
            conn.execute(
                "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, created_ms, \
                 updated_ms, proved_by) VALUES ('1', 'confirmed', ?1, 0, '', '[]', 1, 0, 0, ?2)",
                params![nonce, if nonce == 3 { "w2" } else { "w1" }],
            )
            .unwrap();
        }
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.proofs_by_worker().unwrap(), vec![("w1".to_string(), 2), ("w2".to_string(), 1)]);
}

#[test]
fn a_version_6_batch_is_proved_whole_after_migration_7() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        for (i, sql) in MIGRATIONS.iter().take(6).enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64).unwrap();
            tx.commit().unwrap();
        }
        conn.execute(
            "INSERT INTO batches (model_id, state, nonce, issued_at, salt, subjects, sample_count, created_ms, \
             updated_ms) VALUES ('1', 'created', 1, 0, '', '[]', 1, 0, 0)",
            [],
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), (LATEST, LATEST));
    let b = s.batches_in(&[BatchState::Created]).unwrap().remove(0);
    assert_eq!((b.segments, b.aggregation_mb), (0, 0), "no segments recorded: the batch is proved whole");
    assert!(s.segments(b.id).unwrap().is_empty());
    assert!(s.claim_segment("w", &["1".to_string()], 1_000).unwrap().is_none());
    assert_eq!(s.claim_batch("w", &["1".to_string()], 1_000, 1).unwrap().unwrap().batch.id, b.id);
}
