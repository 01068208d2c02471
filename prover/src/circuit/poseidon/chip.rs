//! Poseidon hashes requested while the app circuit is built, laid out by the gate afterwards
//! (with [`PoseidonBackend::Gate`]; with [`PoseidonBackend::FlexGate`] they are hashed on the
//! spot by halo2-base's sponge and nothing is recorded).
//!
//! [`PoseidonRequests::hash`] takes halo2-base cells, computes the digest natively and returns
//! it as a fresh halo2-base witness cell, recording (message cells, digest cell). When the
//! circuit is synthesized, [`PoseidonRequests::assign`] lays out one sponge per request in the
//! gate's region, one after the other from row 0, and copy-constrains every message word and the
//! digest to the halo2-base cells they were recorded with (the digest witness is free in
//! halo2-base and fixed only by that copy constraint), and every input-row cell that carries no
//! word to a halo2-base constant zero.

use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::circuit::{Cell, Region};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::poseidon::hasher::PoseidonSponge;
use halo2_base::virtual_region::copy_constraints::CopyConstraintManager;
use halo2_base::{AssignedValue, Context, ContextCell};

use super::gate::{rows_for, PoseidonConfig};
use super::spec::{self, RATE, R_F, R_P, SECURE_MDS, T};
use super::PoseidonBackend;

/// One requested hash.
#[derive(Clone, Debug)]
struct Request {
    message: Vec<AssignedValue<Fr>>,
    digest: AssignedValue<Fr>,
    zero: AssignedValue<Fr>,
}

/// The hashes of one circuit, in request order.
#[derive(Clone, Debug, Default)]
pub struct PoseidonRequests {
    backend: PoseidonBackend,
    requests: Vec<Request>,
}

impl PoseidonRequests {
    /// No requests yet, hashing with `backend`.
    pub fn new(backend: PoseidonBackend) -> Self {
        Self { backend, requests: Vec::new() }
    }

    /// The backend.
    pub fn backend(&self) -> PoseidonBackend {
        self.backend
    }

    /// The sponge over `message` (see [`spec`]). With the gate: the digest is a witness cell of
    /// `ctx`, constrained to the gate's output when the circuit is synthesized; with the flex
    /// gate: halo2-base's sponge, laid out in `ctx` now.
    pub fn hash(
        &mut self,
        ctx: &mut Context<Fr>,
        gate: &impl GateInstructions<Fr>,
        message: &[AssignedValue<Fr>],
    ) -> AssignedValue<Fr> {
        if self.backend == PoseidonBackend::FlexGate {
            let mut sponge = PoseidonSponge::<Fr, T, RATE>::new::<R_F, R_P, SECURE_MDS>(ctx);
            sponge.update(message);
            return sponge.squeeze(ctx, gate);
        }
        let values: Vec<Fr> = message.iter().map(|a| *a.value()).collect();
        let digest = ctx.load_witness(spec::hash(&values));
        let zero = ctx.load_zero();
        self.requests.push(Request { message: message.to_vec(), digest, zero });
        digest
    }

    /// Rows the gate's region needs.
    pub fn rows(&self) -> usize {
        self.requests.iter().map(|r| rows_for(r.message.len())).sum()
    }

    /// Words hashed over all requests.
    pub fn words(&self) -> usize {
        self.requests.iter().map(|r| r.message.len()).sum()
    }

    /// Forgets every request (with [`halo2_base::gates::circuit::builder::BaseCircuitBuilder::clear`]).
    pub fn clear(&mut self) {
        self.requests.clear();
    }

    /// Lays out every request from row 0 of `region`. With `copies` (keygen and mock stages: the
    /// copy manager after halo2-base assigned its cells), constrains each message word and
    /// digest to its halo2-base cell; the prover stage only assigns values.
    pub fn assign(
        &self,
        config: &PoseidonConfig,
        region: &mut Region<'_, Fr>,
        copies: Option<&CopyConstraintManager<Fr>>,
    ) -> Result<(), PoseidonLayoutError> {
        let mut row = 0;
        for (index, request) in self.requests.iter().enumerate() {
            let values: Vec<Fr> = request.message.iter().map(|a| *a.value()).collect();
            let cells = config.assign_sponge(region, row, &values);
            row += rows_for(values.len());
            let Some(copies) = copies else { continue };
            for (word, (assigned, cell)) in request.message.iter().zip(&cells.inputs).enumerate() {
                region.constrain_equal(base_cell(copies, assigned, index, Some(word))?, *cell);
            }
            region.constrain_equal(base_cell(copies, &request.digest, index, None)?, cells.output);
            let zero = base_cell(copies, &request.zero, index, None)?;
            for cell in cells.zeros {
                region.constrain_equal(zero, cell);
            }
        }
        Ok(())
    }
}

/// The physical cell halo2-base gave `value`.
fn base_cell(
    copies: &CopyConstraintManager<Fr>,
    value: &AssignedValue<Fr>,
    request: usize,
    word: Option<usize>,
) -> Result<Cell, PoseidonLayoutError> {
    let missing = || PoseidonLayoutError::Unassigned { request, word };
    let cell: ContextCell = value.cell.ok_or_else(missing)?;
    copies.assigned_advices.get(&cell).copied().ok_or_else(missing)
}

/// Why the requests could not be laid out.
#[derive(Debug, thiserror::Error)]
pub enum PoseidonLayoutError {
    /// A hashed cell has no physical cell in halo2-base's region (it was not assigned there).
    #[error("poseidon request {request}: the {} has no assigned halo2-base cell", word.map_or("digest".to_string(), |w| format!("message word {w}")))]
    Unassigned {
        /// Request index.
        request: usize,
        /// Word index; `None` for the digest.
        word: Option<usize>,
    },
}
