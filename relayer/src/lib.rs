//! zkguard-relayer: the long-running service that takes inference requests over HTTP, batches
//! them into app proofs, proves them on a bounded pool with `zkguard-prover`, submits them to the
//! Guard with alloy and follows them to confirmation, with every job and transition in SQLite so
//! that a crash loses nothing and submits nothing twice (see `README.md` in this crate).
//!
//! - [`config`]: the TOML config and its environment overrides; [`secret`]: redacted secrets.
//! - [`store`]: the [`store::JobStore`] trait, the SQLite implementation and the state machine.
//! - [`intake`]: the HTTP API (axum), auth and validation; [`client`]: its client.
//! - [`batcher`]: the batching policy; [`worker`]: the proving pool (claims, leases, memory
//!   budget); [`proving`]: the proofs it makes (direct, segments, aggregation); [`model`]: served
//!   models.
//! - [`chain`]: the Guard ABI, revert decoding, the start-up registration check, RPC retries, the
//!   signer and the submitter.
//! - [`metrics`]: Prometheus text; [`service`]: wiring and recovery; [`cli`]: the commands.
//! - [`crash`]: TEST-ONLY crash points for the crash-safety tests.

pub mod batcher;
pub mod chain;
pub mod cli;
pub mod client;
pub mod config;
pub mod crash;
pub mod intake;
pub mod metrics;
pub mod model;
pub mod proving;
pub mod secret;
pub mod service;
pub mod store;
pub mod worker;
