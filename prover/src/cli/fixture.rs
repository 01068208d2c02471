//! `zkguard fixture`: a whole direct- or batch-mode run for the forge tests
//! (`contracts/fixtures/<mode>.json`), from a model and data or the built-in demo model
//! ([`crate::demo`]): proves, generates the verifier (written under `--generated-dir`), checks it
//! in revm and writes the fixture ([`crate::pipeline::fixture`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use rand::rngs::OsRng;

use super::common::{check_output, positive, SrsCacheArgs};
use super::solidity::{command_line, SolidityArgs};
use crate::artifact::fr_from_hex;
use crate::demo;
use crate::evm::codegen::write_verifier;
use crate::pipeline::batch::{self, BatchRequest};
use crate::pipeline::direct::{self, DirectRequest};

/// Default directory of fixtures written by `zkguard fixture` (the committed ones live in
/// `contracts/fixtures`: pass `-o` to replace them).
pub const DEFAULT_FIXTURE_DIR: &str = ".zkguard/fixtures";

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
    #[arg(long, default_value_t = 4, value_parser = positive)]
    pub batch_size: usize,
    /// App proofs to aggregate (batch mode).
    #[arg(long, default_value_t = 2, value_parser = positive)]
    pub proofs: usize,
    /// Degree of the aggregation circuit (batch mode; default 20 + ceil(log2 N)).
    #[arg(long)]
    pub k: Option<u32>,
    /// Advice-column budget of the app circuit (1 gives the cheapest verifier and aggregation).
    #[arg(long, default_value_t = 1, value_parser = positive)]
    pub max_columns: usize,
    /// Input-commitment salt (hex field element; random if absent).
    #[arg(long, value_name = "HEX")]
    pub salt: Option<String>,
    /// Bind no subjects (by default one deterministic demo subject per real sample). The rest of
    /// the context is always the demo's (chain 31337, the Guard at `demo::DEMO_GUARD`, model
    /// 1, nonce 7), where the forge tests deploy the Guard.
    #[arg(long)]
    pub no_subjects: bool,
    /// Output fixture (default `.zkguard/fixtures/<mode>.json`; the committed fixtures are
    /// `contracts/fixtures/<mode>.json`).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sub-directory name of the verifier (default: `app-<digest>` / `batch<N>-<digest>`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Output and compiler of the verifier.
    #[command(flatten)]
    pub solidity: SolidityArgs,
    /// KZG parameters and cache.
    #[command(flatten)]
    pub srs: SrsCacheArgs,
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
    check_output(&out, &[])?;
    let solc = args.solidity.compiler.resolve()?;
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
                verifier_name: args.name.clone(),
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
                layout: crate::circuit::config::Layout::Compact,
                salt,
                ctx,
                k: args.k,
                srs,
                cache_dir: args.srs.cache.cache_dir.clone(),
                solc: solc.clone(),
                verifier_name: args.name.clone(),
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
