//! The SQLite schema, as numbered migrations applied in order inside one transaction each and
//! tracked with `PRAGMA user_version`.

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
    // 3: input attestations. A client-attested job carries the data provider's signatures and the
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
    "#,
];
