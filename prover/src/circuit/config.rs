//! The halo2 configuration of an app circuit: k, lookup bits, columns and break points, chosen
//! once per shape and cached with the keys.
//!
//! Layout policy: few, tall advice columns. An aggregation circuit pays per column of the app
//! circuit it verifies (measured: the same circuit cost 2.6M aggregation cells with one
//! column at k=16 and 6.3M with eleven at k=12), so k is the smallest at which the circuit fits
//! in [`DEFAULT_MAX_ADVICE_COLUMNS`] advice columns, and the lookup table uses `k - 1` bits.
//! With the Poseidon gate ([`PoseidonBackend::Gate`]) the gate's region must fit too.
//!
//! Users choose between two named layouts ([`Layout`]: `compact`, this policy with the
//! flex-gate sponge, and `fast`, [`AppCircuitConfig::choose_fastest`] with the Poseidon gate
//! and, for a committed tree ensemble, the tree lookup: [`TreeSelection::Lookup`], whose table
//! and looked-up rows must fit the same rows) through [`AppCircuitConfig::for_layout`].

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::flex_gate::MultiPhaseThreadBreakPoints;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use super::app::{self, AppShape, AppWitness};
use super::app_circuit::{AppCircuit, AppCircuitParams};
use super::poseidon::{gate, PoseidonBackend, PoseidonRequests};
use super::tree_lookup::{TreeLookups, TreeSelection};
use super::CircuitError;
use crate::quant::Family;

pub mod layout;
pub use layout::Layout;

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
    /// How a committed tree ensemble selects its nodes ([`TreeSelection::Lookup`] in the
    /// fastest layout; omitted when [`TreeSelection::Multiplexer`], so earlier configurations
    /// and digests are unchanged).
    #[serde(default, skip_serializing_if = "TreeSelection::is_multiplexer")]
    pub tree_selection: TreeSelection,
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
        Self::choose_with_selection(shape, max_columns, poseidon, false)
    }

    /// [`AppCircuitConfig::choose_with`], evaluating a committed tree ensemble by lookups when
    /// `lookup` ([`TreeSelection::Lookup`] with as many looked-up column sets as the rows need;
    /// refused for any other shape).
    pub fn choose_with_selection(
        shape: &AppShape,
        max_columns: usize,
        poseidon: PoseidonBackend,
        lookup: bool,
    ) -> Result<Self, CircuitError> {
        shape.validate()?;
        check_lookup(shape, lookup)?;
        let dummy = AppWitness::dummy(shape);
        let mut k = MIN_K;
        while k <= MAX_K {
            // The Poseidon region and the tree lookup must fit the same usable rows as
            // halo2-base's.
            let m = measure(shape, &dummy, k, k as usize - 1, poseidon, lookup);
            let tree_selection = m.selection(k, lookup);
            if m.params.num_advice_per_phase[0] <= max_columns && m.extra_rows() <= 1 << k {
                return Ok(Self {
                    shape: shape.clone(),
                    params: m.params,
                    break_points: vec![],
                    poseidon,
                    tree_selection,
                });
            }
            // Jump to the k the cell count asks for (cells change little with k: only the
            // number of lookup limbs does), then step up if that is still too small.
            let rows_needed = (m.cells.div_ceil(max_columns) + MINIMUM_ROWS).max(m.extra_rows());
            let k_needed = usize::BITS - (rows_needed - 1).leading_zeros();
            k = k_needed.max(k + 1);
        }
        Err(CircuitError::TooLarge { max_k: MAX_K, max_columns })
    }

    /// The layout that proves fastest: the k, lookup width and halo2-base column count
    /// minimizing the circuit's weighted column-rows ([`layout_cost`]), with at most
    /// [`FASTEST_MAX_ADVICE_COLUMNS`] halo2-base advice columns.
    ///
    /// Proving time follows columns x 2^k. [`AppCircuitConfig::choose`]'s few tall columns suit
    /// the flex gate and aggregation (which pays per column of the circuit it verifies), but with
    /// the Poseidon gate its 22 advice columns are as tall as halo2-base's and mostly empty, so
    /// the fastest layout is a small k with as many halo2-base columns as the cells need. More
    /// columns mean a larger proof and verifier; direct-mode circuits whose verifier must fit on
    /// chain keep [`AppCircuitConfig::choose`]. A fixed model is validated first.
    ///
    /// A committed tree ensemble is evaluated by lookups here ([`TreeSelection::Lookup`]): the
    /// multiplexers' cells dominate its circuit otherwise.
    pub fn choose_fastest(shape: &AppShape, poseidon: PoseidonBackend) -> Result<Self, CircuitError> {
        shape.validate()?;
        let lookup = committed_trees(shape);
        let dummy = AppWitness::dummy(shape);
        let mut best: Option<(u64, Self)> = None;
        let mut cells_seen: Option<usize> = None;
        for k in MIN_K..=MAX_K {
            let rows = (1usize << k) - MINIMUM_ROWS;
            // Skip a k whose column count is out of bounds without laying the circuit out
            // (cells change little with k: only the number of lookup limbs does).
            if let Some(cells) = cells_seen {
                if cells.div_ceil(rows) > FASTEST_MAX_ADVICE_COLUMNS + 1 {
                    continue;
                }
            }
            let mut single_column = false;
            for lookup_bits in lookup_bits_candidates(k, shape.model.fixed.value_bits) {
                let m = measure(shape, &dummy, k, lookup_bits, poseidon, lookup);
                cells_seen = Some(m.cells);
                if m.params.num_advice_per_phase[0] > FASTEST_MAX_ADVICE_COLUMNS || m.extra_rows() > 1 << k {
                    continue;
                }
                let tree_selection = m.selection(k, lookup);
                let cost = layout_cost(&m.params, poseidon) + tree_lookup_cost(tree_selection, k);
                single_column |= m.params.num_advice_per_phase[0] == 1;
                if best.as_ref().is_none_or(|(best_cost, _)| cost < *best_cost) {
                    let config =
                        Self { shape: shape.clone(), params: m.params, break_points: vec![], poseidon, tree_selection };
                    best = Some((cost, config));
                }
            }
            // From one column on, a larger k only adds empty rows.
            if single_column {
                break;
            }
        }
        best.map(|(_, config)| config)
            .ok_or(CircuitError::TooLarge { max_k: MAX_K, max_columns: FASTEST_MAX_ADVICE_COLUMNS })
    }

    /// k of this circuit.
    pub fn k(&self) -> u32 {
        self.params.k as u32
    }

    /// The parameters halo2 builds the constraint system from (to read keys).
    pub fn circuit_params(&self) -> AppCircuitParams {
        AppCircuitParams { base: self.params.clone(), poseidon: self.poseidon, tree_selection: self.tree_selection }
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
        let mut tree_lookups = TreeLookups::new();
        let lookups = (!self.tree_selection.is_multiplexer()).then_some(&mut tree_lookups);
        let instances = app::synthesize(&mut builder, &mut poseidon, lookups, &self.shape, witness);
        let tree_selection = self.tree_selection;
        Ok((AppCircuit { base: builder, poseidon, tree_selection, tree_lookups }, instances))
    }
}

/// Most halo2-base advice columns [`AppCircuitConfig::choose_fastest`] considers.
pub const FASTEST_MAX_ADVICE_COLUMNS: usize = 64;

/// Weighted column-rows of a layout, the proving-time estimate [`AppCircuitConfig::choose_fastest`]
/// minimizes: each advice column (halo2-base's and the Poseidon gate's) counts 1 per row, each
/// lookup advice column 3 (its permuted input and table columns and its product are committed
/// and extended too), each fixed column 1/4 (precomputed in the proving key, only read).
pub fn layout_cost(params: &BaseCircuitParams, poseidon: PoseidonBackend) -> u64 {
    let gate = match poseidon {
        PoseidonBackend::Gate => (gate::ADVICE_COLUMNS, gate::FIXED_COLUMNS),
        PoseidonBackend::FlexGate => (0, 0),
    };
    let advice = params.num_advice_per_phase.iter().sum::<usize>() + gate.0;
    let lookup = params.num_lookup_advice_per_phase.iter().sum::<usize>();
    let fixed = params.num_fixed + gate.1;
    let weighted_quarters = 4 * advice + 12 * lookup + fixed;
    ((weighted_quarters as u64) << params.k) / 4
}

/// The lookup widths [`AppCircuitConfig::choose_fastest`] tries at `k`: the widest table
/// (`k - 1` bits), and the widest that divides `value_bits` (most range checks are of values: a
/// width that divides it needs no extra cell to bound the top limb).
fn lookup_bits_candidates(k: u32, value_bits: u32) -> Vec<usize> {
    let widest = k as usize - 1;
    let dividing = (1..=widest).rev().find(|bits| (value_bits as usize).is_multiple_of(*bits));
    std::iter::once(widest).chain(dividing.filter(|&bits| bits != widest && bits >= 8)).collect()
}

/// Whether `shape` is a committed tree ensemble (the only circuit with a tree lookup).
pub fn committed_trees(shape: &AppShape) -> bool {
    shape.model.family == Family::TreeEnsemble && shape.fixed_params.is_none()
}

/// Refuses a tree lookup for a circuit that is not a committed tree ensemble.
fn check_lookup(shape: &AppShape, lookup: bool) -> Result<(), CircuitError> {
    if lookup && !committed_trees(shape) {
        return Err(CircuitError::TreeLookupWithoutCommittedTrees);
    }
    Ok(())
}

/// Weighted column-rows the tree lookup adds to [`layout_cost`]: its table's 3 advice columns
/// and 1 fixed, and per looked-up set 3 advice, 1 fixed and a lookup argument (weighted 3 like
/// halo2-base's lookup columns).
pub fn tree_lookup_cost(selection: TreeSelection, k: u32) -> u64 {
    let TreeSelection::Lookup { sets } = selection else { return 0 };
    let weighted_quarters = (4 * 3 + 1 + sets * (4 * 3 + 1 + 12)) as u64;
    (weighted_quarters << k) / 4
}

/// What laying a shape out measured.
struct Measured {
    /// halo2-base's parameters.
    params: BaseCircuitParams,
    /// halo2-base's advice cells.
    cells: usize,
    /// The Poseidon region's rows, with the blinding rows.
    poseidon_rows: usize,
    /// Tree lookup table rows.
    table_rows: usize,
    /// Looked-up tree rows.
    lookups: usize,
}

impl Measured {
    /// Looked-up column sets at `k`: as many as the looked-up rows need (at least one).
    fn lookup_sets(&self, k: u32) -> usize {
        self.lookups.div_ceil((1usize << k) - MINIMUM_ROWS).max(1)
    }

    /// The tree selection at `k`.
    fn selection(&self, k: u32, lookup: bool) -> TreeSelection {
        match lookup {
            true => TreeSelection::Lookup { sets: self.lookup_sets(k) },
            false => TreeSelection::Multiplexer,
        }
    }

    /// Rows the regions beside halo2-base's need, with the blinding rows: the Poseidon region's
    /// and the tree lookup table's (the looked-up rows spread over as many sets as needed).
    fn extra_rows(&self) -> usize {
        let table = if self.lookups > 0 { self.table_rows + 1 + MINIMUM_ROWS } else { 0 };
        self.poseidon_rows.max(table)
    }
}

/// Lays `shape` out at `k` with `lookup_bits` and the dummy witness (the tree ensemble by
/// lookups when `lookup`): halo2-base's parameters for that layout, its advice cells and the
/// other regions' rows.
fn measure(
    shape: &AppShape,
    dummy: &AppWitness,
    k: u32,
    lookup_bits: usize,
    poseidon: PoseidonBackend,
    lookup: bool,
) -> Measured {
    let mut builder = keygen_builder(k, lookup_bits);
    let mut requests = PoseidonRequests::new(poseidon);
    let mut tree_lookups = TreeLookups::new();
    app::synthesize(&mut builder, &mut requests, lookup.then_some(&mut tree_lookups), shape, dummy);
    let params = builder.calculate_params(Some(MINIMUM_ROWS));
    let cells = builder.statistics().gate.total_advice_per_phase[0];
    // The builder is only measured, never assigned: cleared, it drops without halo2-base's
    // "LookupAnyManager was not assigned" / "advice_equalities not empty".
    builder.clear();
    Measured {
        params,
        cells,
        poseidon_rows: requests.rows() + MINIMUM_ROWS,
        table_rows: tree_lookups.table_len(),
        lookups: tree_lookups.lookup_len(),
    }
}

fn keygen_builder(k: u32, lookup_bits: usize) -> BaseCircuitBuilder<Fr> {
    BaseCircuitBuilder::from_stage(CircuitBuilderStage::Keygen)
        .use_k(k as usize)
        .use_lookup_bits(lookup_bits)
        .use_instance_columns(1)
}

#[cfg(test)]
mod tests;
