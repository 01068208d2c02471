//! The verifier cache: a circuit's verifier creation code and the exact length of the proofs it
//! verifies, next to the keys (`<cache>/verifiers/<digest>-<srs id>.json`), so a second deployment
//! of a circuit loads no key and compiles nothing ([`super::deploy::prepare`]).
//!
//! Only a missing file is a miss. An unreadable, malformed or non-hex entry is an error naming the
//! file (delete it to regenerate): a cache that cannot be read is not silently regenerated over.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::keys::SrsSource;

/// A cached verifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedVerifier {
    /// Creation code of the generated verifier.
    pub creation: Vec<u8>,
    /// The exact byte length of the proofs it verifies (EVM transcript).
    pub proof_length: usize,
}

/// The file format.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    /// Creation code (hex).
    creation: String,
    /// Proof length in bytes.
    proof_length: usize,
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
}

/// Where the verifier of circuit `digest` (hex, no `0x`) is cached.
pub fn verifier_cache_path(cache_dir: &Path, srs: &SrsSource, digest: &str) -> PathBuf {
    cache_dir.join("verifiers").join(format!("{digest}-{}.json", srs.id()))
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
    let creation = hex::decode(entry.creation.trim_start_matches("0x"))
        .map_err(|source| VerifierCacheError::Hex { path: path.to_path_buf(), source })?;
    Ok(Some(CachedVerifier { creation, proof_length: entry.proof_length }))
}

/// Writes the entry at `path` atomically (its directory is created).
pub fn store(path: &Path, verifier: &CachedVerifier) -> Result<(), VerifierCacheError> {
    let entry = Entry { creation: hex::encode(&verifier.creation), proof_length: verifier.proof_length };
    let json = serde_json::to_vec(&entry).expect("a string and a number serialize");
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
        let v = CachedVerifier { creation: vec![0x60, 0x80, 0x60, 0x40], proof_length: 1_344 };
        store(&path, &v).unwrap();
        assert_eq!(load(&path).unwrap(), Some(v));
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
        // Nothing was replaced: the bad entries are still there for the user to look at.
        assert!(malformed.exists() && not_hex.exists());
    }
}
