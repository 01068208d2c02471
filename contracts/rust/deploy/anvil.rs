//! A local anvil on a free loopback port, for demos and tests. Its dev accounts' keys are
//! PUBLIC (printed by every anvil): they are only ever used against this local chain.

use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance};

use super::DeployError;

/// The anvil binary: `$ZKGUARD_ANVIL`, else the one `scripts/setup` installs under `root`.
pub fn anvil_binary(root: &Path) -> PathBuf {
    std::env::var_os("ZKGUARD_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
}

/// Starts anvil (killed when the instance drops) on a free loopback port.
pub fn spawn(binary: &Path) -> Result<AnvilInstance, DeployError> {
    if !binary.exists() {
        return Err(DeployError::Anvil {
            binary: binary.display().to_string(),
            message: "not found (run scripts/setup or set ZKGUARD_ANVIL)".into(),
            source: None,
        });
    }
    Anvil::new().path(binary).arg("--host").arg("127.0.0.1").try_spawn().map_err(|e| DeployError::Anvil {
        binary: binary.display().to_string(),
        message: "would not start".into(),
        source: Some(Box::new(e)),
    })
}
