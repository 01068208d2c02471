//! Parameters and keys: the KZG reference string ([`srs`]) and proving/verifying keys cached on
//! disk under a digest of the circuit ([`cache`]), so keygen runs once per circuit shape.

pub mod cache;
pub mod srs;

pub use cache::{circuit_digest, AppKeys, KeyError};
pub use srs::{load_params, SrsError, SrsSource};
