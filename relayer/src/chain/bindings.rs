//! The Guard's bindings as the relayer names them, re-exported from `zkguard-contracts` (generated
//! from the contracts' ABI; nothing here is written by hand).

pub use zkguard_contracts::rpc::Guard as IGuard;
pub use zkguard_contracts::rpc::Guard::{Attestation as GuardAttestation, SubmissionContext};
