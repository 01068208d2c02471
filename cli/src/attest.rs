//! `zkguard commit-inputs` and `zkguard attest`: what a data provider (attester) runs to vouch for
//! the rows behind a submission without proving anything. `commit-inputs` computes the input
//! commitments exactly as the prover will (the rows split into the submission's segments, padded,
//! salted); `attest` signs the EIP-712 `InputAttestation` over them and the submission's context
//! with a key from an environment variable (never printed), or adds a signature to an existing
//! attestation file for a threshold of several attesters. The file is what
//! `zkguard relay submit --attestation` and the relayer's API take.

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{ensure, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkguard_contracts::attestation::{sort_by_signer, Attestation, InputAttestation};
use zkguard_prover::artifact::{fr_from_hex, fr_to_hex};

/// Arguments of `zkguard commit-inputs`.
#[derive(Debug, Args)]
pub struct CommitInputsArgs {
    /// The model: a float model file (needs --calibration) or a quantized one.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// CSV of sample rows to choose the fixed-point scale from (float models only).
    #[arg(long, value_name = "CSV")]
    pub calibration: Option<PathBuf>,
    /// The rows (JSON `[[number, ...], ...]`), in the order they will be proved.
    #[arg(long, value_name = "FILE")]
    pub rows: PathBuf,
    /// Samples per app proof (B) of the served circuit.
    #[arg(long)]
    pub batch_size: usize,
    /// App proofs per submission: 1 in direct mode, N in batch mode (`aggregate = N`).
    #[arg(long, default_value_t = 1)]
    pub segments: usize,
    /// The salt (0x hex field element); a random one is chosen (and printed) when absent.
    #[arg(long)]
    pub salt: Option<String>,
}

/// What `zkguard commit-inputs` prints.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commitments {
    /// The salt used.
    pub salt: String,
    /// Every segment's input commitment.
    pub input_commitments: Vec<String>,
}

/// Runs `zkguard commit-inputs`.
pub fn commit_inputs(args: CommitInputsArgs) -> anyhow::Result<()> {
    ensure!(args.batch_size > 0, "--batch-size must be > 0");
    ensure!(args.segments > 0, "--segments must be > 0");
    let salt_hex = args.salt.clone().unwrap_or_else(random_salt);
    let salt = fr_from_hex(&salt_hex).with_context(|| format!("--salt {salt_hex:?} is not a 0x hex field element"))?;
    let text = std::fs::read_to_string(&args.rows).with_context(|| format!("reading {}", args.rows.display()))?;
    let rows: Vec<Vec<f64>> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected [[number, ...], ...]", args.rows.display()))?;
    let model = zkguard_prover::load::load_quantized(&args.model, args.calibration.as_deref())?;
    let commitments =
        zkguard_prover::inputs::submission_input_commitments(&model, &rows, args.batch_size, args.segments, salt)
            .with_context(|| format!("{}", args.rows.display()))?;
    let out = Commitments { salt: fr_to_hex(&salt), input_commitments: commitments.iter().map(fr_to_hex).collect() };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// A random salt (248 bits: always a field element), as 0x hex; it hides the inputs behind the
/// commitment.
pub fn random_salt() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 31];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("0x{}", hex::encode(bytes))
}

/// Arguments of `zkguard attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Chain id of the Guard.
    #[arg(long)]
    pub chain_id: u64,
    /// The Guard contract.
    #[arg(long)]
    pub guard: Address,
    /// Registry model id.
    #[arg(long)]
    pub model_id: U256,
    /// The Guard nonce the submission will use (>= 2^63 through a relayer: smaller ones are its own).
    #[arg(long)]
    pub nonce: u64,
    /// Issue time (unix seconds; the Guard refuses it once older than the model's maxAge).
    #[arg(long)]
    pub issued_at: u64,
    /// Subjects, one per row in order (comma-separated), or none.
    #[arg(long, value_delimiter = ',')]
    pub subjects: Vec<Address>,
    /// Every segment's input commitment (`zkguard commit-inputs`), in order.
    #[arg(long = "input-commitment", value_name = "HEX", required = true)]
    pub input_commitments: Vec<String>,
    /// Environment variable holding the attester's private key (hex; never printed).
    #[arg(long, default_value = "ZKGUARD_ATTESTER_KEY")]
    pub key_env: String,
    /// Add this attester's signature to an existing attestation file (same message) instead of
    /// starting a new one.
    #[arg(long, value_name = "FILE")]
    pub append: Option<PathBuf>,
    /// Where the attestation file is written.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

/// An attestation file: the signed message, its digest and the signatures (sorted by signer).
/// `nonce`, `issued_at` and `attestations` are what the relayer's API takes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttestationFile {
    /// Chain id.
    pub chain_id: u64,
    /// The Guard.
    pub guard: Address,
    /// Model id.
    pub model_id: U256,
    /// Guard nonce.
    pub nonce: u64,
    /// Issue time.
    pub issued_at: u64,
    /// Subjects.
    pub subjects: Vec<Address>,
    /// Input commitments.
    pub input_commitments: Vec<U256>,
    /// The EIP-712 digest signed.
    pub digest: B256,
    /// Signatures, sorted by signer.
    pub attestations: Vec<Attestation>,
}

impl AttestationFile {
    /// The message of this file.
    pub fn message(&self) -> InputAttestation {
        InputAttestation::new(
            self.model_id,
            self.nonce,
            self.issued_at,
            self.subjects.clone(),
            self.input_commitments.clone(),
        )
    }

    /// Adds (or replaces) `signer`'s signature, keeping the list sorted.
    pub fn sign_with(&mut self, signer: &PrivateKeySigner) -> anyhow::Result<()> {
        let signed = Attestation::sign(signer, self.digest).context("signing the attestation")?;
        self.attestations.retain(|a| a.signer != signed.signer);
        self.attestations.push(signed);
        sort_by_signer(&mut self.attestations);
        Ok(())
    }
}

fn read_file(path: &Path) -> anyhow::Result<AttestationFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not an attestation file", path.display()))
}

/// Runs `zkguard attest`.
pub fn attest(args: AttestArgs) -> anyhow::Result<()> {
    let key = zkguard_relayer::secret::Secret::new(
        std::env::var(&args.key_env)
            .with_context(|| format!("set {} to the attester's hex private key", args.key_env))?,
    );
    let signer: PrivateKeySigner = key
        .expose()
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{} does not hold a valid hex private key", args.key_env))?;
    let commitments = args
        .input_commitments
        .iter()
        .map(|h| h.parse::<U256>().with_context(|| format!("--input-commitment {h:?} is not a hex number")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let message =
        InputAttestation::new(args.model_id, args.nonce, args.issued_at, args.subjects.clone(), commitments.clone());
    let digest = message.digest(args.chain_id, args.guard);
    let mut file = match &args.append {
        Some(path) => {
            let existing = read_file(path)?;
            ensure!(
                existing.digest == digest,
                "{} attests another message (digest {}); this one is {digest}",
                path.display(),
                existing.digest
            );
            existing
        }
        None => AttestationFile {
            chain_id: args.chain_id,
            guard: args.guard,
            model_id: args.model_id,
            nonce: args.nonce,
            issued_at: args.issued_at,
            subjects: args.subjects,
            input_commitments: commitments,
            digest,
            attestations: vec![],
        },
    };
    file.sign_with(&signer)?;
    std::fs::write(&args.out, serde_json::to_string_pretty(&file)? + "\n")
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{} signed digest {digest} ({} signature(s)); written to {}",
        signer.address(),
        file.attestations.len(),
        args.out.display()
    );
    Ok(())
}
