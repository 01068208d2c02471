//! Compiling a rendered pair through `scripts/solc` ([`crate::evm::codegen::compile`],
//! optimizer off), with the EIP-170 / EIP-3860 size checks.

use std::path::Path;

use crate::evm::codegen::{check_sizes, compile, Compiled};
use alloy_primitives::{keccak256, B256};

use zkguard_halo2_solidity::Rendered;

use super::SharedPairError;

/// Name of the shared verifier contract.
pub const VERIFIER_CONTRACT: &str = "Halo2Verifier";
/// Name of the verifying-key contract.
pub const VK_CONTRACT: &str = "Halo2VerifyingKey";

/// Both contracts compiled.
#[derive(Clone, Debug)]
pub struct CompiledPair {
    /// The shared verifier.
    pub verifier: Compiled,
    /// The verifying key: `creation` deploys it, `runtime` is the code it deploys (the key's words).
    pub vk: Compiled,
    /// keccak256 of the key's runtime code ([`Rendered::vk_code`]): what a registry pins
    /// (`extcodehash`). solc's `deployedBytecode` of the key is NOT its runtime (the constructor
    /// returns the words instead).
    pub vk_codehash: B256,
}

/// Compiles one source defining `contract` and checks its sizes.
pub fn compile_one(solc: &Path, source: &str, contract: &'static str) -> Result<Compiled, SharedPairError> {
    let compiled = compile(solc, source, contract).map_err(|source| SharedPairError::Compile { contract, source })?;
    check_sizes(&compiled).map_err(|source| SharedPairError::Compile { contract, source })?;
    Ok(compiled)
}

/// Compiles the verifier and the key of `rendered`.
pub fn compile_pair(solc: &Path, rendered: &Rendered) -> Result<CompiledPair, SharedPairError> {
    let verifier = compile_one(solc, &rendered.verifier_sol, VERIFIER_CONTRACT)?;
    let mut vk = compile_one(solc, &rendered.vk_sol, VK_CONTRACT)?;
    // solc's deployedBytecode is the empty contract's; the deployed code is the key's words.
    vk.runtime = rendered.vk_code.clone();
    let vk_codehash = keccak256(&rendered.vk_code);
    Ok(CompiledPair { verifier, vk, vk_codehash })
}
