//! Files the prover writes and reads besides model files: the quantized model
//! (`zkguard-quantized`), the proof artifact (`zkguard-proof`) and the aggregation artifact
//! (`zkguard-aggregation-proof`), all versioned JSON.

use std::path::{Path, PathBuf};

use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};

use crate::aggregate::{AggregationKeys, AggregationProof};
use crate::circuit::commit;
use crate::circuit::field::{fr_from_be_bytes, fr_to_be_bytes};
use crate::evm::encode_calldata;
use crate::keys::SrsSource;
use crate::prove::Transcript;
use crate::quant::QuantizedModel;

/// `format` of a quantized model file.
pub const QUANTIZED_FORMAT: &str = "zkguard-quantized";
/// `format` of a proof artifact.
pub const PROOF_FORMAT: &str = "zkguard-proof";
/// `format` of an aggregation artifact.
pub const AGGREGATION_FORMAT: &str = "zkguard-aggregation-proof";
/// Version of the formats.
pub const ARTIFACT_VERSION: u32 = 1;

/// Why an artifact could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed JSON or schema mismatch.
    #[error("{path}: at `{at}`: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Field path.
        at: String,
        /// What is wrong.
        message: String,
    },
}

/// A quantized model with its commitment.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantizedFile {
    /// [`QUANTIZED_FORMAT`].
    pub format: String,
    /// [`ARTIFACT_VERSION`].
    pub version: u32,
    /// sha256 of the float model file it came from.
    pub source_sha256: String,
    /// Poseidon model commitment (hex, 32-byte big-endian): what a registry pins.
    pub model_commitment: String,
    /// The model.
    pub model: QuantizedModel,
}

impl QuantizedFile {
    /// Wraps `model`, computing its commitment.
    pub fn new(model: QuantizedModel, source_sha256: String) -> Self {
        let commitment = commit::model_commitment(&model.shape(), &model.params());
        Self {
            format: QUANTIZED_FORMAT.into(),
            version: ARTIFACT_VERSION,
            source_sha256,
            model_commitment: fr_to_hex(&commitment),
            model,
        }
    }
}

/// Who made an artifact and with what trust assumptions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Provenance {
    /// Tool and version, e.g. `zkguard 0.1.0`.
    pub tool: String,
    /// SRS identity (`insecure-dev` or `ceremony-<hash>`).
    pub srs: String,
    /// True when the SRS is the insecure development setup.
    pub insecure_srs: bool,
}

/// A proof with everything needed to verify and submit it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofArtifact {
    /// [`PROOF_FORMAT`].
    pub format: String,
    /// [`ARTIFACT_VERSION`].
    pub version: u32,
    /// Digest of the circuit that made the proof (selects the keys).
    pub circuit_digest: String,
    /// Model name.
    pub model_name: String,
    /// Model commitment (hex), equal to `instances[0]`.
    pub model_commitment: String,
    /// Transcript of the proof.
    pub transcript: Transcript,
    /// Samples per proof of the circuit.
    pub batch_size: usize,
    /// Real samples in this proof.
    pub sample_count: usize,
    /// Public instances, hex 32-byte big-endian, in the layout of `circuit::instances`.
    pub instances: Vec<String>,
    /// The proof bytes, hex.
    pub proof: String,
    /// Decoded decisions of the real samples.
    pub decisions: Vec<bool>,
    /// Decoded scores of the real samples (fixed point).
    pub scores: Vec<String>,
    /// Who made it.
    pub produced_by: Provenance,
}

/// An aggregation proof with everything needed to verify and submit it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregationArtifact {
    /// [`AGGREGATION_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Aggregation circuit digest (selects the aggregation keys and verifier).
    pub circuit_digest: String,
    /// The aggregated app circuit's digest.
    pub app_circuit_digest: String,
    /// Number of app proofs.
    pub proofs: usize,
    /// Degree of the aggregation circuit.
    pub k: u32,
    /// Public instances (hex): 12 accumulator limbs, then each app proof's instances in order.
    pub instances: Vec<String>,
    /// The proof bytes (hex, EVM transcript).
    pub proof: String,
    /// The generated verifier's calldata (hex): instances as 32-byte words, then the proof.
    pub calldata: String,
    /// Who made it.
    pub produced_by: Provenance,
}

impl AggregationArtifact {
    /// The artifact of `proof`, made with `keys` (the aggregation of proofs of `app_digest`'s
    /// circuit) and `srs`.
    pub fn new(keys: &AggregationKeys, app_digest: &str, proof: &AggregationProof, srs: &SrsSource) -> Self {
        let calldata = encode_calldata(&proof.instances, &proof.proof);
        Self {
            format: AGGREGATION_FORMAT.into(),
            version: ARTIFACT_VERSION,
            circuit_digest: keys.digest.clone(),
            app_circuit_digest: app_digest.to_string(),
            proofs: proof.proofs,
            k: keys.config.shape.k,
            instances: proof.instances.iter().map(fr_to_hex).collect(),
            proof: format!("0x{}", hex::encode(&proof.proof)),
            calldata: format!("0x{}", hex::encode(&calldata)),
            produced_by: Provenance::of(srs),
        }
    }
}

impl Provenance {
    /// This build of zkguard with the KZG parameters of `srs`.
    pub fn of(srs: &SrsSource) -> Self {
        Self { tool: format!("zkguard {}", env!("CARGO_PKG_VERSION")), srs: srs.id(), insecure_srs: srs.is_insecure() }
    }
}

/// Hex (0x-prefixed, 32-byte big-endian) of a field element.
pub fn fr_to_hex(x: &Fr) -> String {
    format!("0x{}", hex::encode(fr_to_be_bytes(x)))
}

/// Parses [`fr_to_hex`]'s format.
pub fn fr_from_hex(s: &str) -> Option<Fr> {
    let bytes: [u8; 32] = hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()?.try_into().ok()?;
    fr_from_be_bytes(&bytes)
}

/// Reads a JSON artifact with field-path errors; repeated keys and NaN are refused
/// ([`crate::strict_json`]).
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ArtifactError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ArtifactError::Io { path: path.to_path_buf(), source })?;
    let value = crate::strict_json::parse(&text).map_err(|e| ArtifactError::Parse {
        path: path.to_path_buf(),
        at: e.path,
        message: e.message,
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| ArtifactError::Parse {
        path: path.to_path_buf(),
        at: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Writes pretty JSON atomically (temporary file, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ArtifactError> {
    let json = serde_json::to_vec_pretty(value).expect("serializable");
    crate::fsutil::write_bytes_atomic(path, &json)
        .map_err(|source| ArtifactError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_refusals() {
        let x = Fr::from(123456789u64);
        assert_eq!(fr_from_hex(&fr_to_hex(&x)), Some(x));
        assert_eq!(fr_from_hex("0x1234"), None);
        assert_eq!(fr_from_hex(&format!("0x{}", "ff".repeat(32))), None);
    }
}
