//! HTTP intake: the axum router ([`api`]), bearer-token auth ([`auth`]), request validation
//! ([`validate`]), the ready-proof intake ([`proofs`]) and the JSON error type ([`error`]).

pub mod api;
pub mod auth;
pub mod error;
pub mod proofs;
pub mod validate;

pub use api::{router, AppState};
pub use proofs::{ProofIntake, SubmitProofRequest};
pub use validate::{JobResponse, SubmitRequest};
