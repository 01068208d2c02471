//! zkguard-relayer: the long-running service that takes inference requests, proves and batches
//! them with `zkguard-prover`, submits them to the Guard with alloy, and follows them to
//! confirmation (see `../shared/DESIGN.md`).
//!
//! Status: the crate is a placeholder in the workspace; the service is built under its own issue
//! (intake, batching, proving workers, submission, SQLite persistence). Nothing here is used yet.
