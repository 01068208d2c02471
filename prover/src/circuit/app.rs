//! The app circuit: one proof over a batch of samples for a linear/logistic filter, an MLP
//! autoencoder or a tree ensemble ([`super::tree`]), exposing the public-instance layout of
//! [`super::instances`].
//!
//! Everything the model needs is a private witness: parameters are loaded, range-checked and
//! hashed to the model commitment; inputs likewise to the input commitment. The shape (family,
//! widths, fixed-point format, batch size) is fixed by the circuit.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::{GateInstructions, RangeInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::Constant;
use serde::{Deserialize, Serialize};

use super::commit::{self, hash_assigned, pack_assigned, pack_params_assigned};
use super::fixed_point::FixedPointChip;
use super::instances::{AppInstances, InstanceLayout};
use super::poseidon::PoseidonRequests;
use super::tree::LoadedTrees;
use super::CircuitError;
use crate::quant::{Family, ModelShape, QuantizedModel};

/// Largest batch one proof may carry.
pub const MAX_BATCH_SIZE: usize = 1024;

/// Everything that determines the app circuit (besides the halo2 configuration).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppShape {
    /// The model's public shape.
    pub model: ModelShape,
    /// Samples per proof.
    pub batch_size: usize,
    /// Whether the proof exposes a score per sample (packed at the model's `value_bits`); chosen
    /// at keygen and part of the circuit's identity. A policy on flagged counts or verdicts
    /// (the circuit breaker's counts, the verdict filter) needs none.
    pub has_scores: bool,
}

impl AppShape {
    /// The shape of `model` at `batch_size`, exposing scores.
    pub fn new(model: ModelShape, batch_size: usize) -> Self {
        Self { model, batch_size, has_scores: true }
    }

    /// The same shape with or without scores.
    pub fn with_scores(self, has_scores: bool) -> Self {
        Self { has_scores, ..self }
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

    /// An all-zero witness of `shape`, for key generation.
    pub fn dummy(shape: &AppShape) -> Self {
        let features: Vec<String> = (0..shape.model.n_features).map(|i| format!("f{i}")).collect();
        let params = vec![0; shape.model.param_count()];
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

    /// The shape this witness fits.
    pub fn shape(&self) -> AppShape {
        AppShape { model: self.model.shape(), batch_size: self.rows.len(), has_scores: self.has_scores }
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

/// Model parameters as assigned cells, in the structure of the model body.
struct LoadedModel {
    standardize: Option<LoadedStandardize>,
    layers: Vec<LoadedLayer>,
    trees: Option<LoadedTrees>,
    threshold: AssignedValue<Fr>,
    autoencoder: bool,
}

impl LoadedModel {
    /// Assigns the canonical parameters (see `QuantizedModel::params`), each constrained to the
    /// width it is packed at: tree feature indices to `< n_features`, everything else to a
    /// signed value. Returns the cells in canonical order and their structured view.
    fn load(
        ctx: &mut Context<Fr>,
        chip: &FixedPointChip<'_>,
        shape: &ModelShape,
        params: &[i64],
    ) -> (Vec<AssignedValue<Fr>>, Self) {
        if shape.family != Family::TreeEnsemble {
            let cells: Vec<_> = params.iter().map(|&p| chip.load_value(ctx, p)).collect();
            let model = Self::from_flat(shape, &cells);
            return (cells, model);
        }
        let trees = shape.tree_shape();
        let indices = trees.n_trees * trees.internal_nodes();
        let features: Vec<_> = params[..indices].iter().map(|&f| ctx.load_witness(Fr::from(f as u64))).collect();
        let values: Vec<_> = params[indices..].iter().map(|&p| chip.load_value(ctx, p)).collect();
        let (body, threshold) = values.split_at(values.len() - 1);
        let loaded = LoadedTrees::load(ctx, chip, trees, shape.n_features, &features, body);
        let model = Self {
            standardize: None,
            layers: vec![],
            trees: Some(loaded),
            threshold: threshold[0],
            autoencoder: false,
        };
        (features.into_iter().chain(values).collect(), model)
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
            Family::TreeEnsemble => unreachable!("tree parameters are loaded by LoadedModel::load"),
        };
        let threshold = take(1)[0];
        Self { standardize, layers, trees: None, threshold, autoencoder: shape.family == Family::MlpAutoencoder }
    }
}

/// Lays out the app circuit in `builder` (which must have its lookup bits set) and its hashes
/// in `poseidon` (see [`super::app_circuit`]), exposes the public instances through `builder.assigned_instances` and returns their values (decode them
/// with [`AppInstances::from_slice`]; a dishonest witness may produce values that do not decode).
pub fn synthesize(
    builder: &mut BaseCircuitBuilder<Fr>,
    poseidon: &mut PoseidonRequests,
    witness: &AppWitness,
) -> Vec<Fr> {
    let range = builder.range_chip();
    let shape = witness.shape();
    let fixed = witness.model.fixed;
    let chip = FixedPointChip::new(&range, fixed);
    let gate = range.gate();
    let ctx = builder.main(0);

    // Model parameters: loaded, range-checked, committed.
    let (params, model) = LoadedModel::load(ctx, &chip, &shape.model, &witness.model.params());
    let mut model_elements =
        vec![ctx.load_constant(commit::model_domain()), ctx.load_constant(commit::shape_tag(&shape.model))];
    model_elements.extend(pack_params_assigned(ctx, gate, &shape.model, &params));
    let model_commitment = hash_assigned(ctx, gate, poseidon, &model_elements);

    // Inputs: loaded, range-checked, committed with the salt.
    let rows: Vec<Vec<_>> =
        witness.rows.iter().map(|row| row.iter().map(|&x| chip.load_value(ctx, x)).collect()).collect();
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
        let (score, decision) = infer_row(ctx, &chip, &model, x, i);
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

/// Runs the model on one row of assigned inputs; returns `(score, decision)`.
fn infer_row(
    ctx: &mut Context<Fr>,
    chip: &FixedPointChip<'_>,
    model: &LoadedModel,
    x: &[AssignedValue<Fr>],
    sample: usize,
) -> (AssignedValue<Fr>, AssignedValue<Fr>) {
    if let Some(trees) = &model.trees {
        let score = trees.score(ctx, chip, x, sample);
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
