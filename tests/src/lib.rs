//! Test harness for zkguard's end-to-end tests: a real anvil, an alloy provider with anvil's
//! (public, dev-only) keys, and deployment of forge-built contracts from `contracts/out`.

use std::path::{Path, PathBuf};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The native anvil binary (installed by `scripts/setup`), or `$ZKGUARD_ANVIL`.
pub fn anvil_path() -> PathBuf {
    std::env::var_os("ZKGUARD_ANVIL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"))
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
        let path = anvil_path();
        if !path.exists() {
            bail!("anvil not found at {} (run `bash scripts/setup`)", path.display());
        }
        let anvil = Anvil::new().path(path).try_spawn().context("starting anvil")?;
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
        let mut code = artifact_bytecode(file, name)?;
        code.extend(constructor_args);
        let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
        let receipt = self.owner.send_transaction(tx).await?.get_receipt().await?;
        anyhow::ensure!(receipt.status(), "deployment of {name} reverted");
        receipt.contract_address.context("no contract address in the receipt")
    }
}

/// Creation bytecode of a forge artifact.
pub fn artifact_bytecode(file: &str, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = repo_root().join("contracts/out").join(file).join(format!("{name}.json"));
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("{} missing: run `forge build` first", path.display()))?,
    )?;
    let hex = json["bytecode"]["object"].as_str().context("artifact has no bytecode.object")?;
    Ok(alloy::hex::decode(hex)?)
}
