//! Following a sent batch to its end: receipts of every attempt, fee bumps for a stuck
//! transaction, confirmation depth and the reorg re-check, a mined revert decoded by replaying
//! it, and a Guard nonce that someone else used.
//!
//! A copied transaction: anyone can take the relayer's pending `Guard.submit` from the mempool and
//! land it first. The Guard's `Verified` event for the batch's (model, nonce) then carries this
//! batch's input commitments from another transaction: the batch *was* verified and acted on, so
//! it is confirmed (recording that transaction and its sender), never failed and never proved
//! again (which would apply its outputs twice). A `Verified` event with other input commitments
//! means someone else's submission took the nonce.

use alloy::eips::BlockId;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::sol_types::SolEvent;

use super::{bump, tx_hash, SubmitError, Submitter};
use crate::chain::bindings::IGuard;
use crate::chain::revert::decode_revert;
use crate::chain::rpc::{with_retry, RpcFailure};
use crate::store::{now_ms, BatchRecord, BatchState, BatchUpdate, TxAttempt};

/// Who consumed a batch's Guard nonce, from the Guard's `Verified` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NonceUse {
    /// No `Verified` event for it is visible yet.
    NotVisible,
    /// One of the batch's own transactions.
    Ours(B256),
    /// Another transaction carrying exactly this batch's input commitments (a copy).
    Carried {
        /// The transaction.
        tx: B256,
        /// Its sender, when the node says.
        from: Option<Address>,
        /// Its block.
        block: u64,
    },
    /// Another submission with other inputs.
    Other {
        /// The transaction.
        tx: Option<B256>,
        /// Its input commitments.
        commitments: Vec<U256>,
    },
}

impl Submitter {
    /// The batch's transactions for its current Guard nonce, oldest first (after a re-nonce the
    /// older ones can never verify: the proof they carry is bound to the old nonce).
    pub(super) fn current_attempts(&self, b: &BatchRecord) -> Result<Vec<TxAttempt>, SubmitError> {
        Ok(self.store.attempts(b.id)?.into_iter().filter(|a| a.guard_nonce == b.nonce).collect())
    }

    /// The account's mined transaction count (0 if the node refuses to say).
    pub(super) async fn mined_nonce(&self) -> u64 {
        let (p, from) = (&self.provider, self.from);
        with_retry("nonce", self.backoff(), &self.metrics, || async move { p.get_transaction_count(from).await })
            .await
            .unwrap_or(0)
    }

    async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, RpcFailure> {
        with_retry("receipt", self.backoff(), &self.metrics, || self.provider.get_transaction_receipt(hash)).await
    }

    /// Follows a sent batch until it is confirmed, failed or needs re-sending.
    pub(super) async fn follow(&mut self, b: BatchRecord) -> Result<(), SubmitError> {
        loop {
            let attempts = self.current_attempts(&b)?;
            let Some(last) = attempts.last().cloned() else {
                return Err(SubmitError::Corrupt(b.id, "sent without an attempt".into()));
            };
            let mut found = None;
            for a in attempts.iter().rev() {
                let Some(hash) = tx_hash(&a.tx_hash) else { continue };
                if let Ok(Some(r)) = self.receipt(hash).await {
                    found = Some((a.clone(), r));
                    break;
                }
            }
            if let Some((attempt, receipt)) = found {
                if self.settle(&b, &attempt, &receipt, attempts[0].created_ms).await? {
                    return Ok(());
                }
            } else {
                let mined = self.mined_nonce().await;
                // Our account nonce was used, but no attempt has a receipt. Nodes index receipts
                // and logs a little after the nonce moves, so give them a grace period first.
                let grace = (20 * self.chain.poll_interval_ms).max(5_000) as i64;
                if mined > last.account_nonce && now_ms() - last.created_ms > grace {
                    let (model_id, _) = self.calldata(&b)?;
                    if matches!(self.nonce_used(model_id, b.nonce).await, Ok(true)) {
                        return self.resolve_used_nonce(b).await;
                    }
                    self.store.note(b.id, "account nonce consumed elsewhere; sending again")?;
                    self.store.transition(
                        b.id,
                        BatchState::Sent,
                        BatchState::Proved,
                        &BatchUpdate::default(),
                        "re-send",
                    )?;
                    self.next_nonce = None;
                    return Ok(());
                }
                if now_ms() - last.created_ms > self.chain.stuck_after_ms as i64 {
                    self.bump(&b, &last).await?;
                }
            }
            tokio::time::sleep(self.poll()).await;
        }
    }

    /// A receipt was found. Returns true when the batch reached a final state.
    async fn settle(
        &mut self,
        b: &BatchRecord,
        attempt: &TxAttempt,
        receipt: &TransactionReceipt,
        first_sent_ms: i64,
    ) -> Result<bool, SubmitError> {
        let block = receipt.block_number.unwrap_or_default();
        if !receipt.status() {
            let reason = self.replay_revert(attempt, block, receipt.gas_used).await;
            if reason.starts_with("NonceAlreadyUsed") {
                return self.settle_taken_nonce(b, attempt, receipt.gas_used, &reason).await;
            }
            self.fail(b, format!("reverted on chain in {}: {reason}", attempt.tx_hash), Some(receipt.gas_used))?;
            return Ok(true);
        }
        let head = with_retry("blockNumber", self.backoff(), &self.metrics, || self.provider.get_block_number())
            .await
            .unwrap_or(0);
        if head + 1 < block + self.chain.confirmations {
            if self.waiting_depth != Some((b.id, block)) {
                self.waiting_depth = Some((b.id, block));
                let detail =
                    format!("included in block {block}; waiting for {} confirmations", self.chain.confirmations);
                self.store.note(b.id, &detail)?;
            }
            return Ok(false);
        }
        // Reorg check: the receipt must still be there, in the same block, and the nonce consumed.
        let Some(hash) = tx_hash(&attempt.tx_hash) else { return Ok(false) };
        match self.receipt(hash).await {
            Ok(Some(again)) if again.block_hash == receipt.block_hash => {}
            _ => {
                self.store
                    .note(b.id, &format!("receipt of {} changed or vanished (reorg?); waiting", attempt.tx_hash))?;
                return Ok(false);
            }
        }
        let (model_id, _) = self.calldata(b)?;
        if !matches!(self.nonce_used(model_id, b.nonce).await, Ok(true)) {
            self.store.note(b.id, "receipt found but the Guard nonce is not used yet (reorg?); waiting")?;
            return Ok(false);
        }
        let u = BatchUpdate {
            tx_hash: Some(attempt.tx_hash.clone()),
            block_number: Some(block),
            gas_used: Some(receipt.gas_used),
            ..BatchUpdate::default()
        };
        let detail = format!(
            "confirmed in block {block} ({} gas, {} confirmations)",
            receipt.gas_used, self.chain.confirmations
        );
        self.store.transition(b.id, BatchState::Sent, BatchState::Confirmed, &u, &detail)?;
        self.metrics.observe_submission((now_ms() - first_sent_ms) as f64 / 1000.0);
        tracing::info!(batch = b.id, tx = %attempt.tx_hash, block, gas = receipt.gas_used, "confirmed");
        Ok(true)
    }

    /// The batch's input commitments as the Guard's `Verified` event lists them: one per app proof
    /// (after the accumulator limbs in batch mode).
    pub(super) fn input_commitments(&self, b: &BatchRecord) -> Option<Vec<U256>> {
        use zkguard_prover::circuit::instances::{ACCUMULATOR_LIMBS, INPUT_COMMITMENT_INDEX};
        let model = self.models.get(&b.model_id)?;
        let per_proof = model.keys.config.shape.layout().len();
        let (offset, proofs) = match &model.aggregation {
            Some(a) => (ACCUMULATOR_LIMBS, a.shape.proofs),
            None => (0, 1),
        };
        let instances = b.instances.as_ref()?;
        (0..proofs)
            .map(|k| instances.get(offset + k * per_proof + INPUT_COMMITMENT_INDEX)?.parse::<U256>().ok())
            .collect()
    }

    /// Who consumed the batch's Guard nonce ([`NonceUse`]).
    pub(super) async fn nonce_use(&self, b: &BatchRecord) -> Result<NonceUse, SubmitError> {
        let model_id = self.models.get(&b.model_id).map(|m| m.id_u256).unwrap_or_default();
        let filter = Filter::new()
            .address(self.chain.guard)
            .event_signature(IGuard::Verified::SIGNATURE_HASH)
            .topic1(B256::from(model_id))
            .topic2(B256::from(U256::from(b.nonce)))
            .from_block(0);
        let logs = with_retry("getLogs", self.backoff(), &self.metrics, || self.provider.get_logs(&filter))
            .await
            .unwrap_or_default();
        let ours: Vec<String> = self.current_attempts(b)?.into_iter().map(|a| a.tx_hash.to_lowercase()).collect();
        if let Some(hash) = logs.iter().find_map(|l| l.transaction_hash.filter(|h| ours.contains(&format!("{h:#x}")))) {
            return Ok(NonceUse::Ours(hash));
        }
        let Some(log) = logs.first() else { return Ok(NonceUse::NotVisible) };
        let commitments = IGuard::Verified::decode_log(&log.inner).map(|e| e.data.inputCommitments).unwrap_or_default();
        let mine = self.input_commitments(b);
        match (log.transaction_hash, mine) {
            (Some(tx), Some(mine)) if mine == commitments => {
                let from = match self.provider.get_transaction_by_hash(tx).await {
                    Ok(Some(t)) => Some(t.inner.signer()),
                    _ => None,
                };
                Ok(NonceUse::Carried { tx, from, block: log.block_number.unwrap_or_default() })
            }
            (tx, _) => Ok(NonceUse::Other { tx, commitments }),
        }
    }

    /// Whether a block is `confirmations` deep.
    async fn deep_enough(&self, block: u64) -> bool {
        let head = with_retry("blockNumber", self.backoff(), &self.metrics, || self.provider.get_block_number())
            .await
            .unwrap_or(0);
        head + 1 >= block + self.chain.confirmations
    }

    /// Confirms a batch another transaction carried (a copy of its calldata landed first).
    fn confirm_carried(
        &self,
        b: &BatchRecord,
        tx: B256,
        from: Option<Address>,
        block: u64,
        gas_used: Option<u64>,
        ours: &str,
    ) -> Result<(), SubmitError> {
        let sender = from.map(|a| a.to_checksum(None));
        let detail = format!(
            "confirmed in block {block}: carried by transaction {tx:#x} from {}, not the relayer's (a copy of its \
             calldata with this batch's input commitments landed first); {ours}",
            sender.as_deref().unwrap_or("an unknown sender")
        );
        let u = BatchUpdate {
            tx_hash: Some(format!("{tx:#x}")),
            block_number: Some(block),
            gas_used,
            carried_by: Some(sender.unwrap_or_else(|| "unknown".into())),
            ..BatchUpdate::default()
        };
        tracing::warn!(batch = b.id, carrier = %tx, "the batch was verified by a copy of our transaction: confirmed");
        self.store.transition(b.id, b.state.unwrap_or(BatchState::Sent), BatchState::Confirmed, &u, &detail)?;
        Ok(())
    }

    /// Our mined transaction reverted with `NonceAlreadyUsed`: confirmed if the transaction that
    /// took the nonce carried this batch's inputs, else failed naming it. Returns true when final.
    async fn settle_taken_nonce(
        &mut self,
        b: &BatchRecord,
        attempt: &TxAttempt,
        gas_used: u64,
        reason: &str,
    ) -> Result<bool, SubmitError> {
        match self.nonce_use(b).await? {
            NonceUse::Carried { tx, from, block } => {
                if !self.deep_enough(block).await {
                    return Ok(false);
                }
                let ours = format!("our {} reverted with {reason}", attempt.tx_hash);
                self.confirm_carried(b, tx, from, block, Some(gas_used), &ours)?;
                Ok(true)
            }
            NonceUse::Ours(_) | NonceUse::NotVisible => Ok(false),
            NonceUse::Other { tx, commitments } => {
                let by = tx.map_or("an unknown transaction".to_string(), |t| format!("transaction {t:#x}"));
                let why = format!(
                    "reverted on chain in {}: {reason}: Guard nonce {} was consumed by {by} with other input \
                     commitments ({commitments:?}) than this batch's: the batch was not verified",
                    attempt.tx_hash, b.nonce
                );
                self.fail(b, why, Some(gas_used))?;
                Ok(true)
            }
        }
    }

    /// Why a mined transaction reverted: its call replayed with `eth_call` on the state of its own
    /// block (which includes what was ordered before it there: a reverted transaction changed
    /// nothing else), then on the parent block's; or "out of gas" when it used its whole limit.
    async fn replay_revert(&self, a: &TxAttempt, block: u64, gas_used: u64) -> String {
        let Some(hash) = tx_hash(&a.tx_hash) else { return "unknown".into() };
        let Ok(Some(tx)) = self.provider.get_transaction_by_hash(hash).await else {
            return "reverted (transaction not found for replay)".into();
        };
        let gas_limit = alloy::consensus::Transaction::gas_limit(&tx);
        let input = alloy::consensus::Transaction::input(&tx).clone();
        let call = TransactionRequest::default()
            .with_from(self.from)
            .with_to(self.chain.guard)
            .with_input(input)
            .with_gas_limit(gas_limit);
        for at in [block, block.saturating_sub(1)] {
            match self.provider.call(call.clone()).block(BlockId::number(at)).await {
                Err(e) => {
                    return match crate::chain::rpc::classify(e) {
                        Ok(RpcFailure::Revert(data)) => decode_revert(&data),
                        Ok(other) => other.to_string(),
                        Err(transient) => format!("reverted (replay failed: {transient})"),
                    }
                }
                Ok(_) => continue,
            }
        }
        if gas_used >= gas_limit {
            return format!("out of gas (used its whole gas limit of {gas_limit})");
        }
        "reverted (the replay succeeds: state changed in between)".into()
    }

    async fn bump(&mut self, b: &BatchRecord, last: &TxAttempt) -> Result<(), SubmitError> {
        let current = with_retry("fees", self.backoff(), &self.metrics, || self.provider.estimate_eip1559_fees()).await;
        let pct = self.chain.fee_bump_percent;
        let (mut max_fee, mut prio) = (bump(last.max_fee, pct), bump(last.priority_fee, pct));
        if let Ok(c) = current {
            max_fee = max_fee.max(c.max_fee_per_gas);
            prio = prio.max(c.max_priority_fee_per_gas);
        }
        let (_, input) = self.calldata(b)?;
        let attempt = self.sign(b, &input, last.account_nonce, last.gas_limit, max_fee, prio).await?;
        self.store.add_attempt(&attempt)?;
        self.store
            .note(b.id, &format!("fee bump: {} replaces {} (max fee {max_fee} wei)", attempt.tx_hash, last.tx_hash))?;
        self.metrics.fee_bump();
        tracing::warn!(batch = b.id, old = %last.tx_hash, new = %attempt.tx_hash, max_fee, "stuck transaction: fees bumped");
        self.broadcast(&attempt).await?;
        Ok(())
    }

    /// The Guard nonce is used: ours (one of our attempts emitted `Verified`), a copy of ours
    /// (another transaction with this batch's input commitments: confirmed), or someone else's.
    pub(super) async fn resolve_used_nonce(&mut self, b: BatchRecord) -> Result<(), SubmitError> {
        let state = b.state.unwrap_or(BatchState::Proved);
        match self.nonce_use(&b).await? {
            NonceUse::NotVisible => {
                // The nonce reads as used but its event is not visible yet: never conclude "someone
                // else" without seeing their transaction (a new nonce could verify the batch twice).
                self.store
                    .note(b.id, &format!("Guard nonce {} is used but its Verified log is not visible yet", b.nonce))?;
                tokio::time::sleep(self.poll()).await;
                Ok(())
            }
            NonceUse::Ours(hash) => {
                tracing::info!(batch = b.id, tx = %hash, "the Guard nonce was consumed by our own transaction");
                if state != BatchState::Sent {
                    let u = BatchUpdate { tx_hash: Some(format!("{hash:#x}")), ..BatchUpdate::default() };
                    self.store.transition(b.id, state, BatchState::Sent, &u, "our transaction is on chain")?;
                }
                Ok(())
            }
            NonceUse::Carried { tx, from, block } => {
                if !self.deep_enough(block).await {
                    tokio::time::sleep(self.poll()).await;
                    return Ok(());
                }
                self.confirm_carried(&b, tx, from, block, None, "nothing of ours was mined")
            }
            NonceUse::Other { .. } => {
                if b.client_proof {
                    return self.reprove(&b, None, &format!("Guard nonce {} was used by another submission", b.nonce));
                }
                let next = self.store.next_nonce(&b.model_id, now_ms() as u64)?;
                self.reprove(
                    &b,
                    Some(next),
                    &format!("Guard nonce {} was used by another submission; new nonce {next}", b.nonce),
                )
            }
        }
    }
}
