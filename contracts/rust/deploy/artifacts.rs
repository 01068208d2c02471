//! Creation code of zkguard's contracts from forge's build output (`contracts/out`).

use std::path::{Path, PathBuf};

use super::DeployError;

/// Forge's output directory.
#[derive(Clone, Debug)]
pub struct ContractArtifacts {
    out_dir: PathBuf,
}

impl ContractArtifacts {
    /// Artifacts under `out_dir` (e.g. `contracts/out`).
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self { out_dir: out_dir.into() }
    }

    /// The directory.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Creation bytecode of contract `name` in source file `file` (`<out>/<file>/<name>.json`).
    pub fn creation_code(&self, file: &str, name: &str) -> Result<Vec<u8>, DeployError> {
        let path = self.out_dir.join(file).join(format!("{name}.json"));
        let bad = |message: String| DeployError::Artifact { path: path.display().to_string(), message };
        let bytes = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let hex_code = json["bytecode"]["object"]
            .as_str()
            .ok_or_else(|| bad("no bytecode.object".into()))?
            .trim_start_matches("0x");
        if hex_code.is_empty() {
            return Err(bad("empty bytecode (abstract contract or interface?)".into()));
        }
        alloy::hex::decode(hex_code).map_err(|e| bad(format!("bytecode is not hex: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_malformed_artifacts_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let artifacts = ContractArtifacts::new(dir.path());
        let err = artifacts.creation_code("Guard.sol", "Guard").unwrap_err().to_string();
        assert!(err.contains("Guard.sol/Guard.json") && err.contains("forge build"), "{err}");
        std::fs::create_dir_all(dir.path().join("Guard.sol")).unwrap();
        std::fs::write(dir.path().join("Guard.sol/Guard.json"), r#"{"bytecode":{"object":"0xzz"}}"#).unwrap();
        let err = artifacts.creation_code("Guard.sol", "Guard").unwrap_err().to_string();
        assert!(err.contains("not hex"), "{err}");
        std::fs::write(dir.path().join("Guard.sol/Guard.json"), r#"{"bytecode":{"object":"0x6001"}}"#).unwrap();
        assert_eq!(artifacts.creation_code("Guard.sol", "Guard").unwrap(), vec![0x60, 0x01]);
    }
}
