//! `zkguard deploy`: the contracts (registry, Guard, circuit breaker, verdict filter, example
//! vault and token) on an RPC endpoint and, with `--model`, the model's verifier (`--verifier
//! shared`, direct mode's default: the proof system's shared verifier once per chain through
//! CREATE2, then the model's key; `unrolled`: a verifier generated for the circuit), its wrapper
//! and its registration with a policy and an input policy (who vouches for the data:
//! attesters, allowlisted submitters, or nobody). Writes the addresses as JSON.

use std::path::PathBuf;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, I256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkguard_contracts::deploy::{deploy_stack, register_model, ContractArtifacts, RegisteredModel, Stack};
use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs};
use zkguard_prover::circuit::Visibility;
use zkguard_prover::cli::common::{CacheArgs, SrsArgs};
use zkguard_prover::cli::solidity::SolidityArgs;
use zkguard_prover::pipeline::deploy::{prepare, DeployableRequest, VerifierKind};

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
    /// Which verifier: `shared` (the default, in both modes: the proof system's verifier, deployed
    /// once per chain at its CREATE2 address, and this model's key contract; in batch mode the
    /// aggregation circuits' shared verifier and the aggregation circuit's key) or `unrolled` (a
    /// verifier generated for this circuit alone).
    #[arg(long, value_enum)]
    pub verifier: Option<VerifierKind>,
    /// How the circuit holds the model: `committed` (one circuit per shape) or `fixed` (the
    /// verifying key pins this model; the relayer's model config must say `visibility = "fixed"`).
    #[arg(long, value_enum, default_value_t = Visibility::Committed)]
    pub visibility: Visibility,
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
    /// Breaker only: also fire when --window-flagged flagged samples arrive within this many
    /// seconds, over any number of submissions.
    #[arg(long, value_name = "SECONDS", requires = "window_flagged")]
    pub window_seconds: Option<u32>,
    /// Flagged samples within --window-seconds that fire the breaker.
    #[arg(long, value_name = "N", requires = "window_seconds")]
    pub window_flagged: Option<u32>,
    /// Who vouches for the inputs behind each submission.
    #[command(flatten)]
    pub inputs: InputPolicyOpts,
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Key cache.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// The compiler, and where the generated Solidity is written when it is generated.
    #[command(flatten)]
    pub solidity: SolidityArgs,
}

/// Who vouches for a model's inputs.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input policy")]
pub struct InputPolicyOpts {
    /// `attested`: each submission needs --threshold signatures of the --attester accounts (the
    /// data providers); `submitters`: only the --submitter accounts may submit (trusted for the
    /// data); `open`: anyone (refused for a breaker: anyone could pause the vault).
    #[arg(long, value_enum, default_value_t = InputPolicyKind::Attested)]
    pub input_policy: InputPolicyKind,
    /// An attester (repeat for several); its signatures vouch for the inputs.
    #[arg(long = "attester", value_name = "ADDRESS")]
    pub attesters: Vec<Address>,
    /// Distinct attester signatures each submission needs.
    #[arg(long, default_value_t = 1)]
    pub threshold: u8,
    /// An allowed submitter (repeat for several) for `--input-policy submitters`.
    #[arg(long = "submitter", value_name = "ADDRESS")]
    pub submitters: Vec<Address>,
}

/// The input policy modes on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputPolicyKind {
    /// Threshold signatures of registered attesters.
    Attested,
    /// Allowlisted submitters.
    Submitters,
    /// Anyone (never for a model that can pause).
    Open,
}

impl InputPolicyOpts {
    /// The input policy, or what is wrong with the flags (checked before any work).
    pub fn policy(&self, action: Action) -> anyhow::Result<InputPolicyArgs> {
        let (attesters, submitters) = (&self.attesters, &self.submitters);
        match self.input_policy {
            InputPolicyKind::Attested => {
                anyhow::ensure!(
                    !attesters.is_empty(),
                    "--input-policy attested needs at least one --attester ADDRESS (the data provider's account)"
                );
                anyhow::ensure!(submitters.is_empty(), "--submitter is for --input-policy submitters");
                let n = attesters.len();
                anyhow::ensure!(
                    self.threshold >= 1 && usize::from(self.threshold) <= n,
                    "--threshold {} must be between 1 and the {n} attester(s) given",
                    self.threshold
                );
                Ok(InputPolicyArgs::Attested { threshold: self.threshold, attesters: attesters.clone() })
            }
            InputPolicyKind::Submitters => {
                anyhow::ensure!(
                    !submitters.is_empty(),
                    "--input-policy submitters needs at least one --submitter ADDRESS"
                );
                anyhow::ensure!(attesters.is_empty(), "--attester is for --input-policy attested");
                Ok(InputPolicyArgs::Submitters { submitters: submitters.clone() })
            }
            InputPolicyKind::Open => {
                anyhow::ensure!(
                    attesters.is_empty() && submitters.is_empty(),
                    "--input-policy open takes no --attester or --submitter"
                );
                anyhow::ensure!(
                    action != Action::Breaker,
                    "--input-policy open is refused for --action breaker: anyone could pause the vault with invented \
                     rows (use attested or submitters)"
                );
                Ok(InputPolicyArgs::Open)
            }
        }
    }
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
    // Checked before any work, when a model is registered.
    let inputs = args.model.as_ref().map(|_| m.inputs.policy(m.action)).transpose()?;
    anyhow::ensure!(
        m.window_seconds.is_none() || m.action == Action::Breaker,
        "--window-seconds applies to --action breaker only"
    );
    let verifier = m.verifier.unwrap_or_default();
    let circuit = match &args.model {
        None => None,
        Some(path) => {
            let model = zkguard_prover::load::load_quantized(path, args.calibration.as_deref())?;
            let srs = m.srs.source()?;
            let circuit = prepare(&DeployableRequest {
                model,
                batch_size: m.batch_size,
                visibility: m.visibility,
                aggregate: m.aggregate,
                verifier,
                max_columns: zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS,
                srs,
                cache_dir: m.cache.cache_dir.clone(),
                solc: m.solidity.compiler.resolve()?,
                generated_dir: Some(m.solidity.generated_dir.clone()),
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
                    window: m.window_seconds.zip(m.window_flagged),
                };
                let inputs = inputs.context("internal: input policy of the registered model")?;
                let reg = circuit.registration(U256::from(m.model_id), policy, inputs)?;
                let addresses = register_model(&provider, &stack, &artifacts, &reg).await?;
                match addresses.verifying_key {
                    Some(key) => println!(
                        "model {} registered ({}), shared verifier {} ({}), key {key}, wrapper {}; this model's \
                         deployment: {} gas (key + wrapper)",
                        m.model_id,
                        circuit.mode(),
                        addresses.raw_verifier,
                        if addresses.raw_verifier_reused {
                            "already deployed: reused".to_string()
                        } else {
                            format!(
                                "deployed now through CREATE2, {} gas, once per proof system",
                                addresses.verifier_deploy_gas
                            )
                        },
                        addresses.verifier,
                        addresses.model_deploy_gas()
                    ),
                    None => println!(
                        "model {} registered ({}), verifier {} (wrapper {}); this model's deployment: {} gas",
                        m.model_id,
                        circuit.mode(),
                        addresses.raw_verifier,
                        addresses.verifier,
                        addresses.model_deploy_gas()
                    ),
                }
                Some(ModelEntry {
                    model_id: m.model_id,
                    mode: circuit.mode(),
                    circuit_digest: circuit.identity.digest.to_string(),
                    model_commitment: format!("0x{:064x}", circuit.identity.commitment),
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
