//! Aggregation keys: generated once per aggregation shape (app circuit, N, k) and cached at
//! `<cache>/aggregation/<aggregation digest>-<srs id>/{config.json, pk.bin}`, like the app keys.
//!
//! Keygen lays the circuit out over N placeholder app proofs: real Poseidon-transcript proofs of
//! the app circuit's all-zero keygen witness (so every step of the in-circuit verifier runs on
//! well-formed data), then lets halo2-base choose the column counts for k.

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use halo2_base::gates::circuit::CircuitBuilderStage;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_base::halo2_proofs::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::SerdeFormat;
use snark_verifier_sdk::halo2::aggregation::{AggregationCircuit, AggregationConfigParams, VerifierUniversality};
use snark_verifier_sdk::SHPLONK;

use super::config::{AggregationCircuitConfig, AggregationShape, MAX_K, MAX_PROOFS, MINIMUM_ROWS, MIN_K};
use super::prove::app_snark;
use super::{catch, AggregateError};
use crate::circuit::AppWitness;
use crate::keys::{AppKeys, SrsSource};
use crate::progress::Stage;
use crate::prove::{prove, Transcript};

/// An aggregation circuit's configuration and proving key.
#[derive(Debug)]
pub struct AggregationKeys {
    /// Configuration, including break points.
    pub config: AggregationCircuitConfig,
    /// The proving key.
    pub pk: ProvingKey<G1Affine>,
    /// The aggregation digest ([`AggregationShape::digest`]).
    pub digest: String,
}

impl AggregationKeys {
    /// The verifying key.
    pub fn vk(&self) -> &VerifyingKey<G1Affine> {
        self.pk.get_vk()
    }

    /// Checks a shape before keygen.
    pub fn check_shape(shape: &AggregationShape) -> Result<(), AggregateError> {
        if !(MIN_K..=MAX_K).contains(&shape.k) {
            return Err(AggregateError::Degree { k: shape.k, min: MIN_K, max: MAX_K });
        }
        if shape.proofs == 0 || shape.proofs > MAX_PROOFS {
            return Err(AggregateError::ProofsOutOfRange { found: shape.proofs, max: MAX_PROOFS });
        }
        Ok(())
    }

    /// The cache directory of an aggregation digest.
    pub fn cache_path(digest: &str, srs: &SrsSource, cache_dir: &Path) -> std::path::PathBuf {
        cache_dir.join("aggregation").join(format!("{digest}-{}", srs.id()))
    }

    /// Loads cached keys by aggregation digest, with their parameters; `Ok(None)` when no keys
    /// for that digest are cached.
    pub fn load_by_digest(
        digest: &str,
        srs: &SrsSource,
        cache_dir: &Path,
    ) -> Result<Option<(Self, ParamsKZG<Bn256>)>, AggregateError> {
        let dir = Self::cache_path(digest, srs, cache_dir);
        let (config_path, pk_path) = (dir.join("config.json"), dir.join("pk.bin"));
        if !config_path.exists() || !pk_path.exists() {
            return Ok(None);
        }
        let json = fs::read(&config_path).map_err(|source| AggregateError::Io { path: config_path.clone(), source })?;
        let config: AggregationCircuitConfig = serde_json::from_slice(&json)
            .map_err(|source| AggregateError::Json { path: config_path.clone(), source })?;
        let params = crate::keys::load_params(srs, config.shape.k, cache_dir)
            .map_err(|e| AggregateError::Circuit(format!("aggregation parameters: {e}")))?;
        let keys = Self::read_cached(config, &pk_path, digest)?;
        Ok(Some((keys, params)))
    }

    fn read_cached(config: AggregationCircuitConfig, pk_path: &Path, digest: &str) -> Result<Self, AggregateError> {
        let stage = Stage::start(format!("loading cached aggregation keys {}", &digest[..12.min(digest.len())]));
        let file =
            fs::File::open(pk_path).map_err(|source| AggregateError::Io { path: pk_path.to_path_buf(), source })?;
        let pk = ProvingKey::<G1Affine>::read::<_, AggregationCircuit>(
            &mut BufReader::with_capacity(1 << 20, file),
            SerdeFormat::RawBytesUnchecked,
            config.params,
        )
        .map_err(|source| AggregateError::Io { path: pk_path.to_path_buf(), source })?;
        stage.finish();
        Ok(Self { config, pk, digest: digest.to_string() })
    }

    /// Loads the keys of `shape` from the cache, or generates and caches them. `app_params` are
    /// the app circuit's parameters, `params` the aggregation circuit's (k = `shape.k`), both
    /// from `srs`.
    pub fn load_or_generate(
        shape: AggregationShape,
        app_keys: &AppKeys,
        app_params: &ParamsKZG<Bn256>,
        params: &ParamsKZG<Bn256>,
        srs: &SrsSource,
        cache_dir: &Path,
    ) -> Result<Self, AggregateError> {
        Self::check_shape(&shape)?;
        if shape.app_digest != app_keys.digest {
            return Err(AggregateError::ShapeMismatch {
                keys: app_keys.digest.clone(),
                requested: shape.app_digest.clone(),
            });
        }
        let digest = shape.digest();
        let dir = Self::cache_path(&digest, srs, cache_dir);
        let config_path = dir.join("config.json");
        let pk_path = dir.join("pk.bin");
        if config_path.exists() && pk_path.exists() {
            let json =
                fs::read(&config_path).map_err(|source| AggregateError::Io { path: config_path.clone(), source })?;
            let config: AggregationCircuitConfig = serde_json::from_slice(&json)
                .map_err(|source| AggregateError::Json { path: config_path.clone(), source })?;
            if config.shape != shape {
                return Err(AggregateError::ShapeMismatch {
                    keys: format!("{:?}", config.shape),
                    requested: format!("{shape:?}"),
                });
            }
            return Self::read_cached(config, &pk_path, &digest);
        }

        // N placeholder app proofs of the keygen witness.
        let stage = Stage::start("proving the placeholder app proof for aggregation keygen");
        let witness = AppWitness::dummy(&app_keys.config.shape);
        let placeholder = prove(app_params, app_keys, &witness, Transcript::Poseidon)?;
        let snark = app_snark(app_params, app_keys, &placeholder, 0)?;
        stage.finish();

        let stage = Stage::start(format!(
            "aggregation keygen {} ({} proofs of app circuit {}, k = {})",
            &digest[..12],
            shape.proofs,
            &shape.app_digest[..12.min(shape.app_digest.len())],
            shape.k
        ));
        let keygen_params =
            AggregationConfigParams { degree: shape.k, lookup_bits: shape.lookup_bits, ..Default::default() };
        let snarks = vec![snark; shape.proofs];
        let (circuit, agg_params) = catch("keygen layout", || {
            let mut circuit = AggregationCircuit::new::<SHPLONK>(
                CircuitBuilderStage::Keygen,
                keygen_params,
                params,
                snarks,
                VerifierUniversality::None,
            );
            circuit.expose_previous_instances(false);
            let agg_params = circuit.calculate_params(Some(MINIMUM_ROWS));
            (circuit, agg_params)
        })?;
        tracing::info!(
            k = agg_params.degree,
            advice = agg_params.num_advice,
            lookup_advice = agg_params.num_lookup_advice,
            fixed = agg_params.num_fixed,
            "aggregation circuit configured"
        );
        let vk = keygen_vk(params, &circuit)
            .map_err(|e| AggregateError::Halo2 { stage: "keygen", message: format!("{e:?}") })?;
        let pk = keygen_pk(params, vk, &circuit)
            .map_err(|e| AggregateError::Halo2 { stage: "keygen", message: format!("{e:?}") })?;
        let config = AggregationCircuitConfig { shape, params: agg_params, break_points: circuit.break_points() };
        drop(circuit);
        stage.finish();

        fs::create_dir_all(&dir).map_err(|source| AggregateError::Io { path: dir.clone(), source })?;
        write_atomically(&pk_path, |w| pk.write(w, SerdeFormat::RawBytesUnchecked))?;
        let json = serde_json::to_vec_pretty(&config)
            .map_err(|source| AggregateError::Json { path: config_path.clone(), source })?;
        write_atomically(&config_path, |w| std::io::Write::write_all(w, &json))?;
        Ok(Self { config, pk, digest })
    }
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut fs::File>) -> std::io::Result<()>,
) -> Result<(), AggregateError> {
    crate::fsutil::write_atomic(path, write).map_err(|source| AggregateError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_out_of_range_are_refused_before_keygen() {
        let ok = AggregationShape::new("ab", 9, 2, 21);
        assert!(AggregationKeys::check_shape(&ok).is_ok());
        for (proofs, k) in [(0, 21), (MAX_PROOFS + 1, 21), (2, MIN_K - 1), (2, MAX_K + 1)] {
            let shape = AggregationShape::new("ab", 9, proofs, k);
            let err = AggregationKeys::check_shape(&shape).unwrap_err();
            assert!(
                matches!(err, AggregateError::ProofsOutOfRange { .. } | AggregateError::Degree { .. }),
                "{proofs} proofs at k = {k}: {err}"
            );
        }
    }
}
