//! A model's circuit made ready to deploy: keys (cached), the model commitment, the circuit digest
//! the registry pins, the instance layout, and the compiled Solidity verifier — for direct mode
//! (one app proof per transaction) or batch mode (the aggregation of N app proofs). No network
//! I/O: `zkguard deploy`, `zkguard demo` and the relayer's tests put this on a chain.
//!
//! The verifier's creation code is cached next to the keys (`<cache>/verifiers/<digest>.hex`),
//! so a second run neither regenerates the aggregation keys nor recompiles; the Solidity source
//! (with its provenance header) is written when it is generated.

use std::path::{Path, PathBuf};

use alloy_primitives::{FixedBytes, U256};
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use crate::aggregate::batch::{aggregation_verifier, aggregation_verifier_spec, default_batch_name};
use crate::aggregate::config::default_k;
use crate::aggregate::{AggregationKeys, AggregationShape};
use crate::circuit::instances::ACCUMULATOR_LIMBS;
use crate::circuit::{AppShape, AppWitness};
use crate::evm::codegen::{write_verifier, GeneratedVerifier};
use crate::evm::context::fr_to_u256;
use crate::evm::direct::{app_verifier, app_verifier_spec, default_app_name};
use crate::keys::{load_params, AppKeys, SrsSource};
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
    /// Whether the verifier was generated now (false: from the cache).
    pub generated: bool,
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
    let shape = AppShape { model: req.model.shape(), batch_size: req.batch_size };
    let config = AppKeys::choose_config(&shape, req.max_columns).map_err(step("circuit layout"))?;
    let params = load_params(&req.srs, config.k(), &req.cache_dir).map_err(step("KZG parameters"))?;
    let keys = AppKeys::load_or_generate(config, &params, &req.srs, &req.cache_dir).map_err(step("app keys"))?;
    let commitment = model_commitment(&req.model, req.batch_size)?;
    let app_instances = shape.layout().len();
    let (digest, name) = match req.aggregate {
        None => (keys.digest.clone(), default_app_name(&keys)),
        Some(proofs) => {
            let digest = aggregation_shape(&keys, app_instances, proofs).digest();
            let name = format!("batch{proofs}-{}", &digest[..12.min(digest.len())]);
            (digest, name)
        }
    };
    let code_path = verifier_cache_path(&req.cache_dir, &req.srs, &digest);
    let (verifier, generated) = match std::fs::read_to_string(&code_path) {
        Ok(hex_code) => {
            let code = hex::decode(hex_code.trim().trim_start_matches("0x"))
                .map_err(|e| DeployableError::Step { what: "cached verifier", message: e.to_string() })?;
            (code, false)
        }
        Err(_) => {
            tracing::info!(circuit = %name, "generating and compiling the Solidity verifier");
            let generated = generate_verifier(req, &keys, &params, app_instances)?;
            if let Some(dir) = &req.generated_dir {
                write_verifier(&generated, dir).map_err(step("writing the verifier"))?;
            }
            crate::fsutil::write_bytes_atomic(&code_path, hex::encode(&generated.compiled.creation).as_bytes())
                .map_err(|source| DeployableError::Cache { path: code_path.clone(), source })?;
            (generated.compiled.creation, true)
        }
    };
    let digest_bytes = format!("0x{digest}")
        .parse()
        .map_err(|_| DeployableError::Invalid(format!("circuit digest {digest} is not 32 bytes of hex")))?;
    Ok(DeployableCircuit {
        model: req.model.clone(),
        batch_size: req.batch_size,
        aggregate: req.aggregate,
        commitment,
        app_digest: keys.digest.clone(),
        digest: digest_bytes,
        app_instances,
        verifier,
        generated,
    })
}

/// The aggregation of `proofs` proofs of `keys`' circuit at the default degree.
fn aggregation_shape(keys: &AppKeys, app_instances: usize, proofs: usize) -> AggregationShape {
    AggregationShape::new(&keys.digest, app_instances, proofs, default_k(proofs))
}

/// Generates and compiles the verifier: of the app circuit (direct mode), or of the aggregation
/// circuit (batch mode; generates the aggregation keys when they are not cached: minutes, GBs).
fn generate_verifier(
    req: &DeployableRequest,
    keys: &AppKeys,
    params: &ParamsKZG<Bn256>,
    app_instances: usize,
) -> Result<GeneratedVerifier, DeployableError> {
    match req.aggregate {
        None => {
            let spec = app_verifier_spec(keys, &req.srs, default_app_name(keys), req.command.clone());
            app_verifier(params, keys, spec, &req.solc).map_err(step("direct verifier"))
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
            aggregation_verifier(&agg_params, &agg_keys, spec, &req.solc).map_err(step("aggregation verifier"))
        }
    }
}

/// Where the creation code of the verifier of circuit `digest` is cached.
pub fn verifier_cache_path(cache_dir: &Path, srs: &SrsSource, digest: &str) -> PathBuf {
    cache_dir.join("verifiers").join(format!("{digest}-{}.hex", srs.id()))
}

/// The model's Poseidon commitment (as the circuit computes it; independent of the inputs).
pub fn model_commitment(model: &QuantizedModel, batch_size: usize) -> Result<U256, DeployableError> {
    let zero_row = vec![0i64; model.shape().n_features];
    let expected = AppWitness::new(model.clone(), vec![zero_row], batch_size, Fr::zero(), Fr::zero())
        .and_then(|w| w.expected_instances())
        .map_err(step("model commitment"))?;
    Ok(fr_to_u256(&expected.model_commitment))
}
