//! The start-up check that each served model's registration in the Guard's `ModelRegistry`
//! matches what the relayer will prove: the circuit digest (the app circuit's in direct mode, the
//! aggregation circuit's in batch mode), the proof count N, the accumulator limbs, the batch size,
//! whether the proof carries scores, and the model commitment; and that the model is registered
//! and not retired. Without it a mismatch only shows as a decoded revert at gas estimation.
//!
//! [`ExpectedRegistration`] is computed from the configuration alone (the quantized model and the
//! circuit shape; no keys), so a mismatch is caught before any key is loaded or generated;
//! [`compare`] is the pure comparison; [`read_registration`] reads the registry through the Guard's
//! `registry()` getter and `ModelRegistry.getModel`.

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use zkguard_prover::identity::{circuit_identity_with_scores, CircuitIdentity, IdentityError};
use zkguard_prover::keys::{cache::circuit_digest, KeyError};
use zkguard_prover::load::LoadError;
use zkguard_prover::quant::QuantizedModel;

use super::rpc::{with_retry, RpcFailure};
use crate::config::{Config, ModelConfig};
use crate::metrics::Metrics;
use crate::model::ServedModel;

use zkguard_contracts::abi::{Guard, ModelRegistry, ModelStatus};

/// What the relayer will submit for a model, i.e. what its registration must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedRegistration {
    /// Model id (decimal, as configured).
    pub model_id: String,
    /// Mode, for messages (`direct` or `aggregate N`).
    pub mode: String,
    /// The circuit's identity (what `zkguard deploy` registers): the digest (the app circuit's in
    /// direct mode, the aggregation circuit's in batch mode), the proof count, the accumulator
    /// limbs, the score width and the model commitment.
    pub identity: CircuitIdentity,
    /// Samples per app proof.
    pub batch_size: u64,
}

/// The fields of a registration the relayer depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The registry's address.
    pub registry: Address,
    /// The model's status.
    pub status: ModelStatus,
    /// Registered circuit digest.
    pub circuit_digest: FixedBytes<32>,
    /// Registered proof count.
    pub proof_count: u64,
    /// Registered accumulator limbs.
    pub accumulator_limbs: u64,
    /// Registered batch size.
    pub batch_size: u64,
    /// Registered `scoreBits` (0: no scores).
    pub score_bits: u8,
    /// Registered model commitment.
    pub commitment: U256,
}

/// One field that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMismatch {
    /// The field (`circuit_digest`, `proof_count`, ...).
    pub field: &'static str,
    /// What the relayer's configuration implies.
    pub configured: String,
    /// What the registry holds.
    pub registered: String,
}

impl std::fmt::Display for FieldMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {} in the config but {} in the registry", self.field, self.configured, self.registered)
    }
}

/// Why a model's registration does not fit the configuration.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// No registration under this id.
    #[error("model {model_id} is not registered in the Guard's registry {registry}")]
    NotRegistered {
        /// Model id.
        model_id: String,
        /// Registry.
        registry: Address,
    },
    /// Retired: the Guard refuses every submission.
    #[error("model {model_id} is retired in the Guard's registry {registry}: the Guard refuses every submission")]
    Retired {
        /// Model id.
        model_id: String,
        /// Registry.
        registry: Address,
    },
    /// The registered verifier or model differs from what the relayer proves.
    #[error(
        "model {model_id} ({mode} mode): the registration in {registry} does not match the configuration: {}",
        mismatches.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Mismatch {
        /// Model id.
        model_id: String,
        /// Configured mode.
        mode: String,
        /// Registry.
        registry: Address,
        /// Every differing field.
        mismatches: Vec<FieldMismatch>,
    },
    /// The model file or its calibration data (the prover's loader).
    #[error("model {model_id}: {source}")]
    Model {
        /// Model id.
        model_id: String,
        /// What went wrong (boxed: it is large).
        #[source]
        source: Box<LoadError>,
    },
    /// No circuit configuration fits the model's shape.
    #[error("model {model_id}: {source}")]
    Circuit {
        /// Model id.
        model_id: String,
        /// What went wrong.
        #[source]
        source: KeyError,
    },
    /// The circuit's identity cannot be derived.
    #[error("model {model_id}: {source}")]
    Identity {
        /// Model id.
        model_id: String,
        /// What went wrong.
        #[source]
        source: IdentityError,
    },
    /// The configured id is not a registry id.
    #[error("model {model_id}: reading its registration: the id is not a decimal uint256")]
    InvalidId {
        /// Model id.
        model_id: String,
    },
    /// The chain refused a read.
    #[error("model {model_id}: reading its registration: {call}: {source}")]
    Rpc {
        /// Model id.
        model_id: String,
        /// The call (`Guard 0x….registry()`, `registry 0x….getModel(1)`).
        call: String,
        /// What the node answered.
        #[source]
        source: RpcFailure,
    },
    /// A read's answer does not decode.
    #[error("model {model_id}: reading its registration: {call} does not decode: {source}")]
    Decode {
        /// Model id.
        model_id: String,
        /// The call.
        call: String,
        /// The decoding error (boxed: it is large).
        #[source]
        source: Box<alloy::sol_types::Error>,
    },
    /// The registry answered a status this relayer does not know.
    #[error("model {model_id}: reading its registration: {call}: unknown status {status}")]
    UnknownStatus {
        /// Model id.
        model_id: String,
        /// The call.
        call: String,
        /// The status value.
        status: u8,
    },
}

/// Compares a registration with what the relayer will prove.
pub fn compare(expected: &ExpectedRegistration, registered: &Registration) -> Result<(), RegistrationError> {
    let model_id = expected.model_id.clone();
    match registered.status {
        ModelStatus::None => return Err(RegistrationError::NotRegistered { model_id, registry: registered.registry }),
        ModelStatus::Retired => return Err(RegistrationError::Retired { model_id, registry: registered.registry }),
        ModelStatus::Active | ModelStatus::Frozen => {}
    }
    let mut mismatches = vec![];
    let mut check = |field: &'static str, configured: String, registered: String| {
        if configured != registered {
            mismatches.push(FieldMismatch { field, configured, registered });
        }
    };
    let id = &expected.identity;
    check("circuit_digest", id.digest.to_string(), registered.circuit_digest.to_string());
    check("proof_count", id.proof_count.to_string(), registered.proof_count.to_string());
    check("accumulator_limbs", id.accumulator_limbs.to_string(), registered.accumulator_limbs.to_string());
    check("batch_size", expected.batch_size.to_string(), registered.batch_size.to_string());
    check("score_bits", id.score_bits.to_string(), registered.score_bits.to_string());
    check("model_commitment", format!("{:#x}", id.commitment), format!("{:#x}", registered.commitment));
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(RegistrationError::Mismatch {
            model_id,
            mode: expected.mode.clone(),
            registry: registered.registry,
            mismatches,
        })
    }
}

/// The expected registration of a quantized model at `batch_size` whose app circuit has digest
/// `app_digest` (with or without scores); in batch mode (`aggregate = Some((N, k))`) of the
/// aggregation of N of its proofs (`zkguard_prover::identity::circuit_identity_with_scores`, what
/// `zkguard deploy` registers).
pub fn expected_for(
    model_id: &str,
    model: &QuantizedModel,
    batch_size: usize,
    has_scores: bool,
    app_digest: &str,
    aggregate: Option<(usize, u32)>,
) -> Result<ExpectedRegistration, RegistrationError> {
    let identity = circuit_identity_with_scores(model, batch_size, has_scores, app_digest, aggregate)
        .map_err(|source| RegistrationError::Identity { model_id: model_id.to_string(), source })?;
    Ok(ExpectedRegistration {
        model_id: model_id.to_string(),
        mode: aggregate.map_or("direct".to_string(), |(n, _)| format!("aggregate {n}")),
        identity,
        batch_size: batch_size as u64,
    })
}

/// The expected registration of a configured model, from the model file and the circuit shape
/// only (blocking: quantizes a float model; no keys are loaded or generated).
pub fn expected_from_config(config: &Config, m: &ModelConfig) -> Result<ExpectedRegistration, RegistrationError> {
    let model = zkguard_prover::load::load_quantized(&m.path, m.calibration.as_deref())
        .map_err(|source| RegistrationError::Model { model_id: m.id.clone(), source: Box::new(source) })?;
    let shape = m.app_shape(&model);
    let circuit = m
        .app_circuit(&shape, &config.proving)
        .map_err(|source| RegistrationError::Circuit { model_id: m.id.clone(), source })?;
    let aggregate = m.aggregate.zip(m.aggregation_degree());
    expected_for(&m.id, &model, m.batch_size, m.scores, &circuit_digest(&circuit), aggregate)
}

/// The expected registration of a loaded model.
pub fn expected_from_served(model: &ServedModel) -> Result<ExpectedRegistration, RegistrationError> {
    let aggregate = model.aggregation.as_ref().map(|a| (a.shape.proofs, a.shape.k));
    let has_scores = model.keys.config.shape.has_scores;
    expected_for(&model.id, &model.model, model.batch_size, has_scores, &model.keys.digest, aggregate)
}

async fn call(
    provider: &DynProvider,
    metrics: &Metrics,
    backoff: std::time::Duration,
    what: &'static str,
    to: Address,
    input: Vec<u8>,
) -> Result<alloy::primitives::Bytes, RpcFailure> {
    let tx = TransactionRequest::default().with_to(to).with_input(input);
    with_retry(what, backoff, metrics, || {
        let tx = tx.clone();
        async move { provider.call(tx).await }
    })
    .await
}

/// Reads a model's registration: `Guard.registry()`, then `ModelRegistry.getModel(modelId)`.
/// Transport errors are retried (for as long as the node is away: callers bound it).
pub async fn read_registration(
    provider: &DynProvider,
    metrics: &Metrics,
    backoff: std::time::Duration,
    guard: Address,
    model_id: &str,
) -> Result<Registration, RegistrationError> {
    let model = || model_id.to_string();
    let id: U256 = model_id.parse().map_err(|_| RegistrationError::InvalidId { model_id: model() })?;
    let rpc = |call: String| move |source| RegistrationError::Rpc { model_id: model(), call, source };
    let decode =
        |call: String| move |source| RegistrationError::Decode { model_id: model(), call, source: Box::new(source) };
    let out = call(provider, metrics, backoff, "registry", guard, Guard::registryCall {}.abi_encode())
        .await
        .map_err(rpc(format!("Guard {guard}.registry()")))?;
    let registry =
        Guard::registryCall::abi_decode_returns(&out).map_err(decode(format!("Guard {guard}.registry()")))?;
    let get_model = format!("registry {registry}.getModel({model_id})");
    let input = ModelRegistry::getModelCall { modelId: id }.abi_encode();
    let out = call(provider, metrics, backoff, "getModel", registry, input).await.map_err(rpc(get_model.clone()))?;
    let m = ModelRegistry::getModelCall::abi_decode_returns(&out).map_err(decode(get_model.clone()))?;
    let status = ModelStatus::from_abi(m.status).ok_or_else(|| RegistrationError::UnknownStatus {
        model_id: model(),
        call: get_model,
        status: m.status,
    })?;
    Ok(Registration {
        registry,
        status,
        circuit_digest: m.circuitDigest,
        proof_count: u64::from(m.proofCount),
        accumulator_limbs: u64::from(m.accumulatorLimbs),
        batch_size: u64::from(m.batchSize),
        score_bits: m.scoreBits,
        commitment: m.modelCommitment,
    })
}

/// Reads and compares a model's registration.
pub async fn check(
    provider: &DynProvider,
    metrics: &Metrics,
    backoff: std::time::Duration,
    guard: Address,
    expected: &ExpectedRegistration,
) -> Result<(), RegistrationError> {
    let registered = read_registration(provider, metrics, backoff, guard, &expected.model_id).await?;
    compare(expected, &registered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> CircuitIdentity {
        CircuitIdentity {
            digest: FixedBytes::repeat_byte(0xaa),
            commitment: U256::from(77),
            proof_count: 1,
            accumulator_limbs: 0,
            app_instances: 7,
            score_bits: 40,
        }
    }

    fn expected() -> ExpectedRegistration {
        ExpectedRegistration { model_id: "1".into(), mode: "direct".into(), identity: identity(), batch_size: 4 }
    }

    fn registered() -> Registration {
        let e = expected();
        Registration {
            registry: Address::repeat_byte(0x11),
            status: ModelStatus::Active,
            circuit_digest: e.identity.digest,
            proof_count: 1,
            accumulator_limbs: 0,
            batch_size: 4,
            score_bits: 40,
            commitment: e.identity.commitment,
        }
    }

    #[test]
    fn a_matching_active_or_frozen_registration_passes() {
        compare(&expected(), &registered()).unwrap();
        compare(&expected(), &Registration { status: ModelStatus::Frozen, ..registered() }).unwrap();
    }

    #[test]
    fn every_differing_field_is_named_with_both_values() {
        // The config says batch mode with N = 2 over B = 8; the registry holds the direct B = 4 verifier.
        let batch = ExpectedRegistration {
            mode: "aggregate 2".into(),
            identity: CircuitIdentity {
                digest: FixedBytes::repeat_byte(0xbb),
                proof_count: 2,
                accumulator_limbs: 12,
                ..identity()
            },
            batch_size: 8,
            ..expected()
        };
        let err = compare(&batch, &registered()).unwrap_err();
        let RegistrationError::Mismatch { ref model_id, ref mismatches, .. } = err else { panic!("{err}") };
        assert_eq!(model_id, "1");
        let fields: Vec<_> = mismatches.iter().map(|m| m.field).collect();
        assert_eq!(fields, ["circuit_digest", "proof_count", "accumulator_limbs", "batch_size"]);
        let text = err.to_string();
        assert!(text.starts_with("model 1 (aggregate 2 mode)"), "{text}");
        assert!(text.contains("proof_count is 2 in the config but 1 in the registry"), "{text}");
        assert!(text.contains("batch_size is 8 in the config but 4 in the registry"), "{text}");
        assert!(text.contains(&format!(
            "circuit_digest is 0x{} in the config but 0x{}",
            "bb".repeat(32),
            "aa".repeat(32)
        )));
        let other = ExpectedRegistration {
            identity: CircuitIdentity { commitment: U256::from(78), score_bits: 0, ..identity() },
            ..expected()
        };
        let text = compare(&other, &registered()).unwrap_err().to_string();
        assert!(
            text.contains("score_bits is 0 in the config but 40") && text.contains("model_commitment is 0x4e"),
            "{text}"
        );
    }

    /// A configuration whose model 1 is `model.json` in `dir` (which may not exist).
    fn config_in(dir: &std::path::Path) -> Config {
        crate::config::test_config("1", &dir.join("model.json"))
    }

    #[test]
    fn configuration_errors_keep_their_typed_source() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let err = expected_from_config(&config, &config.models[0]).unwrap_err();
        let RegistrationError::Model { ref model_id, ref source } = err else { panic!("{err:?}") };
        assert_eq!(model_id, "1");
        assert!(matches!(**source, LoadError::Io { .. }), "{source:?}");
        assert!(err.to_string().starts_with("model 1: cannot read model file"), "{err}");
        let model = zkguard_prover::demo::demo_model(4);
        let err = expected_for("3", &model, 4, true, "not-hex", None).unwrap_err();
        assert!(matches!(err, RegistrationError::Identity { ref model_id, .. } if model_id == "3"), "{err:?}");
        assert!(err.to_string().starts_with("model 3: circuit digest not-hex"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn a_configured_model_expects_the_identity_deploy_registers() {
        let dir = tempfile::tempdir().unwrap();
        let model = zkguard_prover::demo::demo_model(4);
        let file = zkguard_prover::artifact::QuantizedFile::new(model.clone(), "00".repeat(32));
        zkguard_prover::artifact::write_json(&dir.path().join("model.json"), &file).unwrap();
        let config = config_in(dir.path());
        let m = &config.models[0];
        let expected = expected_from_config(&config, m).unwrap();
        // The default layout is compact: today's few-tall-columns circuit.
        let circuit =
            zkguard_prover::circuit::AppCircuitConfig::choose(&m.app_shape(&model), config.proving.max_columns)
                .unwrap();
        let identity = zkguard_prover::identity::circuit_identity(&model, 4, &circuit_digest(&circuit), None).unwrap();
        assert_eq!(
            expected,
            ExpectedRegistration { model_id: "1".into(), mode: "direct".into(), identity, batch_size: 4 }
        );
    }

    #[test]
    fn a_model_without_scores_expects_an_identity_without_score_instances() {
        let dir = tempfile::tempdir().unwrap();
        let model = zkguard_prover::demo::demo_model(4);
        let file = zkguard_prover::artifact::QuantizedFile::new(model.clone(), "00".repeat(32));
        zkguard_prover::artifact::write_json(&dir.path().join("model.json"), &file).unwrap();
        let mut config = config_in(dir.path());
        let scored = expected_from_config(&config, &config.models[0]).unwrap();
        config.models[0].scores = false;
        let bare = expected_from_config(&config, &config.models[0]).unwrap();
        assert_eq!(bare.identity.score_bits, 0);
        assert!(bare.identity.app_instances < scored.identity.app_instances);
        assert_ne!(bare.identity.digest, scored.identity.digest, "another circuit");
        assert_eq!(bare.identity.commitment, scored.identity.commitment, "the same model");
    }

    #[test]
    fn unregistered_and_retired_models_are_refused() {
        let none = compare(&expected(), &Registration { status: ModelStatus::None, ..registered() }).unwrap_err();
        assert!(matches!(none, RegistrationError::NotRegistered { .. }));
        assert!(none.to_string().contains("model 1 is not registered"), "{none}");
        let retired = compare(&expected(), &Registration { status: ModelStatus::Retired, ..registered() }).unwrap_err();
        assert!(retired.to_string().contains("model 1 is retired"), "{retired}");
    }
}
