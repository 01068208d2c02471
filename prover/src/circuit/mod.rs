//! Circuits: the fixed-point chip, commitments (flex-gate sponge or the Poseidon gate,
//! [`poseidon`]), the public-instance layout and its in-circuit packing ([`outputs`]), the app
//! circuit in both model visibilities ([`visibility`]), tree ensembles ([`tree`],
//! [`tree_lookup`], [`tree_fixed`]), plus the halo2 configuration (k, columns, lookup bits) chosen for each shape.

pub mod app;
pub mod app_circuit;
pub mod commit;
pub mod config;
pub mod field;
pub mod fixed_point;
pub mod instances;
pub mod outputs;
pub mod poseidon;
pub mod tree;
pub mod tree_fixed;
pub mod tree_lookup;
pub mod visibility;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_lookup_tests;
#[cfg(test)]
mod tree_tests;

pub use app::{AppShape, AppWitness};
pub use app_circuit::AppCircuit;
pub use config::AppCircuitConfig;
pub use instances::{AppInstances, InstanceLayout};
pub use visibility::Visibility;

use crate::quant::QuantError;

/// Why a circuit could not be built for a witness.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// A tree lookup was asked for a circuit that is not a committed tree ensemble.
    #[error("a tree lookup evaluates committed tree ensembles only")]
    TreeLookupWithoutCommittedTrees,
    /// The batch is empty or larger than the circuit's batch size.
    #[error("a batch needs 1..={batch_size} rows, got {rows} (batch size {batch_size})")]
    BatchSize {
        /// Rows given.
        rows: usize,
        /// Circuit batch size.
        batch_size: usize,
    },
    /// A sample cannot be evaluated in range; the circuit would be unsatisfiable.
    #[error("sample {index}: {source}")]
    Sample {
        /// Row index in the batch.
        index: usize,
        /// What overflowed.
        #[source]
        source: QuantError,
    },
    /// A sample's score does not fit the width the layout packs it at.
    #[error("sample {index}: score {score} does not fit {bits} signed bits (the packed score width)")]
    ScoreRange {
        /// Row index in the batch.
        index: usize,
        /// The score (fixed point).
        score: i128,
        /// The width.
        bits: u32,
    },
    /// The witness does not fit the circuit's shape.
    #[error("witness shape {found} does not match the circuit shape {expected}")]
    ShapeMismatch {
        /// Circuit shape (JSON).
        expected: String,
        /// Witness shape (JSON).
        found: String,
    },
    /// The circuit has the model fixed and the witness carries another model.
    #[error("this circuit has a fixed model (commitment {expected}); the witness's model has commitment {found}: prove with the model the keys were made for, or make keys for this model (visibility fixed)")]
    ModelMismatch {
        /// The fixed model's commitment (hex).
        expected: String,
        /// The witness model's commitment (hex).
        found: String,
    },
    /// A parameter cannot be a constant of a fixed-model circuit.
    #[error("fixed model parameter {index}: {reason}")]
    FixedParameter {
        /// Canonical index of the parameter (`QuantizedModel::params` order).
        index: usize,
        /// Why it is refused.
        reason: String,
    },
    /// A column budget was given for the fast layout, which sizes its own columns.
    #[error("max_columns = {max_columns} applies to the compact layout only: the fast layout chooses its own columns (omit max_columns, or use layout compact)")]
    ColumnBudgetWithFastLayout {
        /// The budget given.
        max_columns: usize,
    },
    /// No k up to the maximum fits the circuit.
    #[error("the circuit needs more than 2^{max_k} rows with {max_columns} advice columns")]
    TooLarge {
        /// Largest k tried.
        max_k: u32,
        /// Column budget.
        max_columns: usize,
    },
}
