//! [`render`]: a verifying key and its KZG parameters to the two Solidity sources, the shared
//! verifier of the key's proof system and the key's own contract.
//!
//! Derived from PSE's halo2-solidity-verifier (f0626be, MIT), `src/codegen.rs`
//! (`SolidityGenerator::render_separately`, BDFG21 only, with its `AccumulatorEncoding`: see
//! [`crate::accumulator`]); ported to halo2-axiom. See `NOTICE`.

use alloy_primitives::{keccak256, B256};
use askama::Template;
use halo2_base::halo2_proofs::{
    halo2curves::{
        bn256,
        ff::{Field, PrimeField},
    },
    plonk::VerifyingKey,
    poly::{
        commitment::{Params, ParamsProver},
        kzg::commitment::ParamsKZG,
        Rotation,
    },
};
use itertools::{chain, Itertools};
use ruint::aliases::U256;

use crate::accumulator::AccumulatorEncoding;
use crate::error::SharedVerifierError;
use crate::evaluator::Evaluator;
use crate::meta::{fr_to_u256, g1_to_u256s, g2_to_u256s, ConstraintSystemMeta, Data, Ptr};
use crate::pcs;
use crate::provenance::Provenance;
use crate::template::{Halo2Verifier, Halo2VerifyingKey};

/// Calldata offset of the proof's bytes in `verifyProof(address,bytes,uint256[])`: selector (4),
/// vk address, two offsets, the proof's length word.
const PROOF_CPTR: usize = 0x84;

/// The two rendered sources of one circuit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// `Halo2Verifier.sol`: the same text for every circuit of the proof system.
    pub verifier_sol: String,
    /// `Halo2VerifyingKey.sol`: this circuit's key.
    pub vk_sol: String,
    /// Bytes of a proof the verifier accepts.
    pub proof_len: usize,
    /// Bytes of the key contract's runtime code (what the verifier requires of `extcodesize`).
    pub vk_len: usize,
    /// The key contract's runtime code: the key's words (its keccak256 is the code hash to pin).
    pub vk_code: Vec<u8>,
    /// Public instances of the circuit (held in its key).
    pub num_instances: usize,
    /// The KZG accumulator among the instances (aggregation circuits), `None` for app circuits:
    /// a constant of the verifier and four words of the key.
    pub accumulator: Option<AccumulatorEncoding>,
    /// keccak256 of the verifier's source without its header: equal for every circuit of one
    /// proof system whatever command rendered it. (The bytecode is equal too when the header is:
    /// solc appends a hash of the whole source, comments included, as metadata.)
    pub proof_system_digest: B256,
}

/// Renders the shared verifier of `vk`'s proof system and `vk`'s key contract, for proofs with
/// `num_instances` public instances in one instance column (SHPLONK over KZG, keccak transcript:
/// what `ProverSHPLONK` with snark-verifier's `EvmTranscript` produces), without a KZG
/// accumulator: [`render_with_accumulator`] with `None`.
pub fn render(
    vk: &VerifyingKey<bn256::G1Affine>,
    params: &ParamsKZG<bn256::Bn256>,
    num_instances: usize,
    provenance: &Provenance,
) -> Result<Rendered, SharedVerifierError> {
    render_with_accumulator(vk, params, num_instances, None, provenance)
}

/// [`render`] for a circuit whose instances carry a KZG accumulator at `accumulator` (an
/// aggregation circuit; `None`: none). The verifier reads and range-checks its limbs, folds it
/// into the final pairing, and refuses a key whose accumulator words are not `accumulator`'s.
pub fn render_with_accumulator(
    vk: &VerifyingKey<bn256::G1Affine>,
    params: &ParamsKZG<bn256::Bn256>,
    num_instances: usize,
    accumulator: Option<AccumulatorEncoding>,
    provenance: &Provenance,
) -> Result<Rendered, SharedVerifierError> {
    let cs = vk.cs();
    let k = vk.get_domain().k();
    if params.k() != k {
        return Err(SharedVerifierError::ParamsMismatch { params_k: params.k(), vk_k: k });
    }
    if cs.num_advice_columns() == 0 {
        return Err(SharedVerifierError::Unsupported("no advice column"));
    }
    if cs.num_instance_columns() > 1 {
        return Err(SharedVerifierError::Unsupported("more than one instance column"));
    }
    if cs.instance_queries().iter().any(|(_, rotation)| *rotation != Rotation::cur()) {
        return Err(SharedVerifierError::Unsupported("an instance column queried at another rotation"));
    }
    let usable_rows = (1usize << k) - (cs.blinding_factors() + 1);
    if num_instances > usable_rows {
        return Err(SharedVerifierError::TooManyInstances { num_instances, usable_rows, k });
    }
    if let Some(encoding) = &accumulator {
        encoding.check(num_instances)?;
    }
    let meta = ConstraintSystemMeta::new(cs);
    let vk_words =
        vk_words(vk, params, &meta, num_instances, accumulator.as_ref(), provenance.vk_header(k, num_instances));
    let mut verifier = verifier(vk, &meta, &vk_words, accumulator.as_ref(), String::new());
    let render_err = |source| SharedVerifierError::Render { template: "Halo2Verifier.sol", source };
    let body = verifier.render().map_err(render_err)?;
    let proof_system_digest = keccak256(body.trim_start().as_bytes());
    verifier.header = provenance.verifier_header();
    let verifier_sol = verifier.render().map_err(render_err)?;
    let vk_sol = vk_words
        .render()
        .map_err(|source| SharedVerifierError::Render { template: "Halo2VerifyingKey.sol", source })?;
    let vk_code = vk_words.code();
    Ok(Rendered {
        verifier_sol,
        vk_sol,
        proof_len: meta.proof_len(),
        vk_len: vk_words.len(),
        vk_code,
        num_instances,
        accumulator,
        proof_system_digest,
    })
}

fn vk_words(
    vk: &VerifyingKey<bn256::G1Affine>,
    params: &ParamsKZG<bn256::Bn256>,
    meta: &ConstraintSystemMeta,
    num_instances: usize,
    accumulator: Option<&AccumulatorEncoding>,
    header: String,
) -> Halo2VerifyingKey {
    let domain = vk.get_domain();
    let n_inv = Option::<bn256::Fr>::from(bn256::Fr::from(1u64 << domain.k()).invert())
        .expect("2^k is invertible in the scalar field");
    let omega_inv_to_l = {
        let l = meta.rotation_last.unsigned_abs() as u64;
        fr_to_u256(domain.get_omega_inv().pow_vartime([l]))
    };
    let g1 = g1_to_u256s(params.get_g()[0]);
    let g2 = g2_to_u256s(params.g2());
    let neg_s_g2 = g2_to_u256s(-params.s_g2());
    // Zero for app circuits (no KZG accumulator); the verifier requires its own encoding.
    let [has_accumulator, acc_offset, num_acc_limbs, num_acc_limb_bits] = AccumulatorEncoding::words(accumulator);
    let constants = vec![
        ("vk_digest", fr_to_u256(vk.transcript_repr())),
        ("num_instances", U256::from(num_instances)),
        ("k", U256::from(domain.k())),
        ("n_inv", fr_to_u256(n_inv)),
        ("omega", fr_to_u256(domain.get_omega())),
        ("omega_inv", fr_to_u256(domain.get_omega_inv())),
        ("omega_inv_to_l", omega_inv_to_l),
        ("has_accumulator", has_accumulator),
        ("acc_offset", acc_offset),
        ("num_acc_limbs", num_acc_limbs),
        ("num_acc_limb_bits", num_acc_limb_bits),
        ("g1_x", g1[0]),
        ("g1_y", g1[1]),
        ("g2_x_1", g2[0]),
        ("g2_x_2", g2[1]),
        ("g2_y_1", g2[2]),
        ("g2_y_2", g2[3]),
        ("neg_s_g2_x_1", neg_s_g2[0]),
        ("neg_s_g2_x_2", neg_s_g2[1]),
        ("neg_s_g2_y_1", neg_s_g2[2]),
        ("neg_s_g2_y_2", neg_s_g2[3]),
    ];
    let fixed_comms = vk.fixed_commitments().iter().flat_map(g1_to_u256s).tuples().collect();
    let permutation_comms = vk.permutation().commitments().iter().flat_map(g1_to_u256s).tuples().collect();
    Halo2VerifyingKey { header, constants, fixed_comms, permutation_comms }
}

fn verifier(
    vk: &VerifyingKey<bn256::G1Affine>,
    meta: &ConstraintSystemMeta,
    vk_words: &Halo2VerifyingKey,
    accumulator: Option<&AccumulatorEncoding>,
    header: String,
) -> Halo2Verifier {
    let proof_cptr = Ptr::calldata(PROOF_CPTR);
    let vk_mptr = Ptr::memory(static_working_memory_size(meta, vk_words, proof_cptr));
    let data = Data::new(meta, vk_words, vk_mptr, proof_cptr);
    let evaluator = Evaluator::new(vk.cs(), meta, &data);
    let quotient_eval_numer_computations =
        chain![evaluator.gate_computations(), evaluator.permutation_computations(), evaluator.lookup_computations()]
            .enumerate()
            .map(|(idx, (mut lines, var))| {
                let line = if idx == 0 {
                    format!("quotient_eval_numer := {var}")
                } else {
                    format!("quotient_eval_numer := addmod(mulmod(quotient_eval_numer, y, r), {var}, r)")
                };
                lines.push(line);
                lines
            })
            .collect();
    Halo2Verifier {
        header,
        vk_len: vk_words.len(),
        proof_len: meta.proof_len(),
        vk_mptr,
        challenge_mptr: data.challenge_mptr,
        theta_mptr: data.theta_mptr,
        proof_cptr,
        quotient_comm_cptr: data.quotient_comm_cptr,
        num_neg_lagranges: meta.rotation_last.unsigned_abs() as usize,
        num_advices: meta.num_advices(),
        num_challenges: meta.num_challenges(),
        num_evals: meta.num_evals,
        num_quotients: meta.num_quotients,
        delta: fr_to_u256(bn256::Fr::DELTA),
        quotient_eval_numer_computations,
        pcs_computations: pcs::computations(meta, &data),
        acc_words: AccumulatorEncoding::words(accumulator),
        accumulator_computations: accumulator
            .map(|encoding| encoding.read_lines(proof_cptr + (meta.proof_len() / 32 + 1)))
            .unwrap_or_default(),
    }
}

/// Memory below the verifying key: the transcript's hash input (which may overwrite the key, and
/// does: the key is copied again after the last challenge), the opening's working values, and
/// the pairing's input.
fn static_working_memory_size(meta: &ConstraintSystemMeta, vk: &Halo2VerifyingKey, proof_cptr: Ptr) -> usize {
    let pcs_computation = {
        let mock_vk_mptr = Ptr::memory(0x100000);
        let mock = Data::new(meta, vk, mock_vk_mptr, proof_cptr);
        pcs::static_working_memory_size(meta, &mock)
    };
    let hash_input = chain![meta.num_advices().into_iter().map(|n| n * 2 + 1), [meta.num_evals + 1]]
        .max()
        .expect("at least one phase")
        .saturating_sub(vk.len() / 0x20);
    [hash_input, pcs_computation, 12].into_iter().max().expect("three candidates") * 0x20
}
