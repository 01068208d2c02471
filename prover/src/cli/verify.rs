//! `zkguard verify`: checks a proof artifact and vouches only for what the proof shows.
//!
//! The proof is verified against a verifying key from `--vk FILE` (a `zkguard-verifying-key`
//! artifact: no model, no proving key, no cache needed) or from the key cache. Its length must
//! be the circuit's exact proof length. Every human-readable field of the artifact (`model_commitment`,
//! `batch_size`, `sample_count`, `decisions`, `scores`, `produced_by`) must equal what the
//! verified instances say, or the artifact is refused naming the field. `model_name` is a label
//! no proof carries: it is checked against `--model FILE` when given, and otherwise printed as
//! unchecked. The verifier states what it expects with `--model`, `--commitment`, `--circuit` and
//! `--context` (or the context's parts); each differing value is a refusal.

use std::path::{Path, PathBuf};

use alloy_primitives::{Address, U256};
use anyhow::{bail, Context};
use clap::Args;
use halo2_base::halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_base::halo2_proofs::plonk::VerifyingKey;
use halo2_base::halo2_proofs::poly::kzg::commitment::ParamsKZG;

use super::common::{banner_insecure, CacheArgs, SrsArgs};
use crate::artifact::{self, fr_from_hex, fr_to_hex, ProofArtifact, ARTIFACT_VERSION, PROOF_FORMAT};
use crate::circuit::{commit, AppInstances, AppShape};
use crate::evm::context::SubmissionContext;
use crate::evm::proof_length;
use crate::keys::{AppKeys, VkFile};
use crate::prove::verify;

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Proof artifact written by `zkguard prove`.
    pub proof: PathBuf,
    /// Verifying-key artifact (`zkguard vk export`, or `vk.json` beside the cached keys): verify
    /// without the proving key, the model or the key cache. The SRS flags are then optional.
    #[arg(long, value_name = "FILE")]
    pub vk: Option<PathBuf>,
    /// Expect this model: the proof's model commitment must be this model's, and the artifact's
    /// `model_name` its name. A quantized model file, or a float one with --calibration.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Calibration CSV for a float --model.
    #[arg(long, value_name = "CSV", requires = "model")]
    pub calibration: Option<PathBuf>,
    /// Expect this model commitment (hex field element, what a registry pins).
    #[arg(long, value_name = "HEX")]
    pub commitment: Option<String>,
    /// Expect this circuit digest (hex, what a registry pins).
    #[arg(long, value_name = "DIGEST")]
    pub circuit: Option<String>,
    /// Expect this context field element (hex; `zkguard context` prints it). Or give its parts.
    #[arg(long, value_name = "HEX", conflicts_with_all = ["chain_id", "guard", "model_id", "nonce", "issued_at"])]
    pub context: Option<String>,
    /// The context's parts (all five of chain id, guard, model id, nonce, issued-at; subjects
    /// optional): the expected context is computed from them as the Guard does.
    #[command(flatten)]
    pub context_parts: ContextParts,
    /// KZG parameters (must be those the proof was made with).
    #[command(flatten)]
    pub srs: SrsArgs,
    /// Cache holding the circuit's keys (without --vk).
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The parts of an expected context.
#[derive(Debug, Clone, Default, Args)]
pub struct ContextParts {
    /// Expected chain id.
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<u64>,
    /// Expected Guard address.
    #[arg(long, value_name = "ADDRESS")]
    pub guard: Option<Address>,
    /// Expected registry model id.
    #[arg(long, value_name = "ID")]
    pub model_id: Option<U256>,
    /// Expected submission nonce.
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Expected issue time (unix seconds).
    #[arg(long, value_name = "SECONDS")]
    pub issued_at: Option<u64>,
    /// Expected subjects, in sample order (repeat the flag).
    #[arg(long = "subject", value_name = "ADDRESS")]
    pub subjects: Vec<Address>,
}

impl ContextParts {
    /// The expected context, when any part is given (then all five scalars are required).
    pub fn context(&self) -> anyhow::Result<Option<SubmissionContext>> {
        let given = [
            ("--chain-id", self.chain_id.is_some()),
            ("--guard", self.guard.is_some()),
            ("--model-id", self.model_id.is_some()),
            ("--nonce", self.nonce.is_some()),
            ("--issued-at", self.issued_at.is_some()),
        ];
        if given.iter().all(|(_, g)| !g) {
            if !self.subjects.is_empty() {
                bail!(
                    "--subject needs the other context parts (--chain-id, --guard, --model-id, --nonce, --issued-at)"
                );
            }
            return Ok(None);
        }
        let missing: Vec<&str> = given.iter().filter(|(_, g)| !g).map(|(n, _)| *n).collect();
        if !missing.is_empty() {
            bail!("an expected context needs all of its parts; missing {}", missing.join(", "));
        }
        Ok(Some(SubmissionContext {
            chain_id: self.chain_id.unwrap_or_default(),
            guard: self.guard.unwrap_or_default(),
            model_id: self.model_id.unwrap_or_default(),
            nonce: self.nonce.unwrap_or_default(),
            issued_at: self.issued_at.unwrap_or_default(),
            subjects: self.subjects.clone(),
        }))
    }
}

/// What a verifying key was found with.
struct Verifier {
    digest: String,
    srs_id: String,
    insecure: bool,
    shape: AppShape,
    vk: VerifyingKey<G1Affine>,
    params: ParamsKZG<Bn256>,
    proof_lengths: [usize; 2],
}

fn refuse(path: &Path, field: &str, message: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{}: `{field}`: {message}; refusing the artifact", path.display())
}

fn load_verifier(args: &VerifyArgs, artifact: &ProofArtifact) -> anyhow::Result<Verifier> {
    if let Some(vk_path) = &args.vk {
        let loaded = VkFile::read(vk_path)?;
        let file = &loaded.file;
        if args.srs.given() {
            let srs = args.srs.source()?;
            if srs.id() != file.srs {
                bail!("{} is a key for SRS {}, not the given {}", vk_path.display(), file.srs, srs.id());
            }
        } else if file.insecure_srs {
            banner_insecure();
        }
        let lengths = [file.proof_length.evm, file.proof_length.poseidon];
        return Ok(Verifier {
            digest: file.circuit_digest.clone(),
            srs_id: file.srs.clone(),
            insecure: file.insecure_srs,
            shape: file.config.shape.clone(),
            vk: loaded.vk,
            params: loaded.params,
            proof_lengths: lengths,
        });
    }
    let srs = args.srs.source()?;
    let (keys, params) =
        AppKeys::load_by_digest(&artifact.circuit_digest, &srs, &args.cache.cache_dir).with_context(|| {
            format!(
                "no cached keys for circuit {} with SRS {} in {} (run `zkguard keygen` for this model and batch size, \
                 or pass --vk FILE)",
                artifact.circuit_digest,
                srs.id(),
                args.cache.cache_dir.display()
            )
        })?;
    let lengths = [
        proof_length(keys.vk(), crate::prove::Transcript::Evm),
        proof_length(keys.vk(), crate::prove::Transcript::Poseidon),
    ];
    Ok(Verifier {
        digest: keys.digest.clone(),
        srs_id: srs.id(),
        insecure: srs.is_insecure(),
        shape: keys.config.shape.clone(),
        vk: keys.pk.get_vk().clone(),
        params,
        proof_lengths: lengths,
    })
}

/// What a verified artifact showed.
#[derive(Debug)]
pub struct Verified {
    /// Circuit digest of the key that accepted the proof.
    pub circuit_digest: String,
    /// The decoded instances.
    pub instances: AppInstances,
    /// The model name, when `--model` checked it.
    pub model_name: Option<String>,
    /// Whether the SRS is the insecure development setup.
    pub insecure_srs: bool,
}

/// Verifies an artifact as `verify` does, returning what it showed (for tests and callers).
pub fn verify_artifact(args: &VerifyArgs) -> anyhow::Result<Verified> {
    let path = &args.proof;
    let artifact: ProofArtifact = artifact::read_json(path)?;
    if artifact.format != PROOF_FORMAT {
        return Err(refuse(path, "format", format!("{:?} is not {PROOF_FORMAT:?}", artifact.format)));
    }
    if artifact.version != ARTIFACT_VERSION {
        return Err(refuse(path, "version", format!("{} is not {ARTIFACT_VERSION}", artifact.version)));
    }
    // Expectations that need no key are parsed first: a typo is reported before any work.
    let expected_commitment = args
        .commitment
        .as_deref()
        .map(|h| fr_from_hex(h).with_context(|| format!("--commitment {h:?} is not a 32-byte hex field element")))
        .transpose()?;
    let expected_context = match &args.context {
        Some(h) => Some(fr_from_hex(h).with_context(|| format!("--context {h:?} is not a 32-byte hex field element"))?),
        None => args.context_parts.context()?.map(|c| c.context()),
    };
    let expected_model =
        args.model.as_deref().map(|m| crate::load::load_quantized(m, args.calibration.as_deref())).transpose()?;

    let verifier = load_verifier(args, &artifact)?;
    if artifact.circuit_digest != verifier.digest {
        return Err(refuse(
            path,
            "circuit_digest",
            format!("{}, but the verifying key is of circuit {}", artifact.circuit_digest, verifier.digest),
        ));
    }
    if let Some(expected) = &args.circuit {
        let expected = expected.trim_start_matches("0x");
        if !expected.eq_ignore_ascii_case(&verifier.digest) {
            bail!("{}: a proof of circuit {}, not the expected --circuit {expected}", path.display(), verifier.digest);
        }
    }
    if artifact.produced_by.srs != verifier.srs_id || artifact.produced_by.insecure_srs != verifier.insecure {
        return Err(refuse(
            path,
            "produced_by",
            format!(
                "says SRS {} (insecure: {}), but the key is for SRS {} (insecure: {})",
                artifact.produced_by.srs, artifact.produced_by.insecure_srs, verifier.srs_id, verifier.insecure
            ),
        ));
    }

    let layout = verifier.shape.layout();
    if artifact.instances.len() != layout.len() {
        return Err(refuse(
            path,
            "instances",
            format!("{} values, but the circuit has {} public instances", artifact.instances.len(), layout.len()),
        ));
    }
    let instances = artifact
        .instances
        .iter()
        .enumerate()
        .map(|(i, h)| {
            fr_from_hex(h).ok_or_else(|| refuse(path, "instances", format!("[{i}] = {h:?} is not a field element")))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let proof = hex::decode(artifact.proof.trim_start_matches("0x"))
        .map_err(|e| refuse(path, "proof", format!("not hex: {e}")))?;
    let expected_len = match artifact.transcript {
        crate::prove::Transcript::Evm => verifier.proof_lengths[0],
        crate::prove::Transcript::Poseidon => verifier.proof_lengths[1],
    };
    if proof.len() != expected_len {
        return Err(refuse(
            path,
            "proof",
            format!(
                "{} bytes, but every {:?}-transcript proof of circuit {} is exactly {expected_len} bytes (padded or truncated)",
                proof.len(),
                artifact.transcript,
                verifier.digest
            ),
        ));
    }
    if !verify(&verifier.params, &verifier.vk, &instances, &proof, artifact.transcript) {
        bail!("{}: the proof does NOT verify against circuit {}", path.display(), verifier.digest);
    }

    // The proof is valid for `instances`: every readable field must say the same.
    let decoded = AppInstances::from_slice(layout, &instances)?;
    let n = decoded.sample_count;
    if artifact.model_commitment.to_lowercase() != fr_to_hex(&decoded.model_commitment) {
        return Err(refuse(
            path,
            "model_commitment",
            format!("{}, but the proof's is {}", artifact.model_commitment, fr_to_hex(&decoded.model_commitment)),
        ));
    }
    if artifact.batch_size != layout.batch_size {
        return Err(refuse(
            path,
            "batch_size",
            format!("{}, but the circuit's is {}", artifact.batch_size, layout.batch_size),
        ));
    }
    if artifact.sample_count != n {
        return Err(refuse(path, "sample_count", format!("{}, but the proof's is {n}", artifact.sample_count)));
    }
    if artifact.decisions != decoded.decisions[..n] {
        let at = first_difference(&artifact.decisions, &decoded.decisions[..n]);
        return Err(refuse(path, "decisions", format!("differ from the proof's from sample {at}")));
    }
    let scores: Vec<String> = decoded.scores.iter().take(n).map(|s| s.to_string()).collect();
    if artifact.scores != scores {
        let at = first_difference(&artifact.scores, &scores);
        return Err(refuse(path, "scores", format!("differ from the proof's from sample {at}")));
    }

    // The verifier's own expectations.
    if let Some(model) = &expected_model {
        let file = args.model.as_deref().unwrap_or(Path::new("?"));
        let commitment = commit::model_commitment(&model.shape(), &model.params());
        if commitment != decoded.model_commitment {
            bail!(
                "{}: a proof of model commitment {}, not of --model {} (commitment {})",
                path.display(),
                fr_to_hex(&decoded.model_commitment),
                file.display(),
                fr_to_hex(&commitment)
            );
        }
        if artifact.model_name != model.name {
            return Err(refuse(
                path,
                "model_name",
                format!(
                    "{:?}, but the proven model (--model {}) is named {:?}",
                    artifact.model_name,
                    file.display(),
                    model.name
                ),
            ));
        }
    }
    if let Some(expected) = expected_commitment {
        if expected != decoded.model_commitment {
            bail!(
                "{}: a proof of model commitment {}, not the expected --commitment {}",
                path.display(),
                fr_to_hex(&decoded.model_commitment),
                fr_to_hex(&expected)
            );
        }
    }
    if let Some(expected) = expected_context {
        if expected != decoded.context {
            bail!(
                "{}: the proof is bound to context {}, not the expected {}",
                path.display(),
                fr_to_hex(&decoded.context),
                fr_to_hex(&expected)
            );
        }
    }
    Ok(Verified {
        circuit_digest: verifier.digest,
        instances: decoded,
        model_name: expected_model.map(|m| m.name),
        insecure_srs: verifier.insecure,
    })
}

fn first_difference<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

/// Runs `verify`.
pub fn run_verify(args: VerifyArgs) -> anyhow::Result<()> {
    let v = verify_artifact(&args)?;
    println!("{}", summary(&v));
    Ok(())
}

/// The line `verify` prints for a verified artifact: circuit, model, context, samples and
/// flagged count, and whether the proof carries scores.
pub fn summary(v: &Verified) -> String {
    let d = &v.instances;
    let n = d.sample_count;
    let flagged = d.decisions[..n].iter().filter(|x| **x).count();
    let model = match &v.model_name {
        Some(name) => format!("model {name:?} (checked against --model), commitment {}", fr_to_hex(&d.model_commitment)),
        None => format!("model commitment {} (the artifact's model_name is a label no proof carries; pass --model FILE to check it)", fr_to_hex(&d.model_commitment)),
    };
    let context = if d.context == Fr::zero() {
        "context 0 (no guard accepts it)".to_string()
    } else {
        format!("context {}", fr_to_hex(&d.context))
    };
    let matched = if d.layout.has_scores() {
        "decisions and scores match the proof"
    } else {
        "decisions match the proof (this circuit exposes no scores)"
    };
    format!(
        "valid proof of circuit {}: {model}; {context}; {n} samples, {flagged} flagged; {matched}{}",
        v.circuit_digest,
        if v.insecure_srs { " (INSECURE dev SRS: anyone can forge proofs)" } else { "" }
    )
}
