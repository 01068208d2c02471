//! The halo2 configuration of an app circuit: k, lookup bits, columns and break points, chosen
//! once per shape and cached with the keys.
//!
//! Layout policy: few, tall advice columns. An aggregation circuit pays per column of the app
//! circuit it verifies (TOOLCHAIN.md: the same circuit cost 2.6M aggregation cells with one
//! column at k=16 and 6.3M with eleven at k=12), so k is the smallest at which the circuit fits
//! in [`DEFAULT_MAX_ADVICE_COLUMNS`] advice columns, and the lookup table uses `k - 1` bits.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::app::{self, AppShape, AppWitness};
use super::CircuitError;

/// Advice-column budget of an app circuit.
pub const DEFAULT_MAX_ADVICE_COLUMNS: usize = 4;
/// Rows kept free for blinding factors.
pub const MINIMUM_ROWS: usize = 20;
/// Smallest k considered.
pub const MIN_K: u32 = 10;
/// Largest k considered.
pub const MAX_K: u32 = 22;

/// The halo2 configuration of one app circuit shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AppCircuitConfig {
    /// The shape.
    pub shape: AppShape,
    /// Column layout and k.
    pub params: BaseCircuitParams,
    /// Break points from keygen (filled after keygen; empty before).
    pub break_points: MultiPhaseThreadBreakPoints,
}

impl AppCircuitConfig {
    /// Picks the smallest k at which `shape` fits in `max_columns` advice columns.
    /// A fixed model is validated first ([`AppShape::validate`]).
    pub fn choose(shape: &AppShape, max_columns: usize) -> Result<Self, CircuitError> {
        shape.validate()?;
        let dummy = AppWitness::dummy(shape);
        let mut k = MIN_K;
        while k <= MAX_K {
            let mut builder = keygen_builder(k);
            app::synthesize(&mut builder, shape, &dummy);
            let params = builder.calculate_params(Some(MINIMUM_ROWS));
            let cells = builder.statistics().gate.total_advice_per_phase[0];
            // The builder is only measured, never assigned: cleared, it drops without
            // halo2-base's "LookupAnyManager was not assigned" / "advice_equalities not empty".
            builder.clear();
            if params.num_advice_per_phase[0] <= max_columns {
                return Ok(Self { shape: shape.clone(), params, break_points: vec![] });
            }
            // Jump to the k the cell count asks for (cells change little with k: only the
            // number of lookup limbs does), then step up if that is still too small.
            let rows_needed = cells.div_ceil(max_columns) + MINIMUM_ROWS;
            let k_needed = usize::BITS - (rows_needed - 1).leading_zeros();
            k = k_needed.max(k + 1);
        }
        Err(CircuitError::TooLarge { max_k: MAX_K, max_columns })
    }

    /// k of this circuit.
    pub fn k(&self) -> u32 {
        self.params.k as u32
    }

    /// A builder laid out for `stage` with `witness` (keygen uses the dummy witness), and the
    /// public instance values it exposes. A witness that does not fit the circuit (another shape,
    /// or another model than a fixed one) is refused before any layout.
    pub fn builder(
        &self,
        stage: CircuitBuilderStage,
        witness: &AppWitness,
    ) -> Result<(BaseCircuitBuilder<Fr>, Vec<Fr>), CircuitError> {
        self.shape.validate()?;
        self.shape.check_witness(witness)?;
        let mut builder = BaseCircuitBuilder::from_stage(stage).use_params(self.params.clone());
        if stage == CircuitBuilderStage::Prover {
            builder.set_break_points(self.break_points.clone());
        }
        let instances = app::synthesize(&mut builder, &self.shape, witness);
        Ok((builder, instances))
    }
}

fn keygen_builder(k: u32) -> BaseCircuitBuilder<Fr> {
    BaseCircuitBuilder::from_stage(CircuitBuilderStage::Keygen)
        .use_k(k as usize)
        .use_lookup_bits(k as usize - 1)
        .use_instance_columns(1)
}
