//! Mock-prover tests of committed tree ensembles evaluated by lookups ([`super::tree_lookup`]):
//! the circuit equals the integer reference, and each substitution a dishonest prover could try
//! is rejected, by the constraint that should catch it: a looked-up value not in the table (the
//! lookup), a table value other than the committed one or an input of another sample (the copy
//! constraints), a node key not derived from the path bits or a leaf of another tree (the key
//! chain's gates), a feature index out of range, even one equal to a node's key (its bound
//! lookup), the multiplexer path's adversaries (a flipped comparison, a forced leaf or feature),
//! and a bad row in any of several looked-up sets.

use std::collections::BTreeSet;

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::{FailureLocation, MockProver, VerifyFailure};
use proptest::prelude::*;

use super::app::{AppShape, AppWitness};
use super::config::AppCircuitConfig;
use super::poseidon::PoseidonBackend;
use super::tree::adversary::{self, Tamper};
use super::tree_lookup::TreeSelection;
use super::tree_tests::{isolation_forest_like, reached_leaf, tree_shape, witness};
use crate::quant::QBody;

/// The kinds of constraint a mock-prover run found violated (empty: accepted).
type Failures = BTreeSet<&'static str>;

fn kind(failure: &VerifyFailure) -> &'static str {
    match failure {
        VerifyFailure::Lookup { .. } => "lookup",
        VerifyFailure::Permutation { .. } => "copy",
        VerifyFailure::ConstraintNotSatisfied { .. } => "gate",
        _ => "other",
    }
}

/// The lookup circuit of `w`'s committed model (halo2-base's sponge: the lookup does not depend
/// on the hash, and few columns keep the mock prover fast).
fn lookup_config(w: &AppWitness) -> AppCircuitConfig {
    let config = AppCircuitConfig::choose_with_selection(&w.shape(), 4, PoseidonBackend::FlexGate, true).unwrap();
    assert!(matches!(config.tree_selection, TreeSelection::Lookup { sets: 1.. }));
    config
}

/// The instances claimed under `tamper` and the constraint kinds the mock prover rejects.
fn run(
    config: &AppCircuitConfig,
    w: &AppWitness,
    tamper: Option<Tamper>,
) -> (Vec<halo2_base::halo2_proofs::halo2curves::bn256::Fr>, Failures) {
    let go = || {
        let (circuit, claimed) = config.builder(CircuitBuilderStage::Mock, w).unwrap();
        let failures = match MockProver::run(config.k(), &circuit, vec![claimed.clone()]).unwrap().verify() {
            Ok(()) => Failures::new(),
            Err(errors) => errors.iter().map(kind).collect(),
        };
        (claimed, failures)
    };
    match tamper {
        Some(tamper) => adversary::with(tamper, go),
        None => go(),
    }
}

fn failures(config: &AppCircuitConfig, w: &AppWitness, tamper: Tamper) -> Failures {
    run(config, w, Some(tamper)).1
}

fn only(kind: &'static str) -> Failures {
    Failures::from([kind])
}

/// The heap position the path of `sample` reaches in `tree` after `level` decisions.
fn heap_node(w: &AppWitness, sample: usize, tree: usize, level: usize, depth: usize) -> u64 {
    let leaf = reached_leaf(w, sample, tree) as u64;
    let prefix = leaf >> (depth - level);
    (1u64 << level) - 1 + prefix
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    #[test]
    fn lookup_tree_circuit_equals_the_integer_reference(
        seed in any::<u64>(),
        n_features in 1usize..=6,
        n_trees in 1usize..=3,
        depth in 0usize..=3,
        count in 1usize..=3,
    ) {
        let w = witness(&tree_shape(n_features, n_trees, depth), seed, count, 3);
        let config = lookup_config(&w);
        let (claimed, failures) = run(&config, &w, None);
        prop_assert_eq!(failures, Failures::new());
        prop_assert_eq!(claimed, w.expected_instances().unwrap().to_vec());
    }
}

#[test]
fn the_fast_layout_looks_up_committed_trees_and_keeps_fixed_trees_and_other_families() {
    let w = isolation_forest_like();
    let fast = AppCircuitConfig::for_layout(&w.shape(), super::config::Layout::Fast, 4).unwrap();
    assert!(matches!(fast.tree_selection, TreeSelection::Lookup { .. }), "{:?}", fast.tree_selection);
    let (claimed, failures) = run(&fast, &w, None);
    assert_eq!(failures, Failures::new());
    assert_eq!(claimed, w.expected_instances().unwrap().to_vec());
    let compact = AppCircuitConfig::for_layout(&w.shape(), super::config::Layout::Compact, 4).unwrap();
    assert_eq!(compact.tree_selection, TreeSelection::Multiplexer);
    let fixed = AppShape::for_model(&w.model, 3, super::Visibility::Fixed);
    let fixed_fast = AppCircuitConfig::for_layout(&fixed, super::config::Layout::Fast, 4).unwrap();
    assert_eq!(fixed_fast.tree_selection, TreeSelection::Multiplexer);
    let err = AppCircuitConfig::choose_with_selection(&fixed, 4, PoseidonBackend::FlexGate, true).unwrap_err();
    assert!(err.to_string().contains("committed tree ensembles only"), "{err}");
}

#[test]
fn a_looked_up_threshold_that_is_not_in_the_table_is_rejected_by_the_lookup() {
    let w = witness(&tree_shape(5, 2, 3), 5, 2, 2);
    let config = lookup_config(&w);
    for (sample, tree, level) in [(0, 0, 0), (1, 1, 2), (0, 1, 1)] {
        let found = failures(&config, &w, Tamper::ForceLookup { sample, tree, level });
        assert!(found.contains("lookup"), "level {level}: {found:?}");
    }
}

#[test]
fn a_table_threshold_other_than_the_committed_one_is_rejected_by_its_copy_constraint() {
    let w = witness(&tree_shape(5, 2, 3), 7, 2, 2);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let config = lookup_config(&w);
    // The roots (visited by every sample) and a node visited by sample 0.
    let visited = heap_node(&w, 0, 1, 2, 3) as usize;
    for (tree, node) in [(0, 0), (1, 0), (1, visited)] {
        let value = trees[tree].thresholds[node] + 5000;
        let found = failures(&config, &w, Tamper::TableThreshold { tree, node, value });
        assert_eq!(found, only("copy"), "tree {tree} node {node}");
    }
}

#[test]
fn a_node_key_not_derived_from_the_path_bits_is_rejected_by_the_key_chain() {
    let w = witness(&tree_shape(5, 2, 3), 11, 2, 2);
    let config = lookup_config(&w);
    // 5 input keys, then 15 heap positions per tree.
    let heap = 15;
    for (sample, tree) in [(0, 0), (1, 1)] {
        for level in 1..=3 {
            // The sibling of the node the path reaches: a real row of the table.
            let node = heap_node(&w, sample, tree, level, 3);
            let sibling = if node % 2 == 1 { node + 1 } else { node - 1 };
            let key = 5 + tree as u64 * heap + sibling;
            let found = failures(&config, &w, Tamper::ForceKey { sample, tree, level, key });
            assert_eq!(found, only("gate"), "sample {sample} tree {tree} level {level}");
        }
        // The honest key through the same hook is accepted.
        let key = 5 + tree as u64 * heap + heap_node(&w, sample, tree, 2, 3);
        assert_eq!(failures(&config, &w, Tamper::ForceKey { sample, tree, level: 2, key }), Failures::new());
    }
}

#[test]
fn a_leaf_of_another_tree_is_rejected_by_the_key_chain() {
    let w = witness(&tree_shape(5, 2, 3), 13, 2, 2);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let config = lookup_config(&w);
    // 5 input keys, then 15 heap positions per tree.
    let heap = 15;
    for (sample, tree) in [(0, 0), (1, 1)] {
        let other = 1 - tree;
        let node = heap_node(&w, sample, tree, 3, 3);
        let leaf = node as usize - 7;
        assert_ne!(trees[tree].leaves[leaf], trees[other].leaves[leaf], "the test needs different leaves");
        let key = 5 + other as u64 * heap + node;
        let found = failures(&config, &w, Tamper::ForceKey { sample, tree, level: 3, key });
        assert_eq!(found, only("gate"), "sample {sample} tree {tree}");
    }
}

#[test]
fn an_input_of_another_sample_is_rejected_by_the_sample_constant() {
    let w = witness(&tree_shape(5, 2, 3), 17, 3, 3);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let config = lookup_config(&w);
    for (sample, other, tree) in [(1, 0, 0), (2, 0, 1), (2, 1, 0)] {
        let root_feature = trees[tree].features[0] as usize;
        assert_ne!(w.rows[sample][root_feature], w.rows[other][root_feature], "the test needs different inputs");
        let found = failures(&config, &w, Tamper::OtherSample { sample, tree, level: 0, other });
        assert_eq!(found, only("copy"), "sample {sample} with sample {other}'s input");
    }
}

#[test]
fn the_multiplexer_paths_adversaries_are_rejected_by_the_lookup_path() {
    let w = witness(&tree_shape(5, 2, 3), 19, 2, 2);
    let QBody::Trees { trees, .. } = &w.model.body else { unreachable!() };
    let config = lookup_config(&w);
    for (sample, tree) in [(0, 0), (1, 1)] {
        for level in 0..3 {
            let found = failures(&config, &w, Tamper::FlipComparison { sample, tree, level });
            assert!(!found.is_empty(), "flipped comparison at level {level} accepted");
        }
        let reached = reached_leaf(&w, sample, tree);
        let (claimed, honest) = run(&config, &w, Some(Tamper::ForceLeaf { sample, tree, leaf: reached }));
        assert_eq!((claimed, honest), (w.expected_instances().unwrap().to_vec(), Failures::new()));
        for leaf in (0..8).filter(|&l| trees[tree].leaves[l] != trees[tree].leaves[reached]) {
            let found = failures(&config, &w, Tamper::ForceLeaf { sample, tree, leaf });
            assert!(found.contains("lookup"), "leaf {leaf} instead of {reached}: {found:?}");
        }
        let row = &w.rows[sample];
        let root = trees[tree].features[0] as usize;
        for feature in (0..5).filter(|&f| row[f] != row[root]) {
            let found = failures(&config, &w, Tamper::ForceFeature { sample, tree, level: 0, feature });
            assert!(found.contains("lookup"), "feature {feature} for {root}: {found:?}");
        }
    }
}

#[test]
fn a_feature_index_beyond_the_inputs_is_rejected_by_its_bound_lookup() {
    let shape = tree_shape(5, 1, 1);
    let features: Vec<String> = (0..5).map(|i| format!("x{i}")).collect();
    // Feature 5 of 5: key 5 is the root's own node key, so only the bound row stops it.
    let model = shape.model_from_params("bad index", &features, &[5, 0, 10, 20, 0, 0]);
    let rows = vec![vec![1, 2, 3, 4, 5]];
    let w = AppWitness { model, rows, sample_count: 1, salt: 0.into(), context: 0.into(), has_scores: true };
    let config = lookup_config(&w);
    let (circuit, claimed) = config.builder(CircuitBuilderStage::Mock, &w).unwrap();
    let errors = MockProver::run(config.k(), &circuit, vec![claimed]).unwrap().verify().unwrap_err();
    // The bound lookups are the first looked-up rows: the root's is row 0.
    let bound = errors.iter().any(|e| {
        matches!(e, VerifyFailure::Lookup { location: FailureLocation::InRegion { offset: 0, region }, .. }
            if format!("{region}").contains("tree lookups"))
    });
    assert!(bound, "{errors:?}");
}

#[test]
fn a_feature_index_equal_to_a_node_key_is_rejected_by_its_bound_lookup() {
    // Node 1 (feature 0, threshold -1: a legal signed value) has the row (6, 0, -1); node 2,
    // which no sample visits, takes feature index 6, node 1's key. Only the bound lookup
    // constrains it, and its tag must be one no threshold, leaf or sample index can equal.
    let shape = tree_shape(5, 1, 2);
    let features: Vec<String> = (0..5).map(|i| format!("x{i}")).collect();
    let params = [1, 0, 6, 3000, -1, 0, 10, 20, 30, 40, 0, 0];
    let model = shape.model_from_params("feature on a node key", &features, &params);
    let rows = vec![vec![1, 2, 3, 4, 5]];
    let w = AppWitness { model, rows, sample_count: 1, salt: 0.into(), context: 0.into(), has_scores: true };
    let config = lookup_config(&w);
    let (circuit, claimed) = config.builder(CircuitBuilderStage::Mock, &w).unwrap();
    let errors = MockProver::run(config.k(), &circuit, vec![claimed]).unwrap().verify().unwrap_err();
    // Node 2's bound lookup is looked-up row 2; every other constraint holds.
    let bound = |e: &VerifyFailure| {
        matches!(e, VerifyFailure::Lookup { location: FailureLocation::InRegion { offset: 2, region }, .. }
            if format!("{region}").contains("tree lookups"))
    };
    assert!(!errors.is_empty() && errors.iter().all(bound), "{errors:?}");
}

#[test]
fn looked_up_rows_spread_over_several_sets_are_each_checked() {
    let w = witness(&tree_shape(5, 2, 3), 23, 2, 2);
    let mut config = lookup_config(&w);
    config.tree_selection = TreeSelection::Lookup { sets: 3 };
    let (claimed, honest) = run(&config, &w, None);
    assert_eq!((claimed, honest), (w.expected_instances().unwrap().to_vec(), Failures::new()));
    // Rows land in every set (row-major): a bad row is caught in whichever set holds it.
    for (sample, tree, level) in [(0, 0, 0), (0, 0, 1), (0, 0, 2), (1, 1, 1)] {
        let found = failures(&config, &w, Tamper::ForceLookup { sample, tree, level });
        assert_eq!(found, only("lookup"), "sample {sample} tree {tree} level {level}");
    }
}
