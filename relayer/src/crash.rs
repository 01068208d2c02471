//! TEST-ONLY deterministic crash points. When `ZKGUARD_RELAYER_CRASH_AT` names a point, the
//! process calls `abort()` there (no destructors, no flushing: as close to `kill -9` as a process
//! can do to itself). The crash-safety tests use it to stop the relayer at an exact step; nothing
//! else should ever set the variable.

/// The environment variable naming the crash point.
pub const CRASH_ENV: &str = "ZKGUARD_RELAYER_CRASH_AT";

/// While a batch is being proved (its state is `proving`).
pub const PROVING: &str = "proving";
/// Right after the relayer's own attestation of a batch was stored, before a transaction carries it.
pub const AFTER_ATTESTING: &str = "after_attesting";
/// Right after a transaction was signed and stored (`signed`), before it is broadcast.
pub const AFTER_SIGNING: &str = "after_signing";
/// Right after the node accepted a transaction, before the relayer recorded it as sent.
pub const AFTER_SEND: &str = "after_send";

/// Aborts the process if `ZKGUARD_RELAYER_CRASH_AT` equals `point`.
pub fn point(point: &str) {
    if std::env::var(CRASH_ENV).is_ok_and(|v| v == point) {
        tracing::error!(point, "{CRASH_ENV} is set: aborting the process here (test-only crash point)");
        eprintln!("zkguard-relayer: test-only crash point {point:?} reached ({CRASH_ENV}): abort()");
        std::process::abort();
    }
}
