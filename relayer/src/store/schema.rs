//! The SQLite schema, as numbered migrations applied in order inside one transaction each and
//! tracked with `PRAGMA user_version`. PostgreSQL's (`postgres/schema.rs`) keeps the same version
//! numbers; a drift test checks both know the same newest version.

/// Migrations; index + 1 is the schema version a migration brings the database to.
pub const MIGRATIONS: &[&str] = &[
    // 1: jobs, batches, transactions, transitions, per-model nonce counters.
    r#"
    CREATE TABLE batches (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        model_id      TEXT    NOT NULL,
        state         TEXT    NOT NULL,
        nonce         INTEGER NOT NULL,
        issued_at     INTEGER NOT NULL,
        salt          TEXT    NOT NULL,
        subjects      TEXT    NOT NULL,
        sample_count  INTEGER NOT NULL,
        instances     TEXT,
        proof         TEXT,
        decisions     TEXT,
        scores        TEXT,
        tx_hash       TEXT,
        block_number  INTEGER,
        gas_used      INTEGER,
        prove_ms      INTEGER,
        error         TEXT,
        created_ms    INTEGER NOT NULL,
        updated_ms    INTEGER NOT NULL
    );
    CREATE INDEX batches_state ON batches(state, id);
    CREATE UNIQUE INDEX batches_model_nonce ON batches(model_id, nonce);

    CREATE TABLE jobs (
        id          TEXT    PRIMARY KEY,
        model_id    TEXT    NOT NULL,
        body_hash   TEXT    NOT NULL,
        state       TEXT    NOT NULL,
        rows        TEXT    NOT NULL,
        salt        TEXT,
        subjects    TEXT    NOT NULL,
        batch_id    INTEGER REFERENCES batches(id),
        sample_offset INTEGER,
        error       TEXT,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL
    );
    CREATE INDEX jobs_queue ON jobs(model_id, state, created_ms);
    CREATE INDEX jobs_batch ON jobs(batch_id);

    CREATE TABLE tx_attempts (
        tx_hash       TEXT    PRIMARY KEY,
        batch_id      INTEGER NOT NULL REFERENCES batches(id),
        guard_nonce   INTEGER NOT NULL,
        account_nonce INTEGER NOT NULL,
        max_fee       TEXT    NOT NULL,
        priority_fee  TEXT    NOT NULL,
        gas_limit     INTEGER NOT NULL,
        raw           TEXT    NOT NULL,
        created_ms    INTEGER NOT NULL
    );
    CREATE INDEX tx_attempts_batch ON tx_attempts(batch_id);

    CREATE TABLE transitions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        entity      TEXT    NOT NULL,
        entity_id   TEXT    NOT NULL,
        from_state  TEXT,
        to_state    TEXT    NOT NULL,
        detail      TEXT    NOT NULL,
        at_ms       INTEGER NOT NULL
    );
    CREATE INDEX transitions_entity ON transitions(entity, entity_id, id);

    CREATE TABLE model_nonces (
        model_id    TEXT    PRIMARY KEY,
        next_nonce  INTEGER NOT NULL
    );
    "#,
    // 2: batches that carry a client's ready proof (`POST /v1/proofs`) instead of one the relayer
    // made: never proved again (a too old proof or a taken nonce fails the batch instead).
    r#"
    ALTER TABLE batches ADD COLUMN client_proof INTEGER NOT NULL DEFAULT 0;
    "#,
    // 3: counters kept by triggers (so `/health` and `/metrics` never scan the jobs): jobs per
    // state (a gauge of the stored jobs: pruning removes finished ones) and the gas of finished
    // batches (a counter: pruning never lowers it); `batches.carried_by`, the sender of the
    // transaction that carried a batch when it was not the relayer's (a copy of its calldata);
    // an index for the retention sweep.
    r#"
    CREATE TABLE job_counts (
        state  TEXT    PRIMARY KEY,
        count  INTEGER NOT NULL
    );
    INSERT INTO job_counts (state, count) SELECT state, COUNT(*) FROM jobs GROUP BY state;
    CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
        INSERT INTO job_counts (state, count) VALUES (new.state, 1)
            ON CONFLICT(state) DO UPDATE SET count = count + 1;
    END;
    CREATE TRIGGER job_counts_update AFTER UPDATE OF state ON jobs WHEN old.state <> new.state BEGIN
        UPDATE job_counts SET count = count - 1 WHERE state = old.state;
        INSERT INTO job_counts (state, count) VALUES (new.state, 1)
            ON CONFLICT(state) DO UPDATE SET count = count + 1;
    END;
    CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
        UPDATE job_counts SET count = count - 1 WHERE state = old.state;
    END;

    CREATE TABLE counters (
        name   TEXT    PRIMARY KEY,
        value  INTEGER NOT NULL
    );
    INSERT INTO counters (name, value)
        SELECT 'gas_spent', COALESCE(SUM(gas_used), 0) FROM batches WHERE state IN ('confirmed', 'failed');
    CREATE TRIGGER gas_spent_insert AFTER INSERT ON batches
        WHEN new.state IN ('confirmed', 'failed') AND new.gas_used IS NOT NULL BEGIN
        UPDATE counters SET value = value + new.gas_used WHERE name = 'gas_spent';
    END;
    CREATE TRIGGER gas_spent_update AFTER UPDATE OF state, gas_used ON batches BEGIN
        UPDATE counters SET value = value
            + CASE WHEN new.state IN ('confirmed', 'failed') THEN COALESCE(new.gas_used, 0) ELSE 0 END
            - CASE WHEN old.state IN ('confirmed', 'failed') THEN COALESCE(old.gas_used, 0) ELSE 0 END
            WHERE name = 'gas_spent';
    END;

    ALTER TABLE batches ADD COLUMN carried_by TEXT;
    CREATE INDEX jobs_finished ON jobs(state, updated_ms);
    "#,
    // 4: input attestations. A client-attested job carries the data provider's signatures and the
    // nonce and issue time they sign; its batch takes them (`fixed_context`: never re-nonced or
    // re-timed). A batch's attestations are stored before its transaction is signed, so a restart
    // resubmits the same ones.
    r#"
    CREATE TABLE job_attestations (
        job_id        TEXT    PRIMARY KEY REFERENCES jobs(id),
        nonce         INTEGER NOT NULL,
        issued_at     INTEGER NOT NULL,
        attestations  TEXT    NOT NULL
    );
    CREATE TABLE batch_attestations (
        batch_id      INTEGER PRIMARY KEY REFERENCES batches(id),
        attestations  TEXT    NOT NULL,
        fixed_context INTEGER NOT NULL
    );
    CREATE TRIGGER job_attestations_pruned AFTER DELETE ON jobs BEGIN
        DELETE FROM job_attestations WHERE job_id = old.id;
    END;
    CREATE TRIGGER batch_attestations_pruned AFTER DELETE ON batches BEGIN
        DELETE FROM batch_attestations WHERE batch_id = old.id;
    END;
    "#,
    // 5: the fleet's leases. A prover claims a batch (`lease_owner` until `lease_until_ms`) with a
    // fencing token (`lease_token`, +1 per claim) its result must still hold; `proved_by` names
    // the worker whose proof was stored. One active submitter per signing account holds a row of
    // `submitter_leases`.
    r#"
    ALTER TABLE batches ADD COLUMN lease_owner TEXT;
    ALTER TABLE batches ADD COLUMN lease_until_ms INTEGER;
    ALTER TABLE batches ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN proved_by TEXT;
    CREATE TABLE submitter_leases (
        account   TEXT    PRIMARY KEY,
        holder    TEXT    NOT NULL,
        until_ms  INTEGER NOT NULL,
        token     INTEGER NOT NULL
    );
    "#,
    // 6: proofs per worker, a counter kept as claims finish (pruning never lowers it), so
    // `/metrics` reads it without a scan.
    r#"
    CREATE TABLE worker_proofs (
        worker    TEXT    PRIMARY KEY,
        proofs    INTEGER NOT NULL
    );
    INSERT INTO worker_proofs (worker, proofs)
        SELECT proved_by, COUNT(*) FROM batches WHERE proved_by IS NOT NULL GROUP BY proved_by;
    "#,
    // 7: batch mode as separate jobs. A batch-mode batch records its number of segments (N; 0: the
    // batch is proved whole, direct mode) and its aggregation's estimated peak memory; each segment
    // (one app proof over its slice of the batch's rows) is a row of `segments`, claimed with its
    // own lease and fencing token, its proof stored there. The aggregation is the batch's own
    // claim, possible once every segment is proved and only for a prover whose budget covers it.
    r#"
    ALTER TABLE batches ADD COLUMN segments INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN aggregation_mb INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE segments (
        batch_id        INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        idx             INTEGER NOT NULL,
        state           TEXT    NOT NULL,
        lease_owner     TEXT,
        lease_until_ms  INTEGER,
        lease_token     INTEGER NOT NULL DEFAULT 0,
        instances       TEXT,
        proof           TEXT,
        decisions       TEXT,
        scores          TEXT,
        proved_by       TEXT,
        prove_ms        INTEGER,
        updated_ms      INTEGER NOT NULL,
        PRIMARY KEY (batch_id, idx)
    );
    CREATE INDEX segments_state ON segments(state, batch_id, idx);
    "#,
];

/// The newest schema version this binary knows (both backends).
pub const LATEST: i64 = MIGRATIONS.len() as i64;
