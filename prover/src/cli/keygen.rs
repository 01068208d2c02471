//! `zkguard keygen`: choose the circuit configuration for a model shape and batch size, and
//! generate (or load from the cache) its keys.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::common::{check_output, positive, CacheArgs, LayoutArgs, ModelArgs, SrsArgs};
use crate::circuit::AppShape;
use crate::keys::{load_params, AppKeys};

/// Arguments of `keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Samples per proof (at least 1).
    #[arg(long, default_value_t = 16, value_parser = positive)]
    pub batch_size: usize,
    /// Circuit layout and column budget.
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Expose no scores: the proof carries each sample's decision but no score words (fewer
    /// public instances, cheaper verification; enough for a policy on flagged counts or verdicts).
    /// Part of the circuit digest: `keygen` and `prove` must agree; `verify` reads it from the keys.
    #[arg(long)]
    pub no_scores: bool,
    /// Also copy the verifying-key artifact here (it is always written beside the cached keys).
    #[arg(long, value_name = "FILE")]
    pub vk_out: Option<PathBuf>,
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Runs `keygen`.
pub fn run(args: KeygenArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.vk_out {
        check_output(out, &[&args.model.model])?;
    }
    let model = args.model.load()?;
    let srs = args.srs.source()?;
    let shape = AppShape::for_model(&model, args.batch_size, args.model.visibility).with_scores(!args.no_scores);
    let config = args.layout.config(&shape)?;
    let params = load_params(&srs, config.k(), &args.cache.cache_dir)?;
    let keys = AppKeys::load_or_generate(config, &params, &srs, &args.cache.cache_dir)?;
    println!(
        "circuit {} ({} model, {} layout{}): k = {}, advice columns = {:?}, lookup bits = {:?}, batch size = {}, \
         instances = {}",
        keys.digest,
        shape.visibility(),
        keys.config.layout(),
        if shape.has_scores { "" } else { ", no scores" },
        keys.config.k(),
        keys.config.params.num_advice_per_phase,
        keys.config.params.lookup_bits,
        args.batch_size,
        shape.layout().len()
    );
    let vk_path = keys.ensure_vk_file(&params, &srs, &args.cache.cache_dir)?;
    println!("verifying key (for `zkguard verify --vk`): {}", vk_path.display());
    if let Some(out) = &args.vk_out {
        std::fs::copy(&vk_path, out).with_context(|| format!("copying the verifying key to {}", out.display()))?;
        println!("  copied to {}", out.display());
    }
    Ok(())
}
