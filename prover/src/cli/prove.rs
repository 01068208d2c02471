//! `zkguard prove`: proves a batch of rows and writes a proof artifact.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use rand::rngs::OsRng;

use super::common::{check_output, positive, CacheArgs, LayoutArgs, ModelArgs, SrsArgs};
use crate::artifact::{self, fr_from_hex, fr_to_hex, ProofArtifact, Provenance, ARTIFACT_VERSION, PROOF_FORMAT};
use crate::circuit::{AppInstances, AppShape, AppWitness};
use crate::data;
use crate::keys::{load_params, AppKeys};
use crate::prove::{prove, Transcript};

/// Transcript choice on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TranscriptArg {
    /// Keccak: for direct verification by the generated Solidity verifier.
    Evm,
    /// Poseidon: for aggregation.
    Poseidon,
}

/// Arguments of `prove`.
#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
    /// CSV of the rows to prove (header = feature names).
    #[arg(long, value_name = "CSV")]
    pub data: PathBuf,
    /// First row (0-based) of the batch.
    #[arg(long, default_value_t = 0)]
    pub first_row: usize,
    /// Samples per proof (the circuit's batch size, at least 1); the batch takes up to this many rows.
    #[arg(long, default_value_t = 16, value_parser = positive)]
    pub batch_size: usize,
    /// Context field element (hex, 32 bytes): binds the proof to chain, guard, model, nonce.
    /// Without it the proof carries context 0 and no guard will accept it.
    #[arg(long, value_name = "HEX")]
    pub context: Option<String>,
    /// Salt of the input commitment (hex field element; random if absent).
    #[arg(long, value_name = "HEX")]
    pub salt: Option<String>,
    /// Transcript.
    #[arg(long, value_enum, default_value_t = TranscriptArg::Evm)]
    pub transcript: TranscriptArg,
    /// Circuit layout and column budget.
    #[command(flatten)]
    pub layout: LayoutArgs,
    /// Expose no scores: the proof carries each sample's decision but no score words (fewer
    /// public instances, cheaper verification; enough for a policy on flagged counts or verdicts).
    /// Part of the circuit digest: `keygen` and `prove` must agree; `verify` reads it from the keys.
    #[arg(long)]
    pub no_scores: bool,
    /// Output proof artifact.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// KZG parameters.
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache.
    #[command(flatten)]
    pub cache: CacheArgs,
}

fn parse_field(name: &str, hex: Option<&str>) -> anyhow::Result<Option<Fr>> {
    hex.map(|h| {
        fr_from_hex(h)
            .with_context(|| format!("--{name} {h:?} is not a 32-byte hex field element below the BN254 modulus"))
    })
    .transpose()
}

/// Runs `prove`.
pub fn run_prove(args: ProveArgs) -> anyhow::Result<()> {
    // Every input problem before minutes of proving: the output path and the field arguments.
    check_output(&args.out, &[&args.model.model, &args.data])?;
    let context = parse_field("context", args.context.as_deref())?;
    let salt = parse_field("salt", args.salt.as_deref())?;
    let model = args.model.load()?;
    let srs = args.srs.source()?;
    let dataset = data::load_csv(&args.data, &model.features)?;
    let end = (args.first_row + args.batch_size).min(dataset.rows.len());
    if args.first_row >= end {
        bail!(
            "--first-row {} is past the last row of {} ({} rows)",
            args.first_row,
            args.data.display(),
            dataset.rows.len()
        );
    }
    let rows = dataset.rows[args.first_row..end]
        .iter()
        .enumerate()
        .map(|(i, row)| {
            model.quantize_input(row).with_context(|| format!("row {} of {}", args.first_row + i, args.data.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let context = context.unwrap_or_else(|| {
        tracing::warn!("no --context: the proof is bound to context 0 and no guard will accept it");
        Fr::zero()
    });
    let salt = salt.unwrap_or_else(|| Fr::random(OsRng));
    let witness = AppWitness::new(model.clone(), rows, args.batch_size, salt, context)?.with_scores(!args.no_scores);
    let shape = AppShape::for_model(&model, args.batch_size, args.model.visibility).with_scores(!args.no_scores);
    let config = args.layout.config(&shape)?;
    let params = load_params(&srs, config.k(), &args.cache.cache_dir)?;
    let keys = AppKeys::load_or_generate(config, &params, &srs, &args.cache.cache_dir)?;
    let transcript = match args.transcript {
        TranscriptArg::Evm => Transcript::Evm,
        TranscriptArg::Poseidon => Transcript::Poseidon,
    };
    let proof = prove(&params, &keys, &witness, transcript)?;
    let decoded =
        AppInstances::from_slice(shape.layout(), &proof.instances).context("decoding the proof's instances")?;
    let artifact = ProofArtifact {
        format: PROOF_FORMAT.into(),
        version: ARTIFACT_VERSION,
        circuit_digest: keys.digest.clone(),
        model_name: model.name.clone(),
        model_commitment: fr_to_hex(&decoded.model_commitment),
        transcript,
        batch_size: args.batch_size,
        sample_count: decoded.sample_count,
        instances: proof.instances.iter().map(fr_to_hex).collect(),
        proof: format!("0x{}", hex::encode(&proof.proof)),
        decisions: decoded.decisions[..decoded.sample_count].to_vec(),
        scores: decoded.scores.iter().take(decoded.sample_count).map(|s| s.to_string()).collect(),
        produced_by: Provenance::of(&srs),
    };
    artifact::write_json(&args.out, &artifact)?;
    let flagged = artifact.decisions.iter().filter(|d| **d).count();
    println!(
        "proved {} samples ({} flagged{}) with circuit {}: {} instances, {} proof bytes -> {}",
        decoded.sample_count,
        flagged,
        if shape.has_scores { "" } else { ", no scores" },
        &keys.digest[..12],
        proof.instances.len(),
        proof.proof.len(),
        args.out.display()
    );
    Ok(())
}
