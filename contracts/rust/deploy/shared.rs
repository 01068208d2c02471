//! A circuit on the shared verifier, on a chain: the proof system's `Halo2Verifier` once per chain
//! at its CREATE2 address (through the deterministic deployment proxy, salt = the proof-system
//! digest, so every deployer of one proof system finds the same address), then the circuit's
//! `Halo2VerifyingKey` contract and a `ZkGuardKeyedVerifier` pinned to the key's address and code
//! hash (docs/ONCHAIN.md, "The shared verifier").
//!
//! Idempotent: when the predicted address already holds the expected runtime (keccak256 equal),
//! nothing is deployed; any other code there is an error, never silently used.

use alloy::network::TransactionBuilder;
use alloy::primitives::{address, keccak256, Address, Bytes, FixedBytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;

use super::{deploy_code, rpc, send, ContractArtifacts, DeployError};
use crate::registration::{CircuitIdentity, SharedVerifierCode};

/// The deterministic deployment proxy (Arachnid's, the same address on every chain that has it;
/// anvil predeploys it): called with `salt ‖ creation code`, it CREATE2s the contract.
pub const DETERMINISTIC_DEPLOYER: Address = address!("4e59b44847b379578588920ca78fbf26c0b4956c");

/// Where `code`'s shared verifier lives on any chain: CREATE2 by [`DETERMINISTIC_DEPLOYER`] with
/// the proof-system digest as salt.
pub fn shared_verifier_address(code: &SharedVerifierCode) -> Address {
    DETERMINISTIC_DEPLOYER.create2_from_code(code.proof_system_digest, &code.verifier_creation)
}

/// The shared verifier on the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SharedVerifierDeployment {
    /// Its address ([`shared_verifier_address`]).
    pub address: Address,
    /// Gas of its deployment; `None` when it was already deployed (nothing was sent).
    pub deploy_gas: Option<u64>,
}

async fn code_hash_at(p: &DynProvider, address: Address, what: &str) -> Result<Option<FixedBytes<32>>, DeployError> {
    let code = p.get_code_at(address).await.map_err(rpc(format!("eth_getCode({address}) of the {what}")))?;
    Ok((!code.is_empty()).then(|| keccak256(&code)))
}

fn check_hash(
    what: &'static str,
    address: Address,
    expected: FixedBytes<32>,
    actual: Option<FixedBytes<32>>,
) -> Result<(), DeployError> {
    match actual {
        Some(actual) if actual == expected => Ok(()),
        actual => Err(DeployError::CodeMismatch { what, address, expected, actual }),
    }
}

/// Deploys `code`'s shared verifier unless the chain already has it; refuses other code at its
/// address and a chain without the deterministic deployer.
pub async fn ensure_shared_verifier(
    p: &DynProvider,
    code: &SharedVerifierCode,
) -> Result<SharedVerifierDeployment, DeployError> {
    const WHAT: &str = "shared verifier";
    let address = shared_verifier_address(code);
    if let Some(actual) = code_hash_at(p, address, WHAT).await? {
        check_hash(WHAT, address, code.verifier_runtime_hash, Some(actual))?;
        return Ok(SharedVerifierDeployment { address, deploy_gas: None });
    }
    if code_hash_at(p, DETERMINISTIC_DEPLOYER, "deterministic deployer").await?.is_none() {
        return Err(DeployError::NoDeterministicDeployer { address: DETERMINISTIC_DEPLOYER });
    }
    let mut input = code.proof_system_digest.to_vec();
    input.extend_from_slice(&code.verifier_creation);
    let tx = TransactionRequest::default().with_to(DETERMINISTIC_DEPLOYER).with_input(Bytes::from(input));
    let receipt = send(p, tx, "shared verifier (CREATE2 through the deterministic deployer)").await?;
    check_hash(WHAT, address, code.verifier_runtime_hash, code_hash_at(p, address, WHAT).await?)?;
    Ok(SharedVerifierDeployment { address, deploy_gas: Some(receipt.gas_used) })
}

/// A circuit's contracts on the shared verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyedVerifier {
    /// The shared verifier.
    pub shared: SharedVerifierDeployment,
    /// The circuit's verifying-key contract.
    pub key: Address,
    /// Gas of the key's deployment.
    pub key_deploy_gas: u64,
    /// The `ZkGuardKeyedVerifier` (what the registry points at).
    pub wrapper: Address,
    /// Gas of the wrapper's deployment.
    pub wrapper_deploy_gas: u64,
}

/// The shared verifier (when missing), the circuit's key (its code hash checked) and the
/// `ZkGuardKeyedVerifier` pinned to both, for `identity`'s circuit with `proof_length`-byte proofs.
pub async fn deploy_keyed_verifier(
    p: &DynProvider,
    artifacts: &ContractArtifacts,
    code: &SharedVerifierCode,
    identity: &CircuitIdentity,
    proof_length: usize,
) -> Result<KeyedVerifier, DeployError> {
    let shared = ensure_shared_verifier(p, code).await?;
    let (key, key_deploy_gas) = deploy_code(p, code.key_creation.clone(), vec![], "verifying key").await?;
    check_hash("verifying key", key, code.key_codehash, code_hash_at(p, key, "verifying key").await?)?;
    let args = (
        shared.address,
        key,
        code.key_codehash,
        identity.digest,
        U256::from(identity.app_instances),
        U256::from(identity.proof_count),
        U256::from(identity.accumulator_limbs),
        U256::from(proof_length),
    )
        .abi_encode_params();
    let (wrapper, wrapper_deploy_gas) = deploy_code(
        p,
        artifacts.creation_code("ZkGuardKeyedVerifier.sol", "ZkGuardKeyedVerifier")?,
        args,
        "ZkGuardKeyedVerifier",
    )
    .await?;
    Ok(KeyedVerifier { shared, key, key_deploy_gas, wrapper, wrapper_deploy_gas })
}
