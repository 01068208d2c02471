//! A Poseidon chip with its own gate, beside halo2-base's flex gate: the commitments' sponge at
//! 19 rows of 22 advice columns per permutation (52.25 advice cells per absorbed word, against
//! ~935 for halo2-base's flex-gate sponge), at degree 4 like halo2-base's own gates.
//!
//! * [`spec`]: the parameters, the plain permutation and the sponge, natively;
//! * [`gate`]: the columns, the constraints and the layout of one sponge;
//! * [`chip`]: the hashes requested while the app circuit is built, laid out and copy
//!   constrained to halo2-base's cells at synthesis.

pub mod chip;
pub mod gate;
pub mod spec;

#[cfg(test)]
mod tests;

pub use chip::{PoseidonLayoutError, PoseidonRequests};
pub use gate::PoseidonConfig;

use serde::{Deserialize, Serialize};

/// How an app circuit hashes its commitments (same digests either way).
///
/// The gate makes proofs several times cheaper to produce, but its constraints (dense 9 x 9
/// MDS mixing) are unrolled into a generated Solidity verifier: the direct-mode demo circuit's
/// verifier grows from ~12 KB to 50.4 KB, over EIP-170's 24,576 bytes. So the flex-gate sponge
/// stays the default wherever an app circuit's own verifier goes on chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoseidonBackend {
    /// halo2-base's flex-gate sponge (~935 advice cells per word, no extra columns).
    #[default]
    FlexGate,
    /// The dedicated gate of this module (52.25 advice cells per word, 22 more advice columns).
    Gate,
}
