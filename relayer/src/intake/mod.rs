//! HTTP intake: the axum router ([`api`]), bearer-token auth ([`auth`]), request validation
//! ([`validate`]) and the JSON error type ([`error`]).

pub mod api;
pub mod auth;
pub mod error;
pub mod validate;

pub use api::{router, AppState};
pub use validate::{JobResponse, SubmitRequest};
