//! `zkguard vk export`: writes the standalone verifying-key artifact of a cached app circuit
//! (see [`crate::keys::vk_file`]), so proofs can be verified with `zkguard verify --vk FILE` on a
//! machine that has neither the model nor the proving key.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use super::common::{check_output, CacheArgs, SrsArgs};
use crate::artifact;
use crate::keys::vk_file::cached_vk_path;
use crate::keys::{AppKeys, VkFile};

/// `zkguard vk ...`.
#[derive(Debug, Subcommand)]
pub enum VkCommand {
    /// Write the verifying-key artifact (vk + circuit configuration + KZG verifier points) of a
    /// cached app circuit.
    Export(VkExportArgs),
}

/// Arguments of `vk export`.
#[derive(Debug, Args)]
pub struct VkExportArgs {
    /// Circuit digest (from `zkguard keygen`).
    #[arg(long, value_name = "DIGEST", required_unless_present = "proof", conflicts_with = "proof")]
    pub circuit: Option<String>,
    /// Take the circuit digest from a proof artifact.
    #[arg(long, value_name = "FILE")]
    pub proof: Option<PathBuf>,
    /// Output file.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache holding the circuit's keys.
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Runs a `vk` subcommand.
pub fn run(command: VkCommand) -> anyhow::Result<()> {
    match command {
        VkCommand::Export(args) => export(args),
    }
}

fn export(args: VkExportArgs) -> anyhow::Result<()> {
    let inputs: Vec<&std::path::Path> = args.proof.iter().map(|p| p.as_path()).collect();
    check_output(&args.out, &inputs)?;
    let digest = match (&args.circuit, &args.proof) {
        (Some(d), _) => d.trim_start_matches("0x").to_string(),
        (None, Some(path)) => {
            let value: serde_json::Value = artifact::read_json(path)?;
            value
                .get("circuit_digest")
                .and_then(|d| d.as_str())
                .map(str::to_string)
                .with_context(|| format!("{} has no circuit_digest", path.display()))?
        }
        (None, None) => bail!("pass --circuit DIGEST or --proof FILE"),
    };
    let srs = args.srs.source()?;
    let cache = &args.cache.cache_dir;
    let path = cached_vk_path(cache, &digest, &srs);
    if !path.exists() {
        // Keys cached before vk.json existed: loading them writes it.
        AppKeys::load_by_digest(&digest, &srs, cache).with_context(|| {
            format!(
                "no cached keys for circuit {digest} with SRS {} in {} (run `zkguard keygen` first)",
                srs.id(),
                cache.display()
            )
        })?;
    }
    let loaded = VkFile::read(&path)?;
    loaded.file.write(&args.out)?;
    println!(
        "verifying key of circuit {digest} ({} instances, proofs of {} bytes in the EVM transcript, SRS {}{}) -> {}",
        loaded.file.num_instance,
        loaded.file.proof_length.evm,
        loaded.file.srs,
        if loaded.file.insecure_srs { ", INSECURE" } else { "" },
        args.out.display()
    );
    Ok(())
}
