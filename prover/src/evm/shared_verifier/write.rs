//! Writing a rendered, compiled pair as files: the proof system's verifier once, the circuit's
//! key beside it, each as its Solidity source (with the provenance header) and a forge-style JSON
//! artifact (creation and runtime bytecode; for the key also its code hash, instance count and
//! proof length, what the wrapper's constructor takes).
//!
//! Layout under `root`: `<system>/Halo2Verifier.{sol,json}` and
//! `<system>/keys/<circuit>/Halo2VerifyingKey.{sol,json}`, where `<system>` is
//! [`proof_system_id`] and `<circuit>` the caller's name (e.g. the circuit digest's first 12 digits).

use std::path::{Path, PathBuf};

use crate::evm::codegen::EVM_VERSION;
use serde_json::json;

use zkguard_halo2_solidity::Rendered;

use super::compile::{CompiledPair, VERIFIER_CONTRACT, VK_CONTRACT};
use super::SharedPairError;

/// Files written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPair {
    /// The verifier's source.
    pub verifier_source: PathBuf,
    /// The verifier's artifact.
    pub verifier_artifact: PathBuf,
    /// The key's source.
    pub vk_source: PathBuf,
    /// The key's artifact.
    pub vk_artifact: PathBuf,
}

/// `shared-` and the first 12 hex digits of [`Rendered::proof_system_digest`]: equal for every
/// circuit of one proof system.
pub fn proof_system_id(rendered: &Rendered) -> String {
    format!("shared-{}", &hex::encode(rendered.proof_system_digest)[..12])
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), SharedPairError> {
    let io = |source| SharedPairError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    crate::fsutil::write_bytes_atomic(path, bytes).map_err(io)
}

fn json_bytes(value: &serde_json::Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text.into_bytes()
}

/// Writes the pair under `root`; the key goes to `keys/<circuit_name>/` (letters, digits, `-`,
/// `_`, `.` only).
pub fn write_pair(
    root: &Path,
    circuit_name: &str,
    rendered: &Rendered,
    compiled: &CompiledPair,
) -> Result<WrittenPair, SharedPairError> {
    let valid = !circuit_name.is_empty()
        && !circuit_name.starts_with('.')
        && circuit_name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(SharedPairError::InvalidName(circuit_name.to_string()));
    }
    let system = root.join(proof_system_id(rendered));
    let keys = system.join("keys").join(circuit_name);
    let compiler = |version: &str| json!({ "version": version, "optimizer": false, "evmVersion": EVM_VERSION });
    let written = WrittenPair {
        verifier_source: system.join(format!("{VERIFIER_CONTRACT}.sol")),
        verifier_artifact: system.join(format!("{VERIFIER_CONTRACT}.json")),
        vk_source: keys.join(format!("{VK_CONTRACT}.sol")),
        vk_artifact: keys.join(format!("{VK_CONTRACT}.json")),
    };
    write(&written.verifier_source, rendered.verifier_sol.as_bytes())?;
    write(
        &written.verifier_artifact,
        &json_bytes(&json!({
            "contractName": VERIFIER_CONTRACT,
            "proofSystemDigest": format!("{}", rendered.proof_system_digest),
            "compiler": compiler(&compiled.verifier.compiler),
            "runtimeSize": compiled.verifier.runtime.len(),
            "bytecode": { "object": format!("0x{}", hex::encode(&compiled.verifier.creation)) },
            "deployedBytecode": { "object": format!("0x{}", hex::encode(&compiled.verifier.runtime)) },
        })),
    )?;
    write(&written.vk_source, rendered.vk_sol.as_bytes())?;
    write(
        &written.vk_artifact,
        &json_bytes(&json!({
            "contractName": VK_CONTRACT,
            "compiler": compiler(&compiled.vk.compiler),
            "runtimeSize": compiled.vk.runtime.len(),
            "codeHash": format!("{}", compiled.vk_codehash),
            "numInstances": rendered.num_instances,
            "proofLength": rendered.proof_len,
            "bytecode": { "object": format!("0x{}", hex::encode(&compiled.vk.creation)) },
            "deployedBytecode": { "object": format!("0x{}", hex::encode(&compiled.vk.runtime)) },
        })),
    )?;
    Ok(written)
}
