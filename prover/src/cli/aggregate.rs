//! `zkguard aggregate`: N Poseidon-transcript proof artifacts of one app circuit into one
//! aggregation artifact ([`crate::artifact::AggregationArtifact`]).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::Args;

use super::common::{check_output, SrsCacheArgs};
use crate::aggregate::config::default_k;
use crate::aggregate::{aggregate, app_snark, AggregationKeys, AggregationShape};
use crate::artifact::{self, fr_from_hex, AggregationArtifact, ProofArtifact};
use crate::keys::{load_params, AppKeys};
use crate::prove::AppProof;

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
    pub srs: SrsCacheArgs,
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
    check_output(&args.out, &inputs)?;
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
    let out = AggregationArtifact::new(&keys, &app_digest, &proof, &srs);
    artifact::write_json(&args.out, &out)?;
    println!(
        "aggregated {} proofs into circuit {} (k = {k}): {} instances, {} proof bytes, {} calldata bytes -> {}\n\
         generate its verifier with: zkguard verifier generate --proof {}",
        out.proofs,
        keys.digest,
        proof.instances.len(),
        proof.proof.len(),
        out.calldata.len() / 2 - 1,
        args.out.display(),
        args.out.display()
    );
    Ok(())
}
