//! A model's circuit made ready to deploy: its identity (model commitment, the circuit digest the
//! registry pins, instance counts; [`crate::identity`]) and the compiled Solidity verifier, for
//! direct mode (one app proof per transaction) or batch mode (the aggregation of N app proofs). No
//! network I/O: `zkguard deploy`, `zkguard demo` and the relayer's tests put this on a chain.
//!
//! Which verifier ([`VerifierKind`]), in both modes: the proof system's shared verifier and the
//! circuit's key contract ([`crate::evm::shared_verifier`], the default; in batch mode the
//! aggregation circuits' shared verifier, which reads the KZG accumulator in the first 12
//! instances) or a verifier generated for the circuit alone (unrolled).
//!
//! The verifier's creation code and the circuit's exact proof length are cached next to the keys
//! ([`super::verifier_cache`]); digests are derived without keys, so a second run loads no key,
//! regenerates no aggregation key and recompiles nothing. Keys are loaded (or generated) only to
//! generate a verifier; the Solidity source, with its provenance header, is written then.

use std::path::PathBuf;

use alloy_primitives::U256;
use halo2_base::halo2_proofs::halo2curves::bn256::Bn256;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkguard_contracts::registration::VerifierCode;

use super::verifier::{
    aggregation_verifier, aggregation_verifier_spec, app_verifier, app_verifier_spec, default_app_name,
    default_batch_name,
};
use super::verifier_cache::{
    self, shared_verifier_cache_path, verifier_cache_path, CachedVerifier, VerifierCacheError,
};
use super::PipelineError;
use crate::aggregate::config::default_k;
use crate::aggregate::{AggregateError, AggregationKeys, AggregationShape};
use crate::circuit::{AppShape, InstanceLayout, Visibility};
use crate::evm::codegen::{write_verifier, CodegenError, GeneratedVerifier};
use crate::evm::proof_length::proof_length;
use crate::evm::shared_verifier::{
    deployable_aggregation_pair, deployable_pair, shared_verifier_code, write_pair, SharedPairError,
};
use crate::identity::{circuit_identity, CircuitIdentity, IdentityError};
use crate::keys::cache::circuit_digest;
use crate::keys::{load_params, AppKeys, KeyError, SrsError, SrsSource};
use crate::prove::Transcript;
use crate::quant::QuantizedModel;

/// Which Solidity verifier a circuit is deployed with (the default: shared, in both modes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifierKind {
    /// The proof system's shared verifier (deployed once per chain, CREATE2) and the circuit's
    /// verifying-key contract, behind `ZkGuardKeyedVerifier`: a model deploys only its key and
    /// wrapper. In batch mode, the aggregation circuits' shared verifier (with the KZG
    /// accumulator) and the aggregation circuit's key.
    #[default]
    Shared,
    /// A verifier generated for this circuit alone (its key and instance count unrolled into its
    /// code), behind `ZkGuardVerifier`.
    Unrolled,
}

/// Why a circuit could not be prepared or registered.
#[derive(Debug, thiserror::Error)]
pub enum DeployableError {
    /// A batch size of 0.
    #[error("batch size must be > 0")]
    ZeroBatchSize,
    /// Batch mode with N = 0.
    #[error("batch mode aggregates at least 1 proof")]
    NoProofs,
    /// The batch size does not fit the registry's `uint16`.
    #[error("batch size {0} > 65535")]
    BatchSizeTooLarge(usize),
    /// The score scale does not fit the registry's `uint8`.
    #[error("score scale {0} bits > 255")]
    ScoreScaleTooLarge(u32),
    /// The circuit's identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// No circuit configuration fits the shape.
    #[error("circuit layout: {0}")]
    Layout(#[source] KeyError),
    /// The app circuit's KZG parameters.
    #[error("KZG parameters: {0}")]
    Params(#[source] SrsError),
    /// The app circuit's keys.
    #[error("app keys: {0}")]
    AppKeys(#[source] KeyError),
    /// The aggregation circuit's KZG parameters.
    #[error("aggregation parameters: {0}")]
    AggregationParams(#[source] SrsError),
    /// The aggregation circuit's keys.
    #[error("aggregation keys: {0}")]
    AggregationKeys(#[source] AggregateError),
    /// Generating or compiling the verifier (`what`: the direct or the aggregation verifier).
    #[error("{what}: {source}")]
    Verifier {
        /// Which verifier.
        what: &'static str,
        /// The error.
        #[source]
        source: PipelineError,
    },
    /// Writing the generated Solidity.
    #[error("writing the verifier: {0}")]
    WriteVerifier(#[source] CodegenError),
    /// The verifier cache.
    #[error(transparent)]
    Cache(#[from] VerifierCacheError),
    /// Rendering, compiling or writing the shared verifier and key (`what`: the app circuit's or
    /// the aggregation circuit's).
    #[error("{what}: {source}")]
    SharedVerifier {
        /// Which pair.
        what: &'static str,
        /// The error.
        #[source]
        source: SharedPairError,
    },
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
    /// Which verifier.
    pub verifier: VerifierKind,
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
    /// Digest of the app circuit (what the relayer's app keys are cached under).
    pub app_digest: String,
    /// What the registration pins: the digest (the app circuit's in direct mode, the aggregation
    /// circuit's in batch mode), the commitment, the proof count, the accumulator limbs and the
    /// app instances.
    pub identity: CircuitIdentity,
    /// The verifier's code: a generated verifier's creation code, or the shared verifier's and
    /// the key's.
    pub verifier: VerifierCode,
    /// The exact byte length of the proofs it verifies (EVM transcript).
    pub proof_length: usize,
    /// Whether the verifier was generated now (false: from the cache).
    pub generated: bool,
}

impl DeployableCircuit {
    /// The registration of this circuit as model `model_id` with `policy` and `inputs`.
    pub fn registration(
        &self,
        model_id: U256,
        policy: zkguard_contracts::registration::PolicyArgs,
        inputs: zkguard_contracts::registration::InputPolicyArgs,
    ) -> Result<zkguard_contracts::registration::ModelRegistration, DeployableError> {
        let batch_size =
            u16::try_from(self.batch_size).map_err(|_| DeployableError::BatchSizeTooLarge(self.batch_size))?;
        let scale = self.model.fixed.scale_bits;
        let score_scale_bits = u8::try_from(scale).map_err(|_| DeployableError::ScoreScaleTooLarge(scale))?;
        Ok(zkguard_contracts::registration::ModelRegistration {
            model_id,
            verifier: self.verifier.clone(),
            identity: self.identity,
            batch_size,
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
        return Err(DeployableError::ZeroBatchSize);
    }
    if req.aggregate == Some(0) {
        return Err(DeployableError::NoProofs);
    }
    let shape = AppShape::for_model(&req.model, req.batch_size, req.visibility);
    let config = AppKeys::choose_config(&shape, req.max_columns).map_err(DeployableError::Layout)?;
    // The digests need no keys: with the verifier cached, nothing is loaded here (the relayer
    // loads the proving keys it needs once, itself).
    let app_digest = circuit_digest(&config);
    let identity = circuit_identity(&req.model, req.batch_size, &app_digest, req.aggregate.map(|n| (n, default_k(n))))?;
    let digest = hex::encode(identity.digest);
    let code_path = match req.verifier {
        VerifierKind::Unrolled => verifier_cache_path(&req.cache_dir, &req.srs, &digest),
        VerifierKind::Shared => shared_verifier_cache_path(&req.cache_dir, &req.srs, &digest),
    };
    let (cached, generated) = match verifier_cache::load(&code_path)? {
        Some(cached) => (cached, false),
        None => {
            tracing::info!(circuit = %&digest[..12], "generating and compiling the Solidity verifier");
            let params = load_params(&req.srs, config.k(), &req.cache_dir).map_err(DeployableError::Params)?;
            let keys = AppKeys::load_or_generate(config, &params, &req.srs, &req.cache_dir)
                .map_err(DeployableError::AppKeys)?;
            let cached = generate(req, &keys, &params, identity.app_instances)?;
            verifier_cache::store(&code_path, &cached)?;
            (cached, true)
        }
    };
    Ok(DeployableCircuit {
        model: req.model.clone(),
        batch_size: req.batch_size,
        visibility: req.visibility,
        aggregate: req.aggregate,
        app_digest,
        identity,
        verifier: cached.code,
        proof_length: cached.proof_length,
        generated,
    })
}

/// The aggregation of `proofs` proofs of `keys`' circuit at the default degree.
fn aggregation_shape(keys: &AppKeys, app_instances: usize, proofs: usize) -> AggregationShape {
    AggregationShape::new(&keys.digest, app_instances, proofs, default_k(proofs))
}

/// Generates and compiles the verifier of `req`'s kind: of the app circuit (direct mode), or of
/// the aggregation circuit (batch mode; generates the aggregation keys when they are not cached:
/// minutes, GBs); writes its Solidity when `req` says where. Returns its code with the exact
/// length of the proofs it verifies.
fn generate(
    req: &DeployableRequest,
    keys: &AppKeys,
    params: &ParamsKZG<Bn256>,
    app_instances: usize,
) -> Result<CachedVerifier, DeployableError> {
    let Some(proofs) = req.aggregate else {
        let proof_length = proof_length(keys.vk(), Transcript::Evm);
        let code = match req.verifier {
            VerifierKind::Unrolled => {
                let spec = app_verifier_spec(keys, &req.srs, default_app_name(keys), req.command.clone());
                let verifier = app_verifier(params, keys, spec, &req.solc)
                    .map_err(|source| DeployableError::Verifier { what: "direct verifier", source })?;
                unrolled(req, verifier)?
            }
            VerifierKind::Shared => {
                let what = "shared verifier";
                let shared = |source| DeployableError::SharedVerifier { what, source };
                let pair = deployable_pair(keys, params, &req.srs, &req.command, &req.solc).map_err(shared)?;
                if let Some(dir) = &req.generated_dir {
                    write_pair(dir, &default_app_name(keys), &pair.rendered, &pair.compiled).map_err(shared)?;
                }
                VerifierCode::Shared(shared_verifier_code(&pair))
            }
        };
        return Ok(CachedVerifier { code, proof_length });
    };
    let shape = aggregation_shape(keys, app_instances, proofs);
    let agg_params = load_params(&req.srs, shape.k, &req.cache_dir).map_err(DeployableError::AggregationParams)?;
    let agg_keys = AggregationKeys::load_or_generate(shape, keys, params, &agg_params, &req.srs, &req.cache_dir)
        .map_err(DeployableError::AggregationKeys)?;
    let proof_length = proof_length(agg_keys.vk(), Transcript::Evm);
    let code = match req.verifier {
        VerifierKind::Unrolled => {
            let name = default_batch_name(&agg_keys);
            let spec = aggregation_verifier_spec(&agg_keys, keys, &req.srs, name, req.command.clone());
            let verifier = aggregation_verifier(&agg_params, &agg_keys, spec, &req.solc)
                .map_err(|source| DeployableError::Verifier { what: "aggregation verifier", source })?;
            unrolled(req, verifier)?
        }
        VerifierKind::Shared => {
            let what = "shared aggregation verifier";
            let shared = |source| DeployableError::SharedVerifier { what, source };
            let pair = deployable_aggregation_pair(&agg_keys, &agg_params, &req.srs, &req.command, &req.solc)
                .map_err(shared)?;
            if let Some(dir) = &req.generated_dir {
                write_pair(dir, &default_batch_name(&agg_keys), &pair.rendered, &pair.compiled).map_err(shared)?;
            }
            VerifierCode::Shared(shared_verifier_code(&pair))
        }
    };
    Ok(CachedVerifier { code, proof_length })
}

/// A generated verifier's code, its Solidity written when `req` says where.
fn unrolled(req: &DeployableRequest, verifier: GeneratedVerifier) -> Result<VerifierCode, DeployableError> {
    if let Some(dir) = &req.generated_dir {
        write_verifier(&verifier, dir).map_err(DeployableError::WriteVerifier)?;
    }
    Ok(VerifierCode::Unrolled { creation: verifier.compiled.creation })
}

#[cfg(test)]
mod tests {
    use alloy_primitives::FixedBytes;
    use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs};

    use super::*;
    use crate::demo::demo_model;

    fn request() -> DeployableRequest {
        DeployableRequest {
            model: demo_model(4),
            batch_size: 4,
            visibility: Visibility::Committed,
            aggregate: None,
            verifier: VerifierKind::Unrolled,
            max_columns: 1,
            srs: SrsSource::InsecureDev,
            cache_dir: PathBuf::from("/nonexistent/zkguard-cache"),
            solc: PathBuf::from("/nonexistent/solc"),
            generated_dir: None,
            command: "test".into(),
        }
    }

    #[test]
    fn out_of_range_requests_are_refused_before_any_work() {
        assert!(matches!(
            prepare(&DeployableRequest { batch_size: 0, ..request() }),
            Err(DeployableError::ZeroBatchSize)
        ));
        let err = prepare(&DeployableRequest { aggregate: Some(0), ..request() }).unwrap_err();
        assert!(matches!(err, DeployableError::NoProofs), "{err:?}");
        let shared_none = DeployableRequest { aggregate: Some(0), verifier: VerifierKind::Shared, ..request() };
        assert!(matches!(prepare(&shared_none), Err(DeployableError::NoProofs)));
    }

    #[test]
    fn the_default_verifier_is_the_shared_one() {
        assert_eq!(VerifierKind::default(), VerifierKind::Shared);
    }

    #[test]
    fn a_cached_shared_aggregation_verifier_is_registered_with_the_aggregation_identity() {
        let dir = tempfile::tempdir().unwrap();
        let req = DeployableRequest {
            cache_dir: dir.path().to_path_buf(),
            aggregate: Some(2),
            verifier: VerifierKind::Shared,
            ..request()
        };
        let config = AppKeys::choose_config(&AppShape::for_model(&req.model, 4, req.visibility), 1).unwrap();
        let app_digest = circuit_digest(&config);
        let identity = circuit_identity(&req.model, 4, &app_digest, Some((2, default_k(2)))).unwrap();
        let agg_digest = AggregationShape::new(&app_digest, identity.app_instances, 2, default_k(2)).digest();
        assert_eq!(hex::encode(identity.digest), agg_digest, "batch mode pins the aggregation circuit");
        assert_eq!((identity.proof_count, identity.accumulator_limbs), (2, 12));
        let code = VerifierCode::Shared(zkguard_contracts::registration::SharedVerifierCode {
            proof_system_digest: FixedBytes::repeat_byte(1),
            verifier_creation: vec![1],
            verifier_runtime_hash: FixedBytes::repeat_byte(2),
            key_creation: vec![3],
            key_codehash: FixedBytes::repeat_byte(4),
        });
        let path = shared_verifier_cache_path(dir.path(), &req.srs, &agg_digest);
        verifier_cache::store(&path, &CachedVerifier { code: code.clone(), proof_length: 2_240 }).unwrap();
        // No keys, no aggregation keygen and no compiler (the solc path does not exist).
        let circuit = prepare(&req).unwrap();
        assert!(!circuit.generated);
        assert_eq!((&circuit.verifier, circuit.proof_length, circuit.identity), (&code, 2_240, identity));
        assert_eq!(circuit.app_digest, app_digest);
        // The unrolled verifier of the same circuit has its own entry (not written here).
        assert!(!verifier_cache_path(dir.path(), &req.srs, &agg_digest).exists());
    }

    #[test]
    fn a_bad_cache_entry_is_an_error_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let req = DeployableRequest { cache_dir: dir.path().to_path_buf(), ..request() };
        let config = AppKeys::choose_config(&AppShape::for_model(&req.model, 4, req.visibility), 1).unwrap();
        let identity = circuit_identity(&req.model, 4, &circuit_digest(&config), None).unwrap();
        let path = verifier_cache_path(dir.path(), &req.srs, &hex::encode(identity.digest));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "not json").unwrap();
        let err = prepare(&req).unwrap_err();
        assert!(matches!(err, DeployableError::Cache(VerifierCacheError::Json { .. })), "{err:?}");
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    }

    #[test]
    fn a_cached_verifier_is_used_and_registered_with_the_identity() {
        let dir = tempfile::tempdir().unwrap();
        let req = DeployableRequest { cache_dir: dir.path().to_path_buf(), ..request() };
        let config = AppKeys::choose_config(&AppShape::for_model(&req.model, 4, req.visibility), 1).unwrap();
        let identity = circuit_identity(&req.model, 4, &circuit_digest(&config), None).unwrap();
        let path = verifier_cache_path(dir.path(), &req.srs, &hex::encode(identity.digest));
        let code = VerifierCode::Unrolled { creation: vec![1, 2, 3] };
        verifier_cache::store(&path, &CachedVerifier { code: code.clone(), proof_length: 99 }).unwrap();
        // No keys, no parameters and no compiler are needed (the solc path does not exist).
        let circuit = prepare(&req).unwrap();
        assert!(!circuit.generated);
        assert_eq!((&circuit.verifier, circuit.proof_length), (&code, 99));
        // The shared verifier is cached apart from the unrolled one.
        let shared = shared_verifier_cache_path(dir.path(), &req.srs, &hex::encode(identity.digest));
        assert!(shared != path && !shared.exists());
        assert_eq!(circuit.identity, identity);
        let policy =
            PolicyArgs { action: Action::None, max_age: 60, min_flagged: 1, score_threshold: None, window: None };
        let reg = circuit.registration(U256::from(5), policy, InputPolicyArgs::Open).unwrap();
        assert_eq!((reg.identity, reg.batch_size, reg.proof_length), (identity, 4, 99));
        assert_ne!(reg.identity.digest, FixedBytes::ZERO);
        let big = DeployableCircuit { batch_size: 70_000, ..circuit };
        let err = big.registration(U256::from(5), policy, InputPolicyArgs::Open).unwrap_err();
        assert!(matches!(err, DeployableError::BatchSizeTooLarge(70_000)), "{err:?}");
        assert_eq!(err.to_string(), "batch size 70000 > 65535");
    }
}
