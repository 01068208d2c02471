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
