//! App proofs as snarks, the aggregation proof (SHPLONK, EVM transcript, so the generated
//! Solidity verifier can check it), and its native verification.
//!
//! Nothing here panics on bad input: app proofs are verified natively before they enter the
//! circuit (a bad one would otherwise make an unsatisfiable aggregation), and the circuit's own
//! asserts are caught and returned as errors.

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::arithmetic::CurveAffine;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::{create_proof, verify_proof, VerifyingKey};
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_base::halo2_proofs::poly::kzg::multiopen::{ProverSHPLONK, VerifierSHPLONK};
use halo2_base::halo2_proofs::poly::kzg::strategy::SingleStrategy;
use halo2_base::halo2_proofs::transcript::{TranscriptReadBuffer, TranscriptWriterBuffer};
use rand::rngs::OsRng;
use snark_verifier::pcs::kzg::{KzgAccumulator, KzgDecidingKey};
use snark_verifier::pcs::AccumulationDecider;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::util::arithmetic::fe_from_limbs;
use snark_verifier_sdk::halo2::aggregation::{AggregationCircuit, VerifierUniversality};
use snark_verifier_sdk::{CircuitExt, NativeLoader, Snark, BITS, LIMBS, SHPLONK};

use super::keys::AggregationKeys;
use super::{catch, AggregateError};
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::keys::AppKeys;
use crate::progress::Stage;
use crate::prove::{verify, AppProof, Transcript};

/// An aggregation proof and its public instances (limbs, then the app instances).
#[derive(Clone, Debug)]
pub struct AggregationProof {
    /// Public instances.
    pub instances: Vec<Fr>,
    /// The proof (EVM transcript).
    pub proof: Vec<u8>,
    /// The aggregation digest.
    pub digest: String,
    /// Number of app proofs.
    pub proofs: usize,
}

impl AggregationProof {
    /// The instances of app proof `i` (`None` past the last).
    pub fn app_instances(&self, i: usize) -> Option<&[Fr]> {
        let n = (self.instances.len().checked_sub(ACCUMULATOR_LIMBS)?) / self.proofs.max(1);
        let start = ACCUMULATOR_LIMBS + i * n;
        (i < self.proofs).then(|| &self.instances[start..start + n])
    }
}

/// Turns a Poseidon-transcript app proof into a snark for the aggregation circuit, after
/// verifying it natively. `index` names the proof in errors.
pub fn app_snark(
    app_params: &ParamsKZG<Bn256>,
    app_keys: &AppKeys,
    proof: &AppProof,
    index: usize,
) -> Result<Snark, AggregateError> {
    if proof.transcript != Transcript::Poseidon {
        return Err(AggregateError::Transcript { index, found: proof.transcript });
    }
    let expected = app_keys.config.shape.layout().len();
    if proof.instances.len() != expected {
        return Err(AggregateError::InstanceCount { index, expected, found: proof.instances.len() });
    }
    if !verify(app_params, app_keys.vk(), &proof.instances, &proof.proof, Transcript::Poseidon) {
        return Err(AggregateError::InvalidAppProof { index, app_digest: app_keys.digest.clone() });
    }
    let protocol = catch("compiling the app protocol", || {
        compile(app_params, app_keys.vk(), Config::kzg().with_num_instance(vec![expected]))
    })?;
    Ok(Snark::new(protocol, vec![proof.instances.clone()], proof.proof.clone()))
}

/// Aggregates `snarks` (exactly the N of `keys`) into one proof and verifies it natively.
pub fn aggregate(
    params: &ParamsKZG<Bn256>,
    keys: &AggregationKeys,
    snarks: Vec<Snark>,
) -> Result<AggregationProof, AggregateError> {
    let shape = &keys.config.shape;
    if snarks.len() != shape.proofs {
        return Err(AggregateError::ProofCount { expected: shape.proofs, found: snarks.len() });
    }
    for (index, snark) in snarks.iter().enumerate() {
        let found: usize = snark.instances.iter().map(Vec::len).sum();
        if snark.instances.len() != 1 || found != shape.app_num_instance {
            return Err(AggregateError::InstanceCount { index, expected: shape.app_num_instance, found });
        }
    }
    let app_instances: Vec<Fr> = snarks.iter().flat_map(|s| s.instances[0].iter().copied()).collect();

    let stage = Stage::start(format!("aggregating {} proofs (k = {})", shape.proofs, shape.k));
    let config = keys.config.clone();
    let circuit = catch("prover layout", || {
        let mut circuit = AggregationCircuit::new::<SHPLONK>(
            CircuitBuilderStage::Prover,
            config.params,
            params,
            snarks,
            VerifierUniversality::None,
        )
        .use_break_points(config.break_points);
        circuit.expose_previous_instances(false);
        circuit
    })?;
    let instances = circuit.instances().into_iter().next().unwrap_or_default();
    if instances.len() != shape.num_instance() || instances[ACCUMULATOR_LIMBS..] != app_instances[..] {
        return Err(AggregateError::Circuit(
            "the aggregation instances are not the limbs followed by the app instances".into(),
        ));
    }
    let columns: &[&[Fr]] = &[&instances];
    let mut transcript = TranscriptWriterBuffer::<_, G1Affine, _>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, EvmTranscript<_, _, _, _>, _>(
        params,
        &keys.pk,
        &[circuit],
        &[columns],
        OsRng,
        &mut transcript,
    )
    .map_err(|e| AggregateError::Halo2 { stage: "proving", message: format!("{e:?}") })?;
    let proof = transcript.finalize();
    stage.finish();

    if !verify_aggregation(params, keys.vk(), &instances, &proof) {
        return Err(AggregateError::SelfCheck);
    }
    Ok(AggregationProof { instances, proof, digest: keys.digest.clone(), proofs: shape.proofs })
}

/// Verifies an aggregation proof natively: the halo2 proof (EVM transcript) and the pairing of
/// the KZG accumulator its first 12 instances carry (what the on-chain verifier does).
pub fn verify_aggregation(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> bool {
    if instances.len() < ACCUMULATOR_LIMBS {
        return false;
    }
    let columns: &[&[Fr]] = &[instances];
    let mut transcript = TranscriptReadBuffer::<_, G1Affine, _>::init(proof);
    let outer =
        verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, EvmTranscript<_, _, _, _>, _>(
            params.verifier_params(),
            vk,
            SingleStrategy::new(params.verifier_params()),
            &[columns],
            &mut transcript,
        )
        .is_ok();
    outer && accumulator_holds(params, &instances[..ACCUMULATOR_LIMBS])
}

/// The pairing check of the accumulator in `limbs` (lhs.x, lhs.y, rhs.x, rhs.y; 3 limbs each).
fn accumulator_holds(params: &ParamsKZG<Bn256>, limbs: &[Fr]) -> bool {
    let coordinate = |i: usize| -> Option<Fq> {
        let chunk: [Fr; LIMBS] = limbs.get(i * LIMBS..(i + 1) * LIMBS)?.try_into().ok()?;
        Some(fe_from_limbs::<Fr, Fq, LIMBS, BITS>(chunk))
    };
    let point = |x: Option<Fq>, y: Option<Fq>| -> Option<G1Affine> { Option::from(G1Affine::from_xy(x?, y?)) };
    let (Some(lhs), Some(rhs)) = (point(coordinate(0), coordinate(1)), point(coordinate(2), coordinate(3))) else {
        return false;
    };
    let dk: KzgDecidingKey<Bn256> = (params.get_g()[0], params.g2(), params.s_g2()).into();
    <SHPLONK as AccumulationDecider<G1Affine, NativeLoader>>::decide(&dk, KzgAccumulator::new(lhs, rhs)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_instances_slice_after_the_limbs() {
        let instances: Vec<Fr> = (0..12 + 2 * 3).map(|i| Fr::from(i as u64)).collect();
        let proof = AggregationProof { instances, proof: vec![], digest: String::new(), proofs: 2 };
        assert_eq!(proof.app_instances(0), Some(&[Fr::from(12u64), Fr::from(13u64), Fr::from(14u64)][..]));
        assert_eq!(proof.app_instances(1).map(|s| s[0]), Some(Fr::from(15u64)));
        assert_eq!(proof.app_instances(2), None);
    }

    #[test]
    fn short_or_garbage_instances_do_not_verify() {
        let params = crate::keys::srs::insecure_setup(4);
        assert!(!accumulator_holds(&params, &[Fr::one(); 12]));
        assert!(!accumulator_holds(&params, &[Fr::one(); 5]));
    }
}
