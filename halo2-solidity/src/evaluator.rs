//! Yul for the quotient's numerator at the challenge point: every gate polynomial, the
//! permutation argument (chunked by `degree - 2` columns) and the lookup argument (halo2's
//! permuted-columns form, as halo2-axiom 0.5 proves it).
//!
//! Derived from PSE's halo2-solidity-verifier (f0626be, MIT), `src/codegen/evaluator.rs`; ported
//! to halo2-axiom. See `NOTICE`. Change: PSE binds every leaf and intermediate value of a gate to
//! a Yul `let`, which overflows the stack ("stack too deep", optimizer off) on any gate with more
//! than a dozen terms; here leaves (proof words, key words, constants) are read inline and an
//! intermediate value is kept in a memory word above the verifier's fixed memory map (free while
//! the quotient is evaluated) only when it occurs more than once or would nest too deep, and
//! is inlined into its parent otherwise.

#![allow(clippy::useless_format)]

use crate::meta::{code_block, fe_to_u256, ConstraintSystemMeta, Data, Ptr};
use halo2_base::halo2_proofs::{
    halo2curves::ff::PrimeField,
    plonk::{
        Advice, AdviceQuery, Any, Challenge, ConstraintSystem, Expression, Fixed, FixedQuery, Gate, InstanceQuery,
    },
};
use itertools::{chain, izip, Itertools};
use ruint::aliases::U256;
use std::{cell::RefCell, collections::HashMap, iter};

/// How deep an inlined gate expression may nest (each level keeps two stack slots, and `r` must
/// stay within DUP16's reach below the block's own variables).
const MAX_INLINE_DEPTH: usize = 4;

/// One emitted value: the lines that must run first, its expression, its inline nesting depth
/// and its interned id.
struct Node {
    lines: Vec<String>,
    expr: String,
    depth: usize,
    id: usize,
}

#[derive(Debug)]
pub(crate) struct Evaluator<'a, F: PrimeField> {
    cs: &'a ConstraintSystem<F>,
    meta: &'a ConstraintSystemMeta,
    data: &'a Data,
    var_counter: RefCell<usize>,
    /// First memory word of the intermediate values (above `PAIRING_RHS_Y_MPTR`).
    scratch: Ptr,
}

impl<'a, F> Evaluator<'a, F>
where
    F: PrimeField<Repr = [u8; 0x20]>,
{
    pub(crate) fn new(cs: &'a ConstraintSystem<F>, meta: &'a ConstraintSystemMeta, data: &'a Data) -> Self {
        Self { cs, meta, data, var_counter: Default::default(), scratch: data.theta_mptr + 26 }
    }

    pub fn gate_computations(&self) -> Vec<(Vec<String>, String)> {
        self.cs
            .gates()
            .iter()
            .flat_map(Gate::polynomials)
            .map(|expression| self.evaluate_and_reset(expression))
            .collect()
    }

    pub fn permutation_computations(&self) -> Vec<(Vec<String>, String)> {
        let Self { meta, data, .. } = self;
        let last_chunk_idx = meta.num_permutation_zs - 1;
        chain![
            data.permutation_z_evals.first().map(|(z, _, _)| {
                vec![
                    format!("let l_0 := mload(L_0_MPTR)"),
                    format!("let eval := addmod(l_0, sub(r, mulmod(l_0, {z}, r)), r)"),
                ]
            }),
            data.permutation_z_evals.last().map(|(z, _, _)| {
                let item = "addmod(mulmod(perm_z_last, perm_z_last, r), sub(r, perm_z_last), r)";
                vec![format!("let perm_z_last := {z}"), format!("let eval := mulmod(mload(L_LAST_MPTR), {item}, r)")]
            }),
            data.permutation_z_evals.iter().tuple_windows().map(|((_, _, z_i_last), (z_j, _, _))| {
                let item = format!("addmod({z_j}, sub(r, {z_i_last}), r)");
                vec![format!("let eval := mulmod(mload(L_0_MPTR), {item}, r)")]
            }),
            izip!(meta.permutation_columns.chunks(meta.permutation_chunk_len), &data.permutation_z_evals,)
                .enumerate()
                .map(|(chunk_idx, (columns, evals))| {
                    let last_column_idx = columns.len() - 1;
                    chain![
                        [
                            format!("let gamma := mload(GAMMA_MPTR)"),
                            format!("let beta := mload(BETA_MPTR)"),
                            format!("let lhs := {}", evals.1),
                            format!("let rhs := {}", evals.0),
                        ],
                        columns.iter().flat_map(|column| {
                            let perm_eval = &data.permutation_evals[column];
                            let eval = self.eval(*column.column_type(), column.index(), 0);
                            let item = format!("mulmod(beta, {perm_eval}, r)");
                            [format!("lhs := mulmod(lhs, addmod(addmod({eval}, {item}, r), gamma, r), r)")]
                        }),
                        (chunk_idx == 0).then(|| "mstore(0x00, mulmod(beta, mload(X_MPTR), r))".to_string()),
                        columns.iter().enumerate().flat_map(|(idx, column)| {
                            let eval = self.eval(*column.column_type(), column.index(), 0);
                            let item = format!("addmod(addmod({eval}, mload(0x00), r), gamma, r)");
                            chain![
                                [format!("rhs := mulmod(rhs, {item}, r)")],
                                (!(chunk_idx == last_chunk_idx && idx == last_column_idx))
                                    .then(|| "mstore(0x00, mulmod(mload(0x00), delta, r))".to_string()),
                            ]
                        }),
                        {
                            let item = format!("addmod(mload(L_LAST_MPTR), mload(L_BLIND_MPTR), r)");
                            let item = format!("sub(r, mulmod(left_sub_right, {item}, r))");
                            [
                                format!("let left_sub_right := addmod(lhs, sub(r, rhs), r)"),
                                format!("let eval := addmod(left_sub_right, {item}, r)"),
                            ]
                        }
                    ]
                    .collect_vec()
                })
        ]
        .zip(iter::repeat("eval".to_string()))
        .collect()
    }

    pub fn lookup_computations(&self) -> Vec<(Vec<String>, String)> {
        let input_tables = self
            .cs
            .lookups()
            .iter()
            .map(|lookup| {
                let [(input_lines, inputs), (table_lines, tables)] =
                    [lookup.input_expressions(), lookup.table_expressions()].map(|expressions| {
                        let (lines, inputs) = expressions.iter().map(|expression| self.evaluate(expression)).fold(
                            (Vec::new(), Vec::new()),
                            |mut acc, result| {
                                acc.0.extend(result.0);
                                acc.1.push(result.1);
                                acc
                            },
                        );
                        self.reset();
                        (lines, inputs)
                    });
                (input_lines, inputs, table_lines, tables)
            })
            .collect_vec();
        izip!(input_tables, &self.data.lookup_evals)
            .flat_map(|(input_table, evals)| {
                let (input_lines, inputs, table_lines, tables) = input_table;
                let (input_0, rest_inputs) = inputs.split_first().unwrap();
                let (table_0, rest_tables) = tables.split_first().unwrap();
                let (z, z_next, p_input, p_input_prev, p_table) = evals;
                [
                    vec![
                        format!("let l_0 := mload(L_0_MPTR)"),
                        format!("let eval := addmod(l_0, mulmod(l_0, sub(r, {z}), r), r)"),
                    ],
                    {
                        let item = format!("addmod(mulmod({z}, {z}, r), sub(r, {z}), r)");
                        vec![
                            format!("let l_last := mload(L_LAST_MPTR)"),
                            format!("let eval := mulmod(l_last, {item}, r)"),
                        ]
                    },
                    chain![
                        ["let theta := mload(THETA_MPTR)", "let input"].map(str::to_string),
                        code_block::<1, false>(chain![
                            input_lines,
                            [format!("input := {input_0}")],
                            rest_inputs
                                .iter()
                                .map(|input| format!("input := addmod(mulmod(input, theta, r), {input}, r)"))
                        ]),
                        ["let table"].map(str::to_string),
                        code_block::<1, false>(chain![
                            table_lines,
                            [format!("table := {table_0}")],
                            rest_tables
                                .iter()
                                .map(|table| format!("table := addmod(mulmod(table, theta, r), {table}, r)"))
                        ]),
                        {
                            let lhs = format!("addmod({p_input}, beta, r)");
                            let rhs = format!("addmod({p_table}, gamma, r)");
                            let permuted = format!("mulmod({lhs}, {rhs}, r)");
                            let input = "mulmod(addmod(input, beta, r), addmod(table, gamma, r), r)";
                            [
                                format!("let beta := mload(BETA_MPTR)"),
                                format!("let gamma := mload(GAMMA_MPTR)"),
                                format!("let lhs := mulmod({z_next}, {permuted}, r)"),
                                format!("let rhs := mulmod({z}, {input}, r)"),
                            ]
                        },
                        {
                            let l_inactive = "addmod(mload(L_BLIND_MPTR), mload(L_LAST_MPTR), r)";
                            let l_active = format!("addmod(1, sub(r, {l_inactive}), r)");
                            [format!("let eval := mulmod({l_active}, addmod(lhs, sub(r, rhs), r), r)")]
                        },
                    ]
                    .collect_vec(),
                    {
                        let l_0 = "mload(L_0_MPTR)";
                        let item = format!("addmod({p_input}, sub(r, {p_table}), r)");
                        vec![format!("let eval := mulmod({l_0}, {item}, r)")]
                    },
                    {
                        let l_inactive = "addmod(mload(L_BLIND_MPTR), mload(L_LAST_MPTR), r)";
                        let l_active = format!("addmod(1, sub(r, {l_inactive}), r)");
                        let lhs = format!("addmod({p_input}, sub(r, {p_table}), r)");
                        let rhs = format!("addmod({p_input}, sub(r, {p_input_prev}), r)");
                        vec![format!("let eval := mulmod({l_active}, mulmod({lhs}, {rhs}, r), r)")]
                    },
                ]
            })
            .zip(iter::repeat("eval".to_string()))
            .collect_vec()
    }

    fn eval(&self, column_type: impl Into<Any>, column_index: usize, rotation: i32) -> String {
        match column_type.into() {
            Any::Advice(_) => self.data.advice_evals[&(column_index, rotation)].to_string(),
            Any::Fixed => self.data.fixed_evals[&(column_index, rotation)].to_string(),
            Any::Instance => self.data.instance_eval.to_string(),
        }
    }

    fn reset(&self) {
        *self.var_counter.borrow_mut() = Default::default();
    }

    fn evaluate_and_reset(&self, expression: &Expression<F>) -> (Vec<String>, String) {
        let result = self.evaluate(expression);
        self.reset();
        result
    }

    /// Yul for `expression`: lines that store intermediate values, and the expression of the
    /// result. A value is written to a memory word when it occurs more than once in the
    /// expression (computed once) or when inlining it would nest deeper than
    /// [`MAX_INLINE_DEPTH`] (each nesting level holds two stack slots above `r`); otherwise it is
    /// inlined into its parent, which keeps the bytecode small.
    fn evaluate(&self, expression: &Expression<F>) -> (Vec<String>, String) {
        // Pass 1: intern every node by its operation and its operands' ids, count occurrences.
        let ids: RefCell<HashMap<String, usize>> = Default::default();
        let counts: RefCell<HashMap<usize, usize>> = Default::default();
        let intern = |key: String| -> usize {
            let mut ids = ids.borrow_mut();
            let next = ids.len();
            let id = *ids.entry(key).or_insert(next);
            *counts.borrow_mut().entry(id).or_default() += 1;
            id
        };
        evaluate(
            expression,
            &|constant| intern(u256_string(constant)),
            &|query| intern(self.eval(Fixed, query.column_index(), query.rotation().0)),
            &|query| intern(self.eval(Advice::default(), query.column_index(), query.rotation().0)),
            &|_| intern(self.data.instance_eval.to_string()),
            &|challenge| intern(self.data.challenges[challenge.index()].to_string()),
            &|a| intern(format!("neg {a}")),
            &|a, b| intern(format!("add {a} {b}")),
            &|a, b| intern(format!("mul {a} {b}")),
            &|a, scalar| intern(format!("scale {a} {}", u256_string(scalar))),
        );
        // Pass 2: emit, materializing shared or deep values.
        let ids = ids.into_inner();
        let counts = counts.into_inner();
        let stored: RefCell<HashMap<usize, String>> = Default::default();
        let id_of = |key: String| ids[&key];
        let leaf = |value: String| Node { lines: vec![], expr: value.clone(), depth: 0, id: id_of(value) };
        let op = |key: String, expr: String, operands: Vec<Node>| -> Node {
            let id = id_of(key);
            if let Some(var) = stored.borrow().get(&id) {
                return Node { lines: vec![], expr: var.clone(), depth: 0, id };
            }
            let depth = 1 + operands.iter().map(|n| n.depth).max().unwrap_or(0);
            let mut lines: Vec<String> = operands.into_iter().flat_map(|n| n.lines).collect();
            if counts[&id] > 1 || depth > MAX_INLINE_DEPTH {
                let slot = self.next_slot();
                let var = format!("mload({slot})");
                lines.push(format!("mstore({slot}, {expr})"));
                stored.borrow_mut().insert(id, var.clone());
                Node { lines, expr: var, depth: 0, id }
            } else {
                Node { lines, expr, depth, id }
            }
        };
        let node = evaluate(
            expression,
            &|constant| leaf(u256_string(constant)),
            &|query| leaf(self.eval(Fixed, query.column_index(), query.rotation().0)),
            &|query| leaf(self.eval(Advice::default(), query.column_index(), query.rotation().0)),
            &|_| leaf(self.data.instance_eval.to_string()),
            &|challenge| leaf(self.data.challenges[challenge.index()].to_string()),
            &|a: Node| op(format!("neg {}", a.id), format!("sub(r, {})", a.expr), vec![a]),
            &|a: Node, b: Node| {
                op(format!("add {} {}", a.id, b.id), format!("addmod({}, {}, r)", a.expr, b.expr), vec![a, b])
            },
            &|a: Node, b: Node| {
                op(format!("mul {} {}", a.id, b.id), format!("mulmod({}, {}, r)", a.expr, b.expr), vec![a, b])
            },
            &|a: Node, scalar| {
                let scalar = u256_string(scalar);
                op(format!("scale {} {scalar}", a.id), format!("mulmod({}, {scalar}, r)", a.expr), vec![a])
            },
        );
        (node.lines, node.expr)
    }

    fn next_slot(&self) -> Ptr {
        let count = *self.var_counter.borrow();
        *self.var_counter.borrow_mut() += 1;
        self.scratch + count
    }
}

fn u256_string(value: U256) -> String {
    if value.bit_len() < 64 {
        format!("0x{:x}", value.as_limbs()[0])
    } else {
        format!("0x{value:x}")
    }
}

#[allow(clippy::too_many_arguments)]
fn evaluate<F, T>(
    expression: &Expression<F>,
    constant: &impl Fn(U256) -> T,
    fixed: &impl Fn(FixedQuery) -> T,
    advice: &impl Fn(AdviceQuery) -> T,
    instance: &impl Fn(InstanceQuery) -> T,
    challenge: &impl Fn(Challenge) -> T,
    negated: &impl Fn(T) -> T,
    sum: &impl Fn(T, T) -> T,
    product: &impl Fn(T, T) -> T,
    scaled: &impl Fn(T, U256) -> T,
) -> T
where
    F: PrimeField<Repr = [u8; 0x20]>,
{
    let evaluate = |expr| evaluate(expr, constant, fixed, advice, instance, challenge, negated, sum, product, scaled);
    match expression {
        Expression::Constant(scalar) => constant(fe_to_u256(*scalar)),
        // keygen turns selectors into fixed columns: a verifying key's gates hold none.
        Expression::Selector(_) => unreachable!("selectors are fixed columns after keygen"),
        Expression::Fixed(query) => fixed(*query),
        Expression::Advice(query) => advice(*query),
        Expression::Instance(query) => instance(*query),
        Expression::Challenge(value) => challenge(*value),
        Expression::Negated(value) => negated(evaluate(value)),
        Expression::Sum(lhs, rhs) => sum(evaluate(lhs), evaluate(rhs)),
        Expression::Product(lhs, rhs) => product(evaluate(lhs), evaluate(rhs)),
        Expression::Scaled(value, scalar) => scaled(evaluate(value), fe_to_u256(*scalar)),
    }
}
