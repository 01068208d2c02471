//! The halo2 configuration of an app circuit: k, lookup bits, columns and break points, chosen
//! once per shape and cached with the keys.
//!
//! Layout policy: few, tall advice columns. An aggregation circuit pays per column of the app
//! circuit it verifies (measured: the same circuit cost 2.6M aggregation cells with one
//! column at k=16 and 6.3M with eleven at k=12), so k is the smallest at which the circuit fits
//! in [`DEFAULT_MAX_ADVICE_COLUMNS`] advice columns, and the lookup table uses `k - 1` bits.
//! With the Poseidon gate ([`PoseidonBackend::Gate`]) the gate's region must fit too.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::app::{self, AppShape, AppWitness};
use super::app_circuit::{AppCircuit, AppCircuitParams};
use super::poseidon::{PoseidonBackend, PoseidonRequests};
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
    /// How commitments are hashed (configs cached before the gate existed: the flex gate).
    #[serde(default)]
    pub poseidon: PoseidonBackend,
}

impl AppCircuitConfig {
    /// Picks the smallest k at which `shape` fits in `max_columns` advice columns, hashing with
    /// halo2-base's flex gate (the circuit whose verifier fits on chain; see [`PoseidonBackend`]).
    /// A fixed model is validated first ([`AppShape::validate`]).
    pub fn choose(shape: &AppShape, max_columns: usize) -> Result<Self, CircuitError> {
        Self::choose_with(shape, max_columns, PoseidonBackend::FlexGate)
    }

    /// [`AppCircuitConfig::choose`] with a Poseidon backend. `max_columns` bounds halo2-base's
    /// advice columns; the gate adds its own.
    pub fn choose_with(shape: &AppShape, max_columns: usize, poseidon: PoseidonBackend) -> Result<Self, CircuitError> {
        shape.validate()?;
        let dummy = AppWitness::dummy(shape);
        let mut k = MIN_K;
        while k <= MAX_K {
            let mut builder = keygen_builder(k);
            let mut requests = PoseidonRequests::new(poseidon);
            app::synthesize(&mut builder, &mut requests, shape, &dummy);
            let params = builder.calculate_params(Some(MINIMUM_ROWS));
            let cells = builder.statistics().gate.total_advice_per_phase[0];
            // The builder is only measured, never assigned: cleared, it drops without
            // halo2-base's "LookupAnyManager was not assigned" / "advice_equalities not empty".
            builder.clear();
            // The Poseidon region must fit the same usable rows as halo2-base's.
            let poseidon_rows = requests.rows() + MINIMUM_ROWS;
            if params.num_advice_per_phase[0] <= max_columns && poseidon_rows <= 1 << k {
                return Ok(Self { shape: shape.clone(), params, break_points: vec![], poseidon });
            }
            // Jump to the k the cell count asks for (cells change little with k: only the
            // number of lookup limbs does), then step up if that is still too small.
            let rows_needed = (cells.div_ceil(max_columns) + MINIMUM_ROWS).max(poseidon_rows);
            let k_needed = usize::BITS - (rows_needed - 1).leading_zeros();
            k = k_needed.max(k + 1);
        }
        Err(CircuitError::TooLarge { max_k: MAX_K, max_columns })
    }

    /// k of this circuit.
    pub fn k(&self) -> u32 {
        self.params.k as u32
    }

    /// The parameters halo2 builds the constraint system from (to read keys).
    pub fn circuit_params(&self) -> AppCircuitParams {
        AppCircuitParams { base: self.params.clone(), poseidon: self.poseidon }
    }

    /// The circuit laid out for `stage` with `witness` (keygen uses the dummy witness), and the
    /// public instance values it exposes. A witness that does not fit the circuit (another shape,
    /// or another model than a fixed one) is refused before any layout.
    pub fn builder(
        &self,
        stage: CircuitBuilderStage,
        witness: &AppWitness,
    ) -> Result<(AppCircuit, Vec<Fr>), CircuitError> {
        self.shape.validate()?;
        self.shape.check_witness(witness)?;
        let mut builder = BaseCircuitBuilder::from_stage(stage).use_params(self.params.clone());
        if stage == CircuitBuilderStage::Prover {
            builder.set_break_points(self.break_points.clone());
        }
        let mut poseidon = PoseidonRequests::new(self.poseidon);
        let instances = app::synthesize(&mut builder, &mut poseidon, &self.shape, witness);
        Ok((AppCircuit { base: builder, poseidon }, instances))
    }
}

fn keygen_builder(k: u32) -> BaseCircuitBuilder<Fr> {
    BaseCircuitBuilder::from_stage(CircuitBuilderStage::Keygen)
        .use_k(k as usize)
        .use_lookup_bits(k as usize - 1)
        .use_instance_columns(1)
}
