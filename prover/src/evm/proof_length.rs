//! The exact byte length of a proof of a circuit, from its verifying key.
//!
//! A halo2 SHPLONK proof is a fixed sequence of transcript objects whose count depends only on
//! the circuit (its constraint system), never on the witness: snark-verifier's
//! [`PlonkProtocol`](snark_verifier::verifier::plonk::PlonkProtocol), compiled from the verifying
//! key, lists them, and `PlonkProof::read` reads exactly these, in order:
//!
//! 1. the witness commitments of every phase (advice columns, lookup permuted columns, the
//!    permutation and lookup grand products, the vanishing argument's random polynomial);
//! 2. the quotient's chunk commitments;
//! 3. the evaluations at the challenge `z`;
//! 4. SHPLONK's two opening points (`W` and `W'`).
//!
//! In the EVM (keccak) transcript a G1 point is 64 bytes (x and y, 32-byte big-endian) and a
//! scalar 32 bytes; in the Poseidon transcript a point is 32 bytes (compressed). The same holds
//! for app circuits and for the aggregation circuit (whose proof uses the EVM transcript): the
//! accumulator it carries is in its public instances, not in the proof.
//!
//! A verifier that accepts only proofs of exactly [`proof_length`] bytes refuses padded and
//! truncated proofs before any cryptography (halo2's own verifier ignores trailing bytes).

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine, G2Affine};
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use snark_verifier::system::halo2::{compile, Config};

use crate::prove::Transcript;

/// Bytes of a G1 point in the EVM transcript (uncompressed x, y).
pub const EVM_G1_BYTES: usize = 64;
/// Bytes of a G1 point in the Poseidon transcript (compressed).
pub const POSEIDON_G1_BYTES: usize = 32;
/// Bytes of a scalar in either transcript.
pub const SCALAR_BYTES: usize = 32;
/// Opening points of a SHPLONK (BDFG21) multi-opening proof: `W` and `W'`.
pub const SHPLONK_OPENING_POINTS: usize = 2;

/// What a proof of a circuit consists of, counted from its compiled protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofShape {
    /// Witness commitments of every phase (G1).
    pub witness_commitments: usize,
    /// Quotient chunk commitments (G1).
    pub quotient_chunks: usize,
    /// Evaluations at `z` (scalars).
    pub evaluations: usize,
    /// Opening points of the multi-opening argument (G1).
    pub opening_points: usize,
}

impl ProofShape {
    /// The shape of every proof of the circuit of `vk` (SHPLONK over KZG, as [`crate::prove`]
    /// and [`crate::aggregate`] make them).
    pub fn of(vk: &VerifyingKey<G1Affine>) -> Self {
        let num_instance = vec![0; vk.cs().num_instance_columns()];
        let protocol = compile(&placeholder_params(vk), vk, Config::kzg().with_num_instance(num_instance));
        Self {
            witness_commitments: protocol.num_witness.iter().sum(),
            quotient_chunks: protocol.quotient.num_chunk(),
            evaluations: protocol.evaluations.len(),
            opening_points: SHPLONK_OPENING_POINTS,
        }
    }

    /// G1 points in the proof.
    pub fn points(&self) -> usize {
        self.witness_commitments + self.quotient_chunks + self.opening_points
    }

    /// Byte length of the proof in `transcript`'s encoding.
    pub fn bytes(&self, transcript: Transcript) -> usize {
        let point = match transcript {
            Transcript::Evm => EVM_G1_BYTES,
            Transcript::Poseidon => POSEIDON_G1_BYTES,
        };
        self.points() * point + self.evaluations * SCALAR_BYTES
    }
}

/// The exact byte length of every proof of the circuit whose verifying key is `vk`, in
/// `transcript`'s encoding. Use [`Transcript::Evm`] for direct-mode app proofs and for
/// aggregation proofs (both are verified on chain), [`Transcript::Poseidon`] for the app proofs
/// an aggregation circuit verifies.
///
/// Costs one compilation of the verifying key into snark-verifier's protocol (milliseconds); it
/// needs no KZG parameters.
pub fn proof_length(vk: &VerifyingKey<G1Affine>, transcript: Transcript) -> usize {
    ProofShape::of(vk).bytes(transcript)
}

/// KZG parameters of `vk`'s k carrying only generators: `compile` reads nothing from KZG
/// parameters but their k (instances are not committed with KZG), so none are loaded.
fn placeholder_params(vk: &VerifyingKey<G1Affine>) -> ParamsKZG<Bn256> {
    // The smallest real setup, only to call `from_parts` (which does not read `self`).
    let tiny = ParamsKZG::<Bn256>::setup(1, rand_chacha::ChaCha20Rng::seed_from_u64(0));
    tiny.from_parts(
        vk.get_domain().k(),
        vec![G1Affine::generator()],
        Some(vec![]),
        G2Affine::generator(),
        G2Affine::generator(),
    )
}
