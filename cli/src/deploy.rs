//! `zkguard deploy`: the contracts (registry, Guard, circuit breaker, verdict filter, example
//! vault and token) on an RPC endpoint and, with `--model`, the model's generated verifier, its
//! wrapper and its registration with a policy. Writes the addresses as JSON.

use std::path::PathBuf;

use alloy::network::EthereumWallet;
use alloy::primitives::{I256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkguard_prover::cli::common::{CacheArgs, SrsArgs};
use zkguard_prover::deployable::{prepare, DeployableRequest};
use zkguard_relayer::deploy::{
    deploy_stack, register_model, Action, ContractArtifacts, ModelRegistration, PolicyArgs, RegisteredModel, Stack,
};

/// Arguments of `zkguard deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// JSON-RPC endpoint.
    #[arg(long, env = "ZKGUARD_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// Environment variable holding the deployer's private key (hex; never logged).
    #[arg(long, default_value = "ZKGUARD_DEPLOYER_KEY")]
    pub key_env: String,
    /// Forge's build output (run `forge build` first).
    #[arg(long, value_name = "DIR", default_value = "contracts/out")]
    pub contracts_out: PathBuf,
    /// How long a verdict filter flag lasts (s).
    #[arg(long, default_value_t = 86_400)]
    pub verdict_ttl: u64,
    /// FilteredToken supply minted to the deployer (whole tokens, 18 decimals).
    #[arg(long, default_value_t = 1_000_000)]
    pub token_supply: u64,
    /// Where the addresses are written (JSON; relative to the current directory).
    #[arg(long, value_name = "FILE", default_value = ".zkguard/deployment.json")]
    pub out: PathBuf,
    /// Also deploy this model's verifier and register the model: a float model file (needs
    /// --calibration) or a quantized one (from `zkguard model import`).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// CSV of sample rows to choose the fixed-point scale from (float models only).
    #[arg(long, value_name = "CSV", requires = "model")]
    pub calibration: Option<PathBuf>,
    /// How the model is registered (used with --model).
    #[command(flatten)]
    pub registration: ModelRegistrationArgs,
}

/// How a model is registered (with `--model`).
#[derive(Debug, Args)]
pub struct ModelRegistrationArgs {
    /// Samples per app proof (B); must match what the relayer proves.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Batch mode: register the aggregation verifier of N app proofs (absent: direct mode).
    #[arg(long, value_name = "N")]
    pub aggregate: Option<usize>,
    /// Registry model id.
    #[arg(long, default_value_t = 1)]
    pub model_id: u64,
    /// What acts on verified outputs.
    #[arg(long, value_enum, default_value_t = Action::Breaker)]
    pub action: Action,
    /// Flagged samples in one batch for the action to fire (0 disables the rule).
    #[arg(long, default_value_t = 1)]
    pub min_flagged: u32,
    /// Oldest proof the Guard accepts (s).
    #[arg(long, default_value_t = 3_600)]
    pub max_age: u32,
    /// Also fire when the highest score reaches this fixed-point value.
    #[arg(long, allow_hyphen_values = true)]
    pub score_threshold: Option<i128>,
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Key cache.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The solc-compatible compiler.
    #[arg(long, value_name = "PATH", env = "ZKGUARD_SOLC", default_value = "scripts/solc")]
    pub solc: PathBuf,
    /// Where the generated Solidity is written when it is generated (relative to the current
    /// directory; never the repository's committed contracts/src/generated unless given).
    #[arg(long, value_name = "DIR", default_value = zkguard_prover::evm::cli_args::DEFAULT_GENERATED_DIR)]
    pub generated_dir: PathBuf,
}

/// What `zkguard deploy` wrote.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentFile {
    chain_id: u64,
    deployer: String,
    #[serde(flatten)]
    stack: Stack,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<ModelEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelEntry {
    model_id: u64,
    mode: String,
    circuit_digest: String,
    model_commitment: String,
    #[serde(flatten)]
    addresses: RegisteredModel,
}

/// Runs `zkguard deploy`.
pub fn run(args: DeployArgs) -> anyhow::Result<()> {
    let key = std::env::var(&args.key_env)
        .with_context(|| format!("set {} to the deployer's hex private key", args.key_env))?;
    let signer: PrivateKeySigner =
        key.trim().parse().map_err(|_| anyhow::anyhow!("{} does not hold a valid hex private key", args.key_env))?;
    let m = &args.registration;
    let circuit = match &args.model {
        None => None,
        Some(path) => {
            let model = zkguard_prover::load::load_quantized(path, args.calibration.as_deref())?;
            let srs = m.srs.source()?;
            let circuit = prepare(&DeployableRequest {
                model,
                batch_size: m.batch_size,
                aggregate: m.aggregate,
                max_columns: zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS,
                srs,
                cache_dir: m.cache.cache_dir.clone(),
                solc: zkguard_prover::evm::cli_args::resolve_solc(&m.solc)?,
                generated_dir: Some(m.generated_dir.clone()),
                command: std::env::args().collect::<Vec<_>>().join(" "),
            })?;
            Some(circuit)
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let deployer = signer.address();
        let url = args.rpc_url.parse().with_context(|| format!("--rpc-url {:?} is not a URL", args.rpc_url))?;
        let provider = ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased();
        let chain_id = provider.get_chain_id().await.with_context(|| format!("no chain at {}", args.rpc_url))?;
        let artifacts = ContractArtifacts::new(&args.contracts_out);
        let supply = U256::from(args.token_supply) * U256::from(10u64).pow(U256::from(18u64));
        let stack = deploy_stack(&provider, deployer, &artifacts, args.verdict_ttl, supply).await?;
        println!("deployed on chain {chain_id}: {}", serde_json::to_string_pretty(&stack)?);
        let model = match circuit {
            Some(circuit) => {
                let policy = PolicyArgs {
                    action: m.action,
                    max_age: m.max_age,
                    min_flagged: m.min_flagged,
                    score_threshold: m.score_threshold.map(I256::try_from).transpose()?,
                };
                let reg = ModelRegistration::of(U256::from(m.model_id), &circuit, policy)?;
                let addresses = register_model(&provider, &stack, &artifacts, &reg).await?;
                println!(
                    "model {} registered ({}), verifier {} (wrapper {})",
                    m.model_id,
                    circuit.mode(),
                    addresses.raw_verifier,
                    addresses.verifier
                );
                Some(ModelEntry {
                    model_id: m.model_id,
                    mode: circuit.mode(),
                    circuit_digest: circuit.digest.to_string(),
                    model_commitment: format!("0x{:064x}", circuit.commitment),
                    addresses,
                })
            }
            None => None,
        };
        let file = DeploymentFile { chain_id, deployer: deployer.to_string(), stack, model };
        if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&args.out, serde_json::to_string_pretty(&file)? + "\n")
            .with_context(|| format!("writing {}", args.out.display()))?;
        println!("addresses written to {}", args.out.display());
        Ok(())
    })
}
