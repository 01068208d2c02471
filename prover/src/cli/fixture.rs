//! The on-chain subcommands of `zkguard`, ready to be hooked into the CLI's `Command` enum:
//!
//! - `zkguard verifier generate`: the Solidity verifier of a cached circuit (app or aggregation)
//!   under `contracts/src/generated/<name>/`, compiled, size-checked (EIP-170).
//! - `zkguard aggregate`: N Poseidon-transcript proof artifacts into one aggregation artifact.
//! - `zkguard fixture`: a whole direct- or batch-mode run for the forge tests
//!   (`contracts/fixtures/<mode>.json`), from a model and data or the built-in demo model.
//! - `zkguard context`: the context field element a proof must carry for a submission.
//!
//! Each `run_*` returns `anyhow::Result<()>` and prints a short summary on stdout.

use std::path::{Path, PathBuf};

use alloy_primitives::{Address, U256};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand, ValueEnum};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

use super::codegen::{generate_verifier, write_verifier};
use super::context::SubmissionContext;
use super::direct::{self, app_verifier_spec, default_app_name, DirectRequest};
use super::{demo, encode_calldata};
use crate::aggregate::batch::{self, aggregation_verifier_spec, default_batch_name, BatchRequest};
use crate::aggregate::config::default_k;
use crate::aggregate::{aggregate, app_snark, AggregationKeys, AggregationShape};
use crate::artifact::{self, fr_from_hex, fr_to_hex, ProofArtifact, Provenance, ARTIFACT_VERSION};
use crate::cli::common::{CacheArgs, SrsArgs};
use crate::keys::{load_params, AppKeys, SrsSource};
use crate::prove::AppProof;

/// `format` of an aggregation artifact.
pub const AGGREGATION_FORMAT: &str = "zkguard-aggregation-proof";

/// Default directory of generated verifiers: under the current directory, never the repository's
/// committed `contracts/src/generated`.
pub const DEFAULT_GENERATED_DIR: &str = ".zkguard/generated";
/// Default directory of fixtures written by `zkguard fixture` (the committed ones live in
/// `contracts/fixtures`: pass `-o` to replace them).
pub const DEFAULT_FIXTURE_DIR: &str = ".zkguard/fixtures";
/// Default Solidity compiler path (see [`resolve_solc`]).
pub const DEFAULT_SOLC: &str = "scripts/solc";

/// The Solidity compiler to run: `given` when it exists; for the default `scripts/solc` run from
/// outside a checkout, the shim of the checkout this binary was built from; otherwise an error
/// that says how to point at it (not how to install it: the shim is part of a checkout).
pub fn resolve_solc(given: &Path) -> anyhow::Result<PathBuf> {
    if given.exists() {
        return Ok(given.to_path_buf());
    }
    if given == Path::new(DEFAULT_SOLC) {
        let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DEFAULT_SOLC);
        if built_from.exists() {
            return Ok(built_from);
        }
    }
    let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "?".into());
    bail!(
        "no Solidity compiler at {} (relative to {cwd}): pass --solc PATH (or set ZKGUARD_SOLC) to zkguard's \
         scripts/solc shim in a checkout, whose `bash scripts/setup` installs the compiler it runs",
        given.display()
    )
}

/// KZG parameters and the key cache: the same flags as the other subcommands.
#[derive(Debug, Clone, Args)]
pub struct OnchainSrsArgs {
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

impl OnchainSrsArgs {
    fn source(&self) -> anyhow::Result<SrsSource> {
        self.srs.source()
    }
}

/// Where generated verifiers go and how they are compiled.
#[derive(Debug, Clone, Args)]
pub struct SolidityArgs {
    /// Directory of generated verifiers (one sub-directory per circuit), relative to the current
    /// directory. The repository's committed verifiers live in contracts/src/generated: pass it
    /// explicitly to replace them.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_GENERATED_DIR)]
    pub generated_dir: PathBuf,
    /// The solc-compatible compiler (zkguard's solcjs shim, `scripts/solc` in a checkout; found
    /// from the current directory, else in the checkout this binary was built from).
    #[arg(long, value_name = "PATH", env = "ZKGUARD_SOLC", default_value = DEFAULT_SOLC)]
    pub solc: PathBuf,
    /// Sub-directory name of the verifier (default: `app-<digest>` / `batch<N>-<digest>`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// `zkguard verifier ...`.
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Generate, compile and write the Solidity verifier of a cached circuit (app or aggregation).
    Generate(VerifierGenerateArgs),
}

/// Arguments of `verifier generate`.
#[derive(Debug, Args)]
pub struct VerifierGenerateArgs {
    /// Circuit digest (from `zkguard keygen`, or an aggregation digest from `zkguard aggregate`).
    #[arg(long, value_name = "HEX", required_unless_present = "proof", conflicts_with = "proof")]
    pub circuit: Option<String>,
    /// Take the circuit digest from a proof or aggregation artifact.
    #[arg(long, value_name = "FILE")]
    pub proof: Option<PathBuf>,
    /// Output and compiler.
    #[command(flatten)]
    pub solidity: SolidityArgs,
    /// KZG parameters and cache.
    #[command(flatten)]
    pub srs: OnchainSrsArgs,
}

/// The command line as typed, for generated headers and fixtures.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map_or("zkguard".into(), |n| n.to_string_lossy().into_owned());
    std::iter::once(program).chain(args.into_iter().skip(1)).collect::<Vec<_>>().join(" ")
}

/// Runs `verifier ...`.
pub fn run_verifier(command: VerifierCommand) -> anyhow::Result<()> {
    match command {
        VerifierCommand::Generate(args) => run_verifier_generate(args),
    }
}

fn run_verifier_generate(args: VerifierGenerateArgs) -> anyhow::Result<()> {
    let digest = match (&args.circuit, &args.proof) {
        (Some(d), _) => d.trim_start_matches("0x").to_string(),
        (None, Some(path)) => {
            let value: serde_json::Value = artifact::read_json(path)?;
            value
                .get("circuit_digest")
                .and_then(|d| d.as_str())
                .map(|d| d.trim_start_matches("0x").to_string())
                .with_context(|| format!("{} has no circuit_digest", path.display()))?
        }
        (None, None) => bail!("pass --circuit HEX or --proof FILE"),
    };
    let srs = args.srs.source()?;
    let solc = resolve_solc(&args.solidity.solc)?;
    let cache = &args.srs.cache.cache_dir;
    let command = command_line();
    // App keys live at <cache>/keys/<digest>-<srs id>/ (see crate::keys::cache).
    let app_cached = cache.join("keys").join(format!("{digest}-{}", srs.id())).join("config.json").exists();
    let generated = if app_cached {
        let (keys, params) = AppKeys::load_by_digest(&digest, &srs, cache)?;
        let name = args.solidity.name.clone().unwrap_or_else(|| default_app_name(&keys));
        generate_verifier(&params, keys.vk(), app_verifier_spec(&keys, &srs, name, command), &solc)?
    } else if let Some((keys, params)) = AggregationKeys::load_by_digest(&digest, &srs, cache)? {
        let (app_keys, _) = AppKeys::load_by_digest(&keys.config.shape.app_digest, &srs, cache)
            .context("the aggregated app circuit's keys are not in the cache")?;
        let name = args.solidity.name.clone().unwrap_or_else(|| default_batch_name(&keys));
        let spec = aggregation_verifier_spec(&keys, &app_keys, &srs, name, command);
        generate_verifier(&params, keys.vk(), spec, &solc)?
    } else {
        bail!(
            "no cached keys for circuit {digest} with SRS {} in {} (run `zkguard keygen` or `zkguard aggregate` first)",
            srs.id(),
            cache.display()
        );
    };
    let written = write_verifier(&generated, &args.solidity.generated_dir)?;
    println!(
        "verifier of circuit {digest}: {} public instances, runtime {} bytes (EIP-170 limit 24576), creation {} bytes\n  {}\n  {}",
        generated.spec.num_instance,
        generated.compiled.runtime.len(),
        generated.compiled.creation.len(),
        written.source.display(),
        written.artifact.display()
    );
    Ok(())
}

/// An aggregation proof with everything needed to verify and submit it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregationArtifact {
    /// [`AGGREGATION_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Aggregation circuit digest (selects the aggregation keys and verifier).
    pub circuit_digest: String,
    /// The aggregated app circuit's digest.
    pub app_circuit_digest: String,
    /// Number of app proofs.
    pub proofs: usize,
    /// Degree of the aggregation circuit.
    pub k: u32,
    /// Public instances (hex): 12 accumulator limbs, then each app proof's instances in order.
    pub instances: Vec<String>,
    /// The proof bytes (hex, EVM transcript).
    pub proof: String,
    /// The generated verifier's calldata (hex): instances as 32-byte words, then the proof.
    pub calldata: String,
    /// Who made it.
    pub produced_by: Provenance,
}

/// Arguments of `aggregate`.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// Proof artifacts of one app circuit made with `zkguard prove --transcript poseidon`, in order.
    #[arg(long = "proof", value_name = "FILE", required = true)]
    pub proofs: Vec<PathBuf>,
    /// Degree of the aggregation circuit (default 20 + ceil(log2 N): 3 advice columns).
    #[arg(long)]
    pub k: Option<u32>,
    /// Output aggregation artifact.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// KZG parameters and cache.
    #[command(flatten)]
    pub srs: OnchainSrsArgs,
}

fn parse_hex_bytes(what: &str, hex_text: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(hex_text.trim_start_matches("0x")).with_context(|| format!("{what} is not hex"))
}

fn app_proof_from_artifact(path: &Path, artifact: &ProofArtifact) -> anyhow::Result<AppProof> {
    let instances = artifact
        .instances
        .iter()
        .enumerate()
        .map(|(i, h)| {
            fr_from_hex(h).with_context(|| format!("{}: instances[{i}] is not a field element", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(AppProof { instances, proof: parse_hex_bytes("proof", &artifact.proof)?, transcript: artifact.transcript })
}

/// Runs `aggregate`.
pub fn run_aggregate(args: AggregateArgs) -> anyhow::Result<()> {
    let inputs: Vec<&Path> = args.proofs.iter().map(PathBuf::as_path).collect();
    crate::cli::common::check_output(&args.out, &inputs)?;
    let srs = args.srs.source()?;
    let cache = &args.srs.cache.cache_dir;
    let artifacts = args
        .proofs
        .iter()
        .map(|p| artifact::read_json::<ProofArtifact>(p).map(|a| (p.clone(), a)))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((_, first)) = artifacts.first() else { bail!("pass at least one --proof") };
    let app_digest = first.circuit_digest.clone();
    for (path, a) in &artifacts {
        if a.circuit_digest != app_digest {
            bail!(
                "{} is a proof of circuit {}, not {app_digest}: aggregate proofs of one circuit",
                path.display(),
                a.circuit_digest
            );
        }
        if a.produced_by.srs != srs.id() {
            bail!("{} was made with SRS {}, not {}", path.display(), a.produced_by.srs, srs.id());
        }
    }
    let (app_keys, app_params) = AppKeys::load_by_digest(&app_digest, &srs, cache)
        .with_context(|| format!("no cached keys for app circuit {app_digest} (run `zkguard keygen`)"))?;
    let proofs = artifacts.iter().map(|(p, a)| app_proof_from_artifact(p, a)).collect::<anyhow::Result<Vec<_>>>()?;
    let snarks = proofs
        .iter()
        .enumerate()
        .map(|(i, p)| app_snark(&app_params, &app_keys, p, i).with_context(|| args.proofs[i].display().to_string()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let k = args.k.unwrap_or_else(|| default_k(proofs.len()));
    let shape = AggregationShape::new(&app_digest, app_keys.config.shape.layout().len(), proofs.len(), k);
    AggregationKeys::check_shape(&shape)?;
    let params = load_params(&srs, k, cache)?;
    let keys = AggregationKeys::load_or_generate(shape, &app_keys, &app_params, &params, &srs, cache)?;
    let proof = aggregate(&params, &keys, snarks)?;
    let calldata = encode_calldata(&proof.instances, &proof.proof);
    let out = AggregationArtifact {
        format: AGGREGATION_FORMAT.into(),
        version: ARTIFACT_VERSION,
        circuit_digest: keys.digest.clone(),
        app_circuit_digest: app_digest,
        proofs: proof.proofs,
        k,
        instances: proof.instances.iter().map(fr_to_hex).collect(),
        proof: format!("0x{}", hex::encode(&proof.proof)),
        calldata: format!("0x{}", hex::encode(&calldata)),
        produced_by: Provenance {
            tool: format!("zkguard {}", env!("CARGO_PKG_VERSION")),
            srs: srs.id(),
            insecure_srs: srs.is_insecure(),
        },
    };
    artifact::write_json(&args.out, &out)?;
    println!(
        "aggregated {} proofs into circuit {} (k = {k}): {} instances, {} proof bytes, {} calldata bytes -> {}\n\
         generate its verifier with: zkguard verifier generate --proof {}",
        out.proofs,
        keys.digest,
        proof.instances.len(),
        proof.proof.len(),
        calldata.len(),
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

/// What the proof is bound to (the Solidity `SubmissionContext` plus chain and Guard). Every
/// field the Guard checks is required: a default would silently bind a proof to a context no
/// Guard accepts.
#[derive(Debug, Clone, Args)]
pub struct ContextArgs {
    /// Chain id.
    #[arg(long)]
    pub chain_id: u64,
    /// The Guard contract's address.
    #[arg(long, value_name = "ADDRESS")]
    pub guard: Address,
    /// Registry model id.
    #[arg(long)]
    pub model_id: U256,
    /// Submission nonce (single use per model).
    #[arg(long)]
    pub nonce: u64,
    /// Issue time, unix seconds (the Guard refuses a stale or future one).
    #[arg(long)]
    pub issued_at: u64,
    /// One subject per real sample, in sample order (repeat the flag); none by default.
    #[arg(long = "subject", value_name = "ADDRESS")]
    pub subjects: Vec<Address>,
}

impl ContextArgs {
    fn context(&self) -> SubmissionContext {
        SubmissionContext {
            chain_id: self.chain_id,
            guard: self.guard,
            model_id: self.model_id,
            nonce: self.nonce,
            issued_at: self.issued_at,
            subjects: self.subjects.clone(),
        }
    }
}

/// Runs `context`: prints the context field element (for `zkguard prove --context`).
pub fn run_context(args: ContextArgs) -> anyhow::Result<()> {
    let ctx = args.context();
    println!("{}", fr_to_hex(&ctx.context()));
    Ok(())
}

/// Direct or batch mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FixtureMode {
    /// One app proof (EVM transcript), verified by the app circuit's verifier.
    Direct,
    /// N app proofs aggregated into one.
    Batch,
}

/// Arguments of `fixture`.
#[derive(Debug, Args)]
pub struct FixtureArgs {
    /// Direct or batch mode.
    #[arg(long, value_enum, default_value_t = FixtureMode::Direct)]
    pub mode: FixtureMode,
    /// A model file (quantized, or float with --data for calibration). Default: the built-in
    /// demo model (a 4-feature linear filter) with its built-in rows.
    #[arg(long, value_name = "FILE", requires = "data")]
    pub model: Option<PathBuf>,
    /// CSV of rows (header = feature names); proofs take consecutive rows from --first-row.
    #[arg(long, value_name = "CSV")]
    pub data: Option<PathBuf>,
    /// First row of the data to prove.
    #[arg(long, default_value_t = 0)]
    pub first_row: usize,
    /// Real samples per app proof (default: the batch size).
    #[arg(long)]
    pub samples: Option<usize>,
    /// Samples per app proof (the circuit's batch size).
    #[arg(long, default_value_t = 4, value_parser = crate::cli::common::positive)]
    pub batch_size: usize,
    /// App proofs to aggregate (batch mode).
    #[arg(long, default_value_t = 2, value_parser = crate::cli::common::positive)]
    pub proofs: usize,
    /// Degree of the aggregation circuit (batch mode; default 20 + ceil(log2 N)).
    #[arg(long)]
    pub k: Option<u32>,
    /// Advice-column budget of the app circuit (1 gives the cheapest verifier and aggregation).
    #[arg(long, default_value_t = 1, value_parser = crate::cli::common::positive)]
    pub max_columns: usize,
    /// Input-commitment salt (hex field element; random if absent).
    #[arg(long, value_name = "HEX")]
    pub salt: Option<String>,
    /// Bind no subjects (by default one deterministic demo subject per real sample). The rest of
    /// the context is always the demo's (chain 31337, the Guard at `evm::demo::DEMO_GUARD`, model
    /// 1, nonce 7), where the forge tests deploy the Guard.
    #[arg(long)]
    pub no_subjects: bool,
    /// Output fixture (default `.zkguard/fixtures/<mode>.json`; the committed fixtures are
    /// `contracts/fixtures/<mode>.json`).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output and compiler of the verifier.
    #[command(flatten)]
    pub solidity: SolidityArgs,
    /// KZG parameters and cache.
    #[command(flatten)]
    pub srs: OnchainSrsArgs,
}

/// Runs `fixture`: proves, generates the verifier (written under --generated-dir), checks it in
/// revm and writes the fixture.
pub fn run_fixture(args: FixtureArgs) -> anyhow::Result<()> {
    let srs = args.srs.source()?;
    let proofs = if args.mode == FixtureMode::Direct { 1 } else { args.proofs };
    let samples = args.samples.unwrap_or(args.batch_size);
    if samples == 0 || samples > args.batch_size {
        bail!("--samples must be in 1..={} (the batch size)", args.batch_size);
    }
    let (model, batches) = match (&args.model, &args.data) {
        (Some(model_path), Some(data_path)) => {
            let model = crate::load::load_quantized(model_path, Some(data_path))?;
            let dataset = crate::data::load_csv(data_path, &model.features)?;
            let mut batches = vec![];
            for p in 0..proofs {
                let start = args.first_row + p * samples;
                let rows = dataset.rows.get(start..start + samples).with_context(|| {
                    format!(
                        "{} has {} rows; {proofs} proofs of {samples} from row {} need more",
                        data_path.display(),
                        dataset.rows.len(),
                        args.first_row
                    )
                })?;
                batches.push(
                    rows.iter()
                        .enumerate()
                        .map(|(i, r)| {
                            model
                                .quantize_input(r)
                                .with_context(|| format!("row {} of {}", start + i, data_path.display()))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?,
                );
            }
            (model, batches)
        }
        _ => {
            let n = 4;
            let batches = (0..proofs).map(|p| demo::demo_rows(n, samples, args.first_row + p * samples)).collect();
            (demo::demo_model(n), batches)
        }
    };
    let subjects = if args.no_subjects { 0 } else { proofs * samples };
    let ctx = demo::demo_context(subjects);
    let salt = match &args.salt {
        Some(h) => fr_from_hex(h).with_context(|| format!("--salt {h:?} is not a field element"))?,
        None => Fr::random(OsRng),
    };
    let command = command_line();
    let out = args.out.clone().unwrap_or_else(|| {
        Path::new(DEFAULT_FIXTURE_DIR).join(if args.mode == FixtureMode::Direct { "direct.json" } else { "batch.json" })
    });
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    crate::cli::common::check_output(&out, &[])?;
    let solc = resolve_solc(&args.solidity.solc)?;
    let (fixture, verifier) = match args.mode {
        FixtureMode::Direct => {
            let req = DirectRequest {
                model,
                rows: batches.into_iter().next().unwrap_or_default(),
                batch_size: args.batch_size,
                max_columns: args.max_columns,
                salt,
                ctx,
                srs,
                cache_dir: args.srs.cache.cache_dir.clone(),
                solc: solc.clone(),
                verifier_name: args.solidity.name.clone(),
                command,
            };
            let run = direct::run(&req)?;
            (run.fixture, run.verifier)
        }
        FixtureMode::Batch => {
            let req = BatchRequest {
                model,
                batches,
                batch_size: args.batch_size,
                has_scores: true,
                max_columns: args.max_columns,
                salt,
                ctx,
                k: args.k,
                srs,
                cache_dir: args.srs.cache.cache_dir.clone(),
                solc: solc.clone(),
                verifier_name: args.solidity.name.clone(),
                command,
            };
            let run = batch::run(&req)?;
            eprintln!("timings: {:?}", run.timings);
            (run.fixture, run.verifier)
        }
    };
    let written = write_verifier(&verifier, &args.solidity.generated_dir)?;
    fixture.write(&out)?;
    println!(
        "{:?} fixture: {} samples ({} flagged), {} instances, proof {} bytes, calldata {} bytes; verifier runtime {} bytes; \
         revm verify gas {} (calldata {})\n  {}\n  {}",
        args.mode,
        fixture.sample_count,
        fixture.flagged_count,
        fixture.instances.len(),
        fixture.proof.len() / 2 - 1,
        fixture.gas.calldata_bytes,
        fixture.gas.runtime_size,
        fixture.gas.tx_gas,
        fixture.gas.calldata_gas,
        written.source.display(),
        out.display()
    );
    Ok(())
}
