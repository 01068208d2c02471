//! The command line: `serve` runs the service, `submit`, `submit-proof` and `status` are clients
//! of its API.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::client::Client;
use crate::config::Config;
use crate::intake::{SubmitProofRequest, SubmitRequest};
use crate::secret::Secret;

/// zkguard-relayer: proves, batches and submits zkguard proofs to the Guard.
#[derive(Debug, Parser)]
#[command(name = "zkguard-relayer", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the relayer's API is and how to authenticate.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Base URL of the relayer.
    #[arg(long, env = "ZKGUARD_RELAYER_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Environment variable holding the bearer token.
    #[arg(long, default_value = "ZKGUARD_RELAYER_TOKEN")]
    pub token_env: String,
}

impl ApiArgs {
    fn client(&self) -> anyhow::Result<Client> {
        let token =
            std::env::var(&self.token_env).with_context(|| format!("set {} to the API token", self.token_env))?;
        Ok(Client::new(&self.url, Secret::new(token)))
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the service.
    Serve {
        /// Config file (TOML); `ZKGUARD_RELAYER_*` variables override it.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// What this process does: `all` (one machine: everything) or one role of a fleet sharing
        /// a PostgreSQL database (`intake`, `prover`, `submitter`).
        #[arg(long, value_enum, default_value = "all", env = "ZKGUARD_RELAYER_ROLE")]
        role: crate::service::Role,
    },
    /// Submits a request (rows from a JSON file: `[[f64, ...], ...]`).
    Submit {
        /// API.
        #[command(flatten)]
        api: ApiArgs,
        /// Model id.
        #[arg(long)]
        model: String,
        /// JSON file with the feature rows.
        #[arg(long, value_name = "FILE")]
        rows: PathBuf,
        /// Request id (idempotency key).
        #[arg(long)]
        request_id: String,
        /// Input-commitment salt (0x hex field element).
        #[arg(long)]
        salt: Option<String>,
        /// Subject addresses, one per row (comma-separated).
        #[arg(long, value_delimiter = ',')]
        subjects: Vec<String>,
        /// Client-attested models: the attestation file `zkguard attest` wrote (the nonce, issue
        /// time and signatures; the request is proved alone with that context and --salt).
        #[arg(long, value_name = "FILE", requires = "salt")]
        attestation: Option<PathBuf>,
        /// Wait until the job is confirmed or failed (seconds).
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Submits a ready proof: the artifact `zkguard prove --context ...` wrote, with the Guard
    /// context its `--context` was computed from (direct-mode models only).
    SubmitProof {
        /// API.
        #[command(flatten)]
        api: ApiArgs,
        /// Model id.
        #[arg(long)]
        model: String,
        /// The proof artifact (`zkguard-proof` JSON).
        #[arg(long, value_name = "FILE")]
        proof: PathBuf,
        /// The Guard nonce the context binds (>= 2^63: smaller nonces are the relayer's own).
        #[arg(long)]
        nonce: u64,
        /// The issue time the context binds (unix seconds).
        #[arg(long)]
        issued_at: u64,
        /// Subject addresses the context binds, one per sample (comma-separated).
        #[arg(long, value_delimiter = ',')]
        subjects: Vec<String>,
        /// Request id (idempotency key).
        #[arg(long)]
        request_id: String,
        /// Client-attested models: the attestation file `zkguard attest` wrote for this proof.
        #[arg(long, value_name = "FILE")]
        attestation: Option<PathBuf>,
        /// Wait until the job is confirmed or failed (seconds).
        #[arg(long)]
        wait: Option<u64>,
    },
    /// Shows a job.
    Status {
        /// API.
        #[command(flatten)]
        api: ApiArgs,
        /// The job (request) id.
        job: String,
    },
}

/// Reads an attestation file (`zkguard attest` output).
fn read_attestation(path: &std::path::Path) -> anyhow::Result<crate::store::ClientAttestation> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not an attestation file (zkguard attest)", path.display()))
}

/// Runs the command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, role } => {
            let config = Config::load(&config).with_context(|| format!("loading {}", config.display()))?;
            if role != crate::service::Role::All && !config.database.is_shared() {
                anyhow::bail!(
                    "--role {} needs a database the fleet shares: set database = \"postgres://...\" (this config \
                     uses {}, which only the single-process role `all` may use)",
                    role.as_str(),
                    config.database.redacted()
                );
            }
            crate::service::serve_role(config, role, crate::service::shutdown_signal())
                .await
                .with_context(|| format!("relayer service (role {})", role.as_str()))
        }
        Command::Submit { api, model, rows, request_id, salt, subjects, attestation, wait } => {
            let text = std::fs::read_to_string(&rows).with_context(|| format!("reading {}", rows.display()))?;
            let rows: Vec<Vec<f64>> =
                serde_json::from_str(&text).with_context(|| format!("{} is not [[number]]", rows.display()))?;
            let attested = attestation.as_deref().map(read_attestation).transpose()?;
            let client = api.client()?;
            let req = SubmitRequest {
                request_id,
                model_id: model,
                rows,
                salt,
                subjects,
                nonce: attested.as_ref().map(|a| a.nonce),
                issued_at: attested.as_ref().map(|a| a.issued_at),
                attestations: attested.map(|a| a.attestations).unwrap_or_default(),
            };
            let mut job = client.submit(&req).await?;
            if let Some(seconds) = wait {
                job = client.wait_final(&job.id, Duration::from_secs(seconds)).await?;
            }
            println!("{}", serde_json::to_string_pretty(&job)?);
            Ok(())
        }
        Command::SubmitProof { api, model, proof, nonce, issued_at, subjects, request_id, attestation, wait } => {
            let artifact = zkguard_prover::artifact::read_json(&proof)?;
            let attestations = match attestation.as_deref().map(read_attestation).transpose()? {
                Some(a) => {
                    anyhow::ensure!(
                        a.nonce == nonce && a.issued_at == issued_at,
                        "the attestation signs nonce {} and issued_at {}, not --nonce {nonce} --issued-at {issued_at}",
                        a.nonce,
                        a.issued_at
                    );
                    a.attestations
                }
                None => vec![],
            };
            let client = api.client()?;
            let req = SubmitProofRequest {
                request_id,
                model_id: model,
                proof: artifact,
                nonce,
                issued_at,
                subjects,
                attestations,
            };
            let mut job = client.submit_proof(&req).await?;
            if let Some(seconds) = wait {
                job = client.wait_final(&job.id, Duration::from_secs(seconds)).await?;
            }
            println!("{}", serde_json::to_string_pretty(&job)?);
            Ok(())
        }
        Command::Status { api, job } => {
            let job = api.client()?.job(&job).await?;
            println!("{}", serde_json::to_string_pretty(&job)?);
            Ok(())
        }
    }
}
