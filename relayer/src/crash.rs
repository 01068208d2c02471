//! TEST-ONLY deterministic crash points. When `ZKGUARD_RELAYER_CRASH_AT` names a point, the
//! process calls `abort()` there (no destructors, no flushing: as close to `kill -9` as a process
//! can do to itself). The crash-safety tests use it to stop the relayer at an exact step; nothing
//! else should ever set the variable.

/// The environment variable naming the crash point.
pub const CRASH_ENV: &str = "ZKGUARD_RELAYER_CRASH_AT";

/// While a batch is being proved (its state is `proving`): direct mode's proof, or batch mode's
/// aggregation.
pub const PROVING: &str = "proving";
/// Batch mode: while a segment is being proved (the segment is `proving`, its batch `created`).
pub const PROVING_SEGMENT: &str = "proving_segment";
/// Right after the relayer's own attestation of a batch was stored, before a transaction carries it.
pub const AFTER_ATTESTING: &str = "after_attesting";
/// Right after a transaction was signed and stored (`signed`), before it is broadcast.
pub const AFTER_SIGNING: &str = "after_signing";
/// Right after the node accepted a transaction, before the relayer recorded it as sent.
pub const AFTER_SEND: &str = "after_send";

/// TEST-ONLY: the point where the process sleeps `ZKGUARD_RELAYER_STALL_MS` (a slow proof, so a
/// test can freeze the process with SIGSTOP mid-proof).
pub const STALL_ENV: &str = "ZKGUARD_RELAYER_STALL_AT";
/// How long the stall lasts (ms).
pub const STALL_MS_ENV: &str = "ZKGUARD_RELAYER_STALL_MS";

/// Aborts the process if `ZKGUARD_RELAYER_CRASH_AT` equals `point`; sleeps there if
/// `ZKGUARD_RELAYER_STALL_AT` does.
pub fn point(point: &str) {
    if std::env::var(STALL_ENV).is_ok_and(|v| v == point) {
        let ms = std::env::var(STALL_MS_ENV).ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
        tracing::warn!(point, ms, "{STALL_ENV} is set: stalling here (test-only)");
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if std::env::var(CRASH_ENV).is_ok_and(|v| v == point) {
        tracing::error!(point, "{CRASH_ENV} is set: aborting the process here (test-only crash point)");
        eprintln!("zkguard-relayer: test-only crash point {point:?} reached ({CRASH_ENV}): abort()");
        std::process::abort();
    }
}
