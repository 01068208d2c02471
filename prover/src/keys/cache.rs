//! The key cache: `<cache>/keys/<circuit digest>-<srs id>/{config.json, pk.bin, vk.json}`
//! (`vk.json`: the standalone verifying-key artifact of [`super::vk_file`]).
//!
//! The circuit digest is sha256 over a version tag (and for trees, and for fixed models, one more
//! tag each), the app
//! shape (with a fixed model's parameters) and the halo2 configuration (k, columns, lookup
//! bits; a tag when commitments use the Poseidon gate); it is what registries and generated
//! verifiers pin. Files are
//! written to a temporary name and renamed, so a crash never leaves a half-written key.

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::SerdeFormat;
use sha2::{Digest, Sha256};

use super::srs::SrsSource;
use crate::circuit::config::AppCircuitConfig;
use crate::circuit::{AppCircuit, AppShape, AppWitness, CircuitError};
use crate::progress::Stage;
use crate::quant::Family;

/// Version tag hashed into every circuit digest; bump when the circuit's constraints change.
pub const CIRCUIT_VERSION: &str = "zkguard-app-circuit/v2";
/// Version tag hashed after [`CIRCUIT_VERSION`] into tree-ensemble circuit digests only; bump
/// when the tree evaluation's constraints change (v2: shared first-stage differences in the
/// committed multiplexers, constants in fixed mode), so that other families' digests, keys and
/// fixtures stay valid.
pub const TREE_CIRCUIT_VERSION: &str = "zkguard-tree-circuit/v2";
/// Version tag hashed into the digests of `fixed`-visibility circuits only (the model's
/// parameters are circuit constants); bump when their constraints change. v2: inputs checked in
/// one chain each and linear/MLP parameters as constant operands (committed circuits unchanged,
/// so their digests, keys and fixtures stay valid). The drift test
/// `prover/tests/circuit_digest_drift.rs` fails when a circuit changes under an unchanged digest.
pub const FIXED_CIRCUIT_VERSION: &str = "zkguard-fixed-circuit/v2";

/// Why keys could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The circuit could not be laid out.
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// halo2 key generation failed.
    #[error("key generation failed: {0}")]
    Keygen(String),
    /// I/O on the cache.
    #[error("key cache {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A cached config does not parse.
    #[error("key cache {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
}

/// The digest of an app circuit (hex sha256).
pub fn circuit_digest(config: &AppCircuitConfig) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CIRCUIT_VERSION.as_bytes());
    if config.shape.model.family == Family::TreeEnsemble {
        hasher.update(TREE_CIRCUIT_VERSION.as_bytes());
    }
    if config.shape.fixed_params.is_some() {
        hasher.update(FIXED_CIRCUIT_VERSION.as_bytes());
    }
    hasher.update(serde_json::to_vec(&config.shape).expect("shape serializes"));
    hasher.update(serde_json::to_vec(&config.params).expect("params serialize"));
    // The flex-gate circuit is today's (digests unchanged); the gate is a different circuit.
    if config.poseidon == crate::circuit::poseidon::PoseidonBackend::Gate {
        hasher.update(b"poseidon-gate/v1");
    }
    // Multiplexer selection is every earlier circuit (digests unchanged); the lookup is another.
    if !config.tree_selection.is_multiplexer() {
        hasher.update(b"tree-lookup/v1");
        hasher.update(serde_json::to_vec(&config.tree_selection).expect("selection serializes"));
    }
    hex::encode(hasher.finalize())
}

/// A circuit's configuration and proving key (which holds the verifying key).
#[derive(Debug)]
pub struct AppKeys {
    /// Configuration, including break points.
    pub config: AppCircuitConfig,
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// [`circuit_digest`] of the configuration.
    pub digest: String,
}

impl AppKeys {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }

    /// Loads the keys of `shape` from the cache, or generates and caches them.
    /// `params` must be for `AppCircuitConfig::choose(shape, max_columns).k()`; use
    /// [`AppKeys::choose_config`] first to learn k.
    pub fn load_or_generate(
        config: AppCircuitConfig,
        params: &ParamsKZG<Bn256>,
        srs: &SrsSource,
        cache_dir: &Path,
    ) -> Result<Self, KeyError> {
        let digest = circuit_digest(&config);
        let dir = cache_dir.join("keys").join(format!("{digest}-{}", srs.id()));
        let config_path = dir.join("config.json");
        let pk_path = dir.join("pk.bin");
        if config_path.exists() && pk_path.exists() {
            let stage = Stage::start(format!("loading cached keys {}", &digest[..12]));
            let json = fs::read(&config_path).map_err(|source| KeyError::Io { path: config_path.clone(), source })?;
            let cached: AppCircuitConfig =
                serde_json::from_slice(&json).map_err(|source| KeyError::Json { path: config_path.clone(), source })?;
            let file = fs::File::open(&pk_path).map_err(|source| KeyError::Io { path: pk_path.clone(), source })?;
            let pk = ProvingKey::<G1Affine>::read::<_, AppCircuit>(
                &mut BufReader::new(file),
                SerdeFormat::RawBytesUnchecked,
                cached.circuit_params(),
            )
            .map_err(|source| KeyError::Io { path: pk_path.clone(), source })?;
            stage.finish();
            let keys = Self { config: cached, pk, digest };
            keys.try_vk_file(params, srs, cache_dir);
            return Ok(keys);
        }

        let stage = Stage::start(format!("keygen for circuit {} (k = {})", &digest[..12], config.k()));
        let (builder, _) = config.builder(CircuitBuilderStage::Keygen, &AppWitness::dummy(&config.shape))?;
        let vk = keygen_vk(params, &builder).map_err(|e| KeyError::Keygen(format!("{e:?}")))?;
        let pk = keygen_pk(params, vk, &builder).map_err(|e| KeyError::Keygen(format!("{e:?}")))?;
        let config = AppCircuitConfig { break_points: builder.base.break_points(), ..config };
        stage.finish();

        fs::create_dir_all(&dir).map_err(|source| KeyError::Io { path: dir.clone(), source })?;
        write_atomically(&pk_path, |w| pk.write(w, SerdeFormat::RawBytesUnchecked))?;
        let json = serde_json::to_vec_pretty(&config).expect("config serializes");
        write_atomically(&config_path, |w| std::io::Write::write_all(w, &json))?;
        let keys = Self { config, pk, digest };
        keys.try_vk_file(params, srs, cache_dir);
        Ok(keys)
    }

    /// [`AppKeys::ensure_vk_file`] for callers that only load keys (a read-only cache still serves).
    fn try_vk_file(&self, params: &ParamsKZG<Bn256>, srs: &SrsSource, cache_dir: &Path) {
        if let Err(e) = self.ensure_vk_file(params, srs, cache_dir) {
            tracing::warn!("cannot write the verifying-key artifact: {e}");
        }
    }

    /// Writes the standalone verifying-key artifact beside the cached keys when it is missing
    /// (see [`super::vk_file`]); returns its path.
    pub fn ensure_vk_file(
        &self,
        params: &ParamsKZG<Bn256>,
        srs: &SrsSource,
        cache_dir: &Path,
    ) -> Result<PathBuf, KeyError> {
        let path = super::vk_file::cached_vk_path(cache_dir, &self.digest, srs);
        if !path.exists() {
            super::vk_file::VkFile::new(self, params, srs)
                .write(&path)
                .map_err(|e| KeyError::Io { path: path.clone(), source: std::io::Error::other(e.to_string()) })?;
        }
        Ok(path)
    }

    /// Loads cached keys by circuit digest (for verifying an artifact), with their parameters.
    pub fn load_by_digest(
        digest: &str,
        srs: &SrsSource,
        cache_dir: &Path,
    ) -> Result<(Self, ParamsKZG<Bn256>), KeyError> {
        let config_path = cache_dir.join("keys").join(format!("{digest}-{}", srs.id())).join("config.json");
        let json = fs::read(&config_path).map_err(|source| KeyError::Io { path: config_path.clone(), source })?;
        let config: AppCircuitConfig =
            serde_json::from_slice(&json).map_err(|source| KeyError::Json { path: config_path.clone(), source })?;
        let params =
            super::srs::load_params(srs, config.k(), cache_dir).map_err(|e| KeyError::Keygen(e.to_string()))?;
        let keys = Self::load_or_generate(config, &params, srs, cache_dir)?;
        Ok((keys, params))
    }

    /// The configuration for `shape` (k and columns), without keys.
    pub fn choose_config(shape: &AppShape, max_columns: usize) -> Result<AppCircuitConfig, KeyError> {
        Ok(AppCircuitConfig::choose(shape, max_columns)?)
    }
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut fs::File>) -> std::io::Result<()>,
) -> Result<(), KeyError> {
    crate::fsutil::write_atomic(path, write).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })
}
