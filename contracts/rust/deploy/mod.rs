//! Putting zkguard on a chain: deploy the contracts (registry, Guard, circuit breaker, verdict
//! filter, the example vault and token), deploy a model's verifier (a generated one behind
//! `ZkGuardVerifier`, or the shared one and the model's key behind `ZkGuardKeyedVerifier`),
//! register the model with its policy and input policy, and point the breaker at the contract it
//! protects. Used by `zkguard deploy`, `zkguard demo` and the tests.
//!
//! - [`artifacts`]: creation code from forge's `contracts/out`;
//! - [`shared`]: the shared verifier through CREATE2, a key and its keyed wrapper;
//! - [`anvil`]: a local anvil for demos and tests (its dev keys are PUBLIC).

pub mod anvil;
pub mod artifacts;
pub mod shared;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, FixedBytes, I256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolValue;
use serde::Serialize;

pub use artifacts::ContractArtifacts;

use crate::abi::TargetKind;
use crate::registration::{Action, ModelRegistration, VerifierCode};
use crate::rpc::{CircuitBreaker, ModelRegistry};

/// Why a deployment step failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A forge artifact is missing or unreadable.
    #[error("contract artifact {path}: {message} (run `forge build`)")]
    Artifact {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A registration that cannot be expressed on chain.
    #[error("model {model_id}: {message}")]
    InvalidRegistration {
        /// The model.
        model_id: U256,
        /// What is wrong.
        message: String,
    },
    /// The node refused or failed a call.
    #[error("{what}: {source}")]
    Rpc {
        /// The step.
        what: String,
        /// The error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The anvil binary is missing or would not start.
    #[error("anvil {binary}: {message}")]
    Anvil {
        /// The binary.
        binary: String,
        /// What is wrong.
        message: String,
        /// The error, when it would not start.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A transaction was mined but reverted.
    #[error("{0}: the transaction reverted")]
    Reverted(String),
    /// The chain has no deterministic deployment proxy, through which the shared verifier is
    /// deployed (CREATE2, one address per proof system).
    #[error(
        "no contract at the deterministic deployment proxy {address}: the shared verifier is deployed through it \
         (CREATE2). Deploy the proxy first (its presigned transaction: \
         https://github.com/Arachnid/deterministic-deployment-proxy; anvil has it), or use `--verifier unrolled`"
    )]
    NoDeterministicDeployer {
        /// The proxy's address.
        address: Address,
    },
    /// An address holds other code than the contract it must hold (or none).
    #[error("{what} at {address}: code hash {}, expected {expected}", actual.map_or("none (no code)".to_string(), |h| h.to_string()))]
    CodeMismatch {
        /// Which contract.
        what: &'static str,
        /// Where.
        address: Address,
        /// keccak256 of the expected runtime code.
        expected: FixedBytes<32>,
        /// keccak256 of the code found (`None`: no code).
        actual: Option<FixedBytes<32>>,
    },
}

fn rpc<E: std::error::Error + Send + Sync + 'static>(what: impl Into<String>) -> impl FnOnce(E) -> DeployError {
    let what = what.into();
    move |e| DeployError::Rpc { what, source: Box::new(e) }
}

/// The deployed contracts.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    /// ModelRegistry.
    pub registry: Address,
    /// Guard.
    pub guard: Address,
    /// CircuitBreaker.
    pub breaker: Address,
    /// VerdictFilter.
    pub filter: Address,
    /// ProtectedVault (example, paused by the breaker).
    pub vault: Address,
    /// FilteredToken (example, consults the filter).
    pub token: Address,
}

/// Addresses of a registered model's verifier and what deploying them cost.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredModel {
    /// `unrolled` (a verifier of this circuit alone) or `shared` (the proof system's verifier and
    /// this circuit's key).
    pub verifier_kind: &'static str,
    /// The raw verifier: the generated one, or the shared one.
    pub raw_verifier: Address,
    /// Gas of the raw verifier's deployment by this registration (0: the shared verifier was
    /// already on the chain).
    pub verifier_deploy_gas: u64,
    /// Whether the shared verifier was already on the chain (always false for an unrolled one).
    pub raw_verifier_reused: bool,
    /// The circuit's verifying-key contract (shared verifier only).
    pub verifying_key: Option<Address>,
    /// Gas of the key's deployment (0 without one).
    pub key_deploy_gas: u64,
    /// The wrapper (`ZkGuardVerifier` or `ZkGuardKeyedVerifier`): what the registry points at.
    pub verifier: Address,
    /// Gas of the wrapper's deployment.
    pub wrapper_deploy_gas: u64,
}

impl RegisteredModel {
    /// What this model alone costs to deploy: the key and the wrapper on the shared verifier
    /// (whose deployment is paid once per proof system), the verifier and the wrapper otherwise.
    pub fn model_deploy_gas(&self) -> u64 {
        let own_verifier = if self.verifying_key.is_some() { 0 } else { self.verifier_deploy_gas };
        own_verifier + self.key_deploy_gas + self.wrapper_deploy_gas
    }
}

/// Sends `tx` and waits for its receipt; `what` names the step in errors.
async fn send(
    p: &DynProvider,
    tx: TransactionRequest,
    what: &str,
) -> Result<alloy::rpc::types::TransactionReceipt, DeployError> {
    let receipt = p.send_transaction(tx).await.map_err(rpc(what))?.get_receipt().await.map_err(rpc(what))?;
    if !receipt.status() {
        return Err(DeployError::Reverted(what.to_string()));
    }
    Ok(receipt)
}

/// Deploys `code ++ args`; returns the address and the gas used.
pub async fn deploy_code(
    p: &DynProvider,
    mut code: Vec<u8>,
    args: Vec<u8>,
    what: &str,
) -> Result<(Address, u64), DeployError> {
    code.extend(args);
    let receipt = send(p, TransactionRequest::default().with_deploy_code(Bytes::from(code)), what).await?;
    let address = receipt
        .contract_address
        .ok_or_else(|| DeployError::Rpc { what: what.into(), source: "no contract address in the receipt".into() })?;
    Ok((address, receipt.gas_used))
}

/// Deploys the registry, Guard, breaker, filter, vault and token, owned by `owner`.
pub async fn deploy_stack(
    p: &DynProvider,
    owner: Address,
    artifacts: &ContractArtifacts,
    verdict_ttl_s: u64,
    token_supply: U256,
) -> Result<Stack, DeployError> {
    let code = |file: &str, name: &str| artifacts.creation_code(file, name);
    let (registry, _) =
        deploy_code(p, code("ModelRegistry.sol", "ModelRegistry")?, owner.abi_encode(), "ModelRegistry").await?;
    let (guard, _) = deploy_code(p, code("Guard.sol", "Guard")?, registry.abi_encode(), "Guard").await?;
    let (breaker, _) = deploy_code(
        p,
        code("CircuitBreaker.sol", "CircuitBreaker")?,
        (guard, owner).abi_encode_params(),
        "CircuitBreaker",
    )
    .await?;
    let (filter, _) = deploy_code(
        p,
        code("VerdictFilter.sol", "VerdictFilter")?,
        (guard, owner, verdict_ttl_s).abi_encode_params(),
        "VerdictFilter",
    )
    .await?;
    let (vault, _) = deploy_code(
        p,
        code("ProtectedVault.sol", "ProtectedVault")?,
        (owner, breaker).abi_encode_params(),
        "ProtectedVault",
    )
    .await?;
    let (token, _) = deploy_code(
        p,
        code("FilteredToken.sol", "FilteredToken")?,
        (filter, owner, token_supply).abi_encode_params(),
        "FilteredToken",
    )
    .await?;
    Ok(Stack { registry, guard, breaker, filter, vault, token })
}

/// Deploys the model's verifier and wrapper ([`VerifierCode`]: a generated verifier behind
/// `ZkGuardVerifier`, or the shared verifier (once per chain and proof system) and the model's
/// key behind `ZkGuardKeyedVerifier`), registers the model with its policy, and (breaker action)
/// points the breaker at the vault.
pub async fn register_model(
    p: &DynProvider,
    stack: &Stack,
    artifacts: &ContractArtifacts,
    reg: &ModelRegistration,
) -> Result<RegisteredModel, DeployError> {
    let id = &reg.identity;
    let registered = match &reg.verifier {
        VerifierCode::Unrolled { creation } => {
            let (raw, verifier_deploy_gas) = deploy_code(p, creation.clone(), vec![], "generated verifier").await?;
            let wrapper_args = (
                raw,
                id.digest,
                U256::from(id.app_instances),
                U256::from(id.proof_count),
                U256::from(id.accumulator_limbs),
                U256::from(reg.proof_length),
            )
                .abi_encode_params();
            let (verifier, wrapper_deploy_gas) = deploy_code(
                p,
                artifacts.creation_code("ZkGuardVerifier.sol", "ZkGuardVerifier")?,
                wrapper_args,
                "ZkGuardVerifier",
            )
            .await?;
            RegisteredModel {
                verifier_kind: reg.verifier.kind(),
                raw_verifier: raw,
                verifier_deploy_gas,
                raw_verifier_reused: false,
                verifying_key: None,
                key_deploy_gas: 0,
                verifier,
                wrapper_deploy_gas,
            }
        }
        VerifierCode::Shared(code) => {
            let keyed = shared::deploy_keyed_verifier(p, artifacts, code, id, reg.proof_length).await?;
            RegisteredModel {
                verifier_kind: reg.verifier.kind(),
                raw_verifier: keyed.shared.address,
                verifier_deploy_gas: keyed.shared.deploy_gas.unwrap_or(0),
                raw_verifier_reused: keyed.shared.deploy_gas.is_none(),
                verifying_key: Some(keyed.key),
                key_deploy_gas: keyed.key_deploy_gas,
                verifier: keyed.wrapper,
                wrapper_deploy_gas: keyed.wrapper_deploy_gas,
            }
        }
    };
    let verifier = registered.verifier;
    let action = match reg.policy.action {
        Action::Breaker => stack.breaker,
        Action::Filter => stack.filter,
        Action::None => Address::ZERO,
    };
    let config = ModelRegistry::ModelConfig {
        modelCommitment: id.commitment,
        circuitDigest: id.digest,
        verifier,
        batchSize: reg.batch_size,
        scoreBits: id.score_bits,
        scoreScaleBits: reg.score_scale_bits,
    };
    let policy = ModelRegistry::Policy {
        action,
        maxAge: reg.policy.max_age,
        minFlagged: reg.policy.min_flagged,
        useScoreThreshold: reg.policy.score_threshold.is_some(),
        scoreThreshold: reg.policy.score_threshold.unwrap_or(I256::ZERO),
    };
    let (mode, threshold, members) = reg.inputs.to_abi();
    let inputs = ModelRegistry::InputPolicy { mode, threshold, members };
    let what = format!("registerModel({})", reg.model_id);
    let tx = ModelRegistry::new(stack.registry, p)
        .registerModel(reg.model_id, config, policy, inputs)
        .into_transaction_request();
    send(p, tx, &what).await?;
    if reg.policy.action == Action::Breaker {
        let breaker = CircuitBreaker::new(stack.breaker, p);
        let tx =
            breaker.setTarget(reg.model_id, stack.vault, TargetKind::PausableRole as u8).into_transaction_request();
        send(p, tx, &format!("breaker.setTarget({})", reg.model_id)).await?;
        if let Some((seconds, flagged)) = reg.policy.window {
            let tx = breaker.setWindow(reg.model_id, seconds, flagged).into_transaction_request();
            send(p, tx, &format!("breaker.setWindow({})", reg.model_id)).await?;
        }
    }
    Ok(registered)
}
