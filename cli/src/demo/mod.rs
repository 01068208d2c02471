//! `zkguard demo`: the whole mission on a local chain, in one command. Checks the fraud models'
//! quantized accuracy, prepares their circuits (keys, Solidity verifiers: INSECURE dev setup),
//! starts anvil, deploys and registers everything, runs the relayer in-process on SQLite, streams
//! the SYNTHETIC transaction feed through it (a breaker model in direct mode over every window of
//! transactions; a screening model in batch mode, its proofs aggregated, over the latest window),
//! then shows what the contracts did and writes an HTML report. It stops everything it started.
//!
//! - [`feed`]: the feed CSV; [`onchain`]: the demo's contract calls and their evidence;
//! - [`results`]: batches from the relayer's store, the report and the summary JSON;
//! - `stage`: numbered stage lines with timings.

pub mod attacks;
pub mod feed;
pub mod onchain;
mod provider;
pub mod results;
mod stage;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;
use zkguard_contracts::deploy::RegisteredModel;
use zkguard_contracts::registration::VerifierCode;
use zkguard_prover::check::{check_model, CheckReport};
use zkguard_prover::circuit::Visibility;
use zkguard_prover::cli::solidity::SolcArgs;
use zkguard_prover::keys::SrsSource;
use zkguard_prover::model::ModelFile;
use zkguard_prover::pipeline::deploy::{prepare, DeployableCircuit, DeployableRequest, VerifierKind};
use zkguard_prover::quant::model::Family;
use zkguard_prover::report::{Accuracy, BatchRow};

use stage::Stages;

/// Registry id of the breaker model (direct mode, every window).
pub const BREAKER_MODEL_ID: u64 = 1;
/// Registry id of the screening model (batch mode, aggregated, feeds the verdict filter).
pub const FILTER_MODEL_ID: u64 = 2;

/// Arguments of `zkguard demo`. Paths are relative to the working directory (run it from the
/// repository root, as `scripts/run` does).
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Directory for the relayer's database, the report and the summary.
    #[arg(long, value_name = "DIR", default_value = "target/zkguard-demo")]
    pub work_dir: PathBuf,
    /// The breaker model (direct mode): a float model file, quantized with --breaker-data.
    #[arg(long, value_name = "FILE", default_value = "models/fraud_logistic.json")]
    pub breaker_model: PathBuf,
    /// Calibration and accuracy data of the breaker model (CSV with float scores).
    #[arg(long, value_name = "CSV", default_value = "data/fraud_logistic.csv")]
    pub breaker_data: PathBuf,
    /// The screening model (batch mode, aggregated; its verdicts go to the filter).
    #[arg(long, value_name = "FILE", default_value = "models/fraud_gbt.json")]
    pub filter_model: PathBuf,
    /// Calibration and accuracy data of the screening model.
    #[arg(long, value_name = "CSV", default_value = "data/fraud_gbt.csv")]
    pub filter_data: PathBuf,
    /// The transaction feed (SYNTHETIC by default: docs/FRAUD_FEED.md).
    #[arg(long, value_name = "CSV", default_value = "data/fraud_feed.csv")]
    pub feed: PathBuf,
    /// Stream only the first N transactions.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Transactions per window: one request, one direct-mode proof of the breaker model.
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Flagged transactions in one window that trip the breaker (the model's on-chain policy).
    #[arg(long, default_value_t = 10)]
    pub min_flagged: u32,
    /// Samples per app proof of the screening model.
    #[arg(long, default_value_t = 16)]
    pub filter_batch: usize,
    /// App proofs aggregated into one on-chain proof for the screening model (N).
    #[arg(long, default_value_t = 1)]
    pub aggregate: usize,
    /// How both circuits hold their model: `committed` (private parameters behind the
    /// commitment) or `fixed` (constants: the verifying keys pin the models, faster proofs).
    #[arg(long, value_enum, default_value_t = Visibility::Committed)]
    pub visibility: Visibility,
    /// Both models' verifiers: `shared` (the proof system's verifier, deployed once through CREATE2,
    /// and the model's key contract; for the screening model in batch mode, the aggregation
    /// circuits' shared verifier and the aggregation's key) or `unrolled` (a verifier generated for
    /// each circuit).
    #[arg(long, value_enum, default_value_t = VerifierKind::Shared)]
    pub verifier: VerifierKind,
    /// Key, parameter and verifier cache (reused across runs).
    #[arg(long, value_name = "DIR", env = "ZKGUARD_CACHE", default_value = ".zkguard")]
    pub cache_dir: PathBuf,
    /// The solc-compatible compiler.
    #[command(flatten)]
    pub compiler: SolcArgs,
    /// Forge's build output (`forge build`).
    #[arg(long, value_name = "DIR", default_value = "contracts/out")]
    pub contracts_out: PathBuf,
    /// The repository root (where `scripts/setup` installed anvil; or set ZKGUARD_ANVIL).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    /// Give up waiting for confirmations after this long (s).
    #[arg(long, default_value_t = 1_800)]
    pub timeout_s: u64,
}

/// What the demo showed (also returned to the end-to-end test).
#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoOutcome {
    /// Requests sent.
    pub jobs: usize,
    /// Requests confirmed on chain.
    pub confirmed: usize,
    /// Requests failed.
    pub failed: usize,
    /// Windows whose verified outputs crossed the breaker policy, first first.
    pub tripping_windows: Vec<usize>,
    /// Whether the vault is paused at the end.
    pub vault_paused: bool,
    /// Breaker trips recorded on chain.
    pub breaker_trips: u64,
    /// The vault's answer to a withdrawal after the trip (`None`: it paid out).
    pub withdrawal_refused: Option<String>,
    /// Screened subjects the filter flagged.
    pub flagged_subjects: Vec<String>,
    /// Screened subjects the filter allows.
    pub allowed_subjects: Vec<String>,
    /// The token's answer to a transfer to a flagged subject (`None`: it went through).
    pub transfer_refused: Option<String>,
    /// The attackers and how each was refused.
    pub attacks: Vec<attacks::AttackOutcome>,
    /// Every batch.
    pub batches: Vec<BatchRow>,
    /// Deployed contracts: `(name, address)`.
    pub contracts: Vec<(String, String)>,
    /// Each model's verifier deployment and its gas.
    pub deployments: Vec<ModelDeployment>,
    /// The HTML report.
    pub report: PathBuf,
    /// The JSON summary.
    pub summary: PathBuf,
    /// Wall time (s).
    pub wall_s: f64,
}

/// A model's verifier on the chain and what it cost.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelDeployment {
    /// Registry model id.
    pub model_id: u64,
    /// `direct` or `batch (...)`.
    pub mode: String,
    /// What this model alone cost to deploy (key + wrapper on the shared verifier; verifier +
    /// wrapper otherwise).
    pub model_deploy_gas: u64,
    /// Addresses and gas of each contract.
    #[serde(flatten)]
    pub registered: RegisteredModel,
}

/// One line on a prepared circuit's verifier code.
fn describe_code(code: &VerifierCode) -> String {
    match code {
        VerifierCode::Unrolled { creation } => format!("unrolled verifier, {} B creation code", creation.len()),
        VerifierCode::Shared(c) => format!(
            "shared verifier {}… ({} B creation code, once per proof system) + key {} B",
            &c.proof_system_digest.to_string()[..10],
            c.verifier_creation.len(),
            c.key_creation.len()
        ),
    }
}

/// A model with its accuracy check.
pub(crate) struct CheckedModel {
    pub file: ModelFile,
    pub check: CheckReport,
    pub accuracy: Accuracy,
    pub circuit: Option<DeployableCircuit>,
}

fn family_name(family: Family) -> &'static str {
    match family {
        Family::Linear => "linear",
        Family::MlpAutoencoder => "mlp_autoencoder",
        Family::TreeEnsemble => "tree_ensemble",
    }
}

fn check(model: &Path, data: &Path) -> anyhow::Result<(CheckedModel, zkguard_prover::quant::QuantizedModel)> {
    let file = zkguard_prover::model::load_model(model).with_context(|| format!("model {}", model.display()))?;
    let quantized = zkguard_prover::load::load_quantized(model, Some(data))?;
    let dataset = zkguard_prover::data::load_csv(data, &file.features)?;
    let report = check_model(&file, &quantized, &dataset)?;
    let accuracy = Accuracy::from_check(&report, family_name(quantized.shape().family), file.decision.threshold);
    Ok((CheckedModel { file, check: report, accuracy, circuit: None }, quantized))
}

/// The loud caveats, printed first and repeated in the report.
pub fn warnings() -> Vec<String> {
    vec![
        "INSECURE development SRS: the KZG setup's secret is public, so anyone can forge proofs against these \
         verifiers. Local demo only; a deployment uses a ceremony file (README, security model)."
            .into(),
        "anvil's dev accounts sign every transaction here; their keys are PUBLIC. Local chain only.".into(),
        "The transaction feed is SYNTHETIC (docs/FRAUD_FEED.md): generated with injected fraud patterns.".into(),
    ]
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> anyhow::Result<DemoOutcome> {
    let started = Instant::now();
    if args.window == 0 || args.filter_batch == 0 || args.aggregate == 0 {
        bail!("--window, --filter-batch and --aggregate must be > 0");
    }
    std::fs::create_dir_all(&args.work_dir).with_context(|| format!("creating {}", args.work_dir.display()))?;
    println!();
    for w in warnings() {
        println!("!!! {w}");
    }
    let mut stages = Stages::new(9);

    stages.start("models: quantized vs float accuracy (the data each model was trained on)");
    let (mut breaker, breaker_q) = check(&args.breaker_model, &args.breaker_data)?;
    let (mut filter, filter_q) = check(&args.filter_model, &args.filter_data)?;
    for m in [&breaker, &filter] {
        stages.line(format!(
            "{} ({}): {} samples, quantized decisions agree on {:.2}%, max score error {:.2e}",
            m.check.model,
            m.accuracy.family,
            m.check.samples,
            100.0 * m.check.agreement,
            m.check.score_max_abs_error
        ));
    }
    stages.done();

    stages.start("feed: SYNTHETIC transactions with injected fraud patterns");
    let feed_breaker = feed::load(&args.feed, &breaker.file.features, args.limit)?;
    let feed_filter = feed::load(&args.feed, &filter.file.features, args.limit)?;
    let windows = feed_breaker.len().div_ceil(args.window);
    let screened = (args.filter_batch * args.aggregate).min(feed_filter.len());
    // The report's histograms show the rows actually proven: every window's, the screened ones.
    let proved = |m: &CheckedModel, q: &zkguard_prover::quant::QuantizedModel, rows: &[feed::Transaction]| {
        let data = zkguard_prover::data::Dataset {
            rows: rows.iter().map(|t| t.features.clone()).collect(),
            ..Default::default()
        };
        check_model(&m.file, q, &data)
            .map(|r| m.accuracy.clone().with_histogram_of(&r, format!("the {} transactions proved", rows.len())))
    };
    breaker.accuracy = proved(&breaker, &breaker_q, &feed_breaker)?;
    filter.accuracy = proved(&filter, &filter_q, &feed_filter[feed_filter.len() - screened..])?;
    let injected = feed_breaker.iter().filter(|t| t.pattern != "normal").count();
    stages.line(format!(
        "{} transactions ({} injected fraud) -> {} windows of {} for model {BREAKER_MODEL_ID} ({}); the latest {} for model {FILTER_MODEL_ID} ({})",
        feed_breaker.len(),
        injected,
        windows,
        args.window,
        breaker.check.model,
        screened,
        filter.check.model
    ));
    stages.done();

    stages.start("circuits: keys and Solidity verifiers (INSECURE dev SRS; cached after the first run)");
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let generated_dir = args.work_dir.join("generated");
    for (m, quantized, batch_size, aggregate, verifier) in [
        (&mut breaker, breaker_q, args.window, None, args.verifier),
        (&mut filter, filter_q, args.filter_batch, Some(args.aggregate), args.verifier),
    ] {
        let t = Instant::now();
        let circuit = prepare(&DeployableRequest {
            model: quantized,
            batch_size,
            visibility: args.visibility,
            aggregate,
            verifier,
            max_columns: zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS,
            srs: SrsSource::InsecureDev,
            cache_dir: args.cache_dir.clone(),
            solc: args.compiler.solc.clone(),
            generated_dir: Some(generated_dir.clone()),
            command: command.clone(),
        })
        .with_context(|| format!("preparing the circuit of {}", m.check.model))?;
        stages.line(format!(
            "{}: {}, B = {batch_size}, digest {}…, {} ({}, {:.1} s)",
            m.check.model,
            circuit.mode(),
            &circuit.identity.digest.to_string()[..14],
            describe_code(&circuit.verifier),
            if circuit.generated { "generated" } else { "cached" },
            t.elapsed().as_secs_f64()
        ));
        m.circuit = Some(circuit);
    }
    stages.done();

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let chain = runtime.block_on(onchain::run(&args, &mut stages, &breaker, &filter, &feed_breaker, &feed_filter));
    // Stop the relayer's and the providers' tasks first, then anvil (returned by the chain half).
    runtime.shutdown_timeout(Duration::from_secs(10));
    let (mut outcome, anvil) = chain?;
    drop(anvil);

    stages.start("report");
    outcome.wall_s = started.elapsed().as_secs_f64();
    results::write(&args, &mut outcome, &breaker, &filter, &feed_breaker)?;
    stages.done();
    println!("{}", results::summary_table(&outcome));
    println!("report: {}\nsummary: {}", outcome.report.display(), outcome.summary.display());
    println!("demo finished in {:.0} s; anvil and the relayer are stopped.", outcome.wall_s);
    Ok(outcome)
}

/// Model ids as the registry and the relayer see them.
pub(crate) fn model_id(id: u64) -> U256 {
    U256::from(id)
}

/// How long the demo waits between polls of its jobs.
pub(crate) const POLL: Duration = Duration::from_millis(500);
