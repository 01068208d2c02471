//! `zkguard verifier generate`: the Solidity verifier of a cached circuit (app or aggregation)
//! under `<generated-dir>/<name>/`, compiled and size-checked (EIP-170).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};

use super::common::SrsCacheArgs;
use super::solidity::{command_line, SolidityArgs};
use crate::aggregate::AggregationKeys;
use crate::artifact;
use crate::evm::codegen::{generate_verifier, write_verifier};
use crate::keys::AppKeys;
use crate::pipeline::verifier::{aggregation_verifier_spec, app_verifier_spec, default_app_name, default_batch_name};

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
    /// Sub-directory name of the verifier (default: `app-<digest>` / `batch<N>-<digest>`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Output and compiler.
    #[command(flatten)]
    pub solidity: SolidityArgs,
    /// KZG parameters and cache.
    #[command(flatten)]
    pub srs: SrsCacheArgs,
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
    let solc = args.solidity.compiler.resolve()?;
    let cache = &args.srs.cache.cache_dir;
    let command = command_line();
    // App keys live at <cache>/keys/<digest>-<srs id>/ (see crate::keys::cache).
    let app_cached = cache.join("keys").join(format!("{digest}-{}", srs.id())).join("config.json").exists();
    let generated = if app_cached {
        let (keys, params) = AppKeys::load_by_digest(&digest, &srs, cache)?;
        let name = args.name.clone().unwrap_or_else(|| default_app_name(&keys));
        generate_verifier(&params, keys.vk(), app_verifier_spec(&keys, &srs, name, command), &solc)?
    } else if let Some((keys, params)) = AggregationKeys::load_by_digest(&digest, &srs, cache)? {
        let (app_keys, _) = AppKeys::load_by_digest(&keys.config.shape.app_digest, &srs, cache)
            .context("the aggregated app circuit's keys are not in the cache")?;
        let name = args.name.clone().unwrap_or_else(|| default_batch_name(&keys));
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
