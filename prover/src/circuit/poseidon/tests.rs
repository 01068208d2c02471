//! Tests of the Poseidon gate: the plain permutation against snark-verifier's sponge and an
//! independent known-answer vector, the circuit against the native hash per arity, and mock
//! prover runs that tamper with the layout and must fail.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, BaseConfig, CircuitBuilderStage};
use halo2_base::halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_base::halo2_proofs::dev::MockProver;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use halo2_base::utils::ScalarField;
use halo2_base::AssignedValue;

use super::gate::{rows_for, PoseidonConfig, ROWS_PER_PERMUTATION};
use super::spec::{self, permute, T};
use super::{PoseidonBackend, PoseidonRequests};
use crate::circuit::app_circuit::AppCircuit;
use crate::circuit::commit::hash_native;
use halo2_base::gates::GateChip;

const ARITIES: [usize; 7] = [0, 1, 7, 8, 9, 17, 280];
const K: u32 = 11;

fn message(len: usize) -> Vec<Fr> {
    (0..len as u64).map(|i| Fr::from(i * 7919 + 3) * Fr::from(u64::MAX) + Fr::from(i)).collect()
}

fn hex_to_fr(hex: &str) -> Fr {
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    bytes.reverse();
    Fr::from_bytes_le(&bytes)
}

#[test]
fn plain_sponge_equals_snark_verifier_sponge() {
    for len in ARITIES.into_iter().chain([2, 15, 16, 24]) {
        let m = message(len);
        assert_eq!(spec::hash(&m), hash_native(&m), "length {len}");
    }
}

/// circomlib's Poseidon of 8 inputs is the t = 9 permutation (R_F = 8, R_P = 63) of
/// `[0, 1, ..., 8]`, read at word 0. Values from circomlibjs 0.1.7 (`buildPoseidon()`, npm),
/// an implementation independent of the Rust crates here.
#[test]
fn permutation_matches_circomlib_t9() {
    let cases = [
        ([1u64, 2, 3, 4, 5, 6, 7, 8], "2921ab9bd0140cbc98e40395c0fefb40337a4d54fbbecd9a4d43b3d8d0c4d8d1"),
        ([0u64; 8], "035ebc384d320413c9b97d446bf7de69e04d6278d68d52934a4f5f653348622a"),
    ];
    for (inputs, expected) in cases {
        let mut state = [Fr::zero(); T];
        for (s, v) in state.iter_mut().skip(1).zip(inputs) {
            *s = Fr::from(v);
        }
        assert_eq!(permute(&state)[0], hex_to_fr(expected), "inputs {inputs:?}");
    }
}

/// A circuit hashing `message` with [`PoseidonRequests`] and exposing the digest.
fn request_circuit(message: &[Fr]) -> (AppCircuit, Fr) {
    let mut base = BaseCircuitBuilder::from_stage(CircuitBuilderStage::Mock).use_k(K as usize).use_instance_columns(1);
    let mut poseidon = PoseidonRequests::new(PoseidonBackend::Gate);
    let ctx = base.main(0);
    let cells = ctx.assign_witnesses(message.iter().copied());
    let digest = poseidon.hash(ctx, &GateChip::default(), &cells);
    base.assigned_instances = vec![vec![digest]];
    base.calculate_params(Some(20));
    (
        AppCircuit { base, poseidon, tree_selection: Default::default(), tree_lookups: Default::default() },
        *digest.value(),
    )
}

#[test]
fn circuit_hash_equals_native_hash() {
    for len in ARITIES {
        let m = message(len);
        let (circuit, digest) = request_circuit(&m);
        assert_eq!(digest, hash_native(&m), "length {len}");
        assert_eq!(circuit.poseidon_rows(), rows_for(len));
        MockProver::run(K, &circuit, vec![vec![digest]]).expect("mock").assert_satisfied();
    }
}

#[test]
fn a_wrong_digest_instance_fails() {
    let m = message(9);
    let (circuit, digest) = request_circuit(&m);
    let prover = MockProver::run(K, &circuit, vec![vec![digest + Fr::one()]]).expect("mock");
    assert!(prover.verify().is_err());
}

/// What a tampered layout changes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tamper {
    None,
    /// The S-box's stored square in the first row of partial rounds, plus one.
    SboxOutput,
    /// One round constant of the second full round's row, plus one.
    RoundConstant,
    /// The sponge laid out over a message whose word 3 differs from the hashed cell.
    InputNotCopied,
    /// The digest cell of halo2-base holds state word 1 plus one.
    DigestNotState,
    /// The digest cell of halo2-base holds state word 2 of the final state.
    DigestOtherWord,
}

/// A circuit with the app circuit's structure whose Poseidon region can be tampered with.
struct TamperCircuit {
    base: BaseCircuitBuilder<Fr>,
    message: Vec<AssignedValue<Fr>>,
    digest: AssignedValue<Fr>,
    zero: AssignedValue<Fr>,
    tamper: Tamper,
}

impl TamperCircuit {
    fn new(values: &[Fr], tamper: Tamper) -> Self {
        let mut base =
            BaseCircuitBuilder::from_stage(CircuitBuilderStage::Mock).use_k(K as usize).use_instance_columns(1);
        let ctx = base.main(0);
        let message = ctx.assign_witnesses(values.iter().copied());
        let honest = spec::hash(values);
        let claimed = match tamper {
            Tamper::DigestNotState => honest + Fr::one(),
            Tamper::DigestOtherWord => final_state(values)[2],
            _ => honest,
        };
        let digest = ctx.load_witness(claimed);
        let zero = ctx.load_zero();
        base.assigned_instances = vec![vec![digest]];
        base.calculate_params(Some(20));
        Self { base, message, digest, zero, tamper }
    }
}

/// The sponge's final state.
fn final_state(values: &[Fr]) -> [Fr; T] {
    let mut state = spec::initial_state();
    for chunk in spec::chunks(values.len()) {
        let words = &values[chunk];
        let pad = spec::padding(words.len());
        for i in 0..T {
            state[i] += pad[i] + if (1..=words.len()).contains(&i) { words[i - 1] } else { Fr::zero() };
        }
        state = permute(&state);
    }
    state
}

impl Circuit<Fr> for TamperCircuit {
    type Config = (BaseConfig<Fr>, PoseidonConfig);
    type FloorPlanner = SimpleFloorPlanner;
    type Params = BaseCircuitParams;

    fn params(&self) -> Self::Params {
        self.base.params()
    }
    fn without_witnesses(&self) -> Self {
        Self { base: self.base.deep_clone(), message: self.message.clone(), ..*self }
    }
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, params: Self::Params) -> Self::Config {
        let poseidon = PoseidonConfig::configure(meta);
        (BaseConfig::configure(meta, params), poseidon)
    }
    fn configure(_: &mut ConstraintSystem<Fr>) -> Self::Config {
        unreachable!()
    }

    fn synthesize(&self, config: Self::Config, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        Circuit::synthesize(&self.base, config.0.clone(), layouter.namespace(|| "base"))?;
        let copies = self.base.core().copy_manager.clone();
        layouter.assign_region(
            || "poseidon",
            |mut region| {
                let mut values: Vec<Fr> = self.message.iter().map(|a| *a.value()).collect();
                if self.tamper == Tamper::InputNotCopied {
                    values[3] += Fr::one();
                }
                let cells = config.1.assign_sponge(&mut region, 0, &values);
                let copies = copies.lock().unwrap();
                let physical = |a: &AssignedValue<Fr>| copies.assigned_advices[&a.cell.unwrap()];
                for (a, cell) in self.message.iter().zip(&cells.inputs) {
                    region.constrain_equal(physical(a), *cell);
                }
                region.constrain_equal(physical(&self.digest), cells.output);
                for cell in &cells.zeros {
                    region.constrain_equal(physical(&self.zero), *cell);
                }
                // Row 0 is the input row, rows 1..=4 the first full rounds, row 5 the first
                // row of partial rounds.
                match self.tamper {
                    Tamper::SboxOutput => {
                        let x = values_after_full_rounds(&values)[0] + spec::constants().round_constants[4][0];
                        region.assign_advice(config.1.helper[0], 5, Value::known(x.square() + Fr::one()));
                    }
                    Tamper::RoundConstant => {
                        let rc = spec::constants().round_constants[1][3] + Fr::one();
                        region.assign_fixed(config.1.c[3], 2, rc);
                    }
                    _ => {}
                }
                Ok(())
            },
        )
    }
}

/// The state after the first four full rounds of the first permutation.
fn values_after_full_rounds(values: &[Fr]) -> [Fr; T] {
    let words = &values[..values.len().min(spec::RATE)];
    let pad = spec::padding(words.len());
    let mut state = spec::initial_state();
    for i in 0..T {
        state[i] += pad[i] + if (1..=words.len()).contains(&i) { words[i - 1] } else { Fr::zero() };
    }
    (0..4).fold(state, |s, r| spec::round(&s, r))
}

fn tamper_verdict(tamper: Tamper) -> Result<(), String> {
    let values = message(9);
    let circuit = TamperCircuit::new(&values, tamper);
    let digest = *circuit.digest.value();
    let prover = MockProver::run(K, &circuit, vec![vec![digest]]).map_err(|e| format!("{e:?}"))?;
    prover.verify().map_err(|failures| format!("{} failures, first {:?}", failures.len(), failures.first()))
}

#[test]
fn untampered_layout_passes() {
    tamper_verdict(Tamper::None).expect("the honest layout satisfies the circuit");
}

#[test]
fn a_wrong_sbox_output_fails() {
    let err = tamper_verdict(Tamper::SboxOutput).expect_err("wrong S-box output accepted");
    assert!(err.contains("partial"), "{err}");
}

#[test]
fn a_wrong_round_constant_row_fails() {
    let err = tamper_verdict(Tamper::RoundConstant).expect_err("wrong round constant accepted");
    assert!(err.contains("full round"), "{err}");
}

#[test]
fn a_state_cell_not_copied_from_the_input_fails() {
    let err = tamper_verdict(Tamper::InputNotCopied).expect_err("uncopied input accepted");
    assert!(err.contains("Equality constraint"), "{err}");
}

#[test]
fn a_squeeze_that_is_not_the_state_fails() {
    for tamper in [Tamper::DigestNotState, Tamper::DigestOtherWord] {
        let err = tamper_verdict(tamper).expect_err("wrong squeeze accepted");
        assert!(err.contains("Equality constraint"), "{tamper:?}: {err}");
    }
}

#[test]
fn rows_per_permutation_are_as_documented() {
    assert_eq!(ROWS_PER_PERMUTATION, 19);
    assert_eq!(rows_for(0), 19);
    assert_eq!(rows_for(7), 19);
    assert_eq!(rows_for(8), 38);
    assert_eq!(rows_for(280), 36 * 19);
}

/// A standardized linear model over 12 features, 3 samples.
fn linear_witness(bump: i64) -> crate::circuit::AppWitness {
    use crate::quant::{Family, FixedPoint, ModelShape};
    let n = 12;
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
    params[2 * n] += bump;
    let model = shape.model_from_params("gate-test", &features, &params);
    let rows: Vec<Vec<i64>> =
        (0..3).map(|r| (0..n as i64).map(|i| (r * 131 + i * 97) % 2001 - 1000).collect()).collect();
    crate::circuit::AppWitness::new(model, rows, 3, Fr::from(5u64), Fr::from(9u64)).expect("witness")
}

#[test]
fn the_app_circuit_with_the_gate_proves_the_flex_gate_instances_in_fewer_cells() {
    use crate::circuit::AppCircuitConfig;
    let witness = linear_witness(0);
    let flex = AppCircuitConfig::choose_with(&witness.shape(), 4, PoseidonBackend::FlexGate).unwrap();
    let gate = AppCircuitConfig::choose_with(&witness.shape(), 4, PoseidonBackend::Gate).unwrap();
    let (flex_circuit, flex_values) = flex.builder(CircuitBuilderStage::Mock, &witness).unwrap();
    let (gate_circuit, gate_values) = gate.builder(CircuitBuilderStage::Mock, &witness).unwrap();
    assert_eq!(gate_values, flex_values);
    assert_eq!(gate_values, witness.expected_instances().unwrap().to_vec());
    assert_eq!(flex_circuit.poseidon_rows(), 0, "the flex gate records no requests");
    let cells = |c: &AppCircuit| c.base.statistics().gate.total_advice_per_phase[0];
    let gate_total = cells(&gate_circuit) + gate_circuit.poseidon_rows() * super::gate::ADVICE_COLUMNS;
    assert!(gate_total * 3 < cells(&flex_circuit), "gate {gate_total} cells, flex gate {}", cells(&flex_circuit));
    MockProver::run(gate.k(), &gate_circuit, vec![gate_values.clone()]).unwrap().assert_satisfied();

    // A model whose parameters differ by one cannot claim the original model commitment.
    let tampered = linear_witness(1);
    let (circuit, _) = gate.builder(CircuitBuilderStage::Mock, &tampered).unwrap();
    assert!(MockProver::run(gate.k(), &circuit, vec![gate_values]).unwrap().verify().is_err());
}

#[test]
fn the_gate_keeps_halo2_bases_degree_and_adds_its_columns() {
    use crate::circuit::AppCircuitConfig;
    let config = AppCircuitConfig::choose_with(&linear_witness(0).shape(), 4, PoseidonBackend::Gate).unwrap();
    let system = |poseidon| {
        let mut params = config.circuit_params();
        params.poseidon = poseidon;
        let mut cs = ConstraintSystem::<Fr>::default();
        AppCircuit::configure_with_params(&mut cs, params);
        cs
    };
    let (flex, gate) = (system(PoseidonBackend::FlexGate), system(PoseidonBackend::Gate));
    assert_eq!(flex.degree(), 4);
    assert_eq!(gate.degree(), 4, "the S-box squares keep every gate at degree 4");
    assert_eq!(gate.num_advice_columns() - flex.num_advice_columns(), super::gate::ADVICE_COLUMNS);
    assert_eq!(gate.num_fixed_columns() - flex.num_fixed_columns(), T + super::gate::PARTIAL_PER_ROW);
}
