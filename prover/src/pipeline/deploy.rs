//! A model's circuit made ready to deploy: the model commitment, the circuit digest the registry
//! pins, the instance layout, and the compiled Solidity verifier — for direct mode
//! (one app proof per transaction) or batch mode (the aggregation of N app proofs). No network
//! I/O: `zkguard deploy`, `zkguard demo` and the relayer's tests put this on a chain.
//!
//! The verifier's creation code and the circuit's exact proof length are cached next to the keys
//! (`<cache>/verifiers/<digest>-<srs id>.json`); digests are derived without keys, so a second run
//! loads no key, regenerates no aggregation key and recompiles nothing. Keys are loaded (or
//! generated) only to generate a verifier; the Solidity source, with its provenance header, is
//! written then.

use std::path::{Path, PathBuf};

use alloy_primitives::{FixedBytes, U256};
use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use crate::aggregate::batch::{aggregation_verifier, aggregation_verifier_spec, default_batch_name};
use crate::aggregate::config::default_k;
use crate::aggregate::{AggregationKeys, AggregationShape};
use crate::circuit::commit::model_commitment;
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::{AppShape, InstanceLayout, Visibility};
use crate::evm::codegen::{write_verifier, GeneratedVerifier};
use crate::evm::context::fr_to_u256;
use crate::evm::direct::{app_verifier, app_verifier_spec, default_app_name};
use crate::evm::proof_length::proof_length;
use crate::keys::cache::circuit_digest;
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::Transcript;
use crate::quant::QuantizedModel;

/// Why a circuit could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum DeployableError {
    /// Batch size or N out of range.
    #[error("{0}")]
    Invalid(String),
    /// Keys, parameters, proving or code generation.
    #[error("{what}: {message}")]
    Step {
        /// The step.
        what: &'static str,
        /// The error.
        message: String,
    },
    /// The verifier cache.
    #[error("verifier cache {path}: {source}")]
    Cache {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn step<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> DeployableError {
    move |e| DeployableError::Step { what, message: e.to_string() }
}

/// What to prepare.
#[derive(Clone, Debug)]
pub struct DeployableRequest {
    /// The quantized model.
    pub model: QuantizedModel,
    /// Samples per app proof (B).
    pub batch_size: usize,
    /// How the app circuit holds the model.
    pub visibility: Visibility,
    /// Batch mode: app proofs per aggregation (N); `None`: direct mode.
    pub aggregate: Option<usize>,
    /// Advice-column budget of the app circuit.
    pub max_columns: usize,
    /// KZG parameters.
    pub srs: SrsSource,
    /// Key, parameter and verifier cache.
    pub cache_dir: PathBuf,
    /// The solc-compatible compiler (`scripts/solc`).
    pub solc: PathBuf,
    /// Where the generated Solidity goes (one sub-directory per circuit), when it is generated.
    pub generated_dir: Option<PathBuf>,
    /// The command line, for the generated verifier's header.
    pub command: String,
}

/// A circuit ready to deploy and register.
#[derive(Clone, Debug)]
pub struct DeployableCircuit {
    /// The quantized model.
    pub model: QuantizedModel,
    /// Samples per app proof.
    pub batch_size: usize,
    /// How the app circuit holds the model.
    pub visibility: Visibility,
    /// Batch mode's N (`None`: direct).
    pub aggregate: Option<usize>,
    /// The model's Poseidon commitment.
    pub commitment: U256,
    /// Digest of the app circuit (what the relayer's app keys are cached under).
    pub app_digest: String,
    /// The digest the registry pins: the app digest in direct mode, the aggregation digest in
    /// batch mode.
    pub digest: FixedBytes<32>,
    /// Public instances of one app proof.
    pub app_instances: usize,
    /// The verifier's creation code.
    pub verifier: Vec<u8>,
    /// The exact byte length of the proofs it verifies (EVM transcript).
    pub proof_length: usize,
    /// Whether the verifier was generated now (false: from the cache).
    pub generated: bool,
}

/// A cached verifier (`<cache>/verifiers/<digest>-<srs id>.json`).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CachedVerifier {
    /// Creation code (hex).
    creation: String,
    /// Proof length in bytes.
    proof_length: usize,
}

impl DeployableCircuit {
    /// Proofs per verified proof (1 in direct mode).
    pub fn proof_count(&self) -> usize {
        self.aggregate.unwrap_or(1)
    }

    /// Accumulator limbs in front of the app instances (12 in batch mode, 0 in direct mode).
    pub fn accumulator_limbs(&self) -> usize {
        if self.aggregate.is_some() {
            ACCUMULATOR_LIMBS
        } else {
            0
        }
    }

    /// The registration of this circuit as model `model_id` with `policy` and `inputs`.
    pub fn registration(
        &self,
        model_id: U256,
        policy: zkguard_contracts::registration::PolicyArgs,
        inputs: zkguard_contracts::registration::InputPolicyArgs,
    ) -> Result<zkguard_contracts::registration::ModelRegistration, DeployableError> {
        let batch_size = u16::try_from(self.batch_size)
            .map_err(|_| DeployableError::Invalid(format!("batch size {} > 65535", self.batch_size)))?;
        let score_scale_bits = u8::try_from(self.model.fixed.scale_bits)
            .map_err(|_| DeployableError::Invalid(format!("score scale {} bits > 255", self.model.fixed.scale_bits)))?;
        Ok(zkguard_contracts::registration::ModelRegistration {
            model_id,
            verifier_code: self.verifier.clone(),
            digest: self.digest,
            commitment: self.commitment,
            batch_size,
            score_bits: self.layout().score_bits.map_or(0, |b| b as u8),
            app_instances: self.app_instances,
            proof_count: self.proof_count(),
            accumulator_limbs: self.accumulator_limbs(),
            proof_length: self.proof_length,
            score_scale_bits,
            policy,
            inputs,
        })
    }

    /// The public-instance layout of one app proof.
    pub fn layout(&self) -> InstanceLayout {
        AppShape::new(self.model.shape(), self.batch_size).layout()
    }

    /// `direct` or `batch (N proofs aggregated)`.
    pub fn mode(&self) -> String {
        match self.aggregate {
            None => "direct".into(),
            Some(n) => format!("batch ({n} proof{} aggregated)", if n == 1 { "" } else { "s" }),
        }
    }
}

/// Loads or generates the keys and the verifier of `req`'s circuit.
pub fn prepare(req: &DeployableRequest) -> Result<DeployableCircuit, DeployableError> {
    if req.batch_size == 0 {
        return Err(DeployableError::Invalid("batch size must be > 0".into()));
    }
    if req.aggregate == Some(0) {
        return Err(DeployableError::Invalid("batch mode aggregates at least 1 proof".into()));
    }
    let shape = AppShape::for_model(&req.model, req.batch_size, req.visibility);
    let config = AppKeys::choose_config(&shape, req.max_columns).map_err(step("circuit layout"))?;
    // The digests need no keys: with the verifier cached, nothing is loaded here (the relayer
    // loads the proving keys it needs once, itself).
    let app_digest = circuit_digest(&config);
    let identity = circuit_identity(&req.model, req.batch_size, &app_digest, req.aggregate.map(|n| (n, default_k(n))))?;
    let digest = hex::encode(identity.digest);
    let code_path = verifier_cache_path(&req.cache_dir, &req.srs, &digest);
    let cache_error = |source| DeployableError::Cache { path: code_path.clone(), source };
    let (cached, generated) = match std::fs::read_to_string(&code_path) {
        Ok(text) => {
            let cached: CachedVerifier = serde_json::from_str(&text).map_err(|e| DeployableError::Step {
                what: "cached verifier (delete the file to regenerate it)",
                message: format!("{}: {e}", code_path.display()),
            })?;
            (cached, false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::info!(circuit = %&digest[..12], "generating and compiling the Solidity verifier");
            let params = load_params(&req.srs, config.k(), &req.cache_dir).map_err(step("KZG parameters"))?;
            let keys =
                AppKeys::load_or_generate(config, &params, &req.srs, &req.cache_dir).map_err(step("app keys"))?;
            let (generated, proof_length) = generate_verifier(req, &keys, &params, identity.app_instances)?;
            if let Some(dir) = &req.generated_dir {
                write_verifier(&generated, dir).map_err(step("writing the verifier"))?;
            }
            let cached = CachedVerifier { creation: hex::encode(&generated.compiled.creation), proof_length };
            let json = serde_json::to_vec(&cached).map_err(|e| cache_error(std::io::Error::other(e)))?;
            crate::fsutil::write_bytes_atomic(&code_path, &json).map_err(cache_error)?;
            (cached, true)
        }
        Err(e) => return Err(cache_error(e)),
    };
    let verifier = hex::decode(cached.creation.trim_start_matches("0x"))
        .map_err(|e| DeployableError::Step { what: "cached verifier", message: e.to_string() })?;
    Ok(DeployableCircuit {
        model: req.model.clone(),
        batch_size: req.batch_size,
        visibility: req.visibility,
        aggregate: req.aggregate,
        commitment: identity.commitment,
        app_digest,
        digest: identity.digest,
        app_instances: identity.app_instances,
        verifier,
        proof_length: cached.proof_length,
        generated,
    })
}

/// The aggregation of `proofs` proofs of `keys`' circuit at the default degree.
fn aggregation_shape(keys: &AppKeys, app_instances: usize, proofs: usize) -> AggregationShape {
    AggregationShape::new(&keys.digest, app_instances, proofs, default_k(proofs))
}

/// Generates and compiles the verifier: of the app circuit (direct mode), or of the aggregation
/// circuit (batch mode; generates the aggregation keys when they are not cached: minutes, GBs).
/// Returns it with the exact length of the proofs it verifies.
fn generate_verifier(
    req: &DeployableRequest,
    keys: &AppKeys,
    params: &ParamsKZG<Bn256>,
    app_instances: usize,
) -> Result<(GeneratedVerifier, usize), DeployableError> {
    match req.aggregate {
        None => {
            let spec = app_verifier_spec(keys, &req.srs, default_app_name(keys), req.command.clone());
            let verifier = app_verifier(params, keys, spec, &req.solc).map_err(step("direct verifier"))?;
            Ok((verifier, proof_length(keys.vk(), Transcript::Evm)))
        }
        Some(proofs) => {
            let shape = aggregation_shape(keys, app_instances, proofs);
            let agg_params = load_params(&req.srs, shape.k, &req.cache_dir).map_err(step("aggregation parameters"))?;
            let agg_keys =
                AggregationKeys::load_or_generate(shape, keys, params, &agg_params, &req.srs, &req.cache_dir)
                    .map_err(step("aggregation keys"))?;
            let spec = aggregation_verifier_spec(
                &agg_keys,
                keys,
                &req.srs,
                default_batch_name(&agg_keys),
                req.command.clone(),
            );
            let verifier =
                aggregation_verifier(&agg_params, &agg_keys, spec, &req.solc).map_err(step("aggregation verifier"))?;
            Ok((verifier, proof_length(agg_keys.vk(), Transcript::Evm)))
        }
    }
}

/// Where the creation code of the verifier of circuit `digest` is cached.
pub fn verifier_cache_path(cache_dir: &Path, srs: &SrsSource, digest: &str) -> PathBuf {
    cache_dir.join("verifiers").join(format!("{digest}-{}.json", srs.id()))
}

/// What a registration must pin for a model's circuit, derived without keys: from the model,
/// the batch size, the app circuit's digest and, in batch mode, the aggregation's N and degree.
/// The relayer's start-up check compares a registry entry with this; [`prepare`] registers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitIdentity {
    /// The digest the registry pins: the app circuit's, or the aggregation circuit's.
    pub digest: FixedBytes<32>,
    /// App proofs per verified proof (1 in direct mode).
    pub proof_count: usize,
    /// Accumulator limbs in front of the app instances (12 in batch mode, 0 in direct mode).
    pub accumulator_limbs: usize,
    /// Public instances of one app proof.
    pub app_instances: usize,
    /// Width of a packed score (0 without scores).
    pub score_bits: u8,
    /// The model's Poseidon commitment.
    pub commitment: U256,
}

/// The [`CircuitIdentity`] of `model` at `batch_size` whose app circuit has digest `app_digest`;
/// in batch mode (`aggregate = Some((N, k))`) of the aggregation of N of its proofs at degree k.
pub fn circuit_identity(
    model: &QuantizedModel,
    batch_size: usize,
    app_digest: &str,
    aggregate: Option<(usize, u32)>,
) -> Result<CircuitIdentity, DeployableError> {
    let layout = AppShape::new(model.shape(), batch_size).layout();
    let (digest, proof_count, accumulator_limbs) = match aggregate {
        None => (app_digest.to_string(), 1, 0),
        Some((proofs, k)) => {
            (AggregationShape::new(app_digest, layout.len(), proofs, k).digest(), proofs, ACCUMULATOR_LIMBS)
        }
    };
    let digest = format!("0x{}", digest.trim_start_matches("0x"))
        .parse()
        .map_err(|_| DeployableError::Invalid(format!("circuit digest {digest} is not 32 bytes of hex")))?;
    Ok(CircuitIdentity {
        digest,
        proof_count,
        accumulator_limbs,
        app_instances: layout.len(),
        score_bits: layout.score_bits.map_or(0, |b| b as u8),
        commitment: fr_to_u256(&model_commitment(&model.shape(), &model.params())),
    })
}

#[cfg(test)]
mod tests {
    use halo2_base::halo2_proofs::halo2curves::bn256::Fr;

    use super::*;
    use crate::circuit::AppWitness;
    use crate::evm::demo::{demo_model, demo_rows};

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
        let batch = circuit_identity(&model, 4, &app_digest, Some((2, 21))).unwrap();
        assert_eq!((batch.proof_count, batch.accumulator_limbs), (2, ACCUMULATOR_LIMBS));
        assert_ne!(batch.digest, direct.digest, "batch mode pins the aggregation circuit");
        assert_ne!(batch.digest, circuit_identity(&model, 4, &app_digest, Some((2, 22))).unwrap().digest);
        let err = circuit_identity(&model, 4, "not-hex", None).unwrap_err().to_string();
        assert!(err.contains("not 32 bytes of hex"), "{err}");
    }
}
