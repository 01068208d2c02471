//! The PostgreSQL schema as versioned migrations, numbered like SQLite's (`store::schema`): a new
//! database starts at version 4 (SQLite's migrations 1-4 in one step), and each later version
//! changes both backends. The version is kept in `zkguard_schema`.

/// `(version, sql)` in order; the last version equals [`crate::store::schema::LATEST`].
pub const MIGRATIONS: &[(i64, &str)] = &[
    // 1-4: jobs, batches, transactions, transitions, per-model nonces, client proofs, counters
    // kept by triggers, attestations (see the SQLite migrations of the same numbers).
    (
        4,
        r#"
    CREATE TABLE batches (
        id            BIGSERIAL PRIMARY KEY,
        model_id      TEXT    NOT NULL,
        state         TEXT    NOT NULL,
        nonce         BIGINT  NOT NULL,
        issued_at     BIGINT  NOT NULL,
        salt          TEXT    NOT NULL,
        subjects      TEXT    NOT NULL,
        sample_count  BIGINT  NOT NULL,
        instances     TEXT,
        proof         TEXT,
        decisions     TEXT,
        scores        TEXT,
        tx_hash       TEXT,
        block_number  BIGINT,
        gas_used      BIGINT,
        prove_ms      BIGINT,
        error         TEXT,
        created_ms    BIGINT  NOT NULL,
        updated_ms    BIGINT  NOT NULL,
        client_proof  BOOLEAN NOT NULL DEFAULT FALSE,
        carried_by    TEXT
    );
    CREATE INDEX batches_state ON batches(state, id);
    CREATE UNIQUE INDEX batches_model_nonce ON batches(model_id, nonce);

    CREATE TABLE jobs (
        id            TEXT    PRIMARY KEY,
        model_id      TEXT    NOT NULL,
        body_hash     TEXT    NOT NULL,
        state         TEXT    NOT NULL,
        rows          TEXT    NOT NULL,
        salt          TEXT,
        subjects      TEXT    NOT NULL,
        batch_id      BIGINT  REFERENCES batches(id),
        sample_offset BIGINT,
        error         TEXT,
        created_ms    BIGINT  NOT NULL,
        updated_ms    BIGINT  NOT NULL
    );
    CREATE INDEX jobs_queue ON jobs(model_id, state, created_ms);
    CREATE INDEX jobs_batch ON jobs(batch_id);
    CREATE INDEX jobs_finished ON jobs(state, updated_ms);

    CREATE TABLE tx_attempts (
        seq           BIGSERIAL,
        tx_hash       TEXT    PRIMARY KEY,
        batch_id      BIGINT  NOT NULL REFERENCES batches(id),
        guard_nonce   BIGINT  NOT NULL,
        account_nonce BIGINT  NOT NULL,
        max_fee       TEXT    NOT NULL,
        priority_fee  TEXT    NOT NULL,
        gas_limit     BIGINT  NOT NULL,
        raw           TEXT    NOT NULL,
        created_ms    BIGINT  NOT NULL
    );
    CREATE INDEX tx_attempts_batch ON tx_attempts(batch_id);

    CREATE TABLE transitions (
        id          BIGSERIAL PRIMARY KEY,
        entity      TEXT    NOT NULL,
        entity_id   TEXT    NOT NULL,
        from_state  TEXT,
        to_state    TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        at_ms       BIGINT  NOT NULL
    );
    CREATE INDEX transitions_entity ON transitions(entity, entity_id, id);

    CREATE TABLE model_nonces (
        model_id    TEXT    PRIMARY KEY,
        next_nonce  BIGINT  NOT NULL
    );

    CREATE TABLE job_counts (
        state  TEXT    PRIMARY KEY,
        count  BIGINT  NOT NULL
    );
    CREATE FUNCTION zkguard_job_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE job_counts SET count = count - 1 WHERE state = OLD.state;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO job_counts (state, count) VALUES (NEW.state, 1)
                ON CONFLICT (state) DO UPDATE SET count = job_counts.count + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER job_counts_insert_delete AFTER INSERT OR DELETE ON jobs
        FOR EACH ROW EXECUTE FUNCTION zkguard_job_counts();
    CREATE TRIGGER job_counts_update AFTER UPDATE OF state ON jobs
        FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION zkguard_job_counts();

    CREATE TABLE counters (
        name   TEXT    PRIMARY KEY,
        value  BIGINT  NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('gas_spent', 0);
    CREATE FUNCTION zkguard_gas_spent() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE counters SET value = value
            + CASE WHEN NEW.state IN ('confirmed', 'failed') THEN COALESCE(NEW.gas_used, 0) ELSE 0 END
            - CASE WHEN TG_OP = 'UPDATE' AND OLD.state IN ('confirmed', 'failed') THEN COALESCE(OLD.gas_used, 0) ELSE 0 END
            WHERE name = 'gas_spent';
        RETURN NULL;
    END $$;
    CREATE TRIGGER gas_spent AFTER INSERT OR UPDATE OF state, gas_used ON batches
        FOR EACH ROW EXECUTE FUNCTION zkguard_gas_spent();

    CREATE TABLE job_attestations (
        job_id        TEXT    PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
        nonce         BIGINT  NOT NULL,
        issued_at     BIGINT  NOT NULL,
        attestations  TEXT    NOT NULL
    );
    CREATE TABLE batch_attestations (
        batch_id      BIGINT  PRIMARY KEY REFERENCES batches(id) ON DELETE CASCADE,
        attestations  TEXT    NOT NULL,
        fixed_context BOOLEAN NOT NULL
    );
    "#,
    ),
    // 5: the fleet's leases (see the SQLite migration 5).
    (
        5,
        r#"
    ALTER TABLE batches ADD COLUMN lease_owner TEXT;
    ALTER TABLE batches ADD COLUMN lease_until_ms BIGINT;
    ALTER TABLE batches ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN proved_by TEXT;
    CREATE TABLE submitter_leases (
        account   TEXT    PRIMARY KEY,
        holder    TEXT    NOT NULL,
        until_ms  BIGINT  NOT NULL,
        token     BIGINT  NOT NULL
    );
    "#,
    ),
    // 6: proofs per worker (see the SQLite migration 6).
    (
        6,
        r#"
    CREATE TABLE worker_proofs (
        worker    TEXT    PRIMARY KEY,
        proofs    BIGINT  NOT NULL
    );
    INSERT INTO worker_proofs (worker, proofs)
        SELECT proved_by, COUNT(*) FROM batches WHERE proved_by IS NOT NULL GROUP BY proved_by;
    "#,
    ),
    // 7: segment jobs and the aggregation's memory (see the SQLite migration 7).
    (
        7,
        r#"
    ALTER TABLE batches ADD COLUMN segments BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN aggregation_mb BIGINT NOT NULL DEFAULT 0;
    CREATE TABLE segments (
        batch_id        BIGINT  NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        idx             BIGINT  NOT NULL,
        state           TEXT    NOT NULL,
        lease_owner     TEXT,
        lease_until_ms  BIGINT,
        lease_token     BIGINT  NOT NULL DEFAULT 0,
        instances       TEXT,
        proof           TEXT,
        decisions       TEXT,
        scores          TEXT,
        proved_by       TEXT,
        prove_ms        BIGINT,
        updated_ms      BIGINT  NOT NULL,
        PRIMARY KEY (batch_id, idx)
    );
    CREATE INDEX segments_state ON segments(state, batch_id, idx);
    "#,
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_know_the_same_newest_version() {
        assert_eq!(super::MIGRATIONS.last().map(|m| m.0), Some(crate::store::schema::LATEST));
        assert!(super::MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0), "versions increase");
    }
}
