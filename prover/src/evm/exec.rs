//! In-process EVM execution with revm: deploy a generated verifier and call it, returning gas,
//! the way `snark_verifier_sdk::evm::evm_verify` does, but with every failure (a revert, a halt,
//! a creation over the EIP-170 / EIP-3860 limits, an invalid transaction) as a typed error or
//! outcome instead of a panic.
//!
//! The EVM is revm's mainnet configuration at its default hardfork (Prague for revm 27), with an
//! empty in-memory state, a zero gas price and no block gas limit. Gas figures are whole-transaction
//! gas (21,000 intrinsic + calldata + execution); [`calldata_gas`] gives the calldata share.

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::{Address, Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// Gas limit of every transaction (a verifier call costs well under 1M).
pub const TX_GAS_LIMIT: u64 = 30_000_000;
/// Intrinsic gas of a transaction.
pub const TX_BASE_GAS: u64 = 21_000;

/// Why a deployment or call could not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecError {
    /// revm refused the transaction (e.g. init code over EIP-3860's limit).
    #[error("the EVM refused the {what} transaction: {reason}")]
    Invalid {
        /// "deployment" or "call".
        what: &'static str,
        /// revm's error.
        reason: String,
    },
    /// The deployment reverted.
    #[error("the deployment reverted (gas used {gas_used}, output 0x{output})")]
    DeployReverted {
        /// Gas used.
        gas_used: u64,
        /// Revert data, hex.
        output: String,
    },
    /// The deployment halted (e.g. `CreateContractSizeLimit`: runtime over EIP-170's limit).
    #[error("the deployment halted: {reason} (gas used {gas_used})")]
    DeployHalted {
        /// revm's halt reason.
        reason: String,
        /// Gas used.
        gas_used: u64,
    },
    /// The deployment succeeded without creating a contract (never expected).
    #[error("the deployment created no contract")]
    NoContract,
}

/// The outcome of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// The call returned.
    Success {
        /// Transaction gas used.
        gas_used: u64,
        /// Return data.
        output: Vec<u8>,
    },
    /// The call reverted.
    Reverted {
        /// Transaction gas used.
        gas_used: u64,
        /// Revert data.
        output: Vec<u8>,
    },
    /// The call halted (out of gas, invalid opcode, ...).
    Halted {
        /// Transaction gas used.
        gas_used: u64,
        /// revm's halt reason.
        reason: String,
    },
}

impl CallOutcome {
    /// Whether the call returned without reverting.
    pub fn is_success(&self) -> bool {
        matches!(self, CallOutcome::Success { .. })
    }

    /// Transaction gas used.
    pub fn gas_used(&self) -> u64 {
        match self {
            CallOutcome::Success { gas_used, .. }
            | CallOutcome::Reverted { gas_used, .. }
            | CallOutcome::Halted { gas_used, .. } => *gas_used,
        }
    }
}

/// A deployed contract and its deployment cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Its address.
    pub address: Address,
    /// Gas of the deployment transaction.
    pub gas_used: u64,
    /// Size of the deployed runtime code.
    pub runtime_size: usize,
}

/// Deploys `creation_code`, then makes one call per entry of `calls` against the deployed
/// contract (each call sees the state right after deployment).
pub fn deploy_and_call_each(
    creation_code: &[u8],
    calls: &[Vec<u8>],
) -> Result<(Deployment, Vec<CallOutcome>), ExecError> {
    let mut evm = Context::mainnet().with_db(InMemoryDB::default()).build_mainnet();
    let deploy = TxEnv {
        gas_limit: TX_GAS_LIMIT,
        kind: TxKind::Create,
        data: Bytes::copy_from_slice(creation_code),
        nonce: 0,
        ..Default::default()
    };
    let result =
        evm.transact_commit(deploy).map_err(|e| ExecError::Invalid { what: "deployment", reason: format!("{e:?}") })?;
    let (address, gas_used, runtime_size) = match result {
        // For a creation, the output is the deployed runtime code.
        ExecutionResult::Success { output: Output::Create(code, Some(address)), gas_used, .. } => {
            (address, gas_used, code.len())
        }
        ExecutionResult::Success { .. } => return Err(ExecError::NoContract),
        ExecutionResult::Revert { gas_used, output } => {
            return Err(ExecError::DeployReverted { gas_used, output: hex::encode(output) })
        }
        ExecutionResult::Halt { reason, gas_used } => {
            return Err(ExecError::DeployHalted { reason: format!("{reason:?}"), gas_used })
        }
    };
    let mut outcomes = Vec::with_capacity(calls.len());
    for calldata in calls {
        let tx = TxEnv {
            gas_limit: TX_GAS_LIMIT,
            kind: TxKind::Call(address),
            data: Bytes::copy_from_slice(calldata),
            nonce: 1,
            ..Default::default()
        };
        // `transact` does not commit: every call runs against the post-deployment state.
        let result = evm.transact(tx).map_err(|e| ExecError::Invalid { what: "call", reason: format!("{e:?}") })?;
        outcomes.push(match result.result {
            ExecutionResult::Success { gas_used, output, .. } => {
                CallOutcome::Success { gas_used, output: output.into_data().to_vec() }
            }
            ExecutionResult::Revert { gas_used, output } => CallOutcome::Reverted { gas_used, output: output.to_vec() },
            ExecutionResult::Halt { reason, gas_used } => {
                CallOutcome::Halted { gas_used, reason: format!("{reason:?}") }
            }
        });
    }
    Ok((Deployment { address, gas_used, runtime_size }, outcomes))
}

/// Deploys a verifier and makes one call; the outcome says whether it accepted.
pub fn deploy_and_call(creation_code: &[u8], calldata: &[u8]) -> Result<(Deployment, CallOutcome), ExecError> {
    let (deployment, mut outcomes) = deploy_and_call_each(creation_code, &[calldata.to_vec()])?;
    let outcome = outcomes.pop().ok_or(ExecError::NoContract)?;
    Ok((deployment, outcome))
}

/// Gas of an accepted proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GasReport {
    /// Whole-transaction gas of the verifier call (revm, default hardfork).
    pub tx_gas: u64,
    /// Of which calldata (EIP-2028 pricing).
    pub calldata_gas: u64,
    /// Calldata bytes.
    pub calldata_bytes: usize,
    /// Runtime bytecode size of the verifier.
    pub runtime_size: usize,
    /// Gas of the deployment transaction.
    pub deploy_gas: u64,
}

/// Why [`evm_verify`] did not accept a proof.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvmVerifyError {
    /// The verifier could not be deployed or called.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The verifier rejected the calldata.
    #[error("the verifier rejected the proof: {0:?}")]
    Rejected(CallOutcome),
}

/// Deploys the verifier `creation_code` in revm and calls it with `calldata`
/// (`instances ‖ proof`, see [`super::calldata::encode_calldata`]); `Ok` with the gas when it
/// accepts. Mirrors `snark_verifier_sdk::evm::evm_verify` without its panics.
pub fn evm_verify(creation_code: &[u8], calldata: &[u8]) -> Result<GasReport, EvmVerifyError> {
    let (deployment, outcome) = deploy_and_call(creation_code, calldata)?;
    match outcome {
        CallOutcome::Success { gas_used, .. } => Ok(GasReport {
            tx_gas: gas_used,
            calldata_gas: calldata_gas(calldata),
            calldata_bytes: calldata.len(),
            runtime_size: deployment.runtime_size,
            deploy_gas: deployment.gas_used,
        }),
        other => Err(EvmVerifyError::Rejected(other)),
    }
}

/// Calldata gas (EIP-2028): 4 per zero byte, 16 per non-zero byte, without the 21,000 base.
pub fn calldata_gas(calldata: &[u8]) -> u64 {
    calldata.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    // PUSH1 0 PUSH1 0 RETURN: returns empty. As runtime, wrapped in init code that copies it.
    fn returning_contract(runtime: &[u8]) -> Vec<u8> {
        let len = runtime.len() as u8;
        // PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN, then the runtime.
        let mut init = vec![0x60, len, 0x60, 12, 0x60, 0, 0x39, 0x60, len, 0x60, 0, 0xf3];
        init.extend_from_slice(runtime);
        init
    }

    #[test]
    fn deploys_and_calls() {
        let ok = returning_contract(&[0x60, 0, 0x60, 0, 0xf3]);
        let (d, outcome) = deploy_and_call(&ok, &[1, 2, 3]).unwrap();
        assert_eq!(d.runtime_size, 5);
        assert!(outcome.is_success(), "{outcome:?}");
        assert!(outcome.gas_used() > TX_BASE_GAS);
        let revert = returning_contract(&[0x60, 0, 0x60, 0, 0xfd]);
        let (_, outcome) = deploy_and_call(&revert, &[]).unwrap();
        assert!(matches!(outcome, CallOutcome::Reverted { .. }), "{outcome:?}");
    }

    #[test]
    fn oversized_code_is_an_error_not_a_panic() {
        // Init code over EIP-3860's limit: the transaction is invalid.
        let huge = vec![0u8; 49_153];
        assert!(matches!(deploy_and_call(&huge, &[]), Err(ExecError::Invalid { .. })));
        // Runtime over EIP-170's limit: PUSH2 0x6001 PUSH1 0 RETURN returns 24,577 zero bytes.
        let big_runtime = vec![0x61, 0x60, 0x01, 0x60, 0x00, 0xf3];
        let err = deploy_and_call(&big_runtime, &[]).unwrap_err();
        assert!(
            matches!(&err, ExecError::DeployHalted { reason, .. } if reason.contains("CreateContractSizeLimit")),
            "{err:?}"
        );
    }

    #[test]
    fn calldata_gas_counts_zero_and_nonzero_bytes() {
        assert_eq!(calldata_gas(&[0, 1, 0, 255]), 4 + 16 + 4 + 16);
    }
}
