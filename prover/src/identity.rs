//! A model's circuit identity, derived without keys: from the model, the batch size, the app
//! circuit's digest and, in batch mode, the aggregation's N and degree. Pure (no I/O): what
//! `zkguard deploy` registers ([`crate::pipeline::deploy::prepare`]) and what the relayer's
//! start-up check compares a registry entry with. The struct itself, [`CircuitIdentity`], is
//! `zkguard_contracts::registration::CircuitIdentity` (the registration embeds it).

pub use zkguard_contracts::registration::CircuitIdentity;

use crate::aggregate::AggregationShape;
use crate::circuit::commit::model_commitment;
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::AppShape;
use crate::evm::context::fr_to_u256;
use crate::quant::QuantizedModel;

/// Why an identity could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The circuit digest is not 32 bytes of hex.
    #[error("circuit digest {digest} is not 32 bytes of hex")]
    Digest {
        /// The digest as given.
        digest: String,
        /// Why it does not parse.
        #[source]
        source: alloy_primitives::hex::FromHexError,
    },
}

/// The [`CircuitIdentity`] of `model` at `batch_size` whose app circuit has digest `app_digest`;
/// in batch mode (`aggregate = Some((N, k))`) of the aggregation of N of its proofs at degree k.
pub fn circuit_identity(
    model: &QuantizedModel,
    batch_size: usize,
    app_digest: &str,
    aggregate: Option<(usize, u32)>,
) -> Result<CircuitIdentity, IdentityError> {
    circuit_identity_with_scores(model, batch_size, true, app_digest, aggregate)
}

/// [`circuit_identity`] of a circuit with or without scores (`has_scores = false`: no score
/// instances, score width 0).
pub fn circuit_identity_with_scores(
    model: &QuantizedModel,
    batch_size: usize,
    has_scores: bool,
    app_digest: &str,
    aggregate: Option<(usize, u32)>,
) -> Result<CircuitIdentity, IdentityError> {
    let layout = AppShape::new(model.shape(), batch_size).with_scores(has_scores).layout();
    let (digest, proof_count, accumulator_limbs) = match aggregate {
        None => (app_digest.to_string(), 1, 0),
        Some((proofs, k)) => {
            (AggregationShape::new(app_digest, layout.len(), proofs, k).digest(), proofs, ACCUMULATOR_LIMBS)
        }
    };
    let digest = format!("0x{}", digest.trim_start_matches("0x"))
        .parse()
        .map_err(|source| IdentityError::Digest { digest, source })?;
    Ok(CircuitIdentity {
        digest,
        commitment: fr_to_u256(&model_commitment(&model.shape(), &model.params())),
        proof_count,
        accumulator_limbs,
        app_instances: layout.len(),
        score_bits: layout.score_bits.map_or(0, |b| b as u8),
    })
}

#[cfg(test)]
mod tests {
    use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

    use super::*;
    use crate::circuit::AppWitness;
    use crate::demo::{demo_model, demo_rows};

    #[test]
    fn identity_matches_the_circuit_and_names_the_mode() {
        let model = demo_model(4);
        let app_digest = "11".repeat(32);
        let direct = circuit_identity(&model, 4, &app_digest, None).unwrap();
        let witness = AppWitness::new(model.clone(), demo_rows(4, 2, 0), 4, Fr::zero(), Fr::zero()).unwrap();
        let instances = witness.expected_instances().unwrap();
        assert_eq!(direct.commitment, fr_to_u256(&instances.model_commitment), "the commitment the circuit exposes");
        assert_eq!(hex::encode(direct.digest), app_digest);
        assert_eq!((direct.proof_count, direct.accumulator_limbs), (1, 0));
        assert_eq!(direct.app_instances, AppShape::new(model.shape(), 4).layout().len());
        let batch = circuit_identity(&model, 4, &app_digest, Some((2, 21))).unwrap();
        assert_eq!((batch.proof_count, batch.accumulator_limbs), (2, ACCUMULATOR_LIMBS));
        assert_ne!(batch.digest, direct.digest, "batch mode pins the aggregation circuit");
        assert_ne!(batch.digest, circuit_identity(&model, 4, &app_digest, Some((2, 22))).unwrap().digest);
        let err = circuit_identity(&model, 4, "not-hex", None).unwrap_err();
        assert!(matches!(err, IdentityError::Digest { ref digest, .. } if digest == "not-hex"), "{err:?}");
        assert!(err.to_string().contains("not 32 bytes of hex"), "{err}");
        assert!(std::error::Error::source(&err).is_some(), "the parse error is kept as the source");
    }

    #[test]
    fn an_identity_without_scores_pins_no_score_instances() {
        let model = demo_model(4);
        let app_digest = "11".repeat(32);
        let scored = circuit_identity(&model, 4, &app_digest, None).unwrap();
        let bare = circuit_identity_with_scores(&model, 4, false, &app_digest, None).unwrap();
        assert_eq!(bare.score_bits, 0);
        assert!(scored.score_bits > 0);
        assert_eq!(bare.app_instances, AppShape::new(model.shape(), 4).with_scores(false).layout().len());
        assert!(bare.app_instances < scored.app_instances);
        let agg = |has_scores| circuit_identity_with_scores(&model, 4, has_scores, &app_digest, Some((2, 21)));
        assert_ne!(agg(false).unwrap().digest, agg(true).unwrap().digest, "the aggregation pins the app layout");
    }
}
