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
use crate::chain::Submitter;
use crate::config::Config;
use crate::intake::{router, AppState, ProofIntake};
use crate::metrics::Metrics;
use crate::model::{load_models, ModelLoadError};
use crate::store::{BatchState, BatchUpdate, JobStore, SqliteStore, StoreError};
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
    /// Listening or serving.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
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
    let pending = store.batches_in(&[BatchState::Created, BatchState::Proved, BatchState::Signed, BatchState::Sent])?;
    if !pending.is_empty() {
        tracing::info!(batches = pending.len(), reproving = stuck.len(), "resuming unfinished batches");
    }
    Ok(stuck.len())
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
                tracing::info!(model = %m.id, mode = %expected.mode, digest = %expected.circuit_digest,
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
            Ok(r) => r.map_err(|e| ServiceError::InputPolicy(e.to_string()))?,
            Err(_) => continue,
        };
        crate::chain::inputs::check_satisfiable(
            &m.id,
            &registered,
            m.attestation,
            signer,
            attester.as_ref().map(|a| a.address()),
        )
        .map_err(|e| ServiceError::InputPolicy(e.to_string()))?;
        tracing::info!(model = %m.id, mode = ?registered.mode, threshold = registered.threshold,
            source = ?m.attestation, "input policy satisfiable");
        out.push((m.id.clone(), registered));
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

/// Runs the service until `stop` resolves, with the signer the config names (env var or keystore).
pub async fn serve(
    config: Config,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let signer = load_signer(&config.chain)?;
    serve_with_signer(config, signer, stop).await
}

/// Runs the service until `stop` resolves, submitting with `signer` (for embedding the service in
/// another process, e.g. `zkguard demo`, without putting the key in the environment).
pub async fn serve_with_signer(
    config: Config,
    signer: PrivateKeySigner,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let store: Arc<dyn JobStore> = Arc::new(SqliteStore::open(&config.database)?);
    tracing::info!(address = %signer.address(), guard = %config.chain.guard, "signer loaded");
    let url = config.chain.rpc_url.parse().map_err(|_| ServiceError::RpcUrl(config.chain.rpc_url.clone()))?;
    let provider = ProviderBuilder::new().disable_recommended_fillers().connect_http(url).erased();
    let metrics = Arc::new(Metrics::default());
    let backoff = Duration::from_millis(config.chain.max_backoff_ms);
    // Fail fast on a node of another chain; if the node is away, start anyway (intake and proving
    // do not need it) and let the submitter check the chain id before its first transaction.
    let check =
        tokio::time::timeout(STARTUP_CHAIN_CHECK, with_retry("chainId", backoff, &metrics, || provider.get_chain_id()));
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
    let attester = load_attester(&config, signer.address())?;
    let policies = check_input_policies(&config, &provider, chain_answers, signer.address(), &attester).await?;
    let models = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || load_models(&config))
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
    recover(store.as_ref())?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let (new_job, new_batch, proved) = (Arc::new(Notify::new()), Arc::new(Notify::new()), Arc::new(Notify::new()));
    let proof_stored = proved.clone();
    let batcher = tokio::spawn(crate::batcher::run(
        store.clone(),
        models.clone(),
        config.batching.max_wait_ms,
        new_job.clone(),
        new_batch.clone(),
        stop_rx.clone(),
    ));
    let pool = ProverPool {
        store: store.clone(),
        models: models.clone(),
        chain_id: config.chain.chain_id,
        guard: config.chain.guard,
        workers: config.proving.workers,
        memory_budget_mb: config.proving.memory_budget_mb,
        metrics: metrics.clone(),
        new_batch: new_batch.clone(),
        proved: proved.clone(),
    };
    let provers = tokio::spawn(pool.run(stop_rx.clone()));
    let proof_provider = provider.clone();
    let submitter = Submitter::new(
        store.clone(),
        models.clone(),
        provider,
        EthereumWallet::from(signer),
        config.chain.clone(),
        metrics.clone(),
        proved,
        new_batch,
    )
    .with_unchecked_registrations(unchecked)
    .with_attester(attester);
    let submitter = tokio::spawn(submitter.run(stop_rx.clone()));

    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let bound = listener.local_addr()?;
    if let Some(path) = &config.address_file {
        std::fs::write(path, bound.to_string())?;
    }
    tracing::info!(address = %bound, "listening");
    let proofs = ProofIntake {
        chain_id: config.chain.chain_id,
        guard: config.chain.guard,
        max_proof_age_s: config.chain.max_proof_age_s,
        provider: proof_provider,
        verify_slots: Arc::new(tokio::sync::Semaphore::new(crate::intake::proofs::MAX_CONCURRENT_VERIFICATIONS)),
    };
    let app = router(AppState {
        store,
        models,
        token: config.api_token.clone(),
        metrics,
        new_job,
        proofs,
        proved: proof_stored,
    });
    axum::serve(listener, app).with_graceful_shutdown(stop).await?;
    tracing::info!("shutting down: work in flight is persisted and resumes on the next start");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = tokio::join!(batcher, provers, submitter);
    })
    .await;
    Ok(())
}
