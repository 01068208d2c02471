//! The submission state machine, one batch at a time in batch order (so one transaction of the
//! relayer's account is in flight, and account nonces are simple to manage):
//!
//! - `proved`: refuse to send if the Guard nonce is already used (then find out by whom); re-prove
//!   if the proof is older than `max_proof_age_s`; estimate gas (a revert here is decoded and the
//!   batch fails, nothing is sent); take EIP-1559 fees; sign with an explicit account nonce;
//!   store the signed bytes (`signed`); broadcast; mark `sent`.
//! - `signed` (a crash between storing and broadcasting): re-broadcast the same bytes.
//! - `sent`: poll receipts of every attempt; replace a transaction without a receipt after
//!   `stuck_after_ms` with bumped fees (same account nonce); once a receipt is `confirmations`
//!   deep, re-fetch it (reorg check) and check the Guard consumed the nonce, then `confirmed`. A
//!   mined revert is decoded (replayed with `eth_call`) and the batch fails.
//!
//! A batch carrying a client's proof (`POST /v1/proofs`) is never proved again: where a batch of
//! the relayer's own would go back to proving (too old, issued in the future, its Guard nonce
//! taken by someone else), it fails with the reason instead.
//!
//! When the node did not answer at start-up, the model's registration is checked
//! ([`super::registration`]) before its first submission; a mismatch fails the model's batches.
//!
//! Transient RPC errors are retried with back-off for as long as the node is away.
//!
//! This file owns the loop and sending (`proved` / `signed` -> `sent`); `follow` owns what
//! happens after (`sent` -> `confirmed` / `failed`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use alloy::eips::Encodable2718;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use tokio::sync::{watch, Notify};

use super::bindings::{GuardAttestation, IGuard, SubmissionContext};
use super::revert::decode_revert;
use super::rpc::{with_retry, RpcFailure};
use crate::config::AttestationSource;
use crate::config::ChainConfig;
use crate::metrics::Metrics;
use crate::model::Models;
use crate::store::{now_ms, BatchRecord, BatchState, BatchUpdate, JobStore, StoreError, TxAttempt};
use alloy::signers::local::PrivateKeySigner;
use zkguard_contracts::attestation::{Attestation, InputAttestation};

mod elected;
mod follow;

pub use elected::{run_elected, Election};

/// A batch's subjects as addresses.
fn parse_subjects(b: &BatchRecord) -> Result<Vec<Address>, String> {
    b.subjects.iter().map(|s| s.parse::<Address>().map_err(|_| format!("subject {s:?} is not an address"))).collect()
}

/// Every segment's input commitment from a batch's stored instances (behind the accumulator
/// limbs in batch mode).
fn input_commitments(instances: &[String], model: &crate::model::ServedModel) -> Result<Vec<U256>, String> {
    use zkguard_prover::circuit::instances::{ACCUMULATOR_LIMBS, INPUT_COMMITMENT_INDEX};
    let app = model.keys.config.shape.layout().len();
    let (limbs, segments) = match &model.aggregation {
        Some(a) => (ACCUMULATOR_LIMBS, a.shape.proofs),
        None => (0, 1),
    };
    (0..segments)
        .map(|k| {
            let at = limbs + k * app + INPUT_COMMITMENT_INDEX;
            let hex = instances.get(at).ok_or_else(|| format!("no instance {at}"))?;
            hex.parse::<U256>().map_err(|_| format!("instance {at} is not hex"))
        })
        .collect()
}

/// Why processing a batch stopped (it is retried on the next loop unless it was failed).
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
    /// A stored value does not decode.
    #[error("batch {0}: {1}")]
    Corrupt(i64, String),
}

/// Submits proved batches to the Guard and follows them to confirmation.
pub struct Submitter {
    /// Store.
    pub store: Arc<dyn JobStore>,
    /// Models.
    pub models: Models,
    /// Provider (no wallet filler: transactions are built and signed here).
    pub provider: DynProvider,
    /// The signing wallet.
    pub wallet: EthereumWallet,
    /// Its address.
    pub from: Address,
    /// Chain settings.
    pub chain: ChainConfig,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Woken when a batch is proved.
    pub proved: Arc<Notify>,
    /// Wakes the provers (a batch goes back to `created`).
    pub new_batch: Arc<Notify>,
    /// Next account nonce, once known.
    next_nonce: Option<u64>,
    /// The (batch, block) last noted as waiting for confirmations.
    waiting_depth: Option<(i64, u64)>,
    /// Models whose registration was not checked at start-up (the node was away).
    unchecked: BTreeSet<String>,
    /// Models whose registration does not match, with the reason (their batches fail).
    mismatched: BTreeMap<String, String>,
    /// The relayer's own attester key (models served with `attestation = "relayer"`).
    attester: Option<PrivateKeySigner>,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitter").field("from", &self.from).field("guard", &self.chain.guard).finish_non_exhaustive()
    }
}

fn tx_hash(s: &str) -> Option<B256> {
    s.parse().ok()
}

fn bump(value: u128, percent: u64) -> u128 {
    value.saturating_mul(100 + percent as u128).div_ceil(100)
}

impl Submitter {
    /// A submitter.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn JobStore>,
        models: Models,
        provider: DynProvider,
        wallet: EthereumWallet,
        chain: ChainConfig,
        metrics: Arc<Metrics>,
        proved: Arc<Notify>,
        new_batch: Arc<Notify>,
    ) -> Self {
        let from = wallet.default_signer().address();
        Self {
            store,
            models,
            provider,
            wallet,
            from,
            chain,
            metrics,
            proved,
            new_batch,
            next_nonce: None,
            waiting_depth: None,
            unchecked: BTreeSet::new(),
            mismatched: BTreeMap::new(),
            attester: None,
        }
    }

    /// The relayer's own attester key, for models served with `attestation = "relayer"`.
    pub fn with_attester(mut self, attester: Option<PrivateKeySigner>) -> Self {
        self.attester = attester;
        self
    }

    /// Models whose registration start-up could not check: checked before their first submission.
    pub fn with_unchecked_registrations(mut self, model_ids: impl IntoIterator<Item = String>) -> Self {
        self.unchecked.extend(model_ids);
        self
    }

    /// Checks a model's registration if start-up could not; the reason if it does not match.
    async fn registration_problem(&mut self, model_id: &str) -> Option<String> {
        if self.unchecked.contains(model_id) {
            let result = match self.models.get(model_id) {
                None => Err(format!("model {model_id} is not served")),
                Some(model) => match super::registration::expected_from_served(model) {
                    Err(e) => Err(e.to_string()),
                    Ok(expected) => super::registration::check(
                        &self.provider,
                        &self.metrics,
                        self.backoff(),
                        self.chain.guard,
                        &expected,
                    )
                    .await
                    .map_err(|e| e.to_string()),
                },
            };
            self.unchecked.remove(model_id);
            match result {
                Ok(()) => tracing::info!(model = model_id, "the registered verifier matches the configuration"),
                Err(reason) => {
                    tracing::error!(model = model_id, %reason, "the registration does not match: failing its batches");
                    self.mismatched.insert(model_id.to_string(), reason);
                }
            }
        }
        self.mismatched.get(model_id).cloned()
    }

    fn backoff(&self) -> Duration {
        Duration::from_millis(self.chain.max_backoff_ms)
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.chain.poll_interval_ms)
    }

    /// Runs until shutdown. Checks first that the node is on the configured chain (waiting for it
    /// while it is away); on another chain it submits nothing.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let p = &self.provider;
        let check = with_retry("chainId", self.backoff(), &self.metrics, || async move { p.get_chain_id().await });
        tokio::select! {
            id = check => match id {
                Ok(id) if id == self.chain.chain_id => {}
                other => {
                    tracing::error!(expected = self.chain.chain_id, got = ?other, "wrong chain: submitting nothing");
                    return;
                }
            },
            _ = shutdown.changed() => return,
        }
        loop {
            if *shutdown.borrow() {
                return;
            }
            let next = self.store.batches_in(&[BatchState::Proved, BatchState::Signed, BatchState::Sent]);
            match next {
                Ok(batches) if !batches.is_empty() => {
                    let batch = batches[0].clone();
                    let id = batch.id;
                    tokio::select! {
                        r = self.process(batch) => if let Err(e) = r {
                            tracing::error!(batch = id, error = %e, "submission step failed; retrying");
                            tokio::time::sleep(self.poll()).await;
                        },
                        _ = shutdown.changed() => return,
                    }
                }
                Ok(_) => {
                    tokio::select! {
                        _ = self.proved.notified() => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "submitter: store error");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One step of a batch (returns when it changed state or needs another look).
    pub async fn process(&mut self, batch: BatchRecord) -> Result<(), SubmitError> {
        match batch.state {
            Some(BatchState::Proved) => self.send_new(batch).await,
            Some(BatchState::Signed) => self.resume_signed(batch).await,
            Some(BatchState::Sent) => self.follow(batch).await,
            _ => Ok(()),
        }
    }

    fn fail(&self, b: &BatchRecord, reason: String, gas_used: Option<u64>) -> Result<(), SubmitError> {
        tracing::error!(batch = b.id, %reason, "submission failed");
        let u = BatchUpdate { error: Some(reason.clone()), gas_used, ..BatchUpdate::default() };
        self.store.transition(b.id, b.state.unwrap_or(BatchState::Proved), BatchState::Failed, &u, &reason)?;
        Ok(())
    }

    /// Sends the batch back to proving with a fresh issue time (and maybe a fresh Guard nonce); a
    /// client's proof cannot be made again, so such a batch fails with `why` instead.
    fn reprove(&self, b: &BatchRecord, nonce: Option<u64>, why: &str) -> Result<(), SubmitError> {
        if self.store.batch_attestations(b.id)?.is_some_and(|a| a.fixed_context) && !b.client_proof {
            let reason = format!(
                "{why}: the batch's nonce {} and issue time {} are the ones its attesters signed, so the relayer \
                 cannot change them; send the request again with a fresh attestation",
                b.nonce, b.issued_at
            );
            return self.fail(b, reason, None);
        }
        if b.client_proof {
            let reason = format!(
                "{why}: the batch carries a client's proof (bound to Guard nonce {} and issuedAt {}), which the \
                 relayer cannot prove again; submit a fresh proof",
                b.nonce, b.issued_at
            );
            return self.fail(b, reason, None);
        }
        let issued_at = (now_ms() / 1000) as u64 - crate::batcher::ISSUED_AT_MARGIN_S;
        // the relayer's own attestations signed the old context
        self.store.clear_relayer_attestations(b.id)?;
        let u = BatchUpdate { nonce, issued_at: Some(issued_at), clear_proof: true, ..BatchUpdate::default() };
        tracing::warn!(batch = b.id, why, "proving again");
        self.store.transition(b.id, b.state.unwrap_or(BatchState::Proved), BatchState::Created, &u, why)?;
        self.new_batch.notify_one();
        Ok(())
    }

    /// The attestations to submit with a batch: the stored ones (a client's, or the relayer's own
    /// from before a restart); for a model the relayer attests itself, signed now and stored
    /// before any transaction carries them, so a restart resubmits the same ones.
    fn attestations(&self, b: &BatchRecord) -> Result<Vec<GuardAttestation>, SubmitError> {
        let corrupt = |m: String| SubmitError::Corrupt(b.id, m);
        let model = self.models.get(&b.model_id).ok_or_else(|| corrupt("model not served".into()))?;
        let stored = self.store.batch_attestations(b.id)?;
        let list = match (stored, model.attestation, &self.attester) {
            (Some(s), _, _) => s.attestations,
            (None, Some(AttestationSource::Relayer), Some(attester)) => {
                let instances = b.instances.as_ref().ok_or_else(|| corrupt("no instances".into()))?;
                let commitments = input_commitments(instances, model).map_err(corrupt)?;
                let subjects = parse_subjects(b).map_err(corrupt)?;
                let message = InputAttestation::new(model.id_u256, b.nonce, b.issued_at, subjects, commitments);
                let digest = message.digest(self.chain.chain_id, self.chain.guard);
                let signed = Attestation::sign(attester, digest).map_err(|e| SubmitError::Sign(e.to_string()))?;
                self.store.set_batch_attestations(b.id, std::slice::from_ref(&signed))?;
                tracing::info!(batch = b.id, attester = %signed.signer, "inputs attested by the relayer's attester key");
                crate::crash::point(crate::crash::AFTER_ATTESTING);
                vec![signed]
            }
            (None, Some(AttestationSource::Relayer), None) => {
                return Err(SubmitError::Sign(
                    "the model is attested by the relayer but no attester key is loaded".into(),
                ))
            }
            (None, _, _) => vec![],
        };
        Ok(list.into_iter().map(|a| GuardAttestation { signer: a.signer, signature: a.signature }).collect())
    }

    fn calldata(&self, b: &BatchRecord) -> Result<(U256, Bytes), SubmitError> {
        let corrupt = |m: &str| SubmitError::Corrupt(b.id, m.to_string());
        let model = self.models.get(&b.model_id).ok_or_else(|| corrupt("model not served"))?;
        let instances = b
            .instances
            .as_ref()
            .ok_or_else(|| corrupt("no instances"))?
            .iter()
            .map(|h| h.parse::<U256>().map_err(|_| corrupt("instance is not hex")))
            .collect::<Result<Vec<_>, _>>()?;
        let proof = hex::decode(b.proof.as_deref().ok_or_else(|| corrupt("no proof"))?.trim_start_matches("0x"))
            .map_err(|_| corrupt("proof is not hex"))?;
        let subjects = parse_subjects(b).map_err(|m| SubmitError::Corrupt(b.id, m))?;
        let attestations = self.attestations(b)?;
        let call = IGuard::submitCall {
            modelId: model.id_u256,
            ctx: SubmissionContext { nonce: b.nonce, issuedAt: b.issued_at, subjects },
            attestations,
            instances,
            proof: proof.into(),
        };
        Ok((model.id_u256, call.abi_encode().into()))
    }

    async fn nonce_used(&self, model_id: U256, nonce: u64) -> Result<bool, RpcFailure> {
        let call = IGuard::isNonceUsedCall { modelId: model_id, nonce };
        let tx = TransactionRequest::default().with_to(self.chain.guard).with_input(call.abi_encode());
        let p = &self.provider;
        let out = with_retry("isNonceUsed", self.backoff(), &self.metrics, || {
            let tx = tx.clone();
            async move { p.call(tx).await }
        })
        .await?;
        IGuard::isNonceUsedCall::abi_decode_returns(&out).map_err(|e| RpcFailure::Rejected(e.to_string()))
    }

    async fn account_nonce(&mut self) -> Result<u64, RpcFailure> {
        let (p, from) = (&self.provider, self.from);
        let pending = with_retry("nonce", self.backoff(), &self.metrics, || async move {
            p.get_transaction_count(from).pending().await
        })
        .await?;
        let next = self.next_nonce.unwrap_or(0).max(pending);
        self.next_nonce = Some(next);
        Ok(next)
    }

    async fn sign(
        &self,
        b: &BatchRecord,
        input: &Bytes,
        nonce: u64,
        gas_limit: u64,
        max_fee: u128,
        priority_fee: u128,
    ) -> Result<TxAttempt, SubmitError> {
        let tx = TransactionRequest::default()
            .with_from(self.from)
            .with_to(self.chain.guard)
            .with_input(input.clone())
            .with_chain_id(self.chain.chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority_fee);
        let envelope = tx.build(&self.wallet).await.map_err(|e| SubmitError::Sign(e.to_string()))?;
        Ok(TxAttempt {
            batch_id: b.id,
            guard_nonce: b.nonce,
            tx_hash: format!("{:#x}", envelope.tx_hash()),
            account_nonce: nonce,
            max_fee,
            priority_fee,
            gas_limit,
            raw: format!("0x{}", hex::encode(envelope.encoded_2718())),
            created_ms: now_ms(),
        })
    }

    /// Broadcasts stored bytes. `Ok(true)`: accepted or already known; `Ok(false)`: refused.
    async fn broadcast(&self, a: &TxAttempt) -> Result<bool, SubmitError> {
        let raw = hex::decode(a.raw.trim_start_matches("0x"))
            .map_err(|_| SubmitError::Corrupt(a.batch_id, "raw tx".into()))?;
        let sent = with_retry("send", self.backoff(), &self.metrics, || async {
            self.provider.send_raw_transaction(&raw).await.map(|_| ())
        })
        .await;
        match sent {
            Ok(()) => Ok(true),
            Err(RpcFailure::Rejected(m))
                if m.contains("already known") || m.contains("nonce too low") || m.contains("already imported") =>
            {
                tracing::info!(batch = a.batch_id, tx = %a.tx_hash, reply = %m, "node already has this nonce");
                Ok(true)
            }
            Err(failure) => {
                tracing::warn!(batch = a.batch_id, tx = %a.tx_hash, %failure, "broadcast refused");
                self.store.note(a.batch_id, &format!("broadcast of {} refused: {failure}", a.tx_hash))?;
                Ok(false)
            }
        }
    }

    async fn send_new(&mut self, b: BatchRecord) -> Result<(), SubmitError> {
        if let Some(reason) = self.registration_problem(&b.model_id).await {
            return self.fail(&b, reason, None);
        }
        let now_s = (now_ms() / 1000) as u64;
        if now_s.saturating_sub(b.issued_at) > self.chain.max_proof_age_s {
            let why = format!(
                "proof too old: issued at {}, {} s ago, over max_proof_age_s = {}",
                b.issued_at,
                now_s.saturating_sub(b.issued_at),
                self.chain.max_proof_age_s
            );
            return self.reprove(&b, None, &why);
        }
        let (model_id, input) = self.calldata(&b)?;
        match self.nonce_used(model_id, b.nonce).await {
            Ok(true) => return self.resolve_used_nonce(b).await,
            Ok(false) => {}
            Err(f) => return self.fail(&b, format!("isNonceUsed failed: {f}"), None),
        }
        let probe =
            TransactionRequest::default().with_from(self.from).with_to(self.chain.guard).with_input(input.clone());
        let p = &self.provider;
        let estimate = with_retry("estimateGas", self.backoff(), &self.metrics, || {
            let probe = probe.clone();
            async move { p.estimate_gas(probe).await }
        })
        .await;
        let gas = match estimate {
            Ok(gas) => gas,
            Err(RpcFailure::Revert(data)) => {
                let reason = decode_revert(&data);
                if reason.starts_with("StaleSubmission") || reason.starts_with("IssuedInFuture") {
                    return self.reprove(&b, None, &format!("estimateGas: {reason}"));
                }
                if reason.starts_with("NonceAlreadyUsed") {
                    return self.resolve_used_nonce(b).await;
                }
                return self.fail(&b, format!("reverted: {reason}"), None);
            }
            Err(f) => return self.fail(&b, format!("estimateGas: {f}"), None),
        };
        let fees =
            match with_retry("fees", self.backoff(), &self.metrics, || self.provider.estimate_eip1559_fees()).await {
                Ok(f) => f,
                Err(f) => return self.fail(&b, format!("fee estimation: {f}"), None),
            };
        let nonce = match self.account_nonce().await {
            Ok(n) => n,
            Err(f) => return self.fail(&b, format!("account nonce: {f}"), None),
        };
        let gas_limit = gas + gas / 5;
        let attempt =
            self.sign(&b, &input, nonce, gas_limit, fees.max_fee_per_gas, fees.max_priority_fee_per_gas).await?;
        self.store.add_attempt(&attempt)?;
        let u = BatchUpdate { tx_hash: Some(attempt.tx_hash.clone()), ..BatchUpdate::default() };
        let detail = format!("signed {} (account nonce {nonce}, gas limit {gas_limit})", attempt.tx_hash);
        let b = self.store.transition(b.id, BatchState::Proved, BatchState::Signed, &u, &detail)?;
        self.next_nonce = Some(nonce + 1);
        crate::crash::point(crate::crash::AFTER_SIGNING);
        if !self.broadcast(&attempt).await? {
            return Ok(());
        }
        crate::crash::point(crate::crash::AFTER_SEND);
        tracing::info!(batch = b.id, tx = %attempt.tx_hash, "sent");
        let b = self.store.transition(b.id, BatchState::Signed, BatchState::Sent, &BatchUpdate::default(), "sent")?;
        self.follow(b).await
    }

    async fn resume_signed(&mut self, b: BatchRecord) -> Result<(), SubmitError> {
        let attempts = self.current_attempts(&b)?;
        let Some(last) = attempts.last() else {
            return Err(SubmitError::Corrupt(b.id, "signed without an attempt".into()));
        };
        tracing::info!(batch = b.id, tx = %last.tx_hash, "re-broadcasting a signed transaction");
        if self.broadcast(last).await? {
            let b = self.store.transition(
                b.id,
                BatchState::Signed,
                BatchState::Sent,
                &BatchUpdate::default(),
                "re-broadcast",
            )?;
            return self.follow(b).await;
        }
        // Refused: if its account nonce is gone, `follow` works out what happened.
        let mined = self.mined_nonce().await;
        if mined > last.account_nonce {
            let b = self.store.transition(
                b.id,
                BatchState::Signed,
                BatchState::Sent,
                &BatchUpdate::default(),
                "account nonce consumed",
            )?;
            return self.follow(b).await;
        }
        // Still refused (e.g. the account cannot pay): try again after the longest back-off.
        tokio::time::sleep(self.backoff()).await;
        Ok(())
    }
}
