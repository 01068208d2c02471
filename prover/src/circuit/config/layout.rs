//! The named layout choice of an app circuit, chosen per model at keygen: how the circuit's
//! cells are laid out and how it hashes its commitments (the two go together).
//!
//! * [`Layout::Compact`] (the default): few, tall advice columns (at most `max_columns`
//!   halo2-base columns; k is the smallest that fits), commitments hashed with halo2-base's
//!   flex-gate sponge. Proofs are ~2-3 KB and the circuit's generated Solidity verifier fits
//!   EIP-170 (the demo circuit's is ~12 KB); aggregation pays least for it (it pays per column of
//!   the app circuit). For direct on-chain verification.
//! * [`Layout::Fast`]: the dedicated Poseidon gate ([`PoseidonBackend::Gate`], 22 more advice
//!   columns, ~18x fewer cells per hashed word) and the layout with the fewest weighted
//!   column-rows ([`AppCircuitConfig::choose_fastest`]: many short columns), with a committed
//!   tree ensemble evaluated by a dynamic lookup ([`crate::circuit::tree_lookup`]). Proving is
//!   several times faster (3-19x for the committed cases measured in `docs/PROVER_SPEED.md`), but
//!   proofs are 7-27 KB, and the circuit's own Solidity verifier is over EIP-170 (the demo
//!   circuit's unrolled verifier is ~50 KB; on the shared verifier it costs ~790k gas per
//!   verify). For proofs verified off chain (`zkguard verify`, the Python package). Aggregating
//!   them was measured dearer than compact app proofs, and the aggregation verifier over EIP-170
//!   at the default aggregation k (`docs/PROVER_SPEED.md`), so the relayer refuses it.
//!
//! The layout is part of the circuit configuration, hence of the circuit digest and the keys: a
//! verifier reads it from the cached configuration or the verifying-key artifact and needs no
//! flag.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::AppCircuitConfig;
use crate::circuit::poseidon::PoseidonBackend;
use crate::circuit::{AppShape, CircuitError};

/// How an app circuit is laid out (see the module documentation for what each costs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Few tall columns and the flex-gate sponge: small proofs, a verifier that fits on chain.
    #[default]
    Compact,
    /// The Poseidon gate and many short columns: fastest proving, larger proofs and verifier.
    Fast,
}

impl Layout {
    /// The name used in configuration files, on the command line and in Python.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Compact => "compact",
            Layout::Fast => "fast",
        }
    }

    /// How this layout hashes commitments.
    pub fn poseidon(self) -> PoseidonBackend {
        match self {
            Layout::Compact => PoseidonBackend::FlexGate,
            Layout::Fast => PoseidonBackend::Gate,
        }
    }

    /// Resolves a column budget given (or not) by a user: the compact layout takes it (default
    /// [`super::DEFAULT_MAX_ADVICE_COLUMNS`]); the fast layout sizes its own columns and refuses
    /// one ([`CircuitError::ColumnBudgetWithFastLayout`]).
    pub fn column_budget(self, max_columns: Option<usize>) -> Result<usize, CircuitError> {
        match (self, max_columns) {
            (Layout::Compact, budget) => Ok(budget.unwrap_or(super::DEFAULT_MAX_ADVICE_COLUMNS)),
            (Layout::Fast, None) => Ok(super::FASTEST_MAX_ADVICE_COLUMNS),
            (Layout::Fast, Some(max_columns)) => Err(CircuitError::ColumnBudgetWithFastLayout { max_columns }),
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "compact" => Ok(Layout::Compact),
            "fast" => Ok(Layout::Fast),
            other => Err(format!("unknown circuit layout {other:?} (expected \"compact\" or \"fast\")")),
        }
    }
}

impl AppCircuitConfig {
    /// The configuration of `shape` in `layout`: [`Layout::Compact`] is
    /// [`AppCircuitConfig::choose`] with `max_columns`; [`Layout::Fast`] is
    /// [`AppCircuitConfig::choose_fastest`] with the Poseidon gate and ignores `max_columns`
    /// (user-facing callers refuse an explicit budget with it: [`Layout::column_budget`]).
    pub fn for_layout(shape: &AppShape, layout: Layout, max_columns: usize) -> Result<Self, CircuitError> {
        match layout {
            Layout::Compact => Self::choose(shape, max_columns),
            Layout::Fast => Self::choose_fastest(shape, PoseidonBackend::Gate),
        }
    }

    /// The named layout this configuration was made with: the Poseidon gate is only laid out
    /// by [`Layout::Fast`] outside the benchmarks (which also try the gate with few columns).
    pub fn layout(&self) -> Layout {
        match self.poseidon {
            PoseidonBackend::FlexGate => Layout::Compact,
            PoseidonBackend::Gate => Layout::Fast,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for layout in [Layout::Compact, Layout::Fast] {
            assert_eq!(layout.to_string().parse::<Layout>(), Ok(layout));
            let json = serde_json::to_string(&layout).unwrap();
            assert_eq!(json, format!("\"{layout}\""));
        }
        assert_eq!(Layout::default(), Layout::Compact);
        let err = "fastest".parse::<Layout>().unwrap_err();
        assert!(err.contains("\"fastest\"") && err.contains("\"compact\" or \"fast\""), "{err}");
    }

    #[test]
    fn only_the_compact_layout_takes_a_column_budget() {
        assert_eq!(Layout::Compact.column_budget(None).unwrap(), super::super::DEFAULT_MAX_ADVICE_COLUMNS);
        assert_eq!(Layout::Compact.column_budget(Some(9)).unwrap(), 9);
        assert!(Layout::Fast.column_budget(None).is_ok());
        let err = Layout::Fast.column_budget(Some(4)).unwrap_err().to_string();
        assert!(err.contains("max_columns = 4") && err.contains("compact"), "{err}");
    }
}
