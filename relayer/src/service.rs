//! Wires the service together: store, the registration check of every model (before any key is
//! loaded), models, signer, provider, recovery of unfinished work, the batcher, the proving pool,
//! the submitter and the HTTP server; graceful shutdown on SIGINT/SIGTERM (in-flight work is
//! persisted at every step, so stopping parks it safely).

use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use tokio::sync::{watch, Notify};

use crate::chain::registration::{self, RegistrationError};
use crate::chain::rpc::with_retry;
use crate::chain::signer::{load_signer, SignerError};
use crate::chain::submitter::{run_elected, Election};
use crate::chain::Submitter;
use crate::config::Config;
use crate::intake::{router, AppState, ProofIntake};
use crate::metrics::Metrics;
use crate::model::{load_models, AggregationKeysPolicy, ModelLoadError};
use crate::store::lease::default_worker_name;
use crate::store::{BatchState, BatchUpdate, JobStore, StoreError};
use crate::worker::ProverPool;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Models.
    #[error(transparent)]
    Model(#[from] ModelLoadError),
    /// Signer.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// The RPC URL does not parse.
    #[error("chain.rpc_url {0:?} is not a URL")]
    RpcUrl(String),
    /// The node is on another chain.
    #[error("the node reports chain id {got}, the config says {expected}")]
    ChainId {
        /// Configured.
        expected: u64,
        /// Reported.
        got: u64,
    },
    /// RPC.
    #[error("chain: {0}")]
    Rpc(String),
    /// A model's registration does not match the configuration (or it is unregistered, retired).
    #[error("refusing to start: {0}")]
    Registration(#[from] RegistrationError),
    /// The relayer cannot satisfy a model's input policy (or its attester key is unusable).
    #[error("refusing to start: {0}")]
    InputPolicy(String),
    /// A model's registered input policy could not be read or cannot be satisfied.
    #[error("refusing to start: {0}")]
    InputPolicyCheck(#[from] crate::chain::inputs::InputPolicyError),
    /// Listening or serving.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
}

/// What a process of the fleet does (`--role`); `all` is the single process of one machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// The HTTP API and the batcher: writes jobs and batches, reads state.
    Intake,
    /// Claims batches, proves them, stores the proofs.
    Prover,
    /// Signs and sends proved batches and follows them to confirmation; one active per signing
    /// account, the others stand by.
    Submitter,
    /// Everything in one process (the default).
    All,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Intake => "intake",
            Role::Prover => "prover",
            Role::Submitter => "submitter",
            Role::All => "all",
        }
    }
    fn takes_requests(self) -> bool {
        matches!(self, Role::Intake | Role::All)
    }
    fn proves(self) -> bool {
        matches!(self, Role::Prover | Role::All)
    }
    fn submits(self) -> bool {
        matches!(self, Role::Submitter | Role::All)
    }
}

/// How long start-up waits for the node to report its chain id.
const STARTUP_CHAIN_CHECK: Duration = Duration::from_secs(10);

/// Moves batches that were being proved when the process stopped back to `created`.
pub fn recover(store: &dyn JobStore) -> Result<usize, StoreError> {
    let stuck = store.batches_in(&[BatchState::Proving])?;
    for b in &stuck {
        store.transition(
            b.id,
            BatchState::Proving,
            BatchState::Created,
            &BatchUpdate::default(),
            "resumed after restart",
        )?;
    }
    // Its segment leases too: batch mode's stored segment proofs are kept, the ones it was proving
    // are claimable again at once.
    let segments = store.release_segment_leases()?;
    let pending = store.batches_in(&[BatchState::Created, BatchState::Proved, BatchState::Signed, BatchState::Sent])?;
    if !pending.is_empty() {
        tracing::info!(batches = pending.len(), reproving = stuck.len(), segments, "resuming unfinished batches");
    }
    Ok(stuck.len())
}

/// Rows deleted per retention transaction (short, so the store lock is never held for long).
const PRUNE_CHUNK: usize = 500;

/// Deletes finished jobs (and batches) older than the retention age, in short transactions on
/// the blocking pool; returns the totals. Unfinished jobs are never deleted ([`JobStore::prune_finished`]).
pub async fn prune_once(store: Arc<dyn JobStore>, max_age_ms: i64) -> Result<crate::store::Pruned, StoreError> {
    let before = crate::store::now_ms().saturating_sub(max_age_ms);
    let mut total = crate::store::Pruned::default();
    loop {
        let s = store.clone();
        let step = tokio::task::spawn_blocking(move || s.prune_finished(before, PRUNE_CHUNK))
            .await
            .map_err(|e| StoreError::NotFound(format!("the retention sweep panicked: {e}")))??;
        total.jobs += step.jobs;
        total.batches += step.batches;
        if step.jobs < PRUNE_CHUNK && step.batches < PRUNE_CHUNK {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Runs the retention sweep every `sweep_interval_s` until shutdown (nothing when jobs are kept
/// forever).
pub async fn run_retention(
    store: Arc<dyn JobStore>,
    retention: crate::config::RetentionConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(max_age_ms) = retention.max_age_ms() else { return };
    loop {
        match prune_once(store.clone(), max_age_ms).await {
            Ok(p) if p.jobs + p.batches > 0 => {
                tracing::info!(
                    jobs = p.jobs,
                    batches = p.batches,
                    days = retention.finished_after_days,
                    "retention: pruned finished work"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(retention.sweep_interval_s)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Checks every configured model's registration against what the relayer will prove
/// ([`registration`]); returns the models it could not check because the node does not answer
/// (all of them when `chain_answers` is false), for the submitter to check before their first
/// submission. A mismatch, an unregistered or a retired model is an error.
pub async fn check_registrations(
    config: &Config,
    provider: &alloy::providers::DynProvider,
    metrics: &Metrics,
    backoff: Duration,
    chain_answers: bool,
) -> Result<Vec<String>, ServiceError> {
    let mut unchecked = vec![];
    for m in &config.models {
        if !chain_answers {
            unchecked.push(m.id.clone());
            continue;
        }
        let expected = {
            let (config, model) = (config.clone(), m.clone());
            tokio::task::spawn_blocking(move || registration::expected_from_config(&config, &model))
                .await
                .map_err(|e| ServiceError::Rpc(format!("model {}: computing its circuit panicked: {e}", m.id)))??
        };
        let check = registration::check(provider, metrics, backoff, config.chain.guard, &expected);
        match tokio::time::timeout(STARTUP_CHAIN_CHECK, check).await {
            Ok(result) => {
                result?;
                tracing::info!(model = %m.id, mode = %expected.mode, digest = %expected.identity.digest,
                    "the registered verifier matches the configuration");
            }
            Err(_) => {
                tracing::warn!(model = %m.id, "the node does not answer: the registration is checked before the first submission");
                unchecked.push(m.id.clone());
            }
        }
    }
    Ok(unchecked)
}

/// The relayer's own attester key, when a model is served with `attestation = "relayer"`: from
/// `chain.attester_key_env` (never logged), and never the transaction signer's key.
pub fn load_attester(config: &Config, signer: Address) -> Result<Option<PrivateKeySigner>, ServiceError> {
    use crate::config::AttestationSource;
    if !config.models.iter().any(|m| m.attestation == Some(AttestationSource::Relayer)) {
        return Ok(None);
    }
    let var = &config.chain.attester_key_env;
    let key = crate::secret::Secret::new(std::env::var(var).map_err(|_| {
        ServiceError::InputPolicy(format!(
            "a model is attested by the relayer: set {var} to the attester's hex private key"
        ))
    })?);
    let attester: PrivateKeySigner = key
        .expose()
        .trim()
        .parse()
        .map_err(|_| ServiceError::InputPolicy(format!("{var} does not hold a valid hex private key")))?;
    if attester.address() == signer {
        return Err(ServiceError::InputPolicy(format!(
            "{var} holds the transaction signer's key: the attester key must be a different account"
        )));
    }
    tracing::info!(attester = %attester.address(), "relayer attester key loaded (the relayer vouches for its clients' rows)");
    Ok(Some(attester))
}

/// Reads every model's registered input policy and refuses to start when the relayer cannot
/// satisfy it (see [`crate::chain::inputs::check_satisfiable`]). When the node does not answer,
/// nothing is read: client attestations are then refused (503) until a restart reads them.
pub async fn check_input_policies(
    config: &Config,
    provider: &alloy::providers::DynProvider,
    chain_answers: bool,
    signer: Address,
    attester: &Option<PrivateKeySigner>,
) -> Result<Vec<(String, crate::chain::inputs::RegisteredInputs)>, ServiceError> {
    let mut out = vec![];
    if !chain_answers {
        return Ok(out);
    }
    for m in &config.models {
        let read = crate::chain::inputs::read(provider, config.chain.guard, &m.id);
        let registered = match tokio::time::timeout(STARTUP_CHAIN_CHECK, read).await {
            Ok(r) => r?,
            Err(_) => continue,
        };
        crate::chain::inputs::check_satisfiable(
            &m.id,
            &registered,
            m.attestation,
            signer,
            attester.as_ref().map(|a| a.address()),
        )?;
        tracing::info!(model = %m.id, mode = ?registered.mode, threshold = registered.threshold,
            source = ?m.attestation, "input policy satisfiable");
        out.push((m.id.clone(), registered));
    }
    Ok(out)
}

/// Reads every model's registered input policy (the intake role checks client attestations
/// against it; only the roles that submit need to satisfy it). Nothing when the node is away.
pub async fn read_input_policies(
    config: &Config,
    provider: &alloy::providers::DynProvider,
    chain_answers: bool,
) -> Result<Vec<(String, crate::chain::inputs::RegisteredInputs)>, ServiceError> {
    let mut out = vec![];
    if !chain_answers {
        return Ok(out);
    }
    for m in &config.models {
        let read = crate::chain::inputs::read(provider, config.chain.guard, &m.id);
        match tokio::time::timeout(STARTUP_CHAIN_CHECK, read).await {
            Ok(r) => out.push((m.id.clone(), r?)),
            Err(_) => continue,
        }
    }
    Ok(out)
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Runs the service in the `all` role until `stop` resolves, with the signer the config names
/// (env var or keystore).
pub async fn serve(
    config: Config,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    serve_role(config, Role::All, stop).await
}

/// Runs one role until `stop` resolves; the signer is loaded only by the roles that submit.
pub async fn serve_role(
    config: Config,
    role: Role,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let signer = if role.submits() { Some(load_signer(&config.chain)?) } else { None };
    run(config, role, signer, stop).await
}

/// Runs the service in the `all` role until `stop` resolves, submitting with `signer` (for
/// embedding the service in another process, e.g. `zkguard demo`, without putting the key in
/// the environment).
pub async fn serve_with_signer(
    config: Config,
    signer: PrivateKeySigner,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    run(config, Role::All, Some(signer), stop).await
}

/// Opens the configured store on the blocking pool (connecting to PostgreSQL can take seconds).
pub async fn open_store(config: &Config) -> Result<Arc<dyn JobStore>, ServiceError> {
    let url = config.database.clone();
    let store = tokio::task::spawn_blocking(move || crate::store::open(&url))
        .await
        .map_err(|e| ServiceError::Rpc(format!("opening the store panicked: {e}")))??;
    let (version, _) = store.schema_version()?;
    tracing::info!(database = %config.database.redacted(), schema = version, "job store open");
    Ok(store)
}

/// Runs `role`. Every role opens the store first (a bad URL, refused credentials or a newer
/// schema stop it before anything else is done).
async fn run(
    config: Config,
    role: Role,
    signer: Option<PrivateKeySigner>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let store = open_store(&config).await?;
    let worker = config.fleet.worker_name.clone().unwrap_or_else(|| default_worker_name(role.as_str()));
    tracing::info!(role = role.as_str(), worker = %worker, "starting");
    let url = config.chain.rpc_url.parse().map_err(|_| ServiceError::RpcUrl(config.chain.rpc_url.clone()))?;
    let provider = ProviderBuilder::new().disable_recommended_fillers().connect_http(url).erased();
    let metrics = Arc::new(Metrics::default());
    if let Some(signer) = &signer {
        tracing::info!(address = %signer.address(), guard = %config.chain.guard, "signer loaded");
        metrics.set_account(signer.address().to_string());
    }
    let backoff = Duration::from_millis(config.chain.max_backoff_ms);
    // A prover needs no node: its proofs are bound to the configured chain and Guard.
    let (unchecked, attester, policies) = if role == Role::Prover {
        (vec![], None, vec![])
    } else {
        // Fail fast on a node of another chain; if the node is away, start anyway (intake and
        // proving do not need it) and let the submitter check the chain id before its first
        // transaction.
        let check = tokio::time::timeout(
            STARTUP_CHAIN_CHECK,
            with_retry("chainId", backoff, &metrics, || provider.get_chain_id()),
        );
        let chain_answers = match check.await {
            Ok(Ok(id)) if id != config.chain.chain_id => {
                return Err(ServiceError::ChainId { expected: config.chain.chain_id, got: id })
            }
            Ok(Ok(_)) => true,
            Ok(Err(e)) => return Err(ServiceError::Rpc(e.to_string())),
            Err(_) => {
                tracing::warn!(rpc = %config.chain.rpc_url, "the node does not answer; starting anyway, submission will retry");
                false
            }
        };
        // Before any key is loaded (aggregation keygen takes minutes): does the registry hold the
        // verifier this configuration proves for? If the node is away, the submitter checks later.
        let unchecked = check_registrations(&config, &provider, &metrics, backoff, chain_answers).await?;
        let signer_address = signer.as_ref().map(|s| s.address()).unwrap_or_default();
        let attester = if role.submits() { load_attester(&config, signer_address)? } else { None };
        let policies = if role.submits() {
            check_input_policies(&config, &provider, chain_answers, signer_address, &attester).await?
        } else {
            read_input_policies(&config, &provider, chain_answers).await?
        };
        (unchecked, attester, policies)
    };
    let models = {
        let config = config.clone();
        // Only a process that may aggregate holds aggregation keys (gigabytes each).
        let policy = if role.proves() {
            AggregationKeysPolicy::WithinBudget(config.memory_budget_mb(role.as_str()))
        } else {
            AggregationKeysPolicy::Skip
        };
        tokio::task::spawn_blocking(move || load_models(&config, policy))
            .await
            .map_err(|e| ServiceError::Rpc(format!("model loading panicked: {e}")))??
    };
    for (id, registered) in policies {
        if let Some(model) = models.get(&id) {
            let _ = model.input_policy.set(crate::model::InputPolicyContext {
                registered,
                chain_id: config.chain.chain_id,
                guard: config.chain.guard,
                max_age_s: config.chain.max_proof_age_s,
            });
        }
    }
    // One process on the embedded database owns every batch: the ones it was proving when it
    // stopped are proved again now. In a fleet, leases expire instead (another prover may be
    // proving them right now).
    if role == Role::All && !config.database.is_shared() {
        recover(store.as_ref())?;
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let (new_job, new_batch, proved) = (Arc::new(Notify::new()), Arc::new(Notify::new()), Arc::new(Notify::new()));
    let mut tasks = vec![];
    if role.takes_requests() {
        tasks.push(tokio::spawn(crate::batcher::run(
            store.clone(),
            models.clone(),
            config.batching.max_wait_ms,
            new_job.clone(),
            new_batch.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(run_retention(store.clone(), config.retention.clone(), stop_rx.clone())));
    }
    if role.proves() {
        let pool = ProverPool {
            store: store.clone(),
            models: models.clone(),
            chain_id: config.chain.chain_id,
            guard: config.chain.guard,
            workers: config.proving.workers,
            memory_budget_mb: config.memory_budget_mb(role.as_str()),
            metrics: metrics.clone(),
            new_batch: new_batch.clone(),
            proved: proved.clone(),
            worker: worker.clone(),
            lease_ms: config.fleet.prover_lease_ms,
        };
        tasks.push(tokio::spawn(pool.run(stop_rx.clone())));
    }
    if let Some(signer) = signer.filter(|_| role.submits()) {
        let election = Election {
            account: signer.address().to_string(),
            holder: worker.clone(),
            lease_ms: config.fleet.submitter_lease_ms,
        };
        let wallet = EthereumWallet::from(signer);
        let (store_, models, provider, chain, metrics_, proved, new_batch) = (
            store.clone(),
            models.clone(),
            provider.clone(),
            config.chain.clone(),
            metrics.clone(),
            proved.clone(),
            new_batch.clone(),
        );
        let make = move || {
            Submitter::new(
                store_.clone(),
                models.clone(),
                provider.clone(),
                wallet.clone(),
                chain.clone(),
                metrics_.clone(),
                proved.clone(),
                new_batch.clone(),
            )
            .with_unchecked_registrations(unchecked.clone())
            .with_attester(attester.clone())
        };
        if role == Role::All && !config.database.is_shared() {
            // One process on the embedded database is the only submitter there can be: no
            // election (a restart after a crash resumes at once, not after the old lease).
            metrics.set_submitter_active(true);
            tasks.push(tokio::spawn(make().run(stop_rx.clone())));
        } else {
            tasks.push(tokio::spawn(run_elected(store.clone(), election, metrics.clone(), make, stop_rx.clone())));
        }
    }

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let bound = listener.local_addr()?;
    if let Some(path) = &config.address_file {
        std::fs::write(path, bound.to_string())?;
    }
    tracing::info!(address = %bound, role = role.as_str(), "listening");
    let app = if role.takes_requests() {
        let proofs = ProofIntake {
            chain_id: config.chain.chain_id,
            guard: config.chain.guard,
            max_proof_age_s: config.chain.max_proof_age_s,
            provider,
            verify_slots: Arc::new(tokio::sync::Semaphore::new(crate::intake::proofs::MAX_CONCURRENT_VERIFICATIONS)),
        };
        router(AppState { store, models, token: config.api_token.clone(), metrics, new_job, proofs, proved })
    } else {
        crate::metrics::router(store, metrics)
    };
    axum::serve(listener, app).with_graceful_shutdown(stop).await?;
    tracing::info!("shutting down: work in flight is persisted and resumes on the next start");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        for task in tasks {
            let _ = task.await;
        }
    })
    .await;
    Ok(())
}
