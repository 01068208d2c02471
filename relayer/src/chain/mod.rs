//! Everything that talks to the chain: the Guard's ABI ([`bindings`]), revert decoding
//! ([`revert`]), the registration check ([`registration`]), RPC error classification and retries
//! ([`rpc`]), the signer ([`signer`]) and the submission state machine ([`submitter`]).

pub mod bindings;
pub mod inputs;
pub mod registration;
pub mod revert;
pub mod rpc;
pub mod signer;
pub mod submitter;

pub use submitter::Submitter;
