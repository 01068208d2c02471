//! Small models of each family, as (shape, canonical parameters), shared by the tests that
//! prove them (`prove_verify`) and the circuit digest drift test.

use zkguard_prover::quant::{Family, FixedPoint, ModelShape, TreeShape};

/// A standardized linear filter over 4 features.
pub fn linear() -> (ModelShape, Vec<i64>) {
    let fixed = FixedPoint { scale_bits: 10, value_bits: 40 };
    let shape =
        ModelShape { family: Family::Linear, n_features: 4, standardize: true, layers: vec![], fixed, trees: None };
    // mean (4), inv_scale (4), weights (4), bias, threshold
    (shape, vec![10, -20, 30, 0, 1024, 512, 2048, 1024, 700, -300, 50, 1, 20, 0])
}

/// A 3-2-3 MLP autoencoder.
pub fn autoencoder() -> (ModelShape, Vec<i64>) {
    let fixed = FixedPoint { scale_bits: 8, value_bits: 40 };
    let shape = ModelShape {
        family: Family::MlpAutoencoder,
        n_features: 3,
        standardize: false,
        layers: vec![(2, true), (3, false)],
        fixed,
        trees: None,
    };
    let params = (0..shape.param_count() as i64).map(|i| (i * 37 % 200) - 100).collect();
    (shape, params)
}

/// Two trees of depth 2 over 3 features.
pub fn trees() -> (ModelShape, Vec<i64>) {
    let fixed = FixedPoint { scale_bits: 8, value_bits: 40 };
    let shape = ModelShape {
        family: Family::TreeEnsemble,
        n_features: 3,
        standardize: false,
        layers: vec![],
        fixed,
        trees: Some(TreeShape { n_trees: 2, depth: 2 }),
    };
    // Per tree 3 internal nodes: feature indices (6), thresholds (6), leaves (2 x 4), base, threshold.
    let mut params = vec![0, 1, 2, 2, 0, 1];
    params.extend([100, -50, 300, 0, 20, -20]);
    params.extend([-256, 128, 512, 64, 32, -32, 16, 1024]);
    params.extend([10, 200]);
    (shape, params)
}
