//! Circuits: the fixed-point chip, commitments, the public-instance layout and its in-circuit
//! packing, and the app circuit,
//! plus the halo2 configuration (k, columns, lookup bits) chosen for each shape.

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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;

pub use app::{AppShape, AppWitness};
pub use app_circuit::AppCircuit;
pub use config::AppCircuitConfig;
pub use instances::{AppInstances, InstanceLayout};

use crate::quant::QuantError;

/// Why a circuit could not be built for a witness.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
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
    /// No k up to the maximum fits the circuit.
    #[error("the circuit needs more than 2^{max_k} rows with {max_columns} advice columns")]
    TooLarge {
        /// Largest k tried.
        max_k: u32,
        /// Column budget.
        max_columns: usize,
    },
}
