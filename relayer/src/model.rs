//! Served models: each model's quantized parameters, circuit keys and KZG parameters, loaded once
//! at startup and shared (behind `Arc`) by the intake validation and the proving workers.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy::primitives::U256;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use zkguard_prover::aggregate::{AggregateError, AggregationKeys, AggregationShape};
use zkguard_prover::circuit::{AppInstances, AppShape};
use zkguard_prover::keys::{load_params, AppKeys, KeyError, SrsError};
use zkguard_prover::load::{load_quantized, LoadError};
use zkguard_prover::quant::QuantizedModel;

use crate::config::{Config, ConfigError, ModelConfig};

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ModelLoadError {
    /// The model file or calibration data (the prover's loader).
    #[error("model {id}: {source}")]
    Model {
        /// Model id.
        id: String,
        /// What went wrong (boxed: it is large).
        #[source]
        source: Box<LoadError>,
    },
    /// The id is not a registry id.
    #[error("model {id}: id is not a decimal uint256")]
    Id {
        /// Model id.
        id: String,
    },
    /// The configured KZG parameters.
    #[error("model {id}: keys: {source}")]
    Srs {
        /// Model id.
        id: String,
        /// What went wrong.
        #[source]
        source: ConfigError,
    },
    /// The app circuit's configuration or keys.
    #[error("model {id}: keys: {source}")]
    Keys {
        /// Model id.
        id: String,
        /// What went wrong.
        #[source]
        source: KeyError,
    },
    /// The app circuit's KZG parameters.
    #[error("model {id}: keys: {source}")]
    Params {
        /// Model id.
        id: String,
        /// What went wrong.
        #[source]
        source: SrsError,
    },
    /// The aggregation circuit's KZG parameters.
    #[error("model {id}: keys: aggregation parameters: {source}")]
    AggregationParams {
        /// Model id.
        id: String,
        /// What went wrong.
        #[source]
        source: SrsError,
    },
    /// The aggregation circuit's shape or keys.
    #[error("model {id}: keys: aggregation: {source}")]
    Aggregation {
        /// Model id.
        id: String,
        /// What went wrong.
        #[source]
        source: AggregateError,
    },
}

/// One served model, ready to prove.
pub struct ServedModel {
    /// Registry id (decimal string, as in the config and the API).
    pub id: String,
    /// Registry id as a number.
    pub id_u256: U256,
    /// The quantized model.
    pub model: QuantizedModel,
    /// Circuit batch size.
    pub batch_size: usize,
    /// Proving and verifying keys.
    pub keys: AppKeys,
    /// KZG parameters for the circuit's k.
    pub params: ParamsKZG<Bn256>,
    /// Batch mode (`None`: direct mode).
    pub aggregation: Option<Aggregation>,
    /// Poseidon commitment of the quantized model (the proofs' `modelCommitment` instance).
    pub commitment: Fr,
    /// Where the model's input attestations come from (`attestation` in its config).
    pub attestation: Option<crate::config::AttestationSource>,
    /// Its registered input policy and the chain it holds on, once read at start-up.
    pub input_policy: std::sync::OnceLock<InputPolicyContext>,
}

/// A model's registered input policy with what an attestation for it binds.
#[derive(Clone, Debug)]
pub struct InputPolicyContext {
    /// The policy.
    pub registered: crate::chain::inputs::RegisteredInputs,
    /// Chain id.
    pub chain_id: u64,
    /// The Guard.
    pub guard: alloy::primitives::Address,
    /// Oldest issue time the relayer proves for (s), `chain.max_proof_age_s`.
    pub max_age_s: u64,
}

/// Batch mode of a served model: N app proofs aggregated into one.
pub struct Aggregation {
    /// The aggregation circuit's shape (N app proofs per aggregation, its digest and k), known
    /// without its keys.
    pub shape: AggregationShape,
    /// Its keys and parameters: loaded only by a process that may aggregate (the `prover` and
    /// `all` roles, when the memory budget admits the aggregation's estimate); `None` elsewhere,
    /// which never claim an aggregation and so never hold its ~3-12 GB.
    pub prover: Option<AggregationProver>,
}

/// What proving an aggregation needs.
pub struct AggregationProver {
    /// The aggregation circuit's keys.
    pub keys: AggregationKeys,
    /// Its KZG parameters (k of the aggregation circuit).
    pub params: ParamsKZG<Bn256>,
}

/// Which aggregation keys a process loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregationKeysPolicy {
    /// None: the process never aggregates (intake, submitter).
    Skip,
    /// Those whose estimated peak fits this budget, MB (0: unlimited); a prover with a smaller
    /// budget proves segments only (the store never hands it an aggregation it cannot afford).
    WithinBudget(u64),
}

impl AggregationKeysPolicy {
    /// Whether an aggregation estimated at `need_mb` is loaded.
    pub fn loads(self, need_mb: u64) -> bool {
        match self {
            Self::Skip => false,
            Self::WithinBudget(budget) => budget == 0 || need_mb <= budget,
        }
    }
}

/// How a batch's rows split into its segments (the prover's, so that input commitments a data
/// provider computes with `zkguard commit-inputs` are the ones proved).
pub use zkguard_prover::inputs::segment_sizes;

impl std::fmt::Debug for ServedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedModel")
            .field("id", &self.id)
            .field("name", &self.model.name)
            .field("batch_size", &self.batch_size)
            .field("circuit", &self.keys.digest)
            .field("aggregate", &self.aggregation.as_ref().map(|a| (a.shape.proofs, a.shape.k)))
            .finish_non_exhaustive()
    }
}

impl ServedModel {
    /// Number of features per row.
    pub fn n_features(&self) -> usize {
        self.model.n_features()
    }

    /// App proofs per transaction: N in batch mode, 1 in direct mode.
    pub fn proofs_per_batch(&self) -> usize {
        self.aggregation.as_ref().map_or(1, |a| a.shape.proofs)
    }

    /// Most samples one batch (one transaction) holds: N * B in batch mode, B in direct mode.
    pub fn batch_capacity(&self) -> usize {
        self.proofs_per_batch() * self.batch_size
    }

    /// Fewest samples a batch needs: N in batch mode (every segment proves at least one real
    /// sample; the Guard refuses an empty segment), 1 in direct mode.
    pub fn min_batch_samples(&self) -> usize {
        self.proofs_per_batch()
    }

    /// `"direct"` or `"aggregate"`.
    pub fn mode(&self) -> &'static str {
        if self.aggregation.is_some() {
            "aggregate"
        } else {
            "direct"
        }
    }

    /// Estimated peak memory of one app proof, MB: about 1.1 KB per row per column (measured on
    /// the logistic circuits: 72 MB at k = 14 with 4 columns, 278 MB at k = 16 with 4 columns).
    /// The fast layout's Poseidon gate columns count too.
    pub fn app_proving_memory_mb(&self) -> u64 {
        use zkguard_prover::circuit::poseidon::{gate, PoseidonBackend};
        let p = &self.keys.config.params;
        let gate_columns = match self.keys.config.poseidon {
            PoseidonBackend::Gate => gate::ADVICE_COLUMNS + gate::FIXED_COLUMNS,
            PoseidonBackend::FlexGate => 0,
        };
        let columns = p.num_advice_per_phase.iter().sum::<usize>()
            + p.num_lookup_advice_per_phase.iter().sum::<usize>()
            + p.num_fixed
            + p.num_instance_columns
            + gate_columns;
        estimate_memory_mb(p.k as u32, columns)
    }

    /// Estimated peak memory of proving one batch, MB: one app proof in direct mode; in batch
    /// mode the N app proofs (one at a time) plus the aggregation proof
    /// ([`aggregation_memory_mb`]), counted together to stay on the safe side.
    pub fn proving_memory_mb(&self) -> u64 {
        let app = self.app_proving_memory_mb();
        match &self.aggregation {
            None => app,
            Some(a) => app + aggregation_memory_mb(a.shape.k),
        }
    }

    /// Decodes a proof's instances with this model's layout.
    pub fn decode(&self, instances: &[Fr]) -> Option<AppInstances> {
        AppInstances::from_slice(self.keys.config.shape.layout(), instances).ok()
    }
}

/// Peak-memory estimate of a proof at `k` with `columns` columns, MB (at least 1).
pub fn estimate_memory_mb(k: u32, columns: usize) -> u64 {
    ((1u64 << k) * columns as u64 * 1100 / 1_000_000).max(1)
}

/// Peak-memory estimate of an aggregation proof at degree `k`, MB, proving key included: the
/// prover measured ~3 GB at k = 20 and ~6 GB at k = 21 (3 advice + 1 lookup column, the default
/// configuration); the relayer process peaked at 3.6 GB proving N = 1 at k = 20. Doubles per k.
pub fn aggregation_memory_mb(k: u32) -> u64 {
    const AT_K20: u64 = 3_584;
    if k >= 20 {
        AT_K20 << (k - 20).min(20)
    } else {
        (AT_K20 >> (20 - k).min(11)).max(1)
    }
}

/// All served models by id.
pub type Models = Arc<BTreeMap<String, Arc<ServedModel>>>;

/// Loads one model: quantization, circuit choice, parameters and keys (generated and cached on
/// first use; the cache is the prover's, keyed by circuit digest).
pub fn load_model(
    config: &Config,
    m: &ModelConfig,
    policy: AggregationKeysPolicy,
) -> Result<ServedModel, ModelLoadError> {
    let id = || m.id.clone();
    let model = load_quantized(&m.path, m.calibration.as_deref())
        .map_err(|source| ModelLoadError::Model { id: id(), source: Box::new(source) })?;
    let shape = m.app_shape(&model);
    let srs = config.srs().map_err(|source| ModelLoadError::Srs { id: id(), source })?;
    let keys_err = |source| ModelLoadError::Keys { id: id(), source };
    let circuit = m.app_circuit(&shape, &config.proving).map_err(keys_err)?;
    let params = load_params(&srs, circuit.k(), &config.proving.cache_dir)
        .map_err(|source| ModelLoadError::Params { id: id(), source })?;
    let keys = AppKeys::load_or_generate(circuit, &params, &srs, &config.proving.cache_dir).map_err(keys_err)?;
    let id_u256 = m.id.parse().map_err(|_| ModelLoadError::Id { id: id() })?;
    let aggregation = match (m.aggregate, m.aggregation_degree()) {
        (Some(proofs), Some(k)) => Some(load_aggregation(config, m, &shape, &keys, &params, proofs, k, policy)?),
        _ => None,
    };
    let commitment = zkguard_prover::circuit::commit::model_commitment(&model.shape(), &model.params());
    let served = ServedModel {
        id: m.id.clone(),
        id_u256,
        model,
        batch_size: m.batch_size,
        keys,
        params,
        aggregation,
        commitment,
        attestation: m.attestation,
        input_policy: std::sync::OnceLock::new(),
    };
    tracing::info!(model = %m.id, name = %served.model.name, batch = m.batch_size, k = served.keys.config.k(),
        circuit = %&served.keys.digest[..12], mode = served.mode(), proofs_per_tx = served.proofs_per_batch(),
        proving_mb = served.proving_memory_mb(), "model loaded");
    Ok(served)
}

/// Loads (or, the first time, generates: minutes and gigabytes) the aggregation keys of N proofs
/// of a model's app circuit at degree `k`, with their parameters.
#[allow(clippy::too_many_arguments)]
fn load_aggregation(
    config: &Config,
    m: &ModelConfig,
    shape: &AppShape,
    app_keys: &AppKeys,
    app_params: &ParamsKZG<Bn256>,
    proofs: usize,
    k: u32,
    policy: AggregationKeysPolicy,
) -> Result<Aggregation, ModelLoadError> {
    let srs = config.srs().map_err(|source| ModelLoadError::Srs { id: m.id.clone(), source })?;
    let aggregation_err = |source| ModelLoadError::Aggregation { id: m.id.clone(), source };
    let cache = &config.proving.cache_dir;
    let agg_shape = AggregationShape::new(&app_keys.digest, shape.layout().len(), proofs, k);
    AggregationKeys::check_shape(&agg_shape).map_err(aggregation_err)?;
    let digest = agg_shape.digest();
    if !policy.loads(aggregation_memory_mb(k)) {
        tracing::info!(model = %m.id, proofs, k, aggregation = %&digest[..12], ?policy,
            "aggregation keys not loaded: this process never aggregates this model");
        return Ok(Aggregation { shape: agg_shape, prover: None });
    }
    let cached = AggregationKeys::cache_path(&digest, &srs, cache).join("pk.bin").exists();
    if cached {
        tracing::info!(model = %m.id, proofs, k, aggregation = %&digest[..12], "loading cached aggregation keys");
    } else {
        tracing::warn!(model = %m.id, proofs, k, aggregation = %&digest[..12], memory_mb = aggregation_memory_mb(k),
            "generating aggregation keys: this takes minutes (measured ~70 s at k = 20 on 2 cores, more at larger k) \
             and is cached in the key cache for the next start");
    }
    let started = std::time::Instant::now();
    let params =
        load_params(&srs, k, cache).map_err(|source| ModelLoadError::AggregationParams { id: m.id.clone(), source })?;
    let keys = AggregationKeys::load_or_generate(agg_shape.clone(), app_keys, app_params, &params, &srs, cache)
        .map_err(aggregation_err)?;
    tracing::info!(model = %m.id, proofs, k, aggregation = %&digest[..12], seconds = started.elapsed().as_secs_f64(),
        "aggregation keys ready");
    Ok(Aggregation { shape: agg_shape, prover: Some(AggregationProver { keys, params }) })
}

/// Loads every configured model (blocking: keygen may take seconds), with the aggregation keys
/// `policy` admits.
pub fn load_models(config: &Config, policy: AggregationKeysPolicy) -> Result<Models, ModelLoadError> {
    let mut map = BTreeMap::new();
    for m in &config.models {
        map.insert(m.id.clone(), Arc::new(load_model(config, m, policy)?));
    }
    Ok(Arc::new(map))
}

#[cfg(test)]
mod tests {
    use super::{
        aggregation_memory_mb, estimate_memory_mb, load_model, segment_sizes, AggregationKeysPolicy, ModelLoadError,
    };

    #[test]
    fn aggregation_keys_load_only_where_they_can_be_used() {
        assert!(!AggregationKeysPolicy::Skip.loads(1));
        assert!(AggregationKeysPolicy::WithinBudget(0).loads(u64::MAX), "0 is unlimited");
        assert!(AggregationKeysPolicy::WithinBudget(3_584).loads(3_584));
        assert!(!AggregationKeysPolicy::WithinBudget(3_583).loads(3_584));
    }

    #[test]
    fn a_model_that_does_not_load_keeps_the_loaders_error() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::test_config("7", &dir.path().join("missing.json"));
        let Err(err) = load_model(&config, &config.models[0], AggregationKeysPolicy::Skip) else {
            panic!("a missing model file loads")
        };
        let ModelLoadError::Model { ref id, ref source } = err else { panic!("{err:?}") };
        assert_eq!(id, "7");
        assert!(matches!(**source, zkguard_prover::load::LoadError::Io { .. }), "{source:?}");
        assert!(err.to_string().starts_with("model 7: cannot read model file"), "{err}");
        assert!(std::error::Error::source(&err).is_some(), "the loader's error is the source");
    }

    #[test]
    fn memory_estimate_matches_the_measured_circuits() {
        assert!((60..=100).contains(&estimate_memory_mb(14, 4)), "{}", estimate_memory_mb(14, 4));
        assert!((250..=350).contains(&estimate_memory_mb(16, 4)));
        assert_eq!(estimate_memory_mb(17, 4), 2 * estimate_memory_mb(16, 4));
        assert!((3_000..=4_000).contains(&aggregation_memory_mb(20)));
        assert!((6_000..=8_000).contains(&aggregation_memory_mb(21)));
        assert_eq!(aggregation_memory_mb(22), 2 * aggregation_memory_mb(21));
        assert_eq!(aggregation_memory_mb(19), aggregation_memory_mb(20) / 2);
    }

    #[test]
    fn segments_are_in_order_as_even_as_possible_and_never_empty() {
        assert_eq!(segment_sizes(1, 1, 4), Some(vec![1]));
        assert_eq!(segment_sizes(4, 1, 4), Some(vec![4]));
        assert_eq!(segment_sizes(2, 2, 4), Some(vec![1, 1]));
        assert_eq!(segment_sizes(5, 2, 4), Some(vec![3, 2]));
        assert_eq!(segment_sizes(8, 2, 4), Some(vec![4, 4]));
        assert_eq!(segment_sizes(7, 3, 4), Some(vec![3, 2, 2]));
        assert_eq!(segment_sizes(16, 4, 4), Some(vec![4, 4, 4, 4]));
        // Below N samples some segment would be empty; above N * B one would overflow.
        assert_eq!(segment_sizes(1, 2, 4), None);
        assert_eq!(segment_sizes(9, 2, 4), None);
        assert_eq!(segment_sizes(3, 0, 4), None);
        for proofs in 2..=4 {
            for batch in [1, 4, 16] {
                for samples in proofs..=proofs * batch {
                    let sizes = segment_sizes(samples, proofs, batch).unwrap();
                    assert_eq!(sizes.len(), proofs);
                    assert_eq!(sizes.iter().sum::<usize>(), samples);
                    assert!(sizes.iter().all(|&s| (1..=batch).contains(&s)), "{samples}/{proofs}/{batch}: {sizes:?}");
                    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
                }
            }
        }
    }
}
