//! The demo's data provider: the party that observed the transactions. It holds an attester key
//! (anvil account 3: a PUBLIC dev key, local chain only), computes each request's input
//! commitments exactly as the prover will, and signs the EIP-712 `InputAttestation` over them and
//! the request's context. The relayer only proves and submits what the provider vouched for.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use zkguard_contracts::attestation::{Attestation, InputAttestation};
use zkguard_prover::artifact::fr_from_hex;
use zkguard_prover::evm::context::fr_to_u256;
use zkguard_prover::quant::QuantizedModel;
use zkguard_relayer::intake::proofs::MIN_CLIENT_NONCE;
use zkguard_relayer::intake::SubmitRequest;

use super::model_id;

/// The data provider.
pub(crate) struct DataProvider {
    signer: PrivateKeySigner,
    chain_id: u64,
    guard: Address,
    next_nonce: u64,
}

/// What the provider attests: one request to one model.
pub(crate) struct Rows<'a> {
    pub request_id: String,
    pub model_id: u64,
    pub model: &'a QuantizedModel,
    pub batch_size: usize,
    pub segments: usize,
    pub rows: Vec<Vec<f64>>,
    pub subjects: Vec<String>,
}

impl DataProvider {
    /// A provider signing with `signer` for the Guard at `guard` on `chain_id`.
    pub(crate) fn new(signer: PrivateKeySigner, chain_id: u64, guard: Address) -> Self {
        Self { signer, chain_id, guard, next_nonce: MIN_CLIENT_NONCE }
    }

    /// The attester's address.
    pub(crate) fn address(&self) -> Address {
        self.signer.address()
    }

    /// A request carrying the provider's attestation of `r` (fresh salt, nonce and issue time).
    pub(crate) fn attested_request(&mut self, r: Rows<'_>) -> anyhow::Result<SubmitRequest> {
        let salt_hex = crate::attest::random_salt();
        let salt = fr_from_hex(&salt_hex).context("salt")?;
        let commitments =
            zkguard_prover::inputs::submission_input_commitments(r.model, &r.rows, r.batch_size, r.segments, salt)?;
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        let issued_at = now_s() - zkguard_relayer::batcher::ISSUED_AT_MARGIN_S;
        let subjects = r.subjects.iter().map(|s| s.parse()).collect::<Result<Vec<Address>, _>>()?;
        let message = InputAttestation::new(
            model_id(r.model_id),
            nonce,
            issued_at,
            subjects,
            commitments.iter().map(fr_to_u256).collect(),
        );
        let attestation = Attestation::sign(&self.signer, message.digest(self.chain_id, self.guard))?;
        Ok(SubmitRequest {
            request_id: r.request_id,
            model_id: r.model_id.to_string(),
            rows: r.rows,
            salt: Some(salt_hex),
            subjects: r.subjects,
            nonce: Some(nonce),
            issued_at: Some(issued_at),
            attestations: vec![attestation],
        })
    }
}

/// Now, in unix seconds.
pub(crate) fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
