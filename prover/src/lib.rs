//! zkguard's prover: quantized ML models as Halo2 KZG circuits.
//!
//! The flow: a float [`model`] file (exported from scikit-learn / XGBoost) is quantized
//! ([`quant`]) into fixed point with an integer reference inference; [`circuit`] proves that
//! reference's outputs on private inputs behind Poseidon commitments.

pub mod aggregate;
pub mod artifact;
pub mod bench;
pub mod check;
pub mod circuit;
pub mod cli;
pub mod data;
pub mod demo;
pub mod evm;
pub mod fsutil;
pub mod identity;
pub mod inputs;
pub mod keys;
pub mod load;
pub mod logging;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod prove;
pub mod quant;
pub mod report;
pub mod strict_json;
