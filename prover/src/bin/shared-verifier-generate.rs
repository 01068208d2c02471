//! `shared-verifier-generate`: a model's app circuit on the shared verifier. Keys (cached), then
//! the proof system's `Halo2Verifier` and the circuit's `Halo2VerifyingKey`, rendered, compiled
//! (optimizer off, EIP-170 checked) and written under `--out` (see
//! `zkguard_prover::evm::shared_verifier::write`); the headers name this command line.
//!
//! `cargo run -p zkguard-prover --bin shared-verifier-generate -- --model models/breast_cancer_logistic.json --batch 16 --insecure-dev-srs`

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use zkguard_prover::circuit::poseidon::PoseidonBackend;
use zkguard_prover::circuit::{AppCircuitConfig, AppShape, Visibility};
use zkguard_prover::cli::common::SrsArgs;
use zkguard_prover::evm::shared_verifier::{app_pair, proof_system_id, write_pair};
use zkguard_prover::keys::{load_params, AppKeys};
use zkguard_prover::load::load_quantized;

#[derive(Parser, Debug)]
#[command(about = "Render, compile and write a model's shared verifier and verifying-key contract")]
struct Args {
    /// The model file (JSON).
    #[arg(long)]
    model: PathBuf,
    /// Calibration file for a float model.
    #[arg(long)]
    calibration: Option<PathBuf>,
    /// Samples per proof.
    #[arg(long)]
    batch: usize,
    /// Without packed scores.
    #[arg(long)]
    no_scores: bool,
    /// Model parameters as circuit constants instead of committed.
    #[arg(long)]
    fixed_model: bool,
    /// Poseidon backend: flex or gate.
    #[arg(long, default_value = "flex")]
    poseidon: String,
    /// halo2-base advice-column budget (part of the proof system).
    #[arg(long, default_value_t = 1)]
    max_columns: usize,
    /// Key and parameter cache.
    #[arg(long, default_value = "target/zkguard-cache")]
    cache: PathBuf,
    /// Output root.
    #[arg(long, default_value = "target/shared-verifier")]
    out: PathBuf,
    #[command(flatten)]
    srs: SrsArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let solc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/solc");
    let poseidon = match args.poseidon.as_str() {
        "flex" => PoseidonBackend::FlexGate,
        "gate" => PoseidonBackend::Gate,
        other => anyhow::bail!("--poseidon {other:?}: use flex or gate"),
    };
    let srs = args.srs.source()?;
    let model = load_quantized(&args.model, args.calibration.as_deref())
        .with_context(|| format!("loading {}", args.model.display()))?;
    let visibility = if args.fixed_model { Visibility::Fixed } else { Visibility::Committed };
    let shape = AppShape::for_model(&model, args.batch, visibility).with_scores(!args.no_scores);
    let config = AppCircuitConfig::choose_with(&shape, args.max_columns, poseidon)?;
    let params = load_params(&srs, config.k(), &args.cache)?;
    let keys = AppKeys::load_or_generate(config, &params, &srs, &args.cache)?;
    let pair = app_pair(&keys, &params, &srs, &command, &solc)?;
    let written = write_pair(&args.out, &keys.digest[..12], &pair.rendered, &pair.compiled)?;
    println!("proof system {}: {}", proof_system_id(&pair.rendered), written.verifier_source.display());
    println!(
        "key of circuit {} (k = {}, {} instances, proof {} B, code hash {}): {}",
        keys.digest,
        keys.config.k(),
        pair.rendered.num_instances,
        pair.rendered.proof_len,
        pair.compiled.vk_codehash,
        written.vk_source.display()
    );
    Ok(())
}
