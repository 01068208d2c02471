//! Real data: scikit-learn's breast-cancer set (569 samples, 30 features), with the models
//! exported by `scripts/train_reference.py`: the logistic filter, the 30-16-8-16-30 autoencoder
//! and the tree ensembles (decision tree, random forest, gradient boosting, XGBoost, isolation
//! forest). Quantized decisions must agree with the float decisions on at least 99.5% of the
//! samples. The circuit's outputs must equal the integer reference on every sample for the
//! linear and MLP models; tree circuits are larger per sample (and property-tested against the
//! reference in `circuit::tree_tests`), so they are laid out on the first batches only.

use std::path::{Path, PathBuf};

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use zkguard_prover::check::check_model;
use zkguard_prover::circuit::config::{AppCircuitConfig, DEFAULT_MAX_ADVICE_COLUMNS};
use zkguard_prover::circuit::{AppShape, AppWitness};
use zkguard_prover::data::load_csv;
use zkguard_prover::model::load_model;
use zkguard_prover::quant::{calibrate, QuantizedModel, DEFAULT_HEADROOM_BITS};

const BATCH: usize = 64;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(name: &str) -> (QuantizedModel, Vec<Vec<i64>>, f64) {
    let model = load_model(&root().join(format!("models/breast_cancer_{name}.json"))).unwrap();
    let data = load_csv(&root().join(format!("data/breast_cancer_{name}.csv")), &model.features).unwrap();
    assert_eq!(data.rows.len(), 569);
    let quantized = calibrate(&model, &data.rows, DEFAULT_HEADROOM_BITS).unwrap();
    let report = check_model(&model, &quantized, &data).unwrap();
    println!("{report}");
    assert!(report.agreement >= 0.995, "{name}: agreement {:.4} below 99.5%", report.agreement);
    assert!(report.float_reference_max_abs_diff.unwrap() < 1e-9, "Rust and exporter float semantics differ");
    let rows = data.rows.iter().map(|r| quantized.quantize_input(r).unwrap()).collect();
    (quantized, rows, report.agreement)
}

/// Lays out every batch and compares the circuit's public outputs with the integer reference;
/// runs the mock prover on the first batch.
fn circuit_equals_reference(model: QuantizedModel, rows: Vec<Vec<i64>>) {
    circuit_equals_reference_on(model, rows, BATCH, usize::MAX);
}

/// [`circuit_equals_reference`] with `batch` samples per proof, on the first `batches` batches.
fn circuit_equals_reference_on(model: QuantizedModel, rows: Vec<Vec<i64>>, batch: usize, batches: usize) {
    let shape = AppShape::new(model.shape(), batch);
    let config = AppCircuitConfig::choose(&shape, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    for (b, chunk) in rows.chunks(batch).take(batches).enumerate() {
        let witness =
            AppWitness::new(model.clone(), chunk.to_vec(), batch, Fr::from(b as u64), Fr::from(42u64)).unwrap();
        let expected = witness.expected_instances().unwrap();
        let (builder, values) = config.builder(CircuitBuilderStage::Mock, &witness).unwrap();
        assert_eq!(values, expected.to_vec(), "batch {b}: circuit outputs differ from the integer reference");
        if b == 0 {
            MockProver::run(config.k(), &builder, vec![values]).unwrap().assert_satisfied();
        }
    }
}

#[test]
fn logistic_filter_on_breast_cancer() {
    let (model, rows, _) = load("logistic");
    circuit_equals_reference(model, rows);
}

#[test]
fn autoencoder_on_breast_cancer() {
    let (model, rows, _) = load("autoencoder");
    circuit_equals_reference(model, rows);
}

#[test]
fn decision_tree_on_breast_cancer() {
    let (model, rows, _) = load("decision_tree");
    circuit_equals_reference_on(model, rows, 16, 2);
}

#[test]
fn random_forest_on_breast_cancer() {
    let (model, rows, _) = load("random_forest");
    circuit_equals_reference_on(model, rows, 4, 1);
}

#[test]
fn gradient_boosting_on_breast_cancer() {
    let (model, rows, _) = load("gbt");
    let trees = model.shape().trees.unwrap();
    assert_eq!(trees.n_trees, 50);
    circuit_equals_reference_on(model, rows, 2, 1);
}

#[test]
fn xgboost_on_breast_cancer() {
    let (model, _, _) = load("xgboost");
    assert_eq!(model.shape().trees.unwrap().n_trees, 50);
}

#[test]
fn isolation_forest_on_breast_cancer() {
    let (model, _, _) = load("isolation_forest");
    let trees = model.shape().trees.unwrap();
    assert_eq!((trees.n_trees, trees.depth), (100, 8), "100 trees grown on 256 samples (height limit 8)");
}
