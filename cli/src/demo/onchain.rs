//! The demo's chain half: anvil, the deployment, the relayer (in-process, SQLite), streaming the
//! feed through its HTTP API, following every job to confirmation, and reading back what the
//! contracts did (the breaker's trip, the vault's refusal, the filter's verdicts, the token's
//! refusal). Both models take attested inputs only: the data provider (anvil account 3) signs
//! every request, and two attackers without its signature are refused first. Anvil's dev keys
//! used here are PUBLIC: local chain only.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngCore;
use zkguard_contracts::deploy::{anvil, deploy_stack, register_model, ContractArtifacts};
use zkguard_contracts::registration::{Action, InputPolicyArgs, PolicyArgs};
use zkguard_contracts::rpc::{
    CircuitBreaker as IBreaker, FilteredToken as IToken, ProtectedVault as IVault, VerdictFilter as IFilter,
};
use zkguard_relayer::client::Client;
use zkguard_relayer::config::Config;
use zkguard_relayer::intake::JobResponse;
use zkguard_relayer::secret::Secret;

use super::attacks;
use super::feed::Transaction;
use super::provider::{DataProvider, Rows};
use super::stage::Stages;
use super::{
    model_id, results, CheckedModel, DemoArgs, DemoOutcome, ModelDeployment, BREAKER_MODEL_ID, FILTER_MODEL_ID, POLL,
};

const ETHER: u64 = 1_000_000_000_000_000_000;

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(ETHER)
}

fn provider(signer: PrivateKeySigner, url: alloy::transports::http::reqwest::Url) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(url).erased()
}

/// A request the demo sent.
struct Sent {
    id: String,
    model: u64,
    /// Window index (breaker) or screening request index.
    index: usize,
    subjects: Vec<String>,
    final_state: Option<JobResponse>,
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
}

/// The relayer's configuration for the two demo models (no secret in it: the API token is set
/// in memory and the signer passed directly).
fn relayer_config(
    args: &DemoArgs,
    rpc_url: &str,
    chain_id: u64,
    guard: Address,
    db: &Path,
    address_file: &Path,
) -> anyhow::Result<String> {
    let q = |p: &Path| -> anyhow::Result<String> { Ok(format!("{:?}", absolute(p)?.display().to_string())) };
    Ok(format!(
        r#"# Written by `zkguard demo` (the API token is generated per run and never written; the signer is
# anvil's PUBLIC dev account 1). Relative paths are not used: everything is absolute.
listen = "127.0.0.1:0"
database = {db}
address_file = {addr}

[chain]
rpc_url = "{rpc_url}"
chain_id = {chain_id}
guard = "{guard}"
confirmations = 1
poll_interval_ms = 100

[proving]
workers = 1
cache_dir = {cache}
insecure_dev_srs = true

[batching]
max_wait_ms = 500

# Both models take attested inputs: each request carries the data provider's signatures.
[[models]]
id = "{BREAKER_MODEL_ID}"
path = {bm}
calibration = {bd}
batch_size = {window}
attestation = "client"
visibility = "{visibility}"

[[models]]
id = "{FILTER_MODEL_ID}"
path = {fm}
calibration = {fd}
batch_size = {fb}
aggregate = {n}
attestation = "client"
visibility = "{visibility}"
"#,
        db = q(db)?,
        addr = q(address_file)?,
        cache = q(&args.cache_dir)?,
        bm = q(&args.breaker_model)?,
        bd = q(&args.breaker_data)?,
        fm = q(&args.filter_model)?,
        fd = q(&args.filter_data)?,
        window = args.window,
        fb = args.filter_batch,
        n = args.aggregate,
        visibility = args.visibility,
    ))
}

/// The vault's revert, decoded (`EnforcedPause()` when paused).
fn vault_refusal(err: &alloy::contract::Error) -> String {
    match err.as_decoded_error::<IVault::EnforcedPause>() {
        Some(_) => "EnforcedPause()".into(),
        None => err.to_string(),
    }
}

/// The token's revert, decoded (`SubjectNotAllowed(subject)` for a flagged party).
fn token_refusal(err: &alloy::contract::Error) -> String {
    match err.as_decoded_error::<IToken::SubjectNotAllowed>() {
        Some(e) => format!("SubjectNotAllowed({})", e.subject),
        None => err.to_string(),
    }
}

/// `n` drain-like rows: the feed's rows the model flags, repeated (invented: never observed as a
/// window by the data provider).
fn drain_rows(feed: &[Transaction], model: &zkguard_prover::quant::QuantizedModel, n: usize) -> Vec<Vec<f64>> {
    let flagged: Vec<Vec<f64>> = feed
        .iter()
        .filter(|t| {
            model.quantize_input(&t.features).ok().and_then(|q| model.infer(&q).ok()).is_some_and(|o| o.decision)
        })
        .map(|t| t.features.clone())
        .collect();
    flagged.into_iter().cycle().take(n).collect()
}

/// Runs the chain half of the demo. Returns the anvil instance so the caller can shut the
/// runtime (and the providers' pollers) down before anvil stops.
pub(crate) async fn run(
    args: &DemoArgs,
    stages: &mut Stages,
    breaker: &CheckedModel,
    filter: &CheckedModel,
    feed_breaker: &[Transaction],
    feed_filter: &[Transaction],
) -> anyhow::Result<(DemoOutcome, AnvilInstance)> {
    let (Some(breaker_circuit), Some(filter_circuit)) = (&breaker.circuit, &filter.circuit) else {
        bail!("internal: circuits not prepared");
    };
    stages.start("chain: anvil on a free loopback port; deploy the contracts and both verifiers");
    let anvil = anvil::spawn(&anvil::anvil_binary(&args.root))?;
    let url = anvil.endpoint_url();
    let keys = anvil.keys();
    let owner_signer: PrivateKeySigner = keys[0].clone().into();
    let relayer_signer: PrivateKeySigner = keys[1].clone().into();
    let user_signer: PrivateKeySigner = keys[2].clone().into();
    let provider_signer: PrivateKeySigner = keys[3].clone().into();
    let attacker_signer: PrivateKeySigner = keys[4].clone().into();
    let (owner_address, user_address) = (owner_signer.address(), user_signer.address());
    let owner = provider(owner_signer, url.clone());
    let user = provider(user_signer, url.clone());
    let attacker = provider(attacker_signer, url.clone());
    let chain_id = owner.get_chain_id().await?;
    stages.line(format!("anvil at {url} (chain id {chain_id}); deployer = anvil account 0 (PUBLIC dev key)"));
    let artifacts = ContractArtifacts::new(&args.contracts_out);
    let stack = deploy_stack(&owner, owner_address, &artifacts, 86_400, ether(1_000_000)).await?;
    stages.line(format!(
        "registry {}, Guard {}, breaker {}, filter {}, vault {}, token {}",
        stack.registry, stack.guard, stack.breaker, stack.filter, stack.vault, stack.token
    ));
    let mut deployments = Vec::new();
    for (m, circuit, id, policy) in [
        (
            breaker,
            breaker_circuit,
            BREAKER_MODEL_ID,
            PolicyArgs {
                action: Action::Breaker,
                max_age: 3_600,
                min_flagged: args.min_flagged,
                score_threshold: None,
                window: None,
            },
        ),
        (
            filter,
            filter_circuit,
            FILTER_MODEL_ID,
            PolicyArgs { action: Action::Filter, max_age: 3_600, min_flagged: 1, score_threshold: None, window: None },
        ),
    ] {
        let inputs = InputPolicyArgs::Attested { threshold: 1, attesters: vec![provider_signer.address()] };
        let registration = circuit.registration(model_id(id), policy, inputs)?;
        let deployed = register_model(&owner, &stack, &artifacts, &registration).await?;
        let action = match policy.action {
            Action::Breaker => format!("pause the vault when >= {} of a window are flagged", policy.min_flagged),
            _ => "record a verdict per subject in the filter".to_string(),
        };
        let verifier = match deployed.verifying_key {
            Some(key) => format!(
                "shared verifier {} ({}), key {key} ({} gas), wrapper {} ({} gas): {} gas for this model",
                deployed.raw_verifier,
                if deployed.raw_verifier_reused {
                    "already deployed: reused".to_string()
                } else {
                    format!("deployed through CREATE2: {} gas, once per proof system", deployed.verifier_deploy_gas)
                },
                deployed.key_deploy_gas,
                deployed.verifier,
                deployed.wrapper_deploy_gas,
                deployed.model_deploy_gas()
            ),
            None => format!(
                "unrolled verifier {} ({} gas), wrapper {} ({} gas): {} gas for this model",
                deployed.raw_verifier,
                deployed.verifier_deploy_gas,
                deployed.verifier,
                deployed.wrapper_deploy_gas,
                deployed.model_deploy_gas()
            ),
        };
        stages.line(format!(
            "model {id} = {} ({}): {verifier}; policy: {action}; inputs: attested by the data provider {} (anvil \
             account 3, PUBLIC dev key)",
            m.check.model,
            circuit.mode(),
            provider_signer.address()
        ));
        deployments.push(ModelDeployment {
            model_id: id,
            mode: circuit.mode(),
            model_deploy_gas: deployed.model_deploy_gas(),
            registered: deployed,
        });
    }
    let vault = IVault::new(stack.vault, &user);
    vault.deposit().value(ether(10)).send().await?.get_receipt().await?;
    let receipt = vault.withdraw(user_address, ether(1)).send().await?.get_receipt().await?;
    if !receipt.status() {
        bail!("the vault refused a withdrawal before any proof");
    }
    stages.line(format!("user {user_address} deposited 10 ETH into the vault and withdrew 1 ETH: the vault is open"));
    stages.done();

    stages.start("relayer: in-process on SQLite; stream the feed through its HTTP API");
    let db = args.work_dir.join("relayer.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let address_file = args.work_dir.join("relayer.addr");
    let _ = std::fs::remove_file(&address_file);
    let toml_text = relayer_config(args, url.as_str(), chain_id, stack.guard, &db, &address_file)?;
    std::fs::write(args.work_dir.join("relayer.toml"), &toml_text)?;
    let mut token = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut token);
    let token = Secret::new(hex::encode(token));
    let mut config: Config = toml::from_str(&toml_text).context("the demo's relayer config")?;
    config.api_token = token.clone();
    config.validate()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut service = tokio::spawn(zkguard_relayer::service::serve_with_signer(config, relayer_signer, async move {
        let _ = stop_rx.await;
    }));
    let loading = Instant::now();
    let address = loop {
        if let Ok(text) = std::fs::read_to_string(&address_file) {
            if !text.trim().is_empty() {
                break text.trim().to_string();
            }
        }
        if service.is_finished() {
            match (&mut service).await {
                Ok(Err(e)) => bail!("the relayer stopped: {e}"),
                other => bail!("the relayer stopped: {other:?}"),
            }
        }
        if loading.elapsed() > Duration::from_secs(600) {
            bail!("the relayer did not start listening within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    stages.line(format!(
        "relayer listening on {address} after {:.1} s (keys loaded), database {}",
        loading.elapsed().as_secs_f64(),
        db.display()
    ));
    let client = Client::new(format!("http://{address}"), token);
    stages.done();

    stages.start("attackers: invented drain rows without the data provider's attestation");
    let drain = drain_rows(feed_breaker, &breaker_circuit.model, args.window);
    let forged = attacks::forged_api_request(
        &client,
        chain_id,
        stack.guard,
        drain.clone(),
        &breaker_circuit.model,
        breaker_circuit.batch_size,
    )
    .await?;
    stages.line(format!("{}: REFUSED at intake, nothing proved ({})", forged.attacker, forged.refusal));
    let direct = attacks::model_holder_direct_submission(
        &attacker,
        chain_id,
        stack.guard,
        breaker_circuit,
        args.cache_dir.clone(),
        drain,
    )
    .await?;
    stages.line(format!("{}: REFUSED by the Guard ({})", direct.attacker, direct.refusal));
    if IVault::new(stack.vault, &owner).paused().call().await? {
        bail!("the vault is paused after the attacks: invented rows paused it");
    }
    stages.line("the vault is still open");
    let attack_outcomes = vec![forged, direct];
    stages.done();

    stages.start("data provider: attest each window; the relayer proves and submits");
    let mut data_provider = DataProvider::new(provider_signer, chain_id, stack.guard);
    let mut sent = Vec::new();
    for (index, window) in feed_breaker.chunks(args.window).enumerate() {
        sent.push(Sent {
            id: format!("window-{index:03}"),
            model: BREAKER_MODEL_ID,
            index,
            subjects: window.iter().map(|t| t.subject.clone()).collect(),
            final_state: None,
        });
        let req = data_provider.attested_request(Rows {
            request_id: format!("window-{index:03}"),
            model_id: BREAKER_MODEL_ID,
            model: &breaker_circuit.model,
            batch_size: breaker_circuit.batch_size,
            segments: 1,
            rows: window.iter().map(|t| t.features.clone()).collect(),
            subjects: window.iter().map(|t| t.subject.clone()).collect(),
        })?;
        client.submit(&req).await.with_context(|| format!("submitting {}", req.request_id))?;
    }
    let screened = &feed_filter[feed_filter.len() - (args.filter_batch * args.aggregate).min(feed_filter.len())..];
    // One attested request per aggregated transaction: a salted request fills all N segments.
    for (index, part) in screened.chunks(args.filter_batch * args.aggregate).enumerate() {
        let req = data_provider.attested_request(Rows {
            request_id: format!("screen-{index:03}"),
            model_id: FILTER_MODEL_ID,
            model: &filter_circuit.model,
            batch_size: filter_circuit.batch_size,
            segments: filter_circuit.identity.proof_count,
            rows: part.iter().map(|t| t.features.clone()).collect(),
            subjects: part.iter().map(|t| t.subject.clone()).collect(),
        })?;
        sent.push(Sent {
            id: req.request_id.clone(),
            model: FILTER_MODEL_ID,
            index,
            subjects: req.subjects.clone(),
            final_state: None,
        });
        client.submit(&req).await.with_context(|| format!("submitting {}", req.request_id))?;
    }
    stages
        .line(format!("data provider {} attested every request (one EIP-712 signature each)", data_provider.address()));
    stages.line(format!(
        "sent {} requests: {} windows to model {BREAKER_MODEL_ID} (direct), {} screening request(s) to model {FILTER_MODEL_ID} (aggregated)",
        sent.len(),
        sent.iter().filter(|s| s.model == BREAKER_MODEL_ID).count(),
        sent.iter().filter(|s| s.model == FILTER_MODEL_ID).count()
    ));

    let bar = ProgressBar::new(sent.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("      {bar:30} {pos}/{len} requests final, {elapsed} elapsed  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut tripping_windows = Vec::new();
    let mut was_paused = false;
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    while sent.iter().any(|s| s.final_state.is_none()) {
        if Instant::now() > deadline {
            bar.abandon();
            bail!("timed out after {} s waiting for confirmations", args.timeout_s);
        }
        if service.is_finished() {
            bar.abandon();
            bail!("the relayer stopped while jobs were pending: {:?}", (&mut service).await);
        }
        for s in sent.iter_mut().filter(|s| s.final_state.is_none()) {
            let job = client.job(&s.id).await?;
            bar.set_message(format!("{}: {}", s.id, job.state));
            if job.state != "confirmed" && job.state != "failed" {
                continue;
            }
            let flagged = job.decisions.as_ref().map_or(0, |d| d.iter().filter(|&&x| x).count());
            let mut line = format!(
                "{} -> model {} nonce {}: {}/{} flagged, {} in block {}",
                s.id,
                s.model,
                job.nonce.map_or("-".into(), |n| n.to_string()),
                flagged,
                job.sample_count,
                job.state,
                job.block_number.map_or("-".into(), |b| b.to_string()),
            );
            if let Some(e) = &job.error {
                line.push_str(&format!(" ({e})"));
            }
            if s.model == BREAKER_MODEL_ID && job.state == "confirmed" {
                if flagged as u32 >= args.min_flagged {
                    tripping_windows.push(s.index);
                }
                let paused = IVault::new(stack.vault, &owner).paused().call().await?;
                if paused && !was_paused {
                    line.push_str("  <== BREAKER TRIPPED: the vault is paused by this verified proof");
                }
                was_paused |= paused;
            }
            if bar.is_hidden() {
                println!("      {line}");
            } else {
                bar.println(format!("      {line}"));
            }
            bar.inc(1);
            s.final_state = Some(job);
        }
        tokio::time::sleep(POLL).await;
    }
    bar.finish_and_clear();
    tripping_windows.sort_unstable();
    stages.done();

    stages.start("what the contracts did");
    let mut outcome = DemoOutcome {
        jobs: sent.len(),
        confirmed: sent.iter().filter(|s| s.final_state.as_ref().is_some_and(|j| j.state == "confirmed")).count(),
        failed: sent.iter().filter(|s| s.final_state.as_ref().is_some_and(|j| j.state == "failed")).count(),
        tripping_windows,
        attacks: attack_outcomes,
        deployments,
        ..DemoOutcome::default()
    };
    outcome.contracts = [
        ("ModelRegistry", stack.registry),
        ("Guard", stack.guard),
        ("CircuitBreaker", stack.breaker),
        ("VerdictFilter", stack.filter),
        ("ProtectedVault", stack.vault),
        ("FilteredToken", stack.token),
    ]
    .into_iter()
    .map(|(name, address)| (name.to_string(), address.to_string()))
    .collect();
    outcome.vault_paused = IVault::new(stack.vault, &owner).paused().call().await?;
    outcome.breaker_trips = IBreaker::new(stack.breaker, &owner).tripCount().call().await?.to::<u64>();
    outcome.withdrawal_refused = match vault.withdraw(user_address, ether(1)).call().await {
        Ok(_) => None,
        Err(e) => Some(vault_refusal(&e)),
    };
    stages.line(format!(
        "circuit breaker: {} trip(s); vault paused = {}; a withdrawal of 1 ETH now: {}",
        outcome.breaker_trips,
        outcome.vault_paused,
        outcome.withdrawal_refused.as_deref().map_or("paid out".to_string(), |r| format!("REFUSED ({r})"))
    ));
    let filter_contract = IFilter::new(stack.filter, &owner);
    let subjects: BTreeSet<String> = sent
        .iter()
        .filter(|s| s.model == FILTER_MODEL_ID)
        .flat_map(|s| s.subjects.iter().map(|x| x.to_lowercase()))
        .collect();
    for subject in &subjects {
        let address: Address = subject.parse().with_context(|| format!("subject {subject}"))?;
        if filter_contract.isAllowed(address).call().await? {
            outcome.allowed_subjects.push(subject.clone());
        } else {
            outcome.flagged_subjects.push(subject.clone());
        }
    }
    stages.line(format!(
        "verdict filter: {} screened subject(s) flagged {:?}, {} allowed",
        outcome.flagged_subjects.len(),
        outcome.flagged_subjects,
        outcome.allowed_subjects.len()
    ));
    let token = IToken::new(stack.token, &owner);
    if let Some(flagged) = outcome.flagged_subjects.first() {
        let to: Address = flagged.parse()?;
        outcome.transfer_refused = match token.transfer(to, ether(1)).call().await {
            Ok(_) => None,
            Err(e) => Some(token_refusal(&e)),
        };
        stages.line(format!(
            "token transfer to flagged {flagged}: {}",
            outcome.transfer_refused.as_deref().map_or("went through".to_string(), |r| format!("REFUSED ({r})"))
        ));
    }
    if let Some(allowed) = outcome.allowed_subjects.first() {
        let to: Address = allowed.parse()?;
        let ok = token.transfer(to, ether(1)).send().await?.get_receipt().await?.status();
        stages.line(format!("token transfer to allowed {allowed}: {}", if ok { "went through" } else { "reverted" }));
    }
    outcome.batches = results::batches_from_store(&db, args)?;
    stages.done();

    let _ = stop_tx.send(());
    match tokio::time::timeout(Duration::from_secs(30), service).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => tracing::warn!("the relayer stopped with an error: {e}"),
        Ok(Err(e)) => tracing::warn!("the relayer task failed: {e}"),
        Err(_) => tracing::warn!("the relayer did not stop within 30 s"),
    }
    Ok((outcome, anvil))
}
