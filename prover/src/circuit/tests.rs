//! Mock-prover tests of the app circuit: the circuit equals the integer reference on random
//! models and inputs, and tampering with any witness class or public output is rejected.

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::app::{AppShape, AppWitness};
use super::config::{AppCircuitConfig, DEFAULT_MAX_ADVICE_COLUMNS};
use super::instances::{AppInstances, SAMPLE_COUNT_INDEX};
use super::visibility::Visibility;
use super::CircuitError;
use crate::keys::cache::circuit_digest;
use crate::quant::{Family, FixedPoint, ModelShape, QuantizedModel};

const FX: FixedPoint = FixedPoint { scale_bits: 8, value_bits: 40 };

fn linear_shape(n: usize, standardize: bool) -> ModelShape {
    ModelShape { family: Family::Linear, n_features: n, standardize, layers: vec![], fixed: FX, trees: None }
}

fn mlp_shape(n: usize, hidden: usize) -> ModelShape {
    ModelShape {
        family: Family::MlpAutoencoder,
        n_features: n,
        standardize: true,
        layers: vec![(hidden, true), (n, false)],
        fixed: FX,
        trees: None,
    }
}

/// A random model of `shape` with parameters small enough that every sample stays in range.
fn random_model(shape: &ModelShape, rng: &mut impl Rng) -> QuantizedModel {
    let features: Vec<String> = (0..shape.n_features).map(|i| format!("x{i}")).collect();
    let mut params: Vec<i64> = (0..shape.param_count()).map(|_| rng.gen_range(-600..=600)).collect();
    if shape.standardize {
        // Positive inverse scales, as a StandardScaler produces.
        for p in &mut params[shape.n_features..2 * shape.n_features] {
            *p = p.abs() + 1;
        }
    }
    shape.model_from_params("random", &features, &params)
}

pub(super) fn random_rows(n_features: usize, count: usize, rng: &mut impl Rng) -> Vec<Vec<i64>> {
    (0..count).map(|_| (0..n_features).map(|_| rng.gen_range(-3000..=3000)).collect()).collect()
}

pub(super) fn mock(witness: &AppWitness, instances: &AppInstances) -> Result<(), String> {
    mock_in(&witness.shape(), witness, instances)
}

/// [`mock`] in the circuit `shape` (e.g. a fixed model's).
pub(super) fn mock_in(shape: &AppShape, witness: &AppWitness, instances: &AppInstances) -> Result<(), String> {
    let config = AppCircuitConfig::choose(shape, DEFAULT_MAX_ADVICE_COLUMNS).map_err(|e| e.to_string())?;
    let (builder, _) = config.builder(CircuitBuilderStage::Mock, witness).map_err(|e| e.to_string())?;
    let prover = MockProver::run(config.k(), &builder, vec![instances.to_vec()]).map_err(|e| e.to_string())?;
    prover.verify().map_err(|e| format!("{} failures, first: {:?}", e.len(), e.first()))
}

/// Runs the circuit and returns its instances, after checking they satisfy the constraints.
pub(super) fn circuit_instances(witness: &AppWitness) -> AppInstances {
    circuit_instances_in(&witness.shape(), witness)
}

/// [`circuit_instances`] in the circuit `shape` (e.g. a fixed model's).
pub(super) fn circuit_instances_in(shape: &AppShape, witness: &AppWitness) -> AppInstances {
    let config = AppCircuitConfig::choose(shape, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    let (builder, values) = config.builder(CircuitBuilderStage::Mock, witness).unwrap();
    MockProver::run(config.k(), &builder, vec![values.clone()]).unwrap().assert_satisfied();
    AppInstances::from_slice(shape.layout(), &values).unwrap()
}

/// The fixed-model circuit of `witness`'s model.
pub(super) fn fixed_shape(witness: &AppWitness) -> AppShape {
    AppShape::for_model(&witness.model, witness.rows.len(), Visibility::Fixed)
}

/// Every public instance changed by one is rejected in the circuit `shape`.
pub(super) fn assert_outputs_pinned(shape: &AppShape, witness: &AppWitness) {
    let flat = witness.expected_instances().unwrap().to_vec();
    let config = AppCircuitConfig::choose(shape, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
    for index in 0..flat.len() {
        let mut tampered = flat.clone();
        tampered[index] += Fr::one();
        let (builder, _) = config.builder(CircuitBuilderStage::Mock, witness).unwrap();
        let prover = MockProver::run(config.k(), &builder, vec![tampered]).unwrap();
        assert!(prover.verify().is_err(), "public instance {index} changed but the proof still verifies");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn linear_circuit_equals_the_integer_reference(seed in any::<u64>(), standardize in any::<bool>(), count in 1usize..=4) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let model = random_model(&linear_shape(5, standardize), &mut rng);
        let witness = AppWitness::new(model, random_rows(5, count, &mut rng), 4, Fr::from(seed), Fr::from(99u64)).unwrap();
        prop_assert_eq!(circuit_instances(&witness), witness.expected_instances().unwrap());
    }

    #[test]
    fn fixed_linear_and_mlp_circuits_equal_the_integer_reference(seed in any::<u64>(), mlp in any::<bool>(), count in 1usize..=3) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let shape = if mlp { mlp_shape(4, 3) } else { linear_shape(5, true) };
        let model = random_model(&shape, &mut rng);
        let witness = AppWitness::new(model, random_rows(shape.n_features, count, &mut rng), 3, Fr::from(seed), Fr::from(7u64)).unwrap();
        // The same instances as the committed circuit, model commitment included.
        prop_assert_eq!(circuit_instances_in(&fixed_shape(&witness), &witness), witness.expected_instances().unwrap());
    }

    #[test]
    fn mlp_circuit_equals_the_integer_reference(seed in any::<u64>(), count in 1usize..=3) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let model = random_model(&mlp_shape(4, 3), &mut rng);
        let witness = AppWitness::new(model, random_rows(4, count, &mut rng), 3, Fr::from(seed), Fr::from(7u64)).unwrap();
        prop_assert_eq!(circuit_instances(&witness), witness.expected_instances().unwrap());
    }
}

fn fixture(shape: ModelShape) -> (AppWitness, AppInstances) {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let model = random_model(&shape, &mut rng);
    let rows = random_rows(shape.n_features, 3, &mut rng);
    let witness = AppWitness::new(model, rows, 4, Fr::from(5u64), Fr::from(6u64)).unwrap();
    let instances = witness.expected_instances().unwrap();
    (witness, instances)
}

#[test]
fn honest_witnesses_satisfy_the_circuit() {
    for shape in [linear_shape(5, true), mlp_shape(4, 3)] {
        let (witness, instances) = fixture(shape);
        mock(&witness, &instances).unwrap();
    }
}

#[test]
fn a_weight_that_does_not_match_the_commitment_is_rejected() {
    for shape in [linear_shape(5, true), mlp_shape(4, 3)] {
        let (witness, instances) = fixture(shape.clone());
        for index in [0, shape.param_count() / 2, shape.param_count() - 1] {
            let mut params = witness.model.params();
            params[index] += 1;
            let mut tampered = witness.clone();
            tampered.model = shape.model_from_params("tampered", &witness.model.features, &params);
            assert!(mock(&tampered, &instances).is_err(), "parameter {index} changed but the proof still verifies");
        }
    }
}

#[test]
fn tampered_inputs_salt_or_context_are_rejected() {
    let (witness, instances) = fixture(linear_shape(5, true));
    let mut t = witness.clone();
    t.rows[1][2] += 1;
    assert!(mock(&t, &instances).is_err(), "input changed");
    let mut t = witness.clone();
    t.salt += Fr::one();
    assert!(mock(&t, &instances).is_err(), "salt changed");
    let mut t = witness.clone();
    t.context += Fr::one();
    assert!(mock(&t, &instances).is_err(), "context changed");
}

#[test]
fn wrong_public_outputs_are_rejected() {
    for shape in [linear_shape(5, true), mlp_shape(4, 3)] {
        let (witness, instances) = fixture(shape);
        let flat = instances.to_vec();
        for index in 0..flat.len() {
            let mut tampered = flat.clone();
            tampered[index] += Fr::one();
            let config = AppCircuitConfig::choose(&witness.shape(), DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
            let (builder, _) = config.builder(CircuitBuilderStage::Mock, &witness).unwrap();
            let prover = MockProver::run(config.k(), &builder, vec![tampered]).unwrap();
            assert!(prover.verify().is_err(), "public instance {index} changed but the proof still verifies");
        }
    }
}

#[test]
fn padding_rows_never_flag_and_counts_are_bounded() {
    let shape = linear_shape(3, false);
    let features: Vec<String> = (0..3).map(|i| format!("x{i}")).collect();
    // Every sample is flagged: threshold far below any score.
    let model = shape.model_from_params("always", &features, &[0, 0, 0, 0, -1000]);
    let witness = AppWitness::new(model, vec![vec![1, 2, 3]; 2], 5, Fr::zero(), Fr::zero()).unwrap();
    let instances = circuit_instances(&witness);
    assert_eq!(instances.decisions, vec![true, true, false, false, false]);
    // A witness claiming 0 or more than batch_size samples is unsatisfiable.
    for bad in [0usize, 6] {
        let mut t = witness.clone();
        t.sample_count = bad;
        let config = AppCircuitConfig::choose(&t.shape(), DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
        let (builder, _) = config.builder(CircuitBuilderStage::Mock, &t).unwrap();
        let mut flat = instances.to_vec();
        flat[SAMPLE_COUNT_INDEX] = Fr::from(bad as u64);
        assert!(MockProver::run(config.k(), &builder, vec![flat]).unwrap().verify().is_err(), "count {bad}");
    }
}

#[test]
fn inputs_out_of_range_are_refused_before_synthesis() {
    let (witness, _) = fixture(linear_shape(5, true));
    let mut rows = witness.rows[..1].to_vec();
    rows[0][0] = 1 << 45;
    let err = AppWitness::new(witness.model.clone(), rows, 4, Fr::zero(), Fr::zero()).unwrap_err();
    assert!(err.to_string().contains("sample 0"), "{err}");
}

#[test]
fn fixed_model_circuits_pin_the_model_and_refuse_another() {
    for shape in [linear_shape(5, true), mlp_shape(4, 3)] {
        let (witness, instances) = fixture(shape.clone());
        let fixed = fixed_shape(&witness);
        assert_eq!(fixed.visibility(), Visibility::Fixed);
        assert_eq!(mock_in(&fixed, &witness, &instances), Ok(()));
        // The same model commitment instance as the committed circuit (what registries pin).
        assert_eq!(
            circuit_instances_in(&fixed, &witness).model_commitment,
            circuit_instances(&witness).model_commitment
        );
        assert_outputs_pinned(&fixed, &witness);

        // Another model of the same shape: another fixed circuit and digest; the committed
        // circuit is the same for both.
        let mut params = witness.model.params();
        params[1] += 1;
        let mut other = witness.clone();
        other.model = shape.model_from_params("other", &witness.model.features, &params);
        let digest = |s: &AppShape| circuit_digest(&AppCircuitConfig::choose(s, DEFAULT_MAX_ADVICE_COLUMNS).unwrap());
        assert_ne!(digest(&fixed), digest(&fixed_shape(&other)), "two fixed models share a digest");
        assert_eq!(digest(&witness.shape()), digest(&other.shape()), "committed digests depend on the shape only");
        assert_ne!(digest(&fixed), digest(&witness.shape()), "visibility is part of the circuit identity");
        assert_eq!(digest(&fixed), digest(&fixed_shape(&witness)), "a fixed digest is deterministic");

        // Proving the other model with the first model's circuit is refused before any layout,
        // naming both commitments.
        let config = AppCircuitConfig::choose(&fixed, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
        let err = match config.builder(CircuitBuilderStage::Prover, &other) {
            Err(e) => e,
            Ok(_) => panic!("another model accepted by a fixed circuit"),
        };
        assert!(matches!(err, CircuitError::ModelMismatch { .. }), "{err}");
        let expected = instances.model_commitment;
        let text = err.to_string();
        assert!(text.contains(&format!("0x{}", hex::encode(super::field::fr_to_be_bytes(&expected)))), "{text}");
        // Even the other model's honest instances do not verify with the first model's constants.
        let other_instances = other.expected_instances().unwrap();
        assert!(mock_in(&fixed, &witness, &other_instances).is_err());
    }
}

#[test]
fn tampered_inputs_are_rejected_with_a_fixed_model() {
    let (witness, instances) = fixture(linear_shape(5, true));
    let fixed = fixed_shape(&witness);
    let mut t = witness.clone();
    t.rows[1][2] += 1;
    assert!(mock_in(&fixed, &t, &instances).is_err(), "input changed");
    let mut t = witness.clone();
    t.salt += Fr::one();
    assert!(mock_in(&fixed, &t, &instances).is_err(), "salt changed");
}

#[test]
fn fixed_parameters_out_of_range_are_refused_before_layout() {
    let (witness, _) = fixture(linear_shape(5, true));
    let mut shape = fixed_shape(&witness);
    let params = shape.fixed_params.as_mut().unwrap();
    params[7] = 1 << 45;
    let err = AppCircuitConfig::choose(&shape, DEFAULT_MAX_ADVICE_COLUMNS).unwrap_err().to_string();
    assert!(err.contains("fixed model parameter 7") && err.contains("40 signed bits"), "{err}");
}

#[test]
fn out_of_range_inputs_are_rejected_with_a_fixed_model() {
    // The fixed circuit checks inputs in one chain each (`check_signed_chained`): an input one
    // past either end of the 40 signed bits makes it unsatisfiable, whatever it outputs.
    for shape in [linear_shape(5, true), mlp_shape(4, 3)] {
        let (witness, _) = fixture(shape);
        let fixed = fixed_shape(&witness);
        let config = AppCircuitConfig::choose(&fixed, DEFAULT_MAX_ADVICE_COLUMNS).unwrap();
        for bad in [1i64 << 39, -(1i64 << 39) - 1] {
            let mut t = witness.clone();
            t.rows[0][1] = bad;
            let (circuit, values) = config.builder(CircuitBuilderStage::Mock, &t).unwrap();
            let prover = MockProver::run(config.k(), &circuit, vec![values]).unwrap();
            assert!(prover.verify().is_err(), "input {bad} accepted");
        }
    }
}
