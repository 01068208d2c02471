//! The dynamic lookup of committed tree ensembles ([`super`]): the rows recorded while the
//! app circuit is built, and their layout beside halo2-base's region at synthesis.
//!
//! Columns: halo2-base's [`BasicDynLookupConfig`] with 3 advice columns `(key, a, b)`: one
//! table (plus a fixed column enabling its rows) and `sets` groups of looked-up rows (plus a
//! fixed column enabling each), the lookup argument requiring every enabled looked-up row to be
//! an enabled table row. Both regions start at row 0 of their columns (halo2-axiom places every
//! region at absolute rows) and end with a disabled all-zero table row, as halo2-base requires.
//!
//! Every table and looked-up cell is copy constrained to the halo2-base cell it was recorded
//! with ([`TreeLookups::assign_table`], [`TreeLookups::assign_lookups`]), so the table holds exactly the committed parameters and
//! inputs under constant keys, and every looked-up triple is made of halo2-base cells.

use halo2_base::halo2_proofs::circuit::{Cell, Region, Value};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{ConstraintSystem, FirstPhase};
use halo2_base::virtual_region::copy_constraints::CopyConstraintManager;
use halo2_base::virtual_region::lookups::basic::BasicDynLookupConfig;
use halo2_base::{AssignedValue, ContextCell};

/// Advice columns of the table (and of each set of looked-up rows): `(key, a, b)`.
pub const LOOKUP_WIDTH: usize = 3;

/// The halo2 columns of the tree lookup.
#[derive(Clone, Debug)]
pub struct TreeLookupConfig {
    /// halo2-base's dynamic lookup: the table and the looked-up sets.
    pub dyn_lookup: BasicDynLookupConfig<LOOKUP_WIDTH>,
}

impl TreeLookupConfig {
    /// The table and `sets` groups of looked-up columns (each its own lookup argument).
    pub fn configure(meta: &mut ConstraintSystem<Fr>, sets: usize) -> Self {
        Self { dyn_lookup: BasicDynLookupConfig::new(meta, || FirstPhase, sets) }
    }
}

/// One recorded row: its halo2-base cells and the values laid out (equal to the cells' values
/// unless a test adversary tampers with the layout).
#[derive(Clone, Debug)]
struct Row {
    cells: [AssignedValue<Fr>; LOOKUP_WIDTH],
    values: [Fr; LOOKUP_WIDTH],
}

impl Row {
    fn new(cells: [AssignedValue<Fr>; LOOKUP_WIDTH]) -> Self {
        Self { values: cells.map(|c| *c.value()), cells }
    }
}

/// The table rows and looked-up rows of one app circuit, in recording order.
#[derive(Clone, Debug, Default)]
pub struct TreeLookups {
    table: Vec<Row>,
    lookups: Vec<Row>,
}

impl TreeLookups {
    /// Nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a table row `(key, a, b)` (the key must be a constant cell).
    pub fn add_row(&mut self, cells: [AssignedValue<Fr>; LOOKUP_WIDTH]) {
        self.table.push(Row::new(cells));
    }

    /// Requires `(key, a, b)` to be a row of the table.
    pub fn look_up(&mut self, cells: [AssignedValue<Fr>; LOOKUP_WIDTH]) {
        self.lookups.push(Row::new(cells));
    }

    /// The value laid out in `column` of the table row whose cells' values are `(key, _, b)`
    /// when `b` is given (test adversaries only).
    pub(crate) fn table_value(&self, key: Fr, b: Option<Fr>, column: usize) -> Option<Fr> {
        self.table
            .iter()
            .find(|r| *r.cells[0].value() == key && b.is_none_or(|b| *r.cells[2].value() == b))
            .map(|r| r.values[column])
    }

    /// Lays out `value` instead of the recorded cell's value in `column` of the last table row
    /// (test adversaries only; the copy constraint stays).
    pub(crate) fn tamper_last_row(&mut self, column: usize, value: Fr) {
        if let Some(row) = self.table.last_mut() {
            row.values[column] = value;
        }
    }

    /// Lays out `value` instead of the recorded cell's value in `column` of the last looked-up
    /// row (test adversaries only; the copy constraint stays).
    pub(crate) fn tamper_last_lookup(&mut self, column: usize, value: Fr) {
        if let Some(row) = self.lookups.last_mut() {
            row.values[column] = value;
        }
    }

    /// Table rows recorded.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Looked-up rows recorded.
    pub fn lookup_len(&self) -> usize {
        self.lookups.len()
    }

    /// Rows the two regions need with `sets` looked-up sets: the table and its disabled zero
    /// row, or the looked-up rows spread over the sets, whichever is taller.
    pub fn rows(&self, sets: usize) -> usize {
        let lookup_rows = match sets {
            0 if !self.lookups.is_empty() => usize::MAX,
            0 => 0,
            _ => self.lookups.len().div_ceil(sets),
        };
        (self.table.len() + 1).max(lookup_rows)
    }

    /// Forgets every row.
    pub fn clear(&mut self) {
        self.table.clear();
        self.lookups.clear();
    }

    /// Lays out the table from row 0 of `region`, then its disabled all-zero row. With `copies`
    /// (keygen and mock stages: the copy manager after halo2-base assigned its cells),
    /// constrains every laid-out cell to its halo2-base cell; the prover stage only assigns
    /// values.
    pub fn assign_table(
        &self,
        config: &TreeLookupConfig,
        region: &mut Region<'_, Fr>,
        copies: Option<&CopyConstraintManager<Fr>>,
    ) -> Result<(), TreeLookupLayoutError> {
        let dl = &config.dyn_lookup;
        for (offset, row) in self.table.iter().enumerate() {
            region.assign_fixed(dl.table_is_enabled, offset, Fr::one());
            for (i, (&column, value)) in dl.table.iter().zip(row.values).enumerate() {
                let cell = region.assign_advice(column, offset, Value::known(value)).cell();
                constrain(region, copies, &row.cells[i], cell, Side::Table, offset)?;
            }
        }
        // The disabled all-zero row every disabled looked-up row matches.
        region.assign_fixed(dl.table_is_enabled, self.table.len(), Fr::zero());
        for &column in &dl.table {
            region.assign_advice(column, self.table.len(), Value::known(Fr::zero()));
        }
        Ok(())
    }

    /// Lays out the looked-up rows from row 0 of `region`, left to right over the sets, then top
    /// to bottom; constrains them like [`TreeLookups::assign_table`].
    pub fn assign_lookups(
        &self,
        config: &TreeLookupConfig,
        region: &mut Region<'_, Fr>,
        copies: Option<&CopyConstraintManager<Fr>>,
    ) -> Result<(), TreeLookupLayoutError> {
        let sets = &config.dyn_lookup.to_lookup;
        if sets.is_empty() && !self.lookups.is_empty() {
            return Err(TreeLookupLayoutError::NoLookupColumns { lookups: self.lookups.len() });
        }
        for (index, row) in self.lookups.iter().enumerate() {
            let (columns, enabled) = &sets[index % sets.len()];
            let offset = index / sets.len();
            region.assign_fixed(*enabled, offset, Fr::one());
            for (i, (&column, value)) in columns.iter().zip(row.values).enumerate() {
                let cell = region.assign_advice(column, offset, Value::known(value)).cell();
                constrain(region, copies, &row.cells[i], cell, Side::Lookup, index)?;
            }
        }
        Ok(())
    }
}

/// Which region a row is in (for errors).
#[derive(Clone, Copy, Debug)]
pub enum Side {
    /// The table.
    Table,
    /// The looked-up rows.
    Lookup,
}

/// Constrains `cell` to the physical cell halo2-base gave `value` (when constraining at all).
fn constrain(
    region: &mut Region<'_, Fr>,
    copies: Option<&CopyConstraintManager<Fr>>,
    value: &AssignedValue<Fr>,
    cell: Cell,
    side: Side,
    row: usize,
) -> Result<(), TreeLookupLayoutError> {
    let Some(copies) = copies else { return Ok(()) };
    let missing = || TreeLookupLayoutError::Unassigned { side, row };
    let virtual_cell: ContextCell = value.cell.ok_or_else(missing)?;
    let base = copies.assigned_advices.get(&virtual_cell).copied().ok_or_else(missing)?;
    region.constrain_equal(base, cell);
    Ok(())
}

/// Why the tree lookup could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum TreeLookupLayoutError {
    /// A recorded cell has no physical cell in halo2-base's region.
    #[error("tree lookup {side:?} row {row}: a cell has no assigned halo2-base cell")]
    Unassigned {
        /// The region.
        side: Side,
        /// The row (table) or looked-up row index.
        row: usize,
    },
    /// Rows were looked up but the configuration has no looked-up columns.
    #[error("{lookups} tree lookups but the circuit configures no lookup columns")]
    NoLookupColumns {
        /// Looked-up rows recorded.
        lookups: usize,
    },
}
