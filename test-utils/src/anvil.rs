//! A real anvil on a free loopback port, alloy providers with anvil's (PUBLIC, dev-only) keys,
//! and deployment of forge-built contracts from `contracts/out`.

use std::path::PathBuf;

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;

use crate::repo_root;

/// The native anvil binary (installed by `scripts/setup`), or `$ZKGUARD_ANVIL`.
pub fn anvil_path() -> PathBuf {
    zkguard_contracts::deploy::anvil::anvil_binary(&repo_root())
}

/// A running anvil on a free loopback port and providers for its first accounts.
/// Anvil's dev keys are PUBLIC: they are only ever used against this local chain.
pub struct TestCtx {
    /// The anvil process (killed on drop).
    pub anvil: AnvilInstance,
    /// Provider signing as account 0 (the deployer / owner).
    pub owner: DynProvider,
    /// Provider signing as account 1 (an unauthorised caller).
    pub stranger: DynProvider,
}

impl TestCtx {
    /// Starts anvil and connects.
    pub fn start() -> anyhow::Result<Self> {
        let anvil = zkguard_contracts::deploy::anvil::spawn(&anvil_path())?;
        let provider_for = |index: usize| -> DynProvider {
            let signer: PrivateKeySigner = anvil.keys()[index].clone().into();
            ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(anvil.endpoint_url()).erased()
        };
        let (owner, stranger) = (provider_for(0), provider_for(1));
        Ok(Self { anvil, owner, stranger })
    }

    /// Address of account `index`.
    pub fn address(&self, index: usize) -> Address {
        self.anvil.addresses()[index]
    }

    /// Deploys `contracts/out/<file>/<name>.json` with ABI-encoded constructor arguments.
    pub async fn deploy(&self, file: &str, name: &str, constructor_args: Vec<u8>) -> anyhow::Result<Address> {
        let code = artifact_bytecode(file, name)?;
        Ok(zkguard_contracts::deploy::deploy_code(&self.owner, code, constructor_args, name).await?.0)
    }
}

/// Creation bytecode of a forge artifact.
pub fn artifact_bytecode(file: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(zkguard_contracts::deploy::ContractArtifacts::new(repo_root().join("contracts/out"))
        .creation_code(file, name)?)
}
