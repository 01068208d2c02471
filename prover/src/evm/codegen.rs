//! Solidity verifier generation for halo2 circuits (SHPLONK over KZG/BN254, EVM transcript).
//!
//! [`verifier_source`] runs snark-verifier's `EvmLoader` over a verifying key, exactly like
//! `snark_verifier_sdk::evm::gen_evm_verifier_shplonk`, but returns errors instead of panicking.
//! The result is a `contract Halo2Verifier` with one unrolled `fallback` that takes
//! `instances (32-byte big-endian words) ‖ proof`, returns empty on success and reverts on failure;
//! the hand-written `contracts/src/ZkGuardVerifier.sol` wraps it with an ABI.
//!
//! [`compile`] compiles the source through `scripts/solc` (our solcjs shim) with the standard-JSON
//! interface and the optimizer OFF (solcjs runs out of memory optimizing these verifiers, and the
//! legacy optimizer costs gas; docs/ONCHAIN.md). [`generate_verifier`] does both, refuses a
//! verifier whose runtime exceeds EIP-170's 24,576 bytes (it could not deploy on a default chain),
//! and [`write_verifier`] writes the source and a forge-style artifact under
//! `contracts/src/generated/<name>/` with a header naming the command that produced it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;

use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::commitment::{Params, ParamsProver};
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;
use serde::{Deserialize, Serialize};
use serde_json::json;
use snark_verifier::loader::evm::EvmLoader;
use snark_verifier::pcs::kzg::KzgDecidingKey;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile as compile_protocol, Config};
use snark_verifier::verifier::SnarkVerifier;
use snark_verifier_sdk::{PlonkVerifier, SHPLONK};

/// EIP-170: the largest runtime bytecode a contract may have.
pub const MAX_RUNTIME_SIZE: usize = 24_576;
/// EIP-3860: the largest creation (init) code a deployment may carry.
pub const MAX_INITCODE_SIZE: usize = 2 * MAX_RUNTIME_SIZE;
/// The EVM version the verifier is compiled for (the same as `foundry.toml`).
pub const EVM_VERSION: &str = "prague";
/// Name of the generated contract.
pub const CONTRACT_NAME: &str = "Halo2Verifier";
/// The pragma snark-verifier emits (pinned to a solc we do not have) and the one we write.
const GENERATED_PRAGMA: &str = "pragma solidity 0.8.19;";
const WRITTEN_PRAGMA: &str = "pragma solidity ^0.8.19;";

/// Why a verifier could not be generated, compiled or written.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// snark-verifier could not build the verifier program for this key.
    #[error("snark-verifier could not build the verifier program: {0}")]
    Protocol(String),
    /// The parameters are not those of the verifying key's k.
    #[error("the KZG parameters are for k = {params_k}, the verifying key for k = {vk_k}")]
    ParamsMismatch {
        /// k of the parameters.
        params_k: u32,
        /// k of the verifying key.
        vk_k: u32,
    },
    /// The generated source is not in the shape this module expects.
    #[error("unexpected generated source: {0}")]
    UnexpectedSource(&'static str),
    /// The compiler could not be started.
    #[error("cannot run the Solidity compiler {path}: {source} (run `bash scripts/setup` to install the toolchain)")]
    SolcSpawn {
        /// The compiler path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The compiler exited with an error (not a compile error: those come back in the JSON).
    #[error("the Solidity compiler {path} failed ({status}): {stderr}")]
    SolcFailed {
        /// The compiler path.
        path: PathBuf,
        /// Exit status.
        status: String,
        /// Its standard error.
        stderr: String,
    },
    /// The compiler's output is not the standard-JSON output expected.
    #[error("unreadable output from the Solidity compiler: {0}")]
    SolcOutput(String),
    /// The source does not compile.
    #[error("the generated verifier does not compile:\n{0}")]
    Compile(String),
    /// The runtime bytecode is over EIP-170's limit: the verifier could not be deployed.
    #[error(
        "the verifier's runtime bytecode is {size} bytes, over the EIP-170 limit of {limit} bytes: it cannot be deployed \
         on a default chain. Choose a circuit configuration with fewer columns / larger k, or fewer public instances \
         (docs/ONCHAIN.md, \"Choosing configurations\")"
    )]
    RuntimeTooLarge {
        /// Runtime size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The creation code is over EIP-3860's init-code limit.
    #[error("the verifier's creation code is {size} bytes, over the EIP-3860 limit of {limit} bytes")]
    InitCodeTooLarge {
        /// Creation code size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Writing the generated files failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A directory name that would escape the output directory or is empty.
    #[error("invalid verifier name {0:?}: use letters, digits, `-`, `_` and `.`")]
    InvalidName(String),
}

/// What a verifier is generated for, and the provenance written into its header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifierSpec {
    /// Directory name under `contracts/src/generated/`.
    pub name: String,
    /// Digest (hex, no `0x`) of the circuit whose verifying key this is.
    pub circuit_digest: String,
    /// One line saying what the circuit is (e.g. "direct app circuit, linear 4 features, batch 4").
    pub description: String,
    /// Public instances the verifier reads.
    pub num_instance: usize,
    /// Accumulator limbs in front of the instances (0 for app circuits, 12 for aggregation).
    pub accumulator_limbs: usize,
    /// The exact command that produced it.
    pub command: String,
    /// Identity of the KZG parameters (see `SrsSource::id`).
    pub srs: String,
    /// Whether those parameters are the insecure development setup.
    pub insecure_srs: bool,
}

/// Compiled bytecode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    /// Creation (deployment) code.
    pub creation: Vec<u8>,
    /// Runtime code.
    pub runtime: Vec<u8>,
    /// Compiler version string.
    pub compiler: String,
}

/// A generated, compiled verifier.
#[derive(Clone, Debug)]
pub struct GeneratedVerifier {
    /// What it is for.
    pub spec: VerifierSpec,
    /// The Solidity source, with the provenance header.
    pub source: String,
    /// Its bytecode.
    pub compiled: Compiled,
}

/// The Solidity source of a SHPLONK verifier for `vk` (EVM transcript), without a header.
/// `accumulator_limbs` is 0 for an app circuit; an aggregation circuit's first 12 instances are
/// the limbs of the KZG accumulator, which the verifier then checks with the final pairing.
pub fn verifier_source(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    num_instance: usize,
    accumulator_limbs: usize,
) -> Result<String, CodegenError> {
    if vk.get_domain().k() != params.k() {
        return Err(CodegenError::ParamsMismatch { params_k: params.k(), vk_k: vk.get_domain().k() });
    }
    let accumulator_indices = (accumulator_limbs > 0).then(|| (0..accumulator_limbs).map(|i| (0, i)).collect());
    let protocol = compile_protocol(
        params,
        vk,
        Config::kzg().with_num_instance(vec![num_instance]).with_accumulator_indices(accumulator_indices),
    );
    let dk: KzgDecidingKey<Bn256> = (params.get_g()[0], params.g2(), params.s_g2()).into();
    let loader = EvmLoader::new::<Fq, Fr>();
    let protocol = protocol.loaded(&loader);
    let mut transcript = EvmTranscript::<_, Rc<EvmLoader>, _, _>::new(&loader);
    let instances = transcript.load_instances(vec![num_instance]);
    let proof = PlonkVerifier::<SHPLONK>::read_proof(&dk, &protocol, &instances, &mut transcript)
        .map_err(|e| CodegenError::Protocol(format!("{e:?}")))?;
    PlonkVerifier::<SHPLONK>::verify(&dk, &protocol, &instances, &proof)
        .map_err(|e| CodegenError::Protocol(format!("{e:?}")))?;
    Ok(loader.solidity_code())
}

/// Puts the provenance header on a generated source and relaxes its exact `0.8.19` pragma to
/// `^0.8.19` (our compiler is solcjs 0.8.30).
pub fn with_header(source: &str, spec: &VerifierSpec) -> Result<String, CodegenError> {
    if !source.contains(GENERATED_PRAGMA) {
        return Err(CodegenError::UnexpectedSource("no `pragma solidity 0.8.19;` line"));
    }
    let body = source.replacen(GENERATED_PRAGMA, WRITTEN_PRAGMA, 1);
    let insecure = if spec.insecure_srs {
        "\n// WARNING: INSECURE DEVELOPMENT SRS (publicly known secret): anyone can forge proofs for this verifier."
    } else {
        ""
    };
    Ok(format!(
        "// GENERATED FILE: never edit by hand. Regenerate with:\n\
         //   {command}\n\
         // Verifier of circuit {digest}: {description}.\n\
         // Public instances: {n} ({limbs} accumulator limbs first). KZG parameters: {srs}.{insecure}\n\
         // Produced by zkguard-prover {version} with snark-verifier 0.2.7 (SHPLONK, keccak transcript).\n\
         // Calldata: instances as 32-byte big-endian words, then the proof. Returns empty on success,\n\
         // reverts on failure. Deploy the compiled artifact next to this file (optimizer off).\n\
         {body}",
        command = spec.command,
        digest = spec.circuit_digest,
        description = spec.description,
        n = spec.num_instance,
        limbs = spec.accumulator_limbs,
        srs = spec.srs,
        version = env!("CARGO_PKG_VERSION"),
        body = body.trim_start(),
    ))
}

/// The standard-JSON input for compiling `source` as `file_name` (optimizer off).
pub fn standard_json_input(file_name: &str, source: &str) -> serde_json::Value {
    json!({
        "language": "Solidity",
        "sources": { file_name: { "content": source } },
        "settings": {
            "optimizer": { "enabled": false },
            "evmVersion": EVM_VERSION,
            "outputSelection": { "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object"] } }
        }
    })
}

/// Compiles `source` (which defines `contract_name`) with the compiler at `solc` through the
/// standard-JSON interface.
pub fn compile(solc: &Path, source: &str, contract_name: &str) -> Result<Compiled, CodegenError> {
    let file_name = format!("{contract_name}.sol");
    let input = standard_json_input(&file_name, source).to_string();
    let stdout = run_solc(solc, &["--standard-json"], Some(input.as_bytes()))?;
    let output: serde_json::Value =
        serde_json::from_slice(&stdout).map_err(|e| CodegenError::SolcOutput(format!("not JSON ({e})")))?;
    let errors: Vec<String> = output
        .get("errors")
        .and_then(|e| e.as_array())
        .map(|errors| {
            errors
                .iter()
                .filter(|e| e.get("severity").and_then(|s| s.as_str()) == Some("error"))
                .map(|e| {
                    e.get("formattedMessage")
                        .or_else(|| e.get("message"))
                        .and_then(|m| m.as_str())
                        .unwrap_or("(no message)")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    if !errors.is_empty() {
        return Err(CodegenError::Compile(errors.join("\n")));
    }
    let contract = output
        .pointer(&format!("/contracts/{file_name}/{contract_name}/evm"))
        .ok_or_else(|| CodegenError::SolcOutput(format!("no contract {contract_name} in {file_name}")))?;
    let bytes = |pointer: &str| -> Result<Vec<u8>, CodegenError> {
        let text = contract
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .ok_or_else(|| CodegenError::SolcOutput(format!("missing {pointer}")))?;
        let bytes = hex::decode(text.trim_start_matches("0x"))
            .map_err(|e| CodegenError::SolcOutput(format!("{pointer}: {e}")))?;
        if bytes.is_empty() {
            return Err(CodegenError::SolcOutput(format!("{pointer} is empty")));
        }
        Ok(bytes)
    };
    Ok(Compiled {
        creation: bytes("/bytecode/object")?,
        runtime: bytes("/deployedBytecode/object")?,
        compiler: solc_version(solc)?,
    })
}

/// The compiler's version (the last line of `solc --version`, after `Version: `).
pub fn solc_version(solc: &Path) -> Result<String, CodegenError> {
    let stdout = run_solc(solc, &["--version"], None)?;
    let text = String::from_utf8_lossy(&stdout);
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Version:").map(|v| v.trim().to_string()))
        .ok_or_else(|| CodegenError::SolcOutput(format!("no `Version:` line in {text:?}")))
}

fn run_solc(solc: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, CodegenError> {
    let spawn = |source| CodegenError::SolcSpawn { path: solc.to_path_buf(), source };
    let mut child = Command::new(solc)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn)?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).map_err(spawn)?;
    }
    let output = child.wait_with_output().map_err(spawn)?;
    if !output.status.success() {
        return Err(CodegenError::SolcFailed {
            path: solc.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

/// Checks EIP-170 (runtime) and EIP-3860 (creation code) sizes.
pub fn check_sizes(compiled: &Compiled) -> Result<(), CodegenError> {
    if compiled.runtime.len() > MAX_RUNTIME_SIZE {
        return Err(CodegenError::RuntimeTooLarge { size: compiled.runtime.len(), limit: MAX_RUNTIME_SIZE });
    }
    if compiled.creation.len() > MAX_INITCODE_SIZE {
        return Err(CodegenError::InitCodeTooLarge { size: compiled.creation.len(), limit: MAX_INITCODE_SIZE });
    }
    Ok(())
}

/// Generates, compiles and size-checks the verifier of `vk` described by `spec`.
pub fn generate_verifier(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    spec: VerifierSpec,
    solc: &Path,
) -> Result<GeneratedVerifier, CodegenError> {
    let stage = crate::progress::Stage::start(format!("generating the Solidity verifier {}", spec.name));
    let raw = verifier_source(params, vk, spec.num_instance, spec.accumulator_limbs)?;
    let source = with_header(&raw, &spec)?;
    stage.finish();
    let stage = crate::progress::Stage::start(format!("compiling {} with {}", spec.name, solc.display()));
    let compiled = compile(solc, &source, CONTRACT_NAME)?;
    stage.finish();
    tracing::info!(
        runtime_bytes = compiled.runtime.len(),
        creation_bytes = compiled.creation.len(),
        "compiled verifier {} (EIP-170 limit {MAX_RUNTIME_SIZE})",
        spec.name
    );
    check_sizes(&compiled)?;
    Ok(GeneratedVerifier { spec, source, compiled })
}

/// The files [`write_verifier`] wrote.
#[derive(Clone, Debug)]
pub struct WrittenVerifier {
    /// `<dir>/Halo2Verifier.sol`.
    pub source: PathBuf,
    /// `<dir>/Halo2Verifier.json`: bytecode and provenance (forge-artifact style `.bytecode.object`).
    pub artifact: PathBuf,
}

/// Writes `<generated_root>/<name>/Halo2Verifier.sol` and `Halo2Verifier.json`.
pub fn write_verifier(generated: &GeneratedVerifier, generated_root: &Path) -> Result<WrittenVerifier, CodegenError> {
    let name = &generated.spec.name;
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(CodegenError::InvalidName(name.clone()));
    }
    let dir = generated_root.join(name);
    std::fs::create_dir_all(&dir).map_err(|source| CodegenError::Io { path: dir.clone(), source })?;
    let source_path = dir.join(format!("{CONTRACT_NAME}.sol"));
    write_file(&source_path, generated.source.as_bytes())?;
    let artifact_path = dir.join(format!("{CONTRACT_NAME}.json"));
    let artifact = json!({
        "contractName": CONTRACT_NAME,
        "spec": generated.spec,
        "compiler": { "version": generated.compiled.compiler, "optimizer": false, "evmVersion": EVM_VERSION },
        "creationSize": generated.compiled.creation.len(),
        "runtimeSize": generated.compiled.runtime.len(),
        "bytecode": { "object": format!("0x{}", hex::encode(&generated.compiled.creation)) },
        "deployedBytecode": { "object": format!("0x{}", hex::encode(&generated.compiled.runtime)) },
    });
    let mut text = serde_json::to_string_pretty(&artifact).map_err(|e| CodegenError::SolcOutput(e.to_string()))?;
    text.push('\n');
    write_file(&artifact_path, text.as_bytes())?;
    Ok(WrittenVerifier { source: source_path, artifact: artifact_path })
}

/// Writes a file through a temporary name and a rename, so readers never see half a file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CodegenError> {
    crate::fsutil::write_bytes_atomic(path, bytes)
        .map_err(|source| CodegenError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> VerifierSpec {
        VerifierSpec {
            name: "t".into(),
            circuit_digest: "ab".repeat(32),
            description: "test".into(),
            num_instance: 3,
            accumulator_limbs: 0,
            command: "zkguard verifier generate --x".into(),
            srs: "insecure-dev".into(),
            insecure_srs: true,
        }
    }

    #[test]
    fn header_relaxes_the_pragma_and_names_the_command() {
        let src = "\n// SPDX-License-Identifier: MIT\n\npragma solidity 0.8.19;\n\ncontract Halo2Verifier {}\n";
        let out = with_header(src, &spec()).unwrap();
        assert!(out.starts_with("// GENERATED FILE"));
        assert!(out.contains("zkguard verifier generate --x"));
        assert!(out.contains(&"ab".repeat(32)));
        assert!(out.contains("INSECURE"));
        assert!(out.contains("pragma solidity ^0.8.19;"));
        assert!(!out.contains("pragma solidity 0.8.19;"));
        assert!(matches!(with_header("contract X {}", &spec()), Err(CodegenError::UnexpectedSource(_))));
    }

    #[test]
    fn sizes_are_checked() {
        let ok = Compiled { creation: vec![0; 100], runtime: vec![0; MAX_RUNTIME_SIZE], compiler: String::new() };
        assert!(check_sizes(&ok).is_ok());
        let big = Compiled { runtime: vec![0; MAX_RUNTIME_SIZE + 1], ..ok.clone() };
        assert!(matches!(check_sizes(&big), Err(CodegenError::RuntimeTooLarge { size: 24_577, limit: 24_576 })));
        let init = Compiled { creation: vec![0; MAX_INITCODE_SIZE + 1], ..ok };
        assert!(matches!(check_sizes(&init), Err(CodegenError::InitCodeTooLarge { .. })));
    }

    #[test]
    fn names_cannot_escape_the_output_directory() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "../x", "a/b", ".hidden"] {
            let g = GeneratedVerifier {
                spec: VerifierSpec { name: bad.into(), ..spec() },
                source: String::new(),
                compiled: Compiled { creation: vec![1], runtime: vec![1], compiler: String::new() },
            };
            assert!(matches!(write_verifier(&g, dir.path()), Err(CodegenError::InvalidName(_))), "{bad}");
        }
    }
}
