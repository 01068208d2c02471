//! Poseidon commitments to the model and to a batch's inputs, natively and in the circuit.
//!
//! Values are first *packed*: each signed value `v` of `value_bits` bits is shifted to
//! `u = v + 2^(value_bits-1)` (in `[0, 2^value_bits)`, so packing is injective once the value is
//! range-checked) and `floor(248 / value_bits)` of them fill one field element, least
//! significant first. The sponge is Poseidon over BN254 with T = 9, RATE = 8, R_F = 8, R_P = 63
//! (snark-verifier's natively; in the circuit halo2-base's flex-gate sponge or the dedicated gate
//! of [`super::poseidon`], whose tests check all three agree), one `update` of all elements and
//! one `squeeze`.
//!
//! * model commitment = H(MODEL_DOMAIN, shape tag, packed parameters...)
//! * input commitment = H(INPUT_DOMAIN, salt, packed inputs of all batch rows...)

use halo2_base::gates::GateInstructions;
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::utils::ScalarField;
use halo2_base::AssignedValue;
use halo2_base::Context;
use halo2_base::QuantumCell::Constant;
use sha2::{Digest, Sha256};
use snark_verifier::loader::native::NativeLoader;
use snark_verifier::util::hash::Poseidon;

use super::field::{fr_from_i128, pow2};
use crate::quant::ModelShape;

use super::poseidon::spec::{RATE, R_F, R_P, SECURE_MDS, T};
use super::poseidon::PoseidonRequests;

/// Bits of a packed word that carry values.
pub const PACK_BITS: u32 = 248;

/// Domain separator of model commitments ("zkguard/model/v1" as an integer).
pub fn model_domain() -> Fr {
    Fr::from_bytes_le(b"zkguard/model/v1")
}

/// Domain separator of input commitments.
pub fn input_domain() -> Fr {
    Fr::from_bytes_le(b"zkguard/input/v1")
}

/// A field element naming the model shape: the first 31 bytes of sha256 of its JSON form.
pub fn shape_tag(shape: &ModelShape) -> Fr {
    let json = serde_json::to_vec(shape).expect("shape serializes");
    let digest = Sha256::digest(json);
    Fr::from_bytes_le(&digest[..31])
}

/// How many values fit one packed word.
pub fn values_per_word(value_bits: u32) -> usize {
    (PACK_BITS / value_bits) as usize
}

/// Packs signed values natively (see the module docs).
pub fn pack_native(values: &[i64], value_bits: u32) -> Vec<Fr> {
    let per_word = values_per_word(value_bits);
    values
        .chunks(per_word)
        .map(|chunk| {
            chunk.iter().enumerate().fold(Fr::zero(), |acc, (i, &v)| {
                let shifted = fr_from_i128(v as i128 + (1i128 << (value_bits - 1)));
                acc + shifted * pow2((value_bits as u64) * i as u64)
            })
        })
        .collect()
}

/// Packs range-checked signed values in the circuit.
pub fn pack_assigned(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    values: &[AssignedValue<Fr>],
    value_bits: u32,
) -> Vec<AssignedValue<Fr>> {
    let per_word = values_per_word(value_bits);
    let offset = pow2((value_bits - 1) as u64);
    values
        .chunks(per_word)
        .map(|chunk| {
            let powers: Vec<Fr> = (0..chunk.len()).map(|i| pow2((value_bits as u64) * i as u64)).collect();
            let constant: Fr = powers.iter().map(|p| offset * p).sum();
            let acc = gate.inner_product(ctx, chunk.iter().copied(), powers.into_iter().map(Constant));
            gate.add(ctx, acc, Constant(constant))
        })
        .collect()
}

/// Poseidon over `elements`, natively.
pub fn hash_native(elements: &[Fr]) -> Fr {
    let mut sponge = Poseidon::<Fr, Fr, T, RATE>::new::<R_F, R_P, SECURE_MDS>(&NativeLoader);
    sponge.update(elements);
    sponge.squeeze()
}

/// Poseidon over `elements`, in the circuit, with `poseidon`'s backend (the gate lays it out
/// and constrains the returned digest cell when the circuit is synthesized).
pub fn hash_assigned(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    poseidon: &mut PoseidonRequests,
    elements: &[AssignedValue<Fr>],
) -> AssignedValue<Fr> {
    poseidon.hash(ctx, gate, elements)
}

/// The model commitment, natively.
pub fn model_commitment(shape: &ModelShape, params: &[i64]) -> Fr {
    let mut elements = vec![model_domain(), shape_tag(shape)];
    let mut rest = params;
    for (count, bits) in shape.param_packing() {
        let (run, tail) = rest.split_at(count);
        elements.extend(pack_native(run, bits));
        rest = tail;
    }
    assert!(rest.is_empty(), "parameter count does not match the shape");
    hash_native(&elements)
}

/// Packs the model's parameter cells in the circuit, run by run as
/// [`ModelShape::param_packing`] says (each run starts a new word). Each cell must already be
/// range-checked to its run's width.
pub fn pack_params_assigned(
    ctx: &mut Context<Fr>,
    gate: &impl GateInstructions<Fr>,
    shape: &ModelShape,
    params: &[AssignedValue<Fr>],
) -> Vec<AssignedValue<Fr>> {
    let mut words = Vec::new();
    let mut rest = params;
    for (count, bits) in shape.param_packing() {
        let (run, tail) = rest.split_at(count);
        words.extend(pack_assigned(ctx, gate, run, bits));
        rest = tail;
    }
    words
}

/// The input commitment of a batch (rows already padded to the batch size), natively.
pub fn input_commitment(rows: &[Vec<i64>], salt: Fr, value_bits: u32) -> Fr {
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    let mut elements = vec![input_domain(), salt];
    elements.extend(pack_native(&flat, value_bits));
    hash_native(&elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_base::gates::RangeInstructions;
    use halo2_base::utils::testing::base_test;

    #[test]
    fn native_and_circuit_packing_agree() {
        let values: Vec<i64> = vec![0, -1, 1, (1 << 39) - 1, -(1 << 39), 12345, -98765, 42];
        let native = pack_native(&values, 40);
        assert_eq!(native.len(), 2, "6 values of 40 bits per word");
        let in_circuit = base_test().k(10).lookup_bits(8).run(|ctx, range| {
            let assigned: Vec<_> = values.iter().map(|&v| ctx.load_witness(fr_from_i128(v as i128))).collect();
            pack_assigned(ctx, range.gate(), &assigned, 40).iter().map(|a| *a.value()).collect::<Vec<_>>()
        });
        assert_eq!(native, in_circuit);
    }

    #[test]
    fn packing_is_injective_on_neighbours() {
        assert_ne!(pack_native(&[1, 0], 40), pack_native(&[0, 1], 40));
        assert_ne!(pack_native(&[-1], 40), pack_native(&[1], 40));
    }
}
