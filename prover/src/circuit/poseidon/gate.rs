//! The Poseidon gate: its columns, its constraints and the layout of one sponge.
//!
//! halo2-axiom caps a circuit's degree at 5 (halo2-base's own circuits have degree 4), so the
//! x^5 S-box cannot sit under a selector in one expression (degree 6): every S-box input `x`
//! gets its square `q = x^2` in a helper cell (`q - x^2`, degree 3 with the selector) and the
//! S-box output is `q^2 * x` (degree 3, so a round's constraint has degree 4, 5 with the
//! selector). The state's 9 words sit in 9 advice columns, one row per state, with 13 helper
//! advice columns beside them:
//! * a full round is one row: helpers 0..9 hold the squares of `state + rc`, the next row is
//!   `M * (q^2 * x)`;
//! * seven partial rounds share a row (R_P = 63 = 9 * 7): helpers 0..7 hold the squares of the
//!   seven S-box inputs, helpers 7..13 the inputs of rounds 2..7 (the first is `state_0 + d_0`).
//!   Between S-boxes the state is linear in the row's cells, so each constraint is a linear
//!   combination (coefficients from the MDS matrix, computed once) of the S-box outputs and
//!   the row's state, plus constants folded per row into fixed columns: `d_i` (the constant of
//!   S-box input `i`) and `c` (of the next state).
//!
//! A permutation is 4 + 9 + 4 = 17 gate rows; with its input row and output row, 19 rows of 22
//! advice columns: 418 advice cells per 8 absorbed words, 52.25 per word.
//!
//! Absorbing a chunk takes one input row of 9 cells: word 0 and the positions after the chunk
//! must be copy constrained to zero, positions 1..=n to the chunk's words; `c` carries the
//! initial state (first chunk) and the padding:
//! * first chunk, gate on the input row `r`: `state(r + 1) = input(r) + c(r)`;
//! * later chunks, gate on the previous output row `r`: `state(r + 2) = state(r) + input(r + 1)
//!   + c(r)`.
//!
//! ## Assumptions
//! Every state row is fixed by the gates from the rows before it, the input rows and the fixed
//! columns; the caller must copy-constrain the input rows and the digest cell to the cells they
//! stand for ([`super::chip`] does).

use std::sync::OnceLock;

use halo2_base::halo2_proofs::circuit::{Cell, Region, Value};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Selector};
use halo2_base::halo2_proofs::poly::Rotation;

use super::spec::{self, chunks, constants, initial_state, padding, RATE, R_F, R_P, T};

/// Partial rounds per row.
pub const PARTIAL_PER_ROW: usize = 7;
/// Helper advice columns: squares of the S-box inputs and the inputs of rounds 2.. of a row.
pub const HELPERS: usize = 2 * PARTIAL_PER_ROW - 1;
/// Advice columns of the gate.
pub const ADVICE_COLUMNS: usize = T + HELPERS;
/// Fixed columns of the gate (selectors aside): the round constants of a row and the folded
/// constants of its partial rounds.
pub const FIXED_COLUMNS: usize = T + PARTIAL_PER_ROW;
/// Gate rows of one permutation.
pub const GATE_ROWS: usize = R_F + R_P / PARTIAL_PER_ROW;
/// Rows of one permutation with its input and output rows.
pub const ROWS_PER_PERMUTATION: usize = GATE_ROWS + 2;

const _: () = assert!(R_P.is_multiple_of(PARTIAL_PER_ROW) && HELPERS >= T);

/// Rows a message of `len` words takes.
pub fn rows_for(len: usize) -> usize {
    ROWS_PER_PERMUTATION * (len / RATE + 1)
}

/// The gate's columns and selectors.
#[derive(Clone, Debug)]
pub struct PoseidonConfig {
    /// State words, one column each.
    pub state: [Column<Advice>; T],
    /// Squares of S-box inputs, then S-box inputs (see the module docs).
    pub helper: [Column<Advice>; HELPERS],
    /// Round constants of a full round; the next state's constants of a partial-round row; the
    /// constant part of an absorption.
    pub c: [Column<Fixed>; T],
    /// The S-box inputs' constants of a partial-round row.
    pub d: [Column<Fixed>; PARTIAL_PER_ROW],
    s_full: Selector,
    s_partial: Selector,
    s_absorb_first: Selector,
    s_absorb: Selector,
}

fn sum(terms: impl IntoIterator<Item = Expression<Fr>>) -> Expression<Fr> {
    terms.into_iter().reduce(|a, b| a + b).unwrap_or(Expression::Constant(Fr::zero()))
}

/// The state during a row of partial rounds as linear combinations of the row's S-box outputs
/// (indices `0..PARTIAL_PER_ROW`) and its input state (indices `PARTIAL_PER_ROW..`), without
/// constants: `linear()[i]` is the state before S-box `i` (`i < PARTIAL_PER_ROW`) and
/// `linear()[PARTIAL_PER_ROW]` the next row's state.
type Combination = Vec<Fr>;

fn partial_row_linear() -> &'static Vec<[Combination; T]> {
    static LINEAR: OnceLock<Vec<[Combination; T]>> = OnceLock::new();
    LINEAR.get_or_init(|| {
        let mds = &constants().mds;
        let width = PARTIAL_PER_ROW + T;
        let unit = |k: usize| {
            let mut v = vec![Fr::zero(); width];
            v[k] = Fr::one();
            v
        };
        let mut state: [Combination; T] = std::array::from_fn(|l| unit(PARTIAL_PER_ROW + l));
        let mut out = vec![state.clone()];
        for i in 0..PARTIAL_PER_ROW {
            let y = unit(i);
            state = std::array::from_fn(|j| {
                (0..width).map(|k| mds[j][0] * y[k] + (1..T).map(|l| mds[j][l] * state[l][k]).sum::<Fr>()).collect()
            });
            out.push(state.clone());
        }
        out
    })
}

/// The constants of a row of partial rounds starting at `round`: `d[i]`, the constant of S-box
/// input `i`, and `c`, the constant part of the next state.
fn partial_row_constants(round: usize) -> ([Fr; PARTIAL_PER_ROW], [Fr; T]) {
    let k = constants();
    let mut acc = [Fr::zero(); T];
    let mut d = [Fr::zero(); PARTIAL_PER_ROW];
    for (i, di) in d.iter_mut().enumerate() {
        let rc = &k.round_constants[round + i];
        *di = acc[0] + rc[0];
        acc = std::array::from_fn(|j| (1..T).map(|l| k.mds[j][l] * (acc[l] + rc[l])).sum());
    }
    (d, acc)
}

impl PoseidonConfig {
    /// Allocates the columns and creates the gates.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let state: [Column<Advice>; T] = std::array::from_fn(|_| meta.advice_column());
        let helper: [Column<Advice>; HELPERS] = std::array::from_fn(|_| meta.advice_column());
        let c: [Column<Fixed>; T] = std::array::from_fn(|_| meta.fixed_column());
        let d: [Column<Fixed>; PARTIAL_PER_ROW] = std::array::from_fn(|_| meta.fixed_column());
        for column in state {
            meta.enable_equality(column);
        }
        let config = Self {
            state,
            helper,
            c,
            d,
            s_full: meta.selector(),
            s_partial: meta.selector(),
            s_absorb_first: meta.selector(),
            s_absorb: meta.selector(),
        };
        config.create_gates(meta);
        config
    }

    /// The gate's selectors.
    pub fn selectors(&self) -> Vec<Selector> {
        vec![self.s_full, self.s_partial, self.s_absorb_first, self.s_absorb]
    }

    fn create_gates(&self, meta: &mut ConstraintSystem<Fr>) {
        let Self { state, helper, c, d, .. } = self.clone();
        let mds = constants().mds;
        meta.create_gate("poseidon full round", |meta| {
            let s = meta.query_selector(self.s_full);
            let x: Vec<_> = (0..T)
                .map(|j| meta.query_advice(state[j], Rotation::cur()) + meta.query_fixed(c[j], Rotation::cur()))
                .collect();
            let q: Vec<_> = (0..T).map(|j| meta.query_advice(helper[j], Rotation::cur())).collect();
            let mut constraints: Vec<_> =
                (0..T).map(|j| s.clone() * (q[j].clone() - x[j].clone() * x[j].clone())).collect();
            let y: Vec<_> = (0..T).map(|j| q[j].clone() * q[j].clone() * x[j].clone()).collect();
            constraints.extend((0..T).map(|i| {
                let mixed = sum((0..T).map(|j| Expression::Constant(mds[i][j]) * y[j].clone()));
                s.clone() * (mixed - meta.query_advice(state[i], Rotation::next()))
            }));
            constraints
        });
        meta.create_gate("poseidon partial rounds", |meta| {
            let s = meta.query_selector(self.s_partial);
            let cur: Vec<_> = (0..T).map(|l| meta.query_advice(state[l], Rotation::cur())).collect();
            let q: Vec<_> = (0..PARTIAL_PER_ROW).map(|i| meta.query_advice(helper[i], Rotation::cur())).collect();
            // S-box inputs: the first from the state, the others stored.
            let x: Vec<_> = (0..PARTIAL_PER_ROW)
                .map(|i| {
                    if i == 0 {
                        cur[0].clone() + meta.query_fixed(d[0], Rotation::cur())
                    } else {
                        meta.query_advice(helper[PARTIAL_PER_ROW + i - 1], Rotation::cur())
                    }
                })
                .collect();
            let y: Vec<_> = (0..PARTIAL_PER_ROW).map(|i| q[i].clone() * q[i].clone() * x[i].clone()).collect();
            let combine = |coefficients: &Combination| {
                sum(coefficients.iter().enumerate().filter(|(_, a)| **a != Fr::zero()).map(|(k, a)| {
                    let term = if k < PARTIAL_PER_ROW { y[k].clone() } else { cur[k - PARTIAL_PER_ROW].clone() };
                    Expression::Constant(*a) * term
                }))
            };
            let linear = partial_row_linear();
            let mut constraints = Vec::new();
            for i in 0..PARTIAL_PER_ROW {
                constraints.push(s.clone() * (q[i].clone() - x[i].clone() * x[i].clone()));
                if i > 0 {
                    let before = combine(&linear[i][0]) + meta.query_fixed(d[i], Rotation::cur());
                    constraints.push(s.clone() * (x[i].clone() - before));
                }
            }
            for j in 0..T {
                let next = combine(&linear[PARTIAL_PER_ROW][j]) + meta.query_fixed(c[j], Rotation::cur());
                constraints.push(s.clone() * (next - meta.query_advice(state[j], Rotation::next())));
            }
            constraints
        });
        meta.create_gate("poseidon absorb first chunk", |meta| {
            let s = meta.query_selector(self.s_absorb_first);
            (0..T)
                .map(|i| {
                    let input = meta.query_advice(state[i], Rotation::cur());
                    let constant = meta.query_fixed(c[i], Rotation::cur());
                    s.clone() * (input + constant - meta.query_advice(state[i], Rotation::next()))
                })
                .collect::<Vec<_>>()
        });
        meta.create_gate("poseidon absorb chunk", |meta| {
            let s = meta.query_selector(self.s_absorb);
            (0..T)
                .map(|i| {
                    let prev = meta.query_advice(state[i], Rotation::cur());
                    let input = meta.query_advice(state[i], Rotation::next());
                    let constant = meta.query_fixed(c[i], Rotation::cur());
                    s.clone() * (prev + input + constant - meta.query_advice(state[i], Rotation(2)))
                })
                .collect::<Vec<_>>()
        });
    }

    /// Lays out the sponge over `message` from row `start` (it takes [`rows_for`] rows); returns
    /// the cells of the message words in order, the input-row cells that must be zero, and the
    /// digest cell.
    pub fn assign_sponge(&self, region: &mut Region<'_, Fr>, start: usize, message: &[Fr]) -> SpongeCells {
        let mut inputs = Vec::with_capacity(message.len());
        let mut zeros = Vec::new();
        let mut output = None;
        let mut row = start;
        let mut state = initial_state();
        for (index, range) in chunks(message.len()).into_iter().enumerate() {
            let words = &message[range];
            let pad = padding(words.len());
            // The constant part: the initial state (first chunk) and the padding.
            let constant: [Fr; T] = std::array::from_fn(|i| if index == 0 { state[i] + pad[i] } else { pad[i] });
            // The gate sits on the input row for the first chunk, on the previous output row after.
            let gate_row = if index == 0 { row } else { row - 1 };
            if index == 0 {
                self.s_absorb_first.enable(region, gate_row).expect("selector");
            } else {
                self.s_absorb.enable(region, gate_row).expect("selector");
            }
            self.assign_c(region, gate_row, &constant);
            let input_row: [Fr; T] =
                std::array::from_fn(|i| if (1..=words.len()).contains(&i) { words[i - 1] } else { Fr::zero() });
            let cells = self.assign_state(region, row, &input_row);
            for (i, cell) in cells.into_iter().enumerate() {
                if (1..=words.len()).contains(&i) {
                    inputs.push(cell);
                } else {
                    zeros.push(cell);
                }
            }
            state =
                std::array::from_fn(|i| if index == 0 { constant[i] } else { state[i] + constant[i] } + input_row[i]);
            row += 1;
            self.assign_state(region, row, &state);
            let (out, cells) = self.assign_permutation(region, &mut row, state);
            state = out;
            output = Some(cells[1]);
            row += 1;
        }
        SpongeCells { inputs, zeros, output: output.expect("at least one chunk") }
    }

    /// Lays out one permutation of `state` (already assigned at `*row`); leaves `*row` at the
    /// output row (assigned) and returns the output state and its cells.
    fn assign_permutation(
        &self,
        region: &mut Region<'_, Fr>,
        row: &mut usize,
        mut state: [Fr; T],
    ) -> ([Fr; T], Vec<Cell>) {
        let rc = &constants().round_constants;
        let mut round = 0;
        let mut cells = Vec::new();
        while round < spec::ROUNDS {
            if !spec::is_partial(round) {
                self.s_full.enable(region, *row).expect("selector");
                self.assign_c(region, *row, &rc[round]);
                for j in 0..T {
                    let x = state[j] + rc[round][j];
                    region.assign_advice(self.helper[j], *row, Value::known(x.square()));
                }
                state = spec::round(&state, round);
                round += 1;
            } else {
                self.s_partial.enable(region, *row).expect("selector");
                let (d, c) = partial_row_constants(round);
                self.assign_c(region, *row, &c);
                for (i, di) in d.iter().enumerate() {
                    region.assign_fixed(self.d[i], *row, *di);
                    let x = state[0] + rc[round][0];
                    region.assign_advice(self.helper[i], *row, Value::known(x.square()));
                    if i > 0 {
                        region.assign_advice(self.helper[PARTIAL_PER_ROW + i - 1], *row, Value::known(x));
                    }
                    state = spec::round(&state, round);
                    round += 1;
                }
            }
            *row += 1;
            cells = self.assign_state(region, *row, &state);
        }
        (state, cells)
    }

    fn assign_state(&self, region: &mut Region<'_, Fr>, row: usize, state: &[Fr; T]) -> Vec<Cell> {
        (0..T).map(|i| region.assign_advice(self.state[i], row, Value::known(state[i])).cell()).collect()
    }

    fn assign_c(&self, region: &mut Region<'_, Fr>, row: usize, c: &[Fr; T]) {
        for (column, value) in self.c.iter().zip(c) {
            region.assign_fixed(*column, row, *value);
        }
    }
}

/// The cells of one laid-out sponge.
#[derive(Clone, Debug)]
pub struct SpongeCells {
    /// The message words, in order.
    pub inputs: Vec<Cell>,
    /// Input-row cells that carry no word and must be zero.
    pub zeros: Vec<Cell>,
    /// The digest (state word 1 of the last output row).
    pub output: Cell,
}
