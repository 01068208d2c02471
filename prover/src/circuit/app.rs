//! The app circuit: one proof over a batch of samples for a linear/logistic filter, an MLP
//! autoencoder or a tree ensemble ([`super::tree`]), exposing the public-instance layout of
//! [`super::instances`].
//!
//! Inputs are private witnesses, range-checked and hashed to the input commitment. The model's
//! parameters are either private witnesses, range-checked and hashed to the model commitment
//! ([`Visibility::Committed`]), or constants of the circuit with the commitment a constant too
//! ([`Visibility::Fixed`]). The shape (family, widths, fixed-point format, batch size, and in
//! fixed mode the parameters) is fixed by the circuit.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::Constant;
use serde::{Deserialize, Serialize};

use super::commit::{self, hash_assigned, pack_assigned, pack_params_assigned};
use super::field::{fr_from_i64, fr_to_be_bytes};
use super::fixed_point::FixedPointChip;
use super::instances::{AppInstances, InstanceLayout};
use super::poseidon::PoseidonRequests;
use super::tree::LoadedTrees;
use super::tree_fixed::FixedTrees;
use super::tree_lookup::{LookupTrees, TreeLookups};
use super::visibility::{validate_fixed_params, Visibility};
use super::CircuitError;
use crate::quant::{Family, ModelShape, QBody, QuantizedModel};

/// Largest batch one proof may carry.
pub const MAX_BATCH_SIZE: usize = 1024;

/// Everything that determines the app circuit (besides the halo2 configuration).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppShape {
    /// The model's public shape.
    pub model: ModelShape,
    /// Samples per proof.
    pub batch_size: usize,
    /// [`Visibility::Fixed`]: the model's canonical parameters (`QuantizedModel::params`), which
    /// the circuit holds as constants, so the shape, the circuit digest and the key pin the
    /// model. Absent for [`Visibility::Committed`] (and from its serialized form, so committed
    /// circuit digests are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_params: Option<Vec<i64>>,
    /// Whether the proof exposes a score per sample (packed at the model's `value_bits`); chosen
    /// at keygen and part of the circuit's identity. A policy on flagged counts or verdicts
    /// (the circuit breaker's counts, the verdict filter) needs none.
    pub has_scores: bool,
}

impl AppShape {
    /// The circuit for `model` at `batch_size` with the model held as `visibility` says.
    pub fn for_model(model: &QuantizedModel, batch_size: usize, visibility: Visibility) -> Self {
        let fixed_params = (visibility == Visibility::Fixed).then(|| model.params());
        Self { model: model.shape(), batch_size, fixed_params, has_scores: true }
    }

    /// The committed-model circuit of `model` shape at `batch_size`, exposing scores.
    pub fn new(model: ModelShape, batch_size: usize) -> Self {
        Self { model, batch_size, fixed_params: None, has_scores: true }
    }

    /// The same shape with or without scores.
    pub fn with_scores(self, has_scores: bool) -> Self {
        Self { has_scores, ..self }
    }

    /// How this circuit holds the model.
    pub fn visibility(&self) -> Visibility {
        if self.fixed_params.is_some() {
            Visibility::Fixed
        } else {
            Visibility::Committed
        }
    }

    /// Checks natively that a fixed model can be constants of this circuit (no-op when committed).
    pub fn validate(&self) -> Result<(), CircuitError> {
        match &self.fixed_params {
            Some(params) => validate_fixed_params(&self.model, params),
            None => Ok(()),
        }
    }

    /// Checks that `witness` fits this circuit: the same model shape and batch size and, when the
    /// model is fixed, the same parameters (refused with both commitments named, before any
    /// proving work).
    pub fn check_witness(&self, witness: &AppWitness) -> Result<(), CircuitError> {
        let found = witness.shape();
        if found.model != self.model || found.batch_size != self.batch_size || found.has_scores != self.has_scores {
            return Err(CircuitError::ShapeMismatch {
                expected: serde_json::to_string(
                    &AppShape::new(self.model.clone(), self.batch_size).with_scores(self.has_scores),
                )
                .unwrap_or_default(),
                found: serde_json::to_string(&found).unwrap_or_default(),
            });
        }
        if let Some(params) = &self.fixed_params {
            let theirs = witness.model.params();
            if &theirs != params {
                let hex = |params: &[i64]| {
                    format!("0x{}", hex::encode(fr_to_be_bytes(&commit::model_commitment(&self.model, params))))
                };
                return Err(CircuitError::ModelMismatch { expected: hex(params), found: hex(&theirs) });
            }
        }
        Ok(())
    }

    /// The public-instance layout of this circuit: scores (when exposed) are packed at the
    /// width every score is range-checked to, the fixed-point format's `value_bits`.
    pub fn layout(&self) -> InstanceLayout {
        InstanceLayout {
            batch_size: self.batch_size,
            score_bits: self.has_scores.then_some(self.model.fixed.value_bits),
        }
    }
}

/// The private inputs of one proof.
#[derive(Clone, Debug)]
pub struct AppWitness {
    /// The quantized model.
    pub model: QuantizedModel,
    /// Quantized input rows, padded with zero rows to the batch size.
    pub rows: Vec<Vec<i64>>,
    /// Real rows (the rest is padding).
    pub sample_count: usize,
    /// Blinding salt of the input commitment.
    pub salt: Fr,
    /// Context binding (see [`super::instances`]).
    pub context: Fr,
    /// Whether the proof exposes scores (see [`AppShape::has_scores`]).
    pub has_scores: bool,
}

impl AppWitness {
    /// Pads `rows` to `batch_size` and checks that the reference inference accepts every row
    /// (so the circuit will be satisfiable).
    pub fn new(
        model: QuantizedModel,
        rows: Vec<Vec<i64>>,
        batch_size: usize,
        salt: Fr,
        context: Fr,
    ) -> Result<Self, CircuitError> {
        if rows.is_empty() || rows.len() > batch_size || batch_size > MAX_BATCH_SIZE {
            return Err(CircuitError::BatchSize { rows: rows.len(), batch_size });
        }
        let sample_count = rows.len();
        let mut rows = rows;
        rows.resize(batch_size, vec![0; model.n_features()]);
        let witness = Self { model, rows, sample_count, salt, context, has_scores: true };
        witness.expected_instances()?;
        Ok(witness)
    }

    /// The same witness for the circuit with or without scores.
    pub fn with_scores(self, has_scores: bool) -> Self {
        Self { has_scores, ..self }
    }

    /// A witness of `shape` with all-zero inputs, for key generation: an all-zero model when
    /// the model is committed, the fixed model itself when it is fixed.
    pub fn dummy(shape: &AppShape) -> Self {
        let features: Vec<String> = (0..shape.model.n_features).map(|i| format!("f{i}")).collect();
        let params = shape.fixed_params.clone().unwrap_or_else(|| vec![0; shape.model.param_count()]);
        let model = shape.model.model_from_params("keygen", &features, &params);
        Self {
            rows: vec![vec![0; shape.model.n_features]; shape.batch_size],
            model,
            sample_count: 1,
            salt: Fr::zero(),
            context: Fr::zero(),
            has_scores: shape.has_scores,
        }
    }

    /// The committed-model circuit this witness fits (see [`AppShape::for_model`] for the fixed one).
    pub fn shape(&self) -> AppShape {
        AppShape::new(self.model.shape(), self.rows.len()).with_scores(self.has_scores)
    }

    /// The public instances, computed natively from the integer reference; refuses a sample whose
    /// score does not fit the packed width (the circuit would be unsatisfiable).
    pub fn expected_instances(&self) -> Result<AppInstances, CircuitError> {
        let shape = self.shape();
        let fixed = self.model.fixed;
        let mut decisions = Vec::with_capacity(self.rows.len());
        let mut scores = Vec::with_capacity(self.rows.len());
        for (i, row) in self.rows.iter().enumerate() {
            let out = self.model.infer(row).map_err(|source| CircuitError::Sample { index: i, source })?;
            let real = i < self.sample_count;
            if !fixed.fits(out.score as i128) {
                return Err(CircuitError::ScoreRange { index: i, score: out.score as i128, bits: fixed.value_bits });
            }
            decisions.push(real && out.decision);
            scores.push(if real { out.score as i128 } else { 0 });
        }
        if !shape.has_scores {
            scores.clear();
        }
        Ok(AppInstances {
            layout: shape.layout(),
            model_commitment: commit::model_commitment(&shape.model, &self.model.params()),
            input_commitment: commit::input_commitment(&self.rows, self.salt, fixed.value_bits),
            context: self.context,
            sample_count: self.sample_count,
            decisions,
            scores,
        })
    }
}

/// One dense layer as assigned cells: weights (rows = outputs), biases, ReLU flag.
type LoadedLayer = (Vec<Vec<AssignedValue<Fr>>>, Vec<AssignedValue<Fr>>, bool);
/// Standardization as assigned cells: means and inverse scales.
type LoadedStandardize = (Vec<AssignedValue<Fr>>, Vec<AssignedValue<Fr>>);

/// A tree ensemble as the circuit evaluates it.
enum TreeEval {
    /// Private parameters behind the commitment: nodes selected along the path by multiplexers.
    Committed(LoadedTrees),
    /// Private parameters behind the commitment: nodes, inputs and leaves looked up.
    Lookup(LookupTrees),
    /// Constant parameters: no feature or threshold selection.
    Fixed(FixedTrees),
}

/// Model parameters as assigned cells (or constants), in the structure of the model body.
struct LoadedModel {
    standardize: Option<LoadedStandardize>,
    layers: Vec<LoadedLayer>,
    trees: Option<TreeEval>,
    threshold: AssignedValue<Fr>,
    autoencoder: bool,
    /// A fixed linear or MLP model: its parameters as constants of the chip's constant-operand
    /// operations (`standardize` and `layers` are then empty).
    constant: Option<QuantizedModel>,
}

impl LoadedModel {
    /// Assigns the canonical parameters (see `QuantizedModel::params`), each constrained to the
    /// width it is packed at: tree feature indices to `< n_features`, everything else to a
    /// signed value. Returns the cells in canonical order and their structured view. With
    /// `lookups`, a tree ensemble is evaluated by lookups ([`LookupTrees`]).
    fn load(
        ctx: &mut Context<Fr>,
        chip: &FixedPointChip<'_>,
        shape: &ModelShape,
        params: &[i64],
        lookups: Option<&mut TreeLookups>,
    ) -> (Vec<AssignedValue<Fr>>, Self) {
        if shape.family != Family::TreeEnsemble {
            let cells: Vec<_> = params.iter().map(|&p| chip.load_value(ctx, p)).collect();
            let model = Self::from_flat(shape, &cells);
            return (cells, model);
        }
        let trees = shape.tree_shape();
        let indices = trees.n_trees * trees.internal_nodes();
        let features: Vec<_> = params[..indices].iter().map(|&f| ctx.load_witness(Fr::from(f as u64))).collect();
        // Circuits with the tree lookup (new with it) check values in one chain each (fewer
        // cells); the multiplexer circuits keep their layout and digests.
        let chained = lookups.is_some();
        let values: Vec<_> = params[indices..].iter().map(|&p| load_value(ctx, chip, p, chained)).collect();
        let (body, threshold) = values.split_at(values.len() - 1);
        let eval = match lookups {
            Some(lookups) => {
                TreeEval::Lookup(LookupTrees::load(ctx, trees, shape.n_features, &features, body, lookups))
            }
            None => TreeEval::Committed(LoadedTrees::load(ctx, chip, trees, shape.n_features, &features, body)),
        };
        let model = Self {
            standardize: None,
            layers: vec![],
            trees: Some(eval),
            threshold: threshold[0],
            autoencoder: false,
            constant: None,
        };
        (features.into_iter().chain(values).collect(), model)
    }

    /// The fixed model as constants: no range checks (the parameters were validated natively,
    /// see [`validate_fixed_params`]) and no parameter cells: linear and MLP parameters are
    /// constants of the chip's constant-operand operations, tree nodes of [`FixedTrees`].
    fn constant(ctx: &mut Context<Fr>, model: &QuantizedModel) -> Self {
        let shape = model.shape();
        if let QBody::Trees { trees, base } = &model.body {
            return Self {
                standardize: None,
                layers: vec![],
                trees: Some(TreeEval::Fixed(FixedTrees::new(trees, *base))),
                threshold: ctx.load_constant(fr_from_i64(model.threshold)),
                autoencoder: false,
                constant: None,
            };
        }
        Self {
            standardize: None,
            layers: vec![],
            trees: None,
            threshold: ctx.load_constant(fr_from_i64(model.threshold)),
            autoencoder: shape.family == Family::MlpAutoencoder,
            constant: Some(model.clone()),
        }
    }

    /// Splits the canonical flat parameter cells of a linear or MLP model.
    fn from_flat(shape: &ModelShape, flat: &[AssignedValue<Fr>]) -> Self {
        let mut it = flat.iter().copied();
        let mut take = |n: usize| it.by_ref().take(n).collect::<Vec<_>>();
        let n = shape.n_features;
        let standardize = shape.standardize.then(|| (take(n), take(n)));
        let layers = match shape.family {
            // A linear model is one layer with one output and no activation.
            Family::Linear => vec![(vec![take(n)], take(1), false)],
            Family::MlpAutoencoder => {
                let mut width = n;
                shape
                    .layers
                    .iter()
                    .map(|&(outs, relu)| {
                        let weights = (0..outs).map(|_| take(width)).collect();
                        let layer = (weights, take(outs), relu);
                        width = outs;
                        layer
                    })
                    .collect()
            }
            Family::TreeEnsemble => unreachable!("tree parameters are loaded by LoadedModel::load or ::constant"),
        };
        let threshold = take(1)[0];
        Self {
            standardize,
            layers,
            trees: None,
            threshold,
            autoencoder: shape.family == Family::MlpAutoencoder,
            constant: None,
        }
    }
}

/// Lays out the app circuit `shape` in `builder` (which must have its lookup bits set) and its
/// hashes in `poseidon` (see [`super::app_circuit`]) for `witness` (its inputs; its model too
/// unless `shape` fixes the model), exposes the public instances through
/// `builder.assigned_instances` and returns their values (decode them with
/// [`AppInstances::from_slice`]; a dishonest witness may produce values that do not decode).
/// With `lookups` (only for a committed tree ensemble), the ensemble is evaluated by lookups
/// recorded there ([`super::tree_lookup`]). Callers check the witness first
/// ([`AppShape::check_witness`]).
pub fn synthesize(
    builder: &mut BaseCircuitBuilder<Fr>,
    poseidon: &mut PoseidonRequests,
    mut lookups: Option<&mut TreeLookups>,
    shape: &AppShape,
    witness: &AppWitness,
) -> Vec<Fr> {
    let range = builder.range_chip();
    let fixed = shape.model.fixed;
    let chip = FixedPointChip::new(&range, fixed);
    let gate = range.gate();
    let ctx = builder.main(0);

    let (model_commitment, model) = match &shape.fixed_params {
        // Model parameters: loaded, range-checked, committed.
        None => {
            let (params, model) =
                LoadedModel::load(ctx, &chip, &shape.model, &witness.model.params(), lookups.as_deref_mut());
            let mut model_elements =
                vec![ctx.load_constant(commit::model_domain()), ctx.load_constant(commit::shape_tag(&shape.model))];
            model_elements.extend(pack_params_assigned(ctx, gate, &shape.model, &params));
            (hash_assigned(ctx, gate, poseidon, &model_elements), model)
        }
        // The fixed model: constants, and its commitment a constant computed natively.
        Some(params) => {
            let commitment = commit::model_commitment(&shape.model, params);
            let fixed_model = shape.model.model_from_params("fixed", &witness.model.features, params);
            (ctx.load_constant(commitment), LoadedModel::constant(ctx, &fixed_model))
        }
    };

    // Inputs: loaded, range-checked, committed with the salt. A fixed model's circuit and a
    // tree-lookup circuit check them in one chain each (fewer cells; the other committed
    // circuits keep their layout and digest).
    let chained = shape.fixed_params.is_some() || lookups.is_some();
    let load_input = |ctx: &mut Context<Fr>, x: i64| load_value(ctx, &chip, x, chained);
    let rows: Vec<Vec<_>> = witness.rows.iter().map(|row| row.iter().map(|&x| load_input(ctx, x)).collect()).collect();
    let salt = ctx.load_witness(witness.salt);
    let mut input_elements = vec![ctx.load_constant(commit::input_domain()), salt];
    let flat: Vec<_> = rows.iter().flatten().copied().collect();
    input_elements.extend(pack_assigned(ctx, gate, &flat, fixed.value_bits));
    let input_commitment = hash_assigned(ctx, gate, poseidon, &input_elements);

    let context = ctx.load_witness(witness.context);

    // 1 <= sample_count <= batch_size, and a mask per row.
    let count = ctx.load_witness(Fr::from(witness.sample_count as u64));
    let count_minus_one = gate.sub(ctx, count, Constant(Fr::one()));
    range.check_less_than_safe(ctx, count_minus_one, shape.batch_size as u64);
    let count_bits = (usize::BITS - shape.batch_size.leading_zeros()) as usize + 1;

    let mut decisions = Vec::with_capacity(shape.batch_size);
    let mut scores = Vec::with_capacity(shape.batch_size);
    for (i, x) in rows.iter().enumerate() {
        let (score, decision) = infer_row(ctx, &chip, &model, lookups.as_deref_mut(), x, i);
        let mask = range.is_less_than(ctx, Constant(Fr::from(i as u64)), count, count_bits);
        decisions.push(gate.mul(ctx, decision, mask));
        scores.push(gate.mul(ctx, score, mask));
    }
    let header = [model_commitment, input_commitment, context, count];
    let public = super::outputs::expose(ctx, &range, &shape.layout(), header, &decisions, &scores);
    let values: Vec<Fr> = public.iter().map(|a| *a.value()).collect();
    builder.assigned_instances = vec![public];
    values
}

/// Loads `v` as a range-checked value: in one chain ([`FixedPointChip::check_signed_chained`])
/// when `chained`, else by [`FixedPointChip::load_value`] (the same constraint, more cells).
fn load_value(ctx: &mut Context<Fr>, chip: &FixedPointChip<'_>, v: i64, chained: bool) -> AssignedValue<Fr> {
    if !chained {
        return chip.load_value(ctx, v);
    }
    let a = ctx.load_witness(fr_from_i64(v));
    chip.check_signed_chained(ctx, a, chip.fixed().value_bits);
    a
}

/// Runs the model on one row of assigned inputs; returns `(score, decision)`.
fn infer_row(
    ctx: &mut Context<Fr>,
    chip: &FixedPointChip<'_>,
    model: &LoadedModel,
    lookups: Option<&mut TreeLookups>,
    x: &[AssignedValue<Fr>],
    sample: usize,
) -> (AssignedValue<Fr>, AssignedValue<Fr>) {
    if let Some(trees) = &model.trees {
        let score = match trees {
            TreeEval::Committed(trees) => trees.score(ctx, chip, x, sample),
            TreeEval::Lookup(trees) => {
                let lookups = lookups.expect("a lookup-evaluated ensemble is loaded with lookups");
                trees.score(ctx, chip, lookups, x, sample)
            }
            TreeEval::Fixed(trees) => trees.score(ctx, chip, x, sample),
        };
        return (score, chip.greater_than(ctx, score, model.threshold));
    }
    if let Some(constant) = &model.constant {
        let score = infer_constant(ctx, chip, constant, x);
        return (score, chip.greater_than(ctx, score, model.threshold));
    }
    let gate = chip.range().gate();
    let z: Vec<_> = match &model.standardize {
        Some((mean, inv_scale)) => x
            .iter()
            .zip(mean.iter().zip(inv_scale))
            .map(|(&xi, (&m, &s))| {
                let centred = gate.sub(ctx, xi, m);
                let prod = gate.mul(ctx, centred, s);
                chip.rescale(ctx, prod)
            })
            .collect(),
        None => x.to_vec(),
    };
    let mut a = z.clone();
    for (weights, bias, relu) in &model.layers {
        a = weights
            .iter()
            .zip(bias)
            .map(|(row, &b)| {
                let v = chip.affine(ctx, row, &a, b);
                if *relu {
                    chip.relu(ctx, v)
                } else {
                    v
                }
            })
            .collect();
    }
    let score = if model.autoencoder { chip.squared_error(ctx, &a, &z) } else { a[0] };
    let decision = chip.greater_than(ctx, score, model.threshold);
    (score, decision)
}

/// The score of a fixed linear or MLP `model` on one row, its parameters constants of the
/// chip's constant-operand operations (the same values and range checks as [`infer_row`]'s
/// general path).
fn infer_constant(
    ctx: &mut Context<Fr>,
    chip: &FixedPointChip<'_>,
    model: &QuantizedModel,
    x: &[AssignedValue<Fr>],
) -> AssignedValue<Fr> {
    let z: Vec<_> = match &model.standardize {
        Some(s) => x
            .iter()
            .zip(s.mean.iter().zip(&s.inv_scale))
            .map(|(&xi, (&m, &inv))| chip.standardize_constant(ctx, xi, m, inv))
            .collect(),
        None => x.to_vec(),
    };
    match &model.body {
        QBody::Linear { weights, bias } => chip.affine_constant(ctx, weights, &z, *bias),
        QBody::Mlp { layers } => {
            let mut a = z.clone();
            for layer in layers {
                a = layer
                    .weights
                    .iter()
                    .zip(&layer.bias)
                    .map(|(row, &b)| {
                        let v = chip.affine_constant(ctx, row, &a, b);
                        if layer.relu {
                            chip.relu(ctx, v)
                        } else {
                            v
                        }
                    })
                    .collect();
            }
            chip.squared_error(ctx, &a, &z)
        }
        QBody::Trees { .. } => unreachable!("fixed trees are evaluated by FixedTrees"),
    }
}
