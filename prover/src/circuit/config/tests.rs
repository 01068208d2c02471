//! Tests of the layout policies: the fastest layout is a valid circuit with the same instances,
//! and it is no costlier than the few-tall-columns layout.

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

use super::{layout_cost, AppCircuitConfig, DEFAULT_MAX_ADVICE_COLUMNS, FASTEST_MAX_ADVICE_COLUMNS};
use crate::circuit::poseidon::PoseidonBackend;
use crate::circuit::{AppShape, AppWitness, Visibility};
use crate::quant::{Family, FixedPoint, ModelShape};

/// A standardized linear model over 30 features, 8 samples.
fn witness() -> AppWitness {
    let n = 30;
    let shape = ModelShape {
        family: Family::Linear,
        n_features: n,
        standardize: true,
        layers: vec![],
        fixed: FixedPoint { scale_bits: 8, value_bits: 40 },
        trees: None,
    };
    let features: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut params: Vec<i64> = (0..shape.param_count() as i64).map(|i| (i * 37) % 401 - 200).collect();
    for p in &mut params[n..2 * n] {
        *p = p.abs() + 1;
    }
    let model = shape.model_from_params("layout-test", &features, &params);
    let rows: Vec<Vec<i64>> =
        (0..8).map(|r| (0..n as i64).map(|i| (r * 131 + i * 97) % 2001 - 1000).collect()).collect();
    AppWitness::new(model, rows, 8, Fr::from(5u64), Fr::from(9u64)).expect("witness")
}

fn check_fastest(shape: &AppShape, witness: &AppWitness, poseidon: PoseidonBackend) {
    let tall = AppCircuitConfig::choose_with(shape, DEFAULT_MAX_ADVICE_COLUMNS, poseidon).unwrap();
    let fast = AppCircuitConfig::choose_fastest(shape, poseidon).unwrap();
    let (tall_cost, fast_cost) = (layout_cost(&tall.params, poseidon), layout_cost(&fast.params, poseidon));
    assert!(fast_cost <= tall_cost, "fastest {fast_cost} > few columns {tall_cost}");
    assert!(fast.params.num_advice_per_phase[0] <= FASTEST_MAX_ADVICE_COLUMNS);
    let (circuit, values) = fast.builder(CircuitBuilderStage::Mock, witness).unwrap();
    assert_eq!(values, witness.expected_instances().unwrap().to_vec());
    MockProver::run(fast.k(), &circuit, vec![values.clone()]).unwrap().assert_satisfied();
    // The layout changes nothing the verifier checks: a wrong decision is still rejected.
    let mut tampered = values;
    let last = tampered.len() - 1;
    tampered[last] += Fr::one();
    assert!(MockProver::run(fast.k(), &circuit, vec![tampered]).unwrap().verify().is_err());
}

#[test]
fn the_fastest_layout_with_the_gate_is_smaller_in_k_and_cheaper() {
    let witness = witness();
    let shape = AppShape::for_model(&witness.model, 8, Visibility::Committed);
    check_fastest(&shape, &witness, PoseidonBackend::Gate);
    let tall = AppCircuitConfig::choose_with(&shape, DEFAULT_MAX_ADVICE_COLUMNS, PoseidonBackend::Gate).unwrap();
    let fast = AppCircuitConfig::choose_fastest(&shape, PoseidonBackend::Gate).unwrap();
    assert!(fast.k() < tall.k(), "the gate's 22 columns should pull k down: {} vs {}", fast.k(), tall.k());
}

#[test]
fn the_fastest_layout_of_a_fixed_model_with_the_flex_gate_is_valid() {
    let witness = witness();
    let shape = AppShape::for_model(&witness.model, 8, Visibility::Fixed);
    check_fastest(&shape, &witness, PoseidonBackend::FlexGate);
}

#[test]
fn layout_cost_counts_columns_times_rows() {
    let tall = AppCircuitConfig::choose_with(
        &AppShape::for_model(&witness().model, 8, Visibility::Committed),
        DEFAULT_MAX_ADVICE_COLUMNS,
        PoseidonBackend::Gate,
    )
    .unwrap();
    let mut params = tall.params.clone();
    let base = layout_cost(&params, PoseidonBackend::Gate);
    params.num_advice_per_phase[0] += 1;
    assert_eq!(layout_cost(&params, PoseidonBackend::Gate) - base, 1 << params.k);
    params.k += 1;
    assert!(layout_cost(&params, PoseidonBackend::Gate) > 2 * base);
    assert!(layout_cost(&params, PoseidonBackend::FlexGate) < layout_cost(&params, PoseidonBackend::Gate));
}

#[test]
fn lookup_widths_tried_are_the_widest_and_the_widest_dividing_the_value_width() {
    assert_eq!(super::lookup_bits_candidates(12, 40), vec![11, 10]);
    assert_eq!(super::lookup_bits_candidates(11, 40), vec![10]);
    assert_eq!(super::lookup_bits_candidates(10, 40), vec![9, 8]);
    assert_eq!(super::lookup_bits_candidates(17, 40), vec![16, 10]);
}
