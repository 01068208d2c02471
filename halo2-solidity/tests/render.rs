//! The crate on its own (no zkguard circuit): small halo2-base circuits keyed with a throwaway
//! setup. Two circuits of one column layout with different gates' uses, constants and instance
//! values render the same verifier (and proof-system digest) and different keys; another layout
//! renders another verifier; parameters of another k and more instances than rows are refused.

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::gates::circuit::{BaseCircuitParams, CircuitBuilderStage};
use halo2_base::gates::{GateChip, GateInstructions};
use halo2_base::halo2_proofs::halo2curves::bn256::G1Affine;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::plonk::{keygen_vk, VerifyingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkguard_halo2_solidity::{render, Provenance, SharedVerifierError};

const K: u32 = 8;

fn setup(k: u32) -> ParamsKZG<Bn256> {
    ParamsKZG::<Bn256>::setup(k, ChaCha20Rng::seed_from_u64(1))
}

fn layout(advice: usize) -> BaseCircuitParams {
    BaseCircuitParams {
        k: K as usize,
        num_advice_per_phase: vec![advice],
        num_fixed: 1,
        num_lookup_advice_per_phase: vec![],
        lookup_bits: None,
        num_instance_columns: 1,
    }
}

/// `ops` multiply-adds of `seed`-dependent constants, the results exposed as instances.
fn keyed(params: &ParamsKZG<Bn256>, layout: BaseCircuitParams, ops: u64, seed: u64) -> VerifyingKey<G1Affine> {
    let mut builder = BaseCircuitBuilder::<Fr>::from_stage(CircuitBuilderStage::Keygen).use_params(layout);
    let gate = GateChip::<Fr>::default();
    let ctx = builder.main(0);
    let mut acc = ctx.load_witness(Fr::from(seed));
    let mut outs = vec![];
    for i in 0..ops {
        let c = ctx.load_constant(Fr::from(seed * 31 + i));
        acc = gate.mul_add(ctx, acc, c, c);
        outs.push(acc);
    }
    builder.assigned_instances[0].extend(outs);
    keygen_vk(params, &builder).unwrap()
}

fn provenance() -> Provenance {
    Provenance {
        command: "cargo test -p zkguard-halo2-solidity --test render".into(),
        proof_system: "test layout".into(),
        circuit: "test circuit".into(),
        srs: "throwaway".into(),
        insecure_srs: true,
    }
}

#[test]
fn one_layout_one_verifier() {
    let params = setup(K);
    let a = render(&keyed(&params, layout(1), 5, 1), &params, 5, &provenance()).unwrap();
    let b = render(&keyed(&params, layout(1), 40, 2), &params, 40, &provenance()).unwrap();
    assert_eq!(a.verifier_sol, b.verifier_sol);
    assert_eq!(a.proof_system_digest, b.proof_system_digest);
    assert_ne!(a.vk_code, b.vk_code);
    assert_eq!(a.vk_code.len(), a.vk_len);
    assert!(a.verifier_sol.starts_with("// GENERATED FILE: never edit by hand. Regenerate with:\n"));
    assert!(a.vk_sol.contains("INSECURE DEVELOPMENT SRS"));

    let c = render(&keyed(&params, layout(2), 5, 1), &params, 5, &provenance()).unwrap();
    assert_ne!(a.proof_system_digest, c.proof_system_digest);
    assert_ne!(a.vk_len, c.vk_len, "two advice columns add a permutation commitment");
}

#[test]
fn refusals() {
    let params = setup(K);
    let vk = keyed(&params, layout(1), 5, 1);
    let other = setup(K + 1);
    let err = render(&vk, &other, 5, &provenance()).unwrap_err();
    assert!(matches!(err, SharedVerifierError::ParamsMismatch { params_k: 9, vk_k: 8 }), "{err}");
    let err = render(&vk, &params, 1 << K, &provenance()).unwrap_err();
    assert!(matches!(err, SharedVerifierError::TooManyInstances { .. }), "{err}");
}
