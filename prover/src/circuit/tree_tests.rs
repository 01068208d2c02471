//! Mock-prover tests of tree ensembles: the circuit equals the integer reference on random
//! trees and inputs, and a dishonest prover (wrong leaf, flipped comparison, tampered leaf or
//! threshold, a path length that does not match the tree, a wrong output) is rejected.

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::app::{AppShape, AppWitness};
use super::config::{AppCircuitConfig, DEFAULT_MAX_ADVICE_COLUMNS};
use super::instances::AppInstances;
use super::tests::{assert_outputs_pinned, circuit_instances, circuit_instances_in, fixed_shape, mock, random_rows};
use super::tree::adversary::{self, Tamper};
use crate::quant::{Family, FixedPoint, ModelShape, QBody, QuantizedModel, TreeShape};

const FX: FixedPoint = FixedPoint { scale_bits: 8, value_bits: 40 };

pub(super) fn tree_shape(n_features: usize, n_trees: usize, depth: usize) -> ModelShape {
    ModelShape {
        family: Family::TreeEnsemble,
        n_features,
        standardize: false,
        layers: vec![],
        fixed: FX,
        trees: Some(TreeShape { n_trees, depth }),
    }
}

/// A random ensemble of `shape`: feature indices in range, thresholds in the inputs' range.
fn random_trees(shape: &ModelShape, rng: &mut impl Rng) -> QuantizedModel {
    let trees = shape.tree_shape();
    let indices = trees.n_trees * trees.internal_nodes();
    let mut params: Vec<i64> = (0..indices).map(|_| rng.gen_range(0..shape.n_features as i64)).collect();
    params.extend((0..indices).map(|_| rng.gen_range(-3000..=3000)));
    params.extend((0..trees.n_trees * trees.leaves() + 2).map(|_| rng.gen_range(-600..=600)));
    let features: Vec<String> = (0..shape.n_features).map(|i| format!("x{i}")).collect();
    shape.model_from_params("random trees", &features, &params)
}

pub(super) fn witness(shape: &ModelShape, seed: u64, count: usize, batch: usize) -> AppWitness {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let model = random_trees(shape, &mut rng);
    let rows = random_rows(shape.n_features, count, &mut rng);
    AppWitness::new(model, rows, batch, Fr::from(seed), Fr::from(3u64)).unwrap()
}

/// The instances a circuit laid out under `tamper` claims, and whether the mock prover accepts
/// them. A sound circuit never accepts a tampered run, whatever it claims.
fn tampered_run(witness: &AppWitness, tamper: Tamper) -> (Vec<Fr>, Result<(), String>) {
    tampered_run_in(&witness.shape(), witness, tamper)
}

/// [`tampered_run`] in the circuit `shape` (e.g. a fixed model's).
fn tampered_run_in(shape: &AppShape, witness: &AppWitness, tamper: Tamper) -> (Vec<Fr>, Result<(), String>) {
    adversary::with(tamper, || {
        let config = AppCircuitConfig::choose(shape, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
        let (builder, claimed) = config.builder(CircuitBuilderStage::Mock, witness).unwrap();
        let verdict = MockProver::run(config.k(), &builder, vec![claimed.clone()])
            .unwrap()
            .verify()
            .map_err(|e| format!("{} failures", e.len()));
        (claimed, verdict)
    })
}

/// The leaf (index within its tree) that `sample` reaches in `tree`.
pub(super) fn reached_leaf(witness: &AppWitness, sample: usize, tree: usize) -> usize {
    let QBody::Trees { trees, .. } = &witness.model.body else { panic!("a tree model") };
    trees[tree].walk(&witness.rows[sample]).0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn tree_circuit_equals_the_integer_reference(
        seed in any::<u64>(),
        n_features in 1usize..=6,
        n_trees in 1usize..=3,
        depth in 0usize..=3,
        count in 1usize..=3,
    ) {
        let witness = witness(&tree_shape(n_features, n_trees, depth), seed, count, 3);
        prop_assert_eq!(circuit_instances(&witness), witness.expected_instances().unwrap());
    }

    #[test]
    fn fixed_tree_circuit_equals_the_integer_reference(
        seed in any::<u64>(),
        n_features in 1usize..=6,
        n_trees in 1usize..=3,
        depth in 0usize..=4,
        count in 1usize..=3,
    ) {
        let witness = witness(&tree_shape(n_features, n_trees, depth), seed, count, 3);
        prop_assert_eq!(circuit_instances_in(&fixed_shape(&witness), &witness), witness.expected_instances().unwrap());
    }
}

/// Both circuits of a witness's model: committed, then fixed.
fn both_modes(w: &AppWitness) -> [AppShape; 2] {
    [w.shape(), fixed_shape(w)]
}

#[test]
fn honest_tree_witnesses_satisfy_the_circuit_and_decide_both_ways() {
    let shape = tree_shape(5, 4, 3);
    let w = witness(&shape, 11, 4, 4);
    let instances = circuit_instances(&w);
    assert_eq!(instances, w.expected_instances().unwrap());
    // The random model must exercise both branches somewhere, or the tests below prove little.
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let rows = &w.rows;
    let leaves: std::collections::BTreeSet<_> =
        (0..4).flat_map(|s| trees.iter().map(move |t| t.walk(&rows[s]).0 % 2)).collect();
    assert_eq!(leaves.len(), 2, "every sample went the same way at the last level");
}

#[test]
fn a_flipped_node_comparison_is_rejected_at_every_level() {
    let shape = tree_shape(5, 2, 3);
    let w = witness(&shape, 5, 2, 2);
    let honest = w.expected_instances().unwrap().to_vec();
    for shape in both_modes(&w) {
        for level in 0..3 {
            for (sample, tree) in [(0, 0), (1, 1)] {
                let (claimed, verdict) = tampered_run_in(&shape, &w, Tamper::FlipComparison { sample, tree, level });
                let mode = shape.visibility();
                assert!(
                    verdict.is_err(),
                    "{mode}: flipped comparison (sample {sample}, tree {tree}, level {level}) accepted"
                );
                if claimed != honest {
                    // The flip changed the outputs; the honest outputs are still all that verifies.
                    assert!(mock(&w, &AppInstances::from_slice(w.shape().layout(), &honest).unwrap()).is_ok());
                }
            }
        }
    }
}

#[test]
fn a_wrong_leaf_is_rejected_and_the_hook_itself_is_harmless() {
    let shape = tree_shape(4, 2, 3);
    let w = witness(&shape, 9, 2, 2);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    for shape in both_modes(&w) {
        let mode = shape.visibility();
        for (sample, tree) in [(0, 0), (0, 1), (1, 0)] {
            let reached = reached_leaf(&w, sample, tree);
            // Forcing the leaf the path reaches is what an honest prover does: accepted.
            let (claimed, verdict) = tampered_run_in(&shape, &w, Tamper::ForceLeaf { sample, tree, leaf: reached });
            assert_eq!(verdict, Ok(()), "{mode}");
            assert_eq!(claimed, w.expected_instances().unwrap().to_vec());
            for leaf in (0..8).filter(|&l| trees[tree].leaves[l] != trees[tree].leaves[reached]) {
                let (_, verdict) = tampered_run_in(&shape, &w, Tamper::ForceLeaf { sample, tree, leaf });
                assert!(
                    verdict.is_err(),
                    "{mode}: leaf {leaf} instead of {reached} accepted (sample {sample}, tree {tree})"
                );
            }
        }
    }
}

#[test]
fn a_wrong_selected_feature_is_rejected() {
    let shape = tree_shape(5, 2, 3);
    let w = witness(&shape, 17, 2, 2);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let mut tried = 0;
    for shape in both_modes(&w) {
        let mode = shape.visibility();
        for (sample, tree) in [(0, 0), (1, 1)] {
            // The node the sample's path visits at each level, and its feature.
            let row = &w.rows[sample];
            let mut pos = 0;
            for level in 0..3 {
                let honest = trees[tree].features[pos] as usize;
                let right = row[honest] > trees[tree].thresholds[pos];
                // The fixed circuit selects nothing at the root: its input cell is the node's own.
                if !(mode == super::Visibility::Fixed && level == 0) {
                    for feature in (0..5).filter(|&f| row[f] != row[honest]) {
                        let tamper = Tamper::ForceFeature { sample, tree, level, feature };
                        let (_, verdict) = tampered_run_in(&shape, &w, tamper);
                        assert!(verdict.is_err(), "{mode}: feature {feature} for {honest} accepted at level {level}");
                        tried += 1;
                    }
                }
                pos = 2 * pos + 1 + right as usize;
            }
        }
    }
    assert!(tried > 20, "only {tried} substitutions tried");
}

/// An isolation-forest-shaped model: leaf value = -(depth of the real leaf + c(n)) in fixed
/// point, trees padded from real depths 1..=3.
pub(super) fn isolation_forest_like() -> AppWitness {
    use crate::model::{SplitRule, Tree, TreeNode};
    use crate::quant::QTree;
    let path_length = |depth: f64, c: f64| -(depth + c);
    // Tree 0: x0 <= 1 ? leaf(depth 1) : (x2 <= -2 ? leaf(depth 2) : leaf(depth 2)).
    let t0 = Tree {
        nodes: vec![
            TreeNode::split(0, 1.0, 1, 2),
            TreeNode::leaf(path_length(1.0, 1.0)),
            TreeNode::split(2, -2.0, 3, 4),
            TreeNode::leaf(path_length(2.0, 0.0)),
            TreeNode::leaf(path_length(2.0, 2.1)),
        ],
    };
    // Tree 1: a chain of depth 3 on x1.
    let t1 = Tree {
        nodes: vec![
            TreeNode::split(1, 0.0, 1, 2),
            TreeNode::leaf(path_length(1.0, 0.0)),
            TreeNode::split(1, 2.0, 3, 4),
            TreeNode::leaf(path_length(2.0, 0.0)),
            TreeNode::split(1, 4.0, 5, 6),
            TreeNode::leaf(path_length(3.0, 0.0)),
            TreeNode::leaf(path_length(3.0, 1.0)),
        ],
    };
    let trees: Vec<QTree> = [t0, t1]
        .iter()
        .enumerate()
        .map(|(t, tree)| QTree::from_float(tree, t, 3, SplitRule::Le, FX).unwrap())
        .collect();
    let model = QuantizedModel {
        name: "isolation-forest-like".into(),
        features: vec!["a".into(), "b".into(), "c".into()],
        fixed: FX,
        standardize: None,
        body: QBody::Trees { trees, base: 0 },
        threshold: FX.quantize(-4.0).unwrap(),
    };
    let rows = [[2.0, 5.0, 0.0], [0.0, -1.0, 0.0], [3.0, 3.0, -3.0]]
        .iter()
        .map(|r| model.quantize_input(r).unwrap())
        .collect();
    AppWitness::new(model, rows, 3, Fr::from(1u64), Fr::from(2u64)).unwrap()
}

#[test]
fn a_path_length_that_does_not_match_the_tree_is_rejected() {
    let w = isolation_forest_like();
    let instances = circuit_instances(&w);
    // Sample 0 takes the longest paths (-(2 + 2.1) - (3 + 1) = -8.1 at 2^-8), sample 1 the
    // shortest (-(1 + 1) - (1 + 0) = -3): only sample 1 is isolated quickly enough to flag.
    let score = |s: usize| FX.to_f64(instances.scores[s]);
    assert_eq!((score(0), score(1), score(2)), (-8.1015625, -3.0, -5.0));
    assert_eq!(instances.decisions, vec![false, true, false]);
    for tree in 0..2 {
        let reached = reached_leaf(&w, 0, tree);
        for leaf in (0..8).filter(|&l| l != reached) {
            let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
            if trees[tree].leaves[leaf] == trees[tree].leaves[reached] {
                continue; // a padded copy of the same leaf: the same path length
            }
            let (_, verdict) = tampered_run(&w, Tamper::ForceLeaf { sample: 0, tree, leaf });
            assert!(verdict.is_err(), "path length of leaf {leaf} claimed for tree {tree}");
        }
    }
    // The same in the fixed circuit, whose path lengths are constants.
    let fixed = fixed_shape(&w);
    assert_eq!(circuit_instances_in(&fixed, &w), instances);
    for tree in 0..2 {
        let reached = reached_leaf(&w, 0, tree);
        let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
        for leaf in (0..8).filter(|&l| trees[tree].leaves[l] != trees[tree].leaves[reached]) {
            let (_, verdict) = tampered_run_in(&fixed, &w, Tamper::ForceLeaf { sample: 0, tree, leaf });
            assert!(verdict.is_err(), "fixed: path length of leaf {leaf} claimed for tree {tree}");
        }
    }
    // A path length edited in the model no longer matches the committed model.
    let mut params = w.model.params();
    let leaves_start = params.len() - 2 - 2 * 8;
    params[leaves_start + reached_leaf(&w, 0, 0)] -= 1;
    let mut tampered = w.clone();
    tampered.model = w.shape().model.model_from_params("edited", &w.model.features, &params);
    assert!(mock(&tampered, &instances).is_err());
}

#[test]
fn tampered_leaves_thresholds_and_feature_indices_break_the_commitment() {
    let shape = tree_shape(5, 2, 2);
    let w = witness(&shape, 21, 2, 2);
    let instances = w.expected_instances().unwrap();
    let trees = shape.tree_shape();
    let indices = trees.n_trees * trees.internal_nodes();
    // A feature index, a threshold, a leaf, the base and the decision threshold.
    for index in [1, indices + 2, 2 * indices + 5, shape.param_count() - 2, shape.param_count() - 1] {
        let mut params = w.model.params();
        params[index] = if index < indices { (params[index] + 1) % 5 } else { params[index] + 1 };
        let mut tampered = w.clone();
        tampered.model = shape.model_from_params("tampered", &w.model.features, &params);
        assert!(mock(&tampered, &instances).is_err(), "parameter {index} changed but the proof still verifies");
    }
}

#[test]
fn wrong_tree_outputs_are_rejected_with_a_fixed_model() {
    let w = witness(&tree_shape(4, 2, 2), 4, 2, 2);
    assert_outputs_pinned(&fixed_shape(&w), &w);
}

#[test]
fn wrong_tree_outputs_are_rejected() {
    let w = witness(&tree_shape(4, 2, 2), 4, 2, 2);
    let flat = w.expected_instances().unwrap().to_vec();
    let config = AppCircuitConfig::choose(&w.shape(), DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    for index in 0..flat.len() {
        let mut tampered = flat.clone();
        tampered[index] += Fr::one();
        let (builder, _) = config.builder(CircuitBuilderStage::Mock, &w).unwrap();
        let prover = MockProver::run(config.k(), &builder, vec![tampered]).unwrap();
        assert!(prover.verify().is_err(), "public instance {index} changed but the proof still verifies");
    }
}

#[test]
fn a_feature_index_beyond_the_inputs_is_unprovable() {
    let shape = tree_shape(5, 1, 1);
    let features: Vec<String> = (0..5).map(|i| format!("x{i}")).collect();
    // Feature 5 of 5 (the mux has 8 inputs, so only the index check stops it).
    let model = shape.model_from_params("bad index", &features, &[5, 0, 10, 20, 0, 0]);
    let rows = vec![vec![1, 2, 3, 4, 5]];
    let err = AppWitness::new(model.clone(), rows.clone(), 1, Fr::zero(), Fr::zero()).unwrap_err();
    assert!(err.to_string().contains("feature index"), "{err}");
    // Bypassing the reference: the circuit itself refuses it.
    let w = AppWitness { model, rows, sample_count: 1, salt: Fr::zero(), context: Fr::zero(), has_scores: true };
    let config = AppCircuitConfig::choose(&w.shape(), DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    let (builder, claimed) = config.builder(CircuitBuilderStage::Mock, &w).unwrap();
    assert!(MockProver::run(config.k(), &builder, vec![claimed]).unwrap().verify().is_err());
    // A fixed circuit refuses it natively, before any layout.
    let err = AppCircuitConfig::choose(&fixed_shape(&w), DEFAULT_MAX_ADVICE_COLUMNS).unwrap_err().to_string();
    assert!(err.contains("fixed model parameter 0") && err.contains("feature index 5"), "{err}");
}
