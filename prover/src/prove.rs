//! Proving and native verification of app proofs (SHPLONK over KZG/BN254).
//!
//! Two transcripts: [`Transcript::Evm`] (keccak, for direct on-chain verification by a
//! generated Solidity verifier) and [`Transcript::Poseidon`] (for proofs that an aggregation
//! circuit verifies). Unlike snark-verifier-sdk's helpers, nothing here panics on a bad witness:
//! errors come back as [`ProveError`].

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{create_proof, verify_proof, VerifyingKey};
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_base::halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_base::halo2_proofs::transcript::{TranscriptReadBuffer, TranscriptWriterBuffer};
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier_sdk::halo2::{PoseidonTranscript, POSEIDON_SPEC};
use snark_verifier_sdk::NativeLoader;

use crate::circuit::{AppInstances, AppWitness, CircuitError};
use crate::keys::AppKeys;
use crate::progress::Stage;

/// Fiat-Shamir transcript of a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transcript {
    /// Keccak transcript: verifiable by the generated Solidity verifier.
    Evm,
    /// Poseidon transcript: verifiable inside an aggregation circuit.
    Poseidon,
}

/// Why proving failed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness does not fit the circuit.
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// halo2 refused to create the proof.
    #[error("proof creation failed: {0}")]
    Halo2(String),
    /// The circuit's outputs differ from the integer reference (a bug, never expected).
    #[error("the circuit's public outputs differ from the integer reference")]
    ReferenceMismatch,
    /// The fresh proof does not verify (the witness does not satisfy the constraints).
    #[error("the proof does not verify: the witness does not satisfy the circuit")]
    SelfCheck,
}

/// An app proof and its public instances.
#[derive(Clone, Debug)]
pub struct AppProof {
    /// Public instances in the layout of [`crate::circuit::instances`].
    pub instances: Vec<Fr>,
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// Its transcript.
    pub transcript: Transcript,
}

/// Proves `witness` with `keys`; checks the circuit's outputs against the integer reference and
/// verifies the proof before returning it.
pub fn prove(
    params: &ParamsKZG<Bn256>,
    keys: &AppKeys,
    witness: &AppWitness,
    transcript: Transcript,
) -> Result<AppProof, ProveError> {
    let expected = witness.expected_instances()?.to_vec();
    let (builder, instances) = keys.config.builder(CircuitBuilderStage::Prover, witness)?;
    if instances != expected {
        return Err(ProveError::ReferenceMismatch);
    }
    let stage = Stage::start(format!(
        "proving {} samples ({transcript:?} transcript, k = {})",
        witness.sample_count,
        keys.config.k()
    ));
    let columns: &[&[Fr]] = &[&instances];
    let proof = match transcript {
        Transcript::Evm => {
            let mut t = TranscriptWriterBuffer::<_, G1Affine, _>::init(Vec::new());
            create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, EvmTranscript<_, _, _, _>, _>(
                params,
                &keys.pk,
                &[builder],
                &[columns],
                OsRng,
                &mut t,
            )
            .map_err(|e| ProveError::Halo2(format!("{e:?}")))?;
            t.finalize()
        }
        Transcript::Poseidon => {
            let mut t = PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(vec![], POSEIDON_SPEC.clone());
            create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
                params,
                &keys.pk,
                &[builder],
                &[columns],
                OsRng,
                &mut t,
            )
            .map_err(|e| ProveError::Halo2(format!("{e:?}")))?;
            t.finalize()
        }
    };
    stage.finish();
    if !verify(params, keys.vk(), &instances, &proof, transcript) {
        return Err(ProveError::SelfCheck);
    }
    Ok(AppProof { instances, proof, transcript })
}

/// Verifies an app proof natively. Returns false for any invalid proof or instance.
pub fn verify(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
    transcript: Transcript,
) -> bool {
    let columns: &[&[Fr]] = &[instances];
    let strategy = SingleStrategy::new(params.verifier_params());
    match transcript {
        Transcript::Evm => {
            let mut t = TranscriptReadBuffer::<_, G1Affine, _>::init(proof);
            verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, EvmTranscript<_, _, _, _>, _>(
                params.verifier_params(),
                vk,
                strategy,
                &[columns],
                &mut t,
            )
            .is_ok()
        }
        Transcript::Poseidon => {
            let mut t = PoseidonTranscript::<NativeLoader, &[u8]>::from_spec(proof, POSEIDON_SPEC.clone());
            verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
                params.verifier_params(),
                vk,
                strategy,
                &[columns],
                &mut t,
            )
            .is_ok()
        }
    }
}

/// Decodes a proof's instances with the layout of `keys`' circuit.
pub fn decode(keys: &AppKeys, proof: &AppProof) -> Option<AppInstances> {
    AppInstances::from_slice(keys.config.shape.layout(), &proof.instances).ok()
}
