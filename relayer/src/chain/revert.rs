//! Revert decoding and the retry policy, from `zkguard-contracts` (one definition for every crate).

pub use zkguard_contracts::revert::{decode_revert, Disposition, SubmitRevert};
