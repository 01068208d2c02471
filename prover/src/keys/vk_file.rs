//! The standalone verifying-key artifact (`zkguard-verifying-key`): everything a verifier needs
//! to check proofs of one app circuit, and nothing a prover needs. A few kilobytes of JSON:
//!
//! - the circuit configuration (shape and halo2 parameters) and its digest;
//! - the verifying key (halo2's serialization, checked point encodings);
//! - the three KZG points the SHPLONK verifier reads from the parameters (`g[0]`, `g2`, `s·g2`),
//!   with the SRS identity and whether it is the insecure development setup;
//! - the exact proof length in each transcript ([`crate::evm::proof_length()`]).
//!
//! `zkguard keygen` writes one next to the cached keys, `zkguard vk export` copies it out, and
//! `zkguard verify --vk FILE` verifies with it on a machine that has neither the model nor the
//! proving key. Reading re-derives the digest from the configuration, the proof lengths from the
//! key, and the key's own k, so an edited file is refused rather than trusted field by field.

use std::path::{Path, PathBuf};

use halo2_base::gates::circuit::builder::BaseCircuitBuilder;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine, G2Affine};
use halo2_base::halo2_proofs::halo2curves::group::GroupEncoding;
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::commitment::ParamsProver;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use halo2_base::halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};

use super::cache::{circuit_digest, AppKeys};
use super::srs::SrsSource;
use crate::artifact::{self, ArtifactError, ARTIFACT_VERSION};
use crate::circuit::config::AppCircuitConfig;
use crate::evm::proof_length::ProofShape;
use crate::prove::Transcript;

/// `format` of a verifying-key artifact.
pub const VK_FORMAT: &str = "zkguard-verifying-key";
/// File name of the verifying-key artifact in a key-cache directory.
pub const VK_FILE_NAME: &str = "vk.json";

/// Why a verifying-key artifact was refused.
#[derive(Debug, thiserror::Error)]
pub enum VkFileError {
    /// Unreadable or malformed JSON.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A field does not hold what the rest of the file implies.
    #[error("{path}: `{field}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The KZG points a SHPLONK verifier uses.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VerifierPoints {
    /// `g[0]`, compressed G1, hex.
    pub g: String,
    /// `g2`, compressed G2, hex.
    pub g2: String,
    /// `s·g2`, compressed G2, hex.
    pub s_g2: String,
}

/// Exact proof lengths (bytes) of the circuit, per transcript.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProofLengths {
    /// EVM (keccak) transcript.
    pub evm: usize,
    /// Poseidon transcript.
    pub poseidon: usize,
}

/// The verifying-key artifact.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VkFile {
    /// [`VK_FORMAT`].
    pub format: String,
    /// [`ARTIFACT_VERSION`].
    pub version: u32,
    /// Digest of the circuit (what registries and proof artifacts name).
    pub circuit_digest: String,
    /// SRS identity (`insecure-dev` or `ceremony-<hash>`).
    pub srs: String,
    /// True when the SRS is the insecure development setup (anyone can forge proofs).
    pub insecure_srs: bool,
    /// Public instances of every proof.
    pub num_instance: usize,
    /// Exact proof lengths.
    pub proof_length: ProofLengths,
    /// The circuit configuration (shape, halo2 parameters, break points).
    pub config: AppCircuitConfig,
    /// The verifying key, halo2's `RawBytes` serialization, hex.
    pub vk: String,
    /// The KZG points the verifier needs.
    pub kzg: VerifierPoints,
}

/// A verifying key ready to verify with.
#[derive(Debug)]
pub struct LoadedVk {
    /// The file as read.
    pub file: VkFile,
    /// The verifying key.
    pub vk: VerifyingKey<G1Affine>,
    /// Verifier-only KZG parameters (the three points, at the key's k).
    pub params: ParamsKZG<Bn256>,
}

impl VkFile {
    /// The artifact of `keys`, made with `params` from `srs`.
    pub fn new(keys: &AppKeys, params: &ParamsKZG<Bn256>, srs: &SrsSource) -> Self {
        let mut vk = Vec::new();
        keys.vk().write(&mut vk, SerdeFormat::RawBytes).expect("writing to memory");
        let shape = ProofShape::of(keys.vk());
        Self {
            format: VK_FORMAT.into(),
            version: ARTIFACT_VERSION,
            circuit_digest: keys.digest.clone(),
            srs: srs.id(),
            insecure_srs: srs.is_insecure(),
            num_instance: keys.config.shape.layout().len(),
            proof_length: ProofLengths {
                evm: shape.bytes(Transcript::Evm),
                poseidon: shape.bytes(Transcript::Poseidon),
            },
            config: keys.config.clone(),
            vk: format!("0x{}", hex::encode(vk)),
            kzg: VerifierPoints {
                g: format!("0x{}", hex::encode(params.get_g()[0].to_bytes())),
                g2: format!("0x{}", hex::encode(params.g2().to_bytes())),
                s_g2: format!("0x{}", hex::encode(params.s_g2().to_bytes())),
            },
        }
    }

    /// Writes the artifact (atomically).
    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        artifact::write_json(path, self)
    }

    /// Reads and checks an artifact: format, version, digest of the configuration, the key
    /// itself (decoded with the configuration), its k, the KZG points and the proof lengths.
    pub fn read(path: &Path) -> Result<LoadedVk, VkFileError> {
        let file: VkFile = artifact::read_json(path)?;
        let bad =
            |field: &'static str, message: String| VkFileError::Invalid { path: path.to_path_buf(), field, message };
        if file.format != VK_FORMAT {
            return Err(bad("format", format!("{:?} is not {VK_FORMAT:?}", file.format)));
        }
        if file.version != ARTIFACT_VERSION {
            return Err(bad("version", format!("{} is not {ARTIFACT_VERSION}", file.version)));
        }
        let digest = circuit_digest(&file.config);
        if file.circuit_digest != digest {
            return Err(bad(
                "circuit_digest",
                format!("{} is not the digest of `config` ({digest})", file.circuit_digest),
            ));
        }
        let vk_bytes = decode_hex(&file.vk).ok_or_else(|| bad("vk", "not hex".into()))?;
        let vk = VerifyingKey::<G1Affine>::read::<_, BaseCircuitBuilder<Fr>>(
            &mut vk_bytes.as_slice(),
            SerdeFormat::RawBytes,
            file.config.params.clone(),
        )
        .map_err(|e| bad("vk", format!("not a verifying key of this configuration: {e}")))?;
        let k = vk.get_domain().k();
        if k != file.config.k() {
            return Err(bad("vk", format!("a key of k = {k}, but the configuration has k = {}", file.config.k())));
        }
        if vk.cs().num_instance_columns() != 1 || file.num_instance != file.config.shape.layout().len() {
            return Err(bad("num_instance", format!("{} is not the circuit's instance count", file.num_instance)));
        }
        let shape = ProofShape::of(&vk);
        let lengths = ProofLengths { evm: shape.bytes(Transcript::Evm), poseidon: shape.bytes(Transcript::Poseidon) };
        if file.proof_length != lengths {
            return Err(bad("proof_length", format!("{:?}, but the key gives {lengths:?}", file.proof_length)));
        }
        let g =
            decode_point::<G1Affine>(&file.kzg.g).ok_or_else(|| bad("kzg.g", "not a compressed G1 point".into()))?;
        let g2 =
            decode_point::<G2Affine>(&file.kzg.g2).ok_or_else(|| bad("kzg.g2", "not a compressed G2 point".into()))?;
        let s_g2 = decode_point::<G2Affine>(&file.kzg.s_g2)
            .ok_or_else(|| bad("kzg.s_g2", "not a compressed G2 point".into()))?;
        let params = verifier_params(k, g, g2, s_g2);
        Ok(LoadedVk { file, vk, params })
    }
}

impl LoadedVk {
    /// The exact proof length in `transcript`.
    pub fn proof_length(&self, transcript: Transcript) -> usize {
        match transcript {
            Transcript::Evm => self.file.proof_length.evm,
            Transcript::Poseidon => self.file.proof_length.poseidon,
        }
    }
}

/// Where keygen leaves the verifying-key artifact of `digest`.
pub fn cached_vk_path(cache_dir: &Path, digest: &str, srs: &SrsSource) -> PathBuf {
    cache_dir.join("keys").join(format!("{digest}-{}", srs.id())).join(VK_FILE_NAME)
}

/// KZG parameters carrying only what a SHPLONK verifier reads (`g[0]`, `g2`, `s·g2`) at `k`.
pub fn verifier_params(k: u32, g: G1Affine, g2: G2Affine, s_g2: G2Affine) -> ParamsKZG<Bn256> {
    // `from_parts` does not read `self`; the smallest setup stands in for it.
    let tiny = ParamsKZG::<Bn256>::setup(1, rand::rngs::OsRng);
    tiny.from_parts(k, vec![g], Some(vec![]), g2, s_g2)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}

fn decode_point<C: GroupEncoding>(s: &str) -> Option<C> {
    let bytes = decode_hex(s)?;
    let mut repr = C::Repr::default();
    if repr.as_ref().len() != bytes.len() {
        return None;
    }
    repr.as_mut().copy_from_slice(&bytes);
    Option::from(C::from_bytes(&repr))
}
