//! A local EVM (revm, default hardfork: Prague for revm 27) holding several contracts, for the
//! verifier + key pair: deploy both, then make calls that see the deployed state. The outcome
//! types are [`crate::evm::exec`]'s ([`CallOutcome`], [`ExecError`]).

use crate::evm::exec::TX_GAS_LIMIT;
use crate::evm::{CallOutcome, ExecError};
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::{Address, Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};

/// A deployed contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployed {
    /// Its address.
    pub address: Address,
    /// Gas of the deployment transaction.
    pub gas_used: u64,
    /// Its runtime code.
    pub runtime: Vec<u8>,
}

/// An in-memory chain with one sender.
pub struct LocalEvm {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl std::fmt::Debug for LocalEvm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEvm").field("nonce", &self.nonce).finish_non_exhaustive()
    }
}

impl Default for LocalEvm {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalEvm {
    /// An empty chain.
    pub fn new() -> Self {
        Self { evm: Context::mainnet().with_db(InMemoryDB::default()).build_mainnet(), nonce: 0 }
    }

    /// Deploys `creation_code` (committed).
    pub fn deploy(&mut self, creation_code: &[u8]) -> Result<Deployed, ExecError> {
        let tx = TxEnv {
            gas_limit: TX_GAS_LIMIT,
            kind: TxKind::Create,
            data: Bytes::copy_from_slice(creation_code),
            nonce: self.nonce,
            ..Default::default()
        };
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| ExecError::Invalid { what: "deployment", reason: format!("{e:?}") })?;
        self.nonce += 1;
        match result {
            ExecutionResult::Success { output: Output::Create(code, Some(address)), gas_used, .. } => {
                Ok(Deployed { address, gas_used, runtime: code.to_vec() })
            }
            ExecutionResult::Success { .. } => Err(ExecError::NoContract),
            ExecutionResult::Revert { gas_used, output } => {
                Err(ExecError::DeployReverted { gas_used, output: hex::encode(output) })
            }
            ExecutionResult::Halt { reason, gas_used } => {
                Err(ExecError::DeployHalted { reason: format!("{reason:?}"), gas_used })
            }
        }
    }

    /// Calls `to` with `data` without committing (every call sees the same state).
    pub fn call(&mut self, to: Address, data: &[u8]) -> Result<CallOutcome, ExecError> {
        let tx = TxEnv {
            gas_limit: TX_GAS_LIMIT,
            kind: TxKind::Call(to),
            data: Bytes::copy_from_slice(data),
            nonce: self.nonce,
            ..Default::default()
        };
        let result =
            self.evm.transact(tx).map_err(|e| ExecError::Invalid { what: "call", reason: format!("{e:?}") })?;
        Ok(match result.result {
            ExecutionResult::Success { gas_used, output, .. } => {
                CallOutcome::Success { gas_used, output: output.into_data().to_vec() }
            }
            ExecutionResult::Revert { gas_used, output } => CallOutcome::Reverted { gas_used, output: output.to_vec() },
            ExecutionResult::Halt { reason, gas_used } => {
                CallOutcome::Halted { gas_used, reason: format!("{reason:?}") }
            }
        })
    }
}
