//! The service configuration: a TOML file, then `ZKGUARD_RELAYER_*` environment overrides, then
//! validation. Secrets (API token, signer key) come from the environment or a keystore file and
//! are wrapped in [`Secret`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::Deserialize;
use zkguard_prover::circuit::config::Layout;

use crate::secret::Secret;

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("config {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An environment override does not parse.
    #[error("environment variable {name}: cannot parse {value:?}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// A value is out of range or missing.
    #[error("config: {0}")]
    Invalid(String),
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// HTTP listen address (`127.0.0.1:0` picks a free port).
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The job store: `sqlite://FILE` or a bare file path (the embedded default, one machine), or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (a fleet sharing one database).
    pub database: crate::store::DatabaseUrl,
    /// Leases and names of the fleet's roles.
    #[serde(default)]
    pub fleet: FleetConfig,
    /// Bearer token clients must present (prefer `ZKGUARD_RELAYER_TOKEN`).
    #[serde(default)]
    pub api_token: Secret,
    /// File the bound address is written to once listening (for tests and supervisors).
    #[serde(default)]
    pub address_file: Option<PathBuf>,
    /// Chain and submission settings.
    pub chain: ChainConfig,
    /// Proving settings.
    pub proving: ProvingConfig,
    /// Settings of the processes started with `--role prover` (one config file can serve every
    /// role of a fleet).
    #[serde(default)]
    pub prover: ProverRoleConfig,
    /// Batching policy.
    #[serde(default)]
    pub batching: BatchingConfig,
    /// How long finished jobs are kept.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Models served.
    pub models: Vec<ModelConfig>,
}

/// Leases of the fleet's roles (a prover's claim on a batch, the active submitter).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// This process's name in leases and metrics (default: host, process id and role).
    #[serde(default)]
    pub worker_name: Option<String>,
    /// A prover's claim on a batch lasts this long unless renewed (ms); a dead prover's batch is
    /// claimed by another after it.
    #[serde(default = "default_lease_ms")]
    pub prover_lease_ms: u64,
    /// The active submitter's lease (ms); a standby takes over this long after it stops renewing.
    #[serde(default = "default_lease_ms")]
    pub submitter_lease_ms: u64,
}

impl Default for FleetConfig {
    fn default() -> Self {
        Self { worker_name: None, prover_lease_ms: default_lease_ms(), submitter_lease_ms: default_lease_ms() }
    }
}

impl FleetConfig {
    /// How often a lease is renewed: a third of its length.
    pub fn heartbeat(lease_ms: u64) -> std::time::Duration {
        std::time::Duration::from_millis((lease_ms / 3).max(50))
    }
}

fn default_lease_ms() -> u64 {
    30_000
}

/// Chain, signer and transaction policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint.
    pub rpc_url: String,
    /// Expected chain id (checked against the node).
    pub chain_id: u64,
    /// The Guard contract.
    pub guard: Address,
    /// Blocks on top of the inclusion block before a batch counts as confirmed (1 = included).
    #[serde(default = "one")]
    pub confirmations: u64,
    /// Environment variable holding the signer's private key (hex).
    #[serde(default = "default_key_env")]
    pub signer_key_env: String,
    /// Or an encrypted JSON keystore file...
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    /// ...whose password is in this environment variable.
    #[serde(default = "default_keystore_password_env")]
    pub keystore_password_env: String,
    /// How often receipts are polled (ms).
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// A transaction without a receipt after this long gets its fees bumped (ms).
    #[serde(default = "default_stuck_ms")]
    pub stuck_after_ms: u64,
    /// Fee bump per replacement, percent (at least 10, what nodes require).
    #[serde(default = "default_bump")]
    pub fee_bump_percent: u64,
    /// Longest back-off between retries of transient RPC errors (ms).
    #[serde(default = "default_backoff_ms")]
    pub max_backoff_ms: u64,
    /// A proof is re-made with a fresh issue time when older than this at submission (s); keep it
    /// below the model policy's `maxAge`.
    #[serde(default = "default_max_age")]
    pub max_proof_age_s: u64,
    /// Environment variable holding the relayer's own attester key (hex), for models served with
    /// `attestation = "relayer"`. Must differ from the transaction signer's key.
    #[serde(default = "default_attester_key_env")]
    pub attester_key_env: String,
}

/// Proving settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvingConfig {
    /// Concurrent proofs (each takes one blocking thread and the circuit's memory).
    #[serde(default = "one_usize")]
    pub workers: usize,
    /// Memory the concurrent proofs of a process may use together, MB (0: only `workers` limits
    /// them). Each proof reserves its estimated peak first (an app proof's, or an aggregation's);
    /// an aggregation whose estimate exceeds the budget is never claimed by the process. The
    /// `prover` role reads `[prover] memory_budget_mb` first; `ZKGUARD_RELAYER_MEMORY_BUDGET_MB`
    /// overrides both for one process.
    #[serde(default)]
    pub memory_budget_mb: u64,
    /// Key and parameter cache directory.
    pub cache_dir: PathBuf,
    /// Use the INSECURE deterministic development setup (tests and local demos only).
    #[serde(default)]
    pub insecure_dev_srs: bool,
    /// Ceremony parameters file...
    #[serde(default)]
    pub srs: Option<PathBuf>,
    /// ...and its pinned sha256.
    #[serde(default)]
    pub srs_sha256: Option<String>,
    /// Advice-column budget of the app circuits (must match the deployed verifiers).
    #[serde(default = "default_columns")]
    pub max_columns: usize,
}

/// Settings of the `prover` role.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProverRoleConfig {
    /// This role's memory budget, MB, in place of `proving.memory_budget_mb` (0: unlimited).
    /// Batch mode's aggregation jobs are claimed only by a prover whose budget covers their
    /// estimated peak (`model::aggregation_memory_mb`); a prover with a smaller budget proves
    /// segments only.
    #[serde(default)]
    pub memory_budget_mb: Option<u64>,
}

/// When requests are flushed into a proof.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchingConfig {
    /// A partial batch is proved once its oldest request waited this long (ms).
    #[serde(default = "default_wait_ms")]
    pub max_wait_ms: u64,
}

impl Default for BatchingConfig {
    fn default() -> Self {
        Self { max_wait_ms: default_wait_ms() }
    }
}

/// Retention of finished jobs: confirmed and failed jobs (and their batches, transactions and
/// transitions) are deleted once unchanged for `finished_after_days`. Unfinished jobs are never
/// deleted. A pruned job's request id can be used again.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a finished job is kept after its last change (0: forever).
    #[serde(default = "default_retention_days")]
    pub finished_after_days: u64,
    /// How often the sweep runs (s).
    #[serde(default = "default_sweep_s")]
    pub sweep_interval_s: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { finished_after_days: default_retention_days(), sweep_interval_s: default_sweep_s() }
    }
}

impl RetentionConfig {
    /// The age past which a finished job is pruned, ms (`None`: kept forever).
    pub fn max_age_ms(&self) -> Option<i64> {
        (self.finished_after_days > 0).then(|| (self.finished_after_days as i64).saturating_mul(86_400_000))
    }
}

fn default_retention_days() -> u64 {
    30
}
fn default_sweep_s() -> u64 {
    3_600
}

/// A served model.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Registry model id (decimal).
    pub id: String,
    /// Model file (float model with `calibration`, or quantized).
    pub path: PathBuf,
    /// Calibration CSV for a float model.
    #[serde(default)]
    pub calibration: Option<PathBuf>,
    /// The circuit's batch size B (must match the registered verifier).
    pub batch_size: usize,
    /// Batch mode: aggregate this many app proofs (N, 1..=[`MAX_AGGREGATE`]) into one proof per
    /// transaction (the registered verifier must be the aggregation verifier of N proofs of the
    /// app circuit). Absent: direct mode (one app proof per transaction).
    #[serde(default)]
    pub aggregate: Option<usize>,
    /// Degree of the aggregation circuit (default `zkguard_prover::aggregate::config::default_k(N)`;
    /// must match the registered verifier). Only with `aggregate`.
    #[serde(default)]
    pub aggregation_k: Option<u32>,
    /// Where the attestations come from when the model's registered input policy is `Attested`:
    /// `client` (each request carries the data provider's signatures and is proved alone with
    /// the nonce, issue time and salt they sign), or `relayer` (the relayer signs with its own
    /// attester key: it then vouches for whatever rows its API clients send, so every API client
    /// is trusted for the data). Absent: the model must be registered `Submitters` (with the
    /// relayer's account) or `Open`.
    #[serde(default)]
    pub attestation: Option<AttestationSource>,
    /// How the circuit holds the model (`committed`, the default: one circuit per shape, the
    /// parameters private behind the commitment; `fixed`: the parameters are constants of the
    /// circuit, so the keys and the registered circuit digest pin this model). Must match the
    /// registered verifier.
    #[serde(default)]
    pub visibility: zkguard_prover::circuit::Visibility,
    /// The app circuit's layout (`zkguard_prover::circuit::config::Layout`): `compact`, the
    /// default (few tall columns, at most `proving.max_columns`; its Solidity verifier fits on
    /// chain), or `fast` (the Poseidon gate and many short columns: several times faster app
    /// proofs, but 7-27 KB proofs and a Solidity verifier over EIP-170). `fast` is refused at
    /// config load in both modes, naming the model and why: in direct mode its verifier does not
    /// deploy; in batch mode the aggregation verifier of its proofs was measured over EIP-170 at
    /// the default aggregation k. Must match the registered circuit (it is part of its digest).
    #[serde(default)]
    pub layout: Layout,
    /// Whether the proofs carry a score per sample (default true). `false`: decisions only, no
    /// score instances (enough for a policy on flagged counts or verdicts). Part of the circuit
    /// and of the registered identity (its score width is then 0).
    #[serde(default = "yes")]
    pub scores: bool,
}

impl ModelConfig {
    /// The app circuit of `model` (this model's file, loaded) as configured.
    pub fn app_shape(&self, model: &zkguard_prover::quant::QuantizedModel) -> zkguard_prover::circuit::AppShape {
        zkguard_prover::circuit::AppShape::for_model(model, self.batch_size, self.visibility).with_scores(self.scores)
    }

    /// The app circuit's configuration for `shape` in this model's layout (`proving.max_columns`
    /// bounds the compact layout only).
    pub fn app_circuit(
        &self,
        shape: &zkguard_prover::circuit::AppShape,
        proving: &ProvingConfig,
    ) -> Result<zkguard_prover::circuit::AppCircuitConfig, zkguard_prover::keys::KeyError> {
        Ok(zkguard_prover::circuit::AppCircuitConfig::for_layout(shape, self.layout, proving.max_columns)?)
    }
}

/// Who provides a served model's input attestations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttestationSource {
    /// The data provider, with each request.
    Client,
    /// The relayer's own attester key.
    Relayer,
}

/// Largest N the relayer aggregates (prover memory: k = 20 peaks ~3 GB, k = 21 ~6 GB, k = 22 ~12 GB).
pub const MAX_AGGREGATE: usize = 4;

impl ModelConfig {
    /// The aggregation degree in batch mode (`None` in direct mode).
    pub fn aggregation_degree(&self) -> Option<u32> {
        self.aggregate.map(|n| self.aggregation_k.unwrap_or_else(|| zkguard_prover::aggregate::config::default_k(n)))
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn one() -> u64 {
    1
}
fn one_usize() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn default_key_env() -> String {
    "ZKGUARD_RELAYER_KEY".into()
}
fn default_attester_key_env() -> String {
    "ZKGUARD_ATTESTER_KEY".into()
}
fn default_keystore_password_env() -> String {
    "ZKGUARD_RELAYER_KEYSTORE_PASSWORD".into()
}
fn default_poll_ms() -> u64 {
    250
}
fn default_stuck_ms() -> u64 {
    30_000
}
fn default_bump() -> u64 {
    20
}
fn default_backoff_ms() -> u64 {
    5_000
}
fn default_max_age() -> u64 {
    3_000
}
fn default_columns() -> usize {
    zkguard_prover::circuit::config::DEFAULT_MAX_ADVICE_COLUMNS
}
fn default_wait_ms() -> u64 {
    1_000
}

fn env_parse<T: std::str::FromStr>(name: &str, target: &mut T) -> Result<(), ConfigError> {
    if let Ok(value) = std::env::var(name) {
        *target = value.parse().map_err(|_| ConfigError::Env { name: name.into(), value })?;
    }
    Ok(())
}

impl Config {
    /// Reads `path`, applies environment overrides and validates. Relative paths in the file are
    /// relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.into(), source })?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.into(), source: Box::new(source) })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.apply_env()?;
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.database.resolve(base);
        fix(&mut self.proving.cache_dir);
        if let Some(p) = self.proving.srs.as_mut() {
            fix(p);
        }
        if let Some(p) = self.chain.keystore.as_mut() {
            fix(p);
        }
        if let Some(p) = self.address_file.as_mut() {
            fix(p);
        }
        for m in &mut self.models {
            fix(&mut m.path);
            if let Some(c) = m.calibration.as_mut() {
                fix(c);
            }
        }
    }

    /// `ZKGUARD_RELAYER_{LISTEN,DATABASE,TOKEN,RPC_URL,CHAIN_ID,GUARD,CONFIRMATIONS,WORKERS,MAX_WAIT_MS,
    /// RETENTION_DAYS,MEMORY_BUDGET_MB}` (the last one is this process's budget, whatever its role).
    pub fn apply_env(&mut self) -> Result<(), ConfigError> {
        env_parse("ZKGUARD_RELAYER_LISTEN", &mut self.listen)?;
        env_parse("ZKGUARD_RELAYER_DATABASE", &mut self.database)?;
        if let Ok(token) = std::env::var("ZKGUARD_RELAYER_TOKEN") {
            self.api_token = Secret::new(token);
        }
        env_parse("ZKGUARD_RELAYER_RPC_URL", &mut self.chain.rpc_url)?;
        env_parse("ZKGUARD_RELAYER_CHAIN_ID", &mut self.chain.chain_id)?;
        env_parse("ZKGUARD_RELAYER_GUARD", &mut self.chain.guard)?;
        env_parse("ZKGUARD_RELAYER_CONFIRMATIONS", &mut self.chain.confirmations)?;
        env_parse("ZKGUARD_RELAYER_WORKERS", &mut self.proving.workers)?;
        env_parse("ZKGUARD_RELAYER_MAX_WAIT_MS", &mut self.batching.max_wait_ms)?;
        env_parse("ZKGUARD_RELAYER_RETENTION_DAYS", &mut self.retention.finished_after_days)?;
        let name = "ZKGUARD_RELAYER_MEMORY_BUDGET_MB";
        if let Ok(value) = std::env::var(name) {
            let mb: u64 = value.parse().map_err(|_| ConfigError::Env { name: name.into(), value })?;
            self.proving.memory_budget_mb = mb;
            self.prover.memory_budget_mb = Some(mb);
        }
        Ok(())
    }

    /// The memory budget of a process in `role` (`"prover"` reads `[prover]` first), MB; 0:
    /// unlimited.
    pub fn memory_budget_mb(&self, role: &str) -> u64 {
        match (role, self.prover.memory_budget_mb) {
            ("prover", Some(mb)) => mb,
            _ => self.proving.memory_budget_mb,
        }
    }

    /// Checks ranges and required values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.api_token.expose().len() < 16 {
            return bad("the API token (ZKGUARD_RELAYER_TOKEN or api_token) must have at least 16 characters".into());
        }
        if self.models.is_empty() {
            return bad("no [[models]]".into());
        }
        for (i, m) in self.models.iter().enumerate() {
            if m.id.parse::<alloy::primitives::U256>().is_err() {
                return bad(format!("models[{i}].id {:?} is not a decimal uint256", m.id));
            }
            if m.batch_size == 0 {
                return bad(format!("models[{i}].batch_size must be > 0"));
            }
            if let Some(n) = m.aggregate {
                if !(1..=MAX_AGGREGATE).contains(&n) {
                    return bad(format!(
                        "models[{i}].aggregate = {n}: batch mode aggregates 1..={MAX_AGGREGATE} proofs"
                    ));
                }
            }
            if let Some(k) = m.aggregation_k {
                use zkguard_prover::aggregate::config::{MAX_K, MIN_K};
                if m.aggregate.is_none() {
                    return bad(format!("models[{i}].aggregation_k is set without aggregate (batch mode)"));
                }
                if !(MIN_K..=MAX_K).contains(&k) {
                    return bad(format!("models[{i}].aggregation_k = {k} is outside {MIN_K}..={MAX_K}"));
                }
            }
            if m.layout != Layout::Compact {
                let why = match m.aggregate {
                    None => {
                        "in direct mode each app proof is verified on chain by the circuit's own Solidity \
                             verifier, which for this layout is over EIP-170's 24,576 bytes (the Poseidon gate's \
                             unrolled constraints and 22 more columns: ~50 KB for the demo circuit; ~790k gas \
                             per verify on the shared verifier)"
                    }
                    Some(_) => {
                        "in batch mode the aggregation circuit verifying fast-layout app proofs needs more \
                                columns, and its Solidity verifier is over EIP-170's 24,576 bytes at the default \
                                aggregation k (measured: 25,713 bytes for N = 1 at k = 20, against 18,060 for \
                                compact app proofs; docs/PROVER_SPEED.md), while the app proofs it would speed up \
                                are a small part of a batch's proving time"
                    }
                };
                return bad(format!(
                    "models[{i}] (id {}): layout = \"{}\" is refused: {why}; use layout = \"compact\" (the fast \
                     layout is for proofs verified off chain: zkguard prove/verify --layout fast, or Python)",
                    m.id, m.layout
                ));
            }
            if self.models[..i].iter().any(|o| o.id == m.id) {
                return bad(format!("model id {} appears twice", m.id));
            }
        }
        if self.retention.sweep_interval_s == 0 {
            return bad("retention.sweep_interval_s must be > 0".into());
        }
        if self.fleet.prover_lease_ms < 300 || self.fleet.submitter_lease_ms < 300 {
            return bad("fleet.prover_lease_ms and fleet.submitter_lease_ms must be >= 300".into());
        }
        if self.proving.workers == 0 {
            return bad("proving.workers must be > 0".into());
        }
        if self.chain.confirmations == 0 {
            return bad("chain.confirmations must be >= 1".into());
        }
        if self.chain.fee_bump_percent < 10 {
            return bad("chain.fee_bump_percent must be >= 10 (nodes refuse smaller replacements)".into());
        }
        self.srs()?;
        Ok(())
    }

    /// The KZG parameter source (`SrsSource::choose`, shared with the CLI's flags): a ceremony
    /// file with its pinned sha256, or the insecure setup only when asked for.
    pub fn srs(&self) -> Result<zkguard_prover::keys::SrsSource, ConfigError> {
        let p = &self.proving;
        zkguard_prover::keys::SrsSource::choose(p.srs.as_deref(), p.srs_sha256.as_deref(), p.insecure_dev_srs).map_err(
            |e| {
                ConfigError::Invalid(format!(
                    "{e}: set proving.srs and proving.srs_sha256, or proving.insecure_dev_srs = true (development only)"
                ))
            },
        )
    }
}

/// A minimal valid configuration for unit tests: one model `model_id` at `model_path`, batch 4,
/// the INSECURE dev SRS (the one place tests write this TOML out).
#[cfg(test)]
pub(crate) fn test_config(model_id: &str, model_path: &std::path::Path) -> Config {
    let toml = tests::MINIMAL
        .replace("id = \"1\"", &format!("id = \"{model_id}\""))
        .replace("\"m.json\"", &format!("{:?}", model_path.display().to_string()));
    toml::from_str(&toml).expect("the test configuration parses")
}

#[cfg(test)]
mod tests;
