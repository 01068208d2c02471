//! The verifier cache: a circuit's verifier code (the generated verifier's creation code, or the
//! shared verifier's and the key's, with their code hashes) and the exact length of the proofs it
//! verifies, next to the keys (`<cache>/verifiers/<digest>-<srs id>.json`, `...-shared.json` for
//! the shared verifier), so a second deployment of a circuit loads no key and compiles nothing
//! ([`super::deploy::prepare`]).
//!
//! Only a missing file is a miss. An unreadable, malformed or non-hex entry is an error naming the
//! file (delete it to regenerate): a cache that cannot be read is not silently regenerated over.

use std::path::{Path, PathBuf};

use alloy_primitives::FixedBytes;
use serde::{Deserialize, Serialize};
use zkguard_contracts::registration::{SharedVerifierCode, VerifierCode};

use crate::keys::SrsSource;

/// A cached verifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedVerifier {
    /// The verifier's code (generated, or shared verifier and key).
    pub code: VerifierCode,
    /// The exact byte length of the proofs it verifies (EVM transcript).
    pub proof_length: usize,
}

/// The file format.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    /// Creation code (hex) of the generated verifier, or of the shared verifier.
    creation: String,
    /// Proof length in bytes.
    proof_length: usize,
    /// The shared verifier's other facts and the key (absent: a generated verifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shared: Option<SharedEntry>,
}

/// The shared verifier's part of an entry (hex).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SharedEntry {
    proof_system_digest: String,
    verifier_runtime_hash: String,
    key_creation: String,
    key_codehash: String,
}

/// Why a cache entry could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum VerifierCacheError {
    /// Reading (other than "not found") or writing failed.
    #[error("verifier cache {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The entry is not the cache's JSON.
    #[error("cached verifier (delete the file to regenerate it): {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// The creation code is not hex.
    #[error("cached verifier (delete the file to regenerate it): {path}: {source}")]
    Hex {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: hex::FromHexError,
    },
    /// A hash that is not 32 bytes.
    #[error("cached verifier (delete the file to regenerate it): {path}: {field} is not 32 bytes")]
    NotAHash {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
    },
}

/// Where the verifier of circuit `digest` (hex, no `0x`) is cached.
pub fn verifier_cache_path(cache_dir: &Path, srs: &SrsSource, digest: &str) -> PathBuf {
    cache_dir.join("verifiers").join(format!("{digest}-{}.json", srs.id()))
}

/// Where the shared-verifier code of circuit `digest` is cached.
pub fn shared_verifier_cache_path(cache_dir: &Path, srs: &SrsSource, digest: &str) -> PathBuf {
    cache_dir.join("verifiers").join(format!("{digest}-{}-shared.json", srs.id()))
}

/// The entry at `path`: `None` when there is no file, an error for anything else that fails.
pub fn load(path: &Path) -> Result<Option<CachedVerifier>, VerifierCacheError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(VerifierCacheError::Io { path: path.to_path_buf(), source }),
    };
    let entry: Entry =
        serde_json::from_str(&text).map_err(|source| VerifierCacheError::Json { path: path.to_path_buf(), source })?;
    let bytes = |text: &str| {
        hex::decode(text.trim_start_matches("0x"))
            .map_err(|source| VerifierCacheError::Hex { path: path.to_path_buf(), source })
    };
    let hash = |text: &str, field: &'static str| -> Result<FixedBytes<32>, VerifierCacheError> {
        let b = bytes(text)?;
        FixedBytes::try_from(b.as_slice()).map_err(|_| VerifierCacheError::NotAHash { path: path.to_path_buf(), field })
    };
    let creation = bytes(&entry.creation)?;
    let code = match entry.shared {
        None => VerifierCode::Unrolled { creation },
        Some(s) => VerifierCode::Shared(SharedVerifierCode {
            proof_system_digest: hash(&s.proof_system_digest, "proofSystemDigest")?,
            verifier_creation: creation,
            verifier_runtime_hash: hash(&s.verifier_runtime_hash, "verifierRuntimeHash")?,
            key_creation: bytes(&s.key_creation)?,
            key_codehash: hash(&s.key_codehash, "keyCodehash")?,
        }),
    };
    Ok(Some(CachedVerifier { code, proof_length: entry.proof_length }))
}

/// Writes the entry at `path` atomically (its directory is created).
pub fn store(path: &Path, verifier: &CachedVerifier) -> Result<(), VerifierCacheError> {
    let entry = match &verifier.code {
        VerifierCode::Unrolled { creation } => {
            Entry { creation: hex::encode(creation), proof_length: verifier.proof_length, shared: None }
        }
        VerifierCode::Shared(c) => Entry {
            creation: hex::encode(&c.verifier_creation),
            proof_length: verifier.proof_length,
            shared: Some(SharedEntry {
                proof_system_digest: hex::encode(c.proof_system_digest),
                verifier_runtime_hash: hex::encode(c.verifier_runtime_hash),
                key_creation: hex::encode(&c.key_creation),
                key_codehash: hex::encode(c.key_codehash),
            }),
        },
    };
    let json = serde_json::to_vec(&entry).expect("strings and a number serialize");
    crate::fsutil::write_bytes_atomic(path, &json)
        .map_err(|source| VerifierCacheError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_entry_is_a_miss_and_a_stored_one_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = verifier_cache_path(dir.path(), &SrsSource::InsecureDev, &"ab".repeat(32));
        assert_eq!(path.parent().unwrap(), dir.path().join("verifiers"));
        assert_eq!(load(&path).unwrap(), None);
        let v = CachedVerifier {
            code: VerifierCode::Unrolled { creation: vec![0x60, 0x80, 0x60, 0x40] },
            proof_length: 1_344,
        };
        store(&path, &v).unwrap();
        assert_eq!(load(&path).unwrap(), Some(v));
        let shared_path = shared_verifier_cache_path(dir.path(), &SrsSource::InsecureDev, &"ab".repeat(32));
        assert_ne!(shared_path, path);
        let shared = CachedVerifier {
            code: VerifierCode::Shared(SharedVerifierCode {
                proof_system_digest: FixedBytes::repeat_byte(1),
                verifier_creation: vec![0x60, 0x01],
                verifier_runtime_hash: FixedBytes::repeat_byte(2),
                key_creation: vec![0x60, 0x02],
                key_codehash: FixedBytes::repeat_byte(3),
            }),
            proof_length: 1_376,
        };
        store(&shared_path, &shared).unwrap();
        assert_eq!(load(&shared_path).unwrap(), Some(shared));
    }

    #[test]
    fn an_unreadable_or_malformed_entry_is_an_error_not_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: reading fails with something other than NotFound.
        let unreadable = dir.path().join("dir.json");
        std::fs::create_dir(&unreadable).unwrap();
        assert!(matches!(load(&unreadable), Err(VerifierCacheError::Io { .. })));
        let malformed = dir.path().join("malformed.json");
        std::fs::write(&malformed, "{\"creation\": \"60\"}").unwrap();
        let err = load(&malformed).unwrap_err();
        assert!(matches!(err, VerifierCacheError::Json { .. }), "{err:?}");
        assert!(err.to_string().contains("delete the file to regenerate it"), "{err}");
        let not_hex = dir.path().join("not_hex.json");
        std::fs::write(&not_hex, "{\"creation\": \"0xzz\", \"proofLength\": 1}").unwrap();
        assert!(matches!(load(&not_hex), Err(VerifierCacheError::Hex { .. })));
        let short_hash = dir.path().join("short_hash.json");
        let shared = r#"{"creation": "60", "proofLength": 1, "shared": {"proofSystemDigest": "01", "verifierRuntimeHash": "02", "keyCreation": "60", "keyCodehash": "03"}}"#;
        std::fs::write(&short_hash, shared).unwrap();
        let err = load(&short_hash).unwrap_err();
        assert!(matches!(err, VerifierCacheError::NotAHash { field: "proofSystemDigest", .. }), "{err:?}");
        // Nothing was replaced: the bad entries are still there for the user to look at.
        assert!(malformed.exists() && not_hex.exists());
    }
}
