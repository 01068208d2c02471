//! `zkguard prove` and `zkguard verify`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use halo2_base::halo2_proofs::halo2curves::bn256::Fr;
use halo2_base::halo2_proofs::halo2curves::ff::Field;
use rand::rngs::OsRng;

use super::common::{CacheArgs, ModelArgs, SrsArgs};
use crate::artifact::{self, fr_from_hex, fr_to_hex, ProofArtifact, Provenance, ARTIFACT_VERSION, PROOF_FORMAT};
use crate::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS;
use crate::circuit::{AppInstances, AppShape, AppWitness};
use crate::data;
use crate::keys::{load_params, AppKeys};
use crate::prove::{prove, verify, Transcript};

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
    /// Samples per proof (the circuit's batch size); the batch takes up to this many rows.
    #[arg(long, default_value_t = 16)]
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
    /// Advice-column budget.
    #[arg(long, default_value_t = DEFAULT_MAX_ADVICE_COLUMNS)]
    pub max_columns: usize,
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

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Proof artifact written by `zkguard prove`.
    pub proof: PathBuf,
    /// KZG parameters (must be those the proof was made with).
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache holding the circuit's keys.
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
    let context = parse_field("context", args.context.as_deref())?.unwrap_or_else(|| {
        tracing::warn!("no --context: the proof is bound to context 0 and no guard will accept it");
        Fr::zero()
    });
    let salt = parse_field("salt", args.salt.as_deref())?.unwrap_or_else(|| Fr::random(OsRng));
    let witness = AppWitness::new(model.clone(), rows, args.batch_size, salt, context)?;
    let shape = AppShape { model: model.shape(), batch_size: args.batch_size };
    let config = AppKeys::choose_config(&shape, args.max_columns)?;
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
        scores: decoded.scores[..decoded.sample_count].iter().map(|s| s.to_string()).collect(),
        produced_by: Provenance {
            tool: format!("zkguard {}", env!("CARGO_PKG_VERSION")),
            srs: srs.id(),
            insecure_srs: srs.is_insecure(),
        },
    };
    artifact::write_json(&args.out, &artifact)?;
    let flagged = artifact.decisions.iter().filter(|d| **d).count();
    println!(
        "proved {} samples ({} flagged) with circuit {}: {} instances, {} proof bytes -> {}",
        decoded.sample_count,
        flagged,
        &keys.digest[..12],
        proof.instances.len(),
        proof.proof.len(),
        args.out.display()
    );
    Ok(())
}

/// Runs `verify`.
pub fn run_verify(args: VerifyArgs) -> anyhow::Result<()> {
    let artifact: ProofArtifact = artifact::read_json(&args.proof)?;
    if artifact.format != PROOF_FORMAT {
        bail!("{}: format {:?} is not {PROOF_FORMAT:?}", args.proof.display(), artifact.format);
    }
    let srs = args.srs.source()?;
    if artifact.produced_by.srs != srs.id() {
        bail!("{} was made with SRS {}, not {}", args.proof.display(), artifact.produced_by.srs, srs.id());
    }
    let (keys, params) =
        AppKeys::load_by_digest(&artifact.circuit_digest, &srs, &args.cache.cache_dir).with_context(|| {
            format!(
                "no cached keys for circuit {} (run `zkguard keygen` for this model and batch size)",
                artifact.circuit_digest
            )
        })?;
    let instances = artifact
        .instances
        .iter()
        .enumerate()
        .map(|(i, h)| fr_from_hex(h).with_context(|| format!("instances[{i}] = {h:?} is not a field element")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let proof = hex::decode(artifact.proof.trim_start_matches("0x")).context("proof is not hex")?;
    if !verify(&params, keys.vk(), &instances, &proof, artifact.transcript) {
        bail!("{}: the proof does NOT verify", args.proof.display());
    }
    let decoded = AppInstances::from_slice(keys.config.shape.layout(), &instances)?;
    let flagged = decoded.decisions.iter().filter(|d| **d).count();
    println!(
        "valid proof: model {} (commitment {}), {} samples, {} flagged",
        artifact.model_name,
        fr_to_hex(&decoded.model_commitment),
        decoded.sample_count,
        flagged
    );
    Ok(())
}
